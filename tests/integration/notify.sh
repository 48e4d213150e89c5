#!/usr/bin/env bash
# Notifications against a real service and a local webhook receiver
# (tests/integration/webhook.py, on a random loopback port, recording every
# request and told how to answer): deliveries signed with HMAC-SHA256 and
# verified; a receiver answering 500, one too slow and one refusing
# connections retried and dead-lettered; grouping gives one message per
# group; the API's delivery log and the finding's page; /metrics; a refused
# reload; escalation driven by the service's clock, stopped by an
# acknowledgement, and neither lost nor repeated across a SIGKILL;
# reminders (repeat_interval) while a finding is open, none once resolved; quiet
# hours holding a medium finding on a Friday evening and releasing it on
# the 调休 Saturday; and a SIGKILL while 2,000 findings are being notified to
# a flaky receiver: after the restart every notification has arrived at
# least once, and duplicates carry the same key and body.
# Usage: notify.sh CASEWARDEN    Ends with "N passed, N failed".
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
hook_pid=
eval "lib_$(declare -f cleanup)"
cleanup() {
    if [ -n "$hook_pid" ]; then kill "$hook_pid" 2>/dev/null; wait "$hook_pid" 2>/dev/null; fi
    lib_cleanup
}

hooklog=$tmp/hook.jsonl
: > "$tmp/hook.mode"
python3 "$top/tests/integration/webhook.py" --port-file "$tmp/hook.port" --log "$hooklog" \
    --mode-file "$tmp/hook.mode" 2>"$tmp/hook.err" &
hook_pid=$!
for _ in $(seq 1 50); do [ -s "$tmp/hook.port" ] && break; sleep 0.1; done
hp=$(cat "$tmp/hook.port" 2>/dev/null) || { bad "the webhook receiver did not start: $(cat "$tmp/hook.err")"; finish; exit 1; }
# a port nobody listens on, for the receiver that refuses connections
dead=$(free_port)

# hits PATH [STATUS]: requests that reached PATH (answered STATUS)
hits() {
    jq -s --arg p "$1" --argjson s "${2:-0}" \
        '[.[] | select(.path == $p and ($s == 0 or .status == $s))] | length' "$hooklog"
}
# until 'SHELL CONDITION' holds (evaluated afresh each time), at most $wait seconds
wait=15
until_() {
    local end=$((SECONDS + wait))
    while [ $SECONDS -lt $end ]; do eval "$*" && return 0; sleep 0.1; done
    eval "$*"
}
ge() { [ "$(eval "$1")" -ge "$2" ] 2>/dev/null; }
# verify PATH SECRET: "N good, M bad" for the signatures of requests to PATH
verify() {
    python3 - "$hooklog" "$1" "$2" <<'PY'
import hashlib, hmac, json, sys
log, path, secret = sys.argv[1], sys.argv[2], sys.argv[3].encode()
good = bad = 0
for line in open(log, encoding="utf-8"):
    r = json.loads(line)
    if r["path"] != path:
        continue
    want = "sha256=" + hmac.new(secret, (r["timestamp"] + "." + r["body"]).encode(), hashlib.sha256).hexdigest()
    if r["signature"] and hmac.compare_digest(want, r["signature"]):
        good += 1
    else:
        bad += 1
print(f"{good} good, {bad} bad")
PY
}
# events N CASEPREFIX UNIT AT [TYPE]: N events of one kind, one case each
events() {
    local n=$1 cp=$2 unit=$3 at=$4 type=${5:-evidence.seized}
    for i in $(seq 1 "$n"); do
        if [ "$type" = alarm.received ]; then
            printf '{"id":"%s-%d","type":"alarm.received","case":"%s%05d","unit":"%s","at":"%s","data":{"alarm":"J%d","category":"criminal"}}\n' \
                "$cp" "$i" "$cp" "$i" "$unit" "$at" "$i"
        else
            printf '{"id":"%s-%d","type":"evidence.seized","case":"%s%05d","unit":"%s","at":"%s","data":{"item":"K%d","description":"手机"}}\n' \
                "$cp" "$i" "$cp" "$i" "$unit" "$at" "$i"
        fi
    done
}
status_of() { sql "SELECT m.status FROM notify_messages m JOIN notify_items i ON i.msg_key = m.msg_key JOIN findings f ON f.id = i.finding_id WHERE f.case_id = '$1' ORDER BY m.id LIMIT 1"; }
fid() { sql "SELECT id FROM findings WHERE case_id = '$1'"; }

