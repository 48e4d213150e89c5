#!/usr/bin/env bash
# Several engines on a MariaDB Galera cluster: three nodes on 127.0.0.1
# (scripts/galera-start.sh), three `casewarden serve` with cluster leases,
# each on its own node with its own API. Events are posted across the three
# APIs (a refused or failed post is tried again, on another API if need
# be) while one engine is killed with SIGKILL (its partitions must be taken
# over within the lease's life plus a stated bound) and another is paused
# with SIGSTOP past its lease and resumed (its writes are refused by the
# fencing token and it steps down, then rejoins). At the end every
# acknowledged event is stored once and the stored findings equal those of
# one `casewarden eval` over the stored events. A cluster that cannot start
# fails the test.
# Usage: galera.sh PATH/TO/casewarden [EVENTS]   Ends with "N passed, N failed".
set -uo pipefail
cw=${1:?usage: $0 CASEWARDEN [EVENTS]}
cw=$(cd "$(dirname "$cw")" && pwd)/$(basename "$cw")
. "$(dirname "$0")/../harness.sh"

total=${2:-6000}
T=2026-06-01T00:00:00+08:00
LEASE_MS=3000
RENEW_MS=500
# a takeover: the lease runs out (LEASE_MS), the heartbeat too, the next
# lease round of a survivor (RENEW_MS) claims and judges the partitions
# again; BOUND_S is what this machine may take beyond the lease for that
BOUND_S=6
pids=(0 0 0 0)

cleanup() {
    for i in 1 2 3; do
        if [ "${pids[i]}" != 0 ]; then
            kill -CONT "${pids[i]}" 2>/dev/null
            kill -9 "${pids[i]}" 2>/dev/null
            wait "${pids[i]}" 2>/dev/null
        fi
    done
    [ -n "${poster_pid-}" ] && kill "$poster_pid" 2>/dev/null
    "$top/scripts/galera-stop.sh" "$tmp/gal" >/dev/null 2>&1
    [ -n "${KEEP-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}

trap "exit 1" INT TERM
if ! "$top/scripts/galera-start.sh" "$tmp/gal" 3 >"$tmp/nodes" 2>"$tmp/galera.log"; then
    echo "FAIL: the Galera cluster did not start (scripts/galera-start.sh):"
    tail -n 30 "$tmp/galera.log"
    echo "0 passed, 1 failed"
    exit 1
fi
ok
sockof() { awk -v n="$1" '$1 == n { print $3 }' "$tmp/nodes"; }
sql() { mariadb --no-defaults -S "$(sockof "${2:-1}")" -u root -N -B casewarden -e "$1"; }
digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
now_us() { echo $(( ${EPOCHREALTIME/[.,]/} )); }

cp -r "$top/rules" "$tmp/rules"
declare -a port url
taken=" "
for i in 1 2 3; do
    while :; do
        p=$((20000 + RANDOM % 40000))
        case $taken in *" $p "*) continue ;; esac
        ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && continue
        break
    done
    taken="$taken$p "
    port[i]=$p
    url[i]=http://127.0.0.1:$p
    cat >"$tmp/e$i.yaml" <<YAML
database:
  socket: $(sockof "$i")
  user: root
  name: casewarden
rules: $tmp/rules
listen: 127.0.0.1:${port[i]}
engine: {poll_ms: 50, name: e$i, snapshot_s: 1}
cluster: {lease_ms: $LEASE_MS, renew_ms: $RENEW_MS}
api: {max_batch: 200, threads: 4}
tokens:
  - {name: case-system, role: ingest, sha256: $(digest ingest-tok)}
  - {name: admin, role: admin, sha256: $(digest admin-tok)}
YAML
done

"$cw" migrate --config "$tmp/e1.yaml" >"$tmp/migrate.log" 2>&1 && ok || { bad "migrate: $(tail -3 "$tmp/migrate.log")"; finish; exit 1; }
[ "$(sql "SELECT parts FROM partitioning" 3)" = 256 ] && ok || bad "partitions on node 3: $(sql "SELECT parts FROM partitioning" 3)"

start_engine() {   # start_engine I
    "$cw" serve --config "$tmp/e$1.yaml" --now "$T" >>"$tmp/e$1.log" 2>&1 &
    pids[$1]=$!
}
wait_ready() {   # wait_ready I
    for _ in $(seq 1 200); do
        curl -sf "${url[$1]}/readyz" >/dev/null 2>&1 && return 0
        kill -0 "${pids[$1]}" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}
metric() {   # metric I NAME: its value, or nothing
    curl -sf -H "Authorization: Bearer admin-tok" "${url[$1]}/metrics" 2>/dev/null |
        awk -v m="$2" '$1 == m { print $2 }'
}
# held OWNER: leases of OWNER unexpired now, as the cluster has them
held() { sql "SELECT COUNT(*) FROM partition_leases WHERE owner = '$1' AND expires > $(now_us)" "${2:-1}"; }
live_held() { sql "SELECT COUNT(*) FROM partition_leases WHERE owner <> '' AND expires > $(now_us)" "${2:-1}"; }
# wait_until SECONDS CMD...: until CMD succeeds; prints the seconds taken
wait_until() {
    local limit=$1 t0=${EPOCHREALTIME/[.,]/}
    shift
    while :; do
        if "$@"; then echo $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 )); return 0; fi
        [ $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000000 )) -ge "$limit" ] && return 1
        sleep 0.1
    done
}
balanced() {   # balanced A B ...: every partition held, each of A B ... at most its share
    local n=$# share=$(( (256 + $# - 1) / $# )) e h sum=0
    for e in "$@"; do
        h=$(held "$e")
        [[ $h =~ ^[0-9]+$ ]] && [ "$h" -le "$share" ] && [ "$h" -gt 0 ] || return 1
        sum=$((sum + h))
    done
    [ "$sum" = 256 ]
}

