// parquet_duckdb.mjs - DuckDB side of issue 3's Parquet writer benchmark.
//
//   node bench/parquet_duckdb.mjs OUTDIR
//
// OUTDIR holds what bench/parquet_bench wrote: ours.parquet (ours, ZSTD 3),
// source.parquet (the same rows, uncompressed) and ours.json (our figures and
// the checksums computed from the in-memory batches).  This script loads
// source.parquet into an in-memory DuckDB table (untimed, default threads),
// then with SET threads=1 times only
//   COPY t TO 'OUTDIR/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)
// prints both writers' figures and the ratios, and checks that DuckDB reads
// ours.parquet and that count(*) and the checksums match between
// ours.parquet, duckdb.parquet and the batches.  Exit 1 if a check fails.
// @duckdb/node-api comes from tests/readers/node_modules (BENCH_READERS overrides).
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const readers = process.env.BENCH_READERS || resolve(here, '../tests/readers')
const { DuckDBInstance } = await import(
  pathToFileURL(join(readers, 'node_modules/@duckdb/node-api/lib/index.js')).href)

const outdir = process.argv[2]
if (!outdir) { console.error('usage: node parquet_duckdb.mjs OUTDIR'); process.exit(2) }
const ours = JSON.parse(readFileSync(join(outdir, 'ours.json'), 'utf8'))
const oursFile = resolve(outdir, 'ours.parquet')
const srcFile = resolve(outdir, 'source.parquet')
const duckFile = resolve(outdir, 'duckdb.parquet')
const q = (s) => "'" + s.replaceAll("'", "''") + "'"

const db = await DuckDBInstance.create(':memory:')
const con = await db.connect()
const all = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS()
const version = (await all('SELECT version() AS v'))[0].v

let t0 = performance.now()
await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${q(srcFile)})`)
const loadSecs = (performance.now() - t0) / 1e3
const rssLoadedKb = process.resourceUsage().maxRSS

await con.run('SET threads=1')
t0 = performance.now()
await con.run(`COPY t TO ${q(duckFile)} (FORMAT parquet, COMPRESSION zstd)`)
const duckSecs = (performance.now() - t0) / 1e3
const duckPeakKb = process.resourceUsage().maxRSS
const duckBytes = statSync(duckFile).size

// ---------------------------------------------------------------- checks
const cols = ['id', 'ts', 'event_type', 'country', 'url', 'user_agent', 'user_id', 'amount',
  'latency_ms', 'is_mobile']
const checksumSql = (f) => `SELECT count(*)::VARCHAR AS n, sum(id)::VARCHAR AS sum_id,
    sum(epoch_us(ts))::VARCHAR AS sum_ts, sum(user_id)::VARCHAR AS sum_user,
    sum(strlen(event_type))::VARCHAR AS len_event, sum(strlen(country))::VARCHAR AS len_country,
    sum(strlen(url))::VARCHAR AS len_url, sum(strlen(user_agent))::VARCHAR AS len_ua,
    sum(round(amount * 100)::BIGINT)::VARCHAR AS amount_cents,
    sum(round(latency_ms * 1000)::BIGINT)::VARCHAR AS latency_us,
    count(*) FILTER (WHERE is_mobile)::VARCHAR AS mobile,
    ${cols.map((c) => `(count(*) - count(${c}))::VARCHAR AS nulls_${c}`).join(', ')}
  FROM read_parquet(${q(f)})`
const meta = async (f) => (await all(`SELECT count(DISTINCT row_group_id)::INTEGER AS rg,
    string_agg(DISTINCT compression, ',') AS codec FROM parquet_metadata(${q(f)})`))[0]

await con.run('SET threads=2')
const sumOurs = (await all(checksumSql(oursFile)))[0]
const sumDuck = (await all(checksumSql(duckFile)))[0]
const metaOurs = await meta(oursFile)
const metaDuck = await meta(duckFile)
const diffs = []
for (const k of Object.keys(ours.expect)) {
  if (sumOurs[k] !== ours.expect[k] || sumDuck[k] !== ours.expect[k])
    diffs.push(`${k}: batches=${ours.expect[k]} ours=${sumOurs[k]} duckdb=${sumDuck[k]}`)
}

// ---------------------------------------------------------------- report
const rows = ours.rows, inMB = ours.input_bytes / 1e6
const fmt = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
const line = (name, secs, bytes, rssKb, note) => [name, fmt(secs, 2), fmt(rows / secs), fmt(inMB / secs, 1),
  fmt(bytes), fmt(rssKb / 1024), note]
const table = [
  ['writer', 'seconds', 'rows/s', 'MB/s in', 'output bytes', 'peak RSS MiB', 'notes'],
  line('ingestd (ZSTD 3, 1 thread)', ours.seconds, ours.output_bytes, ours.peak_rss_kb,
    `${metaOurs.rg} row groups; RSS incl. batches; writer +${fmt((ours.peak_rss_kb - ours.rss_before_kb) / 1024)} MiB`),
  line('DuckDB COPY (zstd, threads=1)', duckSecs, duckBytes, duckPeakKb,
    `${metaDuck.rg} row groups; RSS incl. table (${fmt(rssLoadedKb / 1024)} MiB after load)`),
]
const widths = table[0].map((_, i) => Math.max(...table.map((r) => String(r[i]).length)))
console.log(`rows ${fmt(rows)}, input ${fmt(ours.input_bytes)} bytes (${fmt(inMB, 1)} MB raw batch data), ${version}`)
for (const r of table) console.log('| ' + r.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |')
const speed = duckSecs / ours.seconds, size = ours.output_bytes / duckBytes
console.log(`ratio ours/DuckDB: speed ${speed.toFixed(2)}x (rows/s), output size ${size.toFixed(3)}x, ` +
  `peak RSS ${(ours.peak_rss_kb / duckPeakKb).toFixed(2)}x`)
console.log(`codecs: ours ${metaOurs.codec}, DuckDB ${metaDuck.codec}; DuckDB load of source.parquet ${loadSecs.toFixed(1)} s (untimed)`)
if (diffs.length) {
  console.log(`check: FAILED (${diffs.length} mismatches)`)
  for (const d of diffs) console.log('  ' + d)
} else {
  console.log(`check: OK - DuckDB reads ours.parquet; count(*)=${sumOurs.n}, sum(id), sum(epoch_us(ts)), ` +
    `sum(user_id), sum(strlen) of 4 string columns, amount/latency sums, is_mobile count and ` +
    `nulls of all ${cols.length} columns match between ours.parquet, duckdb.parquet and the batches`)
}
writeFileSync(join(outdir, 'duckdb.json'), JSON.stringify({ version, loadSecs, duckSecs, duckBytes,
  duckPeakKb, rssLoadedKb, sumOurs, sumDuck, metaOurs, metaDuck, diffs }, null, 1) + '\n')
process.exit(diffs.length ? 1 : 0)
