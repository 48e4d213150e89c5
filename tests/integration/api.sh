#!/usr/bin/env bash
# The HTTP API end to end, through real HTTP against a real MariaDB: every
# endpoint, every error status, the authorization matrix (each role x each
# endpoint x a unit in and out of scope), the review audit trail, batches
# with mixed events, pagination, a database outage, and api/openapi.yaml.
# Usage: api.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

T=2026-06-01T00:00:00+08:00
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now "$T" || { finish; exit 1; }

# --- ingest: the example file in batches, then single events ---
split -l 40 "$top/examples/events.jsonl" "$tmp/part."
for p in "$tmp"/part.*; do
    req POST /v1/events ingest-tok "{\"events\":[$(paste -sd, "$p")]}"
    expect "batch $(basename "$p")" 200 '.stored > 0 and .invalid == 0 and .conflict == 0'
    # the seqs answered are those stored (the first batch of a connection too)
    jq -r '.results[] | "\(.id)\t\(.seq)"' "$tmp/body" >"$tmp/answered"
    sql "SELECT id, seq FROM events WHERE id IN ($(jq -r '[.results[].id | "'"'"'\(.)'"'"'"] | join(",")' "$tmp/body")) ORDER BY seq" >"$tmp/stored"
    cmp -s "$tmp/answered" "$tmp/stored" && ok || bad "batch $(basename "$p"): answered seqs differ from the stored ones"
done
n=$(wc -l <"$top/examples/events.jsonl")
wait_checkpoint "$n" && ok || bad "engine did not catch up with the posted events"
[ "$(sql "SELECT COUNT(*) FROM events WHERE source = 'api'")" = "$n" ] && ok || bad "not every event stored"
findings_set >"$tmp/db.set"
eval_set "$top/examples/events.jsonl" "$T" >"$tmp/eval.set"
cmp -s "$tmp/db.set" "$tmp/eval.set" && ok || { bad "findings via the API differ from eval"; diff "$tmp/eval.set" "$tmp/db.set" | head; }

ev='{"id":"api-1","type":"evidence.seized","case":"A-API","unit":"370102","at":"2026-05-30T10:00:00+08:00","data":{"item":"K9"}}'
req POST /v1/events ingest-tok "$ev"
expect "single stored" 201 '.result == "stored" and .id == "api-1" and (.seq | type) == "number"'
[ "$(jq .seq "$tmp/body")" = "$(sql "SELECT seq FROM events WHERE id = 'api-1'")" ] && ok || bad "the seq answered is not the stored one"
req POST /v1/events ingest-tok "$ev"
expect "single duplicate" 200 '.result == "duplicate"'
req POST /v1/events ingest-tok "$(echo "$ev" | jq -c '.data.item = "K8"')"
expect "single conflict" 409 '.error.code == "conflict" and .error.field == "id"'
[ "$(sql "SELECT COUNT(*) FROM event_conflicts WHERE event_id = 'api-1'")" = 1 ] && ok || bad "API conflict not recorded"
req POST /v1/events admin-tok '{"id":"api-2","type":"evidence.seized","case":"A-API","unit":"370102","at":"2026-05-30T10:00:00+08:00","data":{}}'
expect "invalid: required field" 422 '.error.code == "invalid_event" and .error.field == "data.item"'
[ "$(sql "SELECT COUNT(*) FROM events WHERE id = 'api-2'")" = 0 ] && ok || bad "an invalid event was stored"
# a batch with every outcome
req POST /v1/events ingest-tok "{\"events\":[$ev,{\"id\":\"api-3\",\"type\":\"scene.attended\",\"case\":\"S-API\",\"unit\":\"370103\",\"at\":\"2026-05-31T08:00:00+08:00\",\"data\":{\"ref\":\"R9\"}},$(echo "$ev" | jq -c '.data.item = "K7"'),{\"id\":\"api-4\",\"type\":\"scene.attended\"},{\"id\":\"api-3\",\"type\":\"scene.attended\",\"case\":\"S-API\",\"unit\":\"370103\",\"at\":\"2026-05-31T08:00:00+08:00\",\"data\":{\"ref\":\"R9\"}}]}"
expect "mixed batch" 200 '.stored == 1 and .duplicate == 2 and .conflict == 1 and .invalid == 1 and
    .results[0].result == "duplicate" and .results[1].result == "stored" and .results[2].result == "conflict" and
    .results[3].result == "invalid" and .results[3].error.field == "case" and .results[4].result == "duplicate" and
    .results[3].index == 3'
