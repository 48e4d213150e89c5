#!/usr/bin/env bash
# The rectification loop through real HTTP against a real MariaDB: every
# review transition allowed and refused (against a table written here,
# not read from the code), assignment and 销号 with evidence, the engine's
# automatic reopen, exemptions and their expiry, the findings list's
# filters, sort, total and counts, paged cases, event problems, the
# quality report worked out by hand on a small fixture (JSON, the CLI,
# CSV bytes), the backlog, and the change stream's scope and resumption.
# Usage: loop.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

T1=2026-06-01T00:00:00+08:00
T2=2026-06-08T00:00:00+08:00
# streams end after 3 s here, and at most 3 are served at once
sed -i 's/^api: {/api: {max_streams: 3, stream_max_s: 3, /' "$cfg"
cat >> "$cfg" <<YAML
  - {name: reviewer-370103, role: reviewer, unit: "370103", sha256: $(digest rev-370103)}
  - {name: reviewer-3702, role: reviewer, unit: "3702", sha256: $(digest rev-3702)}
YAML
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now "$T1" || { finish; exit 1; }

post_events() {   # post_events FILE
    req POST /v1/events ingest-tok "{\"events\":[$(paste -sd, "$1")]}"
    [ "$code" = 200 ] || bad "posting $1: $code $(head -c 200 "$tmp/body")"
    wait_checkpoint "$(sql "SELECT MAX(seq) FROM events")" || bad "the engine did not take $1"
}
fid() {   # fid RULE CASE: the finding's id
    sql "SELECT id FROM findings WHERE rule = '$1' AND case_id = '$2' LIMIT 1"
}

post_events "$top/tests/integration/fixtures/loop.jsonl"
F1=$(fid PROPERTY-24H A370102202605001); F2=$(fid BODYCAM-24H S370102202605002)
F3=$(fid BODYCAM-24H S370103202605003); F5=$(fid PROPERTY-24H A370103202605005)
F6=$(fid PROPERTY-24H A370102202605006); FA=$(fid ALARM-ACCEPT J370112202605310011)
[ -n "$F1" ] && [ -n "$F2" ] && [ -n "$F3" ] && [ -n "$F5" ] && [ -n "$F6" ] && [ -n "$FA" ] && ok ||
    { bad "the fixture's findings are not all there"; sql "SELECT rule, case_id, state FROM findings"; }

