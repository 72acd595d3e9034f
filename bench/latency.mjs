// latency.mjs - end-to-end latency of the directory source: from a file being renamed
// into the landing directory to the Delta commit that holds it.
//
//   node bench/latency.mjs --ingestd BIN --workdir D [--rate 100] [--seconds 30]
//        [--lines 10] [--settle 1s] [--drain 15] [--json]
//
// D gets landing/, tmp/, checkpoint/, table/ (the four are emptied first), pipeline.conf
// (trigger = 0, settle_time = --settle, [metrics] on a free 127.0.0.1 port) and
// ingestd.log.  The daemon is started and /readyz polled (up to 10 s); then every
// 1/rate s a file of --lines events (tests/readers/genevents.mjs, flat schema, unique
// ids) is written to D/tmp and renamed into D/landing; the wall clock (ms) right after
// each rename is recorded.  When all are written, the Delta log is polled until every
// file is in a commit or --drain seconds pass; then SIGTERM, and the exit is awaited.
// Each commit's commitInfo.timestamp and commitInfo.ingestd.files (lineage: [{path
// relative to the landing directory, start, end}]) give the commit holding each file;
// latency = commit timestamp - rename time.  The first commit naming a file counts (a
// file this small never spans batches).
// Prints the count, p50/p90/p99/max (nearest rank), the files never committed, the rows
// (sum of the adds' stats numRecords) against the lines written, and how the daemon
// stopped; --json adds one summary JSON line.  Exit 0 when every file was committed,
// every row is there and the daemon exited 0; 1 otherwise; 2 on usage errors.
// Both clocks are this machine's wall clock, so latencies are exact to about 1 ms; the
// schedule is kept with setTimeout and catches up when behind (counted as "late").
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync, renameSync, readdirSync, readFileSync, openSync, closeSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { get } from 'node:http'
import { join, resolve, basename, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventGenerator, SCHEMA_FLAT } from '../tests/readers/genevents.mjs'

const USAGE = 'usage: node bench/latency.mjs --ingestd BIN --workdir D [--rate FILES_PER_S] [--seconds S] [--lines N] [--settle DUR] [--drain S] [--json]'
const here = dirname(fileURLToPath(import.meta.url))
let daemon = null                       // the ingestd we started, killed on an early error
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

function parseArgs(argv) {
  const o = { ingestd: resolve(here, '../build/ingestd'), workdir: null, rate: 100, seconds: 30, lines: 10, settle: '1s', drain: 15, json: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i] }
    const num = () => { const v = Number(val()); if (!(v > 0)) throw new Error(`${a}: a positive number`); return v }
    if (a === '--ingestd') o.ingestd = resolve(val())
    else if (a === '--workdir') o.workdir = resolve(val())
    else if (a === '--rate') o.rate = num()
    else if (a === '--seconds') o.seconds = num()
    else if (a === '--lines') o.lines = Math.round(num())
    else if (a === '--settle') o.settle = val()
    else if (a === '--drain') o.drain = num()
    else if (a === '--json') o.json = true
    else if (a === '-h' || a === '--help') { console.log(USAGE); process.exit(0) }
    else throw new Error(`unknown argument ${a}`)
  }
  if (!o.workdir) throw new Error('--workdir is required')
  return o
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer()
    s.on('error', rej)
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)) })
  })
}
function httpStatus(url) {
  return new Promise((res) => {
    const req = get(url, { timeout: 500 }, (r) => { r.resume(); res(r.statusCode) })
    req.on('error', () => res(0))
    req.on('timeout', () => { req.destroy(); res(0) })
  })
}

