#!/usr/bin/env bash
# sd_notify: READY, STATUS, WATCHDOG, RELOADING, STOPPING arrive on a real
# AF_UNIX datagram socket given as NOTIFY_SOCKET, as systemd would see them.
. "$(dirname "$0")/lib.sh"

sock="$T/notify.sock"
"$TOOLS/notify_listen" "$sock" $((20 * SCALE)) > "$T/msgs" &
L=$!; _pids+=("$L")
wait_for 5 test -S "$sock" || nok "listener socket"
write_conf "$T/n.conf" notified
NOTIFY_SOCKET=$sock WATCHDOG_USEC=400000 start_daemon "$T/d.log" --config "$T/n.conf" \
    --metrics-listen 127.0.0.1:0 || nok "start" "$(cat "$T/d.log")"
wait_for 5 grep -qx 'READY=1' "$T/msgs" && ok "READY=1 once started" || nok "READY=1" "$(cat "$T/msgs")"
grep -qx 'STATUS=running 1 pipeline' "$T/msgs" && ok "STATUS= describes the state" || nok "STATUS" "$(cat "$T/msgs")"
grep -qx "MAINPID=$PID" "$T/msgs" && ok "MAINPID is the daemon's pid" || nok "MAINPID" "$(cat "$T/msgs")"
sleep $(( SCALE ))   # 1s at WatchdogSec=0.4s: pings every 0.2s
n=$(grep -cx 'WATCHDOG=1' "$T/msgs")
[ "$n" -ge 3 ] && ok "WATCHDOG=1 pings at half the interval ($n in ~1s)" || nok "watchdog pings" "n=$n"

kill -HUP "$PID"
wait_for 5 grep -qx 'RELOADING=1' "$T/msgs" && ok "SIGHUP: RELOADING=1" || nok "RELOADING" "$(cat "$T/msgs")"
wait_for 5 bash -c "[ \$(grep -cx 'READY=1' '$T/msgs') -ge 2 ]" && ok "after reload: READY=1 again" || nok "READY after reload" "$(cat "$T/msgs")"

stop_daemon "$PID"
wait_for 5 grep -qx 'STOPPING=1' "$T/msgs" && ok "SIGTERM: STOPPING=1" || nok "STOPPING" "$(cat "$T/msgs")"
[ "$RC" -eq 0 ] && ok "exit 0 under NOTIFY_SOCKET" || nok "exit" "rc=$RC"

# Without WATCHDOG_USEC there are no pings.
: > "$T/msgs"
NOTIFY_SOCKET=$sock start_daemon "$T/d2.log" --config "$T/n.conf" --metrics-listen 127.0.0.1:0 || nok "start 2"
wait_for 5 grep -qx 'READY=1' "$T/msgs"
sleep 0.5
! grep -qx 'WATCHDOG=1' "$T/msgs" && ok "no WATCHDOG=1 when the manager asks for none" || nok "unexpected watchdog"
stop_daemon "$PID"
kill "$L" 2>/dev/null
done_testing
