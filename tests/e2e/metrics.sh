#!/usr/bin/env bash
# The metrics server: /metrics passes promtool, /healthz /readyz /status answer.
. "$(dirname "$0")/lib.sh"

write_conf "$T/m.conf" orders
start_daemon "$T/d.log" --config "$T/m.conf" --metrics-listen 127.0.0.1:0 || nok "start" "$(cat "$T/d.log")"
[ -n "$PORT" ] && ok "metrics server listening on port $PORT" || nok "port in log" "$(cat "$T/d.log")"
url="http://127.0.0.1:$PORT"

code=$(curl -s -o "$T/metrics.txt" -w '%{http_code} %{content_type}' "$url/metrics")
[[ $code == "200 text/plain; version=0.0.4"* ]] && ok "GET /metrics: 200 text/plain; version=0.0.4" || nok "/metrics status" "$code"
promtool check metrics < "$T/metrics.txt" >"$T/promtool.out" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "promtool check metrics is clean" || nok "promtool check metrics rc=$rc" "$(cat "$T/promtool.out")"

for m in 'ingestd_build_info{version="[0-9.]+"} 1' 'process_cpu_seconds_total [0-9.]+' \
         'process_resident_memory_bytes [1-9][0-9]+' 'process_open_fds [1-9][0-9]*' \
         'process_start_time_seconds [1-9][0-9.]+' \
         'ingestd_pipeline_state{pipeline="orders",state="idle"} 1' \
         'ingestd_pipeline_state{pipeline="orders",state="failed"} 0' \
         'ingestd_records_read_total{pipeline="orders"} 0' \
         'ingestd_batches_total{pipeline="orders",status="committed"} 0' \
         'ingestd_batch_duration_seconds_count{pipeline="orders"} 0' \
         'ingestd_table_version{pipeline="orders"} 0'; do   # created at start: version 0
    grep -qE "^$m\$" "$T/metrics.txt" && ok "/metrics has: $m" || nok "/metrics lacks: $m"
done
# Start time is this process's, within a minute of now.
st=$(sed -n 's/^process_start_time_seconds \([0-9]*\).*/\1/p' "$T/metrics.txt")
now=$(date +%s)
[ $((now - st)) -ge 0 ] && [ $((now - st)) -lt 60 ] && ok "process_start_time_seconds is the daemon's start" || nok "start time" "st=$st now=$now"
fds=$(sed -n 's/^process_open_fds \([0-9]*\)/\1/p' "$T/metrics.txt")
real=$(ls /proc/$PID/fd | wc -l)
[ $((fds - real)) -le 2 ] && [ $((real - fds)) -le 2 ] && ok "process_open_fds matches /proc ($fds vs $real)" || nok "open fds" "$fds vs $real"

check "GET /healthz: 200" curl -sf "$url/healthz"
check "GET /readyz: 200 when pipelines are up" curl -sf "$url/readyz"
curl -sf "$url/status" > "$T/status.json"
if /usr/bin/python3 - "$T/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p = s["pipelines"][0]
assert s["ready"] is True and p["name"] == "orders" and p["state"] == "idle", s
assert p["source"] == "directory" and "recent_batches" in p, p
PY
then ok "GET /status: JSON with the pipelines"; else nok "/status JSON" "$(cat "$T/status.json")"; fi
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/nope")" = 404 ] && ok "unknown path: 404" || nok "404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$url/metrics")" = 405 ] && ok "POST: 405" || nok "405"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$url/metrics")" = 431 ] \
    && ok "oversized request head: 431" || nok "431"
hdr=$(curl -sI "$url/metrics")
grep -q '^HTTP/1.1 200' <<<"$hdr" && grep -qi '^content-length: [1-9]' <<<"$hdr" && ok "HEAD /metrics: headers only" || nok "HEAD" "$hdr"
stop_daemon "$PID"
[ "$RC" -eq 0 ] && ok "stops with exit 0" || nok "stop" "rc=$RC"

# [metrics] listen = off: no server.
write_conf "$T/off.conf" quiet "[metrics]
listen = off"
start_daemon "$T/off.log" --config "$T/off.conf" || nok "start off" "$(cat "$T/off.log")"
! grep -q 'metrics server listening' "$T/off.log" && ok "listen = off: no metrics server" || nok "listen off"
stop_daemon "$PID"
done_testing
