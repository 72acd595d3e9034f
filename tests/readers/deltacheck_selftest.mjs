#!/usr/bin/env node
// deltacheck_selftest - prove deltacheck.mjs passes the Spark-written golden tables and
// FAILs on copies of them broken in one known way each.
//
//   node deltacheck_selftest.mjs GOLDEN_DIR [--keep] [-v]
//
// GOLDEN_DIR is /work/shared/data/delta-golden (Spark-written tables).  Every table in it
// must pass (with --no-data when it has no Parquet data files, like "checkpoint").  Then
// basic-with-inserts-deletes-checkpoint is copied to a temp dir and broken: a JSON version
// deleted, an add's size changed, a stats min changed, an add duplicated in one commit,
// _last_checkpoint's size changed, a checkpoint that lost an add row, a data file deleted,
// an expect file with a row dropped; each must give rc 1 and the FAIL line naming that
// problem.  Expect files are written here by hand from the golden logs (never by a reader).
// A small partitioned table (data file by DuckDB, log by hand) checks the stats of every
// comparable type, Spark-style truncated string stats and rows with a date partition.
// Last, a 10,000-commit table with a checkpoint (generated here; the checkpoint is written
// by DuckDB from this script's own replay) must pass in well under a minute.
// Prints TAP ("ok N - ..." / "not ok N - ..."); exit 1 on any "not ok", 2 on usage errors.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, cpSync, readFileSync, writeFileSync, rmSync, unlinkSync, readdirSync, existsSync, mkdirSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const golden = args.find(a => !a.startsWith('-'))
const keep = args.includes('--keep'), verbose = args.includes('-v')
if (!golden || !existsSync(join(golden, 'basic-with-inserts-deletes-checkpoint'))) {
  console.error('usage: node deltacheck_selftest.mjs GOLDEN_DIR [--keep] [-v]   (GOLDEN_DIR holds basic-with-inserts-deletes-checkpoint, ...)')
  process.exit(2)
}
const tmp = mkdtempSync(join(tmpdir(), 'deltacheck-selftest.'))
let n = 0, bad = 0
function tap(ok, what, detail = '') {
  n++
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${what}`)
  if (!ok) bad++
  if ((!ok || verbose) && detail) for (const l of detail.trimEnd().split('\n')) console.log(`#   ${l}`)
}
function run(table, ...opts) {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [join(here, 'deltacheck.mjs'), table, ...opts], { encoding: 'utf8', maxBuffer: 1 << 28 })
  return { rc: r.status, out: r.stdout + r.stderr, stdout: r.stdout, ms: Math.round(performance.now() - t0) }
}
const fails = (out) => out.split('\n').filter(l => l.startsWith('FAIL '))
// a broken copy must exit 1 and show a FAIL line matching re
function expectFail(what, r, re) {
  const hit = fails(r.out).some(l => re.test(l))
  tap(r.rc === 1 && hit, what, `rc ${r.rc}, want 1 and a FAIL line matching ${re}\n${r.out}`)
}
function expectPass(what, r, extra = () => true) {
  tap(r.rc === 0 && !fails(r.out).length && extra(r), what, `rc ${r.rc}\n${r.out}`)
}
let copies = 0
const copy = (name) => { const d = join(tmp, `${++copies}-${name}`); cpSync(join(golden, name), d, { recursive: true, preserveTimestamps: true }); return d }
const logf = (d, v) => join(d, '_delta_log', `${String(v).padStart(20, '0')}.json`)
const editLog = (d, v, fn) => writeFileSync(logf(d, v), fn(readFileSync(logf(d, v), 'utf8')))
const hasData = (dir) => readdirSync(dir, { recursive: true }).some(f => String(f).endsWith('.parquet') && !String(f).startsWith('_delta_log'))

