#!/usr/bin/env bash
# Faults on the API path. First the database: MariaDB stopped under a
# running server, ingest answers 503 with Retry-After while it is away,
# /readyz says so, a reload asked during the outage is answered (503, not
# left waiting) and SIGTERM still stops the server; once MariaDB is back
# the server catches up by itself and nothing acknowledged is lost. Then
# crashes: several clients post events over HTTP, with retries and
# duplicate ids, while the server is killed with SIGKILL at random moments
# and started again: every acknowledged event is stored exactly once, the
# reviews written before are all there, the checkpoint catches up, and the
# findings equal a clean `casewarden eval` of the stored events.
# Usage: faults.sh PATH/TO/casewarden [EVENTS]   Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

total=${2:-50000}
T=2026-06-01T00:00:00+08:00
RANDOM=7
# bigger batches than the other scripts: the load is the point here
sed -i -e 's/max_body_bytes: 65536/max_body_bytes: 4194304/' -e 's/max_batch: 50/max_batch: 500/' "$cfg"

"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { bad "migrate"; finish; exit 1; }

# ---- the database goes away under a running server ----------------------
start_serve --now "$T" || { finish; exit 1; }
split -l 40 "$top/examples/events.jsonl" "$tmp/ex."
for p in "$tmp"/ex.*; do
    req POST /v1/events ingest-tok "{\"events\":[$(paste -sd, "$p")]}"
    [ "$code" = 200 ] || [ "$code" = 201 ] || bad "posting the examples: HTTP $code"
done
n_ex=$(wc -l <"$top/examples/events.jsonl")
wait_checkpoint "$n_ex" 20 && ok || bad "the examples were not evaluated"

# a review written before the faults, which must survive all of them
req GET "/v1/findings?limit=1" admin-tok
fid=$(jq -r '.findings[0].id // empty' "$tmp/body")
[ -n "$fid" ] && ok || bad "no finding to review"
req POST "/v1/findings/$fid/review" admin-tok '{"action":"resolve","comment":"已整改, 故障前写入"}'
expect "a review before the outage" 200 '.review == "resolved"'

"$top/scripts/mariadb-stop.sh" "$tmp/db" >/dev/null 2>&1
ev='{"id":"out-1","type":"scene.attended","case":"S-OUT","unit":"370102","at":"2026-05-31T10:00:00+08:00","data":{"ref":"R1"}}'
req POST /v1/events ingest-tok "$ev"
expect "ingest while the database is away" 503 '.error.code == "database_unavailable"'
grep -qi '^Retry-After: [0-9]' "$tmp/headers" && ok || bad "no Retry-After on the 503: $(tr -d '\r' <"$tmp/headers" | head -5)"
req GET /readyz ""
expect "/readyz while the database is away" 503 '.error.code == "database_unavailable"'

# a reload asked now is answered, within a bound, and refused as passing
t0=$(date +%s%N)
code=$(curl -s -m 30 -o "$tmp/reload" -w '%{http_code}' -X POST -H "Authorization: Bearer admin-tok" \
    "$url/v1/rules/reload")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$code" = 503 ] && [ "$ms" -lt 15000 ] && ok ||
    bad "reload during the outage: HTTP $code after $ms ms: $(head -c 300 "$tmp/reload")"
echo "faults: reload during the outage answered $code in $ms ms"

# the database is back: ingest and evaluation go on by themselves
"$top/scripts/mariadb-start.sh" "$tmp/db" >/dev/null 2>&1
for _ in $(seq 1 100); do req POST /v1/events ingest-tok "$ev"; [ "$code" = 201 ] && break; sleep 0.2; done
expect "ingest once the database is back" 201
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" 30 && ok || bad "the engine did not catch up after the outage"
req GET /readyz ""
expect "/readyz once the database is back" 200 '.status == "ready"'
req POST /v1/rules/reload admin-tok
expect "reload once the database is back" 200 '.result == "reloaded"'

# SIGTERM during an outage, with a reload waiting: the server stops
"$top/scripts/mariadb-stop.sh" "$tmp/db" >/dev/null 2>&1
curl -s -m 60 -o /dev/null -X POST -H "Authorization: Bearer admin-tok" "$url/v1/rules/reload" &
curl_pid=$!
sleep 0.5
t0=$(date +%s%N)
kill -TERM "$serve_pid"
stopped=no
for _ in $(seq 1 200); do kill -0 "$serve_pid" 2>/dev/null || { stopped=yes; break; }; sleep 0.05; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$stopped" = yes ] && ok || bad "SIGTERM during the outage: still running after $ms ms"
echo "faults: SIGTERM during the outage stopped the server in $ms ms"
[ "$stopped" = yes ] && { wait "$serve_pid" 2>/dev/null; serve_pid=; }
stop_serve KILL
wait "$curl_pid" 2>/dev/null
"$top/scripts/mariadb-start.sh" "$tmp/db" >/dev/null 2>&1

# ---- SIGKILL under load over the API --------------------------------------
# The example file again and again, each copy its own ids and case
# numbers, in time order, in batches of 100 per request.
example_copies "$total" h H "$tmp/all.jsonl"
[ "$(wc -l <"$tmp/all.jsonl")" = "$total" ] && ok || bad "generated $(wc -l <"$tmp/all.jsonl") events"
mkdir "$tmp/batches" "$tmp/acked"
split -l 100 -d -a 4 "$tmp/all.jsonl" "$tmp/batches/b."