write_notify() {
    cat > "$tmp/rules/notify.yaml" <<YAML
console: http://127.0.0.1:$port/console/
delivery: {concurrency: 4, max_attempts: 3, backoff: 200ms, backoff_max: 400ms}
receivers:
  - {name: ok, url: "http://127.0.0.1:$hp/ok", secret: s3cr3t-ok, headers: {X-Source: casewarden-test}}
  - {name: failing, url: "http://127.0.0.1:$hp/fail", secret: other}
  - {name: slow, url: "http://127.0.0.1:$hp/slow", timeout: 300ms}
  - {name: refused, url: "http://127.0.0.1:$dead/"}
  - {name: grouped, url: "http://127.0.0.1:$hp/grp", secret: s3cr3t-grp}
  - {name: quiet, url: "http://127.0.0.1:$hp/quiet", quiet_hours: {working_hours: "08:30-17:30"}}
  - {name: esc, url: "http://127.0.0.1:$hp/esc"}
  - {name: rep, url: "http://127.0.0.1:$hp/rep"}
route:
  receiver: ok
  routes:
    - {match: {unit: "3702"}, receiver: failing}
    - {match: {unit: "3703"}, receiver: slow}
    - {match: {unit: "3704"}, receiver: refused}
    - {match: {unit: "3705"}, receiver: grouped, group_by: [unit, rule], group_wait: 1s}
    - {match: {unit: "3706"}, receiver: quiet}
    - {match: {unit: "3707"}, receivers: []}
    - {match: {unit: "3708"}, receiver: rep, repeat_interval: 2s}
escalations:
  - name: overdue
    match: {unit: "3707", state: overdue}
    levels:
      - {delay: 0s, when: still_overdue, receivers: [esc]}
      - {delay: 4s, when: not_acknowledged, receivers: [esc]}
      - {delay: 3s, when: not_acknowledged, receivers: [esc]}
YAML
}
write_notify
check "check accepts notify.yaml" 0 "notify.yaml: 8 receivers, 1 escalation ladders" -- "$cw" check --rules "$tmp/rules"

"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { bad "migrate"; finish; exit 1; }
printf '/fail 500\n/slow timeout:2\n' > "$tmp/hook.mode"
# Wednesday 2026-06-03 10:00, working hours
start_serve --clock-from 2026-06-03T10:00:00+08:00 || { finish; exit 1; }

# ---- delivery, signatures, retries, dead letters, grouping ---------------------------------
{
    events 3 A370101 370101 2026-06-01T10:00:00+08:00
    events 1 A370201 370201 2026-06-01T10:00:00+08:00
    events 1 A370301 370301 2026-06-01T10:00:00+08:00
    events 1 A370401 370401 2026-06-01T10:00:00+08:00
    events 4 A370501 370501 2026-06-01T10:00:00+08:00
    events 2 A370502 370502 2026-06-01T10:00:00+08:00
} > "$tmp/a.jsonl"
load_sql "$tmp/a.jsonl"

until_ 'ge "hits /ok 200" 3'
[ "$(hits /ok 200)" = 3 ] && ok || bad "ok: $(hits /ok) requests, expected 3"
[ "$(verify /ok s3cr3t-ok)" = "3 good, 0 bad" ] && ok || bad "ok: signatures: $(verify /ok s3cr3t-ok)"
# the check can fail: the same requests under another secret do not verify
[ "$(verify /ok wrong-secret)" = "0 good, 3 bad" ] && ok || bad "signatures under a wrong secret: $(verify /ok wrong-secret)"
[ "$(jq -s '[.[] | select(.path == "/ok") | .key] | unique | length' "$hooklog")" = 3 ] && ok ||
    bad "ok: three distinct idempotency keys expected"
