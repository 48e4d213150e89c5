#!/usr/bin/env bash
# Crash safety: 100k events are inserted straight into the events table
# while `casewarden serve` is killed with SIGKILL at random moments and
# started again; at the end the stored findings must equal those of a
# clean `casewarden eval` over the same events (compared as sets), every
# event must be there once, and every finding once.
# Usage: crash.sh PATH/TO/casewarden [EVENTS]    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

total=${2:-100000}
T=2026-06-01T00:00:00+08:00
RANDOM=42

"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { bad "migrate"; finish; exit 1; }

# The example file again and again, each copy with its own ids and case
# numbers, in time order (as a case-tracking system sends them: copies
# interleaved, not one after another months back), in batches of 500 rows.
example_copies "$total" c K "$tmp/all.jsonl"
[ "$(wc -l <"$tmp/all.jsonl")" = "$total" ] && ok || bad "generated $(wc -l <"$tmp/all.jsonl") events"
split -l 500 -d -a 4 "$tmp/all.jsonl" "$tmp/chunk."

loader() {
    for c in "$tmp"/chunk.*; do
        { echo "INSERT INTO events (body) VALUES"
          sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g" -e "s/^/('/" -e "s/\$/'),/" "$c" | sed '$ s/,$/;/'
        } | mariadb --no-defaults -S "$sock" -u root casewarden || return 1
        sleep 0.02
    done
}
loader &
loader_pid=$!

# kill -9 the engine at random points while the events pour in
kills=0
while kill -0 "$loader_pid" 2>/dev/null || [ "$kills" -lt 5 ]; do
    "$cw" serve --config "$cfg" --now "$T" --no-http >>"$tmp/serve.log" 2>&1 &
    pid=$!
    serve_pid=$pid
    sleep "0.$(( RANDOM % 9 + 1 ))"
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null
    [ "$kills" -ge 12 ] && break
done
wait "$loader_pid" && ok || bad "the loader failed"
[ "$kills" -ge 5 ] && ok || bad "only $kills kills"
echo "crash: $kills kills while loading $total events"
# the restarts start from the snapshot an earlier start left, and catch up
n_snap=$(grep -c "started from the snapshot" "$tmp/serve.log")
[ "$n_snap" -ge 1 ] && ok || bad "no restart started from a snapshot"
echo "crash: $n_snap restarts from a snapshot, $(grep -c "rebuilt" "$tmp/serve.log") rebuilds"

# the last start catches up, then is stopped cleanly
"$cw" serve --config "$cfg" --now "$T" --no-http >>"$tmp/serve.log" 2>&1 &
pid=$!
serve_pid=$pid
wait_checkpoint "$total" 120 && ok || bad "did not catch up: checkpoint $(sql "SELECT seq FROM engine_checkpoint")"
kill -TERM "$pid"; wait "$pid" 2>/dev/null
serve_pid=

[ "$(sql "SELECT COUNT(*), COUNT(DISTINCT id) FROM events")" = "$total	$total" ] && ok || bad "events lost or doubled: $(sql "SELECT COUNT(*), COUNT(DISTINCT id) FROM events")"
[ "$(sql "SELECT COUNT(*) - COUNT(DISTINCT rule, case_id, subject) FROM findings")" = 0 ] && ok || bad "a finding stored twice"
sql "SELECT body FROM events ORDER BY seq" >"$tmp/stored.jsonl"
findings_set >"$tmp/db.set"
eval_set "$tmp/stored.jsonl" "$T" >"$tmp/eval.set"
[ -s "$tmp/eval.set" ] && cmp -s "$tmp/db.set" "$tmp/eval.set" && ok || {
    bad "findings after $kills crashes differ from a clean run ($(wc -l <"$tmp/db.set") vs $(wc -l <"$tmp/eval.set"))"
    diff "$tmp/eval.set" "$tmp/db.set" | head -30; }
echo "crash: $(wc -l <"$tmp/db.set") findings equal to a clean run"
finish
