#!/usr/bin/env bash
# bench/cluster/run.sh: several engines on a MariaDB Galera cluster
# (docs/SCALING.md). On a three-node cluster on 127.0.0.1 it measures:
#   1. ingest: multi-row INSERTs of 1000 events through one node, then the
#      same through the three nodes at once (certification conflicts on
#      the partitions' counters are retried, and counted);
#   2. judging with one engine: the time one engine takes to judge the
#      whole log, all 256 partitions (its casewarden_partitions_judge_seconds);
#   3. judging with two engines: a second engine joins, the first gives
#      back half; each judges its share (the holder of partition 0 with the
#      cross-case rules over every partition), at the same time: the log
#      judged in the longer of the two;
#   4. takeover: the second engine killed with SIGKILL; the time until the
#      survivor holds every lease (the lease's life and a lease round) and
#      until it has judged them (caught up);
# with the engines' resident memory. Prints a summary on stdout.
# Usage: bench/cluster/run.sh [--build DIR] [--events N]
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/_build/release
events=300000
while [ $# -gt 0 ]; do
    case $1 in
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --events) events=$2; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: bench/cluster/run.sh [--build DIR] [--events N]" >&2; exit 2 ;;
    esac
done
cw=$build/casewarden
[ -x "$cw" ] && [ -x "$build/bench/gen" ] || { echo "build first: scripts/build.sh release" >&2; exit 2; }
LEASE_MS=3000
RENEW_MS=500