[ "$(jq -s '[.[] | select(.path == "/ok" and .source == "casewarden-test")] | length' "$hooklog")" = 3 ] && ok ||
    bad "ok: the receiver's own header is missing"
# the body: the default template, JSON, naming the finding
f1=$(fid A37010100001)
jq -se --argjson id "$f1" '[.[] | select(.path == "/ok") | .body | fromjson | .findings[0]
    | select(.id == $id and .rule == "PROPERTY-24H" and .transition == "raised" and .state == "overdue"
             and (.link | endswith("/console/#/case/A37010100001?finding=\($id)")))] | length == 1' "$hooklog" >/dev/null &&
    ok || bad "ok: no body names finding $f1: $(jq -s '[.[] | select(.path == "/ok") | .body][0]' "$hooklog")"

until_ 'test "$(status_of A37020100001)" = dead'
[ "$(status_of A37020100001)" = dead ] && ok || bad "500: status $(status_of A37020100001), expected dead"
[ "$(hits /fail 500)" = 3 ] && ok || bad "500: $(hits /fail) attempts, expected 3 (max_attempts)"
[ "$(jq -s '[.[] | select(.path == "/fail") | .key] | unique | length' "$hooklog")" = 1 ] && ok ||
    bad "500: the retries must carry one idempotency key"
[ "$(verify /fail other)" = "3 good, 0 bad" ] && ok || bad "500: signatures: $(verify /fail other)"
[ "$(sql "SELECT COUNT(*), SUM(a.http_status = 500) FROM notify_attempts a JOIN notify_messages m ON m.id = a.message_id WHERE m.receiver = 'failing'")" = "3	3" ] &&
    ok || bad "500: attempts logged: $(sql "SELECT COUNT(*), SUM(a.http_status = 500) FROM notify_attempts a JOIN notify_messages m ON m.id = a.message_id WHERE m.receiver = 'failing'")"
# backoff: the attempts are apart by at least half the configured backoff
gaps=$(jq -s '[.[] | select(.path == "/fail") | .at] | sort | [.[1] - .[0], .[2] - .[1]] | map(. >= 0.09) | all' "$hooklog")
[ "$gaps" = true ] && ok || bad "500: attempts not backed off: $(jq -s '[.[] | select(.path == "/fail") | .at]' "$hooklog")"

until_ 'test "$(status_of A37030100001)" = dead'
[ "$(status_of A37030100001)" = dead ] && ok || bad "timeout: status $(status_of A37030100001), expected dead"
sql "SELECT last_error FROM notify_messages WHERE receiver = 'slow'" | grep -qi "timed out" && ok ||
    bad "timeout: last_error $(sql "SELECT last_error FROM notify_messages WHERE receiver = 'slow'")"
until_ 'test "$(status_of A37040100001)" = dead'
[ "$(status_of A37040100001)" = dead ] && ok || bad "refused: status $(status_of A37040100001), expected dead"
sql "SELECT last_error FROM notify_messages WHERE receiver = 'refused'" | grep -qiE "connect|refused" && ok ||
    bad "refused: last_error $(sql "SELECT last_error FROM notify_messages WHERE receiver = 'refused'")"
[ "$(sql "SELECT COUNT(*) FROM notify_attempts a JOIN notify_messages m ON m.id = a.message_id WHERE m.receiver = 'refused' AND a.http_status IS NULL")" = 3 ] &&
    ok || bad "refused: three attempts without an answer expected"

until_ 'ge "hits /grp 200" 2'
sleep 1.5
[ "$(hits /grp)" = 2 ] && ok || bad "grouping: $(hits /grp) messages, expected 2 (one per unit and rule)"
[ "$(jq -s -c '[.[] | select(.path == "/grp") | .body | fromjson | .count] | sort' "$hooklog")" = "[2,4]" ] && ok ||
    bad "grouping: counts $(jq -s -c '[.[] | select(.path == "/grp") | .body | fromjson | .count]' "$hooklog"), expected [2,4]"
