#!/usr/bin/env bash
# Notifications: from a finding written to its webhook received, on
# loopback, with N findings in flight at once (default 10,000), and the
# engine's evaluation with and without notifying.
#
#   1. `casewarden serve` without notify.yaml: N events inserted in one
#      statement, each a case whose finding is overdue at once; the time
#      until the engine's checkpoint reaches the last event and the
#      findings are written (evaluation + flush).
#   2. The same into a second database, with a notify.yaml whose one
#      receiver (tests/integration/webhook.py, answering at once) gets a
#      message per finding, unsigned and signed: the same evaluation time,
#      then per finding the time from its row in finding_changes (written
#      in the finding's transaction) to the request's arrival at the
#      receiver: p50, p90, p99, max; deliveries per second from the first
#      arrival to the last; and the notifier's own histogram from /metrics.
#   3. 2,000 findings written at a steady 500 a second (batches of 100),
#      signed: the same latencies, without a burst to queue behind.
#
# Usage: bench/notify/run.sh BUILD_DIR [N]    report on stdout, progress on stderr
set -euo pipefail
case "${1:-}" in
    -h|--help|"") sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ]; exit ;;
esac
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
n=${2:-10000}
cw=$build/casewarden
say() { echo "bench/notify: $*" >&2; }
work=$(mktemp -d /tmp/cw-benchnt-XXXXXX)
serve_pid=
hook_pid=
cleanup() {
    trap - EXIT INT TERM
    [ -n "$serve_pid" ] && { kill -TERM "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true; }
    [ -n "$hook_pid" ] && { kill -TERM "$hook_pid" 2>/dev/null; wait "$hook_pid" 2>/dev/null || true; }
    "$top/scripts/mariadb-stop.sh" "$work/db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sock=$("$top/scripts/mariadb-start.sh" "$work/db" 2>"$work/mariadb.log" | tail -n1)
sql() { mariadb --no-defaults -S "$sock" -u root -N -B "$1" -e "$2"; }
now_s() { echo "${EPOCHREALTIME/,/.}"; }

python3 "$top/tests/integration/webhook.py" --port-file "$work/hook.port" --log "$work/hook.jsonl" &
hook_pid=$!
for _ in $(seq 1 50); do [ -s "$work/hook.port" ] && break; sleep 0.1; done
hp=$(cat "$work/hook.port")

# N evidence seizures of 2026-06-01, one case each: overdue at the clock
awk -v n="$n" 'BEGIN { print "INSERT INTO events (body) VALUES";
    for (i = 1; i <= n; i++)
        printf "(%c{\"id\":\"bn-%d\",\"type\":\"evidence.seized\",\"case\":\"B%011d\",\"unit\":\"370102\",\"at\":\"2026-06-01T10:00:00+08:00\",\"data\":{\"item\":\"K1\",\"description\":\"bench\"}}%c)%s\n",
               39, i, i, 39, i < n ? "," : ";" }' > "$work/events.sql"

# the same in batches of 100 (distinct ids), for a steady rate
steady=2000
for b in $(seq 0 $((steady / 100 - 1))); do
    awk -v b="$b" 'BEGIN { print "INSERT INTO events (body) VALUES";
        for (i = b * 100 + 1; i <= b * 100 + 100; i++)
            printf "(%c{\"id\":\"bs-%d\",\"type\":\"evidence.seized\",\"case\":\"S%011d\",\"unit\":\"370102\",\"at\":\"2026-06-01T10:00:00+08:00\",\"data\":{\"item\":\"K1\",\"description\":\"bench\"}}%c)%s\n",
                   39, i, i, 39, i < b * 100 + 100 ? "," : ";" }' > "$work/steady.$b.sql"
done

