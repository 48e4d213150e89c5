#!/usr/bin/env bash
# A rule reload in `casewarden serve` over stored events (bench/db/README.md,
# "Reload"): N generated events (default 1M) are bulk-loaded into a private
# MariaDB, serve starts (a full rebuild), then four reloads by SIGHUP:
#
#   1. the rules as they are (nothing judged again: the baseline of a reload);
#   2. one deadline rule's period (ADM-HANDLING 30 days to 20);
#   3. one Lua file (inspection.lua: its four rules change version);
#   4. every rule (a comment added to catalogue.yaml, which every rule's
#      version covers): what a reload cost before reloads were selective,
#      measured in the same run as the others.
#
# Usage: bench/db/reload.sh BUILD_DIR [--events N] [--seed N] [--quick]
# The report goes to stdout, ending with one line
#   reload events=N one_rule_s=S one_file_s=S all_rules_s=S ratio_one=R ...
# progress goes to stderr.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/db/reload.sh BUILD_DIR [--events N] [--seed N] [--quick]

Store N generated events in a private MariaDB, start `casewarden serve`,
then reload the rules four times (SIGHUP): unchanged, one deadline rule
changed, one Lua file changed, every rule changed. Reports each reload's
time as serve logs it, the rules judged and kept, the cases and events
seen again, and the ratio of a selective reload to the full one.

  --events N   events stored (default 1000000)
  --seed N     bench/gen's seed (default 7)
  --quick      100k events

Environment: CW_BENCH_BUFFER_POOL_MB (default 4096), CW_BENCH_KEEP=1 keeps
the temporary directory. Report on stdout, progress on stderr.
EOF
}

# shellcheck source=bench/db/gen_args.sh
. "$(dirname "$0")/gen_args.sh" bench/db/reload.sh 1000000 100000 "$@"
gen_events

start_db
echo "reload: casewarden serve over $n_lines stored events (bench/gen --seed $seed, shipped rules, --now $now)"
echo "machine: $(machine)"
new_db cw_rl "$work/rules"
say "loading $n_lines events"
"$insert" --socket "$sock" --database cw_rl --events "$work/g/events.jsonl" --batch 1000 \
    --connections 4 >/dev/null || die "bench/db/insert failed"

say "starting serve (a full rebuild)"
start_serve cw_rl --now "$now"
echo "  start: $(grep -m1 'casewarden serve: rebuilt' "$serve_log" | cut -d' ' -f2- | sed 's/^casewarden serve: //')"

# reload LABEL: SIGHUP, wait for the log line, print it; sets r_s (seconds
# serve logged; 0 for an unchanged reload), r_line
nreload=0
reload() {
    local label=$1 t0
    nreload=$((nreload + 1))
    say "reload $nreload: $label"
    t0=$(now_s)
    kill -HUP "$serve_pid"
    for _ in $(seq 1 60000); do
        [ "$(grep -c 'rules reloaded from' "$serve_log")" -ge "$nreload" ] && break
        kill -0 "$serve_pid" 2>/dev/null || die "serve stopped during reload $nreload"
        sleep 0.02
    done
    r_line=$(grep 'rules reloaded from' "$serve_log" | sed -n "${nreload}p" | cut -d' ' -f2- |
        sed 's/^casewarden: info: rules reloaded from [^:]*: //')
    [ -n "$r_line" ] || die "no log line for reload $nreload"
    r_s=$(sed -n 's/.* in \([0-9.]*\) s, [0-9]* kept.*/\1/p' <<<"$r_line")
    r_s=${r_s:-0}
    printf '  %-26s %7.2f s (%.2f s to the log line)  %s\n' "$label:" "$r_s" "$(elapsed "$t0")" "$r_line"
}

reload "unchanged"
sed -i '/id = "ADM-HANDLING"/,/period = /s/period = { days = 30 },/period = { days = 20 },/' "$work/rules/deadlines.lua"
reload "one deadline rule"
one_rule=$r_s
sed -i 's/^local LIMIT = minutes(5)$/local LIMIT = minutes(1)/' "$work/rules/inspection.lua"
reload "one Lua file (4 rules)"
one_file=$r_s
echo "# bench/db/reload.sh: every rule's version covers the catalogue" >>"$work/rules/catalogue.yaml"
reload "every rule"
all_rules=$r_s
stop_serve
ratio_one=$(awk -v a="$one_rule" -v b="$all_rules" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
ratio_file=$(awk -v a="$one_file" -v b="$all_rules" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
echo "  one rule: $ratio_one of the time of every rule; one file: $ratio_file"
echo "reload events=$n_lines one_rule_s=$one_rule one_file_s=$one_file all_rules_s=$all_rules" \
    "ratio_one=$ratio_one ratio_file=$ratio_file"
