#!/usr/bin/env bash
# Settings and warnings of the domain contract (DOMAIN.md) that fixtures in
# the shipped rules directory cannot show: engine.yaml's age_from (周岁
# from the day after the birthday by default, or from the birthday), and
# `check` warning when the legal calendar ends within 60 days.
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

finish
