#!/usr/bin/env node
// genevents - deterministic, realistic event NDJSON for the directory source's tests and
// benchmarks.
//
//   node genevents.mjs --dir D --files N (--lines-per-file M | --bytes TOTAL) [--seed S]
//        [--bad-every K] [--nested] [--start-id I] [--prefix NAME]
//
// Writes D/<prefix>-00000.json ... (prefix default "events"); prints the schema string
// for jsonexpect.mjs / the [schema] section on stdout and a summary on stderr.
//   --bytes TOTAL  (units: 50MB, 1GiB) each file is filled to at least TOTAL/N bytes;
//                  with --lines-per-file as well, a file ends at whichever comes first
//   --seed S       same seed and options -> byte-identical files (default 1)
//   --bad-every K  every K-th line (counted over all files) is a bad record, rotating
//                  through: not JSON, text in a long column, long overflow, too many
//                  decimal digits, missing not-null id, invalid UTF-8 bytes
//   --nested       add tags (array) and meta (object), both string columns holding
//                  the JSON text (with the odd space inside, to catch re-serialising)
//   --start-id I   first id (default 1); ids count up over all lines, bad ones included,
//                  so they stay unique across files (and across runs given disjoint ranges)
// Events: id long not null, ts timestamp (ISO-8601, offsets Z/+HH:MM/-HHMM/+HH, 'T' or
// ' ', 0/3/6/9 fraction digits, increasing ~1 ms per event from 2024-03-01), event_type,
// user_id long (5% null), country (10% null, 5% key missing), url (~100 bytes, the odd
// \/ or \u00e9 escape and raw UTF-8), amount decimal(12,2) as a JSON number with 0-2
// fraction digits (purchases / refunds; null otherwise), is_mobile boolean; 1% of the
// lines carry an unknown key ("session").
// Speed: each line is built as a string and encoded into a 4 MiB buffer; one write per
// full buffer.
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'

export const SCHEMA_FLAT = 'id=long not null,ts=timestamp,event_type=string,user_id=long,country=string,' +
  'url=string,amount=decimal(12,2),is_mobile=boolean'
export const SCHEMA_NESTED = SCHEMA_FLAT + ',tags=string,meta=string'
export const BAD_KINDS = ['not_json', 'not_integer', 'overflow', 'decimal_scale', 'not_null', 'invalid_utf8']

// sfc32: small, fast, deterministic 32-bit generator (seeded through splitmix32)
function rng(seed) {
  let s = seed >>> 0
  const sm = () => { s = (s + 0x9e3779b9) >>> 0; let z = s; z = Math.imul(z ^ (z >>> 16), 0x85ebca6b); z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35); return (z ^ (z >>> 16)) >>> 0 }
  let a = sm(), b = sm(), c = sm(), d = sm()
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t
  }
  for (let k = 0; k < 12; k++) next()
  return next
}

const EVENT_TYPES = ['page_view', 'page_view', 'page_view', 'page_view', 'click', 'click', 'scroll', 'search',
  'add_to_cart', 'purchase', 'refund', 'login', 'logout', 'signup', 'video_play', 'share']
const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'IN', 'BR', 'JP', 'ES', 'IT', 'NL', 'PL', 'SE', 'CA', 'AU', 'MX', 'KR']
const HOSTS = ['https://shop.example.com', 'https://www.example.org', 'https://m.example.net', 'https://blog.example.io']
const WORDS = ['products', 'category', 'shoes', 'running', 'winter-sale', 'cart', 'checkout', 'account', 'search',
  'article', 'news', 'help', 'faq', 'gift-cards', 'new-arrivals', 'outdoor', 'kitchen', 'garden']
const UTM = ['newsletter', 'google', 'facebook', 'partner', 'direct', 'twitter']
const TAGS = ['promo', 'returning', 'beta', 'vip', 'ab:blue', 'ab:green', 'mobile-web', 'first-visit']
const UAS = ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)', 'Mozilla/5.0 (Linux; Android 14; Pixel 8)',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/121.0', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) Safari/605.1']
const OFFSETS = [['Z', 0], ['Z', 0], ['+02:00', 120], ['-05:00', -300], ['+05:30', 330], ['+0900', 540], ['-03', -180], ['+00:00', 0]]
const BASE_MS = Date.UTC(2024, 2, 1)            // 2024-03-01T00:00:00Z

const p2 = (n) => (n < 10 ? '0' : '') + n
const p3 = (n) => (n < 10 ? '00' : n < 100 ? '0' : '') + n

