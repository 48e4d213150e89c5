#!/usr/bin/env bash
# casewarden explain: the reasoning behind a case's findings, step by
# step. Usage: explain.sh PATH/TO/casewarden
set -uo pipefail
cw=${1:?usage: explain.sh CASEWARDEN}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
d="$top/tests/cli/explain"
now=--now=2026-07-01T00:00:00+08:00
x() { "$cw" explain --rules "$top/rules" "$now" "$@"; }

check "help" 0 "usage: casewarden explain" -- "$cw" explain --help
check "needs args" 2 "--rules, --events \(or --config\) and --case are required" -- "$cw" explain --rules "$top/rules"
check "bad format" 2 "--format must be text or json" -- x --events "$d/deadline.jsonl" --case X1 --format xml
check "unknown rule" 1 "no rule NOPE" -- x --events "$d/deadline.jsonl" --case X1 --rule NOPE

# A deadline over the Qingming and Labour Day holidays with one lawful
# extension and one refused in part (45 days asked, 30 allowed): accepted
# Mon 2026-03-02, 30 + 30 + 30 = 90 days -> Sun 05-31, rolled over to Mon
# 06-01; decided 06-03: late.
x --events "$d/deadline.jsonl" --case X1 --rule ADM-HANDLING >"$tmp/dl" 2>&1
for want in \
    "规则 ADM-HANDLING «行政案件办理超期» \(.*/rules/deadlines.lua:[0-9]+\)" \
    "发现 \[late\] 对象 \(本案\)" \
    "1\. 所依据的事件: a1 \(受案, 2026-03-02 09:30\); x1 \(延长期限, 2026-03-30 10:00\); x2 \(延长期限, 2026-04-20 10:00\); d1 \(作出处理决定, 2026-06-03 10:00\)" \
    "2\. 起算: 受案 2026-03-02 09:30 \(事件 a1\)" \
    "3\. 期限: 基本 30 日$" \
    "4\. 延长 30 日 \(事件 x1, 2026-03-30 10:00, 第 1 次\), 计入期限" \
    "5\. 延长 45 日 \(事件 x2, 2026-04-20 10:00, 第 2 次\) 超出法定限度, 只计入 30 日" \
    "6\. 计入的延长共 60 日, 期限合计 90 日" \
    "经过法定节假日 8 日 \(2026-04-04, 2026-04-05, 2026-04-06, 2026-05-01, 2026-05-02, 2026-05-03, 2026-05-04, 2026-05-05\); 调休上班日 1 日: 2026-05-09 \(星期六\)" \
    "期间届满日 2026-05-31 \(星期日\) 不是工作日, 顺延至其后第一个工作日 2026-06-01 \(星期一\)" \
    "到期: 2026-06-01 23:59:59; 提前 5 日 预警, 自 2026-05-27 23:59:59 起为 warning" \
    "完成: 事件 d1 于 2026-06-03 10:00, 晚于到期时间 → late" \
    "发现 \[violation\] 对象 extension: 一次延长 45 日, 法定每次至多延长 30 日, 按 30 日计"; do
    grep -qE -- "$want" "$tmp/dl" && ok || { bad "deadline explain lacks /$want/"; sed 's/^/    /' "$tmp/dl"; }
done

# before the warning window the same deadline has no finding, and says so
x --events "$d/deadline.jsonl" --case X1 --rule ADM-HANDLING --now 2026-03-10T00:00:00+08:00 >"$tmp/early" 2>&1
grep -q "无发现 对象 (本案):" "$tmp/early" && grep -q "尚无完成事件, 未到预警期 → 暂无发现" "$tmp/early" && ok ||
    { bad "no finding yet not explained"; cat "$tmp/early"; }

# JSON: the same steps, machine-readable
x --events "$d/deadline.jsonl" --case X1 --rule ADM-HANDLING --format json >"$tmp/dl.json" 2>&1
python3 - "$tmp/dl.json" <<'PY' && ok || bad "explain json"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["rules"][0]
assert d["case"] == "X1" and r["rule"] == "ADM-HANDLING" and r["file"].endswith("/rules/deadlines.lua"), r
f = {x["subject"]: x for x in r["findings"]}
late = f[""]
assert late["state"] == "late" and late["due"] == "2026-06-01T23:59:59+08:00", late
kinds = [s["kind"] for s in late["steps"]]
assert kinds == ["events", "start", "period", "extension", "refused", "period", "calendar",
                 "rollover", "due", "met"], kinds
