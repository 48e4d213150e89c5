#!/usr/bin/env bash
# Time order through serve: copies of examples/events.jsonl (other event
# ids and case numbers per copy) arrive shuffled, as writers that commit
# side by side deliver them, in many small reads; events land behind what
# their case has seen while quiet cases leave memory and come back. The
# stored findings must be what `casewarden eval` gives for the same events
# in time order (docs/DESIGN.md "Time order").
# Usage: order.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

T=2026-06-01T00:00:00+08:00
COPIES=${COPIES:-28}       # about 10,000 events: the engine sweeps every 4,096
CHUNK=${CHUNK:-100}        # rows an INSERT

# copy k: ids h<k>-..., cases H<k>-...; arrival: each line moves up to
# 400 places from where it was (a fixed seed: the same file every run)
for k in $(seq 1 "$COPIES"); do
    sed -e "s/\"id\":\"/\"id\":\"h$k-/" -e "s/\"case\":\"/\"case\":\"H$k-/" "$top/examples/events.jsonl"
done | awk 'BEGIN { srand(20260601) } { printf "%.3f\t%s\n", NR + rand() * 400, $0 }' \
     | sort -t $'\t' -k1,1n | cut -f2- > "$tmp/arrival.jsonl"
[ "$(wc -l < "$tmp/arrival.jsonl")" -eq $((COPIES * $(wc -l < "$top/examples/events.jsonl"))) ] &&
    ok || bad "the arrival file has not every event"

"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now "$T" || { finish; exit 1; }
split -l "$CHUNK" -d -a 4 "$tmp/arrival.jsonl" "$tmp/chunk."
for c in "$tmp"/chunk.*; do load_sql "$c"; sleep 0.02; done
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" 60 && ok || bad "serve did not take every event"
stop_serve
evicted=$(sql "SELECT COUNT(*) FROM case_state")
findings_set > "$tmp/serve.set"
eval_set "$tmp/arrival.jsonl" "$T" > "$tmp/eval.set"
[ -s "$tmp/eval.set" ] && ok || bad "eval gave no findings"
# the run is only a test of the interplay when cases did leave memory
[ "${evicted:-0}" -gt 0 ] 2>/dev/null && ok || bad "no case left memory (images in case_state: ${evicted:-none})"
if diff "$tmp/eval.set" "$tmp/serve.set" > "$tmp/diff"; then ok; else
    bad "serve's findings differ from eval's (< eval only, > serve only; by rule and state):"
    grep '^[<>]' "$tmp/diff" | awk '{ print $1, $2, $5 }' | sort | uniq -c | sort -rn | head
    grep '^[<>]' "$tmp/diff" | head -5
fi
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$tmp/serve.log"; then
    bad "serve under the sanitizers:"; grep -A20 -E 'ERROR: |runtime error' "$tmp/serve.log" | head -60
else ok; fi
finish
