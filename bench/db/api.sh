#!/usr/bin/env bash
# The HTTP API of `casewarden serve` on loopback, measured with wrk and
# bench/db/post against a private MariaDB (bench/db/README.md):
#
#   1. GET /v1/findings with 1M findings stored (synthetic rows written
#      straight into the table): requests/s, p50 and p99 for the filters
#      inspectors use, a page of 50
#   2. event to finding: POST an event that makes a finding, poll
#      GET /v1/findings?case= until it is listed; p50 and p99
#   3. POST /v1/events for 30 s: single events, then batches of 100 (each
#      event a unique id); requests/s, events/s, p50 and p99; and a
#      single-row INSERT + COMMIT baseline with the same connector
#
# Usage: bench/db/api.sh BUILD_DIR [--quick]
# Report on stdout, progress on stderr. --quick: 100k findings, 5 s runs,
# 100 latency samples instead of 1M, 30 s (POST; 10 s per GET filter), 300.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/db/api.sh BUILD_DIR [--quick]

Measure the HTTP API of casewarden serve on 127.0.0.1 with wrk (Debian
package wrk): GET /v1/findings latency with 1M findings stored, event to
finding latency, POST /v1/events throughput and latency for single events
and batches of 100. BUILD_DIR holds the casewarden binary and the bench
programs (built there when missing). A private MariaDB is started in a
temporary directory and stopped at the end.

  --quick   100k findings, 5 s runs, 100 latency samples

Environment: CW_BENCH_BUFFER_POOL_MB (default 4096), CW_BENCH_KEEP=1 keeps
the temporary directory. Report on stdout, progress on stderr.
EOF
}

build_arg=
quick=false
for a in "$@"; do
    case $a in
        -h|--help) usage; exit 0 ;;
        --quick) quick=true ;;
        -*) usage >&2; exit 2 ;;
        *) [ -z "$build_arg" ] || { usage >&2; exit 2; }; build_arg=$a ;;
    esac
done
[ -n "$build_arg" ] || { usage >&2; exit 2; }

# wrk from Debian's packages, installed when missing if we run as root
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench/db/api: installing wrk (apt-get install wrk)" >&2
        apt-get install -y -q wrk >&2 || { apt-get update -q >&2 && apt-get install -y -q wrk >&2; } || true
    fi
    command -v wrk >/dev/null 2>&1 || {
        echo "bench/db/api: wrk is missing: apt-get install wrk" >&2; exit 1; }
fi

# shellcheck source=bench/db/lib.sh
. "$(dirname "$0")/lib.sh" bench/db/api "$build_arg"

if $quick; then
    n_findings=100000; post_s=5; get_s=5; samples=100
else
    n_findings=1000000; post_s=30; get_s=10; samples=300
fi
here=$top/bench/db
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

cp -r "$top/rules" "$work/rules"
rm -f "$work/rules/notify.yaml"   # its receivers are the demo's: nothing here is notified
start_db
new_db cw "$work/rules"
say "starting casewarden serve (wall clock)"
start_serve cw

echo "casewarden bench/db/api: the HTTP API on loopback, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(machine)"
echo "build:   $build ($(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo ', with local changes'))"
echo "server:  $(db_settings)"
echo "serve:   shipped rules, api.threads 4, wall clock; $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), 2 threads, 8 connections"
echo

# ---- 1. GET /v1/findings ------------------------------------------------------

say "1: writing $n_findings synthetic findings"
t0=$(now_s)
for ((from = 0; from < n_findings; from += 100000)); do
    { echo "SET @from = $from;"; cat "$here/sql/synthetic-findings.sql"; } |
        mariadb --no-defaults -S "$sock" -u root cw
