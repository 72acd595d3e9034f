#!/usr/bin/env node
// deltacheck - judge a Delta table (protocol reader 1 / writer 2) without any of ingestd's
// code: its own Delta log replay in JavaScript, DuckDB for every Parquet file.
//
//   node deltacheck.mjs TABLE_DIR [--expect ROWS.json] [--no-data] [--strict] [--json] [--max-diffs N]
//
// Spec: /work/shared/specs/delta-parquet.md section A (A1..A9 are cited below).
// Checks, in this order.  Each problem is one line "FAIL <check>: <detail>"; a check
// without problems prints "ok <check>: <summary>"; remarks that are no error print "NOTE ...".
//   log          _delta_log listing and every <v>.json: versions contiguous from the
//                earliest one (a gap before it needs a checkpoint at or after it - 1), NDJSON
//                with one single-key action per line and a final newline, action shapes (A3),
//                no two actions for one key in a commit (two metaData / protocol / txn with one
//                appId / file actions for one path), version 0 has protocol and metaData.
//                Files starting with '.' are NOTEs (temp files, Hadoop .crc sidecars).
//   checkpoints  every classic <v>.checkpoint.parquet (read with DuckDB): Parquet schema has
//                the A8 groups and fields, exactly one action per row, no commitInfo, the
//                non-null fields of A8, and its content equals the state replayed from the
//                JSON commits 0..v (when they all exist); _last_checkpoint names an existing
//                checkpoint and its size is that checkpoint's row count.
//   snapshot     A9 replay from the newest readable checkpoint + later commits (or from
//                0.json): protocol and metaData present, schema valid (A6), every live add has
//                a value for exactly the partition columns, parseable per type (A4), stats
//                that name schema columns with values of the right form (A5).
//   data         (not with --no-data) per live add: the file at the %-decoded path exists
//                with the logged size, DuckDB reads it, it holds no partition column; stats:
//                numRecords = rows, nullCount = nulls, min/max: numbers, decimals and dates
//                exact; timestamps = the real value floored to ms; strings are bounds (equal
//                when the real value has <= 32 code points and the stat no U+10FFFF tail).
//   rows         (with --expect) all live rows in canonical form (pqcheck.mjs's header; the
//                columns are the expect file's "columns", partition columns from
//                partitionValues, columns a file lacks are null), compared as multisets.
// --strict (tables written by ingestd): protocol must be exactly 1/2 without features, every
//   commit has commitInfo with engineInfo "ingestd/...", every add has stats, removes have
//   deletionTimestamp, no actions beyond A3, checkpoint schema fields exactly as A8 in order,
//   data paths under no '_' / '.' directory (A1; '_' is allowed in a "col=value" directory).
// Output: the lines above, then one summary JSON line
//   {"version":V,"num_files":N,"num_rows":R,"size_bytes":S,"txn":{appId:version},"partition_columns":[...]}
//   (num_rows: counted rows, or the sum of stats numRecords with --no-data, null if unknown).
//   With --json only the summary goes to stdout, everything else to stderr.
// Exit 0 without FAIL, 1 with, 2 on usage errors.
//
// Exact integers: log lines, checkpoint rows (DuckDB to_json), stats and _last_checkpoint
// are parsed with parseExact below, a small JSON parser that keeps every number as its
// source text (class JNum); integers are compared as BigInt and printed from that text, so
// versions, sizes and txn versions past 2^53 stay exact.
// Replay is linear: each commit is parsed once, applied to Maps keyed by path / appId.
import { readFileSync, readdirSync, statSync, existsSync, mkdtempSync, symlinkSync, rmSync } from 'node:fs'
import { join, resolve, dirname, basename, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { canonF32, canonF64, fmtDec, J, duckConn, sqlStr, fromDuck } from './canon.mjs'

const USAGE = 'usage: node deltacheck.mjs TABLE_DIR [--expect ROWS.json] [--no-data] [--strict] [--json] [--max-diffs N]'
const FAIL_CAP = 50          // FAIL lines printed per check; the rest are counted

// ---------------------------------------------------------------- exact JSON
class JNum { constructor(raw) { this.raw = raw } }
const NUM_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const HEX4 = /^[0-9a-fA-F]{4}$/
// Objects come back with a null prototype; a repeated key is an error (a log line
// holding one would be read differently by different readers).
function parseExact(s) {
  let i = 0
  const n = s.length
  const err = (m) => { throw new Error(`${m} at offset ${i}`) }
  const ws = () => { for (;;) { const c = s.charCodeAt(i); if (c === 32 || c === 10 || c === 13 || c === 9) i++; else return } }
  const str = () => {
    i++
    let out = '', start = i
    for (;;) {
      if (i >= n) err('unterminated string')
      const c = s.charCodeAt(i)
      if (c === 34) { out += s.slice(start, i); i++; return out }
      if (c === 92) {
        out += s.slice(start, i)
        const e = s[i + 1]
        if (e === 'u') {
          const h = s.slice(i + 2, i + 6)
          if (!HEX4.test(h)) err('bad \\u escape')
          out += String.fromCharCode(parseInt(h, 16)); i += 6
        } else {
          const m = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[e]
          if (m === undefined) err('bad escape')
          out += m; i += 2
        }
        start = i
      } else if (c < 32) err('control character in string')
      else i++
    }
  }
  const val = () => {
    ws()
    const c = s[i]
    if (c === '{') {
      i++
      const o = Object.create(null)
      ws()
      if (s[i] === '}') { i++; return o }
      for (;;) {
        ws()
        if (s[i] !== '"') err('expected a key')
        const k = str()
        if (Object.hasOwn(o, k)) err(`duplicate key "${k}"`)
        ws()
        if (s[i] !== ':') err("expected ':'")
        i++
        o[k] = val()
        ws()
        if (s[i] === ',') { i++; continue }
        if (s[i] === '}') { i++; return o }
        err("expected ',' or '}'")
      }
    }
    if (c === '[') {
      i++
      const a = []
      ws()
      if (s[i] === ']') { i++; return a }
      for (;;) {
        a.push(val())
        ws()
        if (s[i] === ',') { i++; continue }
        if (s[i] === ']') { i++; return a }
        err("expected ',' or ']'")
      }
    }
    if (c === '"') return str()
    if (s.startsWith('true', i)) { i += 4; return true }
    if (s.startsWith('false', i)) { i += 5; return false }
    if (s.startsWith('null', i)) { i += 4; return null }
    NUM_RE.lastIndex = i
    const m = NUM_RE.exec(s)
    if (!m) err(i >= n ? 'unexpected end' : 'unexpected character')
    i += m[0].length
    return new JNum(m[0])
  }
  const v = val()
  ws()
  if (i !== n) err('trailing characters')
  return v
}
const isObj = (v) => v !== null && typeof v === 'object' && !(v instanceof JNum) && !Array.isArray(v)
const isInt = (v) => v instanceof JNum && /^-?\d+$/.test(v.raw)
const isStr = (v) => typeof v === 'string'
// exact text of a parsed value (numbers as written)
function X(v) {
  if (v instanceof JNum) return v.raw
  if (Array.isArray(v)) return '[' + v.map(X).join(',') + ']'
  if (isObj(v)) return '{' + Object.keys(v).map(k => JSON.stringify(k) + ':' + X(v[k])).join(',') + '}'
  if (v === undefined) return 'absent'
  return JSON.stringify(v)
}
// order-free form of a string map (partitionValues, configuration, options); absent = {}
const mapKey = (o) => isObj(o) ? X(Object.fromEntries(Object.keys(o).sort().map(k => [k, o[k]]))) : (o == null ? '{}' : X(o))
const intKey = (v) => isInt(v) ? String(BigInt(v.raw)) : X(v)
const short = (s, n = 120) => (s.length > n ? s.slice(0, n) + '...' : s)
const cmpBig = (a, b) => (a < b ? -1 : a > b ? 1 : 0)
const vname = (v) => String(v).padStart(20, '0')

// ---------------------------------------------------------------- reporting
class Report {
  constructor(out) { this.out = out; this.fails = 0; this.check = null; this.n = 0 }
  begin(check) { this.check = check; this.n = 0 }
  fail(detail) { this.fails++; if (++this.n <= FAIL_CAP) this.out(`FAIL ${this.check}: ${detail}`) }
  note(detail) { this.out(`NOTE ${this.check ? this.check + ': ' : ''}${detail}`) }
  end(summary) {
    if (this.n > FAIL_CAP) this.out(`FAIL ${this.check}: ${this.n - FAIL_CAP} more problem(s) not shown`)
    else if (!this.n) this.out(`ok ${this.check}: ${summary}`)
    const bad = this.n > 0
    this.check = null
    return !bad
  }
}

// ---------------------------------------------------------------- dates and times
// proleptic Gregorian days since 1970-01-01 (H. Hinnant's days_from_civil)
function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}
const daysIn = (y, m) => [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
function parseDate(s) {
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})$/.exec(s)
  if (!m) return null
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return null
  return daysFromCivil(y, mo, d)
}
// 'YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|+HH:MM]' -> nanoseconds since the epoch (BigInt), or
// null.  A missing zone is read as UTC: for timestamp_ntz that is the definition, for the
// legacy partition form (A4, "writer's zone") the zone is unknowable; ingestd writes UTC.
function parseTs(s, { iso = true, legacy = true, zone = true } = {}) {
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2}(?::?\d{2})?)?$/.exec(s)
  if (!m) return null
  if (m[4] === 'T' ? !iso : !legacy) return null
  if (m[9] && !zone) return null
  const days = parseDate(`${m[1]}-${m[2]}-${m[3]}`)
  const [h, mi, se] = [Number(m[5]), Number(m[6]), Number(m[7])]
  if (days === null || h > 23 || mi > 59 || se > 59) return null
  let off = 0n
  if (m[9] && m[9] !== 'Z') {
    const z = m[9].replace(/:/g, '')
    const sign = z[0] === '-' ? -1n : 1n
    off = sign * (BigInt(z.slice(1, 3)) * 3600n + BigInt(z.slice(3, 5)) * 60n + BigInt(z.slice(5, 7) || '0'))
  }
  const secs = BigInt(days) * 86400n + BigInt(h * 3600 + mi * 60 + se) - off
  return secs * 1000000000n + BigInt((m[8] ?? '').padEnd(9, '0'))
}
const floorDiv = (a, b) => { const q = a / b; return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q }