# run NAME NOTIFY(yes|no|signed) [steady]: evaluation seconds on stdout
run() {
    local db=$1 mode=$2 port=$((20000 + RANDOM % 20000)) t0 t1 max want=$n
    rm -rf "$work/rules-$db" && cp -r "$top/rules" "$work/rules-$db"
    rm -f "$work/rules-$db/notify.yaml"
    if [ "$mode" != no ]; then
        cat > "$work/rules-$db/notify.yaml" <<YAML
delivery: {concurrency: 16, max_attempts: 5, backoff: 200ms, backoff_max: 2s}
receivers:
  - name: bench
    url: http://127.0.0.1:$hp/$db
    timeout: 10s
$([ "$mode" = signed ] && echo "    secret: bench-secret")
route: {receiver: bench}
YAML
    fi
    cat > "$work/$db.yaml" <<YAML
database: {socket: $sock, user: root, name: $db}
rules: $work/rules-$db
listen: 127.0.0.1:$port
engine: {poll_ms: 20}
log: {level: warning}
YAML
    "$cw" migrate --config "$work/$db.yaml" >/dev/null
    "$cw" serve --config "$work/$db.yaml" --clock-from 2026-06-03T10:00:00+08:00 >"$work/$db.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    kill -0 "$serve_pid" 2>/dev/null || { say "serve did not start: $(tail -3 "$work/$db.log")"; exit 1; }
    t0=$(now_s)
    if [ "${3:-}" = steady ]; then
        want=$steady
        for f in "$work"/steady.*.sql; do
            mariadb --no-defaults -S "$sock" -u root "$db" < "$f"
            sleep 0.2
        done
    else
        mariadb --no-defaults -S "$sock" -u root "$db" < "$work/events.sql"
    fi
    max=$(sql "$db" "SELECT MAX(gseq) FROM events")
    until [ "$(sql "$db" "SELECT COALESCE(MAX(seq), 0) FROM engine_checkpoint")" -ge "$max" ] &&
          [ "$(sql "$db" "SELECT COUNT(*) FROM findings")" -ge "$want" ]; do sleep 0.02; done
    t1=$(now_s)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
    if [ "$mode" != no ]; then
        local end=$((SECONDS + 300))
        until [ "$(grep -c "\"/$db\"" "$work/hook.jsonl")" -ge "$want" ] || [ $SECONDS -gt $end ]; do sleep 0.1; done
        curl -s "http://127.0.0.1:$port/metrics" | grep '^casewarden_notification' > "$work/$db.metrics"
    fi
    kill -TERM "$serve_pid"; wait "$serve_pid" || true; serve_pid=
}

say "$n findings without notifications"
eval_plain=$(run plain no)
say "$n findings notified (unsigned)"
eval_notify=$(run notified yes)
say "$n findings notified (signed)"
eval_signed=$(run signed signed)
say "$steady findings notified at 500 a second (signed)"
run steady signed steady >/dev/null

report() {   # report DB
    sql "$1" "SELECT f.id, UNIX_TIMESTAMP(c.at) FROM findings f JOIN finding_changes c ON c.finding_id = f.id AND c.from_state IS NULL" > "$work/$1.written"
    python3 - "$work/hook.jsonl" "/$1" "$work/$1.written" <<'PY'
import json, sys
log, path, written = sys.argv[1], sys.argv[2], sys.argv[3]
at = {}
for line in open(written):
    fid, t = line.split()
    at[int(fid)] = float(t)
lat, arrivals = [], []
for line in open(log, encoding="utf-8"):
    r = json.loads(line)
    if r["path"] != path or r["status"] != 200:
        continue
    fid = int(r["key"].split(":")[0])
    lat.append(r["at"] - at[fid])
    arrivals.append(r["at"])
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
span = max(arrivals) - min(arrivals)
print(f"  delivered {len(lat)}, finding written -> webhook received: p50 {q(0.5)*1000:.0f} ms, "
      f"p90 {q(0.9)*1000:.0f} ms, p99 {q(0.99)*1000:.0f} ms, max {lat[-1]*1000:.0f} ms")
print(f"  deliveries/s (first to last arrival): {len(lat)/span if span > 0 else 0:.0f}")
PY
    awk '/_count|_sum|sent_total|failed_total|dead_total/ { printf "  %s %s\n", $1, $2 }' "$work/$1.metrics"
}

echo "casewarden notifications, $n findings in flight, loopback, $(nproc) cores"
echo "engine evaluation and flush of $n events: ${eval_plain} s without notify.yaml, ${eval_notify} s with" \
     "(unsigned), ${eval_signed} s with (signed)"
echo "unsigned:"
report notified
echo "signed (HMAC-SHA256):"
report signed
echo "signed, $steady findings written at 500 a second (batches of 100 every 0.2 s):"
report steady
