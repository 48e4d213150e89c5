#!/usr/bin/env bash
# Per-unit overrides (rules/overrides.yaml): a unit prefix changes a rule's
# parameters without copying it, the most specific prefix wins, a
# parameter the rule does not expose is refused with file:line.
# Usage: overrides.sh CASEWARDEN
set -uo pipefail
cw=${1:?usage: overrides.sh CASEWARDEN}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

cp -r "$top/rules" "$tmp/rules"
cat > "$tmp/rules/overrides.yaml" <<'YAML'
overrides:
  - unit: "3701"
    rule: ADM-HANDLING
    set: {period: {days: 20}, lead: {days: 3}, severity: critical}
  - unit: "370102"
    rule: ADM-HANDLING
    set: {period: {days: 25}}
  - unit: "370103"
    rule: ADM-HANDLING
    set: {enabled: false}
  - unit: "3701"
    rule: FT-48H
    set: {lead_hours: 12}
YAML
ev() { printf '{"id":"%s","type":"case.accepted","case":"%s","unit":"%s","at":"2026-03-02T09:30:00+08:00","data":{"kind":"administrative","cause":"PSAL-51"}}\n' "$@"; }
{
    ev a1 U1 370102     # 370102 wins over 3701: 25 days -> Fri 03-27
    ev a2 U2 370101     # 3701: 20 days -> Sun 03-22, rolled over to Mon 03-23, critical
    ev a3 U3 370200     # no override: 30 days -> Wed 04-01
    ev a4 U4 370103     # disabled there
    ev a5 U5 37010299   # under 370102 too
} > "$tmp/ev.jsonl"
"$cw" eval --rules "$tmp/rules" --events "$tmp/ev.jsonl" --now 2026-05-01T00:00:00+08:00 --quiet >"$tmp/out" 2>&1
python3 - "$tmp/out" <<'PY' && ok || { bad "overrides in eval"; cat "$tmp/out"; }
import json, sys
f = {x["case"]: x for x in map(json.loads, open(sys.argv[1])) if x["rule"] == "ADM-HANDLING"}
assert f["U1"]["due"] == "2026-03-27T23:59:59+08:00" and f["U1"]["severity"] == "high", f["U1"]
assert f["U1"]["override"] == {"unit": "370102", "at": "overrides.yaml:5"}, f["U1"]
assert f["U5"]["due"] == "2026-03-27T23:59:59+08:00" and f["U5"]["override"]["unit"] == "370102"
assert f["U2"]["due"] == "2026-03-23T23:59:59+08:00" and f["U2"]["severity"] == "critical", f["U2"]
assert f["U2"]["override"] == {"unit": "3701", "at": "overrides.yaml:2"}, f["U2"]
assert f["U3"]["due"] == "2026-04-01T23:59:59+08:00" and "override" not in f["U3"], f["U3"]
assert "U4" not in f, f.get("U4")
PY

# the warning window moves with the lead: 3 days at 3701, 5 elsewhere
"$cw" eval --rules "$tmp/rules" --events "$tmp/ev.jsonl" --now 2026-03-21T00:00:00+08:00 --quiet >"$tmp/warn" 2>&1
grep -q '"case":"U2".*"state":"warning"' "$tmp/warn" && ! grep -q '"case":"U3"' "$tmp/warn" && ok ||
    { bad "lead override"; cat "$tmp/warn"; }

# a Lua rule's params: FT-48H warns 12 hours ahead under 3701, 6 elsewhere
ft() {
    printf '{"id":"%s1","type":"case.accepted","case":"%s","unit":"%s","at":"2026-03-02T09:30:00+08:00","data":{"kind":"administrative","cause":"PSAL-51"}}\n' "$1" "$1" "$2"
    printf '{"id":"%s2","type":"case.fasttrack","case":"%s","unit":"%s","at":"2026-03-02T09:40:00+08:00","data":{}}\n' "$1" "$1" "$2"
    printf '{"id":"%s3","type":"person.added","case":"%s","unit":"%s","at":"2026-03-02T09:41:00+08:00","data":{"person":"P1","role":"suspect","birth_date":"1990-01-01","consent":true}}\n' "$1" "$1" "$2"
    printf '{"id":"%s4","type":"summons.started","case":"%s","unit":"%s","at":"2026-03-02T10:00:00+08:00","data":{"person":"P1"}}\n' "$1" "$1" "$2"
}
{ ft F1 370101; ft F2 370200; } > "$tmp/ft.jsonl"
"$cw" eval --rules "$tmp/rules" --events "$tmp/ft.jsonl" --now 2026-03-03T23:00:00+08:00 --quiet >"$tmp/ft" 2>&1
grep -q '"rule":"FT-48H","case":"F1".*"state":"warning".*"override":{"unit":"3701","at":"overrides.yaml:11"}' "$tmp/ft" &&
    ! grep -q '"rule":"FT-48H","case":"F2"' "$tmp/ft" && ok || { bad "Lua params override"; cat "$tmp/ft"; }

