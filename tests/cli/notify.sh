#!/usr/bin/env bash
# casewarden notify test and the checks of notify.yaml: which receivers and
# escalation levels a finding reaches under the shipped rules/notify.yaml,
# quiet hours on the legal calendar, the rendered bodies, and refusals that
# name file:line. Usage: notify.sh CASEWARDEN    Ends with "N passed, N failed".
set -uo pipefail
cw=${1:?usage: notify.sh CASEWARDEN}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

f='{"id":981,"rule":"ADM-HANDLING","case":"A370102202600017","unit":"370102","severity":"medium","state":"overdue","due":"2026-04-01T23:59:59+08:00","message":"行政案件办理超期: 已超期 1 日","review":"open"}'
check "notify --help" 0 "usage: casewarden notify test" -- "$cw" notify --help
check "notify test --help" 0 "usage: casewarden notify test" -- "$cw" notify test --help
check "help notify" 0 "usage: casewarden notify test" -- "$cw" help notify
check "notify: unknown sub-command" 2 "unknown sub-command 'send'" -- "$cw" notify send
check "notify test: --finding required" 2 "--finding is required" -- "$cw" notify test --rules "$top/rules"
check "notify test: bad JSON" 2 "--finding: .*line 1" -- "$cw" notify test --rules "$top/rules" --finding '{"id":'
check "notify test: bad transition" 2 "--transition 'late2'" -- "$cw" notify test --rules "$top/rules" --finding "$f" --transition late2

# Friday 20:00 before a plain weekend: the 警务通 receiver holds a medium
# finding until Monday 08:30, the 法制 reviewer's gets it at once
check "notify test: receivers" 0 "unit-jwt .*held until 2026-06-08T08:30:00\+08:00 \(quiet hours\)" -- \
    "$cw" notify test --rules "$top/rules" --finding "$f" --now 2026-06-05T20:00:00+08:00
grep -qE "^  unit-legal .* at once" "$tmp/out" && ok || bad "notify test: unit-legal at once: $(cat "$tmp/out")"
grep -q "level 3: 2d after the previous (3d after the start), if not_assigned (holds now) -> leaders" "$tmp/out" && ok ||
    bad "notify test: the ladder's third level"
grep -q "Idempotency-Key: 981:escalated2:unit-legal:overdue" "$tmp/out" && ok || bad "notify test: the level 2 body"
# the body is JSON with the message escaped
sed -n '/^--- unit-jwt (Idempotency-Key: 981:overdue/,/^---/p' "$tmp/out" | sed '1d;$d' > "$tmp/body.json"
jq -e '.findings[0].id == 981 and (.text | contains("已超期 1 日"))' "$tmp/body.json" >/dev/null && ok ||
    bad "notify test: unit-jwt's body: $(cat "$tmp/body.json")"
# Friday 20:00 before the 调休 Saturday of 国庆 2026: held until Saturday
check "notify test: 调休" 0 "held until 2026-10-10T08:30:00\+08:00" -- \
    "$cw" notify test --rules "$top/rules" --finding "$f" --now 2026-10-09T20:00:00+08:00
# high goes at once
check "notify test: high" 0 "unit-jwt .* at once \(quiet hours\)" -- \
    "$cw" notify test --rules "$top/rules" --finding "${f/medium/high}" --now 2026-06-05T20:00:00+08:00
# a cleared finding reaches no one (receivers: [])
check "notify test: cleared" 0 "receivers \(0\)" -- \
    "$cw" notify test --rules "$top/rules" --finding "${f/overdue/cleared}"

mkdir -p "$tmp/rules" && cp -r "$top/rules/." "$tmp/rules/"
check "check: notify.yaml" 0 "notify.yaml: 3 receivers, 1 escalation ladders" -- "$cw" check --rules "$tmp/rules"
sed -i 's/{{count}} 条/{{cuont}} 条/' "$tmp/rules/notify.yaml"
check "check: a template's unknown name" 1 "notify.yaml:[0-9]+: receiver unit-jwt: body: unknown name \{\{cuont\}\}" -- \
    "$cw" check --rules "$tmp/rules"
check "notify test: refused" 1 "unknown name \{\{cuont\}\}" -- "$cw" notify test --rules "$tmp/rules" --finding "$f"
rm "$tmp/rules/notify.yaml"
check "notify test: no notify.yaml" 1 "notify.yaml: no such file" -- "$cw" notify test --rules "$tmp/rules" --finding "$f"

finish
