// manyrows.mjs FILE N - checks pqgen's many_rows file row by row in DuckDB.
// Every value of that case is a function of the row number (see
// tests/tools/pqgen.c, case_many_rows), so DuckDB can recompute each row and
// count the rows that differ, without an expect file: this is how the
// 10-million-row file of `make test-long` is checked.  Exit 0 when the file
// has exactly N rows, in order, all equal.
//   node manyrows.mjs --mutate FILE OUT   copies FILE with one value changed
//                                         (the test proves the check can fail)
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
if (args[0] === '--mutate') {
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const q = (p) => `'${p.replaceAll("'", "''")}'`;
    await con.run(`COPY (SELECT * REPLACE (CASE WHEN id = 12345 THEN 'oops' ELSE cat END AS cat)
                   FROM read_parquet(${q(args[1])}) ORDER BY id) TO ${q(args[2])} (FORMAT parquet)`);
    process.exit(0);
}
const [file, nText] = args;
if (!file || !nText) {
    console.error('usage: node manyrows.mjs FILE N');
    process.exit(2);
}
const n = BigInt(nText);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET autoinstall_known_extensions=false');
const src = `read_parquet('${file.replaceAll("'", "''")}', file_row_number = true, hive_partitioning = false)`;
const sql = `
  SELECT count(*) AS total,
         count(*) FILTER (WHERE id <> file_row_number) AS bad_id,
         count(*) FILTER (WHERE v IS DISTINCT FROM
             CASE WHEN id % 10 = 9 THEN NULL ELSE ((id * 37) % 1000) / 8.0 END) AS bad_v,
         count(*) FILTER (WHERE cat IS DISTINCT FROM
             CASE WHEN id % 23 = 0 THEN NULL
                  ELSE ['red', 'green', 'blue', 'cyan', 'magenta', 'yellow'][id % 6 + 1] END) AS bad_cat,
         count(*) FILTER (WHERE epoch_us(ts) IS DISTINCT FROM 1700000000000000 + id * 1000003) AS bad_ts,
         count(*) FILTER (WHERE flag IS DISTINCT FROM
             CASE WHEN id % 5 = 4 THEN NULL ELSE (id // 3) % 2 = 1 END) AS bad_flag
  FROM ${src}`;
const t0 = Date.now();
const rows = (await con.runAndReadAll(sql)).getRowObjects();
const r = rows[0];
const bad = ['bad_id', 'bad_v', 'bad_cat', 'bad_ts', 'bad_flag'].filter((k) => r[k] !== 0n);
console.log(`duckdb: ${r.total} rows in ${Date.now() - t0} ms; ` +
            bad.map((k) => `${k}=${r[k]}`).join(' ') + (bad.length ? '' : 'every row equals its formula'));
process.exit(r.total === n && bad.length === 0 ? 0 : 1);
