# Sourced by the shell tests: $top (the source tree), $tmp (a private
# directory, removed at exit by `cleanup`, which a test may redefine to do
# more), and the pass/fail count with its summary line.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d /tmp/cw-test-XXXXXX)    # short: sockets are made under it
pass=0
fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

# finish: the summary line; the status says whether anything failed
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

# check NAME EXPECTED_STATUS GREP_PATTERN_IN_OUTPUT -- CMD...: CMD exits with
# the status and its output (in $tmp/out) matches the pattern (empty: any)
check() {
    local name=$1 want=$2 pattern=$3 got
    shift 4
    "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        bad "$name: exit $got, expected $want"; sed 's/^/    /' "$tmp/out" | head -20; return
    fi
    if [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/out"; then
        bad "$name: output lacks /$pattern/"; sed 's/^/    /' "$tmp/out" | head -20; return
    fi
    ok
}
