#!/usr/bin/env bash
# The HTTP server under junk: hundreds of concurrent connections mixing valid
# requests, garbage, oversize heads, half requests, early disconnects and
# idle clients; the daemon must stay up and keep answering.
. "$(dirname "$0")/lib.sh"

write_conf "$T/h.conf" web
start_daemon "$T/d.log" --config "$T/h.conf" --metrics-listen 127.0.0.1:0 || nok "start" "$(cat "$T/d.log")"
"$TOOLS/httpstress" -d $((60 * SCALE)) -i $((15 * SCALE)) 127.0.0.1 "$PORT" 300 >"$T/stress.out" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "300 concurrent junk and valid connections: every valid request answered" \
    || nok "httpstress rc=$rc" "$(tail -20 "$T/stress.out")"
alive "$PID" && ok "daemon still running" || nok "daemon died" "$(tail -5 "$T/d.log")"
curl -sf "http://127.0.0.1:$PORT/metrics" | promtool check metrics >/dev/null 2>&1 \
    && ok "/metrics still valid after the storm" || nok "/metrics after storm"
fds=$(ls /proc/$PID/fd | wc -l)
[ "$fds" -lt 40 ] && ok "connections released ($fds fds open)" || nok "fd leak" "$fds fds"
stop_daemon "$PID"
[ "$RC" -eq 0 ] && ok "exit 0" || nok "exit" "rc=$RC"
done_testing
