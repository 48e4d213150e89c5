#!/usr/bin/env bash
# The benchmark's ground truth against the engine, small enough for every
# test run (also under AddressSanitizer): 10k generated events with a
# fixed seed, evaluated and compared rule by rule, then the same events
# shuffled out of time order with retransmitted duplicates. Also checks
# that the generator is deterministic.
#
# Usage: smoke.sh CASEWARDEN_BIN GEN_BIN TRUTH_BIN
# Ends with "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cw=${1:?usage: smoke.sh CASEWARDEN GEN TRUTH}
gen=${2:?usage: smoke.sh CASEWARDEN GEN TRUTH}
truth=${3:?usage: smoke.sh CASEWARDEN GEN TRUTH}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
rules="$top/rules"
seed=9
events=10000

# generate NAME ARGS...: bench/gen into $tmp/NAME
generate() {
    local name=$1
    shift
    if "$gen" --seed "$seed" --events "$events" --out "$tmp/$name" --rules "$rules" "$@" \
        2>"$tmp/$name.gen.err"; then
        ok
    else
        bad "gen $name exited $?"; sed 's/^/    /' "$tmp/$name.gen.err" | head -20
        return 1
    fi
}

# judge NAME: evaluate $tmp/NAME at its now.txt and compare with its truth
judge() {
    local name=$1 d=$tmp/$1
    if "$cw" eval --rules "$rules" --events "$d/events.jsonl" --now "$(cat "$d/now.txt")" \
        >"$d/findings.jsonl" 2>"$d/eval.err"; then
        ok
    else
        bad "eval $name exited $?"; sed 's/^/    /' "$d/eval.err" | head -20
        return
    fi
    if grep -q " 0 rejected" "$d/eval.err"; then
        ok
    else
        bad "eval $name rejected generated events: $(tail -n1 "$d/eval.err")"
        grep -v '^casewarden eval:' "$d/eval.err" | head -5 | sed 's/^/    /'
    fi
    if "$truth" --expected "$d/expected.tsv" --findings "$d/findings.jsonl" >"$d/truth.out"; then
        ok
    else
        bad "$name: the engine's findings differ from the ground truth"
        sed 's/^/    /' "$d/truth.out"
    fi
    # The seed is chosen so that every compared rule is put to the test.
    local idle
    idle=$(awk 'NR > 1 && $1 == "all" { exit } NR > 1 && $2 == 0 { printf " %s", $1 }' "$d/truth.out")
    if [ -z "$idle" ]; then
        ok
    else
        bad "$name: no expected finding for:$idle"
    fi
}

# In time order.
if generate plain; then
    for f in events.jsonl expected.tsv now.txt; do
        [ -s "$tmp/plain/$f" ] && ok || bad "plain: $f missing or empty"
    done
    judge plain
    # The same seed and arguments give the same bytes.
    if generate again; then
        for f in events.jsonl expected.tsv now.txt; do
            cmp -s "$tmp/plain/$f" "$tmp/again/$f" && ok || bad "gen is not deterministic: $f differs"
        done
    fi
fi

# Out of time order, with retransmissions: the engine must order the
# events itself and drop the duplicates; the truth does not change.
if generate shuffled --shuffle 0.05 --dup 0.01; then
    cmp -s "$tmp/plain/expected.tsv" "$tmp/shuffled/expected.tsv" && ok ||
        bad "shuffling changed the ground truth"
    if cmp -s <(sort -u "$tmp/plain/events.jsonl") <(sort -u "$tmp/shuffled/events.jsonl"); then
        ok
    else
        bad "the shuffled file does not hold the same events"
    fi
    if cmp -s "$tmp/plain/events.jsonl" "$tmp/shuffled/events.jsonl"; then
        bad "--shuffle left the events in time order"
    else
        ok
    fi
    judge shuffled
fi

finish
