#!/bin/sh
# Directory-ingest benchmark: `ingestd --once` on a landing directory of NDJSON events
# vs DuckDB's read_json + COPY to Parquet (zstd), threads=1 and threads=2, same input,
# same run, each one process measured by /usr/bin/time -f '%e %M %U %S' (wall s, peak
# RSS KiB, user and system CPU s).
#
#   bench/run_ingest.sh
#   BENCH_BYTES=1GiB   input size (genevents units: 50MB, 1GiB, or bytes); default 1GiB
#   BENCH_DIR=DIR      where everything goes (default: a fresh mktemp -d, removed at the end)
#   BENCH_KEEP=1       keep it;  BENCH_REUSE=1: keep DIR/landing if it is already there
#   BUILD=build        ingestd is $BUILD/ingestd (not rebuilt here: run make first)
#
# Input: tests/readers/genevents.mjs --nested, seed 1, files of 16 MiB, no bad records
# (DuckDB would stop on them).  Pipeline: trigger = 0, default batch sizes, [sink]
# compression = zstd (level 3, the default), settle_time = 0 (the files are complete
# before the run starts; the default 1s would add a fixed wait to ingestd's time).  DuckDB: bench/ingest_duckdb.mjs copy, with
# read_json's column types mapped from the same schema (timestamp -> TIMESTAMPTZ, see
# there).  Output size: ingestd's table files outside _delta_log; DuckDB's .parquet.
# Rows: every run must produce one row per input line; ingestd's rows are DuckDB's
# count(*) over the table's Parquet files (no orphans after one clean run) and, if
# `ingestd table info --json` works, its num_rows too.
# The page cache holds the input for every run (it was just written); `sync` runs
# before each timed run so write-back of the previous step does not land in it.
# If ingestd fails (as before the engine lands), that is reported with its log's tail,
# the DuckDB runs still happen, and the exit status is 1.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BYTES=${BENCH_BYTES:-1GiB}
ING="$BUILD/ingestd"
[ -x /usr/bin/time ] || { echo "run_ingest: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
if [ -n "${BENCH_DIR:-}" ]; then
  dir=$BENCH_DIR; mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ingest_bench.XXXXXX")
  [ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$dir"' EXIT
fi
dir=$(cd "$dir" && pwd)
landing=$dir/landing

# ---- input
files=$(node -e 'import("./tests/readers/genevents.mjs").then(g => console.log(Math.max(1, Math.ceil(g.parseSize(process.argv[1]) / 2 ** 24))))' "$BYTES")
if [ "${BENCH_REUSE:-0}" = 1 ] && [ -s "$dir/schema.txt" ] && [ -d "$landing" ]; then
  echo "ingest bench: reusing $landing"
else
  rm -rf "$landing"
  node tests/readers/genevents.mjs --dir "$landing" --files "$files" --bytes "$BYTES" --nested --seed 1 > "$dir/schema.txt"
fi
schema=$(cat "$dir/schema.txt")
in_bytes=$(find "$landing" -type f -name '*.json' -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
lines=$(find "$landing" -type f -name '*.json' -exec cat {} + | wc -l)
echo "ingest bench: $in_bytes bytes, $lines lines in $(find "$landing" -type f -name "*.json" | wc -l) files, $(nproc) cores, load $(cut -d" " -f1-3 /proc/loadavg), dir $dir"
echo "ingest bench: schema $schema"

# ---- ingestd
conf=$dir/pipeline.conf
{
  echo "[pipeline]"
  echo "name = bench"
  echo "checkpoint = $dir/checkpoint"
  echo "trigger = 0"
  echo
  echo "[source]"
  echo "type = directory"
  echo "path = $landing"
  echo "pattern = *.json"
  echo "format = json"
  echo "settle_time = 0"
  echo
  echo "[schema]"
  node bench/ingest_duckdb.mjs schema-ini "$schema"
  echo
  echo "[sink]"
  echo "path = $dir/table"
  echo "compression = zstd"
} > "$conf"
rm -rf "$dir/checkpoint" "$dir/table" "$dir"/duckdb?.* "$dir"/ingestd.*
sync
rc=0
if [ -x "$ING" ]; then
  echo "ingest bench: ingestd --once ..."
  /usr/bin/time -f '%e %M %U %S' -o "$dir/ingestd.time" "$ING" --config "$conf" --once > "$dir/ingestd.log" 2>&1 || rc=$?
else
  echo "$ING: not built" > "$dir/ingestd.log"; rc=127
fi
tbl=null; info=null
if [ "$rc" = 0 ]; then
  sync
  tbl=$(node bench/ingest_duckdb.mjs table "$dir/table") || tbl=null
  info=$("$ING" table info "$dir/table" --json 2>/dev/null) || info=null
  [ -n "$info" ] || info=null
  echo "$info" | node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))' 2>/dev/null || info=null
else
  echo "ingest bench: ingestd FAILED (exit $rc), continuing with DuckDB; log: $dir/ingestd.log"
fi
printf '{"rc":%d,"table":%s,"info":%s}\n' "$rc" "$tbl" "$info" > "$dir/ingestd.json"

# ---- DuckDB, threads=1 and threads=2
for t in 1 2; do
  sync
  echo "ingest bench: DuckDB threads=$t ..."
  /usr/bin/time -f '%e %M %U %S' -o "$dir/duckdb$t.time" node bench/ingest_duckdb.mjs copy --threads "$t" --schema "$schema" \
    --glob "$landing/*.json" --out "$dir/duckdb$t.parquet" > "$dir/duckdb$t.json" || echo "ingest bench: DuckDB threads=$t FAILED"
done

echo
node bench/ingest_duckdb.mjs report "$dir" "$in_bytes" "$lines"
