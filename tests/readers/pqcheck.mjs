#!/usr/bin/env node
// pqcheck - read Parquet files with three independent readers and check the values.
//
//   node pqcheck.mjs FILE.parquet [EXPECT.json] [FILE2.parquet [EXPECT2.json] ...] [options]
//   node pqcheck.mjs --pairs DIR [options]
//
// Readers: DuckDB (@duckdb/node-api), arrow-rs (parquet-wasm -> IPC -> apache-arrow),
// hyparquet (+ hyparquet-compressors).  Every value is converted to the canonical JSON
// form below using the file's own Parquet schema (physical + logical types), then
//   (a) the three readers must agree with each other,
//   (b) with EXPECT.json, every reader's rows must equal its rows exactly.
//
// Canonical form (tests/tools/pqgen writes EXPECT.json in it):
//   {"columns": [names], "rows": [[value, ...], ...]}, per value:
//   null -> null            boolean -> true/false        int8..int64, uint* -> "-42" (decimal string)
//   float -> {"f32":"0x3f800000"}   double -> {"f64":"0x3ff0000000000000"}   (IEEE bits, lowercase;
//            any NaN -> {"f32":"NaN"} / {"f64":"NaN"})
//   string -> "text"        binary (and UUID) -> {"hex":"00ff"}
//   date -> {"date":"<days since 1970-01-01>"}   timestamp -> {"ts_us":"<micros since epoch>"}
//            (millis/nanos are scaled; nanos that are not whole micros -> {"ts_ns":"..."})
//   time -> {"time_us":"..."}    decimal -> {"dec":"-123.45"} (exactly `scale` fraction digits)
//   struct -> {field: value, ...} in schema order   list -> [...]   map -> [[key, value], ...] in stored order
//   A value a reader cannot give exactly becomes a marker object ({"dec_lossy":..},
//   {"invalid_utf8":"<hex>"}, {"arrow_type":..}, ...) that never equals a canonical value.
// Options:
//   --meta          print DuckDB's parquet_metadata() per column chunk as one JSON line
//                   ({"file":..., "column_chunks":[...]}) per file
//   --check-stats   recompute min/max/null_count per row group for top-level primitive
//                   columns from the values DuckDB read and compare with the footer stats
//   --pairs DIR     every *.parquet under DIR (recursively), each with the expect file that
//                   belongs to it (see findExpect)
//   --max-diffs N   differences shown per reader (default 5)
//   --readers a,b   only these readers (duckdb,arrow,hyparquet); default all three
//   --dump          print each reader's canonical rows (debugging)
// Output: a line per reader and check, "RESULT ok|FAIL FILE" per file, a closing
// "N passed, N failed" line.  Exit 0 when everything matched, 1 otherwise, 2 on usage errors.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join, basename, dirname, resolve } from 'node:path'
import { hex, f32buf, canonF32, canonF64, fmtDec, beSigned, canonStr, canonTs, canonTime, J, duckConn, sqlStr, fromDuck } from './canon.mjs'

const USAGE = 'usage: node pqcheck.mjs FILE.parquet [EXPECT.json] ... [--meta] [--check-stats] [--max-diffs N]\n' +
              '       node pqcheck.mjs --pairs DIR [--meta] [--check-stats]'

// canonical helpers (hex, canonF32, ..., fromDuck) and the DuckDB connection: canon.mjs