for i in 1 2 3; do
    start_engine "$i"
    wait_ready "$i" && ok || { bad "engine e$i did not become ready"; tail -20 "$tmp/e$i.log"; finish; exit 1; }
done
t=$(wait_until 30 balanced e1 e2 e3) && ok || bad "the three engines did not share the partitions: e1 $(held e1), e2 $(held e2), e3 $(held e3)"
echo "galera: three engines share the 256 partitions after ${t:-?} ms: e1 $(held e1), e2 $(held e2), e3 $(held e3)"
[ "$(sql "SELECT owner FROM partition_leases WHERE part = 0")" = e1 ] && ok || bad "partition 0 is not with the first engine"

# The events: the example file again and again, each copy its own ids,
# cases, officers and sessions, in time order, in chunks of 100.
example_copies "$total" g G "$tmp/all.jsonl"
[ "$(wc -l <"$tmp/all.jsonl")" = "$total" ] && ok || bad "generated $(wc -l <"$tmp/all.jsonl") events"
split -l 100 -d -a 4 "$tmp/all.jsonl" "$tmp/chunk."
nchunks=$(ls "$tmp"/chunk.* | wc -l)

# poster: every chunk to the APIs in turn; a chunk that fails (engine
# gone, paused, busy) goes to the next API, until one acknowledges it.
# Acknowledged ids are written to $tmp/acked.
poster() {
    local k=0 c body api code tries
    for c in "$tmp"/chunk.*; do
        jq -s -c '{events: .}' "$c" >"$tmp/post.json"
        tries=0
        while :; do
            api=$(( (k + tries) % 3 + 1 ))
            code=$(curl -s -m 5 -o "$tmp/post.out" -w '%{http_code}' -X POST \
                -H "Authorization: Bearer ingest-tok" -H "Content-Type: application/json" \
                --data-binary @"$tmp/post.json" "${url[api]}/v1/events")
            if [ "$code" = 200 ] && [ "$(jq '[.results[] | select(.result == "stored" or .result == "duplicate")] | length' "$tmp/post.out")" = "$(wc -l <"$c")" ]; then
                jq -r '.results[].id' "$tmp/post.out" >>"$tmp/acked"
                break
            fi
            echo "post $(basename "$c") to API $api: HTTP $code $(head -c 200 "$tmp/post.out" 2>/dev/null)" >>"$tmp/poster.log"
            tries=$((tries + 1))
            [ "$tries" -ge 60 ] && { echo "gave up on $c" >>"$tmp/poster.log"; return 1; }
            sleep 0.2
        done
        k=$((k + 1))
        echo "$k" >"$tmp/posted"
        sleep 0.05
    done
}
: >"$tmp/acked"
echo 0 >"$tmp/posted"
poster &
poster_pid=$!
posted() { cat "$tmp/posted"; }
at_least() { local n; n=$(posted); [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge "$1" ]; }

