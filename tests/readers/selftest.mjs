#!/usr/bin/env node
// selftest - prove pqcheck.mjs passes on a correct file and fails on wrong values.
//
// DuckDB writes Parquet files (ZSTD) with every type we care about; their expect files
// are written here by hand from the SQL literals (never from a reader), so a wrong
// conversion in pqcheck shows up as a mismatch.  Then single expected values and one
// footer statistic are mutated, and pqcheck must report exactly those.
// Prints "PASS what" / "FAIL what" lines (tests/e2e/parquet_readers.sh turns them into
// TAP); exits 0 when every check passed.  Options: --keep DIR (keep the files there), -v.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const verbose = args.includes('-v')
const keep = args.includes('--keep') ? args[args.indexOf('--keep') + 1] : null
const dir = keep ?? mkdtempSync(join(tmpdir(), 'pqcheck-selftest.'))
mkdirSync(dir, { recursive: true })
let failures = 0
const pass = (what) => console.log(`PASS ${what}`)
const fail = (what, detail = '') => { failures++; console.log(`FAIL ${what}`); if (detail) for (const l of detail.split('\n')) console.log(`#   ${l}`) }

// ---- canonical values, computed by hand (no reader involved) ----
const I = (s) => s                       // integers: decimal strings
const F32 = (h) => ({ f32: h })
const F64 = (h) => ({ f64: h })
const HEX = (h) => ({ hex: h })
const DEC = (s) => ({ dec: s })
function daysOf(s) {                     // proleptic Gregorian days since 1970-01-01
  const [y, m, d] = s.split('-').map(Number)
  const t = new Date(0); t.setUTCFullYear(y, m - 1, d)
  return BigInt(t.getTime() / 86400000)
}
const DATE = (s) => ({ date: String(daysOf(s)) })
function TS(s) {                         // 'YYYY-MM-DD HH:MM:SS[.ffffff]' -> micros
  const [date, time] = s.split(' ')
  const [hh, mm, ss] = time.split(':')
  const [sec, frac = ''] = ss.split('.')
  return { ts_us: String(daysOf(date) * 86400000000n + BigInt(hh) * 3600000000n + BigInt(mm) * 60000000n +
                         BigInt(sec) * 1000000n + BigInt(frac.padEnd(6, '0'))) }
}
const N = null

