#!/usr/bin/env bash
# A bounded load on loopback with wrk (bench/load.lua): CW_LOAD_SECONDS
# (15 by default; scripts/load runs 60) with 128 connections of mixed
# ingest (new events and retries of sent ones) and queries. No 5xx and no
# socket error; resident memory and open descriptors after the load within
# bounds of what they were before; the engine's lag back to 0 within 15 s
# of the load stopping; every event answered stored is in the table.
# Prints the figures (requests, rate, latencies, RSS, descriptors).
# Usage: load.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"
secs=${CW_LOAD_SECONDS:-15}
conns=${CW_LOAD_CONNECTIONS:-128}
command -v wrk >/dev/null || { bad "wrk is not installed (scripts/deps.sh)"; finish; exit 1; }

sed -i 's/^api: {\(.*\)}$/api: {\1, connection_limit: 512}/; s/max_batch: 50, threads: 4/max_batch: 50, threads: 8/' "$cfg"
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now 2026-06-01T00:00:00+08:00 || { finish; exit 1; }
load_sql "$top/examples/events.jsonl" || bad "load the examples"
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" 30 || bad "the engine did not read the examples"
# warm: every worker connection made once
curl -s -o /dev/null -H "Authorization: Bearer admin-tok" "$url/v1/findings?limit=1"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$serve_pid/status"; }
fds() { ls "/proc/$serve_pid/fd" | wc -l; }
rss0=$(rss) fd0=$(fds)

wrk -t 2 -c "$conns" -d "${secs}s" --timeout 10s -s "$top/bench/load.lua" "$url" >"$tmp/wrk.out" 2>&1
st=$?
cat "$tmp/wrk.out" | sed 's/^/    /'
[ $st = 0 ] && ok || bad "wrk exited $st"
five=$(sed -n 's/^5xx //p' "$tmp/wrk.out")
[ "$five" = 0 ] && ok || bad "$five answers were 5xx"
grep -qE '^errors connect 0 read 0 write 0 timeout 0$' "$tmp/wrk.out" && ok || bad "socket errors: $(grep '^errors' "$tmp/wrk.out")"
total=$(sed -n 's/^requests //p' "$tmp/wrk.out")
[ "${total:-0}" -gt $((secs * 50)) ] && ok || bad "only ${total:-0} requests in $secs s"
grep -q '^status 201 ' "$tmp/wrk.out" && grep -q '^status 200 ' "$tmp/wrk.out" && ok || bad "no stored or no read answers"
# back to idle: the lag to 0, memory and descriptors within bounds
t0=$(date +%s)
lag=
for _ in $(seq 1 150); do
    lag=$(curl -s "$url/readyz" | jq -r '.lag // empty')
    [ "$lag" = 0 ] && break
    sleep 0.1
done
caught=$(( $(date +%s) - t0 ))
[ "$lag" = 0 ] && ok || bad "the lag is ${lag:-?} 15 s after the load"
sleep 1
rss1=$(rss) fd1=$(fds)
# under AddressSanitizer freed memory waits in its quarantine (256 MiB by
# default) and every block has its shadow: a wider bound there
grow=262144
case $(ldd "$cw" 2>/dev/null) in *libasan*) grow=1048576 ;; esac
[ "$rss1" -le $((rss0 + grow)) ] && ok || bad "RSS grew from $rss0 kB to $rss1 kB (bound: +$((grow / 1024)) MiB)"
[ "$fd1" -le $((fd0 + 16)) ] && ok || bad "open descriptors from $fd0 to $fd1"
stored=$(sql "SELECT COUNT(*) FROM events WHERE id LIKE 'load-%'")
answered=$(sed -n 's/^status 201 //p' "$tmp/wrk.out")
# wrk stops at its deadline with requests in flight: those may be stored
# unanswered, at most one per connection
[ "$stored" -ge "$answered" ] && [ "$stored" -le $((answered + conns)) ] && ok ||
    bad "$answered events answered stored, $stored in the table"
echo "load: $total requests in $secs s with $conns connections ($((total / secs))/s), 5xx $five;" \
     "RSS $((rss0 / 1024)) -> $((rss1 / 1024)) MiB, descriptors $fd0 -> $fd1, lag 0 after ${caught} s"
stop_serve
# under the sanitizers: nothing reported at exit either
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$tmp/serve.log"; then
    bad "serve under the sanitizers:"; grep -A20 -E 'ERROR: |runtime error' "$tmp/serve.log" | head -40
else ok; fi
finish