tmp=$(mktemp -d /tmp/cw-bench-XXXXXX)
pids=()
cleanup() {
    set +e
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    "$top/scripts/galera-stop.sh" "$tmp/gal" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" INT TERM
say() { echo "bench: $*" >&2; }
ms() { echo $(( ${EPOCHREALTIME/[.,]/} / 1000 )); }

say "generating about $events events"
"$build/bench/gen" --seed 7 --events "$events" --out "$tmp/feed" >/dev/null
T=$(cat "$tmp/feed/now.txt")
n=$(wc -l <"$tmp/feed/events.jsonl")
say "starting a three-node Galera cluster"
"$top/scripts/galera-start.sh" "$tmp/gal" 3 >"$tmp/nodes" 2>"$tmp/galera.log" ||
    { tail -20 "$tmp/galera.log" >&2; exit 1; }
sockof() { awk -v k="$1" '$1 == k { print $3 }' "$tmp/nodes"; }
sql() { mariadb --no-defaults -S "$(sockof "${2:-1}")" -u root -N -B casewarden -e "$1"; }
digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
cp -r "$top/rules" "$tmp/rules"
for i in 1 2; do
    p=$((20000 + RANDOM % 40000))
    cat >"$tmp/e$i.yaml" <<YAML
database: {socket: $(sockof "$i"), user: root, name: casewarden}
rules: $tmp/rules
listen: 127.0.0.1:$p
engine: {poll_ms: 50, name: e$i}
cluster: {lease_ms: $LEASE_MS, renew_ms: $RENEW_MS}
tokens:
  - {name: admin, role: admin, sha256: $(digest admin-tok)}
YAML
    echo "http://127.0.0.1:$p" >"$tmp/url$i"
done
"$cw" migrate --config "$tmp/e1.yaml" >/dev/null

# 1. ingest
split -l 1000 -d -a 5 "$tmp/feed/events.jsonl" "$tmp/chunk."
chunks=("$tmp"/chunk.*)
half=$(( ${#chunks[@]} / 2 ))
load() {   # load NODE FILE...: each file one INSERT; a refused one again; prints retries
    local node=$1 f tries=0
    shift
    for f in "$@"; do
        { echo "INSERT INTO events (body) VALUES"
          sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g" -e "s/^/('/" -e "s/\$/'),/" "$f" | sed '$ s/,$/;/'
        } >"$f.sql"
        until mariadb --no-defaults -S "$(sockof "$node")" -u root casewarden <"$f.sql" 2>>"$tmp/load.err"; do
            tries=$((tries + 1))
            sleep 0.05
        done
    done
    echo "$tries"
}
t0=$(ms)
load 1 "${chunks[@]:0:half}" >/dev/null
t1=$(ms)
rows1=$(sql "SELECT COUNT(*) FROM events")
ingest1=$(( rows1 * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
rest=("${chunks[@]:half}")
third=$(( (${#rest[@]} + 2) / 3 ))
t0=$(ms)
load 1 "${rest[@]:0:third}" >"$tmp/r1" &
l1=$!
load 2 "${rest[@]:third:third}" >"$tmp/r2" &
l2=$!
load 3 "${rest[@]:$((2 * third))}" >"$tmp/r3" &
l3=$!
wait $l1 $l2 $l3
t1=$(ms)
rows=$(sql "SELECT COUNT(*) FROM events")
ingest3=$(( (rows - rows1) * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
retries=$(( $(cat "$tmp/r1") + $(cat "$tmp/r2") + $(cat "$tmp/r3") ))
[ "$rows" = "$n" ] || { echo "bench: $rows of $n events stored" >&2; exit 1; }
say "ingest: $ingest1 events/s through one node, $ingest3 through three ($retries statements retried)"

metric() {   # metric I NAME
    curl -sf -H "Authorization: Bearer admin-tok" "$(cat "$tmp/url$1")/metrics" 2>/dev/null |
        awk -v m="$2" '$1 == m { print $2 }'
}
held() { sql "SELECT COUNT(*) FROM partition_leases WHERE owner = '$1' AND expires > ${EPOCHREALTIME/[.,]/}"; }
rss() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$1/status"; }
wait_for() {   # wait_for SECONDS CMD...
    local end=$(( $(ms) + $1 * 1000 ))
    shift
    until "$@"; do [ "$(ms)" -lt "$end" ] || return 1; sleep 0.05; done
}
caught_up() {   # caught_up I...: each engine read to the end of its partitions
    local i d
    for i in "$@"; do d=$(metric "$i" casewarden_queue_depth); [ "$d" = 0 ] || return 1; done
}
is_n() { [ "$(held "$1")" = "$2" ]; }
# judged I N: engine I has judged its N partitions (its figures are published)
judged() { [ "$(metric "$1" casewarden_partitions)" = "$2" ]; }

# 2. one engine
t0=$(ms)
"$cw" serve --config "$tmp/e1.yaml" --now "$T" >>"$tmp/e1.log" 2>&1 &
pids+=($!)
e1=$!
wait_for 600 is_n e1 256
wait_for 600 judged 1 256
wait_for 600 caught_up 1
t1=$(ms)
judge1=$(metric 1 casewarden_partitions_judge_seconds)
rss1=$(rss "$e1")
say "one engine: 256 partitions judged in $judge1 s ($((t1 - t0)) ms from its start), RSS $rss1 MiB"

# 3. two engines
t0=$(ms)
"$cw" serve --config "$tmp/e2.yaml" --now "$T" >>"$tmp/e2.log" 2>&1 &
pids+=($!)
e2=$!
wait_for 600 is_n e2 128
wait_for 600 is_n e1 128
wait_for 600 judged 1 128
wait_for 600 judged 2 128
wait_for 600 caught_up 1 2
t1=$(ms)
judge2a=$(metric 1 casewarden_partitions_judge_seconds)
judge2b=$(metric 2 casewarden_partitions_judge_seconds)
rss2a=$(rss "$e1")
rss2b=$(rss "$e2")
say "two engines: e1 (128 partitions and the cross-case rules) in $judge2a s, e2 (128) in $judge2b s; $((t1 - t0)) ms from e2's start to both caught up; RSS $rss2a and $rss2b MiB"

# 4. takeover
t0=$(ms)
kill -9 "$e2"
wait "$e2" 2>/dev/null || true
wait_for 60 is_n e1 256
t1=$(ms)
wait_for 600 judged 1 256
wait_for 600 caught_up 1
t2=$(ms)
judge3=$(metric 1 casewarden_partitions_judge_seconds)
say "takeover: e1 holds e2's 128 partitions $((t1 - t0)) ms after the kill (lease $LEASE_MS ms), has judged them $((t2 - t0)) ms after it (judging $judge3 s)"

awk -v n="$n" -v j1="$judge1" -v j2a="$judge2a" -v j2b="$judge2b" 'BEGIN {
    j2 = j2a > j2b ? j2a : j2b
    printf "events                     %d\n", n
    printf "judging, one engine        %.2f s  %.0f events/s\n", j1, n / j1
    printf "judging, two engines       %.2f s  %.0f events/s (e1 %.2f s with the cross-case rules, e2 %.2f s)\n", j2, n / j2, j2a, j2b
}'
echo "ingest, one node           $ingest1 events/s"
echo "ingest, three nodes        $ingest3 events/s ($retries INSERTs retried)"
echo "takeover                   $((t1 - t0)) ms to hold the leases, $((t2 - t0)) ms to have judged them (lease $LEASE_MS ms, renew $RENEW_MS ms)"
echo "resident memory            one engine $rss1 MiB; two engines $rss2a MiB (with the cross-case rules) and $rss2b MiB"
trap - EXIT
cleanup
exit 0
