#!/usr/bin/env bash
# Delta tables written by ingestd's Delta writer (through tests/tools/deltagen)
# are judged by an independent checker, tests/readers/deltacheck.mjs: its own
# log replay in JavaScript, DuckDB reading every data file and checkpoint,
# rows compared with what was sent, stats with the data.  Then the CLI
# (`ingestd table info|history`) is compared with the checker's numbers, on
# our tables and Spark's; the exactly-once fence, a crash between data write
# and commit, and two processes appending to one table at once.
. "$(dirname "$0")/lib.sh"

R=$SRC/tests/readers
GOLDEN=$SRC/../shared/data/delta-golden
NODE=$(command -v node || true)
GEN=$TOOLS/deltagen
have_node=1
if [ -z "$NODE" ] || [ ! -d "$R/node_modules" ]; then
    have_node=0
    why="node or $R/node_modules missing (make deps-test installs them)"
fi

# deltacheck TABLE [args]: runs the checker, keeps its report in $T/check.log.
deltacheck() {
    node "$R/deltacheck.mjs" "$@" >"$T/check.log" 2>&1
}
check_table() {   # check_table WHAT TABLE [args]
    local what=$1; shift
    if [ $have_node = 0 ]; then skip "$what" "$why"; return; fi
    if deltacheck "$@"; then ok "$what"; else nok "$what" "$(grep -m 8 -E 'FAIL|Error' "$T/check.log")"; fi
}
# json_get FILE EXPR: evaluates a JS expression on the parsed JSON `j`.
json_get() { node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8')); console.log($2)"; }

# --- the checker can fail: broken copies of Spark's tables are caught ---------
if [ $have_node = 0 ] || [ ! -d "$GOLDEN" ]; then
    skip "deltacheck self-test on broken copies of the golden tables" "${why:-../shared absent}"
elif node "$R/deltacheck_selftest.mjs" "$GOLDEN" >"$T/selftest.log" 2>&1; then
    ok "deltacheck self-test: $(grep -c '^ok' "$T/selftest.log") checks, every broken table caught"
else
    nok "deltacheck self-test" "$(grep -m 8 '^not ok' "$T/selftest.log")"
fi

# --- a partitioned table with evolution and checkpoints ----------------------
T1=$T/t1
out=$("$GEN" "$T1" --commits 12 --rows 2000 --partition-by day --checkpoint-interval 5 \
        --app gen --expect "$T/e1.json" --evolve 2>&1)
if [ "$out" = "committed 12 skipped 0 version 12" ]; then ok "deltagen: 12 commits (schema evolves at the 7th)"
else nok "deltagen: 12 commits" "$out"; fi
check_table "DuckDB reads every file of our table; rows equal the input; stats match; checkpoints equal the JSON log" \
    "$T1" --expect "$T/e1.json" --strict
[ -f "$T1/_delta_log/00000000000000000010.checkpoint.parquet" ] && [ -f "$T1/_delta_log/00000000000000000005.checkpoint.parquet" ] \
    && ok "checkpoints at versions 5 and 10 (delta.checkpointInterval = 5)" \
    || nok "checkpoints at versions 5 and 10" "$(ls "$T1/_delta_log")"

"$BIN" table info "$T1" --json >"$T/info1.json" 2>"$T/info1.err"
rc=$?
if [ $rc = 0 ] && [ "$(json_get "$T/info1.json" '[j.version, j.num_files, j.num_rows, j.txn.gen, j.partition_columns.join(), j.schema.fields.length].join(" ")')" = "12 48 24000 11 day 12" ]; then
    ok "table info --json: version 12, 48 files, 24000 rows, txn gen=11, partitioned by day, 12 columns"
else
    nok "table info --json" "rc=$rc $(cat "$T/info1.json" "$T/info1.err" | head -c 600)"
fi
if [ $have_node = 1 ] && deltacheck "$T1" --json; then
    summary=$(tail -1 "$T/check.log")
    want=$(node -e "const c=$summary, i=JSON.parse(require('fs').readFileSync('$T/info1.json','utf8')); console.log(c.version===i.version && c.num_files===i.num_files && c.num_rows===i.num_rows && c.size_bytes===i.size_bytes ? 'same' : 'differ: '+JSON.stringify(c))")
    [ "$want" = same ] && ok "table info agrees with the independent checker (version, files, rows, bytes)" \
        || nok "table info agrees with the checker" "$want"
else
    skip "table info agrees with the independent checker" "${why:-checker failed}"
fi
"$BIN" table info "$T1" >"$T/info1.txt" 2>&1
grep -q '^rows        24000$' "$T/info1.txt" && grep -q '^partitions  day$' "$T/info1.txt" \
    && grep -q 'extra *long' "$T/info1.txt" && grep -Eq '^  gen +11 ' "$T/info1.txt" \
    && ok "table info (human): rows, partitions, evolved column, txn" \
    || nok "table info (human)" "$(head -30 "$T/info1.txt")"

"$BIN" table history "$T1" --json >"$T/hist1.json" 2>&1
got=$(json_get "$T/hist1.json" "[j.length, j[0].version, j.reduce((s,e)=>s+(e.rows_added||0),0), j[0].lineage.batch, j[12].operation, j[0].operation].join('|')" 2>&1)
[ "$got" = "13|12|24000|11|CREATE TABLE|STREAMING UPDATE" ] \
    && ok "table history --json: 13 versions newest first, 24000 rows added, lineage batch 11 at version 12" \
    || nok "table history --json" "$got"
"$BIN" table history "$T1" --limit 3 >"$T/hist1.txt" 2>&1
[ "$(wc -l <"$T/hist1.txt")" = 4 ] && grep -q '"batch":11' "$T/hist1.txt" \
    && ok "table history (human) --limit 3" || nok "table history (human)" "$(cat "$T/hist1.txt")"

# --- exactly once: replaying the same batches is a no-op ---------------------
out=$("$GEN" "$T1" --commits 12 --rows 2000 --partition-by day --app gen --evolve 2>&1)
[ "$out" = "committed 0 skipped 12 version 12" ] \
    && ok "replaying batches 0-11 of appId gen: all 12 skipped by the txn fence" \
    || nok "replaying committed batches is skipped" "$out"
check_table "after the replay the table still equals the input once" "$T1" --expect "$T/e1.json" --strict

# --- a crash between data write and commit ------------------------------------
T2=$T/t2
"$GEN" "$T2" --commits 2 --rows 500 --partition-by region --app crash --expect "$T/e2.json" >/dev/null 2>&1
"$GEN" "$T2" --commits 1 --rows 500 --partition-by region --app crash --first-batch 2 \
    --crash-before-commit >"$T/crash.out" 2>&1
rc=$?
on_disk=$(find "$T2" -name '*.parquet' -not -path '*/_delta_log/*' | wc -l)
live=$("$BIN" table info "$T2" --json 2>/dev/null | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).num_files))" 2>/dev/null)
if [ $rc = 3 ] && [ "${live:-0}" -gt 0 ] && [ "$on_disk" -gt "$live" ]; then
    ok "crash before commit: $((on_disk - live)) orphan data files, $live live ones"