[ "$(jq '.results[1].seq' "$tmp/body")" = "$(sql "SELECT seq FROM events WHERE id = 'api-3'")" ] &&
[ "$(jq '.results[0].seq' "$tmp/body")" = "$(sql "SELECT seq FROM events WHERE id = 'api-1'")" ] && ok ||
    bad "a batch answers other seqs than those stored"

# event to finding: the posted seizure becomes visible as a finding
for _ in $(seq 1 50); do
    req GET "/v1/findings?case=A-API" admin-tok
    [ "$(jq '.findings | length' "$tmp/body")" = 1 ] && break
    sleep 0.05
done
expect "posted event evaluated" 200 '.findings[0].rule == "PROPERTY-24H" and .findings[0].state == "overdue" and .findings[0].events == ["api-1"]'

# --- error statuses ---
req POST /v1/events ingest-tok '{"id":"x",'
expect "400 malformed JSON" 400 '.error.code == "malformed_json" and (.error.message | test("byte"))'
req POST /v1/events ingest-tok '[1,2]'
expect "400 not an event" 400 '.error.code == "bad_request"'
req POST /v1/events ingest-tok '{"id":"x"}' text/plain
expect "415 content type" 415 '.error.code == "unsupported_media_type"'
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
req POST /v1/events ingest-tok "{\"id\":\"$big\"}"
expect "413 body too large" 413 '.error.code == "payload_too_large"'
req POST /v1/events ingest-tok "{\"events\":[$(printf '{},%.0s' $(seq 1 50)){}]}"
expect "413 batch too large" 413 '.error.code == "batch_too_large"'
req GET /v1/findings nope-token
expect "401 unknown token" 401 '.error.code == "unauthorized"'
req GET /v1/findings ""
expect "401 no token" 401
req GET /v1/nothing admin-tok
expect "404 unknown path" 404 '.error.code == "not_found"'
req DELETE /v1/findings admin-tok
expect "405 method" 405 '.error.code == "method_not_allowed"'
curl -s -D - -o /dev/null -X DELETE -H "Authorization: Bearer admin-tok" "$url/v1/findings" | grep -qi "^Allow: GET" && ok || bad "405 without an Allow header"
req GET "/v1/findings?state=bogus" admin-tok
expect "400 bad filter value" 400 '.error.field == "state"'
req GET "/v1/findings?stat=late" admin-tok
expect "400 unknown filter" 400 '.error.field == "stat"'
req GET "/v1/findings?raised_from=yesterday" admin-tok
expect "400 bad time filter" 400 '.error.field == "raised_from"'
req GET /v1/findings/999999 admin-tok
expect "404 no such finding" 404
req GET /v1/cases/NO-SUCH-CASE admin-tok
expect "404 no such case" 404

# --- filters and pagination ---
req GET "/v1/findings?state=late&unit=3701" admin-tok
expect "filter state+unit" 200 '[.findings[] | select(.state != "late" or (.unit | startswith("3701") | not))] | length == 0'
total=$(sql "SELECT COUNT(*) FROM findings WHERE state <> 'withdrawn'")
cursor=; seen=0; pages=0; prev=0; ordered=1
while :; do
    req GET "/v1/findings?limit=5${cursor:+&cursor=$cursor}" admin-tok
    [ "$code" = 200 ] || break
    seen=$((seen + $(jq '.findings | length' "$tmp/body")))
    for id in $(jq '.findings[].id' "$tmp/body"); do [ "$id" -gt "$prev" ] || ordered=0; prev=$id; done
    pages=$((pages + 1))
    cursor=$(jq -r '.next // empty' "$tmp/body")
    [ -n "$cursor" ] || break
