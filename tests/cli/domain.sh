#!/usr/bin/env bash
# Settings and warnings of the domain contract (DOMAIN.md) that fixtures in
# the shipped rules directory cannot show: engine.yaml's age_from (周岁
# from the day after the birthday by default, or from the birthday), and
# `check` warning when the legal calendar ends within 60 days; and
# `casewarden sanction`, the suggestion before a decision (智能量罚).
# Usage: domain.sh PATH/TO/casewarden
set -uo pipefail
cw=${1:?usage: domain.sh CASEWARDEN}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

# --- the calendar's end: warned within 60 days, a warning and no problem ---
check "check 60 days before the calendar ends warns" 0 \
    "calendar: warning: 法定节假日日历止于 2026-12-31, 还有 60 日.*calendar/2027.yaml" -- \
    "$cw" check --rules "$top/rules" --now 2026-11-01T00:00:00+08:00
grep -qE "^[0-9]+ rules, 0 problems$" "$tmp/out" && ok || bad "the calendar warning counted as a problem"
check "check 61 days before says nothing" 0 "" -- \
    "$cw" check --rules "$top/rules" --now 2026-10-31T23:59:59+08:00
grep -q "calendar: warning" "$tmp/out" && bad "warned 61 days before the end" || ok
check "check after the end says it is past" 0 "已过 1 日" -- \
    "$cw" check --rules "$top/rules" --now 2027-01-01T08:00:00+08:00

# --- age_from ---
# A boy born 2012-05-25 fined for an offence on his 14th birthday: under 14
# as the courts count (the default), 14 when the birthday counts.
cat >"$tmp/minor.jsonl" <<'JSONL'
{"id":"m1","type":"case.accepted","case":"A1","unit":"370102","at":"2026-05-25T20:00:00+08:00","data":{"kind":"administrative","cause":"PSAL-59","offence_at":"2026-05-25T17:30:00+08:00"}}
{"id":"m2","type":"person.added","case":"A1","unit":"370102","at":"2026-05-25T20:10:00+08:00","data":{"person":"P1","role":"suspect","birth_date":"2012-05-25"}}
{"id":"m3","type":"penalty.decided","case":"A1","unit":"370102","at":"2026-05-27T10:00:00+08:00","data":{"person":"P1","cause":"PSAL-59","circumstance":"normal","fine":200}}
JSONL
check "default: on the 14th birthday still 13" 0 \
    'MINOR-UNDER14.*13 周岁 \(周岁自生日的次日起算, 法释〔2006〕1号 第2条\)' -- \
    "$cw" eval --rules "$top/rules" --events "$tmp/minor.jsonl" --now 2026-06-01T00:00:00+08:00
rm -rf "$tmp/birthday" && cp -r "$top/rules" "$tmp/birthday"
sed -i 's/^age_from: day_after_birthday$/age_from: birthday/' "$tmp/birthday/engine.yaml"
grep -q "^age_from: birthday$" "$tmp/birthday/engine.yaml" && ok || bad "engine.yaml has no age_from line to change"
check "age_from birthday: 14 on the birthday" 0 "" -- \
    "$cw" eval --rules "$tmp/birthday" --events "$tmp/minor.jsonl" --now 2026-06-01T00:00:00+08:00
grep -q MINOR-UNDER14 "$tmp/out" && bad "age_from: birthday still finds the boy under 14" || ok
# ... and a day younger, under 14 either way, the message naming the setting
sed 's/2012-05-25/2012-05-26/' "$tmp/minor.jsonl" >"$tmp/minor2.jsonl"
check "age_from birthday: the message names the convention" 0 \
    'MINOR-UNDER14.*13 周岁 \(周岁自生日当日起算, 按本地设置 age_from: birthday\)' -- \
    "$cw" eval --rules "$tmp/birthday" --events "$tmp/minor2.jsonl" --now 2026-06-01T00:00:00+08:00
rm -rf "$tmp/badage" && cp -r "$top/rules" "$tmp/badage"
sed -i 's/^age_from: day_after_birthday$/age_from: eve/' "$tmp/badage/engine.yaml"
check "an unknown age_from is refused with file:line" 1 \
    "engine.yaml:[0-9]+: age_from must be day_after_birthday" -- "$cw" check --rules "$tmp/badage"

# --- casewarden sanction ---
sc() { "$cw" sanction --rules "$top/rules" "$@"; }
# a 2025 theft decided in 2026: the 2025 row is lighter and applies
check "sanction: the lighter newer law applies" 0 "处罚幅度: 依据 2025版裁量基准 PSAL-58.*拘留 5-10 日或者罚款 2000 元以下.*较轻, 适用新法 \(从旧兼从轻" -- \
    sc --cause PSAL-58 --offence-at 2025-12-20 --decided-at 2026-01-08T10:00:00+08:00
grep -q "标准处罚 (幅度中间值): 罚款 1000 元" "$tmp/out" && ok || bad "sanction: no standard penalty: $(cat "$tmp/out")"
# a 2025 assault decided in 2026: the 2025 row is heavier, the 2012 one applies
check "sanction: the law at the act when the newer is not lighter" 0 "依据 2012版裁量基准 PSAL-43.*不轻于行为时的 2012版" -- \
    sc --cause PSAL-51 --offence-at 2025-12-20 --decided-at 2026-01-08
