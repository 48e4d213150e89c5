#!/usr/bin/env bash
# eval --threads N (docs/SCALING.md "Threads"): the output of 2 and 3
# threads equals one thread's byte for byte, stdout and stderr, in every
# format, on the example events, on a generated feed (bench/gen, out of
# time order and with retransmissions) and on a file of bad lines (syntax,
# a conflict across cases, duplicates, --strict, --parse-only). Without
# the cross-case rules marked (--cross-case "") the threads divide the
# cases and the findings of those rules change, so the comparison is not
# one that passes by running everything everywhere. Bad --threads and
# --cross-case values are refused. Bounded: about 25,000 events (or
# $THREADS_EVENTS).
# Usage: threads.sh PATH/TO/casewarden [PATH/TO/bench/gen]
set -uo pipefail
cw=${1:?usage: threads.sh CASEWARDEN [GEN]}
gen=${2:-$(dirname "$cw")/bench/gen}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

rules=$top/rules
ex=$top/examples/events.jsonl
exnow=2026-06-01T00:00:00+08:00

# same NAME ARGS...: eval with --threads 1, 2 and 3 (each reading the file
# $stdin on its standard input, if set); the exit status, the findings and
# the messages of 2 and 3 equal those of 1
same() {
    local name=$1 n st1 st
    shift
    "$cw" eval "$@" --threads 1 <"${stdin:-/dev/null}" >"$tmp/out.1" 2>"$tmp/err.1"
    st1=$?
    for n in 2 3; do
        "$cw" eval "$@" --threads "$n" <"${stdin:-/dev/null}" >"$tmp/out.$n" 2>"$tmp/err.$n"
        st=$?
        if [ "$st" -ne "$st1" ]; then
            bad "$name: --threads $n exits $st, --threads 1 $st1"; sed 's/^/    /' "$tmp/err.$n" | head; continue
        fi
        if ! cmp -s "$tmp/out.1" "$tmp/out.$n"; then
            bad "$name: --threads $n gives other findings than --threads 1"
            diff "$tmp/out.1" "$tmp/out.$n" | head -10 | sed 's/^/    /'
            continue
        fi
        if ! cmp -s "$tmp/err.1" "$tmp/err.$n"; then
            bad "$name: --threads $n says other things on stderr than --threads 1"
            diff "$tmp/err.1" "$tmp/err.$n" | head -10 | sed 's/^/    /'
            continue
        fi
        ok
    done
}

# findings FILE RULE: how many findings of RULE in a JSON-lines output
findings() {
    grep -c "\"rule\":\"$2\"" "$1"
}

# ---- the example events
for fmt in json table; do
    same "examples $fmt" --rules "$rules" --events "$ex" --now "$exnow" --format "$fmt"
done
if [ "$(wc -l <"$tmp/out.1")" -gt 10 ]; then ok; else bad "examples: too few findings to compare"; fi
stdin=$ex same "examples stdin" --rules "$rules" --events - --now "$exnow"
if [ "$(wc -l <"$tmp/out.1")" -gt 10 ]; then ok; else bad "examples stdin: too few findings to compare"; fi

# ---- a generated feed: out of order, retransmitted
if ! "$gen" --seed 11 --events "${THREADS_EVENTS:-25000}" --shuffle 0.05 --dup 0.02 --out "$tmp/feed" --rules "$rules" \
        >/dev/null 2>"$tmp/gen.err"; then
    bad "bench/gen failed: $(head -3 "$tmp/gen.err")"
    finish
    exit
fi
now=$(cat "$tmp/feed/now.txt")
same "generated json" --rules "$rules" --events "$tmp/feed/events.jsonl" --now "$now"
cp "$tmp/out.1" "$tmp/gen.json"
for r in OFFICER-OVERLAP SANCTION-PEER ALARM-ACCEPT SUMMONS-LIMIT; do
    if [ "$(findings "$tmp/gen.json" "$r")" -gt 0 ]; then ok; else bad "generated: no $r finding to compare"; fi
done
if grep -q ' duplicate' "$tmp/err.1" && ! grep -q ' 0 duplicate' "$tmp/err.1"; then ok
else bad "generated: no duplicate event read ($(cat "$tmp/err.1"))"; fi
same "generated table" --rules "$rules" --events "$tmp/feed/events.jsonl" --now "$now" --format table

# the cross-case rules run over every case in one thread: without them
# marked, each thread sees only its own cases and they find other things
"$cw" eval --rules "$rules" --events "$tmp/feed/events.jsonl" --now "$now" --threads 2 --cross-case "" \
    --quiet >"$tmp/nocross.json" 2>"$tmp/nocross.err"
if cmp -s "$tmp/gen.json" "$tmp/nocross.json"; then
    bad "--cross-case \"\": the same findings, so the threads did not divide the cases"
else
    ok
fi
for r in SUMMONS-LIMIT ADM-HANDLING; do
    if diff <(grep "\"rule\":\"$r\"" "$tmp/gen.json") <(grep "\"rule\":\"$r\"" "$tmp/nocross.json") >/dev/null; then ok
    else bad "--cross-case \"\": the findings of $r (one case each) changed"; fi
done
same "generated, one cross-case rule named" --rules "$rules" --events "$tmp/feed/events.jsonl" --now "$now" \
    --cross-case OFFICER-OVERLAP,SANCTION-PEER,ALARM-ACCEPT

# ---- bad lines: reported in line order, counted the same
{
    head -40 "$ex"
    echo '{"id":"bad-1","type":"case.accepted",'
    sed -n 5p "$ex"                                   # the same event again
    sed -n 6p "$ex" | sed 's/"case":"[^"]*"/"case":"A370102209900077"/'   # same id, another case
    echo
    echo '{"id":"bad-2","type":"no.such.type","case":"A370102202600001","unit":"370102","at":"2026-03-02T09:30:00+08:00","data":{}}'
    sed -n '41,$p' "$ex"
} >"$tmp/bad.jsonl"
same "bad lines" --rules "$rules" --events "$tmp/bad.jsonl" --now "$exnow"
if grep -q 'conflicts with line 6' "$tmp/err.1" && grep -q 'bad.jsonl:41:' "$tmp/err.1" &&
   grep -q '1 duplicate, 3 rejected' "$tmp/err.1"; then ok
else bad "bad lines: not the messages expected"; sed 's/^/    /' "$tmp/err.1"; fi
same "bad lines, strict" --rules "$rules" --events "$tmp/bad.jsonl" --now "$exnow" --strict
if grep -q 'stopped: .*bad.jsonl:41: bad event' "$tmp/err.1"; then ok; else bad "strict: not stopped at line 41"; fi
same "parse only" --rules "$rules" --events "$tmp/bad.jsonl" --now "$exnow" --parse-only

# ---- usage
check "--threads auto" 0 "" -- "$cw" eval --rules "$rules" --events "$ex" --now "$exnow" --threads auto --quiet
for v in 0 65 two -1; do
    check "--threads $v refused" 2 "--threads must be 1 to 64 or auto, not '$v'" -- \
        "$cw" eval --rules "$rules" --events "$ex" --now "$exnow" --threads "$v"
done
check "--cross-case unknown" 2 "--cross-case: no rule 'NO-SUCH-RULE'" -- \
    "$cw" eval --rules "$rules" --events "$ex" --now "$exnow" --threads 2 --cross-case NO-SUCH-RULE
check "--help" 0 "--threads N" -- "$cw" eval --help

finish