# --- every transition: the lifecycle as this test knows it ---
#   from state: the actions allowed (the others must be refused, naming these)
declare -A allowed=(
    [open]="acknowledge, assign, resolve, dismiss"
    [acknowledged]="assign, resolve, dismiss, reopen"
    [assigned]="assign, resolve, dismiss, reopen"
    [resolved]="reopen"
    [dismissed]="reopen"
    [reopened]="acknowledge, assign, resolve, dismiss"
)
declare -A to=([acknowledge]=acknowledged [assign]=assigned [resolve]=resolved [dismiss]=dismissed [reopen]=reopened)
body_of() {   # body_of ACTION: a valid body for it
    case $1 in
        acknowledge) echo '{"action":"acknowledge"}' ;;
        assign) echo '{"action":"assign","assignee":{"kind":"unit","id":"370112"},"due":"2026-06-10"}' ;;
        *) echo "{\"action\":\"$1\",\"comment\":\"核查: $1\"}" ;;
    esac
}
# bring a new finding (its own case) to a review state
n=0
finding_in() {   # finding_in STATE: $id, a fresh finding in that review (raised in April: out of the report)
    n=$((n + 1))
    local c=A3701122026LC$n
    req POST /v1/events ingest-tok "{\"id\":\"lc-$n\",\"type\":\"evidence.seized\",\"case\":\"$c\",\"unit\":\"370112\",\"at\":\"2026-04-20T10:00:00+08:00\",\"data\":{\"item\":\"K$n\"}}"
    for _ in $(seq 1 100); do id=$(fid PROPERTY-24H "$c"); [ -n "$id" ] && break; sleep 0.05; done
    case $1 in
        open) ;;
        reopened) req POST "/v1/findings/$id/review" admin-tok "$(body_of resolve)"
                  req POST "/v1/findings/$id/review" admin-tok "$(body_of reopen)" ;;
        *) for a in "${!to[@]}"; do [ "${to[$a]}" = "$1" ] && req POST "/v1/findings/$id/review" admin-tok "$(body_of "$a")"; done ;;
    esac
    [ "$(sql "SELECT review FROM findings WHERE id = $id")" = "$1" ] || bad "could not bring finding $id to $1"
}
for from in open acknowledged assigned resolved dismissed reopened; do
    for action in acknowledge assign resolve dismiss reopen; do
        case ", ${allowed[$from]}, " in *", $action, "*) continue ;; esac
        finding_in "$from"
        req POST "/v1/findings/$id/review" insp-3701 "$(body_of "$action")"
        expect "$action refused from $from" 409 ".error.code == \"invalid_transition\" and
            (.error.message | endswith(\"(allowed: ${allowed[$from]})\"))"
        [ "$(sql "SELECT review FROM findings WHERE id = $id")" = "$from" ] && ok || bad "a refused $action moved $from"
    done
    IFS=', ' read -ra acts <<<"${allowed[$from]}"
    for action in "${acts[@]}"; do
        [ -n "$action" ] || continue
        finding_in "$from"
        before=$(sql "SELECT COUNT(*) FROM finding_reviews WHERE finding_id = $id")
        req POST "/v1/findings/$id/review" insp-3701 "$(body_of "$action")"
        expect "$action from $from" 200 ".review == \"${to[$action]}\" and .reviews[-1].action == \"$action\" and
            .reviews[-1].from == \"$from\" and .reviews[-1].to == \"${to[$action]}\" and .reviews[-1].who == \"inspector-3701\""
        [ "$(sql "SELECT COUNT(*) FROM finding_reviews WHERE finding_id = $id")" = $((before + 1)) ] && ok ||
            bad "$action from $from: no audit row"
    done
done

# --- assign and 销号: what they need and what they keep ---
req POST "/v1/findings/$F1/review" insp-3701 '{"action":"assign","assignee":{"kind":"unit","id":"370102"}}'
expect "assign needs a due" 422 '.error.field == "due"'
req POST "/v1/findings/$F1/review" insp-3701 '{"action":"assign","due":"2026-06-05"}'
expect "assign needs an assignee" 422 '.error.field == "assignee"'
req POST "/v1/findings/$F1/review" insp-3701 '{"action":"assign","assignee":{"kind":"unit","id":"37x"},"due":"2026-06-05"}'
expect "a unit assignee is a code" 422 '.error.field == "assignee.id"'
req POST "/v1/findings/$F1/review" insp-3701 '{"action":"assign","assignee":{"kind":"unit","id":"370102"},"due":"2026-05-30"}'
expect "a due in the past" 422 '.error.field == "due"'
req POST "/v1/findings/$F1/review" insp-3701 '{"action":"acknowledge","due":"2026-06-05"}'
expect "only assign takes a due" 422 '.error.field == "due"'
req POST "/v1/findings/$F1/review" insp-3701 '{"action":"assign","assignee":{"kind":"unit","id":"370102"},"due":"2026-06-05","comment":"限期整改"}'
expect "assign F1" 200 '.review == "assigned" and .assignee == {"kind":"unit","id":"370102"} and
    .rect_due == "2026-06-05T23:59:59+08:00" and .rect_overdue == false and
    .reviews[-1].assignee.id == "370102" and .reviews[-1].rect_due == "2026-06-05T23:59:59+08:00" and
    (.actions | index("resolve")) != null'
req POST "/v1/findings/$F3/review" insp-370103 '{"action":"assign","assignee":{"kind":"officer","id":"O3001"},"due":"2026-06-10T18:00:00+08:00"}'
expect "assign F3 to an officer" 200 '.assignee == {"kind":"officer","id":"O3001"}'
req POST "/v1/findings/$F3/review" insp-370103 '{"action":"resolve","comment":"已补传执法记录仪视频","evidence":["整改报告 2026-031","视频编号 R2"]}'
expect "resolve F3 with evidence" 200 '.review == "resolved" and .resolved_at == "2026-06-01T00:00:00+08:00" and
    .reviews[-1].evidence == ["整改报告 2026-031","视频编号 R2"] and .reviews[-1].rect_due == "2026-06-10T18:00:00+08:00"'
[ "$(sql "SELECT evidence FROM finding_reviews WHERE finding_id = $F3 AND action = 'resolve'")" = '["整改报告 2026-031","视频编号 R2"]' ] &&
    ok || bad "the evidence references are not on the audit row"
req POST "/v1/findings/$F2/review" insp-3701 '{"action":"resolve","comment":"  "}'
expect "a blank comment is no comment" 422 '.error.field == "comment"'
req POST "/v1/findings/$F2/review" insp-3701 '{"action":"acknowledge","evidence":["x"]}'
expect "only resolve takes evidence" 422 '.error.field == "evidence"'
req POST "/v1/findings/$F2/review" insp-3701 '{"action":"resolve","comment":"已责令补正"}'
expect "resolve F2" 200 '.review == "resolved"'
req POST "/v1/findings/$FA/review" admin-tok '{"action":"resolve","comment":"已督促受案"}'
expect "resolve a warning" 200 '.state == "warning" and .review == "resolved"'
req POST "/v1/findings/$F3/review" insp-370103 '{"action":"assign","assignee":{"kind":"unit","id":"370102"},"due":"2026-06-09"}'
expect "370103 cannot touch... a resolved finding's assign is refused" 409

# --- exemptions ---
x='{"reason":"延长办案期限审批已于5月14日作出, 系统补录滞后","approver":"法制大队 王某","expires":"2026-06-05"}'
req POST "/v1/findings/$F5/exemption" insp-370103 "$x"
expect "an inspector may not exempt" 403
req POST "/v1/findings/$F5/exemption" rev-3702 "$x"
expect "a reviewer of another unit does not see it" 404
req POST "/v1/findings/$F5/exemption" rev-370103 '{"reason":"x","approver":"y"}'
expect "an exemption needs an expiry" 422 '.error.field == "expires"'
req POST "/v1/findings/$F5/exemption" rev-370103 '{"approver":"y","expires":"2026-07-01"}'
expect "an exemption needs a reason" 422 '.error.field == "reason"'
req POST "/v1/findings/$F5/exemption" rev-370103 '{"reason":"x","approver":"y","expires":"2026-05-01"}'
expect "an exemption expires in the future" 422 '.error.field == "expires"'
req POST "/v1/findings/$F5/exemption" rev-370103 "$x"
expect "exempt F5" 201 '.exempt == true and .exemption.reason == "延长办案期限审批已于5月14日作出, 系统补录滞后" and
    .exemption.approver == "法制大队 王某" and .exemption.by == "reviewer-370103" and
    .exemption.expires == "2026-06-05T23:59:59+08:00" and .reviews[-1].action == "exempt" and .state == "overdue"'
req POST "/v1/findings/$F5/exemption" admin-tok "$x"
expect "exempt twice" 409
req GET "/v1/findings?case=A370103202605005" insp-370103
expect "an exempted finding leaves the queue" 200 '.total == 0'
req GET "/v1/findings?case=A370103202605005&exempt=true" insp-370103
expect "... and stays visible with a filter" 200 ".total == 1 and .findings[0].id == $F5 and .findings[0].exempt"
req POST "/v1/findings/$F6/exemption" admin-tok '{"reason":"依法不予扣押, 登记有误","approver":"李某","expires":"2026-12-31","scope":"rule"}'
expect "exempt a rule for a case" 201 '.exemption.scope == "rule"'
req DELETE "/v1/findings/$F6/exemption" insp-3701
expect "an inspector may not lift" 403
req DELETE "/v1/findings/$F6/exemption" admin-tok '{"comment":"复核: 登记无误"}'
expect "lift" 200 '.exempt == false and .exemptions[0].lifted.comment == "复核: 登记无误" and .reviews[-1].action == "unexempt"'
req DELETE "/v1/findings/$F6/exemption" admin-tok
expect "lift again" 409
req POST "/v1/findings/$F6/exemption" admin-tok '{"reason":"依法不予扣押, 登记有误","approver":"李某","expires":"2026-12-31"}'
expect "exempt F6 again" 201
[ "$(sql "SELECT GROUP_CONCAT(action ORDER BY id) FROM finding_reviews WHERE finding_id = $F6")" = "exempt,unexempt,exempt" ] &&
    ok || bad "the exemptions are not audited"

# --- the list: several values, sort, total, counts, cursors ---
req GET "/v1/findings?state=late,overdue&limit=500" admin-tok
a=$(jq -c '[.findings[].id]' "$tmp/body"); t=$(jq .total "$tmp/body")
req GET "/v1/findings?state=late&state=overdue&limit=500" admin-tok
[ "$(jq -c '[.findings[].id]' "$tmp/body")" = "$a" ] && ok || bad "repeated and comma-separated values differ"
want=$(sql "SELECT COUNT(*) FROM findings f WHERE state IN ('late','overdue') AND NOT EXISTS (SELECT 1 FROM finding_exemptions x WHERE x.rule = f.rule AND x.case_id = f.case_id AND (x.subject IS NULL OR x.subject = f.subject) AND x.lifted_at IS NULL)")
[ "$t" = "$want" ] && ok || bad "total $t, the table says $want"
req GET "/v1/findings?sort=due&limit=500" admin-tok
expect "sort by due" 200 '[.findings[] | select(.due != null) | .due] | . == sort'
expect "... undated last" 200 '[.findings[].due] | (map(. == null) | index(true)) as $i | $i == null or all(.[$i:][]; . == null)'
req GET "/v1/findings?sort=-raised&limit=500" admin-tok
expect "sort by raised, newest first" 200 '[.findings[].raised] | . == (sort | reverse)'
seen=0; cursor=; prev=
while :; do
    req GET "/v1/findings?sort=due&limit=4${cursor:+&cursor=$cursor}" admin-tok
    [ "$code" = 200 ] || { bad "a page by due: $code"; break; }
    seen=$((seen + $(jq '.findings | length' "$tmp/body")))
    cursor=$(jq -r '.next // empty' "$tmp/body")
    [ -n "$cursor" ] || break
done
req GET "/v1/findings?limit=1" admin-tok
[ "$seen" = "$(jq .total "$tmp/body")" ] && ok || bad "pages by due saw $seen of $(jq .total "$tmp/body")"
req GET "/v1/findings?counts=rule,unit&unit=370102" insp-3701
expect "counts" 200 '(.counts.unit | keys) == ["370102"] and (.counts.rule | add) == .total and .counts.unit["370102"] == .total'
req GET "/v1/findings?assignee=370102" insp-3701
expect "by assignee" 200 ".total == 1 and .findings[0].id == $F1"
req GET "/v1/findings?rect_due_to=2026-06-06T00:00:00%2B08:00" insp-3701
expect "by rectification due" 200 ".total >= 1 and all(.findings[]; .rect_due <= \"2026-06-06\")"
req GET "/v1/findings?state=bogus,late" admin-tok
expect "a bad value among several" 400 '.error.field == "state" and (.error.message | test("bogus"))'
req GET "/v1/findings?sort=due&cursor=12" admin-tok
expect "a cursor of another order" 400 '.error.field == "cursor"'

# --- paged cases ---
req GET "/v1/cases/S370102202605002?limit=1" insp-3701
expect "case page 1" 200 '.total == 2 and (.timeline | length) == 1 and .next == "1" and .timeline[0].event.id == "lp-2" and (.findings | length) == 1'
req GET "/v1/cases/S370102202605002?limit=1&cursor=1" insp-3701
expect "case page 2" 200 '.next == null and .timeline[0].event.id == "lp-3"'

# --- problems of events written straight into the table ---
sql "INSERT INTO events (body) VALUES ('{\"id\":\"sql-bad\",\"type\":\"evidence.seized\",\"case\":\"X1\",\"unit\":\"370102\",\"at\":\"2026-05-01T00:00:00+08:00\",\"data\":{}}')"
req POST /v1/events ingest-tok '{"id":"lp-1","type":"evidence.seized","case":"A370102202605001","unit":"370102","at":"2026-05-10T10:00:00+08:00","data":{"item":"K9"}}'
wait_checkpoint "$(sql "SELECT MAX(seq) FROM events")"
req GET /v1/events/problems ingest-tok
expect "problems" 200 '([.problems[] | select(.kind == "invalid" and .event_id == "sql-bad" and .field == "data.item")] | length) == 1 and
    ([.problems[] | select(.kind == "conflict" and .event_id == "lp-1" and (.first_seq | type) == "number")] | length) == 1'
req GET "/v1/events/problems?kind=conflict&limit=1" admin-tok
expect "problems of one kind, paged" 200 '(.problems | length) == 1 and .problems[0].kind == "conflict"'
req GET /v1/events/problems insp-3701
expect "problems are not an inspector's" 403

# --- the stream: scope, order, resumption, bounds ---
stream() {   # stream TOKEN [LAST-EVENT-ID] > FILE: one stream, until the server ends it (3 s)
    local h=()
    [ -n "${2-}" ] && h=(-H "Last-Event-ID: $2")
    curl -sN --max-time 8 -H "Authorization: Bearer $1" "${h[@]}" "$url/v1/stream"
}
stream insp-370103 >"$tmp/s1" &
s1=$!
stream insp-3701 >"$tmp/s2" &
s2=$!
sleep 0.5
stream admin-tok >"$tmp/s3" &
s3=$!
sleep 0.3
req GET /v1/stream insp-3701
expect "a fourth stream is refused" 503 '.error.code == "too_many_streams"'
req POST /v1/events ingest-tok '{"events":[{"id":"st-1","type":"scene.attended","case":"S370103202605901","unit":"370103","at":"2026-04-20T08:00:00+08:00","data":{"ref":"R9"}},{"id":"st-2","type":"scene.attended","case":"S370102202605902","unit":"370102","at":"2026-04-20T08:00:00+08:00","data":{"ref":"R8"}}]}'
wait $s1 $s2 $s3
grep -q '^retry: 3000' "$tmp/s1" && ok || bad "the stream does not set a retry"
data() { sed -n 's/^data: //p' "$1"; }
[ "$(data "$tmp/s1" | jq -r '.finding.case' | sort -u)" = S370103202605901 ] && ok ||
    bad "the 370103 stream: $(data "$tmp/s1" | jq -c '[.finding.case, .to.state]')"
[ "$(data "$tmp/s2" | jq -r '.finding.case' | sort -u | paste -sd,)" = S370102202605902,S370103202605901 ] && ok ||
    bad "the 3701 stream: $(data "$tmp/s2" | jq -c '.finding.case')"
data "$tmp/s1" | jq -e 'select(.finding.case == "S370103202605901") | .from.state == null and .to.state == "overdue" and .what == "finding"' >/dev/null &&
    ok || bad "a new finding's change: $(data "$tmp/s1")"
id=$(sed -n 's/^id: //p' "$tmp/s2" | head -1)
[ -n "$id" ] && ok || bad "no event id on the stream"
# resume after the first: the second comes again, and nothing before
stream insp-3701 "$id" >"$tmp/s4"
first=$(sed -n 's/^id: //p' "$tmp/s4" | head -1)
[ "$first" = "$(sed -n 's/^id: //p' "$tmp/s2" | sed -n 2p)" ] && ok || bad "resumed after $id at $first"
stream insp-370103 0 >"$tmp/s5"
data "$tmp/s5" | jq -r '.finding.unit' | grep -qv '^370103' && bad "a 370103 stream showed another unit" || ok
[ "$(data "$tmp/s5" | wc -l)" -ge 3 ] && ok || bad "resuming from 0 gave $(data "$tmp/s5" | wc -l) changes"

# --- a week later: the rectification past due, the expiry, the engine's reopen ---
stop_serve
start_serve --now "$T2" || { finish; exit 1; }
req GET "/v1/findings?rect_overdue=true" insp-3701
expect "a rectification past its due" 200 ".total == 1 and .findings[0].id == $F1 and .findings[0].rect_overdue"
req GET "/v1/findings?case=A370103202605005" insp-370103
expect "an expired exemption puts the finding back" 200 ".total == 1 and .findings[0].exempt == false"
req GET "/v1/findings/$FA" admin-tok
expect "the engine reopens a resolved warning gone overdue" 200 '.state == "overdue" and .review == "reopened" and
    .reviews[-1].action == "reopen" and .reviews[-1].who == "casewarden"'

# --- the quality report of May, worked out by hand (tests/integration/fixtures/loop.jsonl):
# 370102: F1 overdue (assigned, due 5 Jun, past: -1 -1), F2 late (resolved: -0.5), F6 exempted;
#         2 findings, 2 with a due, overdue and late 50%, 1 assigned, 1 past its due, 1 销号 of 2,
#         销号 444.0 h after raised (13 May 12:00 → 1 Jun 00:00): 97.5
# 370103: F3 overdue (resolved 1 Jun, due 10 Jun: on time, -1), F5 overdue (exemption expired, -1);
#         overdue 100%, 1 assigned and on time, 1 销号 of 2, 256.0 h: 98.0, first
# (the other findings of the test are raised in April, or in June by now)
req GET "/v1/reports/quality?from=2026-05-01&to=2026-05-31" insp-3701
jq -c '.groups[] | select(.key == "370102" or .key == "370103") | del(.rules)' "$tmp/body" >"$tmp/groups"
cat >"$tmp/want" <<'JSON'
{"key":"370103","rank":1,"score":98.0,"deduction":2.0,"findings":2,"states":{"warning":0,"overdue":2,"late":0,"violation":0,"anomaly":0,"cleared":0},"deadline":2,"overdue_rate":1.0,"late_rate":0.0,"assigned":1,"rect_on_time":1,"rect_late":0,"rect_overdue":0,"on_time_rate":1.0,"resolved":1,"dismissed":0,"reopened":0,"closure_rate":0.5,"median_hours_to_resolve":256.0}
{"key":"370102","rank":2,"score":97.5,"deduction":2.5,"findings":2,"states":{"warning":0,"overdue":1,"late":1,"violation":0,"anomaly":0,"cleared":0},"deadline":2,"overdue_rate":0.5,"late_rate":0.5,"assigned":1,"rect_on_time":0,"rect_late":0,"rect_overdue":1,"on_time_rate":0.0,"resolved":1,"dismissed":0,"reopened":0,"closure_rate":0.5,"median_hours_to_resolve":444.0}
JSON
if [ "$(jq -cS . "$tmp/groups")" = "$(jq -cS . "$tmp/want")" ]; then ok; else bad "report figures:"; diff <(jq -S . "$tmp/want") <(jq -S . "$tmp/groups"); fi
expect "report rules and series" 200 '(.groups[] | select(.key == "370102") | .rules) ==
    {"BODYCAM-24H":{"warning":0,"overdue":0,"late":1,"violation":0,"anomaly":0,"cleared":0},
     "PROPERTY-24H":{"warning":0,"overdue":1,"late":0,"violation":0,"anomaly":0,"cleared":0}} and
    .series.bucket == "day" and (.series.starts | length) == 31 and .series.rules["BODYCAM-24H"][12] == 1'
req GET "/v1/reports/quality?from=2026-05-01&to=2026-05-31" insp-370103
expect "a report in the caller's scope" 200 '[.groups[].key] == ["370103"] and .scope == "370103"'
req GET "/v1/reports/quality?from=2026-05-01&to=2026-05-31&by=officer" insp-370103
expect "by officer" 200 '[.groups[].key] | sort == ["", "O3001"]'
req GET "/v1/reports/quality?from=2026-05-31&to=2026-05-01" admin-tok
expect "a period backwards" 400 '.error.field == "to"'
"$cw" report --config "$cfg" --from 2026-05-01 --to 2026-05-31 --unit 3701 --now "$T2" --format json >"$tmp/cli.json" 2>"$tmp/cli.err"
req GET "/v1/reports/quality?from=2026-05-01&to=2026-05-31" insp-3701
[ "$(jq -cS . "$tmp/cli.json")" = "$(jq -cS . "$tmp/body")" ] && ok || bad "casewarden report differs from the API: $(head -c 300 "$tmp/cli.err")"
"$cw" report --config "$cfg" --from 2026-05-01 --to 2026-05-31 --unit 3701 --now "$T2" >"$tmp/cli.txt"
grep -q '^ *1  370103 *98.0' "$tmp/cli.txt" && head -2 "$tmp/cli.txt" | grep -q '销号率' && ok || { bad "the report's table:"; head -4 "$tmp/cli.txt"; }
req GET "/v1/reports/quality?from=2026-05-01&to=2026-05-31&format=csv" insp-3701
[ "$(head -c 3 "$tmp/body" | od -An -tx1 | tr -d ' ')" = efbbbf ] && ok || bad "the CSV has no BOM"
grep -qi '^Content-Type: text/csv; charset=utf-8' "$tmp/headers" && grep -qi '^Content-Disposition: attachment; filename="quality-unit-2026-05-01-2026-05-31.csv"' "$tmp/headers" &&
    ok || bad "CSV headers: $(cat "$tmp/headers")"
tail -c +4 "$tmp/body" | head -1 | grep -q '^排名,单位,得分,扣分,问题数,预警,超期,逾期完成,违规,异常,按期完成,超期率,逾期完成率,已指派整改,按期整改,逾期整改,整改超期未销号,按期整改率,已销号,已排除,销号率,销号用时中位数(小时)' &&
    ok || bad "CSV header row: $(tail -c +4 "$tmp/body" | head -1)"
grep -q $'^1,370103,98.0,2.0,2,0,2,0,0,0,0,100.0%,0.0%,1,1,0,0,100.0%,1,0,50.0%,256.0\r$' "$tmp/body" && ok || bad "CSV row: $(grep 370103 "$tmp/body")"
iconv -f UTF-8 -t UTF-8 "$tmp/body" >/dev/null 2>&1 && ok || bad "the CSV is not UTF-8"

# --- the backlog ---
req GET /v1/reports/backlog insp-3701
expect "backlog" 200 '[.cases[].case] == ["A370102202603007"] and .cases[0].age_days == 98 and .cases[0].band == 1 and
    .bands[1].name == "90-179天" and .cases[0].findings[0].rule == "ADM-HANDLING" and .groups == [{"key":"370102","total":1,"bands":[0,1,0,0]}]'
req GET /v1/reports/backlog insp-370103
expect "backlog in scope" 200 '.cases == []'
req GET "/v1/reports/backlog?format=csv" insp-3701
tail -c +4 "$tmp/body" | grep -q '^A370102202603007,370102,行政,2026-03-02T10:00:00+08:00,98,90-179天,ADM-HANDLING 超期' && ok || bad "backlog CSV: $(cat "$tmp/body")"

# --- who is asking; the console's files ---
req GET /v1/whoami rev-370103
expect "whoami" 200 '.name == "reviewer-370103" and .role == "reviewer" and .unit == "370103" and .tz == 480'
req GET /console/ ""
[ "$code" = 200 ] && grep -qi "^Content-Security-Policy: default-src 'self'" "$tmp/headers" && ok || bad "the console page: $code"
req GET /console ""
[ "$code" = 302 ] && grep -qi '^Location: /console/' "$tmp/headers" && ok || bad "/console does not lead to /console/: $code"
req GET "/console/..%2f..%2fcasewarden.yaml" ""
[ "$code" = 404 ] && ok || bad "a path out of the console: $code"

stop_serve
# a sanitized build reports leaks and undefined behaviour at exit, in the log
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$tmp/serve.log"; then
    bad "serve under the sanitizers:"; grep -A20 -E 'ERROR: |runtime error' "$tmp/serve.log" | head -60
else ok; fi
check_openapi
finish