assert f["extension"]["state"] == "violation"
PY

# A sanction: offence under the 2012 law (2025-12-20) measured by the 2012
# table, the 2025 one named as not lighter; an offence in 2026 by 2025's.
x --events "$d/sanction.jsonl" --case S1 --rule SANCTION-RANGE >"$tmp/s1" 2>&1
grep -q "所用基准: 依据 2012版裁量基准 PSAL-43 .*拘留 5-10 日并处罚款 200-500 元 (治安管理处罚法(2012修正) 第43条); 适用理由: 违法行为发生于 2025-12-20, 适用行为时施行的 2012版; 决定时施行的 2025版对该情节不轻于旧法, 不适用" "$tmp/s1" &&
    grep -q "发现 \[violation\] 对象 (本案): P1 (2026-03-03 决定) 拘留 5 日、罚款 100 元: 罚款 100 元低于 200-500 元的幅度" "$tmp/s1" &&
    grep -q "处罚决定 s2 (2026-03-03): P1" "$tmp/s1" && ok || { bad "2012 table not explained"; cat "$tmp/s1"; }
x --events "$d/sanction.jsonl" --case S2 --rule SANCTION-RANGE >"$tmp/s2" 2>&1
grep -q "所用基准: 依据 2025版裁量基准 PSAL-51 .*拘留 5-10 日并处罚款 500-1000 元 (治安管理处罚法(2025修订) 第51条); 适用理由: 违法行为发生于 2026-02-20, 适用行为时施行的 2025版$" "$tmp/s2" &&
    grep -q "罚款 100 元低于 500-1000 元的幅度" "$tmp/s2" && ok || { bad "2025 table not explained"; cat "$tmp/s2"; }
x --events "$d/sanction.jsonl" --case S1 --rule SANCTION-PEER >"$tmp/peer" 2>&1
grep -q "同类案件不足 20 件, 不作比较" "$tmp/peer" && grep -q "无发现: 规则对本案判断 1 次, 未发现问题" "$tmp/peer" &&
    ok || { bad "peers not explained"; cat "$tmp/peer"; }

# An age at the 14th birthday (still 13: from the day after) and the day after (14)
x --events "$d/sanction.jsonl" --case M1 --rule MINOR-UNDER14 >"$tmp/m1" 2>&1
grep -q "P1 出生于 2012-03-01, 至 2026-03-01 为 13 周岁 (周岁自生日的次日起算, 法释〔2006〕1号 第2条); 当日为其生日" "$tmp/m1" &&
    grep -q "发现 \[violation\]" "$tmp/m1" && ok || { bad "age at the birthday"; cat "$tmp/m1"; }
x --events "$d/sanction.jsonl" --case M2 --rule MINOR-UNDER14 >"$tmp/m2" 2>&1
grep -q "P3 出生于 2012-03-01, 至 2026-03-02 为 14 周岁" "$tmp/m2" && grep -q "无发现: 规则对本案判断" "$tmp/m2" &&
    ok || { bad "age the day after the birthday"; cat "$tmp/m2"; }

# a Lua check's conditions, as it notes them with explain()
x --events "$top/examples/events.jsonl" --case A370103202600055 --rule INTERROGATION-2OFFICERS >"$tmp/lua" 2>&1
grep -q "询问 XW20260408-01 的民警人数: 1$" "$tmp/lua" && grep -q "在执法办案场所: 否$" "$tmp/lua" &&
    grep -q "发现 \[violation\]" "$tmp/lua" && ok || { bad "Lua conditions"; cat "$tmp/lua"; }

# a rule the case never reached, and a case that does not exist
check "rule not reached" 0 "无发现: 本案没有规则所需或所监听的事件" -- x --events "$d/deadline.jsonl" --case X1 --rule MINOR-UNDER14
check "unknown case" 0 "事件中没有这个案件" -- x --events "$d/deadline.jsonl" --case NOPE
# the rules that said nothing are counted, not listed
check "silent rules counted" 0 "其余 [0-9]+ 条规则未判断本案" -- x --events "$d/deadline.jsonl" --case X1
finish
