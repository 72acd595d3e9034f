// duckwrite.mjs OUTDIR - DuckDB writes Parquet files with the encodings
// our reader must handle in files others wrote: data page v2 (DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT), v1 with dictionaries, and
// snappy / zstd / gzip / none, over flat and nested columns with nulls.
import { DuckDBInstance } from '@duckdb/node-api';

const out = process.argv[2];
if (!out) {
    console.error('usage: node duckwrite.mjs OUTDIR');
    process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET autoinstall_known_extensions=false');
await con.run(`CREATE TABLE t AS
  SELECT i::BIGINT AS id,
         CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 13) % 1000 - 500 END::INTEGER AS small,
         CASE WHEN i % 11 = 0 THEN NULL ELSE i * 1.25 END::DOUBLE AS d,
         (i % 97)::FLOAT / 4 AS f,
         CASE WHEN i % 5 = 0 THEN NULL ELSE 'name-' || (i % 300) || repeat('é', i % 4) END AS s,
         ('2024-01-01'::DATE + (i % 400)::INTEGER) AS day,
         make_timestamp(1700000000000000 + i * 1000003) AS ts,
         (i * 7 % 100000)::DECIMAL(30, 3) / 7 AS big_dec,
         (i % 1000)::DECIMAL(9, 2) AS small_dec,
         i % 3 = 0 AS flag,
         CASE WHEN i % 9 = 0 THEN NULL ELSE [i, NULL, i * 2][1:(i % 4)] END AS ints,
         CASE WHEN i % 13 = 0 THEN NULL
              ELSE {'a': i % 17, 'b': CASE WHEN i % 2 = 0 THEN NULL ELSE 'x' || i END} END AS st,
         CASE WHEN i % 6 = 0 THEN NULL ELSE MAP(['k' || (i % 5)], [i % 8]) END AS m
  FROM range(5000) r(i)`);
const files = [
    ['duck_v2_zstd', "PARQUET_VERSION v2, COMPRESSION zstd"],
    ['duck_v2_snappy', "PARQUET_VERSION v2, COMPRESSION snappy, ROW_GROUP_SIZE 1000"],
    ['duck_v1_snappy', "COMPRESSION snappy"],
    ['duck_v1_gzip', "COMPRESSION gzip"],
    ['duck_v1_none', "COMPRESSION uncompressed"],
];
for (const [name, opts] of files)
    await con.run(`COPY (SELECT * FROM t ORDER BY id) TO '${out}/${name}.parquet' (FORMAT parquet, ${opts})`);
console.log(files.map((f) => f[0]).join(' '));
