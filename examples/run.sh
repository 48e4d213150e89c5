#!/usr/bin/env bash
# Check what examples/README.md says: `casewarden eval` over events.jsonl as
# of 2026-06-01 00:00 (+08:00) gives exactly the findings of expected.tsv,
# and `casewarden sanction` gives the suggestions the README shows.
# Usage: examples/run.sh [PATH/TO/casewarden]   (default: casewarden in PATH)
# Ends with "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cw=${1:-casewarden}
here=$(cd "$(dirname "$0")" && pwd)
rules="$here/../rules"
now=2026-06-01T00:00:00+08:00
out=$(mktemp -d /tmp/cw-examples-XXXXXX)
trap 'rm -rf "$out"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# --- the findings ---
"$cw" eval --rules "$rules" --events "$here/events.jsonl" --now "$now" --quiet >"$out/f.jsonl"
sed -n 's/^{"rule":"\([^"]*\)","case":"\([^"]*\)","subject":"\([^"]*\)",.*"state":"\([^"]*\)".*/\1	\2	\3	\4/p' \
    "$out/f.jsonl" | awk -F'\t' 'BEGIN{OFS="\t"} {if ($3=="") $3="-"; print}' | sort >"$out/got.tsv"
if sort "$here/expected.tsv" | cmp -s - "$out/got.tsv"; then ok; else
    bad "eval: the findings differ from expected.tsv (< expected, > found)"
    sort "$here/expected.tsv" | diff - "$out/got.tsv" | sed 's/^/    /'
fi

# --- the suggestions (README, "Suggestions") ---
# suggest NAME PATTERN SANCTION-ARGS...: the text answer matches PATTERN
suggest() {
    local name=$1 pattern=$2
    shift 2
    if "$cw" sanction --rules "$rules" --now "$now" "$@" >"$out/s.txt" 2>&1 &&
        grep -qE -- "$pattern" "$out/s.txt"; then ok; else
        bad "sanction $name: no /$pattern/ in:"; sed 's/^/    /' "$out/s.txt" | head -30
    fi
}
suggest "theft of 2025 decided in 2026" \
    "依据 2025版裁量基准 PSAL-58 .*较轻, 适用新法 \(从旧兼从轻" \
    --cause PSAL-58 --offence-at 2025-12-20T19:00:00+08:00 --decided-at 2026-01-08T10:00:00+08:00
grep -q "标准处罚 (幅度中间值): 罚款 1000 元" "$out/s.txt" && ok || bad "theft: standard penalty"
suggest "assault of 2025 decided in 2026" "依据 2012版裁量基准 PSAL-43 .*不轻于行为时的 2012版" \
    --cause PSAL-51 --offence-at 2025-12-27 --decided-at 2026-01-08
suggest "group assault" "应当认定为较重情节" --cause PSAL-51 --factors multiple_attackers \
    --offence-at 2026-03-14T00:50:00+08:00 --decided-at 2026-03-20
grep -q "拘留 10-15 日并处罚款 1000-2000 元" "$out/s.txt" && ok || bad "group assault: heavier range"
suggest "the 70th birthday (A370112202600031)" "【对依法不执行行政拘留的人执行拘留】.*" \
    --cause PSAL-51 --offence-at 2026-03-22T08:40:00+08:00 --decided-at 2026-03-27 --birth-date 1956-03-22
grep -q "行政拘留可以执行" "$out/s.txt" && ok || bad "70th birthday: still 69, detention may be executed"
suggest "the 14th birthday (A370104202600066)" "13 周岁 \(周岁自生日的次日起算.*不予处罚" \
    --cause PSAL-59 --offence-at 2026-05-25T17:30:00+08:00 --decided-at 2026-05-27 --birth-date 2012-05-25
suggest "a theft at Jinan with its peers" "23 件: 罚款中位数 500 元 \(P5-P95 300-1000 元\)" \
    --cause PSAL-58 --offence-at 2026-05-28 --decided-at 2026-05-30 --unit 370102 \
    --events "$here/events.jsonl"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