// ---------------------------------------------------------------- numbers
// exact decimal text -> {m, e} with value m * 10^e (BigInt m), or null
function parseDecText(s) {
  const r = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s)
  if (!r || (!r[2] && !r[3])) return null
  const m = BigInt((r[1] === '-' ? '-' : '') + ((r[2] || '') + (r[3] || '') || '0'))
  return { m, e: Number(r[4] || 0) - (r[3] || '').length }
}
function decEq(a, b) {
  const e = Math.min(a.e, b.e)
  return a.m * 10n ** BigInt(a.e - e) === b.m * 10n ** BigInt(b.e - e)
}
// exact value at `scale` digits -> unscaled BigInt, or null when it needs rounding
function decAtScale(d, scale) {
  if (d.e >= -scale) return d.m * 10n ** BigInt(d.e + scale)
  const div = 10n ** BigInt(-scale - d.e)
  return d.m % div === 0n ? d.m / div : null
}
const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|Infinity)$/
const INT_RANGE = { byte: 8n, short: 16n, integer: 32n, long: 64n }

// ---------------------------------------------------------------- Delta schema (A6)
const PRIMS = new Set(['string', 'long', 'integer', 'short', 'byte', 'float', 'double', 'boolean', 'binary', 'date', 'timestamp', 'timestamp_ntz', 'void'])
const DEC_RE = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/
const isStructT = (t) => isObj(t) && t.type === 'struct'
// problems of a Delta type, pushed to out with a path prefix
function validateType(t, where, out, strict) {
  if (isStr(t)) {
    const d = DEC_RE.exec(t)
    if (d) { const [p, s] = [Number(d[1]), Number(d[2])]; if (p < 1 || p > 38 || s > p) out.push(`${where}: bad ${t}`) }
    else if (!PRIMS.has(t)) out.push(`${where}: unknown type ${JSON.stringify(t)}`)
    return
  }
  if (!isObj(t)) { out.push(`${where}: type is ${X(t)}`); return }
  if (t.type === 'struct') {
    if (!Array.isArray(t.fields)) { out.push(`${where}: struct without fields`); return }
    const seen = new Set()
    for (const f of t.fields) {
      if (!isObj(f) || !isStr(f.name)) { out.push(`${where}: field without a name: ${short(X(f))}`); continue }
      const w = where ? `${where}.${f.name}` : f.name
      if (seen.has(f.name.toLowerCase())) out.push(`${w}: name used twice (names are case-insensitive)`)
      seen.add(f.name.toLowerCase())
      if (typeof f.nullable !== 'boolean') out.push(`${w}: nullable is ${X(f.nullable)}`)
      if (f.metadata === undefined) { if (strict) out.push(`${w}: no metadata object`) }
      else if (!isObj(f.metadata)) out.push(`${w}: metadata is ${X(f.metadata)}`)
      validateType(f.type, w, out, strict)
    }
  } else if (t.type === 'array') {
    if (typeof t.containsNull !== 'boolean') out.push(`${where}: array without containsNull`)
    validateType(t.elementType, `${where}[]`, out, strict)
  } else if (t.type === 'map') {
    if (typeof t.valueContainsNull !== 'boolean') out.push(`${where}: map without valueContainsNull`)
    validateType(t.keyType, `${where}.key`, out, strict)
    validateType(t.valueType, `${where}.value`, out, strict)
  } else out.push(`${where}: unknown type ${short(X(t))}`)
}
// schemaString -> {schema, problems}
function parseSchema(text, strict) {
  const problems = []
  let schema = null
  try { schema = parseExact(text) } catch (e) { return { schema: null, problems: [`schemaString is not JSON: ${e.message}`] } }
  if (!isStructT(schema)) return { schema: null, problems: ['schemaString is not a struct type'] }
  validateType(schema, '', problems, strict)
  return { schema: problems.length ? null : schema, problems: problems.map(p => `schema ${p}`) }
}
// canonical-value descriptor of a Delta type (canon.mjs's fromDuck understands it)
function deltaDesc(name, t) {
  if (isStr(t)) {
    const d = DEC_RE.exec(t)
    if (d) return { kind: 'dec', name, scale: Number(d[2]), precision: Number(d[1]) }
    const kind = { byte: 'int', short: 'int', integer: 'int', long: 'int', float: 'f32', double: 'f64', string: 'string',
                   binary: 'binary', boolean: 'bool', date: 'date', timestamp: 'ts', timestamp_ntz: 'ts' }[t]
    return kind ? { kind, name } : { kind: 'unsupported', name, why: t }
  }
  if (t.type === 'struct') return { kind: 'struct', name, fields: t.fields.map(f => deltaDesc(f.name, f.type)) }
  if (t.type === 'array') return { kind: 'list', name, elem: deltaDesc('element', t.elementType) }
  return { kind: 'map', name, key: deltaDesc('key', t.keyType), value: deltaDesc('value', t.valueType) }
}

// ---------------------------------------------------------------- partition values (A4)
// string from partitionValues -> canonical value; throws with the reason
function partValue(s, t) {
  if (s === null || s === '') return null               // the protocol reads "" as null too
  if (!isStr(s)) throw new Error(`value ${X(s)} is not a string`)
  const d = DEC_RE.exec(t)
  if (d) {
    const v = FLOAT_RE.test(s) ? parseDecText(s) : null
    const u = v && decAtScale(v, Number(d[2]))
    if (u === null || u === undefined) throw new Error(`${JSON.stringify(s)} is not a ${t}`)
    if ((u < 0n ? -u : u).toString().length > Number(d[1])) throw new Error(`${JSON.stringify(s)} has more than ${d[1]} digits`)
    return fmtDec(u, Number(d[2]))
  }
  switch (t) {
    case 'string': return s
    case 'byte': case 'short': case 'integer': case 'long': {
      if (!/^[+-]?\d+$/.test(s)) throw new Error(`${JSON.stringify(s)} is not an integer`)
      const v = BigInt(s), b = INT_RANGE[t]
      if (v < -(1n << (b - 1n)) || v >= 1n << (b - 1n)) throw new Error(`${s} out of range for ${t}`)
      return String(v)
    }
    case 'boolean':
      if (/^true$/i.test(s)) return true
      if (/^false$/i.test(s)) return false
      throw new Error(`${JSON.stringify(s)} is not a boolean`)
    case 'float': case 'double': {
      if (!FLOAT_RE.test(s)) throw new Error(`${JSON.stringify(s)} is not a number`)
      const v = Number(s)
      return t === 'float' ? canonF32(Math.fround(v)) : canonF64(v)
    }
    case 'date': {
      const v = parseDate(s)
      if (v === null) throw new Error(`${JSON.stringify(s)} is not a date YYYY-MM-DD`)
      return { date: String(v) }
    }
    case 'timestamp': case 'timestamp_ntz': {
      const ns = parseTs(s, { zone: t === 'timestamp' })
      if (ns === null) throw new Error(`${JSON.stringify(s)} is not a timestamp (ISO-8601 or YYYY-MM-DD HH:MM:SS[.ffffff])`)
      return ns % 1000n === 0n ? { ts_us: String(ns / 1000n) } : { ts_ns: String(ns) }
    }
    // binary: the protocol shows the bytes as characters of the string; taken as UTF-8
    case 'binary': return { hex: Buffer.from(s, 'utf8').toString('hex') }
  }
  throw new Error(`partition column of type ${X(t)}`)
}