// ---------------------------------------------------------------- schema -> descriptors
// A descriptor says how a value of one Parquet field is represented canonically.
function annot(e) {
  const lt = e.logical_type, ct = e.converted_type
  return { lt, ct, ltype: lt?.type }
}
function leafDesc(e) {
  const { lt, ct, ltype } = annot(e)
  const d = { name: e.name, optional: e.repetition_type === 'OPTIONAL', phys: e.type, typeLength: e.type_length }
  const isDec = ct === 'DECIMAL' || ltype === 'DECIMAL'
  if (isDec) return { ...d, kind: 'dec', scale: Number(lt?.scale ?? e.scale ?? 0), precision: Number(lt?.precision ?? e.precision) }
  switch (e.type) {
    case 'BOOLEAN': return { ...d, kind: 'bool' }
    case 'FLOAT': return { ...d, kind: 'f32' }
    case 'DOUBLE': return { ...d, kind: 'f64' }
    case 'INT96': return { ...d, kind: 'ts', unit: 'NANOS', int96: true }
    case 'INT32': case 'INT64': {
      if (ct === 'DATE' || ltype === 'DATE') return { ...d, kind: 'date' }
      if (ltype === 'TIMESTAMP') return { ...d, kind: 'ts', unit: lt.unit, utc: lt.isAdjustedToUTC }
      if (ct === 'TIMESTAMP_MILLIS') return { ...d, kind: 'ts', unit: 'MILLIS', utc: true }
      if (ct === 'TIMESTAMP_MICROS') return { ...d, kind: 'ts', unit: 'MICROS', utc: true }
      if (ltype === 'TIME') return { ...d, kind: 'time', unit: lt.unit }
      if (ct === 'TIME_MILLIS') return { ...d, kind: 'time', unit: 'MILLIS' }
      if (ct === 'TIME_MICROS') return { ...d, kind: 'time', unit: 'MICROS' }
      const unsigned = (ltype === 'INTEGER' && lt.isSigned === false) || /^UINT_/.test(ct || '')
      return { ...d, kind: 'int', unsigned }
    }
    case 'BYTE_ARRAY':
      if (ct === 'UTF8' || ct === 'ENUM' || ct === 'JSON' || ltype === 'STRING' || ltype === 'ENUM' || ltype === 'JSON')
        return { ...d, kind: 'string' }
      return { ...d, kind: 'binary' }
    case 'FIXED_LEN_BYTE_ARRAY':
      if (ltype === 'FLOAT16') return { ...d, kind: 'unsupported', why: 'FLOAT16' }
      return { ...d, kind: 'binary', uuid: ltype === 'UUID' }
  }
  return { ...d, kind: 'unsupported', why: String(e.type) }
}
// node: hyparquet SchemaTree {element, children}
function descOf(node, asRequired = false) {
  const e = node.element
  let d
  if (!node.children.length) d = leafDesc(e)
  else {
    const { ct, ltype } = annot(e)
    if (ct === 'LIST' || ltype === 'LIST') {
      const r = node.children[0]
      let elem
      if (!r.children.length) elem = descOf(r, true)                       // 2-level list
      else if (r.children.length > 1 || r.element.name === 'array' || r.element.name === e.name + '_tuple')
        elem = { kind: 'struct', name: r.element.name, optional: false, fields: r.children.map(c => descOf(c)) }
      else elem = descOf(r.children[0])
      d = { kind: 'list', name: e.name, optional: e.repetition_type === 'OPTIONAL', elem }
    } else if (ct === 'MAP' || ct === 'MAP_KEY_VALUE' || ltype === 'MAP') {
      const kv = node.children[0]
      const key = kv.children.find(c => c.element.name === 'key') ?? kv.children[0]
      const val = kv.children.find(c => c.element.name === 'value') ?? kv.children[1]
      d = { kind: 'map', name: e.name, optional: e.repetition_type === 'OPTIONAL', kvName: kv.element.name,
            key: descOf(key), value: val ? descOf(val) : null }
    } else {
      d = { kind: 'struct', name: e.name, optional: e.repetition_type === 'OPTIONAL', fields: node.children.map(c => descOf(c)) }
    }
  }
  // a repeated field outside a LIST/MAP annotation is a required list of it
  if (!asRequired && e.repetition_type === 'REPEATED')
    return { kind: 'list', name: e.name, optional: false, elem: { ...d, optional: false }, bareRepeated: true }
  return d
}
const isPrimitive = (d) => !['struct', 'list', 'map'].includes(d.kind)

// ---------------------------------------------------------------- DuckDB
async function readDuck(path, descs) {
  const { conn } = await duckConn()
  const r = await conn.runAndReadAll(`SELECT * FROM read_parquet(${sqlStr(path)}, hive_partitioning = false)`)
  const columns = r.columnNames()
  const raw = r.getRows()
  const byName = columns.map(n => descs.findIndex(d => d.name === n))
  const rows = raw.map(row => row.map((v, i) => byName[i] < 0 ? { unknown_column: columns[i] } : fromDuck(descs[byName[i]], v)))
  return { columns, rows }
}
async function duckMeta(path) {
  const { conn } = await duckConn()
  const r = await conn.runAndReadAll(`SELECT row_group_id, row_group_num_rows, path_in_schema, type, num_values,
      stats_min_value, stats_max_value, stats_null_count, compression, encodings
      FROM parquet_metadata(${sqlStr(path)}) ORDER BY row_group_id, column_id`)
  return r.getRowObjectsJS().map(o => {
    for (const k of Object.keys(o)) if (typeof o[k] === 'bigint') o[k] = Number(o[k])
    return o
  })
}