// Each column: [name, SQL type, [[SQL literal, canonical value], ...]] - one entry per row.
const COLUMNS = [
  ['id', 'INTEGER', [['0', '0'], ['1', '1'], ['2', '2'], ['3', '3'], ['4', '4'], ['5', '5']]],
  ['b', 'BOOLEAN', [['true', true], ['false', false], ['NULL', N], ['true', true], ['false', false], ['NULL', N]]],
  ['i8', 'TINYINT', [['-128', I('-128')], ['127', I('127')], ['0', I('0')], ['NULL', N], ['-1', I('-1')], ['7', I('7')]]],
  ['i16', 'SMALLINT', [['-32768', '-32768'], ['32767', '32767'], ['0', '0'], ['1', '1'], ['NULL', N], ['-2', '-2']]],
  ['i32', 'INTEGER', [['-2147483648', '-2147483648'], ['2147483647', '2147483647'], ['NULL', N], ['0', '0'], ['42', '42'], ['-42', '-42']]],
  ['i64', 'BIGINT', [['-9223372036854775808', '-9223372036854775808'], ['9223372036854775807', '9223372036854775807'],
                     ['9007199254740993', '9007199254740993'], ['NULL', N], ['0', '0'], ['-9007199254740993', '-9007199254740993']]],
  // unsigned: the stats order must be unsigned too (max 2^64-1, not -1)
  ['u64', 'UBIGINT', [['18446744073709551615', '18446744073709551615'], ['0', '0'], ['NULL', N],
                      ['9223372036854775808', '9223372036854775808'], ['1', '1'], ['42', '42']]],
  ['f', 'FLOAT', [["1.0", F32('0x3f800000')], ["'-0.0'", F32('0x80000000')], ["'nan'", F32('NaN')],
                  ["'inf'", F32('0x7f800000')], ["'-inf'", F32('0xff800000')], ['NULL', N]]],
  ['f2', 'FLOAT', [['0.1', F32('0x3dcccccd')], ['3.4028235e38', F32('0x7f7fffff')], ['1.4e-45', F32('0x00000001')],
                   ['-1.5', F32('0xbfc00000')], ['NULL', N], ['16777217', F32('0x4b800000')]]],
  ['d', 'DOUBLE', [['0.1', F64('0x3fb999999999999a')], ["'-0.0'", F64('0x8000000000000000')], ["'nan'", F64('NaN')],
                   ["'inf'", F64('0x7ff0000000000000')], ["'-inf'", F64('0xfff0000000000000')], ['NULL', N]]],
  ['d2', 'DOUBLE', [['5e-324', F64('0x0000000000000001')], ['1.7976931348623157e308', F64('0x7fefffffffffffff')],
                    ['3.141592653589793', F64('0x400921fb54442d18')], ['9007199254740993', F64('0x4340000000000000')],
                    ['-2.5', F64('0xc004000000000000')], ['NULL', N]]],
  // U+FB00 sorts above U+1F600 in UTF-16 but below it byte-wise (EF.. < F0..)
  ['s', 'VARCHAR', [["'héllo'", 'héllo'], ["'😀 emoji 🦆'", '😀 emoji 🦆'], ["''", ''], ['NULL', N],
                    [`'quote " backslash \\ tab\tnewline\n'`, 'quote " backslash \\ tab\tnewline\n'], ["'ﬀ'", 'ﬀ']]],
  ['bin', 'BLOB', [["'\\x00\\xFF'::BLOB", HEX('00ff')], ["''::BLOB", HEX('')], ['NULL', N], ["'abc'::BLOB", HEX('616263')],
                   ["'\\xFF'::BLOB", HEX('ff')], ["'\\x80\\x00'::BLOB", HEX('8000')]]],
  ['dec9', 'DECIMAL(9,2)', [['1234567.89', DEC('1234567.89')], ['-9999999.99', DEC('-9999999.99')], ['0.01', DEC('0.01')],
                            ['-0.01', DEC('-0.01')], ['NULL', N], ['0', DEC('0.00')]]],
  ['dec18', 'DECIMAL(18,4)', [['99999999999999.9999', DEC('99999999999999.9999')], ['-99999999999999.9999', DEC('-99999999999999.9999')],
                              ['0.5', DEC('0.5000')], ['NULL', N], ['1', DEC('1.0000')], ['-12345.6789', DEC('-12345.6789')]]],
  ['dec38', 'DECIMAL(38,10)', [['9999999999999999999999999999.9999999999', DEC('9999999999999999999999999999.9999999999')],
                               ['-9999999999999999999999999999.9999999999', DEC('-9999999999999999999999999999.9999999999')],
                               ['0.0000000001', DEC('0.0000000001')], ['NULL', N],
                               ['12345678901234567890.1234567891', DEC('12345678901234567890.1234567891')], ['-1', DEC('-1.0000000000')]]],
  ['dt', 'DATE', [["'1970-01-01'", DATE('1970-01-01')], ["'1969-12-31'", DATE('1969-12-31')], ["'2024-02-29'", DATE('2024-02-29')],
                  ["'0001-01-01'", DATE('0001-01-01')], ["'9999-12-31'", DATE('9999-12-31')], ['NULL', N]]],
  ['ts', 'TIMESTAMP', [["'2024-01-02 03:04:05.123456'", TS('2024-01-02 03:04:05.123456')],
                       ["'1969-12-31 23:59:59.999999'", TS('1969-12-31 23:59:59.999999')],
                       ["'1970-01-01 00:00:00'", TS('1970-01-01 00:00:00')], ['NULL', N],
                       ["'0001-01-01 00:00:00'", TS('0001-01-01 00:00:00')], ["'9999-12-31 23:59:59.999999'", TS('9999-12-31 23:59:59.999999')]]],
  ['tstz', 'TIMESTAMPTZ', [["'2024-06-30 12:00:00.000001+00'", TS('2024-06-30 12:00:00.000001')], ['NULL', N],
                           ["'1900-01-01 00:00:00+00'", TS('1900-01-01 00:00:00')], ["'2038-01-19 03:14:08+00'", TS('2038-01-19 03:14:08')],
                           ["'1970-01-01 00:00:00.000001+00'", TS('1970-01-01 00:00:00.000001')], ["'2262-04-11 23:47:16.854775+00'", TS('2262-04-11 23:47:16.854775')]]],
  ['st', 'STRUCT(a INTEGER, b VARCHAR, c STRUCT(x DOUBLE, y BIGINT[]))', [
    ["{'a': 1, 'b': 'x', 'c': {'x': 1.5, 'y': [9223372036854775807, NULL]}}", { a: '1', b: 'x', c: { x: F64('0x3ff8000000000000'), y: ['9223372036854775807', N] } }],
    ['NULL', N],
    ["{'a': NULL, 'b': NULL, 'c': NULL}", { a: N, b: N, c: N }],
    ["{'a': -1, 'b': '😀', 'c': {'x': NULL, 'y': []}}", { a: '-1', b: '😀', c: { x: N, y: [] } }],
    ["{'a': 0, 'b': '', 'c': {'x': '-0.0', 'y': NULL}}", { a: '0', b: '', c: { x: F64('0x8000000000000000'), y: N } }],
    ["{'a': 2147483647, 'b': 'z', 'c': {'x': 'nan', 'y': [-1]}}", { a: '2147483647', b: 'z', c: { x: F64('NaN'), y: ['-1'] } }]]],
  ['l', 'INTEGER[]', [['[1, NULL, 3]', ['1', N, '3']], ['[]', []], ['NULL', N], ['[2147483647]', ['2147483647']], ['[-1, -2]', ['-1', '-2']], ['[NULL]', [N]]]],
  ['ll', 'VARCHAR[][]', [["[['a', 'b'], []]", [['a', 'b'], []]], ['NULL', N], ['[[NULL]]', [[N]]], ['[]', []],
                         ["[['😀']]", [['😀']]], ["[['x'], NULL]", [['x'], N]]]],
  ['m', 'MAP(VARCHAR, BIGINT)', [["MAP {'k1': 1, 'a': -9223372036854775808}", [['k1', '1'], ['a', '-9223372036854775808']]],
                                  ['MAP {}', []], ['NULL', N], ["MAP {'z': NULL}", [['z', N]]],
                                  ["MAP {'b': 2, 'a': 1, 'c': 3}", [['b', '2'], ['a', '1'], ['c', '3']]], ["MAP {'😀': 0}", [['😀', '0']]]]],
  // integer keys: an object keyed by String(key) would reorder these (10, 2, 1 -> 1, 2, 10)
  ['mi', 'MAP(INTEGER, VARCHAR)', [["MAP {10: 'ten', 2: 'two', 1: 'one'}", [['10', 'ten'], ['2', 'two'], ['1', 'one']]], ['NULL', N],
                                    ["MAP {-1: NULL}", [['-1', N]]], ['MAP {}', []], ["MAP {0: ''}", [['0', '']]], ["MAP {3: 'c', 3000000: 'm'}", [['3', 'c'], ['3000000', 'm']]]]],
  ['lst', 'STRUCT(k VARCHAR, v DECIMAL(18,4))[]', [["[{'k': 'a', 'v': 1.5}, {'k': NULL, 'v': -0.0001}]", [{ k: 'a', v: DEC('1.5000') }, { k: N, v: DEC('-0.0001') }]],
                                                   ['[]', []], ['NULL', N], ['[NULL]', [N]],
                                                   ["[{'k': 'b', 'v': NULL}]", [{ k: 'b', v: N }]], ["[{'k': '', 'v': 99999999999999.9999}]", [{ k: '', v: DEC('99999999999999.9999') }]]]],
]
const NROWS = 6
for (const [name, , vals] of COLUMNS) if (vals.length !== NROWS) throw new Error(`column ${name}: ${vals.length} rows`)

