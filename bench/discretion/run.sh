#!/usr/bin/env bash
# Sanction rules benchmark (bench/discretion/README.md).
#
#   run.sh CASEWARDEN [--quick] [--no-zen]
#
# Generates penalty decisions (gen.py) at three sizes: 100k over 1 year,
# 1M over 10 years (the same density, ten times the history) and 1M over
# 1 year (ten times the density), times `casewarden eval` over each with
# four rule sets (a no-op rule, SANCTION-RANGE alone, SANCTION-PEER alone,
# all of rules/sanctions.lua), and prints the time in the rules, decisions
# per second and the cost per decision over the no-op run. Then runs
# zen.js (zen-engine against SANCTION-RANGE on the same decisions).
# --quick uses 10k/100k instead of 100k/1M. Data goes to bench/out/discretion.
set -euo pipefail
cw=$(realpath "${1:?usage: run.sh CASEWARDEN [--quick] [--no-zen]}")
shift
quick=0
zen=1
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    --no-zen) zen=0 ;;
    *) echo "run.sh: unknown option $a" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/bench/out/discretion
mkdir -p "$out"
small=100000 big=1000000
[ "$quick" -eq 1 ] && small=10000 big=100000
reps=${REPS:-3}

# Rule sets: the shipped rules directory with only the rules under test.
ruleset() {
    local name=$1 lua=$2
    rm -rf "${out:?}/rules-$name"
    cp -r "$top/rules" "$out/rules-$name"
    rm -rf "$out/rules-$name/tests" "$out/rules-$name/"*.lua
    printf '%s\n' "$lua" > "$out/rules-$name/bench.lua"
}
ruleset base 'rule { id = "NOOP", title = "t", severity = "low", basis = "b", on = { "hearing.notified" }, check = function() end }'
ruleset range 'discretion { id = "SANCTION-RANGE", title = "t", severity = "high", basis = "b", check = "range" }'
ruleset peer 'discretion { id = "SANCTION-PEER", title = "t", severity = "low", basis = "b", check = "peer" }'
rm -rf "$out/rules-sanctions"
cp -r "$top/rules" "$out/rules-sanctions"
rm -rf "$out/rules-sanctions/tests"
find "$out/rules-sanctions" -maxdepth 1 -name '*.lua' ! -name sanctions.lua -delete

data() {
    local n=$1 years=$2 f="$out/decisions-$1-$2y.jsonl"
    [ -s "$f" ] || python3 "$here/gen.py" --decisions "$n" --years "$years" --out "$f" >&2
    echo "$f"
}

# The fastest of $reps runs: "read_s rules_s rss_mib findings"
timed() {
    local rules=$1 events=$2 best="" line r
    for _ in $(seq "$reps"); do
        "$cw" eval --rules "$rules" --events "$events" --now 2099-01-01T00:00:00+08:00 --stats --quiet \
            >"$out/findings.jsonl" 2>"$out/stats.txt"
        line=$(grep -o 'read [0-9.]* s, rules [0-9.]* s' "$out/stats.txt")
        r=$(echo "$line" | awk '{print $5}')
        if [ -z "$best" ] || awk "BEGIN{exit !($r < $(echo "$best" | awk '{print $2}'))}"; then
            best="$(echo "$line" | awk '{print $2, $5}') $(grep -o 'peak RSS [0-9.]*' "$out/stats.txt" | awk '{print $3}') $(wc -l <"$out/findings.jsonl")"
        fi
    done
    echo "$best"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "casewarden: $cw"
printf '%-26s %-10s %9s %9s %12s %12s %9s %9s\n' DATA RULES READ_S RULES_S DECISIONS/S US/DECISION RSS_MIB FINDINGS
for spec in "$small 1" "$big 10" "$big 1"; do
    set -- $spec
    f=$(data "$1" "$2")
    base_s=""
    for rs in base range peer sanctions; do
        read -r read_s rules_s rss nf <<<"$(timed "$out/rules-$rs" "$f")"
        [ "$rs" = base ] && base_s=$rules_s
        us=$(awk "BEGIN{printf \"%.2f\", ($rules_s - $base_s) * 1e6 / $1}")
        rate=$(awk "BEGIN{printf \"%.0f\", $1 / ($rules_s > 0 ? $rules_s : 1e-9)}")
        printf '%-26s %-10s %9s %9s %12s %12s %9s %9s\n' "$(basename "$f")" "$rs" "$read_s" "$rules_s" \
            "$rate" "$us" "$rss" "$nf"
    done
done
echo "US/DECISION: time in the rules per decision over the no-op rule set (parsing and storing excluded)"

if [ "$zen" -eq 1 ]; then
    [ -d "$here/node_modules/@gorules/zen-engine" ] || (cd "$here" && npm install --no-audit --no-fund >&2)
    python3 "$here/jdm.py" >"$out/psal-2025.jdm.json"
    echo
    echo "zen-engine vs casewarden, $(basename "$(data "$small" 1)"):"
    node "$here/zen.js" --events "$(data "$small" 1)" --casewarden "$cw" --rules "$out/rules-range" \
        --jdm "$out/psal-2025.jdm.json"
fi
