#!/usr/bin/env bash
# casewarden test --coverage: lines run and states produced by the
# fixtures, worked out by hand on a small rules directory; the shipped
# rules reach every state they can produce. Usage: coverage.sh CASEWARDEN
set -uo pipefail
cw=${1:?usage: coverage.sh CASEWARDEN}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

# The small directory: the shipped catalogue and calendar, one rule file
# (tests/cli/coverage/small.lua) and one fixture file.
cp -r "$top/rules" "$tmp/rules"
rm -f "$tmp/rules/"*.lua "$tmp/rules/tests/"*.yaml
cp "$top/tests/cli/coverage/small.lua" "$tmp/rules/"
cp "$top/tests/cli/coverage/small.yaml" "$tmp/rules/tests/"

# Lines that hold instructions (Lua places a closure at the line of its
# `end`): the chunk 4 (word's closure), 5 (rule{...}), 11 (check's
# closure), 12 (deadline{...}); word 3, 4; check 6, 7, 9, 10, 11. That is
# 9 lines: 3 4 5 6 7 9 10 11 12. The fixtures never give a note, so
# line 7 (report) never runs: 8 of 9, 88.9%.
# States: COV-A can give violation only (declares none) and never does:
# 0/1; COV-D has a lead, so warning, overdue, late and cleared, of which
# the fixtures produce late and overdue: 2/4. Together 2/5, 40.0%.
check "coverage text" 0 "^coverage: lines 8/9 88.9%, states 2/5 40.0%$" -- "$cw" test "$tmp/rules" --coverage
grep -qE "small.lua +8/9 +88.9%  not run: 7$" "$tmp/out" && ok || { bad "line coverage of small.lua"; cat "$tmp/out"; }
grep -qE "^  COV-A +0/1 +missing: violation" "$tmp/out" && ok || bad "COV-A states"
grep -qE "^  COV-D +2/4  overdue late  missing: warning cleared" "$tmp/out" && ok || bad "COV-D states"
grep -q "^2 passed, 0 failed$" "$tmp/out" && ok || bad "test counts with coverage"

"$cw" test "$tmp/rules" --coverage --format json >"$tmp/cov.json" 2>"$tmp/err"
python3 - "$tmp/cov.json" <<'PY' && ok || bad "coverage json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] == 2 and d["failed"] == 0
f = d["files"][0]
assert f["file"].endswith("small.lua") and f["lines"] == 9 and f["run"] == 8 and f["not_run"] == [7], f
r = {x["rule"]: x for x in d["rules"]}
assert r["COV-A"]["can"] == ["violation"] and r["COV-A"]["produced"] == []
assert r["COV-D"]["can"] == ["warning", "overdue", "late", "cleared"], r["COV-D"]
assert r["COV-D"]["produced"] == ["overdue", "late"] and r["COV-D"]["missing"] == ["warning", "cleared"]
assert d["lines"] == {"total": 9, "run": 8, "percent": 88.9}, d["lines"]
assert d["states"] == {"total": 5, "produced": 2, "percent": 40.0}, d["states"]
PY

# --min: the lower of the two percentages (40.0) decides
check "min met" 0 "" -- "$cw" test "$tmp/rules" --coverage --min 40
check "min missed" 1 "coverage 40.0% is below --min 41%" -- "$cw" test "$tmp/rules" --coverage --min 41
check "min needs coverage" 2 "--min needs --coverage" -- "$cw" test "$tmp/rules" --min 10
check "bad min" 2 "--min must be a percentage" -- "$cw" test "$tmp/rules" --coverage --min lots

# A fixture for the note: line 7 runs and COV-A gives its violation.
cat >> "$tmp/rules/tests/small.yaml" <<'YAML'
  - name: a note is reported
    now: 2026-03-20T00:00:00+08:00
    events:
      - {type: case.filed, at: "2026-03-10T10:00:00+08:00", data: {note: x}}
    expect:
      - {rule: COV-A, state: violation}
YAML
check "more fixtures, more coverage" 0 "^coverage: lines 9/9 100.0%, states 3/5 60.0%$" -- "$cw" test "$tmp/rules" --coverage

# the shipped rules: every state each can produce is produced by a fixture
"$cw" test "$top/rules" --coverage --format json >"$tmp/ship.json" 2>"$tmp/err"
python3 - "$tmp/ship.json" <<'PY' && ok || bad "shipped rules below 100% of their states"
import json, sys
d = json.load(open(sys.argv[1]))
missing = [(r["rule"], r["missing"]) for r in d["rules"] if r["missing"]]
assert d["failed"] == 0 and not missing and d["states"]["percent"] == 100.0, missing
assert d["states"]["total"] > 50 and d["lines"]["total"] > 500
PY
finish
