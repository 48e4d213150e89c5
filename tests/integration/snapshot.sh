#!/usr/bin/env bash
# A start from the snapshot gives the findings of a full rebuild when cases
# left memory: 20k generated events (about 2,000 cases, most of them
# settled and out of memory after the rebuild) stored straight into the
# table; serve rebuilds, writes its snapshot at SIGTERM, then starts twice
# from it. After each start the findings table must equal `casewarden
# eval` of the same events (a stored finding of a case that left memory
# is in the case's image, not an orphan to withdraw).
# Usage: snapshot.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

T=2026-12-18T15:00:00+08:00
generated_log 5 20000
eval_set "$tmp/g/events.jsonl" "$T" >"$tmp/eval.set"
[ -s "$tmp/eval.set" ] && ok || bad "eval found nothing"

start_serve --now "$T" || { finish; exit 1; }
stop_serve
grep -q "casewarden serve: rebuilt" "$tmp/serve.log" && ok || bad "the first start did not rebuild"
left=$(sed -n 's/.*casewarden serve: rebuilt .*, \([0-9]*\) left it.*/\1/p' "$tmp/serve.log" | head -n 1)
[ "${left:-0}" -gt 100 ] && ok || bad "no cases left memory in the rebuild (${left:-none}): nothing tested"
same_as_eval "after the rebuild"
[ "$(sql "SELECT COUNT(*) FROM engine_snapshot_meta")" -ge 1 ] && ok || bad "no snapshot written at SIGTERM"

for k in 1 2; do
    start_serve --now "$T" || { finish; exit 1; }
    stop_serve
    [ "$(grep -c "casewarden serve: started from the snapshot" "$tmp/serve.log")" -eq "$k" ] && ok ||
        bad "start $((k + 1)) did not start from the snapshot"
    same_as_eval "after start $((k + 1)), from the snapshot"
done
finish
