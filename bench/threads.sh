#!/usr/bin/env bash
# bench/threads.sh: eval throughput with 1, 2 (and more) threads in one
# run (docs/SCALING.md "Threads within one process"), on one bench/gen
# feed, the runs of each thread count interleaved and the best kept, so
# that the ratios hold on a noisy machine; the findings of every run are
# compared with those of one thread. Not a test: it reports, it enforces
# nothing but equal findings.
set -uo pipefail

usage() {
    cat <<'EOF'
usage: bench/threads.sh [--build DIR] [--events N] [--seed N] [--reps N] [--threads LIST]

Times `casewarden eval --threads N --stats` over one generated feed for each N
of LIST (default 1,2), REPS times each (default 5), the thread counts taking
turns, and prints per N: the best wall time of the process, the best CPU time
(user + system), events per wall second, the ratio to one thread, and the
per-thread CPU of the best run. Exits 1 when any run's findings differ from
those of one thread.

  --build DIR     the build to use (default: scripts/build.sh release)
  --events N      the feed's size (default 300000; bench/gen --seed SEED)
  --seed N        bench/gen's seed (default 7)
  --reps N        runs of each thread count (default 5)
  --threads LIST  comma-separated thread counts; 1 is always run
EOF
}

top=$(cd "$(dirname "$0")/.." && pwd)
build='' events=300000 seed=7 reps=5 list=1,2
while [ $# -gt 0 ]; do
    case $1 in
        --build) build=${2:?--build needs a directory}; shift 2 ;;
        --events) events=${2:?--events needs a number}; shift 2 ;;
        --seed) seed=${2:?--seed needs a number}; shift 2 ;;
        --reps) reps=${2:?--reps needs a number}; shift 2 ;;
        --threads) list=${2:?--threads needs a list}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench/threads.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$build" ] || build=$("$top/scripts/build.sh" release) || exit 2
cw=$build/casewarden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

IFS=, read -r -a counts <<<"1,$list"
# one of each, 1 first
mapfile -t counts < <(printf '%s\n' "${counts[@]}" | awk '!seen[$0]++')

echo "bench/threads.sh: generating $events events (seed $seed)" >&2
"$build/bench/gen" --seed "$seed" --events "$events" --out "$tmp/feed" --rules "$top/rules" \
    >/dev/null 2>"$tmp/gen.err" || { cat "$tmp/gen.err" >&2; exit 2; }
now=$(<"$tmp/feed/now.txt")
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A best_wall best_cpu best_threads
n_events=0 differ=0
TIMEFORMAT='%R %U %S'
for ((r = 1; r <= reps; r++)); do
    for n in "${counts[@]}"; do
        echo "bench/threads.sh: --threads $n, run $r of $reps" >&2
        if ! { time "$cw" eval --rules "$top/rules" --events "$tmp/feed/events.jsonl" --now "$now" \
                --threads "$n" --stats >"$tmp/out.$n" 2>"$tmp/err.$n"; } 2>"$tmp/time"; then
            cat "$tmp/err.$n" >&2
            exit 2
        fi
        read -r wall user sys <"$tmp/time"
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
        n_events=$(sed -n 's/.* events read, \([0-9]*\) accepted.*/\1/p' "$tmp/err.$n")
        if [ "$n" != 1 ] && ! cmp -s "$tmp/out.1" "$tmp/out.$n"; then
            echo "bench/threads.sh: --threads $n: other findings than one thread's" >&2
            differ=1
        fi
        if [ -z "${best_wall[$n]:-}" ] || awk -v a="$wall" -v b="${best_wall[$n]}" 'BEGIN { exit !(a < b) }'; then
            best_wall[$n]=$wall
            best_threads[$n]=$(sed -n 's/^casewarden eval: \(reader\|thread [0-9]*\)\( (cross-case rules)\)\{0,1\}: .*CPU \([0-9.]*\) s$/\1 \3/p' \
                "$tmp/err.$n" | paste -sd, - | sed 's/,/, /g')
        fi
        if [ -z "${best_cpu[$n]:-}" ] || awk -v a="$cpu" -v b="${best_cpu[$n]}" 'BEGIN { exit !(a < b) }'; then
            best_cpu[$n]=$cpu
        fi
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo "eval --threads N over $n_events events of bench/gen --seed $seed, the shipped rules,"
echo "best of $reps runs each; $(nproc) cores; load average $load_start at the start, $load_end at the end"
printf '%-8s %10s %12s %14s %10s  %s\n' threads "wall s" "CPU s" "events/s" "vs 1" "CPU by thread (best run)"
for n in "${counts[@]}"; do
    awk -v n="$n" -v w="${best_wall[$n]}" -v c="${best_cpu[$n]}" -v w1="${best_wall[1]}" -v ev="$n_events" \
        -v t="${best_threads[$n]:--}" \
        'BEGIN { printf "%-8s %10.2f %12.2f %14.0f %9.2fx  %s\n", n, w, c, ev / w, w1 / w, t }'
done
[ "$differ" -eq 0 ] && echo "findings of every run equal to one thread's: yes" || echo "findings of every run equal to one thread's: NO"
exit "$differ"