[ "$(jq -s -c '[.[] | select(.path == "/grp") | .body | fromjson | .group] | sort' "$hooklog")" = '["370501/PROPERTY-24H","370502/PROPERTY-24H"]' ] &&
    ok || bad "grouping: groups $(jq -s -c '[.[] | select(.path == "/grp") | .body | fromjson | .group]' "$hooklog")"
[ "$(verify /grp s3cr3t-grp)" = "2 good, 0 bad" ] && ok || bad "grouping: signatures: $(verify /grp s3cr3t-grp)"

# ---- the API and /metrics ----------------------------------------------------------------
req GET "/v1/notifications?status=dead" admin-tok
expect "GET /v1/notifications?status=dead" 200 '.total == 3 and ([.notifications[] | .receiver] | sort == ["failing","refused","slow"]) and ([.notifications[] | .attempts] == [3,3,3])'
req GET "/v1/notifications?receiver=ok&limit=2" admin-tok
expect "GET /v1/notifications?receiver=ok&limit=2" 200 '.total == 3 and (.notifications | length) == 2 and .next != null and all(.notifications[]; .status == "sent")'
next=$(jq -r .next "$tmp/body")
req GET "/v1/notifications?receiver=ok&limit=2&cursor=$next" admin-tok
expect "GET /v1/notifications: the next page" 200 '(.notifications | length) == 1 and .next == null'
req GET "/v1/notifications?finding=$f1&body=true" admin-tok
expect "GET /v1/notifications?finding=" 200 ".total == 1 and .notifications[0].findings == [$f1] and .notifications[0].body.findings[0].id == $f1"
req GET "/v1/notifications?status=lost" admin-tok
expect "GET /v1/notifications?status=lost" 400 '.error.field == "status"'
req GET "/v1/notifications" insp-3701
expect "GET /v1/notifications as an inspector" 403
req GET "/v1/findings/$f1" insp-3701
expect "GET /v1/findings/{id} lists what was sent" 200 '.notifications[0].receiver == "ok" and .notifications[0].status == "sent" and .escalations == []'
curl -s "$url/metrics" > "$tmp/metrics"
metric() { awk -v m="$1" '$1 == m { print $2 }' "$tmp/metrics"; }
[ -n "$(metric casewarden_notifications_sent_total)" ] && [ "$(metric casewarden_notifications_sent_total)" -ge 5 ] &&
    ok || bad "metrics: sent_total '$(metric casewarden_notifications_sent_total)'"
[ "$(metric casewarden_notifications_dead_total)" = 3 ] && ok || bad "metrics: dead_total '$(metric casewarden_notifications_dead_total)'"
[ -n "$(metric casewarden_notifications_failed_total)" ] && [ "$(metric casewarden_notifications_failed_total)" -ge 9 ] &&
    ok || bad "metrics: failed_total '$(metric casewarden_notifications_failed_total)'"
[ -n "$(metric casewarden_notifications_queued_total)" ] && [ "$(metric casewarden_notifications_queued_total)" -ge 12 ] &&
    ok || bad "metrics: queued_total '$(metric casewarden_notifications_queued_total)'"
[ "$(metric 'casewarden_notifications{status="dead"}')" = 3 ] && ok || bad "metrics: messages by status"
n=$(metric 'casewarden_notification_delivery_seconds_bucket{le="+Inf"}')
[ -n "$n" ] && [ "$n" -ge 5 ] && [ "$n" = "$(metric casewarden_notification_delivery_seconds_count)" ] && ok ||
    bad "metrics: delivery histogram '+Inf' $n, count $(metric casewarden_notification_delivery_seconds_count)"