// ---------------------------------------------------------------- action shapes (A3)
const KNOWN_ACTIONS = new Set(['add', 'remove', 'metaData', 'protocol', 'txn', 'commitInfo'])
const OTHER_ACTIONS = new Set(['cdc', 'domainMetadata', 'checkpointMetadata', 'sidecar'])
function strMap(v, what, out, required = true) {
  if (v === undefined || v === null) { if (required) out.push(`${what} missing`); return }
  if (!isObj(v)) { out.push(`${what} is ${short(X(v))}, not an object`); return }
  for (const [k, x] of Object.entries(v)) if (x !== null && !isStr(x)) out.push(`${what}.${k} is ${X(x)}, not a string`)
}
function needInt(v, what, out, required = true) {
  if (v === undefined || v === null) { if (required) out.push(`${what} missing`); return }
  if (!isInt(v)) out.push(`${what} is ${short(X(v))}, not an integer`)
}
function needBool(v, what, out, required = true) {
  if (v === undefined || v === null) { if (required) out.push(`${what} missing`); return }
  if (typeof v !== 'boolean') out.push(`${what} is ${short(X(v))}, not a boolean`)
}
function needStr(v, what, out, required = true) {
  if (v === undefined || v === null) { if (required) out.push(`${what} missing`); return }
  if (!isStr(v)) out.push(`${what} is ${short(X(v))}, not a string`)
}
function statsShape(text, out) {
  let st
  try { st = parseExact(text) } catch (e) { out.push(`stats is not JSON: ${e.message}`); return }
  if (!isObj(st)) { out.push('stats is not a JSON object'); return }
  needInt(st.numRecords, 'stats.numRecords', out, false)
  if (isInt(st.numRecords) && BigInt(st.numRecords.raw) < 0n) out.push('stats.numRecords is negative')
  for (const k of ['minValues', 'maxValues', 'nullCount']) if (st[k] !== undefined && !isObj(st[k])) out.push(`stats.${k} is not an object`)
}
// problems of one action's own fields (no table context needed)
function actionShape(kind, a, strict) {
  const out = []
  if (!isObj(a)) return [`${kind} is ${short(X(a))}, not an object`]
  switch (kind) {
    case 'add':
      needStr(a.path, 'path', out); if (a.path === '') out.push('path is empty')
      strMap(a.partitionValues, 'partitionValues', out)
      needInt(a.size, 'size', out); if (isInt(a.size) && BigInt(a.size.raw) < 0n) out.push('size is negative')
      needInt(a.modificationTime, 'modificationTime', out)
      needBool(a.dataChange, 'dataChange', out)
      needStr(a.stats, 'stats', out, strict)
      if (isStr(a.stats)) statsShape(a.stats, out)
      strMap(a.tags, 'tags', out, false)
      if (a.deletionVector != null) out.push('deletionVector needs the deletionVectors feature (3/7)')
      break
    case 'remove':
      needStr(a.path, 'path', out); if (a.path === '') out.push('path is empty')
      needInt(a.deletionTimestamp, 'deletionTimestamp', out, strict)
      needBool(a.dataChange, 'dataChange', out)
      needBool(a.extendedFileMetadata, 'extendedFileMetadata', out, false)
      if (a.extendedFileMetadata === true) { strMap(a.partitionValues, 'partitionValues', out); needInt(a.size, 'size', out) }
      break
    case 'txn':
      needStr(a.appId, 'appId', out); needInt(a.version, 'version', out); needInt(a.lastUpdated, 'lastUpdated', out, false)
      break
    case 'protocol':
      needInt(a.minReaderVersion, 'minReaderVersion', out); needInt(a.minWriterVersion, 'minWriterVersion', out)
      for (const f of ['readerFeatures', 'writerFeatures'])
        if (a[f] != null && !(Array.isArray(a[f]) && a[f].every(isStr))) out.push(`${f} is not a list of strings`)
      break
    case 'metaData': {
      needStr(a.id, 'id', out)
      if (!isObj(a.format)) out.push('format missing')
      else { needStr(a.format.provider, 'format.provider', out); strMap(a.format.options, 'format.options', out, false) }
      strMap(a.configuration, 'configuration', out)
      needInt(a.createdTime, 'createdTime', out, false)
      if (!Array.isArray(a.partitionColumns) || !a.partitionColumns.every(isStr)) out.push('partitionColumns is not a list of strings')
      needStr(a.schemaString, 'schemaString', out)
      if (isStr(a.schemaString)) {
        const { schema, problems } = parseSchema(a.schemaString, strict)
        out.push(...problems)
        if (schema && Array.isArray(a.partitionColumns)) {
          for (const c of a.partitionColumns) {
            const f = schema.fields.find(x => x.name === c)
            if (!f) out.push(`partition column ${JSON.stringify(c)} is not a schema column`)
            else if (!isStr(f.type)) out.push(`partition column ${c} is not of a primitive type`)
          }
          if (new Set(a.partitionColumns).size !== a.partitionColumns.length) out.push('partitionColumns names a column twice')
        }
      }
      break
    }
    case 'commitInfo': break
  }
  return out
}
// reconciliation key of a file action (A3: path + deletion vector id)
function fileKey(a) {
  const dv = a.deletionVector
  return isObj(dv) ? `${a.path}\u0000${dv.storageType}${dv.pathOrInlineDv}${dv.offset != null ? '@' + X(dv.offset) : ''}` : a.path
}

// ---------------------------------------------------------------- state and replay (A9)
const newState = () => ({ protocol: null, metaData: null, txns: new Map(), adds: new Map(), removes: new Map() })
function apply(state, kind, a) {
  if (!isObj(a)) return
  if (kind === 'protocol') state.protocol = a
  else if (kind === 'metaData') state.metaData = a
  else if (kind === 'txn') { if (isStr(a.appId)) state.txns.set(a.appId, a) }
  else if (kind === 'add' && isStr(a.path)) { const k = fileKey(a); state.adds.set(k, a); state.removes.delete(k) }
  else if (kind === 'remove' && isStr(a.path)) { const k = fileKey(a); state.adds.delete(k); state.removes.set(k, a) }
}
// "interval 1 week", "7 days", ... -> milliseconds (BigInt) or null
function parseInterval(s) {
  if (!isStr(s)) return null
  const t = s.trim().toLowerCase().replace(/^interval\s+/, '').split(/\s+/)
  if (t.length % 2) return null
  const unit = { week: 604800000n, day: 86400000n, hour: 3600000n, minute: 60000n, second: 1000n, millisecond: 1n }
  let ms = 0n
  for (let k = 0; k < t.length; k += 2) {
    const u = unit[t[k + 1].replace(/s$/, '')]
    if (!/^\d+$/.test(t[k]) || u === undefined) return null
    ms += BigInt(t[k]) * u
  }
  return ms
}

// ---------------------------------------------------------------- the log directory (A1)
const COMMIT_RE = /^(\d{20})\.json$/
const CKPT_RE = /^(\d{20})\.checkpoint\.parquet$/
const MULTI_RE = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/
const V2_RE = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/
const CRC_RE = /^(\d{20})\.crc$/
const COMPACT_RE = /^(\d{20})\.(\d{20})\.compacted\.json$/
function listLog(logDir, rep, strict) {
  const names = readdirSync(logDir).sort()
  const set = new Set(names)
  const commits = [], ckpts = [], hidden = []
  let sidecars = 0
  for (const nm of names) {
    let m
    if (nm.startsWith('.')) {
      const base = /^\.(.+)\.crc$/.exec(nm)
      if (base && set.has(base[1])) sidecars++
      else hidden.push(nm)
    } else if ((m = COMMIT_RE.exec(nm))) commits.push(BigInt(m[1]))
    else if ((m = CKPT_RE.exec(nm))) ckpts.push(BigInt(m[1]))
    else if ((m = MULTI_RE.exec(nm)) || (m = V2_RE.exec(nm))) {
      const msg = `${nm}: multi-part / V2 checkpoints are not checked (classic single-file only)`
      strict ? rep.fail(msg) : rep.note(msg)
    } else if (CRC_RE.test(nm) || COMPACT_RE.test(nm) || nm === '_last_checkpoint') { /* optional files (A1) */ }
    else rep.note(`unexpected entry in _delta_log: ${nm}`)
  }
  for (const h of hidden) rep.note(`hidden/temp file in _delta_log: ${h}`)
  if (sidecars) rep.note(`${sidecars} Hadoop .crc sidecar file(s) in _delta_log`)
  commits.sort(cmpBig); ckpts.sort(cmpBig)
  return { commits, ckpts }
}