// ---------------------------------------------------------------- arrow-rs (parquet-wasm)
let arrowLib = null
async function arrowLibs() {
  if (arrowLib) return arrowLib
  const pw = await import('parquet-wasm')
  const arrow = await import('apache-arrow')
  arrowLib = { readParquet: pw.readParquet, tableFromIPC: arrow.tableFromIPC, Type: arrow.Type, TimeUnit: arrow.TimeUnit }
  return arrowLib
}
function arrowValid(data, i) { return data.getValid(i) }
// resolve index i of a dictionary vector to [data, localIndex]
function vecAt(vec, i) {
  for (const ch of vec.data) { if (i < ch.length) return [ch, i]; i -= ch.length }
  throw new Error('dictionary index out of range')
}
function fromArrow(d, data, i) {
  const { Type, TimeUnit } = arrowLib
  if (!arrowValid(data, i)) return null
  let t = data.type
  if (t.typeId === Type.Dictionary) {
    const [dd, j] = vecAt(data.dictionary, Number(data.values[i]))
    return fromArrow(d, dd, j)
  }
  const id = t.typeId
  const varBytes = () => {
    const vo = data.valueOffsets
    return data.values.subarray(Number(vo[i]), Number(vo[i + 1]))
  }
  const viaGet = () => { const { makeVector } = arrowMod; return makeVector(data).get(i) }
  switch (d.kind) {
    case 'bool':
      if (id !== Type.Bool) return { arrow_type: String(t) }
      { const idx = data.offset + i; return (data.values[idx >> 3] & (1 << (idx & 7))) !== 0 }
    case 'int':
      if (id !== Type.Int) return { arrow_type: String(t) }
      return String(data.values[i])
    case 'f32': return id === Type.Float ? canonF32(data.values[i]) : { arrow_type: String(t) }
    case 'f64': return id === Type.Float ? canonF64(data.values[i]) : { arrow_type: String(t) }
    case 'string':
      if (id === Type.Utf8 || id === Type.LargeUtf8) return canonStr(varBytes())
      if (id === Type.Utf8View) return viaGet()
      return { arrow_type: String(t) }
    case 'binary':
      if (id === Type.Binary || id === Type.LargeBinary) return { hex: hex(varBytes()) }
      if (id === Type.FixedSizeBinary) return { hex: hex(data.values.subarray(data.stride * i, data.stride * (i + 1))) }
      if (id === Type.BinaryView) return { hex: hex(viaGet()) }
      if (id === Type.Utf8) return { hex: hex(varBytes()) }
      return { arrow_type: String(t) }
    case 'date':
      if (id === Type.Date && t.unit === 0 /* DAY */) return { date: String(data.values[i]) }
      if (id === Type.Date) { const ms = BigInt(data.values[i]); return ms % 86400000n ? { date_ms: String(ms) } : { date: String(ms / 86400000n) } }
      return { arrow_type: String(t) }
    case 'ts': {
      if (id !== Type.Timestamp) return { arrow_type: String(t) }
      const unit = { [TimeUnit.SECOND]: 'SECONDS', [TimeUnit.MILLISECOND]: 'MILLIS', [TimeUnit.MICROSECOND]: 'MICROS', [TimeUnit.NANOSECOND]: 'NANOS' }[t.unit]
      return canonTs(data.values[i], unit)
    }
    case 'time': {
      if (id !== Type.Time) return { arrow_type: String(t) }
      const unit = { [TimeUnit.MILLISECOND]: 'MILLIS', [TimeUnit.MICROSECOND]: 'MICROS', [TimeUnit.NANOSECOND]: 'NANOS' }[t.unit]
      if (!unit) return { arrow_time_unit: String(t) }
      return canonTime(data.values[i], unit)
    }
    case 'dec': {
      if (id !== Type.Decimal) return { arrow_type: String(t) }
      // little-endian 32-bit words, two's complement over bitWidth
      const words = data.values.subarray(data.stride * i, data.stride * (i + 1))
      let v = 0n
      for (let w = words.length - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[w] >>> 0)
      const bits = BigInt(words.length * 32)
      if (words[words.length - 1] & 0x80000000) v -= 1n << bits
      return fmtDec(v, t.scale)
    }
    case 'struct': {
      if (id !== Type.Struct) return { arrow_type: String(t) }
      const o = {}
      for (const f of d.fields) {
        const k = t.children.findIndex(c => c.name === f.name)
        o[f.name] = k < 0 ? { missing_field: f.name } : fromArrow(f, data.children[k], i)
      }
      return o
    }
    case 'list': {
      if (id !== Type.List && id !== Type.LargeList && id !== Type.FixedSizeList) return { arrow_type: String(t) }
      let b, e
      if (id === Type.FixedSizeList) { b = i * t.listSize; e = b + t.listSize } else { b = Number(data.valueOffsets[i]); e = Number(data.valueOffsets[i + 1]) }
      const out = []
      for (let k = b; k < e; k++) out.push(fromArrow(d.elem, data.children[0], k))
      return out
    }
    case 'map': {
      if (id !== Type.Map) return { arrow_type: String(t) }
      const b = Number(data.valueOffsets[i]), e = Number(data.valueOffsets[i + 1])
      const ent = data.children[0]
      const out = []
      for (let k = b; k < e; k++) out.push([fromArrow(d.key, ent.children[0], k), d.value ? fromArrow(d.value, ent.children[1], k) : null])
      return out
    }
  }
  return { unsupported: d.why ?? d.kind }
}
let arrowMod = null
async function readArrow(bytes, descs) {
  const { readParquet, tableFromIPC } = await arrowLibs()
  arrowMod ??= await import('apache-arrow')
  const wasmTable = readParquet(bytes)
  const table = tableFromIPC(wasmTable.intoIPCStream())
  const columns = table.schema.fields.map(f => f.name)
  const rows = Array.from({ length: table.numRows }, () => new Array(columns.length))
  columns.forEach((name, c) => {
    const d = descs.find(x => x.name === name)
    const vec = table.getChildAt(c)
    let r = 0
    for (const data of vec.data) {
      for (let i = 0; i < data.length; i++, r++) rows[r][c] = d ? fromArrow(d, data, i) : { unknown_column: name }
    }
  })
  return { columns, rows }
}

