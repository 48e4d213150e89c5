#!/usr/bin/env bash
# serve --threads N over stored events (docs/SCALING.md, "serve
# --threads"): N generated events (default 200k) are bulk-loaded into a
# private MariaDB, then `casewarden serve --once --no-http --threads N`
# judges the whole table for each N of the list, REPS times each, the
# thread counts taking turns and the best kept, so that the ratio holds
# on a noisy machine. Snapshots are off (engine.snapshot_s: 0), so each
# run judges every stored event from the start; a first run of one thread,
# not timed, writes the findings, and every timed run compares its
# findings with them and writes none. After each run the stored findings
# must equal the first run's. A benchmark, not a test.
#
# Usage: bench/db/threads.sh BUILD_DIR [--events N] [--seed N] [--quick] [--reps N] [--threads LIST]
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/db/threads.sh BUILD_DIR [--events N] [--seed N] [--quick] [--reps N] [--threads LIST]

Store N generated events in a private MariaDB (bulk load), then time
`casewarden serve --once --no-http --threads T` (the whole table judged
from the start, snapshots off) for each T of LIST (default 1,2), REPS
times each (default 3), the thread counts taking turns; report per T the
best wall time of the process, its CPU, events per wall second and the
ratio to one thread. Exits 1 when a run's findings differ from one
thread's.

  --events N      events stored (default 200000)
  --seed N        bench/gen's seed (default 7)
  --quick         20k events (a check that the script works)
  --reps N        runs of each thread count (default 3)
  --threads LIST  comma-separated thread counts; 1 is always run

Environment: CW_BENCH_BUFFER_POOL_MB (default 4096), CW_BENCH_KEEP=1 keeps
the temporary directory. Report on stdout, progress on stderr.
EOF
}

# this script's own options; the others are gen_args.sh's
reps=3 list=1,2 rest=()
while [ $# -gt 0 ]; do
    case $1 in
        --reps)
            [[ ${2-} =~ ^[1-9][0-9]*$ ]] || { echo "bench/db/threads.sh: --reps needs a positive number" >&2; exit 2; }
            reps=$2; shift 2 ;;
        --threads)
            [[ ${2-} =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "bench/db/threads.sh: --threads needs a list such as 1,2" >&2; exit 2; }
            list=$2; shift 2 ;;
        *) rest+=("$1"); shift ;;
    esac
done
# shellcheck source=bench/db/gen_args.sh
. "$(dirname "$0")/gen_args.sh" bench/db/threads.sh 200000 20000 "${rest[@]}"

IFS=, read -r -a counts <<<"1,$list"
mapfile -t counts < <(printf '%s\n' "${counts[@]}" | awk '!seen[$0]++')

gen_events

start_db
new_db cw_th "$work/rules"
sed -i 's/^engine: {poll_ms: 50, batch: 2000}$/engine: {poll_ms: 50, batch: 2000, snapshot_s: 0}/' "$work/cw_th.yaml"
grep -q 'snapshot_s: 0' "$work/cw_th.yaml" || die "could not turn snapshots off in $work/cw_th.yaml"
say "loading $n_lines events"
"$insert" --socket "$sock" --database cw_th --events "$work/g/events.jsonl" --batch 1000 \
    --connections 4 >/dev/null || die "bench/db/insert failed"
[ "$(sql cw_th "SELECT COUNT(*) FROM events")" -eq "$n_lines" ] || die "not every event was stored"

findings() { sql cw_th "SELECT rule, case_id, subject, state, COALESCE(due, '-') FROM findings WHERE state <> 'withdrawn'" | sort; }

# once T: one run of T threads; sets r_wall, r_cpu
once() {
    local t=$1
    # a full judgement each time: no snapshot, no case image of an earlier run
    sql cw_th "DELETE FROM engine_snapshot; DELETE FROM engine_snapshot_meta; DELETE FROM case_state"
    TIMEFORMAT='%R %U %S'
    { time "$cw" serve --config "$work/cw_th.yaml" --once --no-http --now "$now" --threads "$t" \
        >"$work/serve-$t.log" 2>&1; } 2>"$work/time" || { tail -n 20 "$work/serve-$t.log" >&2; die "serve --threads $t failed"; }
    read -r r_wall user sys <"$work/time"
    r_cpu=$(calc "$user + $sys")
}

least() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }   # least X [Y]

say "first run, one thread: writes the findings"
once 1
findings >"$work/findings.1"
[ -s "$work/findings.1" ] || die "the first run stored no finding"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A best_wall best_cpu
differ=0
for ((r = 1; r <= reps; r++)); do
    for t in "${counts[@]}"; do
        say "--threads $t, run $r of $reps"
        once "$t"
        if ! findings | cmp -s - "$work/findings.1"; then
            say "--threads $t: other findings than one thread's"
            differ=1
        fi
        best_wall[$t]=$(least "$r_wall" "${best_wall[$t]:-}")
        best_cpu[$t]=$(least "$r_cpu" "${best_cpu[$t]:-}")
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo "serve --once --no-http --threads N over $n_lines stored events of bench/gen --seed $seed, the shipped"
echo "rules, snapshots off (every event judged, findings compared, none written), best of $reps runs each"
echo "machine: $(machine)"
echo "load average $load_start at the start, $load_end at the end"
printf '%-8s %10s %12s %14s %10s\n' threads "wall s" "CPU s" "events/s" "vs 1"
for t in "${counts[@]}"; do
    awk -v n="$t" -v w="${best_wall[$t]}" -v c="${best_cpu[$t]}" -v w1="${best_wall[1]}" -v ev="$n_lines" \
        'BEGIN { printf "%-8s %10.2f %12.2f %14.0f %9.2fx\n", n, w, c, ev / w, w1 / w }'
done
[ "$differ" -eq 0 ] && echo "findings of every run equal to one thread's: yes" || echo "findings of every run equal to one thread's: NO"
exit "$differ"