done
[ "$seen" = "$total" ] && [ "$ordered" = 1 ] && [ "$pages" -ge 4 ] && ok || bad "pagination: saw $seen of $total in $pages pages (ordered=$ordered)"
req GET "/v1/findings?raised_from=2026-05-01T00:00:00%2B08:00&raised_to=2026-05-31T23:59:59%2B08:00&severity=high" admin-tok
expect "time and severity filters" 200 '[.findings[] | select(.severity != "high" or .raised < "2026-05-01" or .raised > "2026-06")] | length == 0'

# --- authorization matrix ---
in_id=$(sql "SELECT id FROM findings WHERE unit = '370102' LIMIT 1")        # under 3701, not 370103
in_case=$(sql "SELECT case_id FROM findings WHERE id = $in_id")
x103=$(sql "SELECT id FROM findings WHERE unit = '370103' LIMIT 1")
#           endpoint                                   ingest  insp-3701  insp-370103  insp-3702  admin  none
matrix() {
    local label=$1 method=$2 path=$3 body=$4; shift 4
    local toks=(ingest-tok insp-3701 insp-370103 insp-3702 admin-tok "") i=0 want
    for want in "$@"; do
        req "$method" "$path" "${toks[$i]}" "$body"
        [ "$code" = "$want" ] && ok || bad "authz $label as ${toks[$i]:-nobody}: $code, expected $want"
        i=$((i + 1))
    done
}
matrix "GET findings" GET /v1/findings "" 403 200 200 200 200 401
matrix "GET finding in 370102" GET "/v1/findings/$in_id" "" 403 200 404 404 200 401
matrix "GET finding in 370103" GET "/v1/findings/$x103" "" 403 200 200 404 200 401
matrix "GET case in 370102" GET "/v1/cases/$in_case" "" 403 200 404 404 200 401
matrix "GET rules" GET /v1/rules "" 403 200 200 200 200 401
matrix "POST reload" POST /v1/rules/reload "" 403 403 403 403 200 401
matrix "POST events" POST /v1/events '{"id":"authz-1","type":"case.filed","case":"Z","unit":"370102","at":"2026-05-01T00:00:00+08:00"}' \
    201 403 403 403 200 401
# a finding of 370104: in scope for 3701 only; once acknowledged, the
# admin's second acknowledgement is refused as a transition, not as authz
x104=$(sql "SELECT id FROM findings WHERE unit = '370104' LIMIT 1")
matrix "POST review in 370104" POST "/v1/findings/$x104/review" '{"action":"acknowledge"}' 403 200 404 404 409 401
# scoped listing: an inspector sees exactly the findings under their prefix
req GET "/v1/findings?limit=500" insp-370103
[ "$(jq '[.findings[] | select(.unit | startswith("370103") | not)] | length' "$tmp/body")" = 0 ] &&
[ "$(jq '.findings | length' "$tmp/body")" = "$(sql "SELECT COUNT(*) FROM findings WHERE state <> 'withdrawn' AND unit LIKE '370103%'")" ] && ok || bad "inspector scope of the listing"
req GET /v1/rules insp-370103
expect "rules counts scoped" 200 '[.rules[].findings | to_entries[] | .value] | add == '"$(sql "SELECT COUNT(*) FROM findings WHERE state <> 'withdrawn' AND unit LIKE '370103%'")"
for p in /healthz /readyz /metrics; do req GET "$p" ""; [ "$code" = 200 ] && ok || bad "$p from loopback without a token: $code"; done

