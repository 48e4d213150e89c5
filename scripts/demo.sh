#!/usr/bin/env bash
# The main job: install what is missing, build, start a private MariaDB,
# migrate, start `casewarden serve` on 127.0.0.1:8080, load the example
# case file through the API, and print the console's address with a login
# token for each role, and ready-to-paste curl commands for each kind of
# user. Ctrl-C stops everything cleanly.
#
#   scripts/demo.sh            serve until Ctrl-C
#   scripts/demo.sh --check    run the printed commands once, then stop
#
# The clock starts at 2026-06-01 00:00 +08:00 (the date examples/README.md
# judges the file at) and runs on from there, so deadlines move to warning
# and overdue as they would. Notifications (rules/notify.yaml) go to a
# webhook receiver the demo runs on 127.0.0.1:9465, which prints what it
# receives to _demo/webhook.log. CW_DEMO_PORT, CW_DEMO_HOOK_PORT and
# CW_DEMO_NOW change the ports and the start time; CW_DEMO_DIR the working
# directory (default _demo).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
check=false
case "${1:-}" in
    --check) check=true ;;
    --help|-h) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") ;;
    *) echo "demo: unknown option '$1' (see --help)" >&2; exit 2 ;;
esac
port=${CW_DEMO_PORT:-8080}
hook_port=${CW_DEMO_HOOK_PORT:-9465}
now=${CW_DEMO_NOW:-2026-06-01T00:00:00+08:00}
dir=${CW_DEMO_DIR:-$top/_demo}
url=http://127.0.0.1:$port

"$top/scripts/deps.sh"
echo "demo: building..." >&2
bdir=$("$top/scripts/build.sh" release)
cw=$bdir/casewarden

mkdir -p "$dir"
serve_pid=
hook_pid=
stop() {
    trap - EXIT INT TERM
    if [ -n "$serve_pid" ]; then
        kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    fi
    if [ -n "$hook_pid" ]; then
        kill -TERM "$hook_pid" 2>/dev/null && { wait "$hook_pid" 2>/dev/null || true; }
    fi
    "$top/scripts/mariadb-stop.sh" "$dir/db" >&2 || true
    echo "demo: stopped" >&2
}
trap stop EXIT
trap 'exit 0' INT TERM

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo: port $port is taken; set CW_DEMO_PORT to another" >&2
    exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$hook_port") 2>/dev/null; then
    echo "demo: port $hook_port is taken; set CW_DEMO_HOOK_PORT to another" >&2
    exit 1
fi
# the rules as shipped, with notify.yaml pointed at the demo's own
# receiver and console
rm -rf "$dir/rules" && cp -r "$top/rules" "$dir/rules"
sed -i -e "s#127.0.0.1:9465#127.0.0.1:$hook_port#" -e "s#127.0.0.1:8080/console#127.0.0.1:$port/console#" \
    "$dir/rules/notify.yaml"
rm -f "$dir/webhook.jsonl" "$dir/webhook.port"
python3 "$top/tests/integration/webhook.py" --print --port "$hook_port" --port-file "$dir/webhook.port" \
    --log "$dir/webhook.jsonl" >"$dir/webhook.log" 2>&1 &
hook_pid=$!
for _ in $(seq 1 50); do
    [ -s "$dir/webhook.port" ] && break
    kill -0 "$hook_pid" 2>/dev/null || break
    sleep 0.1
done
if [ ! -s "$dir/webhook.port" ]; then
    echo "demo: the webhook receiver did not start on 127.0.0.1:$hook_port (set CW_DEMO_HOOK_PORT to another):" >&2
    cat "$dir/webhook.log" >&2
    exit 1
fi
sock=$("$top/scripts/mariadb-start.sh" "$dir/db" | tail -n1)
# a fresh database each time, so the demo always starts from the examples
mariadb --no-defaults -S "$sock" -u root -e "DROP DATABASE IF EXISTS casewarden_demo"

token() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
t_ingest=ing-$(token); t_insp=insp-$(token); t_insp2=insp-$(token); t_rev=rev-$(token); t_admin=adm-$(token)
# the configuration holds the tokens' digests: readable by its owner only
( umask 077; : > "$dir/casewarden.yaml" )
chmod 600 "$dir/casewarden.yaml"
cat > "$dir/casewarden.yaml" <<YAML
# Written by scripts/demo.sh; docs/SERVICE.md describes every setting.
database:
  socket: $sock
  user: root
  name: casewarden_demo
