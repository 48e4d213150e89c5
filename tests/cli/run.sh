#!/usr/bin/env bash
# Command-line behaviour of the casewarden binary: exit codes, error
# lines for bad input, help on every verb. Usage: run.sh PATH/TO/casewarden
set -uo pipefail
cw=${1:?usage: run.sh CASEWARDEN}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

good='{"id":"g1","type":"case.accepted","case":"C1","unit":"370102","at":"2026-03-02T09:30:00+08:00","data":{"kind":"criminal"}}'
printf '%s\n' "$good" \
  '{"id":"b1","type":"case.accepted","case":"C2","unit":"370102","at":"2026-03-02T09:30:00+08:00","data":{"kind":"criminal"}' \
  '{"id":"b2","type":"case.exploded","case":"C3","unit":"370102","at":"2026-03-02T09:30:00+08:00"}' \
  '{"id":"b3","type":"case.accepted","unit":"370102","at":"2026-03-02T09:30:00+08:00","data":{"kind":"criminal"}}' \
  '{"id":"b4","type":"case.accepted","case":"C4","unit":"370102","at":"2026-03-02 09:30","data":{"kind":"criminal"}}' \
  '{"id":"g2","type":"case.filed","case":"C1","unit":"370102","at":"2026-03-09T10:00:00+08:00"}' \
  > "$tmp/mixed.jsonl"
now=--now=2026-03-20T00:00:00+08:00

check "help" 0 "usage: casewarden VERB" -- "$cw" --help
check "no verb" 2 "usage" -- "$cw"
check "unknown verb" 2 "unknown verb 'frobnicate'" -- "$cw" frobnicate
for verb in eval test check diff; do
    check "$verb --help" 0 "usage: casewarden $verb" -- "$cw" "$verb" --help
    check "help $verb" 0 "usage: casewarden $verb" -- "$cw" help "$verb"
done
check "eval needs args" 2 "--rules and --events are required" -- "$cw" eval
check "eval bad --now" 2 "--now '2026-13-01' is not an RFC 3339" -- "$cw" eval --rules "$top/rules" --events "$tmp/mixed.jsonl" --now 2026-13-01
check "eval bad format" 2 "--format must be json or table" -- "$cw" eval --rules "$top/rules" --events "$tmp/mixed.jsonl" "$now" --format xml
check "eval missing file" 2 "nope.jsonl" -- "$cw" eval --rules "$top/rules" --events "$tmp/nope.jsonl" "$now"
check "eval missing rules" 2 "not loaded" -- "$cw" eval --rules "$tmp/norules" --events "$tmp/mixed.jsonl" "$now"

# Bad lines are reported one each with file:line, id and field, and skipped.
"$cw" eval --rules "$top/rules" --events "$tmp/mixed.jsonl" "$now" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 0 ] && ok || bad "eval with bad lines: exit $st, expected 0"
grep -q "mixed.jsonl:2: event b1: " "$tmp/err" && ok || bad "malformed line not reported with line and id: $(cat "$tmp/err")"
grep -q "mixed.jsonl:3: event b2: field 'type': " "$tmp/err" && ok || bad "unknown type not reported"
grep -q "mixed.jsonl:4: event b3: field 'case': " "$tmp/err" && ok || bad "missing field not reported"
grep -q "mixed.jsonl:5: event b4: field 'at': " "$tmp/err" && ok || bad "bad timestamp not reported"
[ "$(grep -c 'mixed.jsonl:' "$tmp/err")" -eq 4 ] && ok || bad "expected exactly 4 error lines"
grep -q "6 events read, 2 accepted, 0 duplicate, 4 rejected" "$tmp/err" && ok || bad "summary line wrong: $(tail -1 "$tmp/err")"
# the good events were still judged: C1 filed late (due 2026-03-05 end of day)
grep -q '"rule":"CRIM-FILING","case":"C1","subject":"","unit":"370102","severity":"high","state":"late","due":"2026-03-05T23:59:59+08:00"' "$tmp/out" \
    && ok || bad "good events not evaluated: $(cat "$tmp/out")"

check "strict stops at first bad line" 1 "mixed.jsonl:2: event b1" -- "$cw" eval --strict --rules "$top/rules" --events "$tmp/mixed.jsonl" "$now"

# Duplicates: the same bytes again are skipped, another body is a conflict.
printf '%s\n%s\n%s\n' "$good" "$good" "${good/criminal/administrative}" > "$tmp/dup.jsonl"
check "duplicate and conflict" 0 "dup.jsonl:3: event g1: field 'id': conflicts with line 1" -- \
    "$cw" eval --rules "$top/rules" --events "$tmp/dup.jsonl" "$now"
