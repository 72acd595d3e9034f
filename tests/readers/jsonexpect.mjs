#!/usr/bin/env node
// jsonexpect - the rows a table must hold after ingesting NDJSON files, computed in
// JavaScript from the conversion contract (design.md "bad records" + the rules below),
// never from ingestd's C decoder, so the two can judge each other.
//
//   node jsonexpect.mjs --schema 'id=long not null,ts=timestamp,amount=decimal(12,2),...'
//        [--rescued-column NAME [--rescue-unknown]] [--epoch-unit s|ms|us] [--case-sensitive]
//        [--partition-by COL[,COL]] [--pattern GLOB] [--max-line-size BYTES]
//        [--bad-out FILE] [--out FILE] FILE_OR_DIR...         > expect.json
//   node jsonexpect.mjs --selftest                              (TAP)
//
// Output: canonical rows {"columns":[schema order, rescued column last],"rows":[[...]]}
// (form: pqcheck.mjs's header) for every good line, ready for deltacheck.mjs --expect.
// --bad-out FILE: one line per bad record {"file","line","reason"[,"column"]}; "file" is
// the path relative to the DIR argument it was found under (a FILE argument: as given),
// "line" counts every line from 1 (blank ones too).  A summary goes to stderr.
// Directories are walked recursively, names sorted; only *.json / *.ndjson unless
// --pattern (fnmatch on the file name).  .gz is gunzipped, .zst unzstd'ed (fzstd).
//
// Rules (one JSON object per line):
//   lines    split at \n; one trailing \r dropped; lines of only spaces/tabs skipped;
//            a UTF-8 BOM is dropped at the start of a file only; longer than
//            --max-line-size bytes (default 16MiB, \r\n excluded) -> bad line_too_long;
//            invalid UTF-8 anywhere in the line -> bad invalid_utf8; not strict JSON
//            (RFC 8259: no NaN, no leading zeros, no trailing commas) -> bad not_json;
//            JSON but no object -> bad not_object; a \u escape of half a surrogate pair
//            anywhere (key, value, nested) -> bad lone_surrogate (no UTF-8 exists for it).
//   keys     matched to columns after unescaping, ignoring ASCII/Unicode case (as Spark;
//            --case-sensitive: exactly); a repeated key (same column, or same key): the
//            last one wins (earlier ones are ignored completely); unknown keys are ignored
//            (--rescue-unknown: kept in the rescued column, as with evolution = rescue).
//   null     JSON null or a missing key -> null; in a `not null` column -> bad not_null.
//   long/int/short/byte  JSON integer literal only, range-checked (overflow; 1.0, 1e3,
//            "12" -> not_integer).
//   double   any JSON number (Number(), correctly rounded; tiny ones become 0), but one
//            that rounds to +-Infinity -> overflow;
//   float    Math.fround of that double, the same overflow rule.
//   decimal(p,s)  JSON number (exponent allowed) or JSON string holding a plain decimal
//            -?D+(.D+)? (no '+', no exponent, leading zeros allowed).  Fraction digits as
//            written, minus the exponent, more than s -> decimal_scale (12.500 and 1.000e0
//            have 3: no rounding, no trimming; 1.5e-1 has 2); more than p-s integer digits
//            (leading zeros ignored) -> decimal_precision.  Exact: BigInt from the text.
//   boolean  true / false only.
//   string   a JSON string (decoded), a number / true / false -> its literal text, an object / array -> its exact source
//            text (bytes of the line, untouched).
//   binary   standard base64 (RFC 4648 alphabet) in a JSON string; padding optional but
//            correct when there; leftover bits ignored ("YR" = 61) -> else not_base64.
//   date     "YYYY-MM-DD", a real calendar date, year 0001-9999 -> days since 1970-01-01.
//   timestamp  string, year 0001-9999 as written: "YYYY-MM-DD" (midnight UTC) or
//            "YYYY-MM-DD(T| )HH:MM[:SS[.f{1,9}]]" then optional zone Z | ±HH:MM | ±HHMM | ±HH (offset hours 0-23, minutes 0-59;
//            none = UTC); hour 0-23, minute/second 0-59; the fraction past microseconds is
//            truncated toward -inf.  Number: seconds / ms / us since the epoch (--epoch-unit,
//            default s); s and ms take any JSON number (fraction, exponent) converted
//            exactly with BigInt and floored to microseconds; us takes integer literals
//            only.  Outside int64 microseconds -> ts_overflow (numbers are not held to
//            year 9999).
//   A bad value gives reason not_integer, overflow, not_number, not_decimal,
//   decimal_scale, decimal_precision, not_boolean, not_base64, not_date,
//   not_timestamp or ts_overflow (plus "column").  Without --rescued-column the record is
//   bad.  With it, a record whose only problems are bad values in nullable columns is kept:
//   those columns are null and the rescued column holds {"key":<original JSON text>,...}
//   in input order, no spaces (keys re-encoded with JSON.stringify); a record without
//   any is null there.  A bad value in a `not null` column still makes the record bad.
// --partition-by: Delta stores partition values as text and reads "" as null (spec A4),
//   so an empty string in a partition column is expected as null.
// Where the design leaves a case open (decimal exponents, numbers beyond a float's range,
// key case, unpadded base64, year 0000, lone surrogates) the rule above follows "no
// silent loss" and was checked against ingestd's behaviour on hand-made edge files.
import { readdirSync, statSync, openSync, readSync, closeSync, writeSync, mkdtempSync,
  writeFileSync, mkdirSync, rmSync, readFileSync } from 'node:fs'
import { isUtf8 } from 'node:buffer'
import { gunzipSync } from 'node:zlib'
import { join, relative } from 'node:path'
import { tmpdir } from 'node:os'
import { canonF32, canonF64, fmtDec } from './canon.mjs'

const USAGE = `usage: node jsonexpect.mjs --schema 'NAME=TYPE [not null],...' [--rescued-column NAME [--rescue-unknown]] [--case-sensitive]
       [--epoch-unit s|ms|us] [--partition-by COL[,COL]] [--pattern GLOB] [--max-line-size BYTES]
       [--bad-out FILE] [--out FILE] FILE_OR_DIR...
       node jsonexpect.mjs --selftest`