// ---- write the files with DuckDB ----
const inst = await DuckDBInstance.create(':memory:', { threads: '1' })
const conn = await inst.connect()
await conn.run(`SET TimeZone='UTC'`)
await conn.run(`CREATE TABLE t (${COLUMNS.map(([n, t]) => `"${n}" ${t}`).join(', ')})`)
const rowsSql = []
for (let r = 0; r < NROWS; r++) rowsSql.push('(' + COLUMNS.map(([, t, v]) => `(${v[r][0]})::${t}`).join(', ') + ')')
await conn.run(`INSERT INTO t VALUES ${rowsSql.join(',\n')}`)
const q = (p) => "'" + p.replace(/'/g, "''") + "'"
const allFile = join(dir, 'all_types.parquet')
await conn.run(`COPY (SELECT * FROM t ORDER BY id) TO ${q(allFile)} (FORMAT parquet, COMPRESSION zstd)`)
const expect = { columns: COLUMNS.map(c => c[0]), rows: Array.from({ length: NROWS }, (_, r) => COLUMNS.map(c => c[2][r][1])) }
const allExpect = join(dir, 'all_types.expect.json')
writeFileSync(allExpect, JSON.stringify(expect))

// A file with 3 row groups (2048 + 2048 + 904 rows) for the statistics check; snappy.
// v is increasing (unique per row group), w has NULLs, s is a string column.
const RG_ROWS = 5000
const rgFile = join(dir, 'rowgroups.parquet')
await conn.run(`COPY (SELECT i::BIGINT AS id, (i * 3 - 7000)::BIGINT AS v,
    CASE WHEN i % 3 = 0 THEN NULL ELSE (i * 7919) % 10007 - 5000 END::INTEGER AS w,
    'k' || lpad((i * 31 % 1000)::VARCHAR, 4, '0') AS s
  FROM range(${RG_ROWS}) r(i) ORDER BY i)
  TO ${q(rgFile)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 2048)`)
const rgExpect = { columns: ['id', 'v', 'w', 's'], rows: [] }
for (let i = 0; i < RG_ROWS; i++)
  rgExpect.rows.push([String(i), String(i * 3 - 7000), i % 3 === 0 ? null : String((i * 7919) % 10007 - 5000), 'k' + String(i * 31 % 1000).padStart(4, '0')])
const rgExpectFile = join(dir, 'rowgroups.expect.json')
writeFileSync(rgExpectFile, JSON.stringify(rgExpect))

// --pairs layout: CASE.parquet + CASE.expect.json, and two files sharing one expect file.
const pairsDir = join(dir, 'pairs')
mkdirSync(pairsDir, { recursive: true })
await conn.run(`COPY (SELECT * FROM t ORDER BY id) TO ${q(join(pairsDir, 'alltypes.parquet'))} (FORMAT parquet, COMPRESSION zstd)`)
writeFileSync(join(pairsDir, 'alltypes.expect.json'), JSON.stringify(expect))
await conn.run(`COPY (SELECT id, i64, s FROM t WHERE id < 4 ORDER BY id) TO ${q(join(pairsDir, 'split.part-1.parquet'))} (FORMAT parquet)`)
await conn.run(`COPY (SELECT id, i64, s FROM t WHERE id >= 4 ORDER BY id) TO ${q(join(pairsDir, 'split.part-2.parquet'))} (FORMAT parquet)`)
const colIdx = (n) => expect.columns.indexOf(n)
writeFileSync(join(pairsDir, 'split.expect.json'), JSON.stringify({
  columns: ['id', 'i64', 's'], rows: expect.rows.map(r => [r[colIdx('id')], r[colIdx('i64')], r[colIdx('s')]]) }))

// ---- run pqcheck ----
function pqcheck(...a) {
  const t0 = Date.now()
  const r = spawnSync(process.execPath, [join(here, 'pqcheck.mjs'), ...a], { encoding: 'utf8' })
  const out = (r.stdout ?? '') + (r.stderr ?? '')
  if (verbose) process.stdout.write(out.replace(/^/gm, '  | '))
  return { rc: r.status, out, ms: Date.now() - t0 }
}
const tail = (s) => s.split('\n').filter(l => !l.startsWith('{')).slice(0, 40).join('\n')

// 1. correct file and expect: passes, all three readers, statistics included
{
  const r = pqcheck(allFile, allExpect, rgFile, rgExpectFile, '--check-stats', '--meta')
  const readersOk = ['duckdb', 'arrow', 'hyparquet'].every(n => (r.out.match(new RegExp(`^  ${n}: ok .*equals expect`, 'gm')) ?? []).length === 2)
  if (r.rc === 0 && readersOk && /^  stats: ok \(\d+ column chunks, 3 row groups\)/m.test(r.out))
    pass(`pqcheck accepts DuckDB-written files of all types with hand-made expect files (3 readers, stats, 3 row groups; ${r.ms} ms)`)
  else fail('pqcheck accepts correct files', `rc=${r.rc}\n${tail(r.out)}`)
  const meta = r.out.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l))
  const cc = meta[0]?.column_chunks ?? []
  const i64 = cc.find(c => c.path_in_schema === 'i64')
  if (meta.length === 2 && i64 && i64.stats_min_value === '-9223372036854775808' && i64.stats_max_value === '9223372036854775807' &&
      i64.stats_null_count === 1 && i64.compression === 'ZSTD' && meta[1].column_chunks.filter(c => c.path_in_schema === 'v').length === 3)
    pass('--meta prints parquet_metadata per column chunk as JSON')
  else fail('--meta output', JSON.stringify(i64))
}

