#!/usr/bin/env bash
# Lifecycle: SIGTERM/SIGINT stop within a second (exit 0); SIGHUP reloads a
# good config and rejects a broken one while the old one keeps running.
. "$(dirname "$0")/lib.sh"

write_conf "$T/a.conf" alpha
for sig in TERM INT; do
    start_daemon "$T/$sig.log" --config "$T/a.conf" --metrics-listen 127.0.0.1:0 || nok "start" "$(cat "$T/$sig.log")"
    t0=$(now_ms); kill -$sig "$PID"; wait "$PID"; rc=$?; ms=$(( $(now_ms) - t0 ))
    limit=$((1000 * SCALE))
    [ $rc -eq 0 ] && [ $ms -lt $limit ] && ok "SIG$sig: exit 0 in ${ms}ms (< ${limit}ms)" || nok "SIG$sig stop" "rc=$rc ms=$ms" "$(tail -3 "$T/$sig.log")"
    grep -q "msg=\"shutting down\" reason=SIG$sig" "$T/$sig.log" && ok "SIG$sig: shutdown is logged" || nok "SIG$sig log" "$(tail -3 "$T/$sig.log")"
done

start_daemon "$T/hup.log" --config "$T/a.conf" --metrics-listen 127.0.0.1:0 || nok "start" "$(cat "$T/hup.log")"
metrics() { curl -sf "http://127.0.0.1:$PORT/metrics"; }
metrics | grep -q 'ingestd_pipeline_state{pipeline="alpha",state="idle"} 1' && ok "pipeline alpha is idle before reload" || nok "alpha idle" "$(metrics | grep pipeline_state)"

# A good reload: rename the pipeline; the new name appears, the old goes.
sed -i 's/^name = alpha/name = beta/' "$T/a.conf"
kill -HUP "$PID"
if wait_for 5 grep -q 'msg="configuration reloaded"' "$T/hup.log"; then ok "SIGHUP with a good config: reloaded"; else nok "reload good" "$(tail -5 "$T/hup.log")"; fi
m=$(metrics)
grep -q 'ingestd_pipeline_state{pipeline="beta",state="idle"} 1' <<<"$m" && ! grep -q 'pipeline="alpha"' <<<"$m" \
    && ok "after reload the metrics show the new pipeline only" || nok "metrics after reload" "$(grep pipeline_state <<<"$m")"

# A broken reload: rejected with FILE:LINE, the old config keeps running.
printf '[pipeline]\nname = beta\ncheckpoint = /tmp/x\ntrigger = soon\n' > "$T/a.conf.new"
cp "$T/a.conf" "$T/a.conf.good"; cp "$T/a.conf.new" "$T/a.conf"
kill -HUP "$PID"
if wait_for 5 grep -q 'msg="keeping the running configuration"' "$T/hup.log"; then
    grep -q "msg=\"config reload rejected\" error=\"$T/a.conf:4: trigger:" "$T/hup.log" \
        && ok "SIGHUP with a broken config: rejected with FILE:LINE" || nok "reject message" "$(tail -5 "$T/hup.log")"
else
    nok "SIGHUP broken config rejected" "$(tail -5 "$T/hup.log")"
fi
alive "$PID" && metrics | grep -q 'ingestd_pipeline_state{pipeline="beta",state="idle"} 1' \
    && ok "after a rejected reload the old config keeps running" || nok "still running after bad reload"

# Fixed again: the next SIGHUP is accepted.
cp "$T/a.conf.good" "$T/a.conf"
kill -HUP "$PID"
if wait_for 5 bash -c "[ \$(grep -c 'msg=\"configuration reloaded\"' '$T/hup.log') -ge 2 ]"; then ok "a fixed config reloads again"; else nok "reload after fix" "$(tail -3 "$T/hup.log")"; fi

