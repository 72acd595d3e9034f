#!/usr/bin/env bash
# Parquet files are read back by three independent readers - DuckDB, arrow-rs
# (parquet-wasm) and hyparquet - whose values must equal what was written
# (tests/readers/pqcheck.mjs).  First the harness proves it can fail
# (tests/readers/selftest.mjs), then every file `pqgen --all` writes is checked
# against its CASE.expect.json, footer statistics included.
. "$(dirname "$0")/lib.sh"

R=$SRC/tests/readers
NODE=$(command -v node || true)
if [ -z "$NODE" ] || [ ! -d "$R/node_modules" ]; then
    why="node not on PATH"
    [ -n "$NODE" ] && why="$R/node_modules missing (make deps-test runs npm ci there)"
    skip "Parquet reader harness self-test" "$why"
    skip "pqgen files read back by DuckDB, arrow-rs and hyparquet" "$why"
    done_testing; exit
fi
LIMIT=$((180 * SCALE))

# report_blocks FILE: pqcheck output -> one TAP line per "RESULT ok|FAIL path",
# with that file's report lines as diagnostics when it failed.
report_blocks() {
    local line block=() st f
    while IFS= read -r line; do
        if [[ $line == "RESULT "* ]]; then
            read -r _ st f <<<"$line"
            f=${f#"$T/out/"}
            if [ "$st" = ok ] && [[ $f == */_delta_log/* ]]; then
                ok "$f: DuckDB, arrow-rs and hyparquet agree (Delta checkpoint, no expect file)"
            elif [ "$st" = ok ] && ! printf '%s\n' "${block[@]}" | grep -q 'no expect file'; then
                ok "$f: DuckDB, arrow-rs and hyparquet read the written values; stats match"
            else
                if [ "$st" = ok ]; then
                    nok "$f: no expect file (CASE.expect.json for it or a shorter prefix)" "${block[@]}"
                else
                    nok "$f: read back by DuckDB, arrow-rs and hyparquet: mismatch" "${block[@]}"
                fi
            fi
            block=()
        elif [[ $line == "{"* ]]; then
            :
        else
            block+=("$line")
        fi
    done < "$1"
}

# 1. The harness itself: passes on DuckDB-written files of every type with expect
#    files made by hand, fails on each mutated value and on a patched footer stat.
TMPDIR=$T timeout "$LIMIT" "$NODE" "$R/selftest.mjs" > "$T/selftest.out" 2>&1
rc=$?
fails=0
while IFS= read -r line; do
    case $line in
        "PASS "*) ok "harness: ${line#PASS }" ;;
        "FAIL "*) fails=$((fails + 1)); nok "harness: ${line#FAIL }" \
                      "$(awk -v t="$line" '$0 == t { p = 1; next } p && /^#/ { sub(/^#   /, ""); print; next } p { exit }' "$T/selftest.out" | head -40)" ;;
    esac
done < "$T/selftest.out"
if [ $rc -ne 0 ] && [ $fails -eq 0 ]; then
    nok "harness self-test exited $rc" "$(tail -20 "$T/selftest.out")"
fi

# 2. What our writer produces: CASE.parquet (or several CASE*.parquet) + CASE.expect.json.
if [ ! -x "$TOOLS/pqgen" ]; then
    skip "pqgen files read back by DuckDB, arrow-rs and hyparquet" "$TOOLS/pqgen not built"
    done_testing; exit
fi
mkdir -p "$T/out"
if ! timeout "$LIMIT" "$TOOLS/pqgen" --all "$T/out" > "$T/pqgen.out" 2>&1; then
    nok "pqgen --all writes its cases" "$(tail -20 "$T/pqgen.out")"
    done_testing; exit
fi
n=$(find "$T/out" -name '*.parquet' | wc -l)
if [ "$n" -eq 0 ]; then
    nok "pqgen --all wrote no .parquet file" "$(ls -la "$T/out")"
    done_testing; exit
fi
t0=$(now_ms)
timeout "$LIMIT" "$NODE" "$R/pqcheck.mjs" --pairs "$T/out" --check-stats > "$T/pqcheck.out" 2>&1
rc=$?
report_blocks "$T/pqcheck.out"
got=$(grep -c '^RESULT ' "$T/pqcheck.out")
if [ "$got" -ne "$n" ]; then
    nok "pqcheck reported $got of $n files (rc=$rc)" "$(grep -v '^{' "$T/pqcheck.out" | tail -20)"
fi
echo "# pqcheck: $n files in $(( $(now_ms) - t0 )) ms"

# 3. A big file: 10 million rows with `make test-long`, a short one otherwise.
#    Every value of many_rows is a function of the row number, so DuckDB checks
#    each row against its formula (tests/readers/manyrows.mjs) without an
#    expect file of a gigabyte.
if [ -n "${INGESTD_TEST_LONG:-}" ]; then ROWS=10000000; else ROWS=300000; fi
mkdir -p "$T/big"
t0=$(now_ms)
if PQGEN_ROWS=$ROWS timeout "$LIMIT" "$TOOLS/pqgen" many_rows "$T/big" > "$T/big.out" 2>&1; then
    ok "pqgen writes $ROWS rows ($(sed -n 's/.*many_rows.parquet: //p' "$T/big.out"), $(( $(now_ms) - t0 )) ms)"
else
    nok "pqgen writes $ROWS rows" "$(tail -5 "$T/big.out")"
fi
out=$(timeout "$LIMIT" "$NODE" "$R/manyrows.mjs" "$T/big/many_rows.parquet" "$ROWS" 2>&1) \
    && ok "DuckDB reads all $ROWS rows, each equal to what was written: $out" \
    || nok "DuckDB check of the $ROWS-row file" "$out"
"$NODE" "$R/manyrows.mjs" --mutate "$T/big/many_rows.parquet" "$T/big/mutated.parquet" >/dev/null 2>&1
out=$("$NODE" "$R/manyrows.mjs" "$T/big/mutated.parquet" "$ROWS" 2>&1)
[ $? -eq 1 ] && grep -q 'bad_cat=1' <<<"$out" && ok "the row check catches one changed value ($out)" \
    || nok "row check missed a changed value" "$out"

# 4. Our reader on files others wrote: DuckDB's (data page v2 with DELTA_* and
#    BYTE_STREAM_SPLIT encodings, v1 with dictionaries; zstd, snappy, gzip,
#    none) and Spark's (../shared's Delta tables, when present).  pqdump prints
#    what our reader read; the three readers must each read exactly that.
mkdir -p "$T/others"
if ! "$NODE" "$R/duckwrite.mjs" "$T/others" > "$T/duckwrite.out" 2>&1; then
    nok "DuckDB writes the files for our reader" "$(tail -5 "$T/duckwrite.out")"
fi
shared=$SRC/../shared/data/delta-golden
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$T/others" -name '*.parquet' -print0)
if [ -d "$shared" ]; then
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$shared" -name '*.parquet' -print0 | sort -z)
else
    skip "our reader on Spark-written files" "../shared is not beside the source tree"
fi
pairs=() i=0
for f in "${files[@]}"; do
    i=$((i + 1))
    if "$TOOLS/pqdump" "$f" > "$T/others/ours.$i.json" 2> "$T/others/ours.$i.err"; then
        pairs+=("$f" "$T/others/ours.$i.json")
    else
        nok "our reader reads ${f#"$SRC/../"}" "$(cat "$T/others/ours.$i.err")"
    fi
done
if [ ${#pairs[@]} -gt 0 ]; then
    timeout "$LIMIT" "$NODE" "$R/pqcheck.mjs" "${pairs[@]}" > "$T/others.out" 2>&1
    while IFS= read -r line; do
        case $line in
            "RESULT ok "*) ok "our reader reads ${line#RESULT ok } as DuckDB, arrow-rs and hyparquet do" ;;
            "RESULT FAIL "*) nok "our reader differs from the three readers on ${line#RESULT FAIL }" \
                                 "$(grep -v '^{' "$T/others.out" | grep -B6 -F "$line" | head -12)" ;;
        esac
    done < "$T/others.out"
    n=$(grep -c '^RESULT ' "$T/others.out")
    [ "$n" -eq $(( ${#pairs[@]} / 2 )) ] || nok "pqcheck judged $n of $(( ${#pairs[@]} / 2 )) files" "$(tail -5 "$T/others.out")"
fi
done_testing