# decided the same year: no comparison to make
check "sanction: the law at the act" 0 "适用行为时施行的 2025版" -- \
    sc --cause PSAL-51 --offence-at 2026-03-01 --decided-at 2026-03-05
# the factors imply the heavier tier, and fast track is then excluded
check "sanction: the tier the factors imply" 0 "应当认定为较重情节" -- \
    sc --cause PSAL-51 --factors multiple_attackers --offence-at 2026-03-01 --decided-at 2026-03-05
grep -q "拘留 10-15 日并处罚款 1000-2000 元" "$tmp/out" && ok || bad "sanction: the heavier range is not the one given"
grep -q "不适用快速办理" "$tmp/out" && ok || bad "sanction: fast track not excluded for 10-15 days"
# a boy on his 14th birthday (still 13): no penalty at all
sc --cause PSAL-59 --offence-at 2026-05-25T17:30:00+08:00 --decided-at 2026-05-27 --birth-date 2012-05-25 \
    --format json >"$tmp/out" 2>&1
jq -e '(.advice[] | select(.rule == "MINOR-UNDER14") | .answer) | .punishable == false and .age == 13' "$tmp/out" >/dev/null &&
    ok || bad "sanction: a 13-year-old is punishable: $(head -c 400 "$tmp/out")"
jq -e '(.advice[] | select(.rule == "DETENTION-EXEMPT") | .answer.executable) == false' "$tmp/out" >/dev/null &&
    ok || bad "sanction: an under-14 may be detained"
# a 70-year-old with serious_impact: under the 2025 law detention may be executed
sc --cause PSAL-51 --circumstance heavier --factors serious_impact --offence-at 2026-03-01 \
    --decided-at 2026-03-05 --birth-date 1950-01-01 --format json >"$tmp/out" 2>&1
jq -e '(.advice[] | select(.rule == "DETENTION-EXEMPT") | .answer.executable) == true' "$tmp/out" >/dev/null &&
    ok || bad "sanction: serious_impact does not lift the exemption of a 76-year-old under the 2025 law"
# ... and the same act in 2025 keeps the 2012 law, which has no exception
sc --cause PSAL-51 --circumstance heavier --factors serious_impact --offence-at 2025-12-20 \
    --decided-at 2026-01-05 --birth-date 1950-01-01 --format json >"$tmp/out" 2>&1
jq -e '(.advice[] | select(.rule == "DETENTION-EXEMPT") | .answer.executable) == false' "$tmp/out" >/dev/null &&
    ok || bad "sanction: a 2025 act of a 75-year-old may be detained"
# the hearing threshold of the law at the decision
sc --cause PSAL-59 --circumstance heavier --offence-at 2025-12-20 --decided-at 2025-12-30 --format json >"$tmp/out" 2>&1
jq -e '(.advice[] | select(.rule == "FT-HEARING") | .answer.threshold) == 2000' "$tmp/out" >/dev/null &&
    ok || bad "sanction: the 2012 hearing threshold is not 2000"
# without --events there are no peers; with them there are
jq -e '(.advice[] | select(.rule == "SANCTION-PEER") | .answer.available) == false' "$tmp/out" >/dev/null &&
    ok || bad "sanction: peers without events"
check "sanction: peers from an event file" 0 "同类处罚.*23 件: 罚款中位数 500 元 \(P5-P95 300-1000 元\)" -- \
    sc --cause PSAL-58 --offence-at 2026-05-28 --decided-at 2026-05-30 --unit 370102 \
    --events "$top/examples/events.jsonl" --now 2026-06-01T00:00:00+08:00
# a rule's advise that fails is named with its error; the others answer
rm -rf "$tmp/zz" && cp -r "$top/rules" "$tmp/zz"
cat >"$tmp/zz/zz.lua" <<'LUA'
rule {
  id = "ZZ-ADVICE", title = "t", severity = "low", basis = "b", on = { "case.filed" },
  check = function(case, ev) end,
  advise = function(q) error("no luck for " .. q.cause) end,
}
LUA
"$cw" sanction --rules "$tmp/zz" --cause PSAL-51 --offence-at 2026-03-01 --format json >"$tmp/out" 2>&1
jq -e '(.advice[] | select(.rule == "ZZ-ADVICE") | .error | test("zz.lua:4: no luck for PSAL-51")) and
       (.advice[] | select(.rule == "SANCTION-RANGE") | .answer.found)' "$tmp/out" >/dev/null &&
    ok || bad "sanction: a failing advise: $(head -c 600 "$tmp/out")"
# refusals
check "sanction: --cause is required" 2 "cause and --offence-at are required" -- sc --offence-at 2026-03-01
check "sanction: a bad time names the field" 1 "查询字段 offence_at" -- sc --cause PSAL-51 --offence-at yesterday
check "sanction: an unknown factor is refused" 1 "'hooligan' 不是目录中 penalty.decided.factors 的取值" -- \
    sc --cause PSAL-51 --offence-at 2026-03-01 --factors hooligan
printf '%s\n' '{"cause":"PSAL-51","offence_at":"2026-03-01"}' '{"offence_at":"2026-03-01"}' >"$tmp/q.jsonl"
check "sanction --queries: one answer a line, errors as JSON" 1 "" -- sc --queries "$tmp/q.jsonl"
[ "$(grep -c . "$tmp/out")" -eq 2 ] && grep -q '^{"error":"查询字段 cause' "$tmp/out" && ok ||
    bad "sanction --queries: $(cat "$tmp/out")"

finish