# 1. kill -9 e2 a quarter of the way; e1 and e3 take its partitions over
wait_until 60 at_least $((nchunks / 4)) >/dev/null || bad "posting stalled at $(posted) chunks"
e2_had=$(held e2)
kill -9 "${pids[2]}"; wait "${pids[2]}" 2>/dev/null; pids[2]=0
t=$(wait_until $((LEASE_MS / 1000 + BOUND_S)) balanced e1 e3) && ok ||
    bad "e2's partitions were not taken over within $((LEASE_MS / 1000 + BOUND_S)) s: e1 $(held e1), e3 $(held e3)"
echo "galera: e2 (${e2_had} partitions) killed; e1 and e3 hold all 256 after ${t:-?} ms (lease ${LEASE_MS} ms + bound ${BOUND_S} s)"
# the counters are published once the partitions are judged again
takeovers() { echo $(( $(metric 1 casewarden_lease_takeovers_total || echo 0) + $(metric 3 casewarden_lease_takeovers_total || echo 0) )); }
counted() { [ "$(takeovers)" -ge "$e2_had" ]; }
wait_until 10 counted >/dev/null && ok || bad "takeovers counted: $(takeovers), e2 had $e2_had"
# e3 (without the cross-case rules) took its share from e2's partition
# snapshots, into the engine it had, reading only the events after them
from_snap=$(metric 3 'casewarden_partitions_judged_total{from="snapshot"}')
[ -n "$from_snap" ] && [ "$from_snap" -gt 0 ] && ok || bad "e3 took no partition from a snapshot (${from_snap:-no metric})"
grep -q "judged ([1-9][0-9]* from their snapshots)" "$tmp/e3.log" && ok || bad "e3's log does not say it read snapshots"
grep "from their snapshots" "$tmp/e3.log" | tail -n 1 | sed 's/.*casewarden: [a-z]*: /galera: e3: /'

# 2. SIGSTOP e3 past its lease while events keep coming; e1 takes all
wait_until 60 at_least $((nchunks / 2)) >/dev/null || bad "posting stalled at $(posted) chunks"
kill -STOP "${pids[3]}"
t=$(wait_until $((LEASE_MS / 1000 + BOUND_S)) balanced e1) && ok ||
    bad "e3's partitions were not taken over while it was paused: e1 $(held e1)"
echo "galera: e3 paused; e1 holds all 256 after ${t:-?} ms"
sleep 1      # new events land in e3's old partitions
kill -CONT "${pids[3]}"
t=$(wait_until 20 grep -q "engine e3 steps down" "$tmp/e3.log") && ok || bad "e3 did not step down after its pause"
grep -q "no longer its own\|could not be renewed" "$tmp/e3.log" && ok || bad "e3's step-down does not say its lease was refused"
grep "steps down" "$tmp/e3.log" | head -2 | sed 's/^/galera: e3: /'
# it rejoins: e1 gives back half
t=$(wait_until 30 balanced e1 e3) && ok || bad "e3 did not get partitions back: e1 $(held e1), e3 $(held e3)"
echo "galera: e3 holds $(held e3) partitions again after ${t:-?} ms"