rules: $dir/rules
listen: 127.0.0.1:$port
tokens:
  - {name: case-system, role: ingest, sha256: $(digest "$t_ingest")}
  - {name: inspector-jinan, role: inspector, unit: "3701", sha256: $(digest "$t_insp")}
  - {name: inspector-shizhong, role: inspector, unit: "370103", sha256: $(digest "$t_insp2")}
  - {name: reviewer-jinan, role: reviewer, unit: "3701", sha256: $(digest "$t_rev")}
  - {name: admin, role: admin, sha256: $(digest "$t_admin")}
log: {level: info}
YAML
"$cw" migrate --config "$dir/casewarden.yaml" >&2
"$cw" serve --config "$dir/casewarden.yaml" --clock-from "$now" 2>"$dir/serve.log" &
serve_pid=$!
for _ in $(seq 1 100); do
    curl -sf "$url/readyz" >/dev/null 2>&1 && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
    sleep 0.1
done

echo "demo: loading examples/events.jsonl through POST /v1/events" >&2
split -l 40 "$top/examples/events.jsonl" "$dir/batch."
for b in "$dir"/batch.*; do
    curl -sf -H "Authorization: Bearer $t_ingest" -H 'Content-Type: application/json' \
        --data-binary "{\"events\":[$(paste -sd, "$b")]}" "$url/v1/events" \
        | jq -r '"demo:   \(.stored) stored, \(.duplicate) duplicate, \(.conflict) conflict, \(.invalid) invalid"' >&2
    rm -f "$b"
done
sleep 0.5
curl -sf -H "Authorization: Bearer $t_admin" "$url/v1/findings?limit=500" \
    | jq -r '"demo: \(.findings | length) findings: " + ([.findings[].state] | group_by(.) | map("\(length) \(.[0])") | join(", "))' >&2

# the first reminders and escalations reach the demo's receiver
for _ in $(seq 1 150); do
    [ "$(grep -c '"transition": "escalated"' "$dir/webhook.log" 2>/dev/null)" -ge 1 ] &&
        [ "$(grep -c '"state": "overdue"' "$dir/webhook.log" 2>/dev/null)" -ge 2 ] && break
    sleep 0.1
done
echo "demo: $(wc -l < "$dir/webhook.jsonl") notifications received by the webhook on 127.0.0.1:$hook_port" \
    "(printed in $dir/webhook.log)" >&2