# Reload adds, removes and restarts pipelines by name; unchanged ones keep running.
write_conf "$T/b.conf" gamma
printf '[metrics]\nlisten = 127.0.0.1:0\n' > "$T/m.conf"
kill -TERM "$PID"; wait "$PID"
start_daemon "$T/two.log" --config "$T/a.conf" --config "$T/m.conf" || nok "start" "$(cat "$T/two.log")"
PORT=$(sed -n 's/.*msg="metrics server listening".* port=\([0-9]*\).*/\1/p' "$T/two.log" | head -1)
cp "$T/b.conf" "$T/m.conf"; printf '[metrics]\nlisten = 127.0.0.1:0\n' >> "$T/m.conf"
kill -HUP "$PID"
wait_for 5 grep -q 'msg="configuration reloaded".*started=1' "$T/two.log" && ok "SIGHUP adds a pipeline defined in a reloaded file" \
    || nok "reload add" "$(tail -4 "$T/two.log")"
m=$(metrics)
grep -q 'ingestd_pipeline_state{pipeline="beta",state="idle"} 1' <<<"$m" && grep -q 'ingestd_pipeline_state{pipeline="gamma",state="idle"} 1' <<<"$m" \
    && ok "one process hosts several pipelines" || nok "two pipelines" "$(grep pipeline_state <<<"$m")"
! grep -q 'pipeline=beta msg="pipeline stopping"' "$T/two.log" && ok "an unchanged pipeline keeps running through a reload" || nok "beta restarted"
# Change gamma's trigger: gamma restarts with it, beta is left alone.
sed -i 's/^\[pipeline\]/[pipeline]\ntrigger = 250ms/' "$T/m.conf"
kill -HUP "$PID"
wait_for 5 bash -c "[ \$(grep -c 'msg=\"configuration reloaded\"' '$T/two.log') -ge 2 ]"
grep -q 'pipeline=gamma msg="pipeline stopping"' "$T/two.log" && ok "a changed pipeline is restarted" || nok "gamma restart" "$(tail -5 "$T/two.log")"
curl -sf "http://127.0.0.1:$PORT/status" | grep -q '"name":"gamma","state":"idle"[^}]*"trigger_ms":250' \
    && ok "the restarted pipeline runs with the new setting" || nok "new trigger" "$(curl -s "http://127.0.0.1:$PORT/status")"
# Remove gamma again.
printf '[metrics]\nlisten = 127.0.0.1:0\n' > "$T/m.conf"
kill -HUP "$PID"
wait_for 5 bash -c "[ \$(grep -c 'msg=\"configuration reloaded\"' '$T/two.log') -ge 3 ]"
m=$(metrics)
! grep -q 'pipeline="gamma"' <<<"$m" && grep -q 'pipeline="beta"' <<<"$m" && ok "SIGHUP removes a pipeline no file defines any more" \
    || nok "reload remove" "$(grep pipeline_state <<<"$m")"
stop_daemon "$PID"
[ "$RC" -eq 0 ] && ok "stops with exit 0 after reloads" || nok "stop" "rc=$RC"

# A signal during start-up is not lost and does not kill with the default
# action: it is sent as soon as main() holds SIGTERM back (SigBlk bit 15),
# i.e. while the config loads and the server opens.  Before main() no program
# can hold signals back, so that earlier window is not ours to test.  The
# test hook INGESTD_TEST_STARTUP_DELAY_MS widens the window to 200 ms.
n_ok=0 hits=0
for i in $(seq 20); do
    INGESTD_TEST_STARTUP_DELAY_MS=200 "$BIN" --config "$T/a.conf" --metrics-listen 127.0.0.1:0 2>/dev/null &
    p=$!
    hit=0
    for _ in $(seq 20000); do
        blk=
        while read -r k v; do [ "$k" = SigBlk: ] && { blk=$v; break; }; done < /proc/$p/status 2>/dev/null
        [ -z "$blk" ] && break
        (( 0x$blk & 0x4000 )) && { hit=1; break; }
    done
    kill -TERM $p; wait $p; [ $? -eq 0 ] && n_ok=$((n_ok + 1)); hits=$((hits + hit))
done
if [ $n_ok -eq 20 ] && [ $hits -eq 20 ]; then
    ok "SIGTERM during start-up: clean exit 0 (20 of 20; $hits sent while start-up held it)"
else
    nok "early SIGTERM" "$n_ok of 20 exited 0; $hits sent while start-up held SIGTERM"
fi
done_testing