# 3. e2 starts again and rejoins; every event posted
start_engine 2
wait_ready 2 && ok || bad "e2 did not start again"
wait "$poster_pid" && ok || { bad "the poster gave up: $(tail -3 "$tmp/poster.log")"; }
poster_pid=
t=$(wait_until 40 balanced e1 e2 e3) && ok || bad "not rebalanced after e2 came back: e1 $(held e1), e2 $(held e2), e3 $(held e3)"
echo "galera: $(wc -l <"$tmp/poster.log" 2>/dev/null || echo 0) posts tried again; rebalanced after ${t:-?} ms: e1 $(held e1), e2 $(held e2), e3 $(held e3)"

# every engine has read its partitions to the end
caught_up() {
    local i d
    for i in 1 2 3; do
        d=$(metric "$i" casewarden_queue_depth)
        [ -n "$d" ] && [ "$d" = 0 ] || return 1
    done
    balanced e1 e2 e3
}
wait_until 60 caught_up >/dev/null && ok || bad "the engines did not catch up"
sleep 1
for i in 1 2 3; do kill -TERM "${pids[i]}"; done
for i in 1 2 3; do wait "${pids[i]}" 2>/dev/null; pids[i]=0; done
[ "$(sql "SELECT COUNT(*) FROM partition_leases WHERE owner <> ''")" = 0 ] && ok || bad "leases not given back at the stop"

# every acknowledged event stored once, on every node
acked=$(sort -u "$tmp/acked" | wc -l)
[ "$acked" = "$total" ] && ok || bad "$acked of $total events acknowledged"
for n in 1 2 3; do
    [ "$(sql "SELECT COUNT(*), COUNT(DISTINCT id) FROM events" "$n")" = "$total	$total" ] && ok ||
        bad "node $n: events lost or doubled: $(sql "SELECT COUNT(*), COUNT(DISTINCT id) FROM events" "$n")"
done
sql "SELECT id FROM events" | sort >"$tmp/stored.ids"
sort -u "$tmp/acked" | cmp -s - "$tmp/stored.ids" && ok || bad "the stored ids are not the acknowledged ones"
[ "$(sql "SELECT COUNT(*) FROM (SELECT part FROM events GROUP BY part HAVING COUNT(*) <> MAX(pseq) OR MIN(pseq) <> 1) x")" = 0 ] && ok ||
    bad "a partition's order has holes"
[ "$(sql "SELECT COUNT(*) - COUNT(DISTINCT rule, case_id, subject) FROM findings")" = 0 ] && ok || bad "a finding stored twice"

# the findings equal one engine's eval of the stored events
sql "SELECT rule, case_id, IF(subject='','-',subject), state, COALESCE(due,'-'), raised FROM findings WHERE state <> 'withdrawn'" |
    sort >"$tmp/db.set"
sql "SELECT body FROM events ORDER BY seq" >"$tmp/stored.jsonl"
"$cw" eval --rules "$tmp/rules" --events "$tmp/stored.jsonl" --now "$T" --quiet \
    | jq -r '[.rule, .case, (if .subject == "" then "-" else .subject end), .state,
              (if .due == null then "-" else (.due | sub("\\+08:00$"; "Z") | fromdateiso8601 - 28800 | tostring) end),
              (.raised | sub("\\+08:00$"; "Z") | fromdateiso8601 - 28800 | tostring)] | @tsv' \
    | sort >"$tmp/eval.set"
cross=$(grep -cE "^(OFFICER-OVERLAP|SANCTION-PEER|ALARM-ACCEPT)	" "$tmp/eval.set")
[ -s "$tmp/eval.set" ] && [ "$cross" -gt 0 ] && cmp -s "$tmp/db.set" "$tmp/eval.set" && ok || {
    bad "findings of three engines differ from one eval ($(wc -l <"$tmp/db.set") vs $(wc -l <"$tmp/eval.set"), $cross cross-case)"
    diff "$tmp/eval.set" "$tmp/db.set" | head -20; }
echo "galera: $(wc -l <"$tmp/db.set") findings ($cross of cross-case rules) equal to one engine's eval"
finish