# check lists the parameters in effect per unit
check "check lists overrides" 0 "per-unit parameters" -- "$cw" check --rules "$tmp/rules"
grep -qE '^    \(other units\) +severity=high period=\{"days":30\} lead=\{"days":5\}$' "$tmp/out" &&
    grep -qE '^    3701 +severity=critical period=\{"days":20\} lead=\{"days":3\}  \(.*overrides.yaml:2\)$' "$tmp/out" &&
    grep -qE '^    370102 +severity=high period=\{"days":25\} lead=\{"days":5\}  \(.*overrides.yaml:5\)$' "$tmp/out" &&
    grep -qE '^    370103 +disabled' "$tmp/out" &&
    grep -qE '^    3701 +severity=high lead_hours=12' "$tmp/out" && ok || { bad "check's per-unit list"; cat "$tmp/out"; }

# explain names the override, and the one that disables
check "explain names the override" 0 "按单位 370102 的覆盖参数 \(overrides.yaml:5\) 执行: \{\"period\":\{\"days\":25\}\}" -- \
    "$cw" explain --rules "$tmp/rules" --events "$tmp/ev.jsonl" --now 2026-05-01T00:00:00+08:00 --case U1 --rule ADM-HANDLING
grep -q "3. 期限: 基本 25 日" "$tmp/out" && ok || bad "explain: the overridden period"
check "explain: disabled" 0 "本案单位 370103 按覆盖参数 \(.*overrides.yaml:8, 单位 370103\) 停用本规则" -- \
    "$cw" explain --rules "$tmp/rules" --events "$tmp/ev.jsonl" --now 2026-05-01T00:00:00+08:00 --case U4 --rule ADM-HANDLING

# diff shows what the overrides file would change: the same rules without it
cp -r "$tmp/rules" "$tmp/plain" && rm "$tmp/plain/overrides.yaml"
check "diff of an overrides file" 0 "^0 added, 1 removed, 3 changed, 1 unchanged" -- "$cw" diff --rules "$tmp/rules" --against "$tmp/plain" \
    --events "$tmp/ev.jsonl" --now 2026-05-01T00:00:00+08:00
grep -q "^~ ADM-HANDLING U2 - overdue due 2026-04-01T23:59:59+08:00 -> 2026-03-23T23:59:59+08:00: .*\[单位 3701 覆盖参数 overrides.yaml:2\]" "$tmp/out" &&
    grep -q "^- ADM-HANDLING U4 " "$tmp/out" && ok || { bad "diff does not show the overrides"; cat "$tmp/out"; }

# a bad override is refused at load with file:line
cp -r "$top/rules" "$tmp/bad"
cat > "$tmp/bad/overrides.yaml" <<'YAML'
overrides:
  - unit: "3701"
    rule: ADM-HANDLING
    set:
      perod: {days: 20}
  - unit: "3701"
    rule: FT-48H
    set: {lead_minutes: 12}
  - unit: "3702"
    rule: NOPE
    set: {severity: high}
  - unit: "37x"
    rule: ADM-HANDLING
    set: {severity: urgent}
YAML
check "bad overrides refused" 2 "not loaded" -- "$cw" eval --rules "$tmp/bad" --events "$tmp/ev.jsonl"
grep -q "overrides.yaml:5: rule ADM-HANDLING for unit 3701: 'perod' is not a parameter the rule exposes (its parameters: extension, lead, period, start, stop)" "$tmp/out" && ok ||
    { bad "unexposed model parameter"; cat "$tmp/out"; }
grep -q "overrides.yaml:8: rule FT-48H for unit 3701: 'lead_minutes' is not a parameter the rule exposes (its params: lead_hours)" "$tmp/out" && ok ||
    bad "unexposed Lua parameter"
grep -q "overrides.yaml:9: no rule NOPE" "$tmp/out" && ok || bad "unknown rule"
grep -q "overrides.yaml:12: 'unit' must be a unit prefix" "$tmp/out" && ok || bad "bad unit"
printf 'overrides:\n  - {unit: "3701", rule: ADM-HANDLING, set: {severity: urgent}}\n  - {unit: "3701", rule: ADM-HANDLING, set: {period: {weeks: 1}}}\n' > "$tmp/bad/overrides.yaml"
check "bad severity, twice" 1 "overrides.yaml:2: severity must be low, medium, high or critical" -- "$cw" check --rules "$tmp/bad"
grep -q "overrides.yaml:3: rule ADM-HANDLING for unit 3701 is overridden twice (also line 2)" "$tmp/out" && ok || bad "twice"
printf 'overrides:\n  - {unit: "3701", rule: ADM-HANDLING, set: {period: {weeks: 1}}}\n' > "$tmp/bad/overrides.yaml"
check "a value the model refuses" 1 "overrides.yaml:2: rule ADM-HANDLING for unit 3701: .*period: unknown key 'weeks'" -- "$cw" check --rules "$tmp/bad"

# the shipped file overrides nothing
check "shipped overrides" 0 "^32 rules, 0 problems$" -- "$cw" check --rules "$top/rules"
finish