// An event generator: next() returns one line (string, or a Buffer for the invalid
// UTF-8 kind) without the newline.
export function eventGenerator({ seed = 1, nested = false, badEvery = 0, startId = 1 } = {}) {
  const r = rng(seed)
  const pick = (arr) => arr[r() % arr.length]
  let id = startId, lineNo = 0, badKind = 0, tsMs = BASE_MS
  const isoTs = () => {
    tsMs += r() % 3
    const [off, offMin] = pick(OFFSETS)
    const d = new Date(tsMs + offMin * 60000)        // local wall time at that offset
    const frac = r() % 4
    const ms = d.getUTCMilliseconds()
    const fs = frac === 0 ? (ms === 0 ? '' : '.' + p3(ms)) : frac === 1 ? '.' + p3(ms)
      : frac === 2 ? '.' + p3(ms) + p3(r() % 1000) : '.' + p3(ms) + p3(r() % 1000) + p3(r() % 1000)
    return d.getUTCFullYear() + '-' + p2(d.getUTCMonth() + 1) + '-' + p2(d.getUTCDate()) + (r() % 8 === 0 ? ' ' : 'T') +
      p2(d.getUTCHours()) + ':' + p2(d.getUTCMinutes()) + ':' + p2(d.getUTCSeconds()) + fs + off
  }
  const url = () => {
    let u = pick(HOSTS) + '/' + pick(WORDS) + '/' + pick(WORDS) + '/' + (r() % 100000) + '-' + pick(WORDS)
    const k = r() % 50
    if (k === 0) u += '/caf\\u00e9'                            // escape, decodes to é
    else if (k === 1) u += '/crème-brûlée'                     // raw UTF-8
    else if (k === 2) u = u.replace(/\//g, '\\/')              // escaped slashes
    return u + '?utm_source=' + pick(UTM) + '&utm_campaign=' + pick(WORDS) + '&ref=' + (r() >>> 8).toString(36)
  }
  const amount = (type) => {
    if (type !== 'purchase' && type !== 'refund' && type !== 'add_to_cart') return 'null'
    const cents = r() % 50000
    const sign = type === 'refund' ? '-' : ''
    const whole = Math.floor(cents / 100), c = cents % 100
    const f = r() % 3
    if (f === 0 && c === 0) return sign + whole                          // 12
    if (f === 1 && c % 10 === 0) return sign + whole + '.' + (c / 10)     // 12.5
    return sign + whole + '.' + p2(c)                                     // 12.50
  }
  const nestedPart = () => {
    const n = r() % 4
    let tags = '['
    for (let k = 0; k < n; k++) tags += (k ? ',' : '') + '"' + pick(TAGS) + '"'
    tags += ']'
    const sp = r() % 10 === 0 ? ' ' : ''
    const meta = '{"ua":"' + pick(UAS) + '",' + sp + '"screen":{"w":' + (320 + r() % 1600) + ',"h":' + (480 + r() % 1000) +
      '},"ab":[' + (r() % 2 ? 'true' : 'false') + ',' + sp + (r() % 10) + '],"ref":' + (r() % 5 === 0 ? 'null' : '"' + pick(HOSTS) + '"') + '}'
    return ',"tags":' + tags + ',"meta":' + meta
  }
  const good = (thisId, over = {}) => {
    const type = pick(EVENT_TYPES)
    const uid = r() % 20 === 0 ? 'null' : String(1 + r() % 5000000)
    const cr = r() % 20
    const country = cr < 2 ? ',"country":null' : cr === 2 ? '' : ',"country":"' + pick(COUNTRIES) + '"'
    let s = (over.noId ? '{' : '{"id":' + thisId + ',') + '"ts":"' + isoTs() + '","event_type":"' + type + '","user_id":' +
      (over.userId ?? uid) + country + ',"url":"' + url() + '","amount":' + (over.amount ?? amount(type)) +
      ',"is_mobile":' + (r() % 3 === 0 ? 'true' : 'false')
    if (nested) s += nestedPart()
    if (r() % 100 === 0) s += ',"session":"' + (r() >>> 0).toString(16) + '"'
    return s + '}'
  }
  const next = () => {
    const thisId = id++
    lineNo++
    if (!badEvery || lineNo % badEvery) return good(thisId)
    const kind = BAD_KINDS[badKind++ % BAD_KINDS.length]
    switch (kind) {
      case 'not_json': return good(thisId).slice(0, 40)                    // cut mid-record
      case 'not_integer': return good(thisId, { userId: '"n/a"' })
      case 'overflow': return good(thisId, { userId: '92233720368547758070' })
      case 'decimal_scale': return good(thisId, { amount: '19.999' })
      case 'not_null': return good(thisId, { noId: true })
      case 'invalid_utf8': {
        const s = good(thisId)
        const at = s.indexOf('"url":"') + 7
        return Buffer.concat([Buffer.from(s.slice(0, at)), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from(s.slice(at))])
      }
    }
  }
  return { next, schema: nested ? SCHEMA_NESTED : SCHEMA_FLAT, lastId: () => id - 1 }
}

export function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)$/i.exec(String(s).trim())
  if (!m) throw new Error(`not a size: ${s}`)
  const u = m[2].toLowerCase()
  const mult = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30, t: 1e12, tb: 1e12, tib: 2 ** 40 }[u]
  return Math.round(Number(m[1]) * mult)
}

