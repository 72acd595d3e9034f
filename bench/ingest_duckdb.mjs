// ingest_duckdb.mjs - DuckDB side and report of the directory-ingest benchmark
// (bench/run_ingest.sh drives it; each subcommand is one process so /usr/bin/time
// measures exactly one thing).
//
//   node bench/ingest_duckdb.mjs copy --threads N --schema S --glob 'DIR/*.json' --out F.parquet
//       SET threads=N; COPY (SELECT * FROM read_json(GLOB, columns = {...})) TO F
//       (FORMAT parquet, COMPRESSION zstd); prints {"rows":N,"seconds":S,"version":V}
//       (S = the COPY alone, inside the process).
//   node bench/ingest_duckdb.mjs table DIR
//       the Parquet files under a Delta table DIR outside _delta_log: prints
//       {"files":F,"bytes":B,"rows":R} (R = DuckDB count(*) over them; right only when the
//       table holds no orphan files, which a single clean --once run does not leave)
//   node bench/ingest_duckdb.mjs schema-ini SCHEMA
//       the schema string as the lines of a [schema] section ("amount = decimal(12,2)")
//   node bench/ingest_duckdb.mjs report DIR INPUT_BYTES LINES
//       reads DIR/{ingestd,duckdb1,duckdb2}.{time,json} and prints the table, the ratios
//       and the row-count check; exit 1 when a count disagrees or ingestd failed.
//
// Column spec: the schema string (jsonexpect's NAME=TYPE form) mapped type by type:
// long BIGINT, int INTEGER, short SMALLINT, byte TINYINT, double DOUBLE, float FLOAT,
// decimal(p,s) DECIMAL(p,s), boolean BOOLEAN, string VARCHAR, date DATE, binary BLOB, and
// timestamp TIMESTAMPTZ: a Delta timestamp is an instant (Parquet isAdjustedToUTC=true),
// which is DuckDB's TIMESTAMPTZ; read_json's TIMESTAMP drops the "+02:00" of an ISO string
// instead of applying it (2024-01-01T10:00+02:00 would read as 10:00 UTC), TIMESTAMPTZ
// applies it like ingestd.  `not null` has no counterpart in read_json and is dropped.
// @duckdb/node-api comes from tests/readers/node_modules (BENCH_READERS overrides).
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const readers = process.env.BENCH_READERS || resolve(here, '../tests/readers')
const q = (s) => "'" + s.replaceAll("'", "''") + "'"
const ident = (s) => '"' + s.replaceAll('"', '""') + '"'

async function duck(threads) {
  const { DuckDBInstance } = await import(pathToFileURL(join(readers, 'node_modules/@duckdb/node-api/lib/index.js')).href)
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads), autoinstall_known_extensions: 'false' })
  const con = await db.connect()
  await con.run(`SET TimeZone='UTC'`)
  return { con, all: async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS() }
}

const DUCK_TYPE = { long: 'BIGINT', int: 'INTEGER', integer: 'INTEGER', short: 'SMALLINT', byte: 'TINYINT', double: 'DOUBLE',
  float: 'FLOAT', boolean: 'BOOLEAN', string: 'VARCHAR', date: 'DATE', binary: 'BLOB', timestamp: 'TIMESTAMPTZ' }
// 'id=long not null,amount=decimal(12,2)' -> "{'id': 'BIGINT', 'amount': 'DECIMAL(12,2)'}"
function schemaCols(schema) {
  const parts = schema.match(/[^,(]+(?:\([^)]*\)[^,]*)?/g) ?? []
  return parts.map((p) => {
    const m = /^\s*([^=]+?)\s*=\s*([a-z]+)\s*(\(\s*\d+\s*,\s*\d+\s*\))?\s*(not\s+null)?\s*$/i.exec(p)
    if (!m) throw new Error(`schema: cannot read "${p}"`)
    return { name: m[1], type: m[2].toLowerCase(), args: m[3]?.replace(/\s/g, '') ?? '', notNull: !!m[4] }
  })
}
export function columnSpec(schema) {
  const cols = schemaCols(schema).map((c) => {
    const dt = c.type === 'decimal' && c.args ? 'DECIMAL' + c.args : DUCK_TYPE[c.type]
    if (!dt) throw new Error(`schema: ${c.name}: no DuckDB type for ${c.type}`)
    return `${q(c.name)}: ${q(dt)}`
  })
  return '{' + cols.join(', ') + '}'
}
// the same schema as lines of a [schema] section
const schemaIni = (schema) => schemaCols(schema).map((c) => `${c.name} = ${c.type}${c.args}${c.notNull ? ' not null' : ''}`).join('\n')