// ---------------------------------------------------------------- schema
const INT_BITS = { long: 64n, bigint: 64n, int: 32n, integer: 32n, short: 16n, smallint: 16n, byte: 8n, tinyint: 8n }
const SIMPLE = new Set(['string', 'double', 'float', 'boolean', 'date', 'timestamp', 'binary'])

// 'a=long not null,b=decimal(12,2)' -> [{name, type, notNull, bits|p,s}]; throws on errors
export function parseSchema(text) {
  const parts = []
  let depth = 0, start = 0
  for (let i = 0; i <= text.length; i++) {
    const c = text[i]
    if (c === '(') depth++
    else if (c === ')') depth--
    else if ((c === ',' && depth === 0) || i === text.length) { parts.push(text.slice(start, i)); start = i + 1 }
  }
  const cols = []
  for (const p of parts) {
    if (!p.trim()) continue
    const eq = p.indexOf('=')
    if (eq < 0) throw new Error(`schema: "${p.trim()}" is not NAME=TYPE`)
    const name = p.slice(0, eq).trim()
    const m = /^\s*([a-z]+)\s*(?:\(\s*(\d+)\s*,\s*(\d+)\s*\))?\s*(not\s+null)?\s*$/i.exec(p.slice(eq + 1))
    if (!name || !m) throw new Error(`schema: cannot read "${p.trim()}"`)
    const t = m[1].toLowerCase()
    const col = { name, notNull: !!m[4] }
    if (t === 'decimal' && m[2] !== undefined) {
      const pr = Number(m[2]), sc = Number(m[3])
      if (pr < 1 || pr > 38 || sc > pr) throw new Error(`schema: ${name}: decimal(${pr},${sc}) needs 1 <= p <= 38, s <= p`)
      Object.assign(col, { type: 'decimal', p: pr, s: sc })
    } else if (m[2] === undefined && INT_BITS[t]) Object.assign(col, { type: 'int', bits: INT_BITS[t], lim: 2 ** (Number(INT_BITS[t]) - 1) })
    else if (m[2] === undefined && SIMPLE.has(t)) col.type = t
    else throw new Error(`schema: ${name}: unknown type "${p.slice(eq + 1).trim()}"`)
    if (cols.some(c => c.name === name)) throw new Error(`schema: column ${name} twice`)
    cols.push(col)
  }
  if (!cols.length) throw new Error('schema: no columns')
  return cols
}

// ---------------------------------------------------------------- JSON scanner
// Scans one line (a JS string) as strict JSON and returns the top-level object's members
// as source spans: [{key, start, end, kind, str, int}], kind one of str num true false
// null obj arr; str = the decoded string (kind str), int = integer literal (kind num).
// Nested values are validated and skipped, never decoded.  Returns 'not_json' /
// 'not_object' / 'lone_surrogate' (a \uD800-\uDFFF escape without its pair anywhere in
// the line: no UTF-8 exists for it) on failure.
class NotJson extends Error {}
const NOT_JSON = new NotJson()
function isWs(c) { return c === 32 || c === 9 || c === 10 || c === 13 }
function hexv(c) {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -1
}
export function scanLine(s) {
  const n = s.length
  let i = 0, lone = false
  const ws = () => { while (i < n && isWs(s.charCodeAt(i))) i++ }
  // string at s[i] === '"'; returns the decoded text when decode, else null; leaves i after it
  const string = (decode) => {
    i++
    let out = '', from = i
    for (;;) {
      if (i >= n) throw NOT_JSON
      const c = s.charCodeAt(i)
      if (c === 34) { if (decode) out += s.slice(from, i); i++; return decode ? out : null }
      if (c < 32) throw NOT_JSON
      if (c !== 92) { i++; continue }
      if (decode) out += s.slice(from, i)
      const e = s.charCodeAt(i + 1)
      if (e === 117) {                                            // \uXXXX
        let u = 0
        for (let k = 2; k < 6; k++) { const h = hexv(s.charCodeAt(i + k)); if (h < 0) throw NOT_JSON; u = u * 16 + h }
        i += 6
        if (u >= 0xd800 && u <= 0xdbff) {                         // needs a low surrogate next
          let lo = -1
          if (s.charCodeAt(i) === 92 && s.charCodeAt(i + 1) === 117) {
            lo = 0
            for (let k = 2; k < 6; k++) { const h = hexv(s.charCodeAt(i + k)); if (h < 0) throw NOT_JSON; lo = lo * 16 + h }
          }
          if (lo >= 0xdc00 && lo <= 0xdfff) { i += 6; if (decode) out += String.fromCharCode(u, lo) }
          else lone = true
        } else {
          if (u >= 0xdc00 && u <= 0xdfff) lone = true
          else if (decode) out += String.fromCharCode(u)
        }
      } else {
        let m
        switch (e) {
          case 34: m = '"'; break; case 92: m = '\\'; break; case 47: m = '/'; break
          case 98: m = '\b'; break; case 102: m = '\f'; break; case 110: m = '\n'; break
          case 114: m = '\r'; break; case 116: m = '\t'; break
          default: throw NOT_JSON
        }
        if (decode) out += m
        i += 2
      }
      from = i
    }
  }
  // number at i; returns true when it is an integer literal
  const number = () => {
    let c = s.charCodeAt(i), int = true
    if (c === 45) c = s.charCodeAt(++i)
    if (c === 48) c = s.charCodeAt(++i)
    else if (c >= 49 && c <= 57) { do c = s.charCodeAt(++i); while (c >= 48 && c <= 57) }
    else throw NOT_JSON
    if (c === 46) {
      int = false
      c = s.charCodeAt(++i)
      if (!(c >= 48 && c <= 57)) throw NOT_JSON
      do c = s.charCodeAt(++i); while (c >= 48 && c <= 57)
    }
    if (c === 101 || c === 69) {
      int = false
      c = s.charCodeAt(++i)
      if (c === 43 || c === 45) c = s.charCodeAt(++i)
      if (!(c >= 48 && c <= 57)) throw NOT_JSON
      do c = s.charCodeAt(++i); while (c >= 48 && c <= 57)
    }
    return int
  }
  const literal = (word) => { if (!s.startsWith(word, i)) throw NOT_JSON; i += word.length }
  // any value at i, nested containers skipped with an explicit stack (no depth limit)
  const skipValue = () => {
    const stack = []
    for (;;) {
      ws()
      const c = s.charCodeAt(i)
      if (c === 123 || c === 91) {                                // open a container
        i++; ws()
        const close = c === 123 ? 125 : 93
        if (s.charCodeAt(i) === close) { i++ }
        else {
          stack.push(close)
          if (close === 125) { if (s.charCodeAt(i) !== 34) throw NOT_JSON; string(false); ws(); if (s.charCodeAt(i) !== 58) throw NOT_JSON; i++ }
          continue
        }
      } else if (c === 34) string(false)
      else if (c === 116) literal('true')
      else if (c === 102) literal('false')
      else if (c === 110) literal('null')
      else if (c === 45 || (c >= 48 && c <= 57)) number()
      else throw NOT_JSON
      // after a value: close containers or move to the next element
      for (;;) {
        if (!stack.length) return
        ws()
        const d = s.charCodeAt(i), close = stack[stack.length - 1]
        if (d === close) { i++; stack.pop(); continue }
        if (d !== 44) throw NOT_JSON
        i++
        if (close === 125) { ws(); if (s.charCodeAt(i) !== 34) throw NOT_JSON; string(false); ws(); if (s.charCodeAt(i) !== 58) throw NOT_JSON; i++ }
        break
      }
    }
  }
  try {
    ws()
    if (s.charCodeAt(i) !== 123) { skipValue(); ws(); return i === n ? 'not_object' : 'not_json' }
    i++
    const members = []
    ws()
    if (s.charCodeAt(i) === 125) i++
    else {
      for (;;) {
        ws()
        if (s.charCodeAt(i) !== 34) throw NOT_JSON
        const k = string(true)
        ws()
        if (s.charCodeAt(i) !== 58) throw NOT_JSON
        i++
        ws()
        const start = i, c = s.charCodeAt(i)
        const m = { key: k, start, end: 0, kind: '', str: null, int: false }
        if (c === 34) { m.kind = 'str'; m.str = string(true) }
        else if (c === 45 || (c >= 48 && c <= 57)) { m.kind = 'num'; m.int = number() }
        else if (c === 123) { m.kind = 'obj'; skipValue() }
        else if (c === 91) { m.kind = 'arr'; skipValue() }
        else if (c === 116) { m.kind = 'true'; literal('true') }
        else if (c === 102) { m.kind = 'false'; literal('false') }
        else if (c === 110) { m.kind = 'null'; literal('null') }
        else throw NOT_JSON
        m.end = i
        members.push(m)
        ws()
        const d = s.charCodeAt(i)
        if (d === 44) { i++; continue }
        if (d === 125) { i++; break }
        throw NOT_JSON
      }
    }
    ws()
    return i !== n ? 'not_json' : lone ? 'lone_surrogate' : members
  } catch (e) {
    if (e === NOT_JSON) return 'not_json'
    throw e
  }
}