# ---- a reload with a broken notify.yaml is refused whole -------------------------------------
sed -i 's/receiver: slow}/receiver: sloww}/' "$tmp/rules/notify.yaml"
req POST /v1/rules/reload admin-tok
expect "reload with a broken notify.yaml" 422 '.error.message | test("notify.yaml:[0-9]+: no receiver named .sloww.")'
check "check names the broken line" 1 "notify.yaml:[0-9]+: no receiver named 'sloww'" -- "$cw" check --rules "$tmp/rules"
write_notify
req POST /v1/rules/reload admin-tok
expect "reload with notify.yaml fixed" 200

# ---- escalation on the service's clock ----------------------------------------------------------
# three findings due 3 s from the service's now: overdue while it runs
req GET /v1/whoami admin-tok
now=$(jq -r .now "$tmp/body")
due_at=$(TZ=Asia/Shanghai date -d "@$(( $(date -d "$now" +%s) - 86400 + 3 ))" +%Y-%m-%dT%H:%M:%S+08:00)
events 3 A370701 370701 "$due_at" > "$tmp/e.jsonl"
load_sql "$tmp/e.jsonl"
until_ 'test -n "$(fid A37070100003)"'
e1=$(fid A37070100001); e2=$(fid A37070100002); e3=$(fid A37070100003)
lvl() { jq -s --arg k "$1" '[.[] | select(.path == "/esc" and .key == $k)] | length' "$hooklog"; }
until_ 'test "$(lvl "$e1:escalated1:esc:overdue")" -ge 1 -a "$(lvl "$e2:escalated1:esc:overdue")" -ge 1 -a "$(lvl "$e3:escalated1:esc:overdue")" -ge 1'
[ "$(lvl "$e1:escalated1:esc:overdue")$(lvl "$e2:escalated1:esc:overdue")$(lvl "$e3:escalated1:esc:overdue")" = 111 ] && ok ||
    bad "escalation: level 1 for the three overdue findings: $(jq -s -c '[.[] | select(.path == "/esc") | .key]' "$hooklog")"
req POST "/v1/findings/$e1/review" admin-tok '{"action":"acknowledge","comment":"已知悉"}'
expect "acknowledge $e1" 200
wait=10 until_ 'test "$(lvl "$e2:escalated2:esc:overdue")" -ge 1'
[ "$(lvl "$e2:escalated2:esc:overdue")" = 1 ] && ok || bad "escalation: level 2 of $e2 did not arrive once"
[ "$(sql "SELECT status, reason FROM notify_escalations WHERE finding_id = $e1")" = "stopped	acknowledged" ] && ok ||
    bad "escalation: $e1's ladder: $(sql "SELECT status, reason, level FROM notify_escalations WHERE finding_id = $e1")"
# a SIGKILL between levels; the restart's clock is past the next level
wait=6 until_ 'test "$(lvl "$e3:escalated2:esc:overdue")" -ge 1'
stop_serve KILL
start_serve --clock-from 2026-06-03T10:01:00+08:00 || { finish; exit 1; }
wait=10 until_ 'test "$(lvl "$e2:escalated3:esc:overdue")" -ge 1 -a "$(lvl "$e3:escalated3:esc:overdue")" -ge 1'
sleep 1
for k in "$e2:escalated1" "$e2:escalated2" "$e2:escalated3" "$e3:escalated1" "$e3:escalated2" "$e3:escalated3"; do
    [ "$(lvl "$k:esc:overdue")" = 1 ] && ok || bad "escalation: $k arrived $(lvl "$k:esc:overdue") times, expected once"
done
[ "$(jq -s --arg f "$e1:" '[.[] | select(.path == "/esc" and (.key | startswith($f)))] | length' "$hooklog")" = 1 ] && ok ||
    bad "escalation: the acknowledged $e1 went on: $(jq -s -c --arg f "$e1:" '[.[] | select(.path == "/esc" and (.key | startswith($f))) | .key]' "$hooklog")"