// ---- 1. every golden table passes
for (const t of readdirSync(golden, { withFileTypes: true }).filter(e => e.isDirectory()).map(e => e.name).sort()) {
  const dir = join(golden, t)
  if (!existsSync(join(dir, '_delta_log'))) continue
  const nd = hasData(dir) ? [] : ['--no-data']
  const r = run(dir, ...nd)
  expectPass(`golden ${t}${nd.length ? ' (--no-data: no data files)' : ''} passes (${r.ms} ms)`, r)
}

const BASIC = 'basic-with-inserts-deletes-checkpoint'
// live ids after the golden DELETEs (versions 5-9 and 13 keep these)
const liveIds = [0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 30, 31, 32, 33, 34, 40, 41, 42, 43, 44,
                 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65]
{
  const r = run(join(golden, BASIC), '--json')
  const lines = r.stdout.trim().split('\n')
  let s = null
  try { s = JSON.parse(lines[0]) } catch { /* reported below */ }
  tap(r.rc === 0 && lines.length === 1 && s?.version === 13 && s.num_files === 7 && s.num_rows === 41 && s.size_bytes === 3549 &&
      JSON.stringify(s.txn) === '{}' && JSON.stringify(s.partition_columns) === '[]',
      '--json prints only the summary line on stdout (version 13, 7 files, 41 rows, 3549 bytes)', r.out)
}

