#!/usr/bin/env bash
# kill -9 at random instants while files land and batches plan, write,
# commit and checkpoint; restart each time.  The final table must hold every
# input record exactly once (deltacheck against the reference decoder's
# rows), with every bad record in bad_records/ once.  make test kills 12
# times; make test-long 50 times over more files.
. "$(dirname "$0")/lib.sh"

R=$SRC/tests/readers
if ! command -v node >/dev/null || [ ! -d "$R/node_modules" ]; then
    skip "kill -9 loop" "node or $R/node_modules missing (make deps-test)"
    done_testing; exit
fi
KILLS=12 FILES=240
if [ -n "${INGESTD_TEST_LONG:-}" ]; then KILLS=50 FILES=1000; fi
SCHEMA='id=long not null,ts=timestamp,event_type=string,user_id=long,country=string,url=string,amount=decimal(12,2),is_mobile=boolean'
L=$T/landing
mkdir -p "$L" "$T/stage"
cat >"$T/crash.conf" <<EOF
[pipeline]
name = crash
checkpoint = $T/checkpoint
trigger = 0
max_batch_bytes = 64KiB

[source]
type = directory
path = $L
pattern = *.json
settle_time = 200ms

[schema]
id = long not null
ts = timestamp
event_type = string
user_id = long
country = string
url = string
amount = decimal(12,2)
is_mobile = boolean

[sink]
path = $T/table
partition_by = event_type
checkpoint_interval = 3
EOF
node "$R/genevents.mjs" --dir "$T/gen" --files "$FILES" --lines-per-file 60 --bad-every 41 \
    >/dev/null 2>&1
mapfile -t pending < <(ls "$T"/gen/*.json)
per=$(( (FILES + KILLS) / (KILLS + 1) ))
next=0
land() {    # land N: rename the next N generated files into place
    local k
    for ((k = 0; k < $1 && next < ${#pending[@]}; k++, next++)); do
        mv "${pending[$next]}" "$L/$(basename "${pending[$next]}")"
    done
}
killed=0 replays=0 startfail=0
for ((i = 0; i < KILLS; i++)); do
    land "$per"
    "$BIN" --config "$T/crash.conf" --metrics-listen off 2>>"$T/daemon.log" &
    pid=$!
    _pids+=("$pid")
    # Anywhere from start-up (recovery) to deep into the batches.
    sleep "0.$(printf '%03d' $(( RANDOM % 900 + 20 )))"
    land 3
    sleep "0.0$(( RANDOM % 10 ))"
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"
        killed=$((killed + 1))
    else
        startfail=$((startfail + 1))
    fi
    wait "$pid" 2>/dev/null
done
replays=$(grep -c 'replaying a batch planned before a restart' "$T/daemon.log")
land "${#pending[@]}"
"$BIN" --config "$T/crash.conf" --once --metrics-listen off 2>"$T/final.log"
rc=$?
[ $killed -ge $((KILLS - 2)) ] && [ $rc = 0 ] \
    && ok "$killed kill -9 over $FILES files ($replays batches replayed after a restart), then --once drains: exit 0" \
    || nok "kill loop" "killed=$killed startfail=$startfail final rc=$rc" "$(grep -m5 -E 'level=error' "$T/daemon.log" "$T/final.log")"
node "$R/jsonexpect.mjs" --schema "$SCHEMA" --partition-by event_type --bad-out "$T/bad.json" "$L" \
    >"$T/expect.json" 2>"$T/expect.log"
if node "$R/deltacheck.mjs" "$T/table" --expect "$T/expect.json" --strict >"$T/check.log" 2>&1; then
    ok "every record exactly once after $killed crashes ($(grep -o '^ok rows: [0-9]* row' "$T/check.log"); $(grep -o '[0-9]* checkpoint(s)' "$T/check.log" | head -1))"
else
    nok "table after the crashes" "$(grep -m 8 FAIL "$T/check.log")"
fi
want=$(wc -l <"$T/bad.json")
got=$(cat "$T"/checkpoint/bad_records/*.ndjson 2>/dev/null | wc -l)
dups=$(cat "$T"/checkpoint/bad_records/*.ndjson 2>/dev/null | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const k=s.trim().split('\n').filter(Boolean).map(l=>{const j=JSON.parse(l);return j.file+':'+j.line});console.log(k.length-new Set(k).size)})")
[ "$want" = "$got" ] && [ "$dups" = 0 ] && ok "bad records: $got, each once" \
    || nok "bad records after crashes" "want $want got $got duplicates $dups"
leftover=$(find "$T/checkpoint" "$T/table/_delta_log" -name '.tmp-*' | wc -l)
ok "temp files left by the kills: $leftover (ignored by readers)"

done_testing
