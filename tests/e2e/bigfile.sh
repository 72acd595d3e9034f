#!/usr/bin/env bash
# One file larger than many batches: it spans several batches cut at line
# boundaries, and the process stays within memory_limit whatever the file's
# size.  make test: 96 MiB (max_batch_bytes 16 MiB); make test-long: 2 GiB
# (max_batch_bytes 128 MiB).  Peak RSS is read from the kernel (VmHWM).
. "$(dirname "$0")/lib.sh"

R=$SRC/tests/readers
if ! command -v node >/dev/null || [ ! -d "$R/node_modules" ]; then
    skip "a file larger than a batch" "node or $R/node_modules missing (make deps-test)"
    done_testing; exit
fi
SIZE=96MiB BATCH_MIB=16
[ -n "${INGESTD_TEST_LONG:-}" ] && SIZE=2GiB BATCH_MIB=128
mkdir -p "$T/landing"
cat >"$T/big.conf" <<CONF
[pipeline]
name = big
checkpoint = $T/checkpoint
max_batch_bytes = ${BATCH_MIB}MiB
memory_limit = 256MiB

[source]
type = directory
path = $T/landing
settle_time = 0

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
CONF
node "$R/genevents.mjs" --dir "$T/gen" --files 1 --bytes "$SIZE" --bad-every 100003 >/dev/null 2>"$T/gen.log"
mv "$T"/gen/*.json "$T/landing/big.json"
bytes=$(stat -c %s "$T/landing/big.json")
lines=$(wc -l <"$T/landing/big.json")
"$BIN" --config "$T/big.conf" --once 2>"$T/run.log" &
pid=$!
_pids+=("$pid")
peak=0
while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    sleep 0.05
done
wait "$pid"; rc=$?
batches=$(grep -c 'msg="batch committed"' "$T/run.log")
batch_bytes=$((BATCH_MIB << 20))
want_batches=$(( (bytes + batch_bytes - 1) / batch_bytes ))
[ $rc = 0 ] && [ "$batches" -ge "$want_batches" ] \
    && ok "a $((bytes >> 20)) MiB file in $batches batches of at most ${BATCH_MIB} MiB, exit 0" \
    || nok "big file" "rc=$rc batches=$batches (want >= $want_batches)" "$(grep -m3 error "$T/run.log")"
# Under the sanitizers RSS includes their shadow memory and quarantine.
if [ -n "${INGESTD_SANITIZE:-}" ]; then
    skip "peak RSS within memory_limit" "sanitizer build (shadow memory); measured in plain builds"
elif [ "$peak" -gt 0 ] && [ "$peak" -lt $((256 * 1024)) ]; then
    ok "peak RSS $((peak / 1024)) MiB < memory_limit 256 MiB while ingesting $((bytes >> 20)) MiB"
else
    nok "peak RSS within memory_limit" "peak ${peak} KiB"
fi
rows=$("$BIN" table info "$T/table" --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).num_rows))")
bad=$(cat "$T"/checkpoint/bad_records/*.ndjson 2>/dev/null | wc -l)
[ $((rows + bad)) = "$lines" ] && ok "$rows rows + $bad bad records = the file's $lines lines" \
    || nok "rows" "rows=$rows bad=$bad lines=$lines"
if [ -z "${INGESTD_TEST_LONG:-}" ]; then
    SCHEMA='id=long not null,ts=timestamp,event_type=string,user_id=long,country=string,url=string,amount=decimal(12,2),is_mobile=boolean'
    node "$R/jsonexpect.mjs" --schema "$SCHEMA" "$T/landing" >"$T/expect.json" 2>/dev/null
    if node "$R/deltacheck.mjs" "$T/table" --expect "$T/expect.json" --strict >"$T/check.log" 2>&1; then
        ok "every line of the file once, across the batch boundaries ($(grep -o '^ok rows: [0-9]* row' "$T/check.log"))"
    else
        nok "rows across batch boundaries" "$(grep -m5 FAIL "$T/check.log")"
    fi
fi
done_testing