done
sql cw "ANALYZE TABLE findings" >/dev/null
t_fill=$(elapsed "$t0")
total=$(sql cw "SELECT COUNT(*) FROM findings")
echo "1. GET /v1/findings, $total findings stored (written in $t_fill s with bench/db/sql/synthetic-findings.sql), $get_s s per filter"
a_case=$(sql cw "SELECT case_id FROM findings WHERE unit LIKE '3701%' ORDER BY id DESC LIMIT 1 OFFSET 5000")
mid=$(sql cw "SELECT MAX(id) DIV 2 FROM findings")
# label, token, path
queries=(
    "inspector 3701: overdue, newest first page|$insp_tok|/v1/findings?state=overdue&limit=50"
    "inspector 3701: open reviews of unit 370102|$insp_tok|/v1/findings?unit=370102&review=open&limit=50"
    "inspector 3701: one rule, overdue, next page|$insp_tok|/v1/findings?rule=ADM-HANDLING&state=overdue&limit=50&cursor=$mid"
    "inspector 3701: raised in one week|$insp_tok|/v1/findings?raised_from=2026-06-01T00:00:00%2B08:00&raised_to=2026-06-07T23:59:59%2B08:00&limit=50"
    "inspector 3701: one case|$insp_tok|/v1/findings?case=$a_case&limit=50"
    "admin: rare combination (RSL-6M, warning, 370303)|$admin_tok|/v1/findings?rule=RSL-6M&state=warning&unit=370303&limit=50"
)
printf '  %-52s %9s %8s %8s %8s\n' "filter (limit 50)" "requests/s" "p50 ms" "p99 ms" "rows"
for q in "${queries[@]}"; do
    IFS='|' read -r label tok path <<<"$q"
    rows=$(curl -s -H "Authorization: Bearer $tok" "$url$path" | jq '.findings | length')
    say "1: $label"
    out=$(wrk -t2 -c8 -d"${get_s}s" -s "$here/post.lua" -H "Authorization: Bearer $tok" "$url$path" -- get | tail -n1)
    [ "$(field "$out" wrong)" = 0 ] || say "warning: $(field "$out" wrong) wrong answers for $path"
    printf '  %-52s %9s %8s %8s %8s\n' "$label" "$(field "$out" requests_per_s)" "$(field "$out" p50_ms)" \
        "$(field "$out" p99_ms)" "$rows"
done
echo

# ---- 2. event to finding ------------------------------------------------------------

say "2: event to finding, $samples samples"
out=$("$post" latency --port "$port" --token "$ingest_tok" --read-token "$admin_tok" --samples "$samples")
echo "2. event to finding: $samples times POST an interrogation with one officer (INTERROGATION-2OFFICERS),"
echo "   then GET /v1/findings?case=... every 1 ms until it is listed; one request at a time"
printf '  %-52s p50 %s ms, p90 %s ms, p99 %s ms, max %s ms\n' "POST sent to finding listed" "$(field "$out" finding_p50_ms)" \
    "$(field "$out" finding_p90_ms)" "$(field "$out" finding_p99_ms)" "$(field "$out" finding_max_ms)"
printf '  %-52s p50 %s ms, p99 %s ms\n' "the POST alone (stored and committed)" "$(field "$out" post_p50_ms)" "$(field "$out" post_p99_ms)"
echo

# ---- 3. POST /v1/events --------------------------------------------------------------

echo "3. POST /v1/events, $post_s s each, wrk 2 threads, 8 connections, events of new cases (bench/db/post.lua)"
printf '  %-52s %9s %9s %8s %8s\n' "" "requests/s" "events/s" "p50 ms" "p99 ms"
for b in 1 100; do
    say "3: POST, batches of $b"
    c0=$(checkpoint cw)
    n0=$(sql cw "SELECT COALESCE(MAX(seq), 0) FROM events")
    out=$(wrk -t2 -c8 -d"${post_s}s" -s "$here/post.lua" -H "Authorization: Bearer $ingest_tok" \
          "$url/v1/events" -- post "$b" | tail -n1)
    n1=$(sql cw "SELECT COALESCE(MAX(seq), 0) FROM events")
    c1=$(checkpoint cw)
    [ "$(field "$out" wrong)" = 0 ] || say "warning: $(field "$out" wrong) wrong answers"
    label="single event"
    [ "$b" = 1 ] || label="{\"events\":[x$b]}"
    printf '  %-52s %9s %9s %8s %8s\n' "$label" "$(field "$out" requests_per_s)" \
        "$(calc "$(field "$out" requests_per_s) * $b" | cut -d. -f1)" "$(field "$out" p50_ms)" "$(field "$out" p99_ms)"
    lag=$(wait_checkpoint cw "$n1" 300 || true)
    printf '    engine: %s of %s events evaluated by the end of the run, the rest %s s later\n' \
        "$((c1 - c0))" "$((n1 - n0))" "$lag"
done
stop_serve
serve_warnings

say "3: INSERT baselines"
"$gen" --seed 7 --events 100000 --out "$work/g" --rules "$work/rules" 2>/dev/null
head -n 20000 "$work/g/events.jsonl" >"$work/g20k.jsonl"
new_db cw_raw1 "$work/rules"
out=$("$insert" --socket "$sock" --database cw_raw1 --events "$work/g20k.jsonl" --batch 1 --connections 8)
printf '  %-52s %9s %9s\n' "baseline: INSERT one row + COMMIT, 8 connections" "$(field "$out" events_per_s)" \
    "$(field "$out" events_per_s)"
new_db cw_raw100 "$work/rules"
out=$("$insert" --socket "$sock" --database cw_raw100 --events "$work/g/events.jsonl" --batch 100 --connections 8)
printf '  %-52s %9s %9s\n' "baseline: INSERT 100 rows + COMMIT, 8 connections" \
    "$(calc "$(field "$out" events_per_s) / 100" | cut -d. -f1)" "$(field "$out" events_per_s)"
say "done"