// one commit file -> [{kind, a, line}] after checking its form; problems go to rep
function readCommit(file, ver, rep, opts) {
  const name = basename(file)
  const text = readFileSync(file, 'utf8')
  const actions = []
  if (!text.length) { rep.fail(`${name}: empty file`); return actions }
  if (!text.endsWith('\n')) rep.fail(`${name}: does not end with a newline`)
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  const seen = new Map()                  // reconciliation key -> line
  const dup = (key, what, ln) => {
    if (seen.has(key)) rep.fail(`${name}: ${what} on lines ${seen.get(key)} and ${ln} (A3: one action per key in a commit)`)
    else seen.set(key, ln)
  }
  let commitInfo = null
  lines.forEach((line, idx) => {
    const ln = idx + 1
    if (line === '') { rep.fail(`${name} line ${ln}: empty line`); return }
    let obj
    try { obj = parseExact(line) } catch (e) { rep.fail(`${name} line ${ln}: not JSON: ${e.message}`); return }
    if (!isObj(obj)) { rep.fail(`${name} line ${ln}: not a JSON object`); return }
    const keys = Object.keys(obj)
    if (keys.length !== 1) { rep.fail(`${name} line ${ln}: ${keys.length} keys (${keys.join(', ')}), an action line has exactly one`); return }
    const kind = keys[0], a = obj[kind]
    if (!KNOWN_ACTIONS.has(kind)) {
      const msg = `${name} line ${ln}: ${OTHER_ACTIONS.has(kind) ? 'action' : 'unknown action'} "${kind}" (not part of a 1/2 table)`
      opts.strict ? rep.fail(msg) : rep.note(msg)
      return
    }
    for (const p of actionShape(kind, a, opts.strict)) rep.fail(`${name} line ${ln}: ${kind}: ${p}`)
    if (!isObj(a)) return
    if (kind === 'metaData' || kind === 'protocol') dup(kind, `two ${kind} actions`, ln)
    else if (kind === 'txn' && isStr(a.appId)) dup('txn\u0000' + a.appId, `two txn actions for appId ${JSON.stringify(a.appId)}`, ln)
    else if ((kind === 'add' || kind === 'remove') && isStr(a.path)) dup('file\u0000' + fileKey(a), `two file actions (add/remove) for path ${JSON.stringify(a.path)}`, ln)
    else if (kind === 'commitInfo') commitInfo = a
    actions.push({ kind, a, line: ln })
  })
  if (ver === 0n) {
    for (const k of ['protocol', 'metaData']) if (!actions.some(x => x.kind === k)) rep.fail(`${name}: version 0 has no ${k} action`)
  }
  if (opts.strict) {
    if (!commitInfo) rep.fail(`${name}: no commitInfo`)
    else if (!isStr(commitInfo.engineInfo) || !commitInfo.engineInfo.startsWith('ingestd/'))
      rep.fail(`${name}: commitInfo.engineInfo is ${X(commitInfo.engineInfo)}, want "ingestd/..."`)
  }
  for (const { kind, a, line } of actions) {
    if (kind !== 'protocol') continue
    const desc = protoText(a)
    if (X(a.minReaderVersion) !== '1' || X(a.minWriterVersion) !== '2' || a.readerFeatures != null || a.writerFeatures != null) {
      const msg = `${name} line ${line}: protocol ${desc} (ingestd writes 1/2)`
      opts.strict ? rep.fail(msg) : rep.note(msg)
    }
  }
  return actions
}
const protoText = (p) => `${X(p.minReaderVersion)}/${X(p.minWriterVersion)}` +
  (p.readerFeatures != null ? ` readerFeatures ${X(p.readerFeatures)}` : '') + (p.writerFeatures != null ? ` writerFeatures ${X(p.writerFeatures)}` : '')