function opts(argv) {
  const o = {}
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected ${argv[i]}`)
    o[argv[i].slice(2)] = argv[++i]
  }
  return o
}

async function copy(argv) {
  const o = opts(argv)
  if (!o.threads || !o.schema || !o.glob || !o.out) throw new Error('copy needs --threads --schema --glob --out')
  const { con, all } = await duck(o.threads)
  const version = (await all('SELECT version() AS v'))[0].v
  const sql = `COPY (SELECT * FROM read_json(${q(o.glob)}, columns = ${columnSpec(o.schema)}, format = 'newline_delimited'))` +
    ` TO ${q(o.out)} (FORMAT parquet, COMPRESSION zstd)`
  const t0 = performance.now()
  const r = await con.runAndReadAll(sql)
  const seconds = (performance.now() - t0) / 1e3
  const rows = Number(r.getRows()[0]?.[0] ?? -1)
  console.log(JSON.stringify({ rows, seconds, version, sql }))
}

function dataFiles(dir) {
  const out = []
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) { if (!(d === dir && e.name === '_delta_log')) walk(p) }
      else if (e.isFile()) out.push(p)
    }
  }
  walk(dir)
  return out
}

async function table(argv) {
  const dir = argv[0]
  if (!dir) throw new Error('table needs DIR')
  const files = dataFiles(dir)
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0)
  const pq = files.filter((f) => f.endsWith('.parquet'))
  let rows = 0
  if (pq.length) {
    const { all } = await duck(2)
    const list = '[' + pq.map(q).join(', ') + ']'
    rows = Number((await all(`SELECT count(*)::BIGINT AS n FROM read_parquet(${list}, hive_partitioning = false)`))[0].n)
  }
  console.log(JSON.stringify({ files: pq.length, other_files: files.length - pq.length, bytes, rows }))
}

// ---------------------------------------------------------------- report
const readJson = (f) => { try { return JSON.parse(readFileSync(f, 'utf8').trim().split('\n').pop()) } catch { return null } }
function readTime(f) {        // "/usr/bin/time -f '%e %M %U %S'" -> {secs, rssKb, cpu} (last line: time adds a note on failure)
  try {
    const l = readFileSync(f, 'utf8').trim().split('\n').pop().trim().split(/\s+/)
    return { secs: Number(l[0]), rssKb: Number(l[1]), cpu: Number(l[2]) + Number(l[3]) }
  } catch { return null }
}
function report(argv) {
  const [dir, inBytesS, linesS] = argv
  const inBytes = Number(inBytesS), lines = Number(linesS)
  const fmt = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
  const runs = []
  const ing = readJson(join(dir, 'ingestd.json'))          // {rc, table:{...}|null, info:{...}|null}
  const ingTime = readTime(join(dir, 'ingestd.time'))
  runs.push({ name: 'ingestd --once (zstd)', ok: ing?.rc === 0 && !!ingTime, time: ingTime, rows: ing?.table?.rows, bytes: ing?.table?.bytes,
    note: ing ? (ing.rc === 0 ? `${ing.table?.files} data files` : `FAILED: exit ${ing.rc}`) : 'not run' })
  for (const t of [1, 2]) {
    const j = readJson(join(dir, `duckdb${t}.json`))
    const tm = readTime(join(dir, `duckdb${t}.time`))
    const f = join(dir, `duckdb${t}.parquet`)
    runs.push({ name: `DuckDB read_json+COPY threads=${t}`, ok: !!j && !!tm, time: tm, rows: j?.rows,
      bytes: existsSync(f) ? statSync(f).size : undefined, note: j ? `COPY alone ${fmt(j.seconds, 2)} s` : 'FAILED' })
  }
  const head = ['run', 'seconds', 'CPU s', 'MB/s in', 'rows/s', 'peak RSS MiB', 'output bytes', 'rows', 'note']
  const tableRows = runs.map((r) => r.ok
    ? [r.name, fmt(r.time.secs, 2), Number.isFinite(r.time.cpu) ? fmt(r.time.cpu, 2) : '-', fmt(inBytes / 1e6 / r.time.secs, 1), fmt(r.rows / r.time.secs), fmt(r.time.rssKb / 1024),
        fmt(r.bytes ?? 0), fmt(r.rows ?? 0), r.note]
    : [r.name, '-', '-', '-', '-', '-', '-', '-', r.note])
  const w = head.map((h, k) => Math.max(h.length, ...tableRows.map((r) => String(r[k]).length)))
  const line = (cells) => '| ' + cells.map((c, k) => (k === 0 || k === cells.length - 1 ? String(c).padEnd(w[k]) : String(c).padStart(w[k]))).join(' | ') + ' |'
  console.log(`input: ${fmt(inBytes)} bytes (${fmt(inBytes / 2 ** 30, 2)} GiB), ${fmt(lines)} lines`)
  console.log(line(head))
  console.log('|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|')
  for (const r of tableRows) console.log(line(r))
  let problems = 0
  const [i, d1, d2] = runs
  if (!i.ok) {
    problems++
    console.log(`ingestd: FAILED (exit ${ing?.rc ?? '?'}); no ratios.  Its output: ${join(dir, 'ingestd.log')}` +
      (existsSync(join(dir, 'ingestd.log')) ? '\n' + readFileSync(join(dir, 'ingestd.log'), 'utf8').trimEnd().split('\n')
        .slice(-12).map((l) => '  | ' + l.slice(0, 200)).join('\n') : ''))
  } else {
    for (const d of [d1, d2]) {
      if (!d.ok) continue
      console.log(`ingestd vs ${d.name}: speed ${fmt(d.time.secs / i.time.secs, 2)}x, output size ${fmt(i.bytes / d.bytes, 3)}x, ` +
        `peak RSS ${fmt(i.time.rssKb / d.time.rssKb, 2)}x`)
    }
  }
  // counts: every run must have every line (the benchmark input has no bad records)
  const counts = runs.filter((r) => r.ok).map((r) => `${r.name}=${r.rows}`)
  const bad = runs.filter((r) => r.ok && r.rows !== lines)
  if (i.ok && ing.info && ing.info.num_rows !== undefined && Number(ing.info.num_rows) !== i.rows) {
    problems++
    console.log(`CHECK FAIL: ingestd table info num_rows ${ing.info.num_rows} but the data files hold ${i.rows} rows (orphan files?)`)
  }
  if (bad.length) { problems++; console.log(`CHECK FAIL: row counts differ from the ${lines} input lines: ${counts.join(', ')}`) }
  else console.log(`check: row counts equal the ${fmt(lines)} input lines (${counts.join(', ') || 'no run succeeded'})`)
  return problems ? 1 : 0
}

const [cmd, ...rest] = process.argv.slice(2)
try {
  if (cmd === 'copy') await copy(rest)
  else if (cmd === 'table') await table(rest)
  else if (cmd === 'report') process.exitCode = report(rest)
  else if (cmd === 'schema-ini') console.log(schemaIni(rest[0] ?? ''))
  else { console.error('usage: node ingest_duckdb.mjs copy|table|report ... (see the header)'); process.exitCode = 2 }
} catch (e) {
  console.error(`ingest_duckdb: ${e.message}`)
  process.exitCode = 1
}