// ---------------------------------------------------------------- value conversion
// Each converter returns a canonical value or a Bad.
class Bad { constructor(reason) { this.reason = reason } }
const BAD = {}
for (const r of ['not_integer', 'overflow', 'not_number', 'not_decimal', 'decimal_scale', 'decimal_precision',
  'not_boolean', 'not_base64', 'not_date', 'not_timestamp', 'ts_overflow']) BAD[r] = new Bad(r)

const I64_MIN = -(1n << 63n), I64_MAX = (1n << 63n) - 1n
const DEC_STR = /^(-?)(\d+)(?:\.(\d+))?$/
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?)?$/
const NUM_PARTS = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

// proleptic Gregorian days since 1970-01-01 (Howard Hinnant's days_from_civil)
function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}
function validDate(y, m, d) {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false           // years 0001-9999 (Delta's range)
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  return d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
}
// floor(a / b) for BigInt, b > 0
const floorDiv = (a, b) => { const q = a / b; return (a % b !== 0n && a < 0n) ? q - 1n : q }

function convInt(m, col, text) {
  if (m.kind !== 'num' || !m.int) return BAD.not_integer
  if (text.length <= 15) {                                        // exact as a Number
    const v = Number(text), lim = col.lim
    return v < -lim || v >= lim ? BAD.overflow : String(v)         // String(-0) is "0"
  }
  const v = BigInt(text)
  const lim = 1n << (col.bits - 1n)
  if (v < -lim || v >= lim) return BAD.overflow
  return String(v)
}
// value = DIGITS * 10^-k, DIGITS = integer and fraction digits of the literal, k = the
// fraction digits minus the exponent: k > s is decimal_scale (digits as written, so
// 12.500 and 1.000e0 count 3, 1.5e-1 counts 2), |unscaled| >= 10^p decimal_precision.
function convDecimal(m, col, text) {
  let r
  if (m.kind === 'num') r = NUM_PARTS.exec(text)
  else if (m.kind === 'str') r = DEC_STR.exec(m.str)
  if (!r) return BAD.not_decimal
  const frac = r[3] ?? '', digits = (r[2] + frac).replace(/^0+/, '')
  const exp = r[4] === undefined ? 0 : Number(r[4])
  const k = frac.length - exp
  if (k > col.s) return BAD.decimal_scale
  if (digits === '') return fmtDec(0n, col.s)
  const shift = col.s - k                                         // >= 0
  if (digits.length + shift > col.p) return BAD.decimal_precision  // also keeps 10n ** shift small
  const u = BigInt(digits) * 10n ** BigInt(shift)
  return fmtDec(r[1] === '-' ? -u : u, col.s)
}
function tsFromString(str) {
  const r = TS_RE.exec(str)
  if (!r) return BAD.not_timestamp
  const y = Number(r[1]), mo = Number(r[2]), d = Number(r[3])
  if (!validDate(y, mo, d)) return BAD.not_timestamp
  const h = Number(r[4] ?? 0), mi = Number(r[5] ?? 0), se = Number(r[6] ?? 0)
  if (h > 23 || mi > 59 || se > 59) return BAD.not_timestamp
  let offSec = 0
  if (r[9]) {                                                      // r[8] is 'Z'
    const oh = Number(r[10]), om = Number(r[11] ?? 0)
    if (oh > 23 || om > 59) return BAD.not_timestamp
    offSec = (r[9] === '-' ? -1 : 1) * (oh * 3600 + om * 60)
  }
  const secs = BigInt(daysFromCivil(y, mo, d)) * 86400n + BigInt(h * 3600 + mi * 60 + se - offSec)
  const ns = BigInt((r[7] ?? '').padEnd(9, '0') || '0')
  return { ts_us: String(secs * 1000000n + floorDiv(ns, 1000n)) }
}
function tsFromNumber(m, text, unit) {
  if (unit === 'us') {
    if (!m.int) return BAD.not_timestamp
    const v = BigInt(text)
    return v < I64_MIN || v > I64_MAX ? BAD.ts_overflow : { ts_us: String(v) }
  }
  const r = NUM_PARTS.exec(text)
  const digits = r[2] + (r[3] ?? '')
  let mant = BigInt(digits)
  if (r[1] === '-') mant = -mant
  // value = mant * 10^exp10 units; micros = mant * 10^(exp10 + unitExp)
  let e = Number(r[4] ?? 0) - (r[3] ?? '').length + (unit === 's' ? 6 : 3)
  let us
  if (mant === 0n) us = 0n
  else if (e >= 0) {
    if (e > 40) return BAD.ts_overflow                             // |mant| >= 1
    us = mant * 10n ** BigInt(e)
  } else if (-e > digits.length + 1) us = mant < 0n ? -1n : 0n       // |value| < 1 micro
  else us = floorDiv(mant, 10n ** BigInt(-e))
  return us < I64_MIN || us > I64_MAX ? BAD.ts_overflow : { ts_us: String(us) }
}

