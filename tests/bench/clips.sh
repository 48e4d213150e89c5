#!/usr/bin/env bash
# The CLIPS peer of the benchmark (bench/README.md, "The CLIPS peer")
# against casewarden on 10k generated events: the same findings for the
# nine rules of DOMAIN.md sections 2 and 4, in time order and shuffled
# with retransmissions; the age convention switch changes only the rules
# that take ages; and the comparison tells a difference when there is one.
# Skipped (and said so) when the peer was not built (no libclips).
#
# Usage: clips.sh CASEWARDEN_BIN GEN_BIN PEER_BIN COMPARE_BIN
# Ends with "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
usage="usage: clips.sh CASEWARDEN GEN PEER COMPARE"
cw=${1:?$usage}
gen=${2:?$usage}
peer=${3:?$usage}
compare=${4:?$usage}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

if [ ! -x "$peer" ] || [ ! -x "$compare" ]; then
    echo "SKIP: the CLIPS peer was not built ($peer: configure found no libclips;" \
        "apt-get install libclips-dev, then build again)"
    finish
    exit
fi

rules=$("$peer" --list-rules | paste -sd, -)
if [ "$(tr ',' '\n' <<<"$rules" | wc -l)" -eq 9 ]; then
    ok
else
    bad "peer --list-rules: expected the 9 rules of sections 2 and 4, got '$rules'"
fi

# feed NAME ARGS...: bench/gen's 10k events (seed 7) into $tmp/NAME, with
# casewarden's and the peer's findings beside them
feed() {
    local name=$1 d=$tmp/$1
    shift
    if ! "$gen" --seed 7 --events 10000 --out "$d" --rules "$top/rules" "$@" 2>"$d.gen.err"; then
        bad "gen $name failed"; sed 's/^/    /' "$d.gen.err" | head -5
        return 1
    fi
    if ! "$cw" eval --rules "$top/rules" --events "$d/events.jsonl" --now "$(<"$d/now.txt")" \
        >"$d/eval.jsonl" 2>"$d/eval.err"; then
        bad "eval $name failed"; sed 's/^/    /' "$d/eval.err" | head -5
        return 1
    fi
    if "$peer" --events "$d/events.jsonl" --now "$(<"$d/now.txt")" --stats \
        >"$d/peer.jsonl" 2>"$d/peer.err" && grep -q ' 0 rejected$' "$d/peer.err"; then
        ok
    else
        bad "peer $name failed or rejected events"; sed 's/^/    /' "$d/peer.err" | head -10
        return 1
    fi
}

# same NAME: the peer's findings equal casewarden's
same() {
    local d=$tmp/$1
    if "$compare" --rules "$rules" "$d/peer.jsonl" "$d/eval.jsonl" >"$d/compare.out"; then
        ok
    else
        bad "$1: the peer's findings differ from casewarden's"; sed 's/^/    /' "$d/compare.out"
    fi
}

if feed plain; then
    same plain
    # Every rule compared has findings on this feed, so each is put to the test.
    idle=$(awk -v r="$rules" 'BEGIN { n = split(r, a, ","); for (i = 1; i <= n; i++) want[a[i]] = 1 }
                             $1 in want && $3 == 0 { printf " %s", $1 }' "$tmp/plain/compare.out")
    [ -z "$idle" ] && ok || bad "plain: casewarden found nothing for:$idle"

    # Ages counted from the birthday itself (engine.yaml's `age_from:
    # birthday`, not the default): persons on their 18th birthday are adults
    # to the peer, so casewarden (day after the birthday) sees more minors,
    # which only the rules on ages see: findings only in eval, or a case's
    # finding raised at another person's interrogation.
    d=$tmp/plain
    "$peer" --events "$d/events.jsonl" --now "$(<"$d/now.txt")" --age-from birthday \
        >"$d/peer-birthday.jsonl"
    "$compare" --rules "$rules" --show 10000 "$d/peer-birthday.jsonl" "$d/eval.jsonl" \
        >"$d/birthday.out"
    rc=$?
    diffs=$(sed -n '/^differences/,$p' "$d/birthday.out" | tail -n +2)
    if [ "$rc" -eq 1 ] && [ -n "$diffs" ] &&
        grep -qE ': only in eval: violation ' <<<"$diffs" &&
        ! grep -vqE '^  (MINOR-NO-GUARDIAN|FT-EXCLUDED-PERSON) [^ ]+ [^ ]+: (only in eval: violation |peer violation .*, eval violation )' <<<"$diffs"; then
        ok
    else
        bad "--age-from birthday: expected fewer minors, and nothing else (compare exit $rc)"
        sed 's/^/    /' "$d/birthday.out" | head -30
    fi

    # The comparison sees a state that differs, and says what both sides hold.
    awk '!done && /"state":"cleared"/ { sub(/"state":"cleared"/, "\"state\":\"late\""); done = 1 } 1' \
        "$d/peer.jsonl" >"$d/peer-changed.jsonl"
    "$compare" --rules "$rules" "$d/peer-changed.jsonl" "$d/eval.jsonl" >"$d/changed.out"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -qE '^  FT-48H [^ ]+ [^ ]+: peer late .*, eval cleared ' "$d/changed.out"; then
        ok
    else
        bad "compare: a changed state went unseen (exit $rc)"; sed 's/^/    /' "$d/changed.out" | head -20
    fi
fi

# Out of time order, with retransmissions: the same findings again, and
# the same events dropped as duplicates.
if feed shuffled --shuffle 0.05 --dup 0.01; then
    same shuffled
    d=$tmp/shuffled
    e=$(sed -n 's/.* \([0-9]*\) duplicate.*/\1/p' "$d/eval.err")
    p=$(sed -n 's/.* \([0-9]*\) duplicate.*/\1/p' "$d/peer.err")
    if [ -n "$e" ] && [ "$e" -gt 0 ] && [ "$e" = "$p" ]; then
        ok
    else
        bad "shuffled: eval dropped '${e}' duplicates, the peer '${p}'"
    fi
fi

finish