# --- the review audit trail ---
req POST "/v1/findings/$in_id/review" insp-3701 '{"action":"resolve"}'
expect "resolve needs a comment" 422 '.error.field == "comment"'
req POST "/v1/findings/$in_id/review" insp-3701 '{"action":"bless"}'
expect "unknown action" 422 '.error.field == "action"'
req POST "/v1/findings/$in_id/review" insp-3701 '{"action":"reopen","comment":"x"}'
expect "reopen an open finding" 409 '.error.code == "invalid_transition"'
req POST "/v1/findings/$in_id/review" insp-3701 '{"action":"acknowledge"}'
expect "acknowledge" 200 '.review == "acknowledged"'
req POST "/v1/findings/$in_id/review" insp-3701 '{"action":"resolve","comment":"已督促办结, 补录审批手续"}'
expect "resolve" 200 '.review == "resolved"'
req POST "/v1/findings/$in_id/review" admin-tok '{"action":"reopen","comment":"复查: 手续不全"}'
expect "reopen" 200 '.review == "reopened"'
req POST "/v1/findings/$in_id/review" insp-3701 '{"action":"dismiss","comment":"经核实系录入错误"}'
expect "dismiss" 200 '.review == "dismissed" and (.reviews | length) == 4 and
    ([.reviews[].action] == ["acknowledge","resolve","reopen","dismiss"]) and
    ([.reviews[].who] == ["inspector-3701","inspector-3701","admin","inspector-3701"]) and
    .reviews[1].comment == "已督促办结, 补录审批手续" and .reviews[2].from == "resolved" and .reviews[2].to == "reopened"'
req GET "/v1/findings/$in_id" insp-3701
expect "finding with evidence and history" 200 '(.evidence | length) >= 1 and (.evidence[0].event.id | type) == "string" and (.reviews | length) == 4'
[ "$(sql "SELECT COUNT(*) FROM finding_reviews WHERE finding_id = $in_id")" = 4 ] && ok || bad "audit rows"
sql "UPDATE finding_reviews SET comment = 'rewritten'" 2>/dev/null && bad "the audit trail could be rewritten" || ok
# the engine's upserts keep the inspector's review
"$cw" serve --config "$cfg" --once --now 2026-06-20T00:00:00+08:00 >/dev/null 2>&1
[ "$(sql "SELECT review FROM findings WHERE id = $in_id")" = dismissed ] && ok || bad "review lost on re-evaluation"

# --- cases ---
req GET /v1/cases/A370104202600004 insp-3701
expect "case timeline in time order with findings" 200 '.unit == "370104" and (.timeline | length) == 5 and
    ([.timeline[].event.at] | . == sort) and ([.findings[].rule] | sort) == ["ADM-HANDLING","ADM-HANDLING"]'

# --- rules and metrics ---
req GET /v1/rules admin-tok
expect "rules" 200 '(.rules | length) > 10 and all(.rules[]; .state == "active") and (.rules[] | select(.id == "ADM-HANDLING") | .findings.late) >= 1'
req GET /metrics ""
for m in '^casewarden_events_ingested_total [1-9]' 'casewarden_http_request_duration_seconds_bucket{le="+Inf"}' \
         '^casewarden_queue_depth 0' '^casewarden_findings{state="overdue"}' \
         'casewarden_events_rejected_total{reason="conflict"} [1-9]'; do
    grep -q "$m" "$tmp/body" && ok || bad "metrics: no line matching $m in: $(grep -v '^#' "$tmp/body" | head -c 800)"
done
grep -q '^casewarden_case_replays_total [0-9]' "$tmp/body" && ok || bad "metrics: no case replays counter"
# the legal calendar ends 2026-12-31: 213 days after 2026-06-01, no warning yet
grep -q '^casewarden_calendar_days_left 213$' "$tmp/body" && ok || bad "metrics: calendar_days_left is not 213: $(grep calendar "$tmp/body")"
grep -q '法定节假日日历止于' "$tmp/serve.log" && bad "serve warned of the calendar's end 213 days ahead" || ok
[ "$(grep -c '^casewarden_rule_evaluations_total{rule="FT-HEARING"}' "$tmp/body")" -le 1 ] && ok || bad "a rule's versions are two series"

