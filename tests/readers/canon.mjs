// canon - the canonical value form shared by pqcheck.mjs and deltacheck.mjs, and the
// DuckDB connection both use.
//
// The form itself is documented in pqcheck.mjs's header comment (tests/tools write
// expect files in it).  A value that a reader cannot give exactly becomes a marker
// object ({"dec_lossy":..}, {"invalid_utf8":..}, ...) that never equals a canonical value.
// fromDuck(desc, value) converts one @duckdb/node-api value; desc is a descriptor
// {kind, name, optional, ...}: kind is one of bool int f32 f64 string binary date ts time
// dec (with scale) struct (fields) list (elem) map (key, value) unsupported.

export const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
export const f32buf = new DataView(new ArrayBuffer(8))
export function canonF32(n) {
  if (typeof n !== 'number') return { f32_not_a_number: String(n) }
  if (Number.isNaN(n)) return { f32: 'NaN' }
  if (Math.fround(n) !== n) return { f32_inexact: String(n) }   // not a float32 value at all
  f32buf.setFloat32(0, n)
  return { f32: '0x' + f32buf.getUint32(0).toString(16).padStart(8, '0') }
}
export function canonF64(n) {
  if (typeof n !== 'number') return { f64_not_a_number: String(n) }
  if (Number.isNaN(n)) return { f64: 'NaN' }
  f32buf.setFloat64(0, n)
  return { f64: '0x' + f32buf.getBigUint64(0).toString(16).padStart(16, '0') }
}
export function fmtDec(unscaled, scale) {
  const neg = unscaled < 0n
  let s = (neg ? -unscaled : unscaled).toString()
  if (scale > 0) {
    s = s.padStart(scale + 1, '0')
    s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale)
  }
  return { dec: (neg ? '-' : '') + s }
}
// big-endian two's complement bytes -> BigInt
export function beSigned(bytes) {
  if (!bytes.length) return 0n
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  const bits = BigInt(bytes.length * 8)
  if (bytes[0] & 0x80) v -= 1n << bits
  return v
}
export const utf8 = new TextDecoder('utf-8', { fatal: true })
export function canonStr(bytes) {
  try { return utf8.decode(bytes) } catch { return { invalid_utf8: hex(bytes) } }
}
// timestamps: canonical is microseconds; a value that is not a whole microsecond keeps ns
export function canonTs(v, unit) {
  v = BigInt(v)
  if (unit === 'MILLIS') return { ts_us: String(v * 1000n) }
  if (unit === 'SECONDS') return { ts_us: String(v * 1000000n) }
  if (unit === 'NANOS') return v % 1000n === 0n ? { ts_us: String(v / 1000n) } : { ts_ns: String(v) }
  return { ts_us: String(v) }
}
export function canonTime(v, unit) {
  v = BigInt(v)
  if (unit === 'MILLIS') return { time_us: String(v * 1000n) }
  if (unit === 'NANOS') return v % 1000n === 0n ? { time_us: String(v / 1000n) } : { time_ns: String(v) }
  return { time_us: String(v) }
}
export const J = (v) => JSON.stringify(v)

// ---------------------------------------------------------------- DuckDB
// one in-memory instance per process: single thread, UTC, no extension downloads
let duck = null
export async function duckConn() {
  if (duck) return duck
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const inst = await DuckDBInstance.create(':memory:', { threads: '1', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' })
  const conn = await inst.connect()
  await conn.run(`SET TimeZone='UTC'`)
  duck = { inst, conn }
  return duck
}
export const sqlStr = (s) => "'" + s.replace(/'/g, "''") + "'"

export function fromDuck(d, v) {
  if (v === null || v === undefined) return null
  switch (d.kind) {
    case 'bool': return typeof v === 'boolean' ? v : { not_bool: String(v) }
    case 'int': return typeof v === 'number' || typeof v === 'bigint' ? String(v) : { not_int: String(v) }
    case 'f32': return canonF32(v)
    case 'f64': return canonF64(v)
    case 'string': return typeof v === 'string' ? v : { not_string: String(v) }
    case 'binary':
      if (v.bytes) return { hex: hex(v.bytes) }
      if (typeof v.toUint128 === 'function') return { hex: v.toUint128().toString(16).padStart(32, '0') }
      return { not_binary: String(v) }
    case 'date': return 'days' in v ? { date: String(v.days) } : { not_date: String(v) }
    case 'ts':
      if ('micros' in v) return canonTs(v.micros, 'MICROS')
      if ('nanos' in v) return canonTs(v.nanos, 'NANOS')
      if ('millis' in v) return canonTs(v.millis, 'MILLIS')
      if ('seconds' in v) return canonTs(v.seconds, 'SECONDS')
      return { not_ts: String(v) }
    case 'time':
      if ('micros' in v) return canonTime(v.micros, 'MICROS')
      if ('nanos' in v) return canonTime(v.nanos, 'NANOS')
      return { not_time: String(v) }
    case 'dec':
      if (typeof v === 'object' && typeof v.value === 'bigint') return fmtDec(v.value, v.scale)
      return { dec_lossy: String(v) }     // DuckDB chose a non-DECIMAL type
    case 'struct': {
      if (!v.entries) return { not_struct: String(v) }
      const o = {}
      for (const f of d.fields) o[f.name] = fromDuck(f, v.entries[f.name])
      return o
    }
    case 'list': return v.items ? v.items.map(x => fromDuck(d.elem, x)) : { not_list: String(v) }
    case 'map': return Array.isArray(v.entries) ? v.entries.map(({ key, value }) => [fromDuck(d.key, key), fromDuck(d.value, value)]) : { not_map: String(v) }
  }
  return { unsupported: d.why ?? d.kind }
}