grep -q "3 events read, 1 accepted, 1 duplicate, 1 rejected" "$tmp/out" && ok || bad "duplicate counts: $(tail -1 "$tmp/out")"

# Output is deterministic and the table format aligns.
"$cw" eval --rules "$top/rules" --events "$tmp/mixed.jsonl" "$now" --quiet 2>/dev/null >"$tmp/a"
"$cw" eval --rules "$top/rules" --events "$tmp/mixed.jsonl" "$now" --quiet 2>/dev/null >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" && [ -s "$tmp/a" ] && ok || bad "eval output not deterministic"
check "table" 0 "^RULE +CASE +SUBJECT +STATE +DUE +MESSAGE" -- "$cw" eval --rules "$top/rules" --events "$tmp/mixed.jsonl" "$now" --format table
check "parse-only" 0 "6 events read, 2 accepted" -- "$cw" eval --parse-only --rules "$top/rules" --events "$tmp/mixed.jsonl" "$now"
cat "$tmp/mixed.jsonl" | "$cw" eval --rules "$top/rules" --events - "$now" --quiet >"$tmp/c" 2>/dev/null
cmp -s "$tmp/a" "$tmp/c" && ok || bad "eval from stdin differs from file"

# A broken rules directory is refused with file:line.
cp -r "$top/rules" "$tmp/rules"
printf -- '-- a rule with a typo\n\ndeadline {\n  id = "X", title = "t", severity = "high", basis = "b",\n  start = "nope", stop = "case.filed", period = { days = 3 },\n}\n' > "$tmp/rules/broken.lua"
check "broken rules" 2 "broken.lua:3: rule X: start: unknown event type 'nope'" -- "$cw" eval --rules "$tmp/rules" --events "$tmp/mixed.jsonl" "$now"

# casewarden test: a failing fixture is reported and fails the run.
rm "$tmp/rules/broken.lua"
rm -f "$tmp/rules/tests/"*.yaml
cat > "$tmp/rules/tests/wrong.yaml" <<'YAML'
rules: [CRIM-FILING]
defaults: {case: C1, unit: "370102"}
tests:
  - name: passes
    now: 2026-03-20T00:00:00+08:00
    events:
      - {type: case.accepted, at: "2026-03-02T09:30:00+08:00", data: {kind: criminal}}
      - {type: case.filed, at: "2026-03-03T10:00:00+08:00"}
    expect: []
  - name: wrong expectation
    now: 2026-03-20T00:00:00+08:00
    events:
      - {type: case.accepted, at: "2026-03-02T09:30:00+08:00", data: {kind: criminal}}
    expect:
      - {rule: CRIM-FILING, state: late}
YAML
check "test reports failures" 1 "^1 passed, 1 failed$" -- "$cw" test "$tmp/rules"
grep -q "missing: .*CRIM-FILING \* \* late" "$tmp/out" && ok || bad "test failure lacks the missing expectation"
grep -q "unexpected: CRIM-FILING C1 \"\" overdue" "$tmp/out" && ok || bad "test failure lacks the unexpected finding"

# casewarden check: the shipped rules are clean; problems are listed with
# file:line and make it exit 1.
check "check clean" 0 "^[0-9]+ rules, 0 problems$" -- "$cw" check --rules "$top/rules"
rm -rf "$tmp/lint" && cp -r "$top/rules" "$tmp/lint"
cat > "$tmp/lint/zz.lua" <<'LUA'
rule { id = "L1", title = "t", severity = "low", basis = "b", on = { "case.filed" },
  check = function(case, ev)
    local x = ev.data.persn
    for e in case:events("case.fild") do end
  end }
rule { id = "L2", title = "t", severity = "urgent", basis = "b", on = { "case.filed" }, check = function() end }
rule { id = "L3", title = "t", severity = "low", on = { "case.filed" }, check = function() end }
LUA
"$cw" check --rules "$tmp/lint" >"$tmp/out" 2>&1; st=$?
[ $st -eq 1 ] && ok || bad "check with problems: exit $st, expected 1"
grep -q "zz.lua:6: rule L2: 'severity' must be" "$tmp/out" && ok || bad "check: bad severity not listed: $(cat "$tmp/out")"
grep -q "zz.lua:7: rule L3: missing 'basis'" "$tmp/out" && ok || bad "check: missing basis not listed"
rm "$tmp/lint/zz.lua"
cat > "$tmp/lint/zz.lua" <<'LUA'
rule { id = "L1", title = "t", severity = "low", basis = "b", on = { "case.filed" },
  check = function(case, ev)
    local x = ev.data.persn
    for e in case:events("case.fild") do end
  end }