# --- suggestions (智能量罚) from the running engine: the 21 thefts of
# examples/ are the peers of a theft fined at Jinan (3701) ---
sq='{"cause":"PSAL-58","circumstance":"normal","offence_at":"2026-05-28T10:00:00+08:00","decided_at":"2026-05-30T10:00:00+08:00","unit":"370102","person":{"birth_date":"1990-01-01"}}'
req POST /v1/sanctions/suggest handler-tok "$sq"
expect "a handler's suggestion" 200 '(.advice[] | select(.rule == "SANCTION-RANGE") | .answer.table) == "2025" and
    (.advice[] | select(.rule == "SANCTION-RANGE") | .answer.fine) == [0,2000] and
    (.advice[] | select(.rule == "SANCTION-PEER") | .answer.available) == true and
    (.advice[] | select(.rule == "SANCTION-PEER") | .answer.fine.median) == 500 and
    (.advice[] | select(.rule == "DETENTION-EXEMPT") | .answer.executable) == true'
req POST /v1/sanctions/suggest insp-3701 "$sq"
expect "an inspector may ask too" 200
req POST /v1/sanctions/suggest ingest-tok "$sq"
expect "the ingest role may not" 403
req GET /v1/findings handler-tok
expect "a handler reads no findings" 403
req POST /v1/sanctions/suggest handler-tok '{"cause":"PSAL-58","offence_at":"yesterday"}'
expect "a bad query names the field" 400 '.error.code == "invalid_query" and (.error.message | test("offence_at"))'

# --- every path of api/openapi.yaml answers ---
for p in $(sed -n 's/^  \(\/[^:]*\):$/\1/p' "$top/api/openapi.yaml"); do
    path=${p//\{id\}/$in_id}
    path=${path//\{case\}/$in_case}
    method=$(awk -v p="  $p:" '$0 == p {getline; gsub(/[ :]/, ""); print toupper($0); exit}' "$top/api/openapi.yaml")
    body=
    [ "$method" = POST ] && case "$path" in
        */review) body='{"action":"reopen","comment":"openapi check"}' ;;
        */exemption) body='{"reason":"openapi check","approver":"admin","expires":"2026-12-31"}' ;;
        /v1/events) body='{"id":"oa-1","type":"case.filed","case":"OA","unit":"370102","at":"2026-05-01T00:00:00+08:00"}' ;;
        /v1/sanctions/suggest) body=$sq ;;
    esac
    case "$path" in
        /v1/reports/quality) path="$path?from=2026-05-01&to=2026-05-31" ;;
        # a stream goes on: its first second is enough
        /v1/stream) code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 1 -H "Authorization: Bearer admin-tok" "$url$path") ;;
    esac
    [ "$path" = /v1/stream ] || req "$method" "$path" admin-tok "$body"
    case "$p:$code" in *:2??|/console:302) ok ;; *) bad "openapi path $method $p answers $code" ;; esac
done

# --- the database goes away: 503, then back ---
"$top/scripts/mariadb-stop.sh" "$tmp/db" >/dev/null 2>&1
req GET /v1/findings admin-tok
expect "503 without the database" 503 '.error.code == "database_unavailable"'
req GET /readyz ""
expect "not ready without the database" 503
"$top/scripts/mariadb-start.sh" "$tmp/db" >/dev/null 2>&1
for _ in $(seq 1 50); do req GET /v1/findings admin-tok; [ "$code" = 200 ] && break; sleep 0.2; done
expect "the database is back" 200
req POST /v1/events ingest-tok '{"id":"after-outage","type":"scene.attended","case":"S-OUT","unit":"370102","at":"2026-05-31T10:00:00+08:00","data":{"ref":"R1"}}'
expect "ingest after the outage" 201
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" && ok || bad "the engine did not recover from the outage"

stop_serve
# 46 days before the calendar's end the service's start warns, in the log
"$cw" serve --config "$cfg" --once --now 2026-11-15T00:00:00+08:00 >"$tmp/once.log" 2>&1
grep -q '法定节假日日历止于 2026-12-31, 还有 46 日' "$tmp/once.log" && ok ||
    bad "serve --once 46 days before the calendar's end did not warn: $(tail -3 "$tmp/once.log")"
check_openapi
finish