# client K posts every K-th batch; a batch is retried until answered 200 or
# 201 (refused connections and 503s while the server is down), and one in
# four is posted once more after its acknowledgement, as a client that
# missed the answer would. The ids acknowledged are kept.
client() {
    local k=$1 i=0 b body c
    for b in "$tmp"/batches/b.*; do
        i=$((i + 1))
        [ $(( i % 3 )) = "$k" ] || continue
        body="{\"events\":[$(paste -sd, "$b")]}"
        for try in 1 2; do
            while :; do
                c=$(curl -s -m 20 -o "$tmp/acked/$(basename "$b").$k.out" -w '%{http_code}' -X POST \
                    -H "Authorization: Bearer ingest-tok" -H "Content-Type: application/json" \
                    --data-binary "$body" "$url/v1/events")
                case $c in 200|201) break ;; 000|503) sleep 0.1 ;;
                    *) echo "client $k: HTTP $c for $(basename "$b")" >&2; return 1 ;; esac
            done
            [ $(( i % 4 )) = 0 ] && [ "$try" = 1 ] && continue
            break
        done
        jq -r '.results[] | select(.result == "stored" or .result == "duplicate") | .id' \
            "$tmp/acked/$(basename "$b").$k.out" >>"$tmp/acked/ids.$k"
    done
}
for k in 0 1 2; do client "$k" 2>>"$tmp/clients.log" & eval "cl$k=\$!"; done
# the clients go too if this script ends early
trap 'kill "$cl0" "$cl1" "$cl2" 2>/dev/null; cleanup' EXIT

kills=0
while kill -0 "$cl0" 2>/dev/null || kill -0 "$cl1" 2>/dev/null || kill -0 "$cl2" 2>/dev/null; do
    "$cw" serve --config "$cfg" --now "$T" >>"$tmp/serve.log" 2>&1 &
    serve_pid=$!
    sleep "0.$(( RANDOM % 9 + 1 ))"
    kill -9 "$serve_pid" 2>/dev/null && kills=$((kills + 1))
    wait "$serve_pid" 2>/dev/null
    serve_pid=
    [ "$kills" -ge 40 ] && break
done
# the last start serves the clients' last batches and catches up, within
# a bound, then is stopped cleanly
start_serve --now "$T" || { finish; exit 1; }
cfail=0
for k in 0 1 2; do eval "wait \$cl$k" || cfail=1; done
[ "$cfail" = 0 ] && ok || { bad "a client failed"; tail -5 "$tmp/clients.log"; }
[ "$kills" -ge 5 ] && ok || bad "only $kills kills"
echo "faults: $kills kills while 3 clients posted $total events"
t0=$(date +%s)
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" 120 && ok ||
    bad "did not catch up: checkpoint $(sql "SELECT seq FROM engine_checkpoint")"
echo "faults: caught up in $(( $(date +%s) - t0 )) s after the last start"
stop_serve

sort -u "$tmp"/acked/ids.* >"$tmp/acked.ids"
sql "SELECT id FROM events WHERE id LIKE 'h%'" | sort >"$tmp/stored.ids"
[ "$(wc -l <"$tmp/acked.ids")" = "$total" ] && ok || bad "acknowledged $(wc -l <"$tmp/acked.ids") of $total"
comm -23 "$tmp/acked.ids" "$tmp/stored.ids" >"$tmp/lost"
[ ! -s "$tmp/lost" ] && ok || bad "$(wc -l <"$tmp/lost") acknowledged events not stored, e.g. $(head -3 "$tmp/lost" | paste -sd' ')"
[ "$(sql "SELECT COUNT(*) - COUNT(DISTINCT id) FROM events")" = 0 ] && ok || bad "an event stored twice"
[ "$(sql "SELECT COUNT(*) - COUNT(DISTINCT rule, case_id, subject) FROM findings")" = 0 ] && ok || bad "a finding stored twice"
[ "$(sql "SELECT review FROM findings WHERE id = $fid")" = resolved ] &&
    [ "$(sql "SELECT COUNT(*) FROM finding_reviews WHERE finding_id = $fid")" -ge 1 ] && ok ||
    bad "the review written before the faults is gone: $(sql "SELECT review FROM findings WHERE id = $fid")"
sql "SELECT body FROM events ORDER BY gseq" >"$tmp/stored.jsonl"
findings_set >"$tmp/db.set"
eval_set "$tmp/stored.jsonl" "$T" >"$tmp/eval.set"
[ -s "$tmp/eval.set" ] && cmp -s "$tmp/db.set" "$tmp/eval.set" && ok || {
    bad "findings after $kills crashes differ from a clean run ($(wc -l <"$tmp/db.set") vs $(wc -l <"$tmp/eval.set"))"
    diff "$tmp/eval.set" "$tmp/db.set" | head -20
    [ -n "${CW_KEEP-}" ] && cp -r "$tmp" "$CW_KEEP"; }
echo "faults: $(wc -l <"$tmp/db.set") findings stored, $(wc -l <"$tmp/eval.set") by a clean run"
finish