else
    nok "crash before commit leaves orphans" "rc=$rc on_disk=$on_disk live=$live $(cat "$T/crash.out")"
fi
check_table "after the crash the table opens and equals the two committed batches" "$T2" --expect "$T/e2.json" --strict
out=$("$GEN" "$T2" --commits 1 --rows 500 --partition-by region --app crash --first-batch 2 2>&1)
[ "$out" = "committed 1 skipped 0 version 3" ] && ok "the batch after the crash commits as version 3" \
    || nok "batch after the crash" "$out"

# --- two processes appending to one table at once -----------------------------
T3=$T/t3
N=${DELTA_CONCURRENT_COMMITS:-500}
[ -n "${INGESTD_SANITIZE:-}" ] && N=150
"$GEN" "$T3" --narrow --commits "$N" --rows 1 --app p1 --seed 1 --expect "$T/e3a.json" >"$T/p1.out" 2>&1 &
p1=$!
"$GEN" "$T3" --narrow --commits "$N" --rows 1 --app p2 --seed 2 --first-batch "$N" --expect "$T/e3b.json" >"$T/p2.out" 2>&1 &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
versions=$(ls "$T3/_delta_log" | grep -c '^[0-9]\{20\}\.json$')
last=$(ls "$T3/_delta_log" | grep '^[0-9]\{20\}\.json$' | sort | tail -1)
if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "$versions" = $((2 * N + 1)) ] && [ "$last" = "$(printf '%020d.json' $((2 * N)))" ]; then
    ok "two writers, $((2 * N)) commits: versions 0..$((2 * N)) all present, none lost ($(cat "$T/p1.out"); $(cat "$T/p2.out"))"
