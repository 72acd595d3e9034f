#!/usr/bin/env bash
# tests/run.sh - runs every unit test binary and every end-to-end script,
# all of which speak TAP, and ends with one line that sums them all:
#   N passed, N failed[, N skipped]
# Called by `make test` with INGESTD_BIN, INGESTD_BUILD and INGESTD_SRC set.
# TESTS="unit/test_config e2e/cli" limits the run to those names.
set -u
build=${INGESTD_BUILD:?run through make test}
src=${INGESTD_SRC:?run through make test}
export CMOCKA_MESSAGE_OUTPUT=TAP
pass=0 fail=0 skip=0
failed_names=()

run_one() {   # name command...
    local name=$1; shift
    local out rc
    echo "== $name"
    out=$("$@" 2>&1); rc=$?
    local p f s
    # cmocka prints a skipped test as "not ok N # SKIP", TAP scripts as
    # "ok N - what # SKIP why": both are skips, neither passes nor fails.
    local okl notl sok snot
    okl=$(grep -cE '^ok [0-9]+' <<<"$out")
    notl=$(grep -cE '^not ok [0-9]+' <<<"$out")
    sok=$(grep -ciE '^ok [0-9]+.*# skip' <<<"$out")
    snot=$(grep -ciE '^not ok [0-9]+.*# skip' <<<"$out")
    p=$((okl - sok)); f=$((notl - snot)); s=$((sok + snot))
    # A binary that crashed or exited non-zero without a failing test line
    # counts as one failure, so a sanitizer report never passes silently.
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        out+=$'\n'"not ok - $name exited with status $rc"
    fi
    if [ $((p + f + s)) -eq 0 ]; then
        f=1
        out+=$'\n'"not ok - $name ran no test"
    fi
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    [ "$f" -gt 0 ] && failed_names+=("$name")
    if [ "$f" -gt 0 ] || [ -n "${VERBOSE:-}" ]; then
        printf '%s\n' "$out"
    else
        grep -E '^(ok|not ok) ' <<<"$out"
    fi
}

want() {   # is this test selected by $TESTS?
    [ -z "${TESTS:-}" ] && return 0
    local t
    for t in $TESTS; do [ "$t" = "$1" ] && return 0; done
    return 1
}

for bin in "$build"/tests/test_*; do
    [ -x "$bin" ] || continue
    name="unit/$(basename "$bin")"
    want "$name" && run_one "$name" "$bin"
done
for script in "$src"/tests/e2e/*.sh; do
    case $(basename "$script") in lib.sh) continue ;; esac
    name="e2e/$(basename "$script" .sh)"
    want "$name" && run_one "$name" bash "$script"
done

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failing: ${failed_names[*]}"
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
