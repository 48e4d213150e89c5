#!/usr/bin/env bash
# serve --threads N: N engines in one process dividing the partitions by
# leases. The example events are posted to `serve --threads 1`, 2 and 3,
# each over a database of its own; the stored findings of each must equal
# `casewarden eval` of the same events. With 2 threads: both hold
# partitions (leases named main and main/t2, the default lease settings
# said in the log without a cluster: section), /readyz and /metrics
# answer (the per-thread series, the partitions summing to all), explain
# answers for cases of both threads, a reload (API and SIGHUP) changes the
# findings of both threads' cases to eval's under the new rules, a broken
# ruleset is refused by all, SIGTERM stops every thread and gives every
# lease back, --once restarts from the partition snapshots writing
# nothing new, and auto is one thread per core. Then 20,000 generated
# events under a cluster: section of short leases: no thread steps down
# while another judges, the findings are eval's. A bad --threads is a
# usage error.
# Usage: serve-threads.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

ex=$top/examples/events.jsonl
T=2026-06-01T00:00:00+08:00

check "--threads 0" 2 "--threads must be 1 to 64 or auto, not '0'" -- "$cw" serve --config "$cfg" --threads 0
check "--threads x" 2 "--threads must be 1 to 64 or auto, not 'x'" -- "$cw" serve --config "$cfg" --threads x
check "--help" 0 "--threads N" -- "$cw" serve --help