// ---------------------------------------------------------------- checkpoints (A8)
const ident = (s) => '"' + s.replace(/"/g, '""') + '"'
const DV = { storageType: 's', pathOrInlineDv: 's', offset: 'i32', sizeInBytes: 'i32', cardinality: 'i64', maxRowIndex: 'i64' }
const A8 = {
  txn: { appId: 's', version: 'i64', lastUpdated: 'i64' },
  add: { path: 's', partitionValues: 'map', size: 'i64', modificationTime: 'i64', dataChange: 'b', tags: 'map',
         deletionVector: DV, baseRowId: 'i64', defaultRowCommitVersion: 'i64', stats: 's' },
  remove: { path: 's', deletionTimestamp: 'i64', dataChange: 'b', extendedFileMetadata: 'b', partitionValues: 'map',
            size: 'i64', deletionVector: DV, baseRowId: 'i64', defaultRowCommitVersion: 'i64' },
  metaData: { id: 's', name: 's', description: 's', format: { provider: 's', options: 'map' }, schemaString: 's',
              partitionColumns: 'list', configuration: 'map', createdTime: 'i64' },
  protocol: { minReaderVersion: 'i32', minWriterVersion: 'i32', readerFeatures: 'list', writerFeatures: 'list' },
}
const A8_OPTIONAL_GROUPS = { domainMetadata: { domain: 's', configuration: 's', removed: 'b' } }
// Must be non-null inside a present struct (A8, from the Kernel's FULL_SCHEMA)
const A8_NONNULL = { add: ['path', 'partitionValues', 'size', 'modificationTime', 'dataChange'], remove: ['path', 'dataChange'],
  metaData: ['id', 'format', 'schemaString', 'partitionColumns', 'configuration'], protocol: ['minReaderVersion', 'minWriterVersion'],
  txn: ['appId', 'version'] }
// parquet_schema() rows (depth-first) -> tree
function schemaTree(rows) {
  let i = 0
  const node = () => {
    const r = rows[i++]
    const children = []
    for (let k = 0; k < Number(r.num_children ?? 0); k++) children.push(node())
    return { name: r.name, type: r.type, rep: r.repetition_type, ct: r.converted_type, lt: r.logical_type ?? '', children }
  }
  return node()
}
const isStringLeaf = (n) => n.type === 'BYTE_ARRAY' && (n.ct === 'UTF8' || /^String/.test(n.lt))
function checkShape(node, want, where, out, strict) {
  if (isObj(want)) {
    if (node.type) { out.push(`${where} is a ${node.type} leaf, want a group`); return }
    const names = node.children.map(c => c.name)
    for (const [k, w] of Object.entries(want)) {
      const c = node.children.find(x => x.name === k)
      if (!c) out.push(`${where}.${k} missing`)
      else checkShape(c, w, `${where}.${k}`, out, strict)
    }
    const extra = names.filter(k => !(k in want))
    if (extra.length) out.push({ soft: true, msg: `${where} has fields beyond A8: ${extra.join(', ')}` })
    if (strict && !extra.length && names.join() !== Object.keys(want).join()) out.push(`${where} fields in order ${names.join(',')}, A8 has ${Object.keys(want).join(',')}`)
    return
  }
  const ok = {
    s: () => isStringLeaf(node), i64: () => node.type === 'INT64', i32: () => node.type === 'INT32', b: () => node.type === 'BOOLEAN',
    map: () => !node.type && (node.ct === 'MAP' || /^Map/.test(node.lt)) && node.children.length === 1 && node.children[0].rep === 'REPEATED' &&
      node.children[0].children.length === 2 && isStringLeaf(node.children[0].children[0]) && node.children[0].children[0].rep === 'REQUIRED' &&
      isStringLeaf(node.children[0].children[1]),
    list: () => !node.type && (node.ct === 'LIST' || /^List/.test(node.lt)) && node.children.length === 1 && node.children[0].rep === 'REPEATED' &&
      node.children[0].children.length === 1 && isStringLeaf(node.children[0].children[0]),
  }[want]
  if (!ok()) {
    const got = node.type ? `${node.type}${node.ct ? ' ' + node.ct : ''}` : `group${node.ct ? ' ' + node.ct : ''} of ${node.children.length}`
    out.push(`${where}: ${got}, want ${{ s: 'BYTE_ARRAY STRING', i64: 'INT64', i32: 'INT32', b: 'BOOLEAN', map: 'MAP<string,string> (3-level, required key)', list: 'LIST<string> (3-level)' }[want]}`)
  }
}
// -> {rows, actions: [{kind, a}], tree, problems, softProblems}; throws when DuckDB cannot read it
async function readCheckpoint(file, strict) {
  const { conn } = await duckConn()
  const srows = (await conn.runAndReadAll(`SELECT name, type, repetition_type, num_children, converted_type, logical_type FROM parquet_schema(${sqlStr(file)})`)).getRowObjectsJson()
  const tree = schemaTree(srows)
  const problems = [], soft = []
  const shape = []
  for (const [g, want] of Object.entries({ ...A8, ...A8_OPTIONAL_GROUPS })) {
    const c = tree.children.find(x => x.name === g)
    if (!c) { if (g in A8) shape.push(`schema: no top-level group ${g}`); continue }
    checkShape(c, want, `schema ${g}`, shape, strict)
  }
  for (const p of shape) (isObj(p) ? (strict ? problems : soft) : problems).push(isObj(p) ? p.msg : p)
  const cols = tree.children.map(c => c.name)
  for (const c of cols) if (!(c in A8) && !(c in A8_OPTIONAL_GROUPS)) soft.push(`top-level column ${c} is not an A8 action`)
  if (cols.includes('commitInfo')) problems.push('schema has a commitInfo column (A8: never in checkpoints)')
  const actions = []
  let nrows = 0
  if (cols.length) {
    const r = await conn.runAndReadAll(`SELECT ${cols.map(c => `to_json(${ident(c)})`).join(', ')} FROM read_parquet(${sqlStr(file)}, hive_partitioning = false)`)
    const rows = r.getRows()
    nrows = rows.length
    rows.forEach((row, ri) => {
      const present = []
      row.forEach((v, ci) => { if (v !== null && v !== undefined) present.push(ci) })
      if (present.length !== 1) { problems.push(`row ${ri}: ${present.length} non-null actions (${present.map(ci => cols[ci]).join(', ') || 'none'}), want exactly 1`); return }
      const kind = cols[present[0]]
      let a
      try { a = parseExact(String(row[present[0]])) } catch (e) { problems.push(`row ${ri}: ${kind}: DuckDB's JSON unreadable: ${e.message}`); return }
      if (kind === 'commitInfo') { problems.push(`row ${ri}: commitInfo action`); return }
      if (!(kind in A8)) return
      for (const f of A8_NONNULL[kind]) if (a[f] == null) problems.push(`row ${ri}: ${kind}.${f} is null`)
      if (kind === 'metaData' && isObj(a.format) && a.format.provider == null) problems.push(`row ${ri}: metaData.format.provider is null`)
      actions.push({ kind, a, row: ri })
    })
  }
  // a reconciled state: one protocol, one metaData, one row per file key and per appId
  const count = { protocol: 0, metaData: 0 }, seen = new Set()
  for (const { kind, a, row } of actions) {
    if (kind in count) count[kind]++
    const key = (kind === 'add' || kind === 'remove') && isStr(a.path) ? 'file\u0000' + fileKey(a) : kind === 'txn' && isStr(a.appId) ? 'txn\u0000' + a.appId : null
    if (key === null) continue
    if (seen.has(key)) problems.push(`row ${row}: a second ${kind === 'txn' ? `txn row for appId ${JSON.stringify(a.appId)}` : `add/remove row for path ${JSON.stringify(a.path)}`}`)
    seen.add(key)
  }
  for (const k of Object.keys(count)) if (count[k] !== 1) problems.push(`${count[k]} ${k} rows, want 1`)
  return { rows: nrows, actions, problems, soft }
}
// differences between the JSON-replayed state and a checkpoint's actions
function compareCheckpoint(state, ck, ckMtimeMs) {
  const out = []
  const cs = newState()                    // (readCheckpoint reported duplicate rows)
  for (const { kind, a } of ck.actions) apply(cs, kind, a)
  // protocol
  const jp = state.protocol, cp = cs.protocol
  if (jp && cp) {
    const feat = (p, f) => (p[f] == null ? 'none' : X([...p[f]].sort()))
    for (const f of ['minReaderVersion', 'minWriterVersion']) if (intKey(jp[f]) !== intKey(cp[f])) out.push(`protocol.${f} ${X(cp[f])}, log ${X(jp[f])}`)
    for (const f of ['readerFeatures', 'writerFeatures']) if (feat(jp, f) !== feat(cp, f)) out.push(`protocol.${f} ${feat(cp, f)}, log ${feat(jp, f)}`)
  }
  // metaData
  const jm = state.metaData, cm = cs.metaData
  if (jm && cm) {
    for (const f of ['id', 'schemaString']) if (jm[f] !== cm[f]) out.push(`metaData.${f} ${short(X(cm[f]))}, log ${short(X(jm[f]))}`)
    if (X(jm.partitionColumns) !== X(cm.partitionColumns)) out.push(`metaData.partitionColumns ${X(cm.partitionColumns)}, log ${X(jm.partitionColumns)}`)
    if (mapKey(jm.configuration) !== mapKey(cm.configuration)) out.push(`metaData.configuration ${short(mapKey(cm.configuration))}, log ${short(mapKey(jm.configuration))}`)
    if (jm.format?.provider !== cm.format?.provider || mapKey(jm.format?.options) !== mapKey(cm.format?.options))
      out.push(`metaData.format ${short(X(cm.format))}, log ${short(X(jm.format))}`)
  }
  const conf = isObj(jm?.configuration) ? jm.configuration : {}
  // adds: the same set, the same fields.  Spark writes dataChange=false for every file
  // action of a checkpoint (its replay resets it); the protocol leaves it free, so false
  // or the logged value are both accepted.
  const statsOptional = conf['delta.checkpoint.writeStatsAsJson'] === 'false'
  for (const [k, j] of state.adds) {
    const c = cs.adds.get(k)
    const p = JSON.stringify(j.path)
    if (!c) { out.push(`live add ${p} missing`); continue }
    if (mapKey(j.partitionValues) !== mapKey(c.partitionValues)) out.push(`add ${p}: partitionValues ${mapKey(c.partitionValues)}, log ${mapKey(j.partitionValues)}`)
    for (const f of ['size', 'modificationTime']) if (intKey(j[f]) !== intKey(c[f])) out.push(`add ${p}: ${f} ${X(c[f])}, log ${X(j[f])}`)
    if (c.dataChange !== j.dataChange && c.dataChange !== false) out.push(`add ${p}: dataChange ${X(c.dataChange)}, log ${X(j.dataChange)}`)
    const js = j.stats ?? null, cst = c.stats ?? null
    if (js !== cst && !(cst === null && statsOptional)) out.push(`add ${p}: stats ${short(X(cst))}, log ${short(X(js))}`)
  }
  for (const [k, c] of cs.adds) if (!state.adds.has(k)) out.push(`add ${JSON.stringify(c.path)} is not live in the log${state.removes.has(k) ? ' (removed)' : ''}`)
  // removes: unexpired tombstones must be there (A8); expired ones may be dropped (A10)
  const keep = parseInterval(conf['delta.deletedFileRetentionDuration'] ?? 'interval 1 week')
  for (const [k, j] of state.removes) {
    const c = cs.removes.get(k)
    const p = JSON.stringify(j.path)
    if (!c) {
      const expired = keep !== null && isInt(j.deletionTimestamp) && BigInt(j.deletionTimestamp.raw) + keep < ckMtimeMs
      if (!expired) out.push(`tombstone ${p} missing (deletionTimestamp ${X(j.deletionTimestamp)} not expired)`)
      continue
    }
    if (intKey(j.deletionTimestamp ?? null) !== intKey(c.deletionTimestamp ?? null)) out.push(`remove ${p}: deletionTimestamp ${X(c.deletionTimestamp)}, log ${X(j.deletionTimestamp)}`)
    if (c.dataChange !== j.dataChange && c.dataChange !== false) out.push(`remove ${p}: dataChange ${X(c.dataChange)}, log ${X(j.dataChange)}`)
  }
  for (const [k, c] of cs.removes) if (!state.removes.has(k)) out.push(`remove ${JSON.stringify(c.path)} is not a tombstone in the log${state.adds.has(k) ? ' (the file is live)' : ''}`)
  // txns; with delta.setTransactionRetentionDuration set, old ones may be dropped
  const txnKeep = parseInterval(conf['delta.setTransactionRetentionDuration'])
  for (const [app, j] of state.txns) {
    const c = cs.txns.get(app)
    if (!c) {
      const expired = txnKeep !== null && isInt(j.lastUpdated) && BigInt(j.lastUpdated.raw) + txnKeep < ckMtimeMs
      if (!expired) out.push(`txn ${JSON.stringify(app)} (version ${X(j.version)}) missing`)
    } else if (intKey(j.version) !== intKey(c.version)) out.push(`txn ${JSON.stringify(app)}: version ${X(c.version)}, log ${X(j.version)}`)
  }
  for (const [app, c] of cs.txns) if (!state.txns.has(app)) out.push(`txn ${JSON.stringify(app)} (version ${X(c.version)}) is not in the log`)
  return out
}

// ---------------------------------------------------------------- stats (A5)
// walk minValues / maxValues / nullCount along the schema -> {leaves, problems}
function statsLeaves(stats, fields, partCols) {
  const leaves = new Map(), problems = []
  const visit = (which, obj, flds, path) => {
    for (const k of Object.keys(obj)) {
      const f = flds.find(x => x.name === k)
      const p = [...path, k]
      if (!f) { problems.push(`stats.${which} names ${p.join('.')}, not a column of the schema`); continue }
      if (!path.length && partCols.includes(k)) { problems.push(`stats.${which} has partition column ${k} (A5: excluded)`); continue }
      const v = obj[k]
      if (isStructT(f.type) && isObj(v)) { visit(which, v, f.type.fields, p); continue }
      const key = J(p)
      if (!leaves.has(key)) leaves.set(key, { path: p, type: f.type })
      leaves.get(key)[which] = v
    }
  }
  for (const which of ['minValues', 'maxValues', 'nullCount']) if (isObj(stats[which])) visit(which, stats[which], fields, [])
  for (const l of leaves.values()) {
    const name = l.path.join('.')
    if (l.nullCount !== undefined && !(isInt(l.nullCount) && BigInt(l.nullCount.raw) >= 0n)) problems.push(`stats.nullCount.${name} is ${short(X(l.nullCount))}, not a count`)
    for (const which of ['minValues', 'maxValues']) {
      if (l[which] === undefined || l[which] === null) continue
      try { l[which + 'P'] = statValue(l.type, l[which]) } catch (e) { problems.push(`stats.${which}.${name}: ${e.message}`) }
    }
  }
  return { leaves: [...leaves.values()], problems }
}
// a stats min/max as written -> comparable value; throws when it has the wrong form
function statValue(t, v) {
  const bad = () => { throw new Error(`${short(X(v))} is not a ${isStr(t) ? t : t.type} statistic`) }
  if (!isStr(t)) bad()
  if (DEC_RE.test(t)) { if (!(v instanceof JNum)) bad(); return parseDecText(v.raw) }
  switch (t) {
    case 'byte': case 'short': case 'integer': case 'long': if (!isInt(v)) bad(); return BigInt(v.raw)
    case 'float': case 'double':
      if (v instanceof JNum) return Number(v.raw)
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v)
      bad()
      break
    case 'date': { const d = isStr(v) ? parseDate(v) : null; if (d === null) bad(); return d }
    case 'timestamp': case 'timestamp_ntz': {
      const ns = isStr(v) ? parseTs(v, { legacy: false }) : null
      if (ns === null) bad()
      if (ns % 1000000n !== 0n) throw new Error(`${v} has more than millisecond precision (A5: truncated to ms)`)
      return ns / 1000000n
    }
    case 'string': if (!isStr(v)) bad(); return v
  }
  return { unchecked: t }          // boolean/binary: Spark writes none; not compared
}
const STAT_SQL = (t, e) => {
  if (DEC_RE.test(t) || ['byte', 'short', 'integer', 'long'].includes(t)) return [`CAST(min(${e}) AS VARCHAR)`, `CAST(max(${e}) AS VARCHAR)`]
  if (t === 'float' || t === 'double') return [`min(${e})`, `max(${e})`]
  if (t === 'date') return [`(min(${e}) - DATE '1970-01-01')`, `(max(${e}) - DATE '1970-01-01')`]
  if (t === 'timestamp' || t === 'timestamp_ntz') return [`epoch_us(min(${e}))`, `epoch_us(max(${e}))`]   // us: ns overflows outside 1677-2262
  if (t === 'string') return [`min(encode(${e}))`, `max(encode(${e}))`]
  return null
}
const cpLen = (s) => { let n = 0; for (const _ of s) n++; return n }
// compare one min or max; returns a problem or null
function statMismatch(t, which, stat, real) {
  const isMin = which === 'minValues'
  if (real === null) return `stat ${X(stat)} but the column has no non-null value`
  if (DEC_RE.test(t)) { const r = parseDecText(real); return decEq(stat, r) ? null : `real ${real}` }
  switch (t) {
    case 'byte': case 'short': case 'integer': case 'long': return BigInt(real) === stat ? null : `real ${real}`
    case 'float': { const r = Number(real), s = Math.fround(stat); return (r === s || (Number.isNaN(r) && Number.isNaN(s))) ? null : `real ${r}` }
    case 'double': { const r = Number(real); return (r === stat || (Number.isNaN(r) && Number.isNaN(stat))) ? null : `real ${r}` }
    case 'date': return Number(real) === stat ? null : `real day ${real}`
    case 'timestamp': case 'timestamp_ntz': {
      const ms = floorDiv(BigInt(real), 1000n)    // real is in us; A5: truncated down to ms
      return ms === stat ? null : `real ${new Date(Number(ms)).toISOString()} (${BigInt(real)} us), want its ms floor`
    }
    case 'string': {
      const rb = Buffer.from(real.bytes), sb = Buffer.from(stat, 'utf8')
      const rs = rb.toString('utf8')
      const c = Buffer.compare(sb, rb)
      if (isMin ? c > 0 : c < 0) return `${JSON.stringify(short(stat, 60))} is not ${isMin ? 'a lower' : 'an upper'} bound of real ${JSON.stringify(short(rs, 60))}`
      if (c !== 0 && cpLen(rs) <= 32 && !stat.endsWith('\u{10FFFF}')) return `real ${JSON.stringify(rs)} (<= 32 characters: the stat must equal it)`
      return null
    }
  }
  return null
}

