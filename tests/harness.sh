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

# free_port: a TCP port on loopback nothing listens on, below the
# ephemeral range (so no outgoing connection can hold it when a server
# binds it: two tests run side by side, each with clients)
free_port() {
    local eph p
    eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [[ $eph =~ ^[0-9]+$ ]] && [ "$eph" -gt 12000 ] || eph=32768
    while :; do
        p=$((10000 + RANDOM % (eph - 10000)))
        ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
    done
}

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

# example_copies TOTAL ID CASE OUT: TOTAL events made of the example file
# again and again, copy k with ids ID<k>-, and cases, alarms, officers and
# sessions CASE<k>- (copies of one officer all at the same hour would be
# unlike any real feed), in time order (as a case-tracking system sends
# them: copies interleaved, not one after another months back)
example_copies() {
    local total=$1 idp=$2 cp=$3 out=$4 ex=$top/examples/events.jsonl per copies
    per=$(wc -l <"$ex")
    copies=$(( (total + per - 1) / per ))
    awk -v copies="$copies" -v total="$total" -v idp="$idp" -v cp="$cp" '
        { line[NR] = $0 }
        END {
            n = 0
            for (k = 1; k <= copies; k++)
                for (i = 1; i <= NR && n < total; i++) {
                    s = line[i]
                    gsub(/"id":"evt-/, "\"id\":\"" idp k "-", s)
                    gsub(/"case":"/, "\"case\":\"" cp k "-", s)
                    gsub(/"alarm":"/, "\"alarm\":\"" cp k "-", s)
                    gsub(/"O/, "\"" cp k "-O", s)
                    gsub(/"session":"/, "\"session\":\"" cp k "-", s)
                    print s
                    n++
                }
        }' "$ex" | awk '{ match($0, /"at":"[^"]*"/); print substr($0, RSTART, RLENGTH) "\t" NR "\t" $0 }' \
        | sort -t "$(printf '\t')" -k1,1 -k2,2n | cut -f3- >"$out"
}
