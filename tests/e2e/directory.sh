#!/usr/bin/env bash
# The directory source end to end, with the real binary: files landing in a
# directory become rows of a Delta table, each exactly once.  The expected
# rows come from an independent JavaScript decoder of the same contract
# (tests/readers/jsonexpect.mjs) and the table is judged by
# tests/readers/deltacheck.mjs (its own log replay, DuckDB reading every
# file).  Covered: --once over 1,000 files in nested directories with bad
# records and empty files; the daemon with files renamed into place,
# written slowly, landing in new subdirectories, deleted after discovery;
# an unreadable file; metrics and /status; `ingestd files`; a second
# process on the same checkpoint; an empty checkpoint against a table that
# has the pipeline's commits.
. "$(dirname "$0")/lib.sh"

R=$SRC/tests/readers
if ! command -v node >/dev/null || [ ! -d "$R/node_modules" ]; then
    skip "directory source end to end" "node or $R/node_modules missing (make deps-test)"
    done_testing; exit
fi
SCHEMA='id=long not null,ts=timestamp,event_type=string,user_id=long,country=string,url=string,amount=decimal(12,2),is_mobile=boolean,tags=string,meta=string'

# conf FILE NAME [extra [source] lines] [extra [pipeline] lines]
conf() {
    local f=$1 name=$2 src=${3:-} pipe=${4:-}
    mkdir -p "$T/$name/landing"
    cat >"$f" <<EOF
[pipeline]
name = $name
checkpoint = $T/$name/checkpoint
${pipe:-trigger = 0}

[source]
type = directory
path = $T/$name/landing
pattern = *.json
settle_time = 300ms
$src

[schema]
id = long not null
ts = timestamp
event_type = string
user_id = long
country = string
url = string
amount = decimal(12,2)
is_mobile = boolean
tags = string
meta = string

[sink]
path = $T/$name/table
partition_by = event_type
EOF
}

# expect NAME: the rows of every file now in NAME's landing dir (and archive).
expect() {
    node "$R/jsonexpect.mjs" --schema "$SCHEMA" --partition-by event_type \
        --bad-out "$T/$1.bad.json" "${@:2}" >"$T/$1.expect.json" 2>"$T/$1.expect.log"
}
judge() {   # judge WHAT NAME
    if node "$R/deltacheck.mjs" "$T/$2/table" --expect "$T/$2.expect.json" --strict >"$T/$2.check" 2>&1; then
        ok "$1 ($(grep -o '^ok rows: [0-9]* row' "$T/$2.check"))"
    else
        nok "$1" "$(grep -m 8 -E 'FAIL|Error' "$T/$2.check")"
    fi
}
count_lines() { cat "$@" 2>/dev/null | wc -l; }

# --- --once over 1,000 files ------------------------------------------------------
L=$T/once/landing
conf "$T/once.conf" once "" "max_batch_bytes = 256KiB
trigger = 0"
node "$R/genevents.mjs" --dir "$T/gen" --files 1000 --lines-per-file 12 --bad-every 97 --nested \
    >/dev/null 2>&1