else
    nok "two concurrent writers" "rc=$rc1/$rc2 versions=$versions last=$last" "$(cat "$T/p1.out" "$T/p2.out" | head -5)"
fi
# Every version holds exactly one commit: one commitInfo and one txn per file.
bad=0
for f in "$T3"/_delta_log/*.json; do
    [ "$(grep -c '"commitInfo"' "$f")" = 1 ] || bad=$((bad + 1))
done
dup=$(cat "$T3"/_delta_log/*.json | grep -o '"txn":{"appId":"p[12]","version":[0-9]*' | sort | uniq -d | wc -l)
[ $bad = 0 ] && [ "$dup" = 0 ] && ok "no version written twice: one commitInfo per version, no txn version repeated" \
    || nok "no version written twice" "files without exactly one commitInfo: $bad, repeated txns: $dup"
if [ $have_node = 1 ]; then
    node -e "
      const fs=require('fs'); const a=JSON.parse(fs.readFileSync('$T/e3a.json')), b=JSON.parse(fs.readFileSync('$T/e3b.json'));
      fs.writeFileSync('$T/e3.json', JSON.stringify({columns:a.columns, rows:a.rows.concat(b.rows)}));"
fi
check_table "the shared table holds every row of both writers exactly once" "$T3" --expect "$T/e3.json" --strict
info3=$("$BIN" table info "$T3" --json 2>&1)
if [ $have_node = 1 ]; then
    got=$(echo "$info3" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log(j.txn.p1+' '+j.txn.p2+' '+j.num_rows)})")
    [ "$got" = "$((N - 1)) $((2 * N - 1)) $((2 * N))" ] && ok "txn p1=$((N - 1)) p2=$((2 * N - 1)), $((2 * N)) rows" \
        || nok "txn versions of both writers" "$got"
fi

# --- Spark's tables ---------------------------------------------------------------
if [ ! -d "$GOLDEN" ]; then
    skip "table info on Spark-written golden tables" "../shared absent"
else
    for g in "$GOLDEN"/*/; do
        name=$(basename "$g")
        if ! "$BIN" table info "$g" --json >"$T/g.json" 2>"$T/g.err"; then
            nok "table info $name" "$(cat "$T/g.err")"; continue
        fi
        if [ $have_node = 0 ] || [ -z "$(find "$g" -name '*.parquet' -not -path '*_delta_log*' | head -1)" ]; then
            ok "table info $name (no data files to count)"; continue
        fi
        if deltacheck "$g" --json; then
            summary=$(tail -1 "$T/check.log")
            res=$(node -e "const c=$summary, i=JSON.parse(require('fs').readFileSync('$T/g.json','utf8')); console.log(c.version===i.version && c.num_files===i.num_files && c.num_rows===i.num_rows ? 'same' : 'ours '+JSON.stringify([i.version,i.num_files,i.num_rows])+' checker '+JSON.stringify([c.version,c.num_files,c.num_rows]))")
            [ "$res" = same ] && ok "table info $name: version, files and rows equal the checker's (DuckDB counts)" \
                || nok "table info $name" "$res"
        else
            nok "deltacheck $name" "$(grep -m5 FAIL "$T/check.log")"
        fi
    done
fi

# --- errors --------------------------------------------------------------------
"$BIN" table info "$T/nothing" >"$T/err.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "no Delta table here" "$T/err.out" && ok "table info on a missing table: exit 1, clear message" \
    || nok "table info on a missing table" "rc=$rc $(cat "$T/err.out")"
"$BIN" table frobnicate "$T1" >"$T/err.out" 2>&1
[ $? = 2 ] && grep -q "usage: ingestd table" "$T/err.out" && ok "table with an unknown command: usage, exit 2" \
    || nok "table unknown command" "$(cat "$T/err.out")"
cp -r "$T1" "$T/t1gap" && rm "$T/t1gap/_delta_log/00000000000000000011.json"
"$BIN" table info "$T/t1gap" >"$T/err.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "version 11 is missing" "$T/err.out" && ok "a gap in the log is reported, not papered over" \
    || nok "gap in the log" "rc=$rc $(cat "$T/err.out")"

done_testing
