#!/usr/bin/env bash
# bench/db/diff.sh BUILD_DIR [EVENTS]: `casewarden diff --db` against eval
# and diff over the same events as a file (docs/PERFORMANCE.md, "diff
# over the database"). Generates EVENTS events (default 1000000, seed 7),
# stores them in a private MariaDB in the order of the file (one
# connection), then times, each once:
#   eval --events FILE           the shipped rules
#   diff --events FILE           a 20-day ADM-HANDLING against the shipped rules
#   diff --db                    the same over the stored events
# and checks that the two diffs print the same. Prints the times and the
# ratios; the target is diff --db within 2x of eval.
set -euo pipefail
. "$(dirname "$0")/lib.sh" diffdb "${1:?usage: bench/db/diff.sh BUILD_DIR [EVENTS]}"
n=${2:-1000000}
now=2026-06-01T00:00:00+08:00

say "generating $n events"
"$gen" --seed 7 --events "$n" --out "$work/g" >/dev/null
start_db
cp -r "$top/rules" "$work/rules"
cp -r "$top/rules" "$work/new"
sed -i 's/period = { days = 30 },/period = { days = 20 },/' "$work/new/deadlines.lua"
new_db cw_diff "$work/rules"
say "storing the events"
"$insert" --socket "$sock" --database cw_diff --events "$work/g/events.jsonl" --batch 1000 --connections 1 >/dev/null
stored=$(sql cw_diff "SELECT COUNT(*) FROM events")

timed() {   # timed NAME OUT CMD...: seconds of CMD, its stdout in OUT
    local t0 name=$1 out=$2
    shift 2
    t0=$(now_s)
    "$@" >"$out" 2>"$out.err" || { tail -5 "$out.err" >&2; die "$name failed"; }
    printf '%s' "$(elapsed "$t0")"
}
say "eval"
t_eval=$(timed eval "$work/eval.out" "$cw" eval --rules "$work/rules" --events "$work/g/events.jsonl" --now "$now" --quiet)
say "diff over the file"
t_file=$(timed diff "$work/file.out" "$cw" diff --rules "$work/new" --against "$work/rules" --events "$work/g/events.jsonl" --now "$now")
say "diff over the database"
t_db=$(timed diffdb "$work/db.out" "$cw" diff --rules "$work/new" --against "$work/rules" --db --config "$work/cw_diff.yaml" --now "$now")
same=no
[ -s "$work/db.out" ] && cmp -s "$work/file.out" "$work/db.out" && same=yes

echo "diff over the database: $n events generated, $stored stored (bench/db/diff.sh, seed 7)"
printf '  %-44s %8.2f s\n' "eval --events FILE (shipped rules)" "$t_eval"
printf '  %-44s %8.2f s\n' "diff --events FILE (two rule sets)" "$t_file"
printf '  %-44s %8.2f s\n' "diff --db (two rule sets, from MariaDB)" "$t_db"
printf '  %-44s %8.2f\n' "diff --db / eval" "$(calc "$t_db / $t_eval")"
printf '  %-44s %8.2f\n' "diff --db / diff --events" "$(calc "$t_db / $t_file")"
printf '  %-44s %8s\n' "the two diffs print the same" "$same"
printf '  %-44s %s\n' "diff's count line" "$(tail -n1 "$work/db.out")"
awk -v r="$(calc "$t_db / $t_eval")" 'BEGIN { printf "  target diff --db <= 2x eval: %s\n", (r <= 2 ? "met" : "NOT met") }'
[ "$same" = yes ]