// ---------------------------------------------------------------- hyparquet
let hyLib = null
async function hyLibs() {
  if (hyLib) return hyLib
  const hp = await import('hyparquet')
  const { compressors } = await import('hyparquet-compressors')
  const thrift = await import('hyparquet/src/thrift.js')
  hyLib = { ...hp, compressors, thrift }
  return hyLib
}
// raw values out of hyparquet: no Date objects, no utf8 guessing, no lossy decimals
const RAW_PARSERS = {
  timestampFromMilliseconds: (v) => ({ __ts: BigInt(v), unit: 'MILLIS' }),
  timestampFromMicroseconds: (v) => ({ __ts: BigInt(v), unit: 'MICROS' }),
  timestampFromNanoseconds: (v) => ({ __ts: BigInt(v), unit: 'NANOS' }),
  dateFromDays: (v) => ({ __date: v }),
  stringFromBytes: (b) => b && canonStr(b),
  jsonFromBytes: (b) => b && canonStr(b),
  uuidFromBytes: (b) => b,
}
function fromHy(d, v) {
  if (v === null || v === undefined) return null
  switch (d.kind) {
    case 'bool': return typeof v === 'boolean' ? v : { not_bool: String(v) }
    case 'int': return typeof v === 'number' || typeof v === 'bigint' ? String(v) : { not_int: String(v) }
    case 'f32': return canonF32(v)
    case 'f64': return canonF64(v)
    case 'string':
      if (v instanceof Uint8Array) return canonStr(v)
      return v
    case 'binary': return v instanceof Uint8Array ? { hex: hex(v) } : { not_binary: String(v) }
    case 'date': return v && '__date' in v ? { date: String(v.__date) } : { not_date: String(v) }
    case 'ts': return v && '__ts' in v ? canonTs(v.__ts, v.unit) : { not_ts: String(v) }
    case 'time': return typeof v === 'number' || typeof v === 'bigint' ? canonTime(v, d.unit) : { not_time: String(v) }
    case 'dec':
      // annotations were stripped before reading: the physical value arrives as is
      if (v instanceof Uint8Array) return fmtDec(beSigned(v), d.scale)
      if (typeof v === 'number' && Number.isInteger(v)) return fmtDec(BigInt(v), d.scale)
      if (typeof v === 'bigint') return fmtDec(v, d.scale)
      return { dec_lossy: String(v) }
    case 'struct': {
      if (typeof v !== 'object') return { not_struct: String(v) }
      const o = {}
      for (const f of d.fields) o[f.name] = fromHy(f, v[f.name])
      return o
    }
    case 'list': return Array.isArray(v) || ArrayBuffer.isView(v) ? Array.from(v, x => fromHy(d.elem, x)) : { not_list: String(v) }
    case 'map': {
      // the MAP annotation was stripped: a struct holding the repeated key/value group
      const kv = v[d.kvName]
      if (kv === null || kv === undefined) return []
      if (!Array.isArray(kv)) return { not_map: J(Object.keys(v)) }
      return kv.map(e => [fromHy(d.key, e?.key ?? e?.[d.key.name]), d.value ? fromHy(d.value, e?.value ?? e?.[d.value.name]) : null])
    }
  }
  return { unsupported: d.why ?? d.kind }
}
async function readHy(ab, descs) {
  const { parquetMetadata, parquetReadObjects, compressors } = await hyLibs()
  const md = parquetMetadata(ab, { parsers: RAW_PARSERS })
  // hyparquet turns DECIMAL into (lossy) JS numbers and MAP into objects keyed by
  // String(key): strip those annotations so it hands back the physical values / pairs.
  for (const e of md.schema) {
    if (e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL' ||
        e.converted_type === 'MAP' || e.converted_type === 'MAP_KEY_VALUE' || e.logical_type?.type === 'MAP') {
      e.converted_type = undefined; e.logical_type = undefined
    }
  }
  const objs = await parquetReadObjects({ file: ab, metadata: md, compressors, utf8: false, parsers: RAW_PARSERS })
  const columns = descs.map(d => d.name)
  const rows = objs.map(o => descs.map(d => (d.name in o) ? fromHy(d, o[d.name]) : { missing_column: d.name }))
  return { columns, rows }
}

