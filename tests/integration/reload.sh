#!/usr/bin/env bash
# A rule reload judges history again only for the rules whose version
# changed, and gives the findings of a full judgement: 20k generated
# events (about 2,000 cases, most of them out of memory after the
# rebuild) stored straight into the table; serve rebuilds; then
#   1. ADM-HANDLING's period changes (a deadline rule): one rule judged
#      again, the others keep their conclusions and are not called;
#   2. OFFICER-OVERLAP's threshold changes (a rule that looks across
#      cases through an index: judged in time order, every case in
#      memory; its file's other rules change version with it);
#   3. the rules as they were.
# After each reload the findings table must equal `casewarden eval` of
# the same events with the rules then in force, the cases that had left
# memory included.
# Usage: reload.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

T=2026-12-18T15:00:00+08:00
generated_log 5 20000
cp -r "$tmp/rules" "$tmp/rules.orig"

metric() { curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
evals() { metric "casewarden_rule_evaluations_total{rule=\"$1\"}"; }

# reloaded LABEL: ask for a reload, then the findings table must equal eval's
reloaded() {
    req POST /v1/rules/reload admin-tok
    expect "$1: reload" 200 '.result == "reloaded"'
    eval_set "$tmp/g/events.jsonl" "$T" >"$tmp/eval.set"
    same_as_eval "$1"
}

start_serve --now "$T" || { finish; exit 1; }
left=$(sed -n 's/.*casewarden serve: rebuilt .*, \([0-9]*\) left it.*/\1/p' "$tmp/serve.log" | head -n 1)
[ "${left:-0}" -gt 100 ] && ok || bad "no cases left memory in the rebuild (${left:-none}): nothing tested"
req GET /v1/rules admin-tok
nrules=$(jq '[.rules[] | select(.state == "active")] | length' "$tmp/body")
[[ ${nrules:-} =~ ^[0-9]+$ ]] && [ "$nrules" -gt 10 ] && ok || bad "no count of active rules: '${nrules:-}'"
eval_set "$tmp/g/events.jsonl" "$T" >"$tmp/eval.set"
same_as_eval "after the rebuild"
adm_before=$(findings_set | awk '$1 == "ADM-HANDLING"' | md5sum)

# 1. a deadline rule's period: 30 days to 20
sed -i '/id = "ADM-HANDLING"/,/period = /s/period = { days = 30 },/period = { days = 20 },/' "$tmp/rules/deadlines.lua"
grep -A8 'id = "ADM-HANDLING"' "$tmp/rules/deadlines.lua" | grep -q 'days = 20' && ok || bad "the test's edit of ADM-HANDLING did not apply"
reloaded "ADM-HANDLING 20 days"
[ "$(findings_set | awk '$1 == "ADM-HANDLING"' | md5sum)" != "$adm_before" ] && ok ||
    bad "ADM-HANDLING's findings did not change with its period: nothing tested"
[ "$(metric 'casewarden_reload_rules_total{result="judged"}')" = 1 ] &&
    [ "$(metric 'casewarden_reload_rules_total{result="kept"}')" = $((nrules - 1)) ] && ok ||
    bad "rules judged/kept: $(metric 'casewarden_reload_rules_total{result="judged"}')/$(metric 'casewarden_reload_rules_total{result="kept"}'), expected 1/$((nrules - 1))"
a=$(evals ADM-HANDLING) b=$(evals CRIM-FILING) c=$(evals OFFICER-OVERLAP)
[[ $a =~ ^[0-9]+$ ]] && [ "$a" -gt 0 ] && [ "$b" = 0 ] && [ "$c" = 0 ] && ok ||
    bad "calls after the reload: ADM-HANDLING ${a:-none} (> 0), CRIM-FILING ${b:-none} and OFFICER-OVERLAP ${c:-none} (0)"
cases=$(metric casewarden_reload_cases_total)
[[ ${cases:-} =~ ^[0-9]+$ ]] && [ "$cases" -gt "$left" ] && ok ||
    bad "cases judged again ${cases:-none}: not every case (the $left out of memory included)"
grep -q "1 judged again over [0-9]* cases and [0-9]* events (case by case) in [0-9.]* s, $((nrules - 1)) kept their conclusions" "$tmp/serve.log" && ok ||
    bad "no log line of the selective reload: $(grep 'rules reloaded' "$tmp/serve.log" | tail -n 1)"

# 2. a cross-case rule: the overlap that counts, 5 minutes to 1
sed -i 's/^local LIMIT = minutes(5)$/local LIMIT = minutes(1)/' "$tmp/rules/inspection.lua"
grep -q '^local LIMIT = minutes(1)$' "$tmp/rules/inspection.lua" && ok || bad "the test's edit of OFFICER-OVERLAP did not apply"
reloaded "OFFICER-OVERLAP 1 minute"
j=$(metric 'casewarden_reload_rules_total{result="judged"}')
[[ ${j:-} =~ ^[0-9]+$ ]] && [ "$j" -gt 1 ] && [ "$j" -lt "$nrules" ] && ok ||
    bad "rules judged again after the second reload: ${j:-none}, expected those of inspection.lua only"
[ "$(evals CRIM-FILING)" = 0 ] && [ "$(evals OFFICER-OVERLAP)" != 0 ] && ok ||
    bad "calls: CRIM-FILING $(evals CRIM-FILING) (0), OFFICER-OVERLAP $(evals OFFICER-OVERLAP) (> 0)"
# it looks at other cases through an index: judged in time order, as a start
[ "$(grep 'rules reloaded from' "$tmp/serve.log" | tail -n 1 | grep -c 'in time order across cases, every case in memory')" = 1 ] && ok ||
    bad "OFFICER-OVERLAP's change not judged in time order: $(grep 'rules reloaded' "$tmp/serve.log" | tail -n 1)"

# 3. the rules as they were
rm -rf "$tmp/rules" && cp -r "$tmp/rules.orig" "$tmp/rules"
reloaded "the rules as they were"
stop_serve
grep -q "stopping" "$tmp/serve.log" && ok || bad "serve did not stop cleanly"

# 4. partitioned (one engine holding every partition): the cross-case
# rules see every case, so a change to one of them is judged in time
# order across all cases (with leases cases stay in memory)
printf 'cluster: {lease_ms: 3000, renew_ms: 1000}\n' >>"$cfg"
mv "$tmp/serve.log" "$tmp/serve.single.log"   # the partitioned start has a log of its own
start_serve --now "$T" || { finish; exit 1; }
sed -i 's/^local LIMIT = minutes(5)$/local LIMIT = minutes(1)/' "$tmp/rules/inspection.lua"
reloaded "partitioned, OFFICER-OVERLAP 1 minute"
grep -q "judged again over [0-9]* cases and [0-9]* events (in time order across cases, every case in memory)" "$tmp/serve.log" && ok ||
    bad "the cross-case rule's change was not judged in time order: $(grep 'rules reloaded' "$tmp/serve.log" | tail -n 1)"
# every event the start judged is seen again: none went with the
# rebuild's spool
read_at_start=$(sed -n 's/.*partitions and the cross-case rules; all [0-9]* judged .*), \([0-9]*\) events in .*/\1/p' "$tmp/serve.log" | head -n 1)
seen=$(sed -n 's/.*judged again over [0-9]* cases and \([0-9]*\) events (in time order.*/\1/p' "$tmp/serve.log" | head -n 1)
[[ ${read_at_start:-} =~ ^[0-9]+$ ]] && [ "$read_at_start" -gt 0 ] && [ "${seen:-}" = "$read_at_start" ] && ok ||
    bad "partitioned: the reload saw ${seen:-no} events of the ${read_at_start:-?} the start judged"
[ "$(evals CRIM-FILING)" = 0 ] && ok || bad "partitioned: CRIM-FILING called $(evals CRIM-FILING) times"
rm -rf "$tmp/rules" && cp -r "$tmp/rules.orig" "$tmp/rules"
reloaded "partitioned, the rules as they were"
stop_serve
finish
