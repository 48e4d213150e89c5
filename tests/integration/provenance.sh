#!/usr/bin/env bash
# Provenance and explanations from the service, against a private
# MariaDB: every stored finding carries the version of the rule that
# raised it and the program, equal to eval's; GET /v1/findings/{id}/explain
# gives the steps `casewarden explain` gives; after a rule change a
# finding the new rules judge the same keeps the version it was raised
# under, while the ones they judge otherwise take the new one.
# Usage: provenance.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

T=2026-06-01T00:00:00+08:00
ex=$top/examples/events.jsonl
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
[ "$(sql "SELECT COUNT(*) FROM cw_schema WHERE version = 6")" = 1 ] && ok || bad "schema version 6"
load_sql "$ex"
start_serve --now "$T" || { finish; exit 1; }
wait_checkpoint "$(wc -l <"$ex")" && ok || bad "engine did not catch up"

# the stored versions are eval's
prov_db() { sql "SELECT rule, case_id, IF(subject='','-',subject), rule_version, program FROM findings WHERE state <> 'withdrawn'" | sort; }
prov_eval() {
    "$cw" eval --rules "$tmp/rules" --events "$ex" --now "$T" --quiet |
        jq -r '[.rule, .case, (if .subject == "" then "-" else .subject end), .rule_version, .program] | @tsv' | sort
}
prov_db >"$tmp/db.prov"
prov_eval >"$tmp/eval.prov"
[ -s "$tmp/db.prov" ] && cmp -s "$tmp/db.prov" "$tmp/eval.prov" && ok ||
    { bad "stored provenance differs from eval's"; diff "$tmp/eval.prov" "$tmp/db.prov" | head; }
grep -qvP '\t[0-9a-f]{16}\tcasewarden [^\t]+ \(plugin ABI 1\.4\)$' "$tmp/db.prov" && bad "a finding without a version" || ok

# the API shows it
id=$(sql "SELECT id FROM findings WHERE rule = 'ADM-HANDLING' AND case_id = 'A370103202600003'")
v=$(sql "SELECT rule_version FROM findings WHERE id = $id")
req GET "/v1/findings/$id" admin-tok
expect "finding with provenance" 200 ".rule_version == \"$v\" and (.program | test(\"^casewarden \")) and .override == null"

# explain from the service: the steps of casewarden explain
req GET "/v1/findings/$id/explain" admin-tok
expect "explain" 200 '.case == "A370103202600003" and .finding.id == '"$id"' and
    .rules[0].rule == "ADM-HANDLING" and (.rules[0].file | test("deadlines.lua$")) and
    ([.rules[0].findings[0].steps[].kind] | index("rollover") != null)'
jq -S '[.rules[] | {rule, line, findings: [.findings[] | {subject, state, steps}]}]' "$tmp/body" >"$tmp/api.x"
"$cw" explain --rules "$tmp/rules" --events "$ex" --now "$T" --case A370103202600003 --rule ADM-HANDLING --format json |
    jq -S '[.rules[] | {rule, line, findings: [.findings[] | {subject, state, steps}]}]' >"$tmp/cli.x"
cmp -s "$tmp/api.x" "$tmp/cli.x" && ok || { bad "the service's explanation differs from the command's"; diff "$tmp/cli.x" "$tmp/api.x" | head; }
"$cw" explain --rules "$tmp/rules" --config "$cfg" --now "$T" --case A370103202600003 --rule ADM-HANDLING --format json 2>/dev/null |
    jq -S '[.rules[] | {rule, line, findings: [.findings[] | {subject, state, steps}]}]' >"$tmp/db.x"
cmp -s "$tmp/db.x" "$tmp/cli.x" && ok || { bad "explain --config differs from explain --events"; diff "$tmp/cli.x" "$tmp/db.x" | head; }
"$cw" explain --rules "$tmp/rules" --config "$cfg" --only-case --now "$T" --case A370103202600003 --rule ADM-HANDLING --format json 2>/dev/null |
    jq -S '[.rules[] | {rule, line, findings: [.findings[] | {subject, state, steps}]}]' >"$tmp/db1.x"
cmp -s "$tmp/db1.x" "$tmp/cli.x" && ok || { bad "explain --only-case differs for a case of its own"; diff "$tmp/cli.x" "$tmp/db1.x" | head; }
req GET "/v1/findings/$id/explain" insp-3702
expect "explain out of scope" 404
req GET "/v1/findings/999999/explain" admin-tok
expect "explain unknown finding" 404
# the explanation changed nothing stored
prov_db >"$tmp/db.prov2"
cmp -s "$tmp/db.prov" "$tmp/db.prov2" && ok || bad "explaining rewrote findings"

# a rule change: ADM-HANDLING's period from 30 to 20 days. The findings
# the new rules give otherwise (diff: added or changed) take its new
# version; the one they give the same keeps the version it was raised under.
old_v=$(sql "SELECT DISTINCT rule_version FROM findings WHERE rule = 'ADM-HANDLING'")
cp -r "$tmp/rules" "$tmp/old"
sed -i 's/period = { days = 30 },/period = { days = 20 },/' "$tmp/rules/deadlines.lua"
"$cw" diff --rules "$tmp/rules" --against "$tmp/old" --events "$ex" --now "$T" --format json 2>/dev/null |
    jq -r 'select(.new.rule == "ADM-HANDLING") | [.new.case, .new.rule_version] | @tsv' | sort >"$tmp/rejudged"
new_v=$(cut -f2 "$tmp/rejudged" | sort -u)
[ -n "$old_v" ] && [ -n "$new_v" ] && [ "$old_v" != "$new_v" ] && ok || bad "the rule change did not change the version"
stop_serve
start_serve --now "$T" || { finish; exit 1; }
for _ in $(seq 1 100); do
    [ "$(sql "SELECT COUNT(*) FROM findings WHERE rule = 'ADM-HANDLING' AND rule_version = '$new_v'")" -ge "$(wc -l <"$tmp/rejudged")" ] && break
    sleep 0.1
done
sql "SELECT case_id, rule_version FROM findings WHERE rule = 'ADM-HANDLING' AND rule_version = '$new_v'" | sort >"$tmp/db.new"
cmp -s "$tmp/rejudged" "$tmp/db.new" && ok || { bad "re-judged findings and new versions differ"; diff "$tmp/rejudged" "$tmp/db.new"; }
kept=$(sql "SELECT COUNT(*) FROM findings WHERE rule = 'ADM-HANDLING' AND state <> 'withdrawn' AND rule_version = '$old_v'")
[ "$kept" -ge 1 ] && ok || bad "no finding kept the version it was raised under"
# and eval agrees on which findings stand
findings_set >"$tmp/db.set"
eval_set "$ex" "$T" >"$tmp/eval.set"
cmp -s "$tmp/db.set" "$tmp/eval.set" && ok || { bad "findings after the change differ from eval"; diff "$tmp/eval.set" "$tmp/db.set" | head; }
stop_serve
finish
