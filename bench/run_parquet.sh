#!/bin/sh
# Issue 3's Parquet writer benchmark: ingestd's writer vs DuckDB's COPY, same rows, same run.
#
#   bench/run_parquet.sh [ROWS]        (or BENCH_ROWS=N; default 10000000)
#   BENCH_DIR=DIR   where the files go (default: a fresh mktemp -d, removed at the end)
#   BENCH_KEEP=1    keep the files
#
# Builds the library and bench/*.c (make bench), runs build/bench/parquet_bench
# (generates the batches, times our writer, writes the same rows uncompressed
# for DuckDB), then bench/parquet_duckdb.mjs (loads them, times DuckDB's COPY,
# prints the table, the ratios and the cross-check).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROWS=${1:-${BENCH_ROWS:-10000000}}
make -s bench
if [ -n "${BENCH_DIR:-}" ]; then
  dir=$BENCH_DIR; mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/parquet_bench.XXXXXX")
  [ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$dir"' EXIT
fi
echo "parquet bench: $ROWS rows in $dir ($(nproc) cores)"
"$BUILD/bench/parquet_bench" "$dir" "$ROWS"
sync   # let source.parquet's dirty pages reach the disk before DuckDB's timed COPY
node bench/parquet_duckdb.mjs "$dir"