function main(argv) {
  const o = { dir: null, files: 1, lines: 0, bytes: 0, seed: 1, badEvery: 0, nested: false, startId: 1, prefix: 'events' }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i] }
    const int = (min) => { const v = Number(val()); if (!Number.isSafeInteger(v) || v < min) throw new Error(`${a}: integer >= ${min}`); return v }
    if (a === '--dir') o.dir = val()
    else if (a === '--files') o.files = int(1)
    else if (a === '--lines-per-file') o.lines = int(1)
    else if (a === '--bytes') o.bytes = parseSize(val())
    else if (a === '--seed') o.seed = int(0)
    else if (a === '--bad-every') o.badEvery = int(0)
    else if (a === '--nested') o.nested = true
    else if (a === '--start-id') o.startId = int(-(2 ** 52))
    else if (a === '--prefix') o.prefix = val()
    else throw new Error(`unknown argument ${a}`)
  }
  if (!o.dir || (!o.lines && !o.bytes)) {
    console.error('usage: node genevents.mjs --dir D --files N (--lines-per-file M | --bytes TOTAL) [--seed S] [--bad-every K] [--nested] [--start-id I] [--prefix NAME]')
    return 2
  }
  mkdirSync(o.dir, { recursive: true })
  const gen = eventGenerator({ seed: o.seed, nested: o.nested, badEvery: o.badEvery, startId: o.startId })
  const perFile = o.bytes ? Math.ceil(o.bytes / o.files) : Infinity
  const t0 = performance.now()
  let totalBytes = 0, totalLines = 0
  // Lines go straight into one 4 MiB Buffer (short-lived strings stay in the young
  // generation; collecting them into big joined strings cost more in GC than the rest).
  const CHUNK = 4 << 20
  const buf = Buffer.allocUnsafe(CHUNK)
  for (let f = 0; f < o.files; f++) {
    const fd = openSync(join(o.dir, `${o.prefix}-${String(f).padStart(5, '0')}.json`), 'w')
    let off = 0, fileBytes = 0, n = 0
    const flush = () => { let p = 0; while (p < off) p += writeSync(fd, buf, p, off - p); fileBytes += off; off = 0 }
    while ((!o.lines || n < o.lines) && fileBytes + off < perFile) {
      const line = gen.next()
      n++
      if (typeof line === 'string') {
        if (off + line.length * 3 + 1 > CHUNK) flush()
        if (line.length * 3 + 1 > CHUNK) { flush(); fileBytes += writeSync(fd, line + '\n'); continue }
        off += buf.write(line, off)
      } else {
        if (off + line.length + 1 > CHUNK) flush()
        off += line.copy(buf, off)
      }
      buf[off++] = 10
    }
    flush()
    closeSync(fd)
    totalBytes += fileBytes
    totalLines += n
  }
  const secs = (performance.now() - t0) / 1e3
  process.stdout.write(gen.schema + '\n')
  process.stderr.write(`genevents: ${o.files} files, ${totalLines} lines (ids ${o.startId}..${gen.lastId()}` +
    `${o.badEvery ? `, ${Math.floor(totalLines / o.badEvery)} bad` : ''}), ${totalBytes} bytes in ${secs.toFixed(2)} s` +
    ` (${(totalBytes / 1e6 / secs).toFixed(0)} MB/s)\n`)
  return 0
}

if (process.argv[1]?.endsWith('genevents.mjs')) {
  try { process.exitCode = main(process.argv.slice(2)) } catch (e) { console.error(`genevents: ${e.message}`); process.exitCode = 2 }
}