// ---------------------------------------------------------------- Delta log
// Incremental reader of <table>/_delta_log/<v>.json: each version file is parsed once.
function logReader(table) {
  const logDir = join(table, '_delta_log')
  const seen = new Set()
  const commits = []                   // {version, timestamp, files: [path], rows}
  const poll = () => {
    if (!existsSync(logDir)) return commits
    for (const name of readdirSync(logDir).sort()) {
      const m = /^(\d{20})\.json$/.exec(name)
      if (!m || seen.has(name)) continue
      let text
      try { text = readFileSync(join(logDir, name), 'utf8') } catch { continue }
      if (!text.endsWith('\n')) continue                         // not complete yet (never, with put-if-absent)
      seen.add(name)
      const c = { version: Number(m[1]), timestamp: null, files: [], rows: 0 }
      for (const line of text.split('\n')) {
        if (!line) continue
        const a = JSON.parse(line)
        if (a.commitInfo) {
          c.timestamp = a.commitInfo.timestamp ?? null
          for (const f of a.commitInfo.ingestd?.files ?? []) c.files.push(f.path)
        }
        if (a.add?.stats) { try { c.rows += JSON.parse(a.add.stats).numRecords ?? 0 } catch { /* no stats */ } }
      }
      commits.push(c)
    }
    return commits
  }
  return { poll }
}
// file name (relative to landing) -> first commit holding it
function commitOfFile(commits) {
  const m = new Map()
  for (const c of [...commits].sort((a, b) => a.version - b.version)) {
    for (const p of c.files) {
      const key = p.startsWith('/') ? basename(p) : p              // lineage is relative; tolerate absolute
      if (!m.has(key)) m.set(key, c)
    }
  }
  return m
}
const pct = (sorted, p) => sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : NaN

