# tests/e2e/lib.sh - helpers for end-to-end tests that drive the real binary.
# Each test script sources this, prints TAP ("ok N - what", "not ok N - what",
# "ok N - what # SKIP why") and ends with `done_testing`.
set -u
BIN=${INGESTD_BIN:?run through make test}
BUILD=${INGESTD_BUILD:?}
SRC=${INGESTD_SRC:?}
TOOLS=$BUILD/tools
# Every timeout scales with one variable; sanitizer builds are slower.
SCALE=${TEST_TIMEOUT_SCALE:-$([ -n "${INGESTD_SANITIZE:-}" ] && echo 3 || echo 1)}
T=$(mktemp -d "${TMPDIR:-/tmp}/ingestd-e2e.XXXXXX")
_n=0 _failed=0
_pids=()

cleanup() {
    local p
    for p in "${_pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

ok()   { _n=$((_n + 1)); echo "ok $_n - $1"; }
nok()  { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $1"; shift; local l; for l in "$@"; do echo "#   $l"; done; }
skip() { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP $2"; }
# check "what" command... : ok when the command succeeds
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else nok "$what" "command: $*"; fi; }
done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; }

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# wait_for SECONDS command...: polls until the command succeeds.
wait_for() {
    local limit=$(( $1 * SCALE * 10 )); shift
    local i=0
    while [ $i -lt $limit ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# write_conf FILE NAME [extra INI text]: a minimal valid pipeline under $T.
write_conf() {
    local f=$1 name=$2 extra=${3:-}
    mkdir -p "$T/$name/landing"
    cat > "$f" <<CONF
[pipeline]
name = $name
checkpoint = $T/$name/checkpoint

[source]
type = directory
path = $T/$name/landing
pattern = *.json

[schema]
id = long not null
amount = double

[sink]
path = $T/$name/table
$extra
CONF
}

# start_daemon LOG args...: starts ingestd in the background; sets PID and,
# when it serves metrics, PORT (read from its log line).
start_daemon() {
    local log=$1; shift
    "$BIN" "$@" 2>"$log" &
    PID=$!
    _pids+=("$PID")
    PORT=
    if wait_for 5 grep -q 'msg="ingestd started"' "$log"; then
        PORT=$(sed -n 's/.*msg="metrics server listening".* port=\([0-9]*\).*/\1/p' "$log" | head -1)
        return 0
    fi
    return 1
}

alive() { kill -0 "$1" 2>/dev/null; }

# stop_daemon PID: SIGTERM and wait; sets RC and STOP_MS.
stop_daemon() {
    local t0; t0=$(now_ms)
    kill -TERM "$1"
    wait "$1"; RC=$?
    STOP_MS=$(( $(now_ms) - t0 ))
}