// ---------------------------------------------------------------- data files
let tmpLinks = null
// DuckDB globs read_parquet paths: a name with glob characters is read through a symlink
function duckPath(p) {
  if (!/[*?[\]{}]/.test(p)) return p
  tmpLinks ??= mkdtempSync(join(tmpdir(), 'deltacheck.'))
  const l = join(tmpLinks, `f${readdirSync(tmpLinks).length}.parquet`)
  symlinkSync(resolve(p), l)
  return l
}
// logged add.path -> local file (A4: the path is URI-encoded once); throws
function localPath(table, logged) {
  if (/^file:/i.test(logged)) return fileURLToPath(logged)
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(logged)) throw new Error('not a local path')
  const d = decodeURIComponent(logged)
  return d.startsWith('/') ? d : join(table, d)
}
// leaf path present in the file's schema tree (structs only)?
function hasLeaf(tree, path) {
  let n = tree
  for (const k of path) { n = n.children.find(c => c.name === k); if (!n) return false }
  return true
}

async function checkFile(ctx, add, rep) {
  const { table, opts, schema, partCols, descs } = ctx
  const p = JSON.stringify(add.path)
  let file
  try { file = localPath(table, add.path) } catch (e) { rep.fail(`add ${p}: path cannot be decoded: ${e.message}`); return null }
  let st
  try { st = statSync(file) } catch { rep.fail(`add ${p}: no file ${relative(table, file) || file}`); return null }
  if (!st.isFile()) { rep.fail(`add ${p}: ${file} is not a file`); return null }
  if (String(st.size) !== intKey(add.size)) rep.fail(`add ${p}: size ${X(add.size)}, file has ${st.size} bytes`)
  const { conn } = await duckConn()
  const dp = sqlStr(duckPath(file))
  let tree
  try {
    tree = schemaTree((await conn.runAndReadAll(`SELECT name, type, repetition_type, num_children, converted_type, logical_type FROM parquet_schema(${dp})`)).getRowObjectsJson())
  } catch (e) { rep.fail(`add ${p}: DuckDB cannot read the Parquet footer: ${String(e.message).split('\n')[0]}`); return null }
  const top = tree.children.map(c => c.name)
  for (const c of partCols) if (top.some(n => n.toLowerCase() === c.toLowerCase())) rep.fail(`add ${p}: partition column ${c} is stored in the file (A7)`)
  // stats: one aggregate query
  let stats = null, leaves = []
  if (isStr(add.stats)) {
    try { stats = parseExact(add.stats) } catch { stats = null }
    if (isObj(stats)) leaves = statsLeaves(stats, schema.fields, partCols).leaves
  }
  const aggs = ['CAST(count(*) AS VARCHAR)']
  const slots = []
  for (const l of leaves) {
    if (!hasLeaf(tree, l.path)) { slots.push(null); continue }
    const e = l.path.slice(1).reduce((acc, k) => `struct_extract(${acc}, ${sqlStr(k)})`, ident(l.path[0]))
    const mm = isStr(l.type) ? STAT_SQL(l.type, e) : null
    slots.push({ at: aggs.length, mm: !!mm })
    aggs.push(`CAST(count(*) - count(${e}) AS VARCHAR)`)
    if (mm) aggs.push(...mm)
  }
  let res
  try { res = (await conn.runAndReadAll(`SELECT ${aggs.join(', ')} FROM read_parquet(${dp}, hive_partitioning = false)`)).getRows()[0] }
  catch (e) { rep.fail(`add ${p}: DuckDB cannot read the file: ${String(e.message).split('\n')[0]}`); return null }
  const n = BigInt(res[0])
  if (isObj(stats)) {
    if (isInt(stats.numRecords)) ctx.statsChecked++
    if (isInt(stats.numRecords) && BigInt(stats.numRecords.raw) !== n) rep.fail(`add ${p}: stats.numRecords ${stats.numRecords.raw}, file has ${n} rows`)
    leaves.forEach((l, i) => {
      const name = l.path.join('.')
      const s = slots[i]
      const nulls = s ? BigInt(res[s.at]) : n
      if (isInt(l.nullCount)) ctx.statsChecked++
      if (isInt(l.nullCount) && BigInt(l.nullCount.raw) !== nulls) rep.fail(`add ${p}: stats.nullCount.${name} ${l.nullCount.raw}, file has ${nulls} null(s)`)
      for (const [which, k] of [['minValues', 1], ['maxValues', 2]]) {
        const stat = l[which + 'P']
        if (stat === undefined || (isObj(stat) && 'unchecked' in stat)) continue
        const real = s && s.mm ? res[s.at + k] : null
        const bad = statMismatch(l.type, which, stat, real)
        ctx.statsChecked++
        if (bad) rep.fail(`add ${p}: stats.${which}.${name} ${short(X(l[which]), 60)}: ${bad}`)
      }
    })
  }
  // rows for --expect
  let rows = null
  if (ctx.expect) {
    const r = await conn.runAndReadAll(`SELECT * FROM read_parquet(${dp}, hive_partitioning = false)`)
    const names = r.columnNames()
    const pv = {}
    for (const c of partCols) {
      const f = schema.fields.find(x => x.name === c)
      try { pv[c] = partValue(isObj(add.partitionValues) ? add.partitionValues[c] ?? null : null, f.type) } catch (e) { pv[c] = { bad_partition_value: e.message } }
    }
    const plan = ctx.expect.columns.map(c => {
      if (partCols.includes(c)) return { part: c }
      let i = names.indexOf(c)
      if (i < 0) i = names.findIndex(x => x.toLowerCase() === c.toLowerCase())
      return { col: i, desc: descs.get(c) }
    })
    rows = r.getRows().map(row => plan.map(pl => pl.part !== undefined ? pv[pl.part]
      : !pl.desc ? { not_in_schema: true } : pl.col < 0 ? null : fromDuck(pl.desc, row[pl.col])))
  }
  return { rows: Number(n), file, rowsOut: rows }
}