// ---------------------------------------------------------------- main
async function main() {
  const o = parseArgs(process.argv.slice(2))
  if (!existsSync(o.ingestd)) throw new Error(`${o.ingestd}: no such file (build it, or pass --ingestd)`)
  const d = (x) => join(o.workdir, x)
  for (const x of ['landing', 'tmp', 'checkpoint', 'table']) rmSync(d(x), { recursive: true, force: true })
  for (const x of ['landing', 'tmp']) mkdirSync(d(x), { recursive: true })
  const port = await freePort()
  const schemaLines = SCHEMA_FLAT.match(/[^,(]+(?:\([^)]*\)[^,]*)?/g).map((c) => c.replace('=', ' = ')).join('\n')
  writeFileSync(d('pipeline.conf'), `[pipeline]
name = latency
checkpoint = ${d('checkpoint')}
trigger = 0

[source]
type = directory
path = ${d('landing')}
pattern = *.json
format = json
settle_time = ${o.settle}

[schema]
${schemaLines}

[sink]
path = ${d('table')}

[metrics]
listen = 127.0.0.1:${port}
`)
  const logFd = openSync(d('ingestd.log'), 'w')
  const child = daemon = spawn(o.ingestd, ['--config', d('pipeline.conf')], { stdio: ['ignore', logFd, logFd] })
  closeSync(logFd)
  let exited = null
  const exitP = new Promise((res) => child.on('exit', (code, signal) => { exited = { code, signal, at: Date.now() }; res(exited) }))
  child.on('error', (e) => { exited = { code: null, signal: null, error: e.message, at: Date.now() } })

  // readiness
  const t0 = Date.now()
  let ready = false
  while (!exited && Date.now() - t0 < 10000) {
    if (await httpStatus(`http://127.0.0.1:${port}/readyz`) === 200) { ready = true; break }
    await sleep(50)
  }
  if (exited) throw new Error(`ingestd exited at start (${JSON.stringify(exited)}); see ${d('ingestd.log')}`)
  const readyMs = Date.now() - t0
  if (!ready) console.log(`NOTE /readyz did not answer 200 within 10 s; starting anyway`)

  // the schedule
  const gen = eventGenerator({ seed: 42 })
  const total = Math.max(1, Math.round(o.rate * o.seconds))
  const interval = 1000 / o.rate
  const renamed = new Map()                // name -> rename time (ms)
  let late = 0
  const start = Date.now()
  for (let i = 0; i < total; i++) {
    const due = start + i * interval
    const now = Date.now()
    if (now < due) await sleep(due - now)
    else if (now - due > Math.max(5, interval)) late++
    let body = ''
    for (let k = 0; k < o.lines; k++) body += gen.next() + '\n'
    const name = `f-${String(i).padStart(7, '0')}.json`
    writeFileSync(join(d('tmp'), name), body)
    renameSync(join(d('tmp'), name), join(d('landing'), name))
    renamed.set(name, Date.now())
    if (exited) break
  }
  const writeSecs = (Date.now() - start) / 1e3

  // drain: wait until every file is in a commit
  const log = logReader(d('table'))
  const drainStart = Date.now()
  let byFile = new Map()
  while (!exited) {
    byFile = commitOfFile(log.poll())
    let missing = 0
    for (const name of renamed.keys()) if (!byFile.has(name)) missing++
    if (!missing || Date.now() - drainStart > o.drain * 1000) break
    await sleep(200)
  }
  const drainSecs = (Date.now() - drainStart) / 1e3

  // stop
  let stopSecs = null
  if (!exited) {
    const ts = Date.now()
    child.kill('SIGTERM')
    const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL') }, 30000)
    await exitP
    clearTimeout(timer)
    stopSecs = (exited.at - ts) / 1e3
  }

  // results
  const commits = log.poll()
  byFile = commitOfFile(commits)
  const lat = [], never = []
  for (const [name, t] of renamed) {
    const c = byFile.get(name)
    if (c && c.timestamp !== null) lat.push(c.timestamp - t)
    else never.push(name)
  }
  lat.sort((a, b) => a - b)
  const rows = commits.reduce((s, c) => s + c.rows, 0)
  const linesWritten = renamed.size * o.lines
  const dataCommits = commits.filter((c) => c.files.length).length
  const f1 = (x) => Number.isFinite(x) ? x.toFixed(0) : '-'
  console.log(`latency: ${renamed.size} files of ${o.lines} lines renamed at ${o.rate}/s over ${writeSecs.toFixed(1)} s` +
    ` (${late} late); ingestd ${ready ? `ready after ${readyMs} ms` : 'never ready'}; ${dataCommits} data commits` +
    (dataCommits ? ` (${(lat.length / dataCommits).toFixed(1)} files each)` : ''))
  console.log(`committed: ${lat.length} files; latency ms: p50 ${f1(pct(lat, 50))} p90 ${f1(pct(lat, 90))} p99 ${f1(pct(lat, 99))}` +
    ` max ${f1(lat[lat.length - 1])} (min ${f1(lat[0])}, mean ${f1(lat.reduce((s, x) => s + x, 0) / lat.length)})`)
  console.log(`never committed: ${never.length}${never.length ? ' (' + never.slice(0, 10).join(' ') + (never.length > 10 ? ' ...' : '') + ')' : ''}`)
  console.log(`rows: ${rows} in the table (stats numRecords), ${linesWritten} lines written`)
  const exitText = exited ? (exited.error ? `failed: ${exited.error}` : exited.signal ? `killed by ${exited.signal}` : `exit ${exited.code}`) : 'still running?'
  console.log(`daemon: ${exitText}${stopSecs !== null ? `, ${stopSecs.toFixed(2)} s after SIGTERM` : ' before SIGTERM'}; drain wait ${drainSecs.toFixed(1)} s; log ${d('ingestd.log')}`)
  if (o.json) {
    console.log(JSON.stringify({ files: renamed.size, lines: linesWritten, rows, committed: lat.length, never: never.length,
      p50_ms: pct(lat, 50), p90_ms: pct(lat, 90), p99_ms: pct(lat, 99), max_ms: lat[lat.length - 1] ?? null,
      commits: dataCommits, late, exit: exited }))
  }
  return never.length || rows !== linesWritten || !exited || exited.code !== 0 ? 1 : 0
}

main().then((rc) => { process.exitCode = rc }, (e) => {
  console.error(`latency: ${e.message}`)
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM')
  process.exitCode = /^(unknown|--)/.test(e.message) ? 2 : 1
})