for i in $(seq 0 9); do mkdir -p "$L/d$i/sub"; done
i=0
for f in "$T"/gen/*.json; do
    case $((i % 3)) in
        0) mv "$f" "$L/d$((i % 10))/" ;;
        1) mv "$f" "$L/d$((i % 10))/sub/" ;;
        *) mv "$f" "$L/" ;;
    esac
    i=$((i + 1))
done
: >"$L/empty-1.json"; : >"$L/d3/empty-2.json"
printf '{"id":1}\n' >"$L/ignored.txt"                 # pattern *.json only
printf '{"id":2}\n' >"$L/.hidden.json"                # dotfiles are ignored
start=$(now_ms)
"$BIN" --config "$T/once.conf" --once 2>"$T/once.log"
rc=$?
dur=$(( $(now_ms) - start ))
batches=$(grep -c 'msg="batch committed"' "$T/once.log")
[ $rc = 0 ] && [ "$batches" -gt 5 ] && ok "--once: 1,002 files in $batches batches (max_batch_bytes 256KiB), exit 0, ${dur} ms" \
    || nok "--once over 1,000 files" "rc=$rc batches=$batches" "$(grep -m5 -E 'level=(error|warn)' "$T/once.log")"
rm "$L/.hidden.json"     # not ingested: the reference decoder must not count it either
expect once "$L"
judge "--once: the table holds every good line of the 1,000 files exactly once" once
bad_want=$(count_lines "$T/once.bad.json")
bad_got=$(count_lines "$T"/once/checkpoint/bad_records/*.ndjson)
[ "$bad_want" -gt 0 ] && [ "$bad_want" = "$bad_got" ] \
    && ok "--once: $bad_got bad records in bad_records/, as many as the reference decoder finds" \
    || nok "bad records" "want $bad_want got $bad_got"
"$BIN" files --config "$T/once.conf" --json >"$T/files.json" 2>&1
got=$(node -e "const j=JSON.parse(require('fs').readFileSync('$T/files.json','utf8')); const c={}; for (const f of j) c[f.state]=(c[f.state]||0)+1; console.log(j.length+' '+(c.committed||0)+' '+j.filter(f=>f.path.startsWith('d3/sub/')).length)")
[ "$got" = "1002 1002 33" ] && ok "ingestd files --json: 1,002 files tracked, all committed, nested paths" \
    || nok "ingestd files --json" "$got"
"$BIN" files --config "$T/once.conf" | grep -q "committed in version" \
    && ok "ingestd files: human-readable states" || nok "ingestd files (human)" "$("$BIN" files --config "$T/once.conf" 2>&1 | head -3)"
# A second --once finds nothing new and commits nothing.
v1=$("$BIN" table info "$T/once/table" --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).version))")
"$BIN" --config "$T/once.conf" --once 2>"$T/once2.log"
v2=$("$BIN" table info "$T/once/table" --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).version))")
[ $? = 0 ] && [ "$v1" = "$v2" ] && ! grep -q 'batch committed' "$T/once2.log" \
    && ok "a second --once over the same files commits nothing (version stays $v1)" \
    || nok "second --once is a no-op" "v1=$v1 v2=$v2"
# A file changed after ingestion is counted and skipped.
f=$(ls "$L"/d1/*.json | head -1)
echo '{"id":999999999,"event_type":"late"}' >>"$f"
"$BIN" --config "$T/once.conf" --once 2>"$T/once3.log"
grep -q 'file changed after ingestion: skipped' "$T/once3.log" && ! grep -q 'batch committed' "$T/once3.log" \
    && ok "a file appended to after ingestion is skipped and reported" \
    || nok "changed file skipped" "$(grep -m3 -E 'warn|committed' "$T/once3.log")"

# --- the checkpoint belongs to one process ---------------------------------------
start_daemon "$T/lock1.log" --config "$T/once.conf" --metrics-listen off
"$BIN" --config "$T/once.conf" --metrics-listen off 2>"$T/lock2.log" &
p2=$!
if wait_for 5 sh -c "! kill -0 $p2 2>/dev/null"; then wait $p2; rc2=$?; else rc2=timeout; kill $p2; fi
grep -q "in use by another ingestd process" "$T/lock2.log" && [ "$rc2" = 1 ] \
    && ok "a second process on the same checkpoint exits 1: checkpoint in use" \
    || nok "checkpoint lock" "rc=$rc2 $(grep -m2 error "$T/lock2.log")"
stop_daemon "$PID"
# An empty checkpoint against the table with this pipeline's commits.
mv "$T/once/checkpoint" "$T/once/checkpoint.saved"
"$BIN" --config "$T/once.conf" --once 2>"$T/fresh.log"
rc=$?
[ $rc = 1 ] && grep -q "reset-checkpoint" "$T/fresh.log" \
    && ok "an empty checkpoint against a table holding the pipeline's commits is refused (--reset-checkpoint)" \
    || nok "empty checkpoint refused" "rc=$rc $(grep -m2 error "$T/fresh.log")"
rm -rf "$T/once/checkpoint"; mv "$T/once/checkpoint.saved" "$T/once/checkpoint"

# --- the daemon: files arriving while it runs --------------------------------------
D=$T/live/landing
conf "$T/live.conf" live "" ""
node "$R/genevents.mjs" --dir "$T/gen2" --files 300 --lines-per-file 10 --start-id 100000 --bad-every 53 \
    >/dev/null 2>&1
mkdir -p "$T/stage"
for f in $(ls "$T"/gen2/*.json | head -100); do mv "$f" "$D/"; done     # present at start
start_daemon "$T/live.log" --config "$T/live.conf" --metrics-listen 127.0.0.1:0
[ -n "$PORT" ] && ok "daemon started (metrics on port $PORT)" || nok "daemon start" "$(tail -5 "$T/live.log")"
# renamed into place, in new nested directories too
n=0
for f in $(ls "$T"/gen2/*.json | head -150); do
    if [ $((n % 30)) = 0 ]; then sub="new$n/deeper"; mkdir -p "$D/$sub"; fi
    cp "$f" "$T/stage/x.tmp" && mv "$T/stage/x.tmp" "$D/$sub/$(basename "$f")" && rm "$f"
    n=$((n + 1))
done
# written slowly: one line every 100 ms, no rename (settle_time 300 ms)
slow=$(ls "$T"/gen2/*.json | head -1)
( while IFS= read -r line; do printf '%s\n' "$line"; sleep 0.1; done <"$slow" ) >"$D/slow.json"
rm "$slow"
: >"$D/empty-live.json"
for f in "$T"/gen2/*.json; do cp "$f" "$T/stage/y.tmp"; mv "$T/stage/y.tmp" "$D/$(basename "$f")"; rm "$f"; done
want_files=$(find "$D" -name '*.json' | wc -l)
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 ~ "^"m"(\\{|$)" {print $2; exit}'; }
committed_files() {
    "$BIN" files --config "$T/live.conf" --json 2>/dev/null | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).filter(f=>f.state==='committed').length))"
}
export BIN T
export -f committed_files
if wait_for 60 bash -c "[ \"\$(committed_files)\" = $want_files ]"; then
    ok "daemon: all $want_files files committed while they landed (renamed, nested, slow, empty)"
else
    nok "daemon: files committed" "committed $(committed_files) of $want_files" "$(grep -m5 -E 'level=(error|warn)' "$T/live.log")"
fi
expect live "$D"
judge "daemon: the table holds every good line exactly once; the slowly written file whole" live
rows=$(node -e "const j=JSON.parse(require('fs').readFileSync('$T/live.expect.json','utf8')); console.log(j.rows.length)")
written=$(metric ingestd_records_written_total)
backlog=$(metric ingestd_source_backlog_files)
version=$(metric ingestd_table_version)
[ "${written%.*}" = "$rows" ] && [ "${backlog%.*}" = 0 ] && [ "${version%.*}" -gt 0 ] \
    && ok "metrics: records_written_total=$rows, backlog 0, table_version $version" \
    || nok "metrics" "written=$written rows=$rows backlog=$backlog version=$version"
curl -s "http://127.0.0.1:$PORT/metrics" >"$T/metrics.txt"
if command -v promtool >/dev/null; then
    promtool check metrics <"$T/metrics.txt" >/dev/null 2>&1 && ok "promtool check metrics: clean with batches" \
        || nok "promtool" "$(promtool check metrics <"$T/metrics.txt" 2>&1 | head -3)"
fi
curl -s "http://127.0.0.1:$PORT/status" >"$T/status.json"
got=$(node -e "const j=JSON.parse(require('fs').readFileSync('$T/status.json','utf8')); const p=j.pipelines?j.pipelines[0]:j[0]; const b=p.recent_batches; console.log(b.length>0 && b.length<=10 && b[0].files.length>0 && b[0].phases_s && b[0].rows_per_second>=0 ? 'ok' : JSON.stringify(p).slice(0,300))" 2>&1)
[ "$got" = ok ] && ok "/status: the last batches with rows/s, phase durations and their files" || nok "/status" "$got"

# deleted between discovery and reading: a slow trigger leaves the window open
conf "$T/del.conf" del "" "trigger = 3s"
stop_daemon "$PID"
start_daemon "$T/del.log" --config "$T/del.conf" --metrics-listen off
state() { "$BIN" files --config "$T/del.conf" --json 2>/dev/null | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const f=JSON.parse(s).find(f=>f.path==='$1'); console.log(f?f.state+(f.reason?':'+f.reason:''):'none')})"; }
export -f state
# A first file starts a batch; the next ones wait out the 3 s trigger.
printf '{"id":0,"event_type":"a"}\n' >"$T/stage/first.tmp"; mv "$T/stage/first.tmp" "$T/del/landing/first.json"
wait_for 10 bash -c "[ \"\$(state first.json)\" = committed ]"
printf '{"id":1,"event_type":"a"}\n' >"$T/stage/gone.tmp"; mv "$T/stage/gone.tmp" "$T/del/landing/gone.json"
printf '{"id":2,"event_type":"a"}\n' >"$T/stage/kept.tmp"; mv "$T/stage/kept.tmp" "$T/del/landing/kept.json"
wait_for 5 bash -c "[ \"\$(state gone.json)\" = discovered ]"
rm "$T/del/landing/gone.json"
if wait_for 15 bash -c "[ \"\$(state kept.json)\" = committed ]"; then
    st=$(state gone.json)
    [[ $st == skipped:deleted* ]] && ok "a file deleted after discovery is skipped ($st); the batch commits the rest" \
        || nok "deleted file" "$st"
else
    nok "deleted file: batch did not commit" "$(tail -5 "$T/del.log")"
fi
stop_daemon "$PID"
[ "$RC" = 0 ] && ok "SIGTERM: exit 0 in ${STOP_MS} ms" || nok "SIGTERM exit" "rc=$RC"

# --- an unreadable file (needs a user other than root to be unreadable) -----------
conf "$T/perm.conf" perm "" ""
printf '{"id":1,"event_type":"a"}\n' >"$T/perm/landing/ok.json"
printf '{"id":2,"event_type":"a"}\n' >"$T/perm/landing/secret.json"
RUN=()
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv >/dev/null; then
        chown -R 65534:65534 "$T/perm"; chmod 755 "$T"
        chown 0:0 "$T/perm/landing/secret.json"
        RUN=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    else
        RUN=(none)
    fi
fi
chmod 600 "$T/perm/landing/secret.json"
if [ "${RUN[0]:-}" = none ]; then
    skip "an unreadable file" "running as root without setpriv"
else
    sleep 0.4
    "${RUN[@]}" "$BIN" --config "$T/perm.conf" --once 2>"$T/perm.log"
    rc=$?
    [ $rc = 1 ] && grep -q 'file=secret.json reason="cannot read: Permission denied"' "$T/perm.log" \
        && grep -q 'batch committed' "$T/perm.log" \
        && ok "--once with an unreadable file: the rest committed, the file named, exit 1" \
        || nok "unreadable file" "rc=$rc" "$(grep -m4 -E 'warn|error|committed' "$T/perm.log")"
    "${RUN[@]}" "$BIN" --config "$T/perm.conf" --once 2>"$T/perm2.log"
    rc=$?
    [ $rc = 1 ] && grep -q 'file=secret.json reason="cannot read' "$T/perm2.log" \
        && ok "a second --once tries the unreadable file again, names it again, exit 1" \
        || nok "unreadable file, second run" "rc=$rc" "$(grep -m3 -E 'warn|error' "$T/perm2.log")"
    chmod 644 "$T/perm/landing/secret.json"
    "${RUN[@]}" "$BIN" --config "$T/perm.conf" --once 2>"$T/perm3.log"
    rc=$?
    n=$("$BIN" table info "$T/perm/table" --json 2>/dev/null | sed -n 's/.*"num_rows":\([0-9]*\).*/\1/p')
    [ $rc = 0 ] && [ "$n" = 2 ] && ok "once readable, the file is ingested: 2 rows, exit 0" \
        || nok "unreadable file made readable" "rc=$rc rows=$n" "$(grep -m3 -E 'warn|error' "$T/perm3.log")"
fi

done_testing