// 2. one mutated expected value per run: each must be caught by every reader, at that cell
const MUTATIONS = [
  ['i64', 1, '9223372036854775806', 'int64 off by one above 2^53'],
  ['u64', 0, '18446744073709551614', 'uint64 max off by one'],
  ['f', 1, F32('0x00000000'), 'float -0.0 vs +0.0'],
  ['f2', 0, F32('0x3dccccce'), 'float one ulp off'],
  ['d2', 0, F64('0x0000000000000002'), 'double denormal one ulp off'],
  ['f', 2, F32('0x7fc00000'), 'NaN expected as bits instead of "NaN"'],
  ['dec38', 4, DEC('12345678901234567890.1234567890'), 'decimal(38) last digit'],
  ['dec18', 2, DEC('0.5'), 'decimal scale digits missing'],
  ['ts', 0, { ts_us: String(BigInt(TS('2024-01-02 03:04:05.123456').ts_us) + 1n) }, 'timestamp one microsecond off'],
  ['dt', 3, { date: '-719163' }, 'date one day off'],
  ['s', 1, '😀 emoji 🦇', 'one emoji differs'],
  ['bin', 0, HEX('00fe'), 'blob byte differs'],
  ['mi', 0, [['1', 'one'], ['2', 'two'], ['10', 'ten']], 'map pairs in another order'],
  ['st', 0, { a: '1', b: 'x', c: { x: F64('0x3ff8000000000000'), y: ['9223372036854775807'] } }, 'nested list inside struct lost a null'],
  ['b', 2, false, 'null vs false'],
]
{
  const a = []
  MUTATIONS.forEach(([col, row, val], k) => {
    const e = JSON.parse(JSON.stringify(expect))
    e.rows[row][colIdx(col)] = val
    const p = join(dir, `mut${k}.expect.json`)
    writeFileSync(p, JSON.stringify(e))
    a.push(allFile, p)
  })
  const r = pqcheck(...a, '--max-diffs', '20')
  const blocks = r.out.split(/^RESULT .*$/m)
  const results = [...r.out.matchAll(/^RESULT (\S+) /gm)].map(m => m[1])
  MUTATIONS.forEach(([col, row, val, what], k) => {
    const b = blocks[k] ?? ''
    const want = `row ${row} column "${col}": expected ${JSON.stringify(val)} got `
    const hits = ['duckdb', 'arrow', 'hyparquet'].filter(n => b.includes(`${n}: ${want}`))
    const others = (b.match(/^    \S+: row /gm) ?? []).length
    if (results[k] === 'FAIL' && hits.length === 3 && others === 3) pass(`mutated expect is caught by all 3 readers at that cell only: ${what}`)
    else fail(`mutated expect not caught: ${what}`, `result=${results[k]} readers=${hits.join(',')} diff lines=${others}\n${b.trim()}`)
  })
  if (r.rc === 1 && results.length === MUTATIONS.length && results.every(x => x === 'FAIL')) pass(`pqcheck exits 1 when an expected value differs (${MUTATIONS.length} files, one process, ${r.ms} ms)`)
  else fail('exit status on mismatch', `rc=${r.rc} results=${results.join(',')}`)
}

