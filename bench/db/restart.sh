#!/usr/bin/env bash
# serve's restart over stored events (bench/db/README.md, "Restart"):
# N generated events (default 5M) are bulk-loaded into a private MariaDB
# (bench/db/insert: multi-row INSERTs over 4 connections), then
# `casewarden serve` is started three times:
#
#   1. on an empty snapshot table: the full rebuild, every stored event
#      judged again; its rate in events/s and its time to /readyz. At
#      SIGTERM it writes a snapshot of the engine's state.
#   2. from that snapshot: the time to /readyz (the target: 5 s at 5M).
#   3. from the snapshot again (the second start is not warmed by the
#      first's reads of the events table only).
#
# Usage: bench/db/restart.sh BUILD_DIR [--events N] [--seed N] [--quick]
# The report goes to stdout, ending with one line
#   restart events=N ready_snapshot_s=S ready_rebuild_s=S rebuild_s=S rebuild_rate=R ...
# that bench/run reads; progress goes to stderr.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/db/restart.sh BUILD_DIR [--events N] [--seed N] [--quick]

Store N generated events in a private MariaDB (bulk load), start
`casewarden serve` once with no snapshot (the full rebuild: its rate and
time to ready; it writes a snapshot at SIGTERM), then twice more from the
snapshot, and report the time until GET /readyz answers 200 each time.
A benchmark, not a test: at 5M events it takes several minutes.

  --events N   events stored (default 5000000)
  --seed N     bench/gen's seed (default 7)
  --quick      200k events (a bounded run, a minute or so)

Environment: CW_BENCH_BUFFER_POOL_MB (default 4096), CW_BENCH_KEEP=1 keeps
the temporary directory. Report on stdout, progress on stderr.
EOF
}

# shellcheck source=bench/db/gen_args.sh
. "$(dirname "$0")/gen_args.sh" bench/db/restart.sh 5000000 200000 "$@"
gen_events

start_db
echo "restart: casewarden serve over $n_lines stored events (bench/gen --seed $seed, shipped rules, --now $now)"
echo "machine: $(machine)"
echo "database: $(db_settings)"
new_db cw_rs "$work/rules"

# The bulk load: bench/db/insert, multi-row INSERTs of 1,000 events over 4
# connections, as a case system writing straight into the table would
# (LOAD DATA goes at a fifth of that rate here: the table's BEFORE INSERT
# trigger gives each row its place in the log, one row at a time).
say "loading $n_lines events"
out=$("$insert" --socket "$sock" --database cw_rs --events "$work/g/events.jsonl" --batch 1000 \
    --connections 4) || die "bench/db/insert failed"
load_s=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$out")
stored=$(sql cw_rs "SELECT COUNT(*) FROM events")
[ "$stored" -eq "$n_lines" ] || die "$stored events stored of $n_lines"
printf '  %-44s %8s s  %9s events/s\n' "bulk load (INSERT x1000, 4 connections)" "$load_s" \
    "$(sed -n 's/.* events_per_s=\([0-9]*\).*/\1/p' <<<"$out")"

# run LABEL: start serve, wait for /readyz, stop it (SIGTERM: it writes a
# snapshot); sets r_ready, r_how (rebuild or snapshot), r_line (its log line)
run() {
    local label=$1
    say "$label start"
    start_serve cw_rs --now "$now"
    r_ready=$ready_s
    r_line=$(grep -m1 -E 'casewarden serve: (rebuilt|started from the snapshot)' "$serve_log" | cut -d' ' -f2- || true)
    case $r_line in
        *"started from the snapshot"*) r_how=snapshot ;;
        *rebuilt*) r_how=rebuild ;;
        *) cat "$serve_log" >&2; die "$label start: no rebuild or snapshot line in serve's log" ;;
    esac
    serve_warnings
    stop_serve
    printf '  %-12s ready (GET /readyz 200) after %7.2f s, from %s\n' "$label:" "$r_ready" "$r_how"
    printf '  %-12s   %s\n' "" "$r_line"
}

run first
[ "$r_how" = rebuild ] || die "the first start did not rebuild"
ready_rebuild=$r_ready
# "rebuilt N events in S s (R events/s), ..."
rebuild_s=$(sed -n 's/.*rebuilt [0-9]* events in \([0-9.]*\) s.*/\1/p' <<<"$r_line")
rebuild_n=$(sed -n 's/.*rebuilt \([0-9]*\) events in.*/\1/p' <<<"$r_line")
[ -n "$rebuild_s" ] && [ -n "$rebuild_n" ] || die "cannot read the rebuild line: $r_line"
rebuild_rate=$(calc "$rebuild_n / $rebuild_s" | cut -d. -f1)
snap_bytes=$(sql cw_rs "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM engine_snapshot" 2>/dev/null || echo 0)

run second
[ "$r_how" = snapshot ] || die "the second start did not start from the snapshot"
ready_snap=$r_ready
run third
[ "$r_how" = snapshot ] || die "the third start did not start from the snapshot"
# the better of the two starts from the snapshot
ready_snap=$(awk -v a="$ready_snap" -v b="$r_ready" 'BEGIN { printf "%.3f", (b < a ? b : a) }')

echo "  full rebuild: $rebuild_n events in $rebuild_s s = $rebuild_rate events/s; ready after $ready_rebuild s"
echo "  from the snapshot ($(calc "$snap_bytes / 1048576" | cut -c1-6) MiB): ready after $ready_snap s (best of two starts)"
echo "restart events=$n_lines ready_snapshot_s=$ready_snap ready_rebuild_s=$ready_rebuild" \
    "rebuild_s=$rebuild_s rebuild_rate=$rebuild_rate snapshot_bytes=$snap_bytes load_s=$load_s"