[ "$(sql "SELECT status, level FROM notify_escalations WHERE finding_id = $e2")" = "done	3" ] && ok ||
    bad "escalation: $e2's ladder: $(sql "SELECT status, level FROM notify_escalations WHERE finding_id = $e2")"
req GET "/v1/findings/$e2" admin-tok
expect "the finding's page lists its ladder and levels" 200 '.escalations[0].ladder == "overdue" and .escalations[0].status == "done" and ([.notifications[] | .level] | sort == [1,2,3])'

# ---- reminders while a finding stays open (repeat_interval) --------------------------------------
req GET /v1/whoami admin-tok
now=$(jq -r .now "$tmp/body")
events 1 R370801 370801 "$(TZ=Asia/Shanghai date -d "@$(( $(date -d "$now" +%s) - 86400 - 60 ))" +%Y-%m-%dT%H:%M:%S+08:00)" > "$tmp/r.jsonl"
load_sql "$tmp/r.jsonl"
until_ 'test -n "$(fid R37080100001)"'
r1=$(fid R37080100001)
rep() { jq -s --arg k "$1" '[.[] | select(.path == "/rep" and .key == $k)] | length' "$hooklog"; }
wait=10 until_ 'test "$(rep "$r1:repeated2:rep")" -ge 1'
[ "$(rep "$r1:repeated1:rep")$(rep "$r1:repeated2:rep")" = 11 ] && ok ||
    bad "reminders: $(jq -s -c '[.[] | select(.path == "/rep") | .key]' "$hooklog")"
jq -se --arg k "$r1:repeated1:rep" '[.[] | select(.key == $k) | .body | fromjson | .findings[0].transition] == ["repeated"]' "$hooklog" >/dev/null &&
    ok || bad "reminders: the transition is not 'repeated'"
req POST "/v1/findings/$r1/review" admin-tok '{"action":"resolve","comment":"已移交涉案财物管理中心"}'
expect "resolve $r1" 200
sleep 1
n_rep=$(jq -s '[.[] | select(.path == "/rep")] | length' "$hooklog")
sleep 3
[ "$(jq -s '[.[] | select(.path == "/rep")] | length' "$hooklog")" = "$n_rep" ] && ok ||
    bad "reminders went on after the finding was resolved"
[ "$(sql "SELECT COUNT(*) FROM notify_repeats WHERE finding_id = $r1")" = 0 ] && ok || bad "reminders: the resolved finding's reminder stays"

# ---- quiet hours on the legal calendar -------------------------------------------------------------
stop_serve
# Friday 2026-10-09 20:00: the next working day is the 调休 Saturday 10-10
start_serve --clock-from 2026-10-09T20:00:00+08:00 || { finish; exit 1; }
{ events 1 Q370601 370601 2026-10-08T10:00:00+08:00
  events 1 H370602 370602 2026-10-08T10:00:00+08:00 alarm.received; } > "$tmp/q.jsonl"
load_sql "$tmp/q.jsonl"
until_ 'ge "hits /quiet 200" 1'
until_ 'test "$(status_of Q37060100001)" = held'
[ "$(status_of Q37060100001)" = held ] && ok || bad "quiet: the medium finding is $(status_of Q37060100001), expected held"
sleep 1
[ "$(hits /quiet)" = 1 ] && ok || bad "quiet: $(hits /quiet) requests in quiet hours, expected 1 (the high one)"
jq -se '[.[] | select(.path == "/quiet") | .body | fromjson | .findings[0].rule] == ["ALARM-ACCEPT"]' "$hooklog" >/dev/null &&
    ok || bad "quiet: what went at once is not the high finding"
req GET "/v1/notifications?receiver=quiet&status=held" admin-tok
expect "quiet: held until the 调休 Saturday's start" 200 '.total == 1 and .notifications[0].held_until == "2026-10-10T08:30:00+08:00"'
stop_serve
start_serve --clock-from 2026-10-10T08:30:05+08:00 || { finish; exit 1; }
until_ 'ge "hits /quiet 200" 2'
[ "$(hits /quiet 200)" = 2 ] && ok || bad "quiet: not released on the working day: $(hits /quiet) requests"
[ "$(status_of Q37060100001)" = sent ] && ok || bad "quiet: the released message is $(status_of Q37060100001)"