// ---------------------------------------------------------------- footer (raw thrift)
function rawFooter(buf) {
  const { thrift } = hyLib
  const n = buf.length
  if (n < 12 || buf.toString('latin1', n - 4) !== 'PAR1') throw new Error('not a Parquet file (no PAR1 trailer)')
  const len = buf.readUInt32LE(n - 8)
  const view = new DataView(buf.buffer, buf.byteOffset + n - 8 - len, len)
  return thrift.deserializeTCompactProtocol({ view, offset: 0 })
}
// a raw stats value (Parquet plain encoding of one value) -> canonical
function decodeStat(d, b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const need = (k) => { if (b.length !== k) throw new Error(`stat value has ${b.length} bytes, want ${k}`) }
  switch (d.kind) {
    case 'bool': need(1); return b[0] !== 0
    case 'f32': need(4); return canonF32(dv.getFloat32(0, true))
    case 'f64': need(8); return canonF64(dv.getFloat64(0, true))
    case 'string': return canonStr(b)
    case 'binary': return { hex: hex(b) }
  }
  let iv
  if (d.phys === 'INT32') { need(4); iv = d.unsigned ? BigInt(dv.getUint32(0, true)) : BigInt(dv.getInt32(0, true)) }
  else if (d.phys === 'INT64') { need(8); iv = d.unsigned ? dv.getBigUint64(0, true) : dv.getBigInt64(0, true) }
  else if (d.kind === 'dec') iv = beSigned(b)
  else throw new Error(`no stats decoding for ${d.kind}/${d.phys}`)
  switch (d.kind) {
    case 'int': return String(iv)
    case 'dec': return fmtDec(iv, d.scale)
    case 'date': return { date: String(iv) }
    case 'ts': return canonTs(iv, d.unit)
    case 'time': return canonTime(iv, d.unit)
  }
  throw new Error(`no stats decoding for ${d.kind}`)
}
// Parquet sort order on canonical values; floats: NaN never reaches here
const decKey = (s) => BigInt(s.dec.replace('.', ''))
function numOfFloat(c) {
  const k = c.f32 ?? c.f64
  if (c.f32 !== undefined) { f32buf.setUint32(0, parseInt(k, 16)); return f32buf.getFloat32(0) }
  f32buf.setBigUint64(0, BigInt(k)); return f32buf.getFloat64(0)
}
function cmpCanon(d, a, b) {
  const c3 = (x, y) => (x < y ? -1 : x > y ? 1 : 0)
  switch (d.kind) {
    case 'bool': return c3(a ? 1 : 0, b ? 1 : 0)
    case 'int': return c3(BigInt(a), BigInt(b))
    case 'f32': case 'f64': return c3(numOfFloat(a), numOfFloat(b))
    case 'string': return Buffer.compare(Buffer.from(typeof a === 'string' ? a : '', 'utf8'), Buffer.from(typeof b === 'string' ? b : '', 'utf8'))
    case 'binary': return Buffer.compare(Buffer.from(a.hex, 'hex'), Buffer.from(b.hex, 'hex'))
    case 'dec': return c3(decKey(a), decKey(b))
    case 'date': return c3(BigInt(a.date), BigInt(b.date))
    case 'ts': return c3(BigInt(a.ts_us ?? a.ts_ns), BigInt(b.ts_us ?? b.ts_ns))
    case 'time': return c3(BigInt(a.time_us ?? a.time_ns), BigInt(b.time_us ?? b.time_ns))
  }
  throw new Error('no order for ' + d.kind)
}
const isNaNCanon = (c) => c && (c.f32 === 'NaN' || c.f64 === 'NaN')

