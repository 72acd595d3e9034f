#!/usr/bin/env bash
# CLI contract: flags, --check output, exit codes 0 / 1 / 2.
. "$(dirname "$0")/lib.sh"

out=$("$BIN" --version); rc=$?
[ $rc -eq 0 ] && [[ $out =~ ^ingestd\ [0-9]+\.[0-9]+\.[0-9]+$ ]] && ok "--version prints the version, exit 0" || nok "--version" "rc=$rc out=$out"
out=$("$BIN" --help); rc=$?
[ $rc -eq 0 ] && grep -q -- '--config FILE' <<<"$out" && grep -q -- '--once' <<<"$out" && grep -q -- '--check' <<<"$out" \
    && ok "--help documents the flags, exit 0" || nok "--help" "rc=$rc"
out=$("$BIN" --help-config); rc=$?
[ $rc -eq 0 ] && grep -q 'max_batch_bytes' <<<"$out" && grep -q 'settle_time' <<<"$out" && grep -q 'default 128MiB' <<<"$out" \
    && ok "--help-config lists keys with defaults" || nok "--help-config" "rc=$rc"

"$BIN" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '--config FILE is required' "$T/err" && ok "no arguments: usage error, exit 2" || nok "no arguments" "rc=$rc" "$(cat "$T/err")"
"$BIN" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok "unknown flag: exit 2" || nok "unknown flag" "rc=$rc"
"$BIN" --config "$T/none.conf" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "$T/none.conf: cannot open" "$T/err" && ok "missing config file: exit 2 naming it" || nok "missing config file" "rc=$rc" "$(cat "$T/err")"
"$BIN" --config x --metrics-listen nowhere 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'metrics-listen' "$T/err" && ok "bad --metrics-listen: exit 2" || nok "bad --metrics-listen" "rc=$rc"

# --check on a good config.
write_conf "$T/good.conf" good
out=$("$BIN" --check --config "$T/good.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = ok ] && ok "--check on a valid config prints ok, exit 0" || nok "--check valid" "rc=$rc" "$out"

# --check lists every error, each as FILE:LINE: reason.
cat > "$T/bad.conf" <<'CONF'
[pipeline]
name = Bad Name
checkpoint = /tmp/x
trigger = 30

[source]
type = directory
path = /srv/landing
pattren = *.json

[sink]
path = /tmp/t
target_file_size = huge
[extra]
CONF
"$BIN" --check --config "$T/bad.conf" >"$T/out" 2>&1; rc=$?
n=$(grep -cE "^$T/bad.conf:[0-9]+: " "$T/out")
if [ $rc -eq 2 ] && [ "$n" -eq 5 ] \
   && grep -q "bad.conf:2: name: 'Bad Name' is not a valid name" "$T/out" \
   && grep -q "bad.conf:4: trigger: duration '30' needs a unit" "$T/out" \
   && grep -q "bad.conf:9: unknown key 'pattren' in \[source\] (did you mean 'pattern'?)" "$T/out" \
   && grep -q "bad.conf:13: target_file_size:" "$T/out" \
   && grep -q "bad.conf:14: unknown section \[extra\]" "$T/out"; then
    ok "--check prints every error as FILE:LINE: reason, exit 2"
else
    nok "--check error list" "rc=$rc lines=$n" "$(cat "$T/out")"
fi

# --check probes what the config names.
write_conf "$T/probe.conf" probe
sed -i "s|^path = $T/probe/landing|path = $T/missing-landing|" "$T/probe.conf"
: > "$T/afile"
sed -i "s|^checkpoint = .*|checkpoint = $T/afile/ck|" "$T/probe.conf"
"$BIN" --check --config "$T/probe.conf" >"$T/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -qE "probe.conf:3: checkpoint: .*afile/ck.*[Nn]ot a directory" "$T/out" \
   && grep -q "probe.conf:7: path: $T/missing-landing: No such file or directory" "$T/out"; then
    ok "--check reports unreachable directories with FILE:LINE"
else
    nok "--check probes directories" "rc=$rc" "$(cat "$T/out")"
fi

# A table that does not exist yet is fine if its parent is writable.
write_conf "$T/newtable.conf" newtable
sed -i "s|^path = $T/newtable/table|path = $T/not/yet/there/table|" "$T/newtable.conf"
out=$("$BIN" --check --config "$T/newtable.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && ok "--check: a table to be created under a writable parent is ok" || nok "--check new table" "rc=$rc" "$out"

# Kafka brokers that do not answer.
cat > "$T/kafka.conf" <<CONF
[pipeline]
name = k
checkpoint = $T/k/ck
[source]
type = kafka
brokers = 127.0.0.1:1
topic = events
kafka.socket.connection.setup.timeout.ms = 1000
[sink]
path = $T/k/table
CONF
"$BIN" --check --config "$T/kafka.conf" >"$T/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "kafka.conf:6: brokers: 127.0.0.1:1 did not answer" "$T/out" \
    && ok "--check reports unreachable Kafka brokers" || nok "--check kafka" "rc=$rc" "$(cat "$T/out")"

# Running with a broken config: exit 2, errors on stderr.
"$BIN" --config "$T/bad.conf" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "bad.conf:4: trigger" "$T/err" && ok "run with an invalid config: exit 2 with FILE:LINE" || nok "run invalid" "rc=$rc"

# --once with nothing to do: exit 0 quickly, no server unless [metrics].
out=$(timeout $((10 * SCALE)) "$BIN" --once --config "$T/good.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && ! grep -q 'metrics server listening' <<<"$out" && grep -q 'msg="ingestd stopped"' <<<"$out" \
    && ok "--once exits 0; no metrics server without [metrics]" || nok "--once" "rc=$rc" "$out"

# Port in use: runtime failure, exit 1.
start_daemon "$T/d1.log" --config "$T/good.conf" --metrics-listen 127.0.0.1:0 || nok "daemon start" "$(cat "$T/d1.log")"
"$BIN" --config "$T/good.conf" --metrics-listen "127.0.0.1:$PORT" 2>"$T/err2"; rc=$?
[ $rc -eq 1 ] && grep -q 'cannot start the metrics server' "$T/err2" && ok "metrics port in use: exit 1 with a reason" || nok "port in use" "rc=$rc" "$(cat "$T/err2")"
stop_daemon "$PID"
[ "$RC" -eq 0 ] && ok "daemon exits 0 on SIGTERM" || nok "SIGTERM exit code" "rc=$RC"

# Log lines: ts=... level=... msg="..."
if grep -qE '^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z level=info msg="ingestd started"' "$T/d1.log" \
   && grep -qE '^ts=[^ ]+ level=info pipeline=good msg="pipeline started"' "$T/d1.log"; then
    ok "logs are one logfmt line per event"
else
    nok "log format" "$(head -5 "$T/d1.log")"
fi
done_testing
