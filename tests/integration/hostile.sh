#!/usr/bin/env bash
# Hostile rules in a running server: a rule that loops, one that
# allocates without bound, one that fails on every call and one that
# tampers with the string library, in one file beside a good rule, and
# the shipped rules. Each hostile rule is quarantined with file:line, the
# good rule of the same file and every shipped rule keep producing the
# findings `casewarden eval` gives without the hostile file, /metrics and
# /v1/rules show the quarantine, and the service stays ready.
# Usage: hostile.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

T=2026-06-01T00:00:00+08:00
cat >"$tmp/rules/zz_hostile.lua" <<'LUA'
rule { id = "H-LOOP", title = "loops", severity = "low", basis = "b", on = { "case.accepted" },
  check = function(case, ev)
    while true do end
  end }
rule { id = "H-ALLOC", title = "allocates", severity = "low", basis = "b", on = { "case.accepted" },
  check = function(case, ev)
    local t = {}
    for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end
  end }
rule { id = "H-ERROR", title = "fails", severity = "low", basis = "b", on = { "case.accepted" },
  check = function(case, ev)
    error("fails on every call")
  end }
rule { id = "H-TAMPER", title = "tampers", severity = "low", basis = "b", on = { "case.accepted" },
  check = function(case, ev)
    string.format = function() return "" end
  end }
rule { id = "H-GOOD", title = "good neighbour", severity = "low", basis = "b", on = { "case.accepted" },
  check = function(case, ev)
    report { message = string.format("受案 %s", ev.id) }
  end }
LUA
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now "$T" || { finish; exit 1; }
load_sql "$top/examples/events.jsonl" || bad "load the examples"
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" 60 && ok || bad "the engine did not get through the examples"

req GET /v1/rules admin-tok
for r in "H-LOOP zz_hostile.lua:3: instruction budget" "H-ALLOC zz_hostile.lua:8: memory cap" \
         "H-ERROR zz_hostile.lua:12: fails on every call" "H-TAMPER rule H-TAMPER: the shared table 'string' is read-only"; do
    id=${r%% *} why=${r#* }
    jq -e --arg id "$id" --arg why "$why" '.rules[] | select(.id == $id) | .state == "quarantined" and (.last_error | contains($why))' \
        "$tmp/body" >/dev/null && ok || bad "$id not quarantined for '$why': $(jq -c --arg id "$id" '.rules[] | select(.id == $id) | {state, last_error}' "$tmp/body")"
done
jq -e '[.rules[] | select((.id | startswith("H-")) | not) | select(.state != "active")] | length == 0' "$tmp/body" >/dev/null &&
    ok || bad "a shipped rule is not active: $(jq -c '[.rules[] | select(.state != "active") | .id]' "$tmp/body")"
accepted=$(grep -c '"type":"case.accepted"' "$top/examples/events.jsonl")
[ "$(sql "SELECT COUNT(*) FROM findings WHERE rule = 'H-GOOD'")" = "$accepted" ] && ok ||
    bad "H-GOOD raised $(sql "SELECT COUNT(*) FROM findings WHERE rule = 'H-GOOD'") findings, expected $accepted (one per acceptance)"
[ "$(sql "SELECT COUNT(*) FROM findings WHERE rule = 'H-GOOD' AND message NOT LIKE '受案 %'")" = 0 ] && ok ||
    bad "H-GOOD's string.format was tampered with"
# the shipped rules' findings are those of eval without the hostile file
findings_set | grep -v '^H-' >"$tmp/db.set"
mkdir -p "$tmp/clean" && cp -r "$top/rules" "$tmp/clean/rules"
"$cw" eval --rules "$tmp/clean/rules" --events "$top/examples/events.jsonl" --now "$T" --quiet \
    | jq -r '[.rule, .case, (if .subject == "" then "-" else .subject end), .state,
              (if .due == null then "-" else (.due | sub("\\+08:00$"; "Z") | fromdateiso8601 - 28800 | tostring) end),
              (.raised | sub("\\+08:00$"; "Z") | fromdateiso8601 - 28800 | tostring)] | @tsv' | sort >"$tmp/eval.set"
[ -s "$tmp/eval.set" ] && cmp -s "$tmp/db.set" "$tmp/eval.set" && ok ||
    { bad "the shipped rules' findings differ from eval's"; diff "$tmp/eval.set" "$tmp/db.set" | head; }
req GET /metrics ""
for id in H-LOOP H-ALLOC H-ERROR H-TAMPER; do
    grep -q "^casewarden_rule_quarantined{rule=\"$id\"} 1$" "$tmp/body" && ok || bad "metrics: $id not shown quarantined"
done
grep -q '^casewarden_rule_quarantined{rule="H-GOOD"} 0$' "$tmp/body" && ok || bad "metrics: H-GOOD not shown active"
grep -qE '^casewarden_rule_errors_total\{rule="H-ERROR"\} [1-9]' "$tmp/body" && ok || bad "metrics: H-ERROR's errors not counted"
req GET /readyz ""
expect "ready with quarantined rules" 200 '.status == "ready" and .lag == 0'
# more events after the quarantine: the others go on
req POST /v1/events ingest-tok '{"id":"h-after","type":"case.accepted","case":"A-H-AFTER","unit":"370102","at":"2026-05-31T09:00:00+08:00","data":{"kind":"administrative","cause":"PSAL-58"}}'
expect "an event after the quarantine" 201
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" && ok || bad "the engine stopped after the quarantine"
[ "$(sql "SELECT COUNT(*) FROM findings WHERE rule = 'H-GOOD' AND case_id = 'A-H-AFTER'")" = 1 ] && ok || bad "H-GOOD stopped producing findings"
stop_serve
# under the sanitizers: nothing reported at exit either
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$tmp/serve.log"; then
    bad "serve under the sanitizers:"; grep -A20 -E 'ERROR: |runtime error' "$tmp/serve.log" | head -40
else ok; fi
grep -q "rule H-LOOP quarantined" "$tmp/serve.log" && ok || bad "the quarantine is not in the log"
check_openapi
finish