id=$(curl -sf -H "Authorization: Bearer $t_insp" "$url/v1/findings?state=overdue&limit=1" | jq -r '.findings[0].id')
id2=$(curl -sf -H "Authorization: Bearer $t_insp" "$url/v1/findings?state=late&limit=1" | jq -r '.findings[0].id')
commands=(
"# the case-tracking system posts an event (201 stored; again: 200 duplicate)
curl -s -H 'Authorization: Bearer $t_ingest' -H 'Content-Type: application/json' \\
  -d '{\"id\":\"demo-1\",\"type\":\"evidence.seized\",\"case\":\"A370102202600099\",\"unit\":\"370102\",\"at\":\"2026-05-31T10:00:00+08:00\",\"data\":{\"item\":\"K1\",\"description\":\"电动车一辆\"}}' \\
  $url/v1/events"
"# an inspector of 3701 (济南) lists overdue findings of their units
curl -s -H 'Authorization: Bearer $t_insp' '$url/v1/findings?state=overdue&limit=5'"
"# ... opens one, with the events it rests on and its review history
curl -s -H 'Authorization: Bearer $t_insp' $url/v1/findings/$id"
"# ... and reviews it (acknowledge, assign with a due date; resolve and dismiss need a comment)
curl -s -H 'Authorization: Bearer $t_insp' -H 'Content-Type: application/json' \\
  -d '{\"action\":\"resolve\",\"comment\":\"已督促承办单位办结\"}' $url/v1/findings/$id/review"
"# a case's timeline and findings
curl -s -H 'Authorization: Bearer $t_insp' $url/v1/cases/A370104202600004"
"# the 法制 reviewer exempts a finding (豁免), with reason, approver and expiry
curl -s -H 'Authorization: Bearer $t_rev' -H 'Content-Type: application/json' \\
  -d '{\"reason\":\"延长审批已作出, 系统补录滞后\",\"approver\":\"法制大队\",\"expires\":\"2026-12-31\"}' $url/v1/findings/$id2/exemption"
"# May's quality assessment of the units, as a spreadsheet (UTF-8 with BOM)
curl -s -H 'Authorization: Bearer $t_insp' '$url/v1/reports/quality?from=2026-05-01&to=2026-05-31&format=csv'"
"# the console's files (log in with a token above)
curl -s $url/console/"
"# an inspector of 370103 only sees 市中 findings (others answer 404)
curl -s -H 'Authorization: Bearer $t_insp2' '$url/v1/findings?limit=5'"
"# the admin sees the rules and reloads them
curl -s -H 'Authorization: Bearer $t_admin' $url/v1/rules
curl -s -X POST -H 'Authorization: Bearer $t_admin' $url/v1/rules/reload"
"# the notifications sent (receivers of rules/notify.yaml), and where one finding's went
curl -s -H 'Authorization: Bearer $t_admin' '$url/v1/notifications?limit=5'
curl -s -H 'Authorization: Bearer $t_admin' '$url/v1/notifications?finding=$id&body=true'"
"# where a finding would go and what it would say, without sending
$cw notify test --rules $dir/rules --now 2026-06-01T20:00:00+08:00 --finding '{\"id\":1,\"rule\":\"ADM-HANDLING\",\"case\":\"A370102202600001\",\"unit\":\"370102\",\"severity\":\"medium\",\"state\":\"overdue\",\"message\":\"行政案件办理超期\"}'"
"# monitoring, from this machine without a token
curl -s $url/metrics"
)

cat <<TXT

casewarden is serving on $url (clock started at $now)
  console:  $url/console/   (log in with one of the tokens)
  database: $sock (database casewarden_demo)
  log:      $dir/serve.log
  webhook:  http://127.0.0.1:$hook_port (what it receives: $dir/webhook.log)
  tokens:   ingest     $t_ingest   case-system
            inspector  $t_insp   督察, units 3701*
            inspector  $t_insp2   督察, units 370103*
            reviewer   $t_rev   法制审核, units 3701*
            admin      $t_admin   管理员

Try, in another terminal:

TXT
for c in "${commands[@]}"; do printf '%s\n\n' "$c"; done

if $check; then
    failed=0
    mode=$(stat -c %a "$dir/casewarden.yaml")
    if [ "$mode" = 600 ]; then echo "demo check: ok: casewarden.yaml is mode 600"
    else echo "demo check: FAILED: casewarden.yaml is mode $mode, not 600"; failed=$((failed + 1)); fi
    for c in "${commands[@]}"; do
        body=$(printf '%s\n' "$c" | grep -v '^#' | sed 's/ -s / -sf /' | sed 's/\\$//' | tr '\n' ' ')
        if bash -c "$body" >/dev/null; then
            echo "demo check: ok: $(printf '%s' "$c" | head -1)"
        else
            echo "demo check: FAILED: $(printf '%s' "$c" | head -1)"
            failed=$((failed + 1))
        fi
    done
    # what the receiver got: a reminder and an escalation
    for what in reminder escalation; do
        # a reminder of an overdue finding, and a level of its ladder
        sel='.body | fromjson | .findings[0] | select(.state == "overdue") | .transition'
        [ "$what" = reminder ] && sel="$sel | select(. != \"escalated\")" || sel="$sel | select(. == \"escalated\")"
        if jq -se "any(.[]; [$sel] | length > 0)" "$dir/webhook.jsonl" >/dev/null 2>&1; then
            echo "demo check: ok: a notification ($what) reached the webhook"
            jq -sc "[.[] | select([$sel] | length > 0)][0] | {path, key, body: (.body | fromjson)}" \
                "$dir/webhook.jsonl"
        else
            echo "demo check: FAILED: no notification ($what) reached the webhook"
            failed=$((failed + 1))
        fi
    done
    echo "$(( ${#commands[@]} + 3 - failed )) passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi
echo "Ctrl-C stops the service and the database." >&2
wait "$serve_pid"
