#!/usr/bin/env bash
# Values the catalogue bounds (rules/catalogue.yaml: min, max, max_bytes,
# limits; rules/engine.yaml: events.years_before/after): over HTTP each is
# refused naming the event and the field, by direct INSERT each is
# recorded in event_problems, and nothing of them reaches the findings.
# And `casewarden check` and POST /v1/rules/reload refuse the same rules
# (an undeclared ev.data field a rule reads, a gap in the calendar).
# Usage: values.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now 2026-06-01T00:00:00+08:00 || { finish; exit 1; }

E='"case":"V-1","unit":"370102","at":"2026-05-20T10:00:00+08:00"'
req POST /v1/events ingest-tok "{\"id\":\"v-ext0\",\"type\":\"case.extended\",$E,\"data\":{\"limit\":\"handling\",\"days\":0}}"
expect "extension of 0 days" 422 '.error.code == "invalid_event" and .error.field == "data.days" and (.error.message | test("v-ext0") and test("outside 1-365"))'
req POST /v1/events ingest-tok "{\"id\":\"v-ext1\",\"type\":\"case.extended\",$E,\"data\":{\"limit\":\"handling\",\"days\":100000}}"
expect "extension of 100000 days" 422 '.error.field == "data.days"'
req POST /v1/events ingest-tok "{\"id\":\"v-ext2\",\"type\":\"case.extended\",$E,\"data\":{\"limit\":\"handling\",\"days\":30}}"
expect "extension of 30 days" 201 '.result == "stored"'
req POST /v1/events ingest-tok "{\"events\":[{\"id\":\"v-fine\",\"type\":\"penalty.decided\",$E,\"data\":{\"person\":\"P1\",\"cause\":\"PSAL-58\",\"circumstance\":\"normal\",\"fine\":-200}}]}"
expect "a negative fine in a batch" 200 '.invalid == 1 and .results[0].id == "v-fine" and .results[0].error.field == "data.fine"'
req POST /v1/events ingest-tok '{"id":"v-y1","type":"case.filed","case":"V-2","unit":"370102","at":"0001-01-01T00:00:00+08:00"}'
expect "year 0001" 422 '.error.field == "at" and (.error.message | test("v-y1") and test("1996-2027"))'
req POST /v1/events ingest-tok '{"id":"v-y2","type":"case.filed","case":"V-2","unit":"370102","at":"9999-12-31T00:00:00+08:00"}'
expect "year 9999" 422 '.error.field == "at"'
long=$(head -c 5000 /dev/zero | tr '\0' a)
req POST /v1/events ingest-tok "{\"id\":\"v-str\",\"type\":\"case.extended\",$E,\"data\":{\"limit\":\"handling\",\"days\":3,\"approved_by\":\"$long\"}}"
expect "a 5000-byte string field" 422 '.error.field == "data.approved_by" and (.error.message | test("4096"))'
huge=$(head -c 60000 /dev/zero | tr '\0' a)
req POST /v1/events ingest-tok "{\"id\":\"v-big\",\"type\":\"scene.attended\",$E,\"data\":{\"ref\":\"R\",\"note\":\"$huge\",\"more\":\"$huge\"}}"
expect "a 120 KB event (body limit 64 KB here)" 413
sed -i 's/max_body_bytes: 65536/max_body_bytes: 1048576/' "$cfg"
stop_serve
start_serve --now 2026-06-01T00:00:00+08:00 || { finish; exit 1; }
req POST /v1/events ingest-tok "{\"id\":\"v-big\",\"type\":\"scene.attended\",$E,\"data\":{\"ref\":\"R\",\"note\":\"$huge\",\"more\":\"$huge\"}}"
expect "a 120 KB event (catalogue limit 64 KB)" 422 '.error.field == "event" and (.error.message | test("65536"))'
req POST /v1/events ingest-tok '{"id":"v-syn","type":'
expect "malformed JSON has a position" 400 '.error.code == "malformed_json" and (.error.position | type) == "number"'
[ "$(sql "SELECT COUNT(*) FROM events WHERE id LIKE 'v-%'")" = 1 ] && ok || bad "refused events were stored: $(sql "SELECT id FROM events WHERE id LIKE 'v-%'")"

# direct INSERTs: stored by the case system, refused by the engine, recorded
cat >"$tmp/direct.jsonl" <<JSONL
{"id":"d-ext","type":"case.extended",$E,"data":{"limit":"handling","days":-5}}
{"id":"d-fine","type":"penalty.decided",$E,"data":{"person":"P1","cause":"PSAL-58","circumstance":"normal","fine":-1}}
{"id":"d-year","type":"case.filed","case":"V-3","unit":"370102","at":"0001-01-01T00:00:00+08:00"}
{"id":"d-ok","type":"case.filed","case":"V-3","unit":"370102","at":"2026-05-21T00:00:00+08:00"}
JSONL
load_sql "$tmp/direct.jsonl" || bad "direct INSERT"
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" && ok || bad "the engine did not read the direct INSERTs"
for p in "d-ext data.days" "d-fine data.fine" "d-year at"; do
    set -- $p
    [ "$(sql "SELECT field FROM event_problems WHERE event_id = '$1'")" = "$2" ] && ok ||
        bad "event_problems for $1: '$(sql "SELECT field, message FROM event_problems WHERE event_id = '$1'")', expected $2"
done
[ "$(sql "SELECT COUNT(*) FROM event_problems WHERE event_id = 'd-ok'")" = 0 ] && ok || bad "a good event has a problem"
req GET /v1/events/problems admin-tok
expect "problems over HTTP" 200 '[.problems[] | select(.event_id == "d-ext" and .field == "data.days")] | length == 1'

# check and reload agree: a rule reading an undeclared data field
cat >"$tmp/rules/zz_lint.lua" <<'LUA'
rule { id = "LINT-1", title = "t", severity = "low", basis = "b", on = { "case.filed" },
  check = function(case, ev)
    if ev.data.persn then report { message = "x" } end
  end }
LUA
"$cw" check --rules "$tmp/rules" >"$tmp/check.out" 2>&1; st=$?
[ "$st" = 1 ] && grep -q "zz_lint.lua:3: data field 'persn'" "$tmp/check.out" && ok || bad "check: exit $st: $(cat "$tmp/check.out")"
req POST /v1/rules/reload admin-tok
expect "reload refuses the undeclared field" 422 '.error.code == "rules_refused" and (.error.message | test("zz_lint.lua:3: data field .persn."))'
rm "$tmp/rules/zz_lint.lua"
# a calendar with a gap: 2026 and 2028, no 2027
printf "year: 2028\nsource: test\nholidays:\n  - {from: 2028-01-01, to: 2028-01-01, name: 元旦}\n" >"$tmp/rules/calendar/2028.yaml"
"$cw" check --rules "$tmp/rules" >"$tmp/check.out" 2>&1; st=$?
[ "$st" = 1 ] && grep -q "years 2027-2027 are missing" "$tmp/check.out" && ok || bad "check, calendar gap: exit $st: $(tail -3 "$tmp/check.out")"
req POST /v1/rules/reload admin-tok
expect "reload refuses the calendar gap" 422 '.error.message | test("2027-2027 are missing")'
rm "$tmp/rules/calendar/2028.yaml"
req POST /v1/rules/reload admin-tok
expect "reload of the fixed rules" 200 '.result == "reloaded"'
stop_serve
# under the sanitizers: nothing reported at exit either
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$tmp/serve.log"; then
    bad "serve under the sanitizers:"; grep -A20 -E 'ERROR: |runtime error' "$tmp/serve.log" | head -40
else ok; fi
check_openapi
finish