LUA
"$cw" check --rules "$tmp/lint" >"$tmp/out" 2>&1; st=$?
[ $st -eq 1 ] && ok || bad "check lint: exit $st, expected 1"
grep -q "zz.lua:3: data field 'persn'" "$tmp/out" && ok || bad "check: unknown field not listed: $(cat "$tmp/out")"
grep -q "zz.lua:4: unknown event type 'case.fild'" "$tmp/out" && ok || bad "check: unknown type not listed"
# a rule that fails at run time is shown quarantined, with where
cat > "$tmp/lint/zz.lua" <<'LUA'
rule { id = "BOOM", title = "t", severity = "low", basis = "b", on = { "case.accepted" },
  check = function(case, ev)
    error("no such luck")
  end }
LUA
"$cw" check --rules "$tmp/lint" --events "$top/examples/events.jsonl" --now 2026-06-01T00:00:00+08:00 >"$tmp/out" 2>&1; st=$?
[ $st -eq 1 ] && ok || bad "check --events with a failing rule: exit $st, expected 1"
grep -qE "^BOOM .*quarantined" "$tmp/out" && grep -q "zz.lua:3: no such luck" "$tmp/out" && ok \
    || bad "check: quarantine not shown: $(cat "$tmp/out")"
grep -qE "^ADM-HANDLING .*active +[0-9]+ +[0-9.]+ +0 +4 " "$tmp/out" && ok || bad "check: other rules' counts missing"

# casewarden diff: a shorter period adds and changes findings. The example
# file's findings are those of examples/expected.tsv; the 20-day handling
# period adds 5 (three cases decided inside the new warning window, two
# extended ones now warned) and changes 3 of them (every other
# administrative case of the file is decided within 14 days).
n_ex=$(grep -c . "$top/examples/expected.tsv")
rm -rf "$tmp/new" && cp -r "$top/rules" "$tmp/new"
sed -i 's/period = { days = 30 },/period = { days = 20 },/' "$tmp/new/deadlines.lua"
# (the one ADM-HANDLING finding left as it was now stands under the
# changed rule's new version)
check "diff" 0 "^5 added, 0 removed, 3 changed, $((n_ex - 3)) unchanged \\(1 of them under another rule version\\)$" -- "$cw" diff --rules "$tmp/new" \
    --against "$top/rules" --events "$top/examples/events.jsonl" --now 2026-06-01T00:00:00+08:00
grep -q "^~ ADM-HANDLING A370103202600003 - cleared -> late" "$tmp/out" && ok || bad "diff: state change not shown"
grep -q "^+ ADM-HANDLING A370102202600001 - cleared" "$tmp/out" && ok || bad "diff: added finding not shown"
check "diff json" 0 '^\{"change":"changed","old":\{"rule":"ADM-HANDLING"' -- "$cw" diff --format json \
    --rules "$tmp/new" --against "$top/rules" --events "$top/examples/events.jsonl" --now 2026-06-01T00:00:00+08:00
check "diff same" 0 "^0 added, 0 removed, 0 changed, $n_ex unchanged$" -- "$cw" diff --rules "$top/rules" \
    --against "$top/rules" --events "$top/examples/events.jsonl" --now 2026-06-01T00:00:00+08:00

# The example case file gives exactly the findings examples/README.md documents.
"$cw" eval --rules "$top/rules" --events "$top/examples/events.jsonl" \
    --now 2026-06-01T00:00:00+08:00 --quiet >"$tmp/ex.jsonl"
sed -n 's/^{"rule":"\([^"]*\)","case":"\([^"]*\)","subject":"\([^"]*\)",.*"state":"\([^"]*\)".*/\1	\2	\3	\4/p' "$tmp/ex.jsonl" \
    | awk -F'\t' 'BEGIN{OFS="\t"} {if ($3=="") $3="-"; print}' | sort >"$tmp/ex.tsv"
if sort "$top/examples/expected.tsv" | cmp -s - "$tmp/ex.tsv"; then ok; else
    bad "examples: findings differ from examples/expected.tsv"
    sort "$top/examples/expected.tsv" | diff - "$tmp/ex.tsv" | sed 's/^/    /'
fi

finish