# ---- SIGKILL while 2,000 findings are notified to a flaky receiver --------------------------------------
stop_serve
cat > "$tmp/rules/notify.yaml" <<YAML
delivery: {concurrency: 8, max_attempts: 30, backoff: 50ms, backoff_max: 300ms}
receivers:
  - {name: bulk, url: "http://127.0.0.1:$hp/bulk", secret: bulk-secret, timeout: 2s}
route: {receiver: bulk}
YAML
printf '/bulk flaky:0.3\n' > "$tmp/hook.mode"
start_serve --clock-from 2026-10-10T09:00:00+08:00 || { finish; exit 1; }
events 2000 C370901 370901 2026-10-08T10:00:00+08:00 > "$tmp/c.jsonl"
load_sql "$tmp/c.jsonl"
wait=30 until_ 'ge "hits /bulk 200" 300'
stop_serve KILL
before=$(hits /bulk 200)
start_serve --clock-from 2026-10-10T09:05:00+08:00 || { finish; exit 1; }
left() { sql "SELECT (SELECT COUNT(*) FROM notify_outbox) + (SELECT COUNT(*) FROM notify_messages WHERE receiver = 'bulk' AND status <> 'sent')"; }
bulk_items() { sql "SELECT COUNT(*) FROM notify_items i JOIN notify_messages m ON m.msg_key = i.msg_key WHERE m.receiver = 'bulk'"; }
wait=50 until_ 'test "$(left)" = 0 -a "$(bulk_items)" = 2000'
[ "$(left)" = 0 ] && ok || bad "crash: $(left) notifications not delivered"
echo "crash: $before delivered before the SIGKILL, $(hits /bulk 200) after the restart, $(hits /bulk 500) answered 500"
python3 - "$hooklog" "$(sql "SELECT GROUP_CONCAT(msg_key) FROM notify_messages WHERE receiver = 'bulk'")" > "$tmp/crash.out" <<'PY'
import json, sys
log, stored = sys.argv[1], set(sys.argv[2].split(","))
got, bodies = {}, {}
for line in open(log, encoding="utf-8"):
    r = json.loads(line)
    if r["path"] != "/bulk":
        continue
    bodies.setdefault(r["key"], set()).add(r["body"])
    if r["status"] == 200:
        got[r["key"]] = got.get(r["key"], 0) + 1
missing = stored - set(got)
stray = set(got) - stored
dups = sum(1 for k, n in got.items() if n > 1)
differ = sum(1 for k, b in bodies.items() if len(b) > 1)
print(f"stored {len(stored)} delivered {len(got)} missing {len(missing)} stray {len(stray)} duplicated {dups} differing {differ}")
PY
read -r _ stored _ delivered _ missing _ stray _ dups _ differ < "$tmp/crash.out"
echo "crash: $(cat "$tmp/crash.out")"
[ "$stored" = 2000 ] && ok || bad "crash: $stored messages stored, expected 2000 (one per finding)"
[ "$(sql "SELECT COUNT(*) FROM findings WHERE unit = '370901'")" = 2000 ] && ok || bad "crash: findings stored"
[ "$delivered" = 2000 ] && [ "$missing" = 0 ] && [ "$stray" = 0 ] && ok ||
    bad "crash: $delivered keys delivered, $missing missing, $stray not stored"
[ "$differ" = 0 ] && ok || bad "crash: $differ keys came with different bodies"
[ "$(verify /bulk bulk-secret | cut -d' ' -f3-)" = "0 bad" ] && ok || bad "crash: signatures: $(verify /bulk bulk-secret)"
stop_serve
# under the sanitizers: the notifier thread's memory, at every clean stop
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$tmp/serve.log"; then
    bad "sanitizers: $(grep -m1 -A5 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$tmp/serve.log")"
else
    ok
fi

finish