# the run of N threads goes to database cwtN, through a configuration of its own
use_db() {   # use_db N: $cfg, sql() and findings_set() of database cwtN
    db=cwt$1
    sed "s/^  name: .*/  name: $db/" "$tmp/casewarden.yaml" >"$tmp/t$1.yaml"
    cfg=$tmp/t$1.yaml
    "$cw" migrate --config "$cfg" >"$tmp/migrate.log" 2>&1 || { bad "migrate $db: $(tail -3 "$tmp/migrate.log")"; return 1; }
}
sql() { mariadb --no-defaults -S "$sock" -u root -N -B "$db" -e "$1"; }
now_us() { echo $(( ${EPOCHREALTIME/[.,]/} )); }
metric() { curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

post_all() {   # the example file in batches of 40
    local p
    rm -f "$tmp"/part.*
    split -l 40 "$ex" "$tmp/part."
    for p in "$tmp"/part.*; do
        req POST /v1/events ingest-tok "{\"events\":[$(paste -sd, "$p")]}"
        [ "$code" = 200 ] || { bad "post $(basename "$p"): $code $(head -c 300 "$tmp/body")"; return 1; }
    done
}

# converge WANT [TENTHS]: until the stored findings equal the file WANT
# (at most TENTHS tenths of a second, default 100)
converge() {
    for _ in $(seq 1 "${2:-100}"); do
        findings_set >"$tmp/db.set"
        cmp -s "$tmp/db.set" "$1" && return 0
        sleep 0.1
    done
    return 1
}

same_as() {   # same_as LABEL WANT [TENTHS]
    if converge "$2" "${3:-100}"; then ok
    else bad "$1: the stored findings differ (< expected only, > stored only)"; diff "$2" "$tmp/db.set" | grep '^[<>]' | head; fi
}

eval_set "$ex" "$T" >"$tmp/eval.set"
[ -s "$tmp/eval.set" ] && ok || bad "eval found nothing"

# --- one thread: today's service ---
use_db 1 || { finish; exit 1; }
# (a schema newer than the program is refused before any thread starts)
sql "INSERT INTO cw_schema (version, description) VALUES (99, 'from the future')"
check "--threads 2 on a newer schema" 1 "upgrade casewarden" -- "$cw" serve --config "$cfg" --threads 2 --once --now "$T"
sql "DELETE FROM cw_schema WHERE version = 99"
start_serve --now "$T" --threads 1 || { finish; exit 1; }
post_all
same_as "--threads 1" "$tmp/eval.set"
cp "$tmp/db.set" "$tmp/t1.set"
# the one engine of old: its checkpoint row, no lease taken
[ "$(sql "SELECT COUNT(*) FROM engine_checkpoint WHERE name = 'main'")" = 1 ] &&
    [ "$(sql "SELECT COUNT(*) FROM partition_leases WHERE owner <> ''")" = 0 ] && ok || bad "--threads 1 is not the one engine"
stop_serve

# --- two threads ---
use_db 2 || { finish; exit 1; }
parts=$(sql "SELECT parts FROM partitioning")
: >"$tmp/serve.log"
start_serve --now "$T" --threads 2 || { finish; exit 1; }
grep -q -- "--threads 2 without a cluster: section in $cfg: the threads divide the partitions by leases of 3000 ms renewed every 1000 ms" "$tmp/serve.log" &&
    ok || bad "no log line for the default leases: $(head -5 "$tmp/serve.log")"
post_all
same_as "--threads 2" "$tmp/eval.set"
cmp -s "$tmp/db.set" "$tmp/t1.set" && ok || bad "--threads 2 differs from --threads 1"
req GET /readyz ""
expect "readyz, 2 threads" 200 '.status == "ready" and .lag == 0'
held() { sql "SELECT COUNT(*) FROM partition_leases WHERE owner = '$1' AND expires > $(now_us)"; }
h1=$(held main) h2=$(held main/t2)
[ "$h1" -gt 0 ] && [ "$h2" -gt 0 ] && [ $((h1 + h2)) = "$parts" ] && ok ||
    bad "the threads do not share the $parts partitions: main $h1, main/t2 $h2"
m1=$(metric 'casewarden_thread_partitions{thread="1"}') m2=$(metric 'casewarden_thread_partitions{thread="2"}')
[ -n "$m1" ] && [ -n "$m2" ] && [ $((m1 + m2)) = "$parts" ] && [ "$(metric casewarden_partitions)" = "$parts" ] && ok ||
    bad "metrics: partitions by thread '$m1' + '$m2', in all '$(metric casewarden_partitions)', of $parts"
c1=$(metric 'casewarden_thread_cross_case{thread="1"}') c2=$(metric 'casewarden_thread_cross_case{thread="2"}')
[ -n "$c1" ] && [ -n "$c2" ] && [ $((c1 + c2)) = 1 ] && ok || bad "metrics: cross-case by thread '$c1' '$c2'"
[ "$(metric 'casewarden_thread_ready{thread="2"}')" = 1 ] && ok || bad "metrics: thread 2 not ready"
# explain: a finding of a case of each thread, answered by its owner, and
# one of a cross-case rule on a case of the thread without partition 0,
# answered by the holder of partition 0 (which wrote it)
cross="'OFFICER-OVERLAP','SANCTION-PEER','ALARM-ACCEPT'"
of_owner() {   # of_owner OWNER NOT|ONLY: a finding of a case of OWNER, of a cross-case rule or not
    sql "SELECT f.id FROM findings f JOIN events e ON e.case_id = f.case_id
         JOIN partition_leases l ON l.part = e.part
         WHERE l.owner = '$1' AND f.state <> 'withdrawn' AND f.rule ${2/ONLY/} IN ($cross) LIMIT 1"
}
other=$(sql "SELECT owner FROM partition_leases WHERE part <> 0 AND owner <> (SELECT owner FROM partition_leases WHERE part = 0) LIMIT 1")
for q in "main NOT" "main/t2 NOT" "$other ONLY"; do
    fid=$(of_owner $q)
    [ -n "$fid" ] || { bad "no finding of a case of ${q% *} (${q#* } cross-case)"; continue; }
    req GET "/v1/findings/$fid/explain" admin-tok
    expect "explain of a case of $q cross-case" 200 '.found and (.finding.rule as $r | any(.rules[]; .rule == $r and (.findings | length) > 0))'
done

# a reload through the API: every thread's cases judged with the new rules
sed -i '0,/period = { days = 30 },/s//period = { days = 20 },/' "$tmp/rules/deadlines.lua"
eval_set "$ex" "$T" >"$tmp/eval20.set"
[ -s "$tmp/eval20.set" ] && ! cmp -s "$tmp/eval20.set" "$tmp/eval.set" && ok || bad "the changed rule changes no finding: nothing tested"
changed_owners=$(diff "$tmp/eval.set" "$tmp/eval20.set" | sed -n 's/^> [^\t]*\t\([^\t]*\)\t.*/\1/p' | sort -u |
    while read -r c; do sql "SELECT l.owner FROM events e JOIN partition_leases l ON l.part = e.part WHERE e.case_id = '$c' LIMIT 1"; done | sort -u | wc -l)
[ "$changed_owners" = 2 ] && ok || bad "the findings the reload changes are not of both threads' cases ($changed_owners owners)"
req POST /v1/rules/reload admin-tok
expect "reload, 2 threads" 200 '.result == "reloaded"'
# answered once every thread has judged and written with the new rules
[ "$(grep -c "rules reloaded from" "$tmp/serve.log")" = 2 ] && ok || bad "not every thread reloaded: $(grep "rules reloaded" "$tmp/serve.log")"
findings_set >"$tmp/db.set"
cmp -s "$tmp/db.set" "$tmp/eval20.set" && ok || { bad "the reload's answer came before every thread's findings"; diff "$tmp/eval20.set" "$tmp/db.set" | head -5; }
# a broken ruleset: refused, by the first thread, and nothing changes
printf 'rule { id = "BROKEN" ' >"$tmp/rules/zz-broken.lua"
req POST /v1/rules/reload admin-tok
expect "broken reload refused" 422 '.error.message | test("zz-broken.lua:1")'
rm "$tmp/rules/zz-broken.lua"
[ "$(grep -c "rules reloaded from" "$tmp/serve.log")" = 2 ] && [ "$(grep -c "reload refused" "$tmp/serve.log")" = 1 ] && ok ||
    bad "the broken rules were not refused by the first thread alone: $(grep -E "reload refused|rules reloaded" "$tmp/serve.log" | cut -c1-120)"
# SIGHUP: back to the shipped rule, in every thread
sed -i '0,/period = { days = 20 },/s//period = { days = 30 },/' "$tmp/rules/deadlines.lua"
kill -HUP "$serve_pid"
for _ in $(seq 1 100); do [ "$(grep -c "rules reloaded from" "$tmp/serve.log")" -ge 4 ] && break; sleep 0.1; done
[ "$(grep -c "rules reloaded from" "$tmp/serve.log")" = 4 ] && ok || bad "SIGHUP did not reload every thread: $(grep -c "rules reloaded from" "$tmp/serve.log")"
# (within 3 s: before the 5 s after which the threads' rules are aligned)
same_as "after SIGHUP" "$tmp/eval.set" 30

# SIGTERM: every thread stops, every lease is given back
kill -TERM "$serve_pid"; wait "$serve_pid"; st=$?; serve_pid=
[ "$st" = 0 ] && ok || bad "SIGTERM: exit status $st: $(tail -5 "$tmp/serve.log")"
[ "$(sql "SELECT COUNT(*) FROM partition_leases WHERE owner <> '' AND expires > $(now_us)")" = 0 ] && ok ||
    bad "leases still held after SIGTERM: $(sql "SELECT owner, COUNT(*) FROM partition_leases WHERE owner <> '' AND expires > $(now_us) GROUP BY owner")"
[ "$(sql "SELECT COUNT(*) FROM engine_members")" = 0 ] && ok || bad "members left after SIGTERM: $(sql "SELECT * FROM engine_members")"
# (but the refusal of the broken ruleset)
grep -q "info: stopping" "$tmp/serve.log" && ! grep -E "casewarden: error:|steps down" "$tmp/serve.log" | grep -qv "reload refused" && ok ||
    bad "errors in the log of the 2 threads: $(grep -E "casewarden: error:|steps down" "$tmp/serve.log" | grep -v "reload refused" | head -3)"
findings_set | cmp -s - "$tmp/eval.set" && ok || bad "findings changed at the stop"

# --once: from the partition snapshots, nothing written again
before=$(sql "SELECT COUNT(*), MAX(updated_at) FROM findings")
"$cw" serve --config "$cfg" --threads 2 --once --now "$T" >"$tmp/out" 2>&1 && ok || bad "--threads 2 --once: $(tail -5 "$tmp/out")"
grep -qE "judged \([1-9][0-9]* from their snapshots\)" "$tmp/out" && ok ||
    bad "--once did not start from the partition snapshots: $(grep judged "$tmp/out")"
[ "$(sql "SELECT COUNT(*), MAX(updated_at) FROM findings")" = "$before" ] && ok || bad "--once rewrote findings"
[ "$(sql "SELECT COUNT(*) FROM partition_leases WHERE owner <> '' AND expires > $(now_us)")" = 0 ] && ok || bad "--once kept leases"
# auto: one thread per core
"$cw" serve --config "$cfg" --threads auto --once --now "$T" >"$tmp/out" 2>&1 && ok || bad "--threads auto: $(tail -3 "$tmp/out")"
if [ "$(nproc)" -gt 1 ]; then
    grep -q -- "--threads $(nproc) without a cluster: section" "$tmp/out" && ok || bad "--threads auto is not $(nproc) threads: $(head -3 "$tmp/out")"
fi

# --- a cluster: section, and threads that judge for longer than a lease:
# each renews its leases while the others judge (no step-down) ---
use_db 4 || { finish; exit 1; }
printf 'cluster: {lease_ms: 1000, renew_ms: 300}\n' >>"$cfg"
G=2026-12-18T15:00:00+08:00
"$(dirname "$cw")/bench/gen" --seed 3 --events 20000 --out "$tmp/g" --rules "$tmp/rules" >/dev/null 2>&1 || bad "bench/gen"
load_sql "$tmp/g/events.jsonl" "$db" || bad "load of the generated events"
eval_set "$tmp/g/events.jsonl" "$G" >"$tmp/evalg.set"
"$cw" serve --config "$cfg" --threads 2 --once --now "$G" >"$tmp/out" 2>&1 && ok || bad "--threads 2 --once with cluster: $(tail -5 "$tmp/out")"
grep -qE "engine main(/t2)?: [0-9]+ partitions.* judged" "$tmp/out" && ! grep -q "without a cluster: section" "$tmp/out" && ok ||
    bad "the cluster: section was not used: $(head -3 "$tmp/out")"
grep -qE "engine main(/t2)?: [0-9]+ partitions.* judged" "$tmp/out" && ! grep -q "steps down" "$tmp/out" && ok ||
    bad "a thread stepped down while the other judged: $(grep "steps down" "$tmp/out" | head -3)"
same_as "--threads 2 over 20,000 generated events" "$tmp/evalg.set" 1

# --- three threads ---
use_db 3 || { finish; exit 1; }
: >"$tmp/serve.log"
start_serve --now "$T" --threads 3 || { finish; exit 1; }
post_all
same_as "--threads 3" "$tmp/eval.set"
for o in main main/t2 main/t3; do
    [ "$(held "$o")" -gt 0 ] && ok || bad "--threads 3: $o holds no partition"
done
req GET /readyz ""
expect "readyz, 3 threads" 200 '.status == "ready"'
stop_serve
[ "$(sql "SELECT COUNT(*) FROM partition_leases WHERE owner <> '' AND expires > $(now_us)")" = 0 ] && ok || bad "--threads 3: leases held after SIGTERM"
finish