// ---------------------------------------------------------------- main
async function main(argv) {
  const opts = { expect: null, noData: false, strict: false, json: false, maxDiffs: 5 }
  const pos = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--expect') opts.expect = argv[++i]
    else if (a === '--no-data') opts.noData = true
    else if (a === '--strict') opts.strict = true
    else if (a === '--json') opts.json = true
    else if (a === '--max-diffs') { opts.maxDiffs = Number(argv[++i]); if (!Number.isInteger(opts.maxDiffs) || opts.maxDiffs < 0) { console.error(USAGE); return 2 } }
    else if (a === '-h' || a === '--help') { console.log(USAGE); return 0 }
    else if (a.startsWith('--')) { console.error(`deltacheck: unknown option ${a}\n${USAGE}`); return 2 }
    else pos.push(a)
  }
  if (pos.length !== 1 || (opts.expect === undefined)) { console.error(USAGE); return 2 }
  if (opts.expect && opts.noData) { console.error(`deltacheck: --expect needs the data files (drop --no-data)\n${USAGE}`); return 2 }
  const table = resolve(pos[0])
  if (!existsSync(table) || !statSync(table).isDirectory()) { console.error(`deltacheck: ${pos[0]}: not a directory`); return 2 }
  let expect = null
  if (opts.expect) {
    try {
      expect = JSON.parse(readFileSync(opts.expect, 'utf8'))
      if (!Array.isArray(expect.columns) || !expect.columns.every(isStr) || !Array.isArray(expect.rows)) throw new Error('needs "columns" (strings) and "rows"')
    } catch (e) { console.error(`deltacheck: ${opts.expect}: ${e.message}`); return 2 }
  }
  const out = opts.json ? (s) => process.stderr.write(s + '\n') : (s) => process.stdout.write(s + '\n')
  const rep = new Report(out)
  const timing = {}
  const clock = (k, t0) => { timing[k] = Math.round(performance.now() - t0) }
  const logDir = join(table, '_delta_log')
  const summary = { version: null, num_files: 0, num_rows: null, size_bytes: 0n, txn: [], partition_columns: [] }
  const finish = () => {
    const s = `{"version":${summary.version ?? 'null'},"num_files":${summary.num_files},"num_rows":${summary.num_rows ?? 'null'},` +
      `"size_bytes":${summary.size_bytes},"txn":{${summary.txn.map(([k, v]) => JSON.stringify(k) + ':' + v).join(',')}},` +
      `"partition_columns":${JSON.stringify(summary.partition_columns)}}`
    out(`NOTE timing ms: ${Object.entries(timing).map(([k, v]) => `${k} ${v}`).join(', ')}`)
    process.stdout.write(s + '\n')
    if (tmpLinks) rmSync(tmpLinks, { recursive: true, force: true })
    return rep.fails ? 1 : 0
  }

  // ---- 1. log
  let t0 = performance.now()
  rep.begin('log')
  if (!existsSync(logDir) || !statSync(logDir).isDirectory()) { rep.fail('no _delta_log directory'); rep.end(); return finish() }
  const { commits, ckpts } = listLog(logDir, rep, opts.strict)
  const commitSet = new Set(commits.map(String))
  const first = commits[0], last = commits[commits.length - 1]
  if (!commits.length) rep.fail('no commit files (<20 digits>.json)')
  let gapAt = null                                  // first version missing after `first`
  for (let k = 1; k < commits.length; k++) {
    if (commits[k] !== commits[k - 1] + 1n) {
      rep.fail(`versions not contiguous: ${vname(commits[k - 1])}.json is followed by ${vname(commits[k])}.json`)
      gapAt ??= commits[k - 1] + 1n
    }
  }
  if (commits.length && first > 0n && !ckpts.some(c => c >= first - 1n))
    rep.fail(`earliest commit is ${vname(first)}.json and no checkpoint covers versions 0..${first - 1n}`)
  for (const c of ckpts) if (commits.length && c > last) rep.fail(`checkpoint ${vname(c)} is newer than the newest commit ${vname(last)}`)
  const parsed = new Map()                          // version string -> actions
  let protocolSeen = null
  for (const v of commits) {
    const acts = readCommit(join(logDir, `${vname(v)}.json`), v, rep, opts)
    parsed.set(String(v), acts)
    for (const x of acts) if (x.kind === 'protocol') protocolSeen = x.a
  }
  clock('log', t0)
  rep.end(`${commits.length} commit(s), versions ${commits.length ? `${first}..${last}` : 'none'}` +
          `${protocolSeen ? `, protocol ${protoText(protocolSeen)}` : ''}, ${ckpts.length} checkpoint(s)`)

  // ---- 2. checkpoints: each against the JSON replay 0..v; _last_checkpoint
  t0 = performance.now()
  rep.begin('checkpoints')
  const ckCache = new Map()
  const loadCk = async (v) => {
    if (!ckCache.has(String(v))) {
      const file = join(logDir, `${vname(v)}.checkpoint.parquet`)
      let r
      try { r = await readCheckpoint(file, opts.strict); r.mtimeMs = BigInt(Math.floor(statSync(file).mtimeMs)); r.sizeBytes = statSync(file).size }
      catch (e) { r = { error: String(e.message ?? e).split('\n')[0] } }
      ckCache.set(String(v), r)
    }
    return ckCache.get(String(v))
  }
  const ckSet = new Set(ckpts.map(String))
  const fromZero = commits.length && first === 0n
  const prefixEnd = fromZero ? (gapAt ?? last + 1n) - 1n : -1n      // JSON 0..prefixEnd all present
  let compared = 0
  const jsonState = newState()
  if (fromZero) {
    for (let v = 0n; v <= prefixEnd; v++) {
      for (const { kind, a } of parsed.get(String(v))) apply(jsonState, kind, a)
      if (!ckSet.has(String(v))) continue
      const ck = await loadCk(v)
      if (ck.error) continue
      for (const d of compareCheckpoint(jsonState, ck, ck.mtimeMs)) rep.fail(`${vname(v)}.checkpoint.parquet: ${d} (vs JSON replay 0..${v})`)
      compared++
    }
  }
  let ckRows = 0
  for (const c of ckpts) {
    const ck = await loadCk(c)
    const nm = `${vname(c)}.checkpoint.parquet`
    if (ck.error) { rep.fail(`${nm}: DuckDB cannot read it: ${ck.error}`); continue }
    ckRows += ck.rows
    for (const p of ck.problems) rep.fail(`${nm}: ${p}`)
    for (const p of ck.soft) rep.note(`${nm}: ${p}`)
    if (!(fromZero && c <= prefixEnd)) rep.note(`${nm}: JSON commits 0..${c} are not all present, content not compared with a replay`)
  }
  const lcFile = join(logDir, '_last_checkpoint')
  let lastCk = null
  if (existsSync(lcFile)) {
    let lc = null
    try { lc = parseExact(readFileSync(lcFile, 'utf8')); if (!isObj(lc)) throw new Error('not a JSON object') } catch (e) { rep.fail(`_last_checkpoint is not valid JSON: ${e.message}`); lc = null }
    if (lc) {
      const probs = []
      needInt(lc.version, 'version', probs); needInt(lc.size, 'size', probs)
      for (const p of probs) rep.fail(`_last_checkpoint: ${p}`)
      if (lc.parts != null) rep.note('_last_checkpoint names a multi-part checkpoint (not checked)')
      else if (isInt(lc.version)) {
        const v = BigInt(lc.version.raw)
        if (!ckSet.has(String(v))) rep.fail(`_last_checkpoint: version ${lc.version.raw} but there is no ${vname(v)}.checkpoint.parquet`)
        else {
          const ck = await loadCk(v)
          if (!ck.error) {
            lastCk = v
            if (isInt(lc.size) && BigInt(lc.size.raw) !== BigInt(ck.rows)) rep.fail(`_last_checkpoint: size ${lc.size.raw}, the checkpoint has ${ck.rows} rows`)
            if (isInt(lc.sizeInBytes) && BigInt(lc.sizeInBytes.raw) !== BigInt(ck.sizeBytes)) rep.fail(`_last_checkpoint: sizeInBytes ${lc.sizeInBytes.raw}, the file has ${ck.sizeBytes}`)
            const nAdds = ck.actions.filter(x => x.kind === 'add').length
            if (isInt(lc.numOfAddFiles) && BigInt(lc.numOfAddFiles.raw) !== BigInt(nAdds)) rep.fail(`_last_checkpoint: numOfAddFiles ${lc.numOfAddFiles.raw}, the checkpoint has ${nAdds} add rows`)
          }
          const newest = ckpts[ckpts.length - 1]
          if (v !== newest) rep.note(`_last_checkpoint names version ${v}, the newest checkpoint is ${newest}`)
        }
      }
    }
  } else if (ckpts.length) (opts.strict ? rep.fail.bind(rep) : rep.note.bind(rep))('checkpoints exist but there is no _last_checkpoint')
  clock('checkpoints', t0)
  rep.end(ckpts.length ? `${ckpts.length} checkpoint(s), ${ckRows} row(s), ${compared} compared with the JSON replay` +
          `${lastCk !== null ? `, _last_checkpoint -> ${lastCk}` : ''}` : 'none')

  // ---- 3. snapshot: newest usable checkpoint + later commits (A9)
  t0 = performance.now()
  rep.begin('snapshot')
  let state = null, base = null
  const tailFrom = (c) => { for (let v = c + 1n; v <= (commits.length ? last : c); v++) if (!commitSet.has(String(v))) return false; return true }
  for (const c of [...ckpts].reverse()) {
    const ck = await loadCk(c)
    if (ck.error || !tailFrom(c)) continue
    state = newState()
    for (const { kind, a } of ck.actions) apply(state, kind, a)
    base = c
    break
  }
  let version = null
  if (state) {
    for (let v = base + 1n; commits.length && v <= last; v++) for (const { kind, a } of parsed.get(String(v))) apply(state, kind, a)
    version = commits.length && last > base ? last : base
  } else if (fromZero && gapAt === null) { state = jsonState; version = last }
  if (!state) { rep.fail('no checkpoint + contiguous commits to reconstruct the table from'); rep.end(); return finish() }
  summary.version = version
  let schema = null, partCols = []
  if (!state.protocol) rep.fail('no protocol action')
  if (!isObj(state.metaData)) rep.fail('no metaData action')
  else {
    const md = state.metaData
    partCols = Array.isArray(md.partitionColumns) ? md.partitionColumns.filter(isStr) : []
    if (isStr(md.schemaString)) schema = parseSchema(md.schemaString, opts.strict).schema
    if (!schema) rep.fail('metaData.schemaString is not a valid schema')
    if (md.format?.provider !== 'parquet') rep.fail(`metaData.format.provider is ${X(md.format?.provider)}, want "parquet"`)
  }
  summary.partition_columns = partCols
  const live = [...state.adds.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  let statRows = 0n, allStats = true
  for (const add of live) {
    const p = JSON.stringify(add.path)
    summary.num_files++
    if (isInt(add.size)) summary.size_bytes += BigInt(add.size.raw)
    if (!isObj(add.partitionValues)) continue
    const keys = Object.keys(add.partitionValues)
    for (const c of partCols) if (!keys.includes(c)) rep.fail(`add ${p}: partitionValues has no value for partition column ${c}`)
    for (const k of keys) if (!partCols.includes(k)) rep.fail(`add ${p}: partitionValues names ${k}, not a partition column`)
    if (schema) for (const c of partCols) {
      const f = schema.fields.find(x => x.name === c)
      if (f && keys.includes(c)) { try { partValue(add.partitionValues[c], f.type) } catch (e) { rep.fail(`add ${p}: partition value ${c}: ${e.message}`) } }
    }
    try { localPath(table, add.path) } catch (e) { rep.fail(`add ${p}: path cannot be decoded: ${e.message}`) }
    if (opts.strict) {
      const dirs = add.path.split('/').slice(0, -1)
      for (const d of dirs) if (d.startsWith('.') || (d.startsWith('_') && !d.includes('='))) rep.fail(`add ${p}: directory ${d} is hidden from readers (A1)`)
    }
    let st = null
    if (isStr(add.stats)) { try { st = parseExact(add.stats) } catch { st = null } }
    if (isObj(st) && isInt(st.numRecords)) statRows += BigInt(st.numRecords.raw); else allStats = false
    if (isObj(st) && schema) for (const pr of statsLeaves(st, schema.fields, partCols).problems) rep.fail(`add ${p}: ${pr}`)
  }
  for (const [app, t] of [...state.txns].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) summary.txn.push([app, isInt(t.version) ? t.version.raw : 'null'])
  if (allStats) summary.num_rows = statRows
  clock('snapshot', t0)
  rep.end(`version ${version} from ${base !== null ? `checkpoint ${base} + ${commits.length && last > base ? last - base : 0n} commit(s)` : `commits 0..${last}`}; ` +
          `${live.length} live file(s), ${state.removes.size} tombstone(s), ${state.txns.size} txn(s), partition columns ${JSON.stringify(partCols)}`)

  // ---- 4. data files and 5. rows
  if (opts.noData) return finish()
  t0 = performance.now()
  rep.begin('data')
  const descs = new Map((schema?.fields ?? []).map(f => [f.name, deltaDesc(f.name, f.type)]))
  const ctx = { table, opts, schema: schema ?? { fields: [] }, partCols, descs, expect, statsChecked: 0 }
  let rowsCounted = 0n, readOk = 0
  const gotRows = []
  const dirs = new Set()
  const livePaths = new Set()
  for (const add of live) {
    const r = await checkFile(ctx, add, rep)
    if (!r) continue
    readOk++
    rowsCounted += BigInt(r.rows)
    dirs.add(dirname(r.file)); livePaths.add(r.file)
    if (r.rowsOut) for (const row of r.rowsOut) gotRows.push(J(row))
  }
  // remarks about what sits next to the live files: temp files, files no add names
  let orphans = 0
  for (const d of dirs) {
    for (const nm of readdirSync(d)) {
      const f = join(d, nm)
      if (nm.startsWith('.')) { if (!/\.crc$/.test(nm)) rep.note(`hidden/temp file ${relative(table, f)}`) }
      else if (nm.endsWith('.parquet') && !livePaths.has(f)) orphans++
    }
  }
  if (orphans) rep.note(`${orphans} Parquet file(s) next to the live files are not in the snapshot (tombstones or orphans)`)
  if (readOk === live.length) summary.num_rows = rowsCounted
  clock('data', t0)
  rep.end(`${readOk} file(s) read, ${rowsCounted} row(s); sizes and schemas agree, ${ctx.statsChecked} stats value(s) checked`)

  if (expect) {
    rep.begin('rows')
    const schemaNames = (schema?.fields ?? []).map(f => f.name)
    for (const c of expect.columns) if (!schemaNames.includes(c)) rep.fail(`expect column ${JSON.stringify(c)} is not a table column`)
    if (J(expect.columns) !== J(schemaNames)) rep.note(`expect columns ${J(expect.columns)}, table schema ${J(schemaNames)}`)
    const want = expect.rows.map(r => J(r)).sort()
    gotRows.sort()
    const missing = [], extra = []
    let i = 0, j = 0
    while (i < want.length || j < gotRows.length) {
      if (j >= gotRows.length || (i < want.length && want[i] < gotRows[j])) missing.push(want[i++])
      else if (i >= want.length || gotRows[j] < want[i]) extra.push(gotRows[j++])
      else { i++; j++ }
    }
    const show = (list, what) => {
      const counts = new Map()
      for (const r of list) counts.set(r, (counts.get(r) ?? 0) + 1)
      let k = 0
      for (const [r, n] of counts) { if (k++ >= opts.maxDiffs) break; rep.fail(`${what} row${n > 1 ? ` (x${n})` : ''}: ${short(r, 400)}`) }
    }
    if (missing.length || extra.length) {
      rep.fail(`${want.length} expected row(s), ${gotRows.length} in the table: ${missing.length} missing, ${extra.length} unexpected`)
      show(missing, 'missing'); show(extra, 'unexpected')
    }
    rep.end(`${gotRows.length} row(s) equal the ${want.length} expected (as a multiset)`)
  }
  return finish()
}

main(process.argv.slice(2)).then(
  (rc) => { process.exitCode = rc },
  (e) => { console.error(`deltacheck: ${e?.stack ?? e}`); process.exitCode = 1 })
