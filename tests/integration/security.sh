#!/usr/bin/env bash
# Who may do what, as a table: every route of the API against every role
# (ingest, three inspectors of nested and other units, a reviewer, a
# handler, the admin, no token, a wrong token), with a finding and a case
# of unit 370102 in and out of each scope; then the log, which never holds
# a token (the access log names who asked, never with what).
# Usage: security.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

sed -i "s/^tokens:$/tokens:\n  - {name: reviewer-3701, role: reviewer, unit: \"3701\", sha256: $(digest rev-3701)}/" "$cfg"
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now 2026-06-01T00:00:00+08:00 || { finish; exit 1; }
load_sql "$top/examples/events.jsonl" || bad "load the examples"
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" 20 || bad "the engine did not read the examples"

fid=$(sql "SELECT id FROM findings WHERE unit = '370102' AND state <> 'withdrawn' LIMIT 1")
case_id=$(sql "SELECT case_id FROM findings WHERE id = $fid")
[ -n "$fid" ] && ok || { bad "no finding of 370102"; finish; exit 1; }
sq='{"cause":"PSAL-58","circumstance":"normal","offence_at":"2026-05-28T10:00:00+08:00","decided_at":"2026-05-30T10:00:00+08:00","unit":"370102"}'

toks=(ingest-tok insp-3701 insp-370103 insp-3702 rev-3701 handler-tok admin-tok "" bad-token-zzz)
# METHOD PATH BODY | ingest i3701 i370103 i3702 rev3701 handler admin none wrong
table=$(cat <<TABLE
GET /healthz - | 200 200 200 200 200 200 200 200 200
GET /readyz - | 200 200 200 200 200 200 200 200 200
GET /metrics - | 200 200 200 200 200 200 200 200 200
GET /console - | 302 302 302 302 302 302 302 302 302
GET /console/ - | 200 200 200 200 200 200 200 200 200
GET /v1/whoami - | 200 200 200 200 200 200 200 401 401
POST /v1/events EVENT | 201 403 403 403 403 403 201 401 401
GET /v1/events/problems - | 200 403 403 403 403 403 200 401 401
GET /v1/findings - | 403 200 200 200 200 403 200 401 401
GET /v1/findings/$fid - | 403 200 404 404 200 403 200 401 401
GET /v1/findings/$fid/explain - | 403 200 404 404 200 403 200 401 401
POST /v1/findings/$fid/review {"action":"reopen","comment":"x"} | 403 409 404 404 409 403 409 401 401
POST /v1/findings/$fid/exemption {} | 403 403 403 403 422 403 422 401 401
DELETE /v1/findings/$fid/exemption - | 403 403 403 403 409 403 409 401 401
GET /v1/cases/$case_id - | 403 200 404 404 200 403 200 401 401
GET /v1/rules - | 403 200 200 200 200 403 200 401 401
POST /v1/rules/reload - | 403 403 403 403 403 403 200 401 401
GET /v1/notifications - | 403 403 403 403 403 403 200 401 401
POST /v1/sanctions/suggest SUGGEST | 403 200 200 200 200 200 200 401 401
GET /v1/reports/quality?from=2026-05-01&to=2026-05-31 - | 403 200 200 200 200 403 200 401 401
GET /v1/reports/backlog - | 403 200 200 200 200 403 200 401 401
GET /v1/stream - | 403 200 200 200 200 403 200 401 401
TABLE
)
rows=0 n=0
while IFS= read -r row; do
    read -r method path body _ <<<"${row%%|*}"
    read -ra want <<<"${row#*|}"
    [ "${#want[@]}" = "${#toks[@]}" ] || { bad "table row '$row': ${#want[@]} columns"; continue; }
    rows=$((rows + 1))
    for i in "${!toks[@]}"; do
        n=$((n + 1))
        b=$body
        case $b in
            -) b= ;;
            EVENT) b="{\"id\":\"authz-$n\",\"type\":\"case.filed\",\"case\":\"Z-$n\",\"unit\":\"370102\",\"at\":\"2026-05-01T00:00:00+08:00\"}" ;;
            SUGGEST) b=$sq ;;
        esac
        if [ "$path" = /v1/stream ]; then
            args=(-s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time 1)
            [ -n "${toks[$i]}" ] && args+=(-H "Authorization: Bearer ${toks[$i]}")
            code=$(curl "${args[@]}" "$url$path")
        else
            req "$method" "$path" "${toks[$i]}" "$b"
        fi
        [ "$code" = "${want[$i]}" ] && ok ||
            bad "$method $path as ${toks[$i]:-nobody}: $code, expected ${want[$i]}: $(head -c 160 "$tmp/body")"
    done
done <<<"$table"
[ "$rows" = 22 ] && ok || bad "the table has $rows rows, expected 22"
# the table covers every route of api/server.c
for p in $(sed -n 's/^    { "[A-Z]*", "\([^"]*\)".*/\1/p' "$top/api/server.c" | sed 's/{}/[^\/?]+/; s/{\*}//' | sort -u); do
    grep -qE "^[A-Z]+ ${p}[ ?]" <<<"$table" && ok || bad "route $p is not in the table"
done
# a scoped inspector's listing holds nothing outside the scope
req GET "/v1/findings?limit=500" insp-370103
expect "370103 sees only 370103" 200 '[.findings[] | select(.unit | startswith("370103") | not)] | length == 0'

# a review's time is the service's clock (--now), in the deployment's offset
other=$(sql "SELECT id FROM findings WHERE unit LIKE '3701%' AND id <> $fid AND review = 'open' AND state <> 'withdrawn' LIMIT 1")
req POST "/v1/findings/$other/review" insp-3701 '{"action":"acknowledge"}'
expect "a review's time" 200 '.reviews[-1].at | test("^2026-06-01T00:0[0-9]:[0-9]{2}\\+08:00$")'

stop_serve
# under the sanitizers: nothing reported at exit either
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$tmp/serve.log"; then
    bad "serve under the sanitizers:"; grep -A20 -E 'ERROR: |runtime error' "$tmp/serve.log" | head -40
else ok; fi
# the log: the access lines name the caller, never a token
grep -q "http: GET /v1/findings 200 .* inspector-3701$" "$tmp/serve.log" && ok || bad "no access line naming inspector-3701"
grep -q "http: GET /v1/findings 401 " "$tmp/serve.log" && ok || bad "no access line for a 401"
for t in ingest-tok insp-3701 insp-370103 insp-3702 rev-3701 handler-tok admin-tok bad-token-zzz; do
    if grep -qF -- "$t" "$tmp/serve.log"; then bad "the log holds the token $t: $(grep -F -- "$t" "$tmp/serve.log" | head -2)"; else ok; fi
done
check_openapi
finish