// member -> canonical value (or Bad); text = its source text
function convert(m, col, text, opts) {
  switch (col.type) {
    case 'int': return convInt(m, col, text)
    case 'double': case 'float': {
      if (m.kind !== 'num') return BAD.not_number
      const v = col.type === 'float' ? Math.fround(Number(text)) : Number(text)
      if (!Number.isFinite(v)) return BAD.overflow                // a finite literal beyond the type's range
      return col.type === 'float' ? canonF32(v) : canonF64(v)
    }
    case 'decimal': return convDecimal(m, col, text)
    case 'boolean': return m.kind === 'true' ? true : m.kind === 'false' ? false : BAD.not_boolean
    case 'string':
      if (m.kind === 'str') return m.str
      return text                                                 // number, true/false, object, array
    case 'binary':
      if (m.kind !== 'str' || !B64.test(m.str)) return BAD.not_base64
      return { hex: Buffer.from(m.str, 'base64').toString('hex') }
    case 'date': {
      const r = m.kind === 'str' && DATE_RE.exec(m.str)
      if (!r) return BAD.not_date
      const y = Number(r[1]), mo = Number(r[2]), d = Number(r[3])
      return validDate(y, mo, d) ? { date: String(daysFromCivil(y, mo, d)) } : BAD.not_date
    }
    case 'timestamp':
      if (m.kind === 'str') return tsFromString(m.str)
      if (m.kind === 'num') return tsFromNumber(m, text, opts.epochUnit)
      return BAD.not_timestamp
  }
  throw new Error(`unknown type ${col.type}`)
}

// ---------------------------------------------------------------- one record
// line (JS string, no \n, BOM and \r already removed) -> {row} | {bad, column?} | null (blank)
export function makeRecordConverter(cols, opts) {
  const fold = opts.caseSensitive ? (k) => k : (k) => k.toLowerCase()
  const byName = new Map()
  cols.forEach((c, k) => {
    if (byName.has(fold(c.name))) throw new Error(`schema: columns ${cols[byName.get(fold(c.name))].name} and ${c.name} differ only in case (see --case-sensitive)`)
    byName.set(fold(c.name), k)
  })
  const rescue = opts.rescuedColumn != null
  const partIdx = (opts.partitionBy ?? []).map(p => {
    const k = byName.get(fold(p))
    if (k === undefined) throw new Error(`--partition-by ${p}: not a schema column`)
    return k
  })
  const width = cols.length + (rescue ? 1 : 0)
  return (line) => {
    let blank = true
    for (let k = 0; k < line.length; k++) { const c = line.charCodeAt(k); if (c !== 32 && c !== 9) { blank = false; break } }
    if (blank) return null
    const members = scanLine(line)
    if (typeof members === 'string') return { bad: members }
    // last occurrence of a key wins: mark the members that are overridden later
    let skip = null
    if (members.length > 1) {
      const seen = new Set()
      for (let k = members.length - 1; k >= 0; k--) {
        const key = fold(members[k].key)
        if (seen.has(key)) (skip ??= new Set()).add(k)
        else seen.add(key)
      }
    }
    const row = new Array(width).fill(null)
    let rescued = null
    for (let k = 0; k < members.length; k++) {
      if (skip && skip.has(k)) continue
      const m = members[k]
      const ci = byName.get(fold(m.key))
      if (ci === undefined) {
        if (rescue && opts.rescueUnknown) (rescued ??= []).push(JSON.stringify(m.key) + ':' + line.slice(m.start, m.end))
        continue
      }
      if (m.kind === 'null') continue
      const col = cols[ci]
      const text = line.slice(m.start, m.end)
      const v = convert(m, col, text, opts)
      if (v instanceof Bad) {
        if (!rescue || col.notNull) return { bad: v.reason, column: col.name }
        rescued ??= []
        rescued.push(JSON.stringify(m.key) + ':' + text)
        continue
      }
      row[ci] = v
    }
    for (const k of partIdx) if (row[k] === '') row[k] = null
    for (let k = 0; k < cols.length; k++) if (cols[k].notNull && row[k] === null) return { bad: 'not_null', column: cols[k].name }
    if (rescue && rescued) row[cols.length] = '{' + rescued.join(',') + '}'
    return { row }
  }
}