// ---- 2. rows against hand-written expect files
{
  const exp = join(tmp, 'basic.expect.json')
  writeFileSync(exp, JSON.stringify({ columns: ['id'], rows: liveIds.map(i => [String(i)]) }))
  expectPass('--expect: the 41 live rows of the basic table equal the expect file', run(join(golden, BASIC), '--expect', exp))
  const dropped = join(tmp, 'basic.dropped.expect.json')
  writeFileSync(dropped, JSON.stringify({ columns: ['id'], rows: liveIds.filter(i => i !== 57).map(i => [String(i)]) }))
  const r = run(join(golden, BASIC), '--expect', dropped)
  expectFail('--expect with a row dropped from the expect file: FAIL rows (1 unexpected)', r, /^FAIL rows: unexpected row: \["57"\]/)
  const extra = join(tmp, 'basic.extra.expect.json')
  writeFileSync(extra, JSON.stringify({ columns: ['id'], rows: [...liveIds, 5, 5].map(i => [String(i)]) }))
  expectFail('--expect with a deleted row expected twice: FAIL rows (missing x2)', run(join(golden, BASIC), '--expect', extra), /^FAIL rows: missing row \(x2\): \["5"\]/)
}
{
  // partition values parsed per type (A4), the null partition, nested columns from the file
  const day = Date.UTC(2021, 8, 8) / 86400000
  const tsUs = String(BigInt(Date.UTC(2021, 8, 8, 11, 11, 11)) * 1000n)   // legacy form read as UTC
  const part = (i, b, f32, f64) => [String(i), String(i), String(i), String(i), b, { f32 }, { f64 }, String(i), 'null',
                                    { date: String(day) }, { ts_us: tsUs }, { dec: String(i) }]
  const rest = (i) => [[{ val: String(i) }, { val: String(i) }, { val: String(i) }],
                       { aa: String(i), ab: String(i), ac: { aca: String(i), acb: String(i) } }, String(i)]
  const cols = ['as_int', 'as_long', 'as_byte', 'as_short', 'as_boolean', 'as_float', 'as_double', 'as_string', 'as_string_lit_null',
                'as_date', 'as_timestamp', 'as_big_decimal', 'as_list_of_records', 'as_nested_struct', 'value']
  const rows = [[...part(0, true, '0x00000000', '0x0000000000000000'), ...rest(0)],
                [...part(1, false, '0x3f800000', '0x3ff0000000000000'), ...rest(1)],
                [...Array(12).fill(null), ...rest(2)]]
  const exp = join(tmp, 'pv.expect.json')
  writeFileSync(exp, JSON.stringify({ columns: cols, rows }))
  expectPass('--expect: data-reader-partition-values rows, partition columns parsed from partitionValues', run(join(golden, 'data-reader-partition-values'), '--expect', exp))
  rows[1][10] = { ts_us: String(BigInt(tsUs) + 1n) }
  writeFileSync(exp, JSON.stringify({ columns: cols, rows }))
  expectFail('--expect with a partition timestamp off by 1 us: FAIL rows', run(join(golden, 'data-reader-partition-values'), '--expect', exp), /^FAIL rows: missing row: \["1"/)
}

// ---- 3. broken copies of the basic table
{
  const d = copy(BASIC)
  unlinkSync(logf(d, 5))
  expectFail('a JSON version deleted in the middle (5): FAIL log, versions not contiguous', run(d, '--no-data'), /^FAIL log: versions not contiguous: 00000000000000000004\.json is followed by 00000000000000000006\.json/)
}
{
  const d = copy(BASIC)
  editLog(d, 13, t => t.replace('"size":510', '"size":511'))
  expectFail('an add size changed (510 -> 511): FAIL data, size differs from the file', run(d), /^FAIL data: add "part-00000-7d1a368c.*": size 511, file has 510 bytes/)
}
{
  const d = copy(BASIC)
  editLog(d, 13, t => t.replace('\\"minValues\\":{\\"id\\":60}', '\\"minValues\\":{\\"id\\":61}'))
  expectFail('a stats min changed (60 -> 61): FAIL data, stats.minValues', run(d), /^FAIL data: add "part-00000-7d1a368c.*": stats\.minValues\.id 61: real 60/)
}
{
  const d = copy(BASIC)
  editLog(d, 12, t => t.replace('\\"nullCount\\":{\\"id\\":0}', '\\"nullCount\\":{\\"id\\":1}'))
  // version 12's add was removed in 13: only a live add's stats are checked
  editLog(d, 13, t => t.replace('\\"nullCount\\":{\\"id\\":0}', '\\"nullCount\\":{\\"id\\":2}'))
  expectFail('a stats nullCount changed: FAIL data, stats.nullCount', run(d), /^FAIL data: add "part-00000-7d1a368c.*": stats\.nullCount\.id 2, file has 0 null/)
}
{
  const d = copy(BASIC)
  editLog(d, 13, t => { const l = t.split('\n'); const add = l.find(x => x.startsWith('{"add"')); return t + add + '\n' })
  expectFail('an add duplicated in one commit: FAIL log, two file actions for one path', run(d, '--no-data'), /^FAIL log: 00000000000000000013\.json: two file actions \(add\/remove\) for path "part-00000-7d1a368c/)
}
{
  const d = copy(BASIC)
  editLog(d, 13, t => t.replace(/\n$/, ''))
  expectFail('a commit without its final newline: FAIL log', run(d, '--no-data'), /^FAIL log: 00000000000000000013\.json: does not end with a newline/)
}
{
  const d = copy(BASIC)
  const f = join(d, '_delta_log', '_last_checkpoint')
  writeFileSync(f, readFileSync(f, 'utf8').replace('"size":13', '"size":12'))
  expectFail('_last_checkpoint size changed (13 -> 12): FAIL checkpoints', run(d, '--no-data'), /^FAIL checkpoints: _last_checkpoint: size 12, the checkpoint has 13 rows/)
}
{
  const d = copy(BASIC)
  writeFileSync(join(d, '_delta_log', '_last_checkpoint'), '{"version":10,"size":')
  expectFail('_last_checkpoint truncated: FAIL checkpoints', run(d, '--no-data'), /^FAIL checkpoints: _last_checkpoint is not valid JSON/)
}
{
  // DuckDB rewrites the checkpoint without one live add (and with its own Parquet layout)
  const d = copy(BASIC)
  const ck = join(d, '_delta_log', '00000000000000000010.checkpoint.parquet')
  const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' })
  const conn = await inst.connect()
  await conn.run(`COPY (SELECT * FROM read_parquet('${ck}') WHERE add IS NULL OR add.path <> 'part-00000-1b0098ea-c696-4470-84cc-d43bb7afb833-c000.snappy.parquet') TO '${ck}.new' (FORMAT parquet)`)
  renameSync(ck + '.new', ck)
  const r = run(d, '--no-data')
  expectFail('a checkpoint that lost a live add row: FAIL checkpoints, live add missing', r, /^FAIL checkpoints: 00000000000000000010\.checkpoint\.parquet: live add "part-00000-1b0098ea.*" missing/)
  tap(fails(r.out).some(l => /_last_checkpoint: size 13, the checkpoint has 12 rows/.test(l)), '... and _last_checkpoint size no longer matches it', r.out)
  // the reconstructed snapshot comes from that checkpoint: the file is gone from it
  tap(/ok snapshot: version 13 from checkpoint 10 \+ 3 commit\(s\); 6 live file/.test(r.out), '... and the snapshot is replayed from the checkpoint (6 live files)', r.out)
  // a commitInfo row in a checkpoint
  const ck2 = copy(BASIC)
  const f2 = join(ck2, '_delta_log', '00000000000000000010.checkpoint.parquet')
  await conn.run(`COPY (SELECT *, CASE WHEN protocol IS NOT NULL THEN {'timestamp': 1} END AS commitInfo FROM read_parquet('${f2}')) TO '${f2}.new' (FORMAT parquet)`)
  renameSync(f2 + '.new', f2)
  expectFail('a checkpoint with a commitInfo column and row: FAIL checkpoints', run(ck2, '--no-data'), /^FAIL checkpoints: 00000000000000000010\.checkpoint\.parquet: row 0: 2 non-null actions \(protocol, commitInfo\)/)
  const ck3 = copy(BASIC)
  const f3 = join(ck3, '_delta_log', '00000000000000000010.checkpoint.parquet')
  await conn.run(`COPY (SELECT * FROM read_parquet('${f3}') UNION ALL SELECT * FROM read_parquet('${f3}') WHERE protocol IS NOT NULL) TO '${f3}.new' (FORMAT parquet)`)
  renameSync(f3 + '.new', f3)
  expectFail('a checkpoint with its protocol row twice: FAIL checkpoints', run(ck3, '--no-data'), /^FAIL checkpoints: 00000000000000000010\.checkpoint\.parquet: 2 protocol rows, want 1/)
}
{
  const d = copy(BASIC)
  unlinkSync(join(d, 'part-00000-da82aeb5-4edb-4cc1-91ef-970c75c965cc-c000.snappy.parquet'))
  expectFail('a live data file deleted: FAIL data, no file', run(d), /^FAIL data: add "part-00000-da82aeb5.*": no file/)
}
{
  const d = copy(BASIC)
  writeFileSync(join(d, '_delta_log', '.tmp-0e3a.json'), '{"add":')
  const r = run(d)
  expectPass('a leftover temp file in _delta_log is only a NOTE', r, () => /^NOTE log: hidden\/temp file in _delta_log: \.tmp-0e3a\.json$/m.test(r.out))
}
{
  const d = copy(BASIC)
  writeFileSync(logf(d, 14), '{"commitInfo":{"timestamp":1700000000000,"engineInfo":"ingestd/0.1"}}\n' +
    '{"txn":{"appId":"p/topic/0","version":9007199254740993,"lastUpdated":1700000000000}}\n' +
    '{"txn":{"appId":"p/topic/1","version":18446744073709551615}}\n')
  const r = run(d, '--json')
  tap(r.rc === 0 && r.stdout.trim() === '{"version":14,"num_files":7,"num_rows":41,"size_bytes":3549,"txn":{"p/topic/0":9007199254740993,"p/topic/1":18446744073709551615},"partition_columns":[]}',
      'txn versions past 2^53 stay exact in the summary', r.out)
  editLog(d, 14, t => t + '{"txn":{"appId":"p/topic/0","version":9007199254740994}}\n')
  expectFail('two txn actions for one appId in a commit: FAIL log', run(d, '--no-data'), /^FAIL log: 00000000000000000014\.json: two txn actions for appId "p\/topic\/0"/)
}
{
  const r = run(join(golden, BASIC), '--strict', '--no-data')
  expectFail('--strict on a Spark table: FAIL log, engineInfo is not ingestd/', r, /^FAIL log: 00000000000000000000\.json: commitInfo\.engineInfo is "Apache-Spark/)
  const r2 = run(join(golden, 'parquet-all-types'), '--strict', '--no-data')
  expectFail('--strict on a 3/7 table: FAIL log, protocol', r2, /^FAIL log: 00000000000000000000\.json line 3: protocol 3\/7/)
}
{
  const d = copy('data-reader-escaped-chars')
  editLog(d, 0, t => t.replace('"partitionValues":{"_2":"bar+%21"}', '"partitionValues":{}'))
  expectFail('an add without a value for the partition column: FAIL snapshot', run(d), /^FAIL snapshot: add "_2=bar\+%252521.*": partitionValues has no value for partition column _2/)
}
{
  const r = run(join(tmp, 'no-such-table'))
  const r2 = run(join(golden, BASIC), '--frobnicate')
  const r3 = run(join(golden, BASIC), '--expect', join(tmp, 'basic.expect.json'), '--no-data')
  tap(r.rc === 2 && r2.rc === 2 && r3.rc === 2, 'usage errors exit 2 (missing table, unknown option, --expect with --no-data)', r.out + r2.out + r3.out)
}

// ---- 4. a table written here (DuckDB data file, hand-written log): stats of every
// comparable type, a 40-character string with Spark-style truncated stats, a date partition
{
  const d = join(tmp, 'types')
  mkdirSync(join(d, '_delta_log'), { recursive: true })
  mkdirSync(join(d, 'day=2024-01-01'))
  const rel = 'day=2024-01-01/part-00000-0001.zstd.parquet'
  const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' })
  const conn = await inst.connect()
  const A = 'a'.repeat(40), Z = 'z'.repeat(40)
  await conn.run(`COPY (SELECT * FROM (VALUES
      ('${A}', TIMESTAMPTZ '2024-01-01 00:00:00.123456+00', CAST(1.50 AS DECIMAL(10,2)), DATE '2024-01-01', CAST(0.1 AS FLOAT), 7::BIGINT),
      ('${Z}', TIMESTAMPTZ '2024-01-02 00:00:00.999999+00', CAST(-2.25 AS DECIMAL(10,2)), DATE '2024-03-01', CAST(2.5 AS FLOAT), -9007199254740993::BIGINT),
      (NULL, NULL, NULL, NULL, NULL, NULL)) t(s, ts, d, dt, f, n))
    TO '${join(d, rel)}' (FORMAT parquet, COMPRESSION zstd)`)
  const size = readFileSync(join(d, rel)).length
  const F = (name, type) => ({ name, type, nullable: true, metadata: {} })
  const schema = JSON.stringify({ type: 'struct', fields: [F('s', 'string'), F('ts', 'timestamp'), F('d', 'decimal(10,2)'), F('dt', 'date'), F('f', 'float'), F('n', 'long'), F('day', 'date')] })
  const statsOf = (over = {}) => '{"numRecords":3,"minValues":{"s":"' + 'a'.repeat(32) + '","ts":"2024-01-01T00:00:00.123Z","d":-2.25,"dt":"2024-01-01","f":0.1,"n":-9007199254740993},' +
    '"maxValues":{"s":' + (over.smax ?? JSON.stringify('z'.repeat(32) + '\u{10FFFF}')) + ',"ts":' + (over.tsmax ?? '"2024-01-02T00:00:00.999Z"') + ',"d":1.5,"dt":"2024-03-01","f":2.5,"n":7},' +
    '"nullCount":{"s":1,"ts":1,"d":1,"dt":1,"f":1,"n":1}}'
  const write = (stats) => writeFileSync(logf(d, 0), [
    { commitInfo: { timestamp: 1700000000000, operation: 'STREAMING UPDATE', engineInfo: 'ingestd/selftest' } },
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    { metaData: { id: 'c0ffee00-0000-4000-8000-000000000000', format: { provider: 'parquet', options: {} }, schemaString: schema, partitionColumns: ['day'], configuration: {}, createdTime: 1700000000000 } },
    { add: { path: rel, partitionValues: { day: '2024-01-01' }, size, modificationTime: 1700000000000, dataChange: true, stats } },
  ].map(l => JSON.stringify(l)).join('\n') + '\n')
  write(statsOf())
  const day = (y, m, dd) => ({ date: String(Date.UTC(y, m - 1, dd) / 86400000) })
  const exp = join(tmp, 'types.expect.json')
  writeFileSync(exp, JSON.stringify({ columns: ['s', 'ts', 'd', 'dt', 'f', 'n', 'day'], rows: [
    [A, { ts_us: String(BigInt(Date.UTC(2024, 0, 1)) * 1000n + 123456n) }, { dec: '1.50' }, day(2024, 1, 1), { f32: '0x3dcccccd' }, '7', day(2024, 1, 1)],
    [Z, { ts_us: String(BigInt(Date.UTC(2024, 0, 2)) * 1000n + 999999n) }, { dec: '-2.25' }, day(2024, 3, 1), { f32: '0x40200000' }, '-9007199254740993', day(2024, 1, 1)],
    [null, null, null, null, null, null, day(2024, 1, 1)]] }))
  const r = run(d, '--strict', '--expect', exp)
  expectPass('a table written here passes --strict --expect: stats of string/timestamp/decimal/date/float/long, truncated string stats, date partition', r,
    (x) => /ok data: 1 file\(s\) read, 3 row\(s\); sizes and schemas agree, 19 stats value/.test(x.out))
  write(statsOf({ smax: JSON.stringify('z'.repeat(32)) }))
  expectFail('a string max truncated without a tie-breaker: FAIL data, not an upper bound', run(d), /^FAIL data: add .*: stats\.maxValues\.s .*is not an upper bound/)
  write(statsOf({ tsmax: '"2024-01-02T00:00:01.000Z"' }))
  expectFail('a timestamp max rounded up instead of truncated to ms: FAIL data', run(d), /^FAIL data: add .*: stats\.maxValues\.ts "2024-01-02T00:00:01.000Z": real 2024-01-02T00:00:00\.999Z/)
}

// ---- 5. 10,000 commits + a checkpoint: the replay must be linear
{
  const d = join(tmp, 'big')
  const log = join(d, '_delta_log')
  mkdirSync(log, { recursive: true })
  const N = 10000, CK = 9990
  const now = Date.now()
  const schema = JSON.stringify({ type: 'struct', fields: [{ name: 'v', type: 'long', nullable: true, metadata: {} }] })
  const meta = { id: '5a1e0c51-0000-4000-8000-000000000000', format: { provider: 'parquet', options: {} }, schemaString: schema, partitionColumns: [], configuration: {}, createdTime: now }
  const adds = new Map(), removes = new Map()
  let txnVersion = 0
  const addOf = (v) => ({ path: `part-${v}.parquet`, partitionValues: {}, size: 100 + v, modificationTime: now, dataChange: true,
                          stats: JSON.stringify({ numRecords: 1, minValues: { v }, maxValues: { v }, nullCount: { v: 0 } }) })
  let ckRows = null
  for (let v = 0; v < N; v++) {
    const lines = [{ commitInfo: { timestamp: now, operation: 'STREAMING UPDATE', engineInfo: 'ingestd/selftest' } }]
    if (v === 0) lines.push({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta })
    const a = addOf(v)
    lines.push({ add: a }); adds.set(a.path, a)
    if (v % 10 === 9) {            // drop the file added 5 versions ago
      const r = { path: `part-${v - 5}.parquet`, deletionTimestamp: now, dataChange: true }
      lines.push({ remove: r }); adds.delete(r.path); removes.set(r.path, r)
    }
    txnVersion = v * 7
    lines.push({ txn: { appId: 'selftest/topic/0', version: txnVersion, lastUpdated: now } })
    writeFileSync(logf(d, v), lines.map(l => JSON.stringify(l)).join('\n') + '\n')
    if (v === CK) {
      ckRows = [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta },
                { txn: { appId: 'selftest/topic/0', version: txnVersion, lastUpdated: now } },
                ...[...adds.values()].map(x => ({ add: { ...x, dataChange: false } })),
                ...[...removes.values()].map(x => ({ remove: { ...x, dataChange: false } }))]
    }
  }
  const nd = join(tmp, 'big-ck.ndjson')
  writeFileSync(nd, ckRows.map(r => JSON.stringify(r)).join('\n') + '\n')
  const M = 'MAP(VARCHAR, VARCHAR)', DVT = 'STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, "offset" INTEGER, sizeInBytes INTEGER, cardinality BIGINT, maxRowIndex BIGINT)'
  const cols = {
    txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)',
    add: `STRUCT(path VARCHAR, partitionValues ${M}, size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, tags ${M}, deletionVector ${DVT}, baseRowId BIGINT, defaultRowCommitVersion BIGINT, stats VARCHAR)`,
    remove: `STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues ${M}, size BIGINT, deletionVector ${DVT}, baseRowId BIGINT, defaultRowCommitVersion BIGINT)`,
    metaData: `STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options ${M}), schemaString VARCHAR, partitionColumns VARCHAR[], configuration ${M}, createdTime BIGINT)`,
    protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
  }
  const colSql = '{' + Object.entries(cols).map(([k, v]) => `'${k}': '${v.replace(/'/g, "''")}'`).join(', ') + '}'
  const ck = join(log, `${String(CK).padStart(20, '0')}.checkpoint.parquet`)
  const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' })
  const conn = await inst.connect()
  await conn.run(`COPY (SELECT * FROM read_json('${nd}', format = 'newline_delimited', columns = ${colSql})) TO '${ck}' (FORMAT parquet)`)
  writeFileSync(join(log, '_last_checkpoint'), JSON.stringify({ version: CK, size: ckRows.length }))
  const r = run(d, '--no-data', '--strict')
  const live = N - Math.floor(N / 10)
  expectPass(`10,000 commits + a ${ckRows.length}-row checkpoint pass --strict in ${r.ms} ms (limit 60000)`, r,
    (x) => x.ms < 60000 && new RegExp(`ok snapshot: version ${N - 1} from checkpoint ${CK} \\+ 9 commit\\(s\\); ${live} live file`).test(x.out) &&
           /"txn":\{"selftest\/topic\/0":69993\}/.test(x.out) && /1 compared with the JSON replay/.test(x.out))
  if (verbose) console.log(`# ${r.out.split('\n').filter(l => l.startsWith('NOTE timing')).join('')}`)
  // the same table with a tombstone dropped from the checkpoint's log replay: version 9989's remove
  editLog(d, 9989, t => t.replace(/\{"remove":[^\n]*\n/, ''))
  expectFail('... and FAILs when a commit before the checkpoint loses its remove (checkpoint holds a tombstone the log lacks)', run(d, '--no-data'),
    /^FAIL checkpoints: 00000000000000009990\.checkpoint\.parquet: remove "part-9984\.parquet" is not a tombstone in the log \(the file is live\)/)
}

console.log(`1..${n}`)
if (keep) console.log(`# kept ${tmp}`)
else rmSync(tmp, { recursive: true, force: true })
process.exit(bad ? 1 : 0)