async function checkStats(path, buf, descs, duckRes) {
  const problems = [], notes = []
  const footer = rawFooter(buf)
  const meta = await duckMeta(path)
  // row counts per row group as DuckDB's parquet_metadata reports them
  const rgRows = []
  for (const m of meta) rgRows[m.row_group_id] = m.row_group_num_rows
  const rgs = footer.field_4 ?? []
  if (rgRows.length !== rgs.length) problems.push(`parquet_metadata shows ${rgRows.length} row groups, footer ${rgs.length}`)
  const total = rgRows.reduce((a, b) => a + b, 0)
  if (total !== duckRes.rows.length) problems.push(`row groups hold ${total} rows, DuckDB read ${duckRes.rows.length}`)
  let chunks = 0, start = 0
  rgs.forEach((rg, g) => {
    const n = rgRows[g] ?? Number(rg.field_3)
    if (Number(rg.field_3) !== n) problems.push(`row group ${g}: footer num_rows ${rg.field_3}, parquet_metadata ${n}`)
    const cols = rg.field_1 ?? []
    for (const cc of cols) {
      const cmd = cc.field_3
      if (!cmd) continue
      const pathIn = cmd.field_3.map(x => Buffer.from(x).toString('utf8'))
      if (pathIn.length !== 1) continue
      const ci = descs.findIndex(x => x.name === pathIn[0])
      const d = descs[ci]
      if (!d || !isPrimitive(d) || d.kind === 'unsupported' || d.int96) continue
      const col = duckRes.columns.indexOf(d.name)
      if (col < 0) continue
      chunks++
      const where = `row group ${g} column ${d.name}`
      const vals = duckRes.rows.slice(start, start + n).map(r => r[col])
      const nulls = vals.filter(v => v === null).length
      const live = vals.filter(v => v !== null && !isNaNCanon(v))
      const st = cmd.field_12
      if (!st) { problems.push(`${where}: no statistics`); continue }
      if (st.field_3 === undefined) problems.push(`${where}: null_count missing (want ${nulls})`)
      else if (Number(st.field_3) !== nulls) problems.push(`${where}: null_count ${st.field_3}, values have ${nulls}`)
      const hasMin = st.field_6 !== undefined, hasMax = st.field_5 !== undefined
      if (!live.length) {
        if (hasMin || hasMax) {
          const both = [st.field_6, st.field_5].filter(Boolean).map(b => decodeStat(d, b))
          if (!both.every(isNaNCanon)) problems.push(`${where}: min/max ${J(both)} present but no non-null, non-NaN values`)
        }
        continue
      }
      if (!hasMin || !hasMax) {
        // leaving min/max out of a float chunk that holds NaN is what DuckDB and parquet-mr
        // do (old readers mishandle NaN); anywhere else our writer must write them
        if (!vals.some(isNaNCanon)) problems.push(`${where}: min_value/max_value missing`)
        else notes.push(`${where}: no min/max (chunk has NaN)`)
        continue
      }
      let lo = live[0], hi = live[0]
      for (const v of live) { if (cmpCanon(d, v, lo) < 0) lo = v; if (cmpCanon(d, v, hi) > 0) hi = v }
      let smin, smax
      try { smin = decodeStat(d, st.field_6); smax = decodeStat(d, st.field_5) } catch (e) { problems.push(`${where}: ${e.message}`); continue }
      const minExact = st.field_8 !== false, maxExact = st.field_7 !== false
      if (isNaNCanon(smin) || isNaNCanon(smax)) { problems.push(`${where}: NaN in min/max stats (${J(smin)}, ${J(smax)})`); continue }
      const cm = cmpCanon(d, smin, lo), cx = cmpCanon(d, smax, hi)
      if (minExact ? cm !== 0 : cm > 0) problems.push(`${where}: min_value ${J(smin)}${minExact ? '' : ' (inexact)'}, values give ${J(lo)}`)
      if (maxExact ? cx !== 0 : cx < 0) problems.push(`${where}: max_value ${J(smax)}${maxExact ? '' : ' (inexact)'}, values give ${J(hi)}`)
    }
    start += n
  })
  return { problems, notes, chunks, rowGroups: rgs.length }
}

// ---------------------------------------------------------------- comparison
// exp.rowsJ (optional): exp.rows with every cell already JSON-encoded, shared by the readers
function diffRows(reader, exp, got, max) {
  const out = []
  let count = 0
  const note = (s) => { count++; if (out.length < max) out.push(s) }
  if (J(exp.columns) !== J(got.columns)) note(`${reader}: columns ${J(got.columns)}, expected ${J(exp.columns)}`)
  // align by column name so a column-order difference is reported once, not per cell
  const idx = exp.columns.map(c => got.columns.indexOf(c))
  if (exp.rows.length !== got.rows.length) note(`${reader}: ${got.rows.length} rows, expected ${exp.rows.length}`)
  const n = Math.min(exp.rows.length, got.rows.length)
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < exp.columns.length; c++) {
      if (idx[c] < 0) continue
      const e = exp.rowsJ ? exp.rowsJ[r][c] : J(exp.rows[r][c]), g = J(got.rows[r][idx[c]])
      if (e !== g) note(`${reader}: row ${r} column "${exp.columns[c]}": expected ${e} got ${g}`)
    }
  }
  return { count, lines: out }
}