// ---------------------------------------------------------------- files
function globRe(glob) {
  let re = ''
  for (let k = 0; k < glob.length; k++) {
    const c = glob[k]
    if (c === '*') re += '.*'
    else if (c === '?') re += '.'
    else if (c === '[') {
      const end = glob.indexOf(']', k + 2)
      if (end < 0) { re += '\\['; continue }
      let body = glob.slice(k + 1, end)
      if (body[0] === '!') body = '^' + body.slice(1)
      re += '[' + body.replace(/\\/g, '\\\\') + ']'
      k = end
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&')
  }
  return new RegExp('^' + re + '$', 's')
}
// [{path, rel}] of every input file, in order
function listInputs(args, pattern) {
  const match = pattern ? ((re) => (n) => re.test(n))(globRe(pattern)) : (n) => /\.(json|ndjson)$/.test(n)
  const out = []
  const walk = (root, dir) => {
    const names = readdirSync(dir).sort()
    for (const name of names) {
      const p = join(dir, name)
      const st = statSync(p)
      if (st.isDirectory()) walk(root, p)
      else if (st.isFile() && match(name)) out.push({ path: p, rel: relative(root, p) })
    }
  }
  for (const a of args) {
    const st = statSync(a)
    if (st.isDirectory()) walk(a, a)
    else out.push({ path: a, rel: a })
  }
  return out
}
let fzstd = null
async function loadWhole(path) {
  const buf = readFileSync(path)
  if (path.endsWith('.gz')) return gunzipSync(buf)
  if (path.endsWith('.zst')) {
    fzstd ??= await import('fzstd')
    return Buffer.from(fzstd.decompress(buf))
  }
  return buf
}
// Calls onLine(bytes: Buffer, lineNo) for every line of a file; 8 MiB reads, no per-line
// fs calls.  The trailing \r is kept (the caller drops it).
async function eachLine(path, onLine) {
  const compressed = path.endsWith('.gz') || path.endsWith('.zst')
  let lineNo = 0
  const feed = (buf, lo, hi, final) => {        // returns the offset of the unfinished tail
    let p = lo
    for (;;) {
      const nl = buf.indexOf(10, p)
      if (nl < 0 || nl >= hi) break
      onLine(buf.subarray(p, nl), ++lineNo)
      p = nl + 1
    }
    if (final && p < hi) { onLine(buf.subarray(p, hi), ++lineNo); p = hi }
    return p
  }
  if (compressed) { const b = await loadWhole(path); feed(b, 0, b.length, true); return }
  const fd = openSync(path, 'r')
  try {
    let buf = Buffer.allocUnsafe(8 << 20), have = 0
    for (;;) {
      if (have === buf.length) { const nb = Buffer.allocUnsafe(buf.length * 2); buf.copy(nb, 0, 0, have); buf = nb }
      const got = readSync(fd, buf, have, buf.length - have, null)
      if (got === 0) { feed(buf, 0, have, true); return }
      have += got
      const used = feed(buf, 0, have, false)
      buf.copy(buf, 0, used, have)
      have -= used
    }
  } finally { closeSync(fd) }
}

// buffered writer to a fd
function writer(fd) {
  let parts = [], size = 0
  const flush = () => { if (size) { writeSync(fd, parts.join('')); parts = []; size = 0 } }
  return { write(s) { parts.push(s); size += s.length; if (size > (1 << 20)) flush() }, flush }
}

async function run(opts) {
  const cols = opts.cols
  const conv = makeRecordConverter(cols, opts)
  const columns = cols.map(c => c.name)
  if (opts.rescuedColumn != null) columns.push(opts.rescuedColumn)
  const outFd = opts.out ? openSync(opts.out, 'w') : 1
  const badFd = opts.badOut ? openSync(opts.badOut, 'w') : -1
  const out = writer(outFd), bad = badFd >= 0 ? writer(badFd) : null
  out.write(`{"columns":${JSON.stringify(columns)},"rows":[`)
  let nRows = 0, nBad = 0, nBlank = 0, nRescued = 0, nFiles = 0
  const counts = {}
  for (const f of listInputs(opts.inputs, opts.pattern)) {
    nFiles++
    await eachLine(f.path, (bytes, lineNo) => {
      let b = bytes
      if (lineNo === 1 && b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3)
      if (b.length && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1)
      let r
      if (b.length > opts.maxLineSize) r = { bad: 'line_too_long' }
      else if (!isUtf8(b)) r = { bad: 'invalid_utf8' }
      else r = conv(b.toString('utf8'))
      if (r === null) { nBlank++; return }
      if (r.bad) {
        nBad++
        counts[r.bad] = (counts[r.bad] ?? 0) + 1
        if (bad) bad.write(JSON.stringify({ file: f.rel, line: lineNo, reason: r.bad, ...(r.column ? { column: r.column } : {}) }) + '\n')
        return
      }
      if (opts.rescuedColumn != null && r.row[cols.length] !== null) nRescued++
      out.write((nRows++ ? ',\n' : '\n') + JSON.stringify(r.row))
    })
  }
  out.write('\n]}\n')
  out.flush()
  if (bad) bad.flush()
  if (opts.out) closeSync(outFd)
  if (badFd >= 0) closeSync(badFd)
  process.stderr.write(`jsonexpect: ${nFiles} files, ${nRows} rows (${nRescued} with rescued data), ${nBad} bad` +
    `${nBad ? ' ' + JSON.stringify(counts) : ''}, ${nBlank} blank lines\n`)
  return 0
}

// ---------------------------------------------------------------- self-test
// Expected values are written by hand (days, micros, IEEE bits worked out separately).
function selftest() {
  const S = 'id=long not null,i=int,sh=short,b=byte,d=double,f=float,amount=decimal(12,2),ok=boolean,' +
    's=string,bin=binary,day=date,ts=timestamp'
  const cols = parseSchema(S)
  const base = { epochUnit: 's', rescuedColumn: null }
  const W = cols.length
  // row with id and the given other columns set
  const R = (o, extra) => { const r = new Array(W).fill(null); r[0] = o.id ?? '1'; for (const [k, v] of Object.entries(o)) r[cols.findIndex(c => c.name === k)] = v; return extra === undefined ? r : [...r, extra] }
  const cases = [
    ['integers in range', '{"id":9223372036854775807,"i":-2147483648,"sh":32767,"b":-128}', R({ id: '9223372036854775807', i: '-2147483648', sh: '32767', b: '-128' })],
    ['long overflow is bad', '{"id":9223372036854775808}', { bad: 'overflow' }],
    ['int overflow is bad', '{"id":1,"i":2147483648}', { bad: 'overflow' }],
    ['byte overflow is bad', '{"id":1,"b":128}', { bad: 'overflow' }],
    ['1.0 in a long is bad', '{"id":1.0}', { bad: 'not_integer' }],
    ['1e3 in a long is bad', '{"id":1e3}', { bad: 'not_integer' }],
    ['"12" in a long is bad', '{"id":"12"}', { bad: 'not_integer' }],
    ['-0 is 0', '{"id":-0}', R({ id: '0' })],
    ['double bits', '{"id":1,"d":0.1,"f":0.1}', R({ d: { f64: '0x3fb999999999999a' }, f: { f32: '0x3dcccccd' } })],
    ['double -0 and exponent', '{"id":1,"d":-0.0,"f":1e2}', R({ d: { f64: '0x8000000000000000' }, f: { f32: '0x42c80000' } })],
    ['double beyond range is overflow', '{"id":1,"d":-1e400}', { bad: 'overflow' }],
    ['float rounding to infinity is overflow', '{"id":1,"f":3.4028236e38}', { bad: 'overflow' }],
    ['float max and double underflow', '{"id":1,"f":3.4028235e38,"d":1e-400}', R({ f: { f32: '0x7f7fffff' }, d: { f64: '0x0000000000000000' } })],
    ['text in a double is bad', '{"d":"1.5"}', { bad: 'not_number' }],
    ['decimal number and string exact', '{"id":1,"amount":12.5}', R({ amount: { dec: '12.50' } })],
    ['decimal string with sign', '{"id":1,"amount":"-0009999999999.99"}', R({ amount: { dec: '-9999999999.99' } })],
    ['decimal keeps digits past 2^53', '{"id":1,"amount":9999999999.99}', R({ amount: { dec: '9999999999.99' } })],
    ['decimal too many fraction digits', '{"amount":1.005}', { bad: 'decimal_scale' }],
    ['decimal trailing zero still too many', '{"amount":"1.500"}', { bad: 'decimal_scale' }],
    ['decimal too many integer digits', '{"amount":12345678901}', { bad: 'decimal_precision' }],
    ['decimal number with exponent', '{"id":1,"amount":1.5e-1}', R({ amount: { dec: '0.15' } })],
    ['decimal exponent shifts digits', '{"id":1,"amount":123456789012e-2}', R({ amount: { dec: '1234567890.12' } })],
    ['decimal written digits count with exponent', '{"id":1,"amount":1.000e0}', { bad: 'decimal_scale' }],
    ['decimal exponent too large', '{"id":1,"amount":1e10}', { bad: 'decimal_precision' }],
    ['decimal string with exponent is bad', '{"id":1,"amount":"1e2"}', { bad: 'not_decimal' }],
    ['decimal string with plus is bad', '{"id":1,"amount":"+5.1"}', { bad: 'not_decimal' }],
    ['decimal text is bad', '{"amount":"12x"}', { bad: 'not_decimal' }],
    ['boolean only true/false', '{"id":1,"ok":false}', R({ ok: false })],
    ['boolean from 1 is bad', '{"ok":1}', { bad: 'not_boolean' }],
    ['string from number keeps text', '{"id":1,"s":1.50e+3}', R({ s: '1.50e+3' })],
    ['string from true', '{"id":1,"s":true}', R({ s: 'true' })],
    ['string from object keeps exact text', '{"id":1,"s": {"a" : [1, {"b":"\\u00e9"}],"c":null} }', R({ s: '{"a" : [1, {"b":"\\u00e9"}],"c":null}' })],
    ['string escapes decoded', '{"id":1,"s":"a\\"b\\\\\\n\\u00e9\\ud83d\\ude00/"}', R({ s: 'a"b\\\né\u{1f600}/' })],
    ['lone surrogate is bad', '{"id":1,"s":"\\ud800x"}', { bad: 'lone_surrogate' }],
    ['lone low surrogate in a nested unknown value is bad', '{"id":1,"zz":{"a":"\\udc00"}}', { bad: 'lone_surrogate' }],
    ['binary base64', '{"id":1,"bin":"AP8="}', R({ bin: { hex: '00ff' } })],
    ['binary unpadded, leftover bits ignored', '{"id":1,"bin":"YR"}', R({ bin: { hex: '61' } })],
    ['binary wrong padding', '{"id":1,"bin":"YQ="}', { bad: 'not_base64' }],
    ['binary url alphabet', '{"id":1,"bin":"-_8"}', { bad: 'not_base64' }],
    ['date days', '{"id":1,"day":"2024-02-29"}', R({ day: { date: '19782' } })],
    ['date before 1970', '{"id":1,"day":"1969-12-31"}', R({ day: { date: '-1' } })],
    ['date not a day', '{"day":"2023-02-29"}', { bad: 'not_date' }],
    ['date year 0000', '{"id":1,"day":"0000-01-01"}', { bad: 'not_date' }],
    ['timestamp year 0000 even if the instant is in 0001', '{"id":1,"ts":"0000-12-31T23:00:00-01:00"}', { bad: 'not_timestamp' }],
    ['timestamp epoch past year 9999', '{"id":1,"ts":253402300800}', R({ ts: { ts_us: '253402300800000000' } })],
    ['timestamp Z with micros', '{"id":1,"ts":"2024-01-01T00:00:00.123456Z"}', R({ ts: { ts_us: '1704067200123456' } })],
    ['timestamp offset +02:00 and space', '{"id":1,"ts":"2024-01-01 02:00:00+02:00"}', R({ ts: { ts_us: '1704067200000000' } })],
    ['timestamp offset -0530 no seconds', '{"id":1,"ts":"2023-12-31T18:30-0530"}', R({ ts: { ts_us: '1704067200000000' } })],
    ['timestamp offset +09 and nanos truncated', '{"id":1,"ts":"2024-01-01T09:00:00.999999999+09"}', R({ ts: { ts_us: '1704067200999999' } })],
    ['timestamp nanos before 1970 floor', '{"id":1,"ts":"1969-12-31T23:59:59.9999995"}', R({ ts: { ts_us: '-1' } })],
    ['timestamp date only is midnight UTC', '{"id":1,"ts":"1970-01-02"}', R({ ts: { ts_us: '86400000000' } })],
    ['timestamp epoch seconds with fraction', '{"id":1,"ts":1704067200.5}', R({ ts: { ts_us: '1704067200500000' } })],
    ['timestamp epoch negative fraction floors', '{"id":1,"ts":-0.0000005}', R({ ts: { ts_us: '-1' } })],
    ['timestamp epoch overflow', '{"ts":1e13}', { bad: 'ts_overflow' }],
    ['timestamp hour 24 is bad', '{"ts":"2024-01-01T24:00:00Z"}', { bad: 'not_timestamp' }],
    ['timestamp T lowercase is bad', '{"ts":"2024-01-01t00:00:00Z"}', { bad: 'not_timestamp' }],
    ['null and missing', '{"id":1,"s":null}', R({})],
    ['null in not-null is bad', '{"id":null}', { bad: 'not_null' }],
    ['missing not-null is bad', '{"s":"x"}', { bad: 'not_null' }],
    ['last duplicate key wins', '{"id":1,"s":"a","s":"b","id":2}', R({ id: '2', s: 'b' })],
    ['bad earlier duplicate is ignored', '{"id":1,"i":"x","i":5}', R({ i: '5' })],
    ['unknown keys ignored', '{"zz":[1,2,{"q":3}],"id":3}', R({ id: '3' })],
    ['keys match ignoring case', '{"ID":7,"S":"x"}', R({ id: '7', s: 'x' })],
    ['last duplicate wins across case', '{"id":8,"Id":9}', R({ id: '9' })],
    ['escaped key matches', '{"\\u0069d":10}', R({ id: '10' })],
    ['not an object', '[1,2]', { bad: 'not_object' }],
    ['trailing garbage', '{"id":1} x', { bad: 'not_json' }],
    ['leading zero is not JSON', '{"id":01}', { bad: 'not_json' }],
    ['trailing comma is not JSON', '{"id":1,}', { bad: 'not_json' }],
    ['NaN is not JSON', '{"id":1,"d":NaN}', { bad: 'not_json' }],
    ['bad nested value is not JSON', '{"id":1,"zz":{"a":tru}}', { bad: 'not_json' }],
    ['raw control char in string', '{"id":1,"s":"a\tb"}', { bad: 'not_json' }],
    ['blank line skipped', ' \t ', null],
    ['empty object', '{}', { bad: 'not_null' }],
  ]
  let n = 0, failed = 0
  const lines = []
  const ok = (cond, what, detail) => {
    n++
    lines.push(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`)
    if (!cond) { failed++; if (detail) for (const d of detail.split('\n')) lines.push(`#   ${d}`) }
  }
  const conv = makeRecordConverter(cols, base)
  const show = (r) => JSON.stringify(r && r.bad ? { bad: r.bad } : r && r.row ? r.row : r)
  for (const [what, line, want] of cases) {
    const got = conv(line)
    const wantS = JSON.stringify(want && want.bad ? want : want === null ? null : want)
    ok(show(got) === wantS, what, `line: ${line}\ngot:  ${show(got)}\nwant: ${wantS}`)
  }
  // rescued column
  const convR = makeRecordConverter(cols, { ...base, rescuedColumn: '_rescued' })
  let g = convR('{"id":4,"amount":"12x","i":5,"ts":"yesterday","s":{"a":1}}')
  ok(g.row && JSON.stringify(g.row) === JSON.stringify(R({ id: '4', i: '5', s: '{"a":1}' }, '{"amount":"12x","ts":"yesterday"}')),
    'rescued: bad values null, original text in input order', show(g))
  g = convR('{"id":"seven","amount":"12x"}')
  ok(g.bad === 'not_integer', 'rescued: bad value in a not-null column is still bad', show(g))
  g = convR('{"id":5}')
  ok(g.row && g.row[W] === null, 'rescued: clean record has null rescued column', show(g))
  g = convR('{"id":5,"s":"\\ud800"}')
  ok(g.bad === 'lone_surrogate', 'rescued: a lone surrogate still makes the line bad', show(g))
  g = makeRecordConverter(cols, { ...base, caseSensitive: true })('{"ID":7}')
  ok(g.bad === 'not_null', '--case-sensitive: ID is not id', show(g))
  const convU = makeRecordConverter(cols, { ...base, rescuedColumn: '_r', rescueUnknown: true })
  g = convU('{"x":[1, 2],"id":6,"b":300}')
  ok(g.row && g.row[W] === '{"x":[1, 2],"b":300}', 'rescue-unknown: unknown keys kept with bad values', show(g))
  // epoch units
  const convMs = makeRecordConverter(cols, { ...base, epochUnit: 'ms' })
  g = convMs('{"id":1,"ts":1704067200123.4567}')
  ok(g.row && g.row[W - 1].ts_us === '1704067200123456', 'epoch ms with fraction floors to micros', show(g))
  const convUs = makeRecordConverter(cols, { ...base, epochUnit: 'us' })
  g = convUs('{"id":1,"ts":1.5}')
  ok(g.bad === 'not_timestamp', 'epoch us takes integers only', show(g))
  // partition column: "" reads back as null
  const convP = makeRecordConverter(cols, { ...base, partitionBy: ['s'] })
  g = convP('{"id":1,"s":""}')
  ok(g.row && g.row[cols.findIndex(c => c.name === 's')] === null, 'partition column: empty string expected as null', show(g))
  // schema parsing
  let threw = null
  try { parseSchema('a=long,b=decimal(40,2)') } catch (e) { threw = e.message }
  ok(threw !== null, 'schema: decimal precision over 38 is refused', String(threw))
  // whole files: BOM, CRLF, blank lines, line numbers, invalid UTF-8, directory walk
  return { n, failed, lines, cols, next: ok }
}
async function selftestFiles(st) {
  const dir = mkdtempSync(join(tmpdir(), 'jsonexpect-selftest.'))
  try {
    mkdirSync(join(dir, 'in/sub'), { recursive: true })
    writeFileSync(join(dir, 'in/a.json'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('{"id":1}\r\n\r\n\ufeff{"id":2}\n{"id":3,"s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n{"id":4}')]))
    writeFileSync(join(dir, 'in/sub/b.ndjson'), '{"id":5}\n')
    writeFileSync(join(dir, 'in/skip.txt'), '{"id":6}\n')
    const opts = { cols: parseSchema('id=long not null,s=string'), epochUnit: 's', rescuedColumn: null, maxLineSize: 16 << 20,
      inputs: [join(dir, 'in')], out: join(dir, 'expect.json'), badOut: join(dir, 'bad.ndjson') }
    const saved = process.stderr.write
    process.stderr.write = () => true
    try { await run(opts) } finally { process.stderr.write = saved }
    const exp = JSON.parse(readFileSync(opts.out, 'utf8'))
    const bad = readFileSync(opts.badOut, 'utf8').trim().split('\n').map(l => JSON.parse(l))
    st.next(JSON.stringify(exp) === JSON.stringify({ columns: ['id', 's'], rows: [['1', null], ['4', null], ['5', null]] }),
      'files: BOM on line 1, CRLF, blank line, no final newline, sorted recursive walk, *.json/*.ndjson only', JSON.stringify(exp))
    st.next(JSON.stringify(bad) === JSON.stringify([{ file: 'a.json', line: 3, reason: 'not_json' }, { file: 'a.json', line: 4, reason: 'invalid_utf8' }]),
      'files: BOM on a later line and invalid UTF-8 are bad, with line numbers', JSON.stringify(bad))
    writeFileSync(join(dir, 'c.json'), '{"id":7}\n{"id":8,"s":"long"}\n')
    opts.maxLineSize = 10
    opts.inputs = [join(dir, 'c.json')]
    process.stderr.write = () => true
    try { await run(opts) } finally { process.stderr.write = saved }
    const bad2 = readFileSync(opts.badOut, 'utf8').trim().split('\n').map(l => JSON.parse(l)).map(b => b.line + ' ' + b.reason)
    st.next(JSON.stringify(bad2) === JSON.stringify(['2 line_too_long']), 'files: line longer than max-line-size is bad', JSON.stringify(bad2))
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

// ---------------------------------------------------------------- main
async function main(argv) {
  const opts = { cols: null, rescuedColumn: null, rescueUnknown: false, caseSensitive: false, epochUnit: 's', partitionBy: [], pattern: null,
    maxLineSize: 16 << 20, badOut: null, out: null, inputs: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i] }
    if (a === '--selftest') {
      const st = selftest()
      await selftestFiles(st)
      console.log('TAP version 13')
      console.log(`1..${st.lines.filter(l => /^(not )?ok /.test(l)).length}`)
      for (const l of st.lines) console.log(l)
      const failed = st.lines.filter(l => l.startsWith('not ok')).length
      console.log(`# ${failed ? failed + ' failed' : 'all passed'}`)
      return failed ? 1 : 0
    }
    if (a === '--schema') opts.cols = parseSchema(val())
    else if (a === '--rescued-column') opts.rescuedColumn = val()
    else if (a === '--rescue-unknown') opts.rescueUnknown = true
    else if (a === '--case-sensitive') opts.caseSensitive = true
    else if (a === '--epoch-unit') { opts.epochUnit = val(); if (!['s', 'ms', 'us'].includes(opts.epochUnit)) throw new Error('--epoch-unit: s, ms or us') }
    else if (a === '--partition-by') opts.partitionBy.push(...val().split(',').map(s => s.trim()).filter(Boolean))
    else if (a === '--pattern') opts.pattern = val()
    else if (a === '--max-line-size') { opts.maxLineSize = Number(val()); if (!(opts.maxLineSize > 0)) throw new Error('--max-line-size: bytes') }
    else if (a === '--bad-out') opts.badOut = val()
    else if (a === '--out' || a === '-o') opts.out = val()
    else if (a === '-h' || a === '--help') { console.log(USAGE); return 0 }
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`)
    else opts.inputs.push(a)
  }
  if (!opts.cols || !opts.inputs.length) { console.error(USAGE); return 2 }
  if (opts.rescueUnknown && opts.rescuedColumn == null) throw new Error('--rescue-unknown needs --rescued-column')
  if (opts.rescuedColumn != null && opts.cols.some(c => c.name === opts.rescuedColumn)) throw new Error(`--rescued-column ${opts.rescuedColumn} is a schema column`)
  return run(opts)
}

if (process.argv[1]?.endsWith('jsonexpect.mjs')) {
  main(process.argv.slice(2)).then((rc) => { process.exitCode = rc }, (e) => {
    console.error(`jsonexpect: ${process.env.JSONEXPECT_DEBUG ? e.stack : e.message}`)
    process.exitCode = 2
  })
}