// 3. row/column shape mutations
{
  const extra = JSON.parse(JSON.stringify(expect)); extra.rows.push(extra.rows[0])
  const rename = JSON.parse(JSON.stringify(expect)); rename.columns[3] = 'i16x'
  writeFileSync(join(dir, 'extra.expect.json'), JSON.stringify(extra))
  writeFileSync(join(dir, 'rename.expect.json'), JSON.stringify(rename))
  const r = pqcheck(allFile, join(dir, 'extra.expect.json'), allFile, join(dir, 'rename.expect.json'))
  if (r.rc === 1 && /duckdb: 6 rows, expected 7/.test(r.out) && /hyparquet: columns \[.*"i16".*\], expected \[.*"i16x"/.test(r.out))
    pass('a missing row and a renamed column are reported')
  else fail('row count / column names', tail(r.out))
}

// 4. a footer statistic that lies: patch row group 1's min of v (-856) to -857 in the footer
{
  const buf = readFileSync(rgFile)
  const flen = buf.readUInt32LE(buf.length - 8)
  const fstart = buf.length - 8 - flen
  const from = Buffer.alloc(8); from.writeBigInt64LE(BigInt(2048 * 3 - 7000))
  const to = Buffer.alloc(8); to.writeBigInt64LE(BigInt(2048 * 3 - 7000 - 1))
  let n = 0
  for (let i = fstart; i + 8 <= buf.length - 8; i++) if (buf.subarray(i, i + 8).equals(from)) { to.copy(buf, i); n++ }
  const bad = join(dir, 'badstats.parquet')
  writeFileSync(bad, buf)
  const r = pqcheck(bad, rgExpectFile, '--check-stats')
  if (n >= 1 && r.rc === 1 && /^  duckdb: ok/m.test(r.out) && /row group 1 column v: min_value "-857", values give "-856"/.test(r.out))
    pass(`--check-stats catches a wrong min_value in the footer (${n} place(s) patched)`)
  else fail('--check-stats on a patched footer', `patched=${n} rc=${r.rc}\n${tail(r.out)}`)
}

// 5. --pairs: finds CASE.expect.json, and one expect shared by CASE.part-N.parquet files
{
  const r = pqcheck('--pairs', pairsDir, '--check-stats')
  const res = [...r.out.matchAll(/^RESULT (\S+) (.*)$/gm)].map(m => `${m[1]} ${m[2].slice(pairsDir.length + 1)}`)
  if (r.rc === 0 && res.join(',') === 'ok alltypes.parquet,ok split.part-1.parquet,ok split.part-2.parquet' &&
      /rows 4\.\.5 of .*split\.expect\.json \(2 files share it\)/.test(r.out))
    pass('--pairs DIR pairs files with their expect files (incl. one expect shared by 2 files)')
  else fail('--pairs', `rc=${r.rc} ${res.join(',')}\n${tail(r.out)}`)
  // and fails when one of a shared group is wrong
  const e = JSON.parse(readFileSync(join(pairsDir, 'split.expect.json'), 'utf8'))
  e.rows[5][1] = '0'
  writeFileSync(join(pairsDir, 'split.expect.json'), JSON.stringify(e))
  const r2 = pqcheck('--pairs', pairsDir)
  if (r2.rc === 1 && /^RESULT FAIL .*split\.part-2\.parquet$/m.test(r2.out) && /^RESULT ok .*split\.part-1\.parquet$/m.test(r2.out) &&
      /row 1 column "i64": expected "0" got "-9007199254740993"/.test(r2.out))
    pass('--pairs reports the wrong file of a group (row index within the file)')
  else fail('--pairs with a wrong group member', tail(r2.out))
}

if (!keep) rmSync(dir, { recursive: true, force: true })
console.log(failures ? `selftest: ${failures} check(s) failed` : 'selftest: all checks passed')
process.exitCode = failures ? 1 : 0