async function checkFile(path, expect, opts) {
  const lines = []
  let ok = true
  const say = (s) => lines.push(s)
  let buf
  try { buf = readFileSync(path) } catch (e) { return { ok: false, lines: [`  read: FAIL ${e.message}`] } }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const { parquetMetadata, parquetSchema } = await hyLibs()
  let descs
  try { descs = parquetSchema(parquetMetadata(ab, { parsers: RAW_PARSERS })).children.map(c => descOf(c)) }
  catch (e) { return { ok: false, lines: [`  schema: FAIL cannot parse footer: ${e.message}`] } }

  const results = {}
  const readers = {
    duckdb: () => readDuck(path, descs),
    arrow: () => readArrow(bytes, descs),
    hyparquet: () => readHy(ab, descs),
  }
  const timing = {}
  for (const name of opts.readers) {
    const t0 = performance.now()
    try { results[name] = await readers[name]() } catch (e) { results[name] = { error: String(e?.message ?? e).split('\n')[0] } }
    timing[name] = Math.round(performance.now() - t0)
  }
  if (opts.dump) for (const [k, v] of Object.entries(results)) say(`  dump ${k}: ${J(v)}`)
  const ref = opts.readers.find(n => !results[n].error)
  if (expect) expect = { ...expect, rowsJ: expect.rows.map(r => r.map(J)) }
  let refMatchesExpect = false
  for (const name of opts.readers) {
    const r = results[name]
    if (r.error) { ok = false; say(`  ${name}: FAIL cannot read: ${r.error}`); continue }
    const shape = `${r.rows.length} rows x ${r.columns.length} columns, ${timing[name]} ms`
    const problems = []
    let nd = 0
    if (expect) {
      const d = diffRows(name, expect, r, opts.maxDiffs); nd += d.count; problems.push(...d.lines)
      if (name === ref) refMatchesExpect = d.count === 0
    }
    // both equal to expect: they agree, no need to compare them cell by cell again
    if (name !== ref && !(expect && refMatchesExpect && nd === 0)) {
      const d = diffRows(name, { columns: results[ref].columns, rows: results[ref].rows }, r, opts.maxDiffs)
      if (d.count) { nd += d.count; problems.push(...d.lines.map(l => l.replace(`${name}:`, `${name} vs ${ref}:`))) }
    }
    if (nd) { ok = false; say(`  ${name}: FAIL ${nd} difference(s) (${shape})`); for (const p of problems.slice(0, opts.maxDiffs)) say(`    ${p}`) }
    else say(`  ${name}: ok (${shape}${expect ? ', equals expect' : ''}${name !== ref ? `, agrees with ${ref}` : ''})`)
  }
  if (opts.meta) {
    try { say(J({ file: path, column_chunks: await duckMeta(path) })) } catch (e) { ok = false; say(`  meta: FAIL ${e.message}`) }
  }
  if (opts.checkStats) {
    if (!results.duckdb || results.duckdb.error) { ok = false; say('  stats: FAIL needs DuckDB values') }
    else {
      try {
        const s = await checkStats(path, buf, descs, results.duckdb)
        if (s.problems.length) { ok = false; say(`  stats: FAIL ${s.problems.length} problem(s) in ${s.chunks} column chunks, ${s.rowGroups} row groups`); for (const p of s.problems.slice(0, opts.maxDiffs)) say(`    ${p}`) }
        else say(`  stats: ok (${s.chunks} column chunks, ${s.rowGroups} row groups${s.notes.length ? `; ${s.notes.length} NaN chunk(s) without min/max` : ''})`)
      } catch (e) { ok = false; say(`  stats: FAIL ${e.message}`) }
    }
  }
  return { ok, lines }
}

// ---------------------------------------------------------------- --pairs: files and their expect files
function walk(dir) {
  const out = []
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name)
    if (ent.isDirectory()) out.push(...walk(p))
    else if (ent.name.endsWith('.parquet')) out.push(p)
  }
  return out
}
// CASE.parquet -> CASE.expect.json; several files sharing a prefix (CASE.1.parquet,
// CASE-part-00001.parquet, CASE_rg2.parquet, CASE/part-0.parquet) -> the longest prefix
// with an expect file.
function findExpect(file) {
  let stem = file.replace(/\.parquet$/, '')
  for (;;) {
    if (existsSync(stem + '.expect.json')) return stem + '.expect.json'
    const b = basename(stem)
    const m = b.match(/^(.*[^._-])[._-][^._-]*$/)
    if (m) { stem = join(dirname(stem), m[1]); continue }
    const up = dirname(stem)
    if (up === stem || up === '.' || up === '/') return null
    stem = up
  }
}
const natural = (a, b) => a.localeCompare(b, undefined, { numeric: true })

// ---------------------------------------------------------------- main
async function main(argv) {
  const opts = { meta: false, checkStats: false, maxDiffs: 5, readers: ['duckdb', 'arrow', 'hyparquet'], dump: false }
  const jobs = []          // {files: [path], expectPath}
  let pairsDir = null
  const pos = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--meta') opts.meta = true
    else if (a === '--check-stats') opts.checkStats = true
    else if (a === '--dump') opts.dump = true
    else if (a === '--pairs') pairsDir = argv[++i]
    else if (a === '--max-diffs') opts.maxDiffs = Number(argv[++i])
    else if (a === '--readers') opts.readers = argv[++i].split(',')
    else if (a === '-h' || a === '--help') { console.log(USAGE); return 0 }
    else if (a.startsWith('--')) { console.error(`pqcheck: unknown option ${a}\n${USAGE}`); return 2 }
    else pos.push(a)
  }
  if (opts.readers.some(r => !['duckdb', 'arrow', 'hyparquet'].includes(r))) { console.error(USAGE); return 2 }
  for (let i = 0; i < pos.length; i++) {
    if (!pos[i].endsWith('.json') && pos[i + 1]?.endsWith('.json')) { jobs.push({ file: pos[i], expectPath: pos[i + 1] }); i++ }
    else if (pos[i].endsWith('.json')) { console.error(`pqcheck: ${pos[i]} follows no Parquet file\n${USAGE}`); return 2 }
    else jobs.push({ file: pos[i], expectPath: null })
  }
  if (pairsDir) {
    if (!existsSync(pairsDir) || !statSync(pairsDir).isDirectory()) { console.error(`pqcheck: ${pairsDir}: not a directory`); return 2 }
    for (const f of walk(pairsDir).sort(natural)) jobs.push({ file: f, expectPath: findExpect(f), fromPairs: true })
  }
  if (!jobs.length) { console.error(USAGE); return 2 }

  // files sharing one expect file: if a file's own row count is not the expect's,
  // its rows are compared as part of the concatenation of the group (in name order).
  const expects = new Map()
  const loadExpect = (p) => {
    if (!expects.has(p)) {
      try { const e = JSON.parse(readFileSync(p, 'utf8')); if (!Array.isArray(e.columns) || !Array.isArray(e.rows)) throw new Error('needs "columns" and "rows"'); expects.set(p, e) }
      catch (e) { expects.set(p, { error: e.message }) }
    }
    return expects.get(p)
  }
  const groups = new Map()
  for (const j of jobs) if (j.expectPath) { if (!groups.has(j.expectPath)) groups.set(j.expectPath, []); groups.get(j.expectPath).push(j) }

  let passed = 0, failed = 0
  const t0 = performance.now()
  for (const j of jobs) {
    console.log(`${j.file}${j.expectPath ? ` (expect ${j.expectPath})` : j.fromPairs ? ' (no expect file: readers checked against each other)' : ''}`)
    let expect = null, ok = true, extra = []
    if (j.expectPath) {
      const e = loadExpect(j.expectPath)
      if (e.error) { ok = false; extra.push(`  expect: FAIL ${j.expectPath}: ${e.error}`) }
      else {
        const group = groups.get(j.expectPath)
        if (group.length > 1) {
          // slice the rows that belong to this file out of the group's expect
          let start = 0
          for (const g of group) {
            if (g === j) break
            g.rowCount ??= await rowCount(g.file)
            start += g.rowCount
          }
          j.rowCount ??= await rowCount(j.file)
          expect = { columns: e.columns, rows: e.rows.slice(start, start + j.rowCount) }
          extra.push(`  expect: rows ${start}..${start + j.rowCount - 1} of ${j.expectPath} (${group.length} files share it)`)
          if (j === group[group.length - 1] && start + j.rowCount !== e.rows.length) { ok = false; extra.push(`  expect: FAIL the ${group.length} files hold ${start + j.rowCount} rows, expect has ${e.rows.length}`) }
        } else expect = e
      }
    }
    const r = await checkFile(j.file, expect, opts)
    ok = ok && r.ok
    for (const l of [...extra, ...r.lines]) console.log(l)
    console.log(`RESULT ${ok ? 'ok' : 'FAIL'} ${j.file}`)
    ok ? passed++ : failed++
  }
  console.log(`pqcheck: ${jobs.length} file(s) in ${Math.round(performance.now() - t0)} ms`)
  console.log(`${passed} passed, ${failed} failed`)
  return failed ? 1 : 0
}
async function rowCount(path) {
  const { parquetMetadata } = await hyLibs()
  const buf = readFileSync(path)
  return Number(parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)).num_rows)
}

main(process.argv.slice(2)).then(
  (rc) => { process.exitCode = rc },
  (e) => { console.error(`pqcheck: ${e?.stack ?? e}`); process.exitCode = 1 })
