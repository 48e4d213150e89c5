#!/usr/bin/env bash
# A suggestion followed to the letter never raises a section 3 finding:
# every penalty.decided of a generated feed (bench/gen, 10k events) is
# asked of `casewarden sanction` with what the feed says of the case and
# the person, then replaced by the decision the answer suggests (the tier
# the factors imply, the standard penalty; none where the person may not
# be punished or the act has no row), with the detention executed only
# where the answer says it may be. The rules then find nothing of
# SANCTION-RANGE, SANCTION-TIER, SANCTION-PEER, MINOR-UNDER14 and
# DETENTION-EXEMPT, while the generated decisions had such findings.
#
# Usage: follow.sh CASEWARDEN_BIN GEN_BIN
# Ends with "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cw=${1:?usage: follow.sh CASEWARDEN GEN}
gen=${2:?usage: follow.sh CASEWARDEN GEN}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
rules="$top/rules"
section3='^(SANCTION-RANGE|SANCTION-TIER|SANCTION-PEER|MINOR-UNDER14|DETENTION-EXEMPT)$'

"$gen" --seed 9 --events 10000 --out "$tmp/g" --rules "$rules" 2>"$tmp/gen.err" && ok ||
    { bad "gen exited $?"; head -5 "$tmp/gen.err"; finish; exit 1; }
now=$(cat "$tmp/g/now.txt")

# The query of every decision: the case's acceptance (cause kind, offence
# time), the person as every person.added of the feed describes them.
jq -c -s '
  (map(select(.type == "case.accepted")) | map({key: .case, value: (.data.offence_at // .at)})
   | from_entries) as $offence
  | (map(select(.type == "person.added")) | group_by(.case + "/" + .data.person)
     | map({key: (.[0].case + "/" + .[0].data.person),
            value: ({flags: ([.[].data.flags // [] | .[]] | unique),
                     first_offence: any(.[]; .data.first_offence == true)}
                    + ([.[].data.birth_date | select(.)] | if length > 0 then {birth_date: .[0]} else {} end))})
     | from_entries) as $person
  | .[] | select(.type == "penalty.decided")
  | {cause: .data.cause, circumstance: .data.circumstance, factors: (.data.factors // []),
     offence_at: ($offence[.case] // .at), decided_at: .at, unit: .unit,
     person: ($person[.case + "/" + .data.person] // {})}' "$tmp/g/events.jsonl" >"$tmp/queries.jsonl"
n=$(grep -c . "$tmp/queries.jsonl")
[ "$n" -ge 300 ] && ok || bad "only $n decisions to follow"

"$cw" sanction --rules "$rules" --queries "$tmp/queries.jsonl" --now "$now" >"$tmp/answers.jsonl" 2>"$tmp/sanction.err"
st=$?
[ "$st" -eq 0 ] && ok || { bad "sanction exited $st"; head -5 "$tmp/sanction.err"; }
[ "$(grep -c . "$tmp/answers.jsonl")" -eq "$n" ] && ok || bad "not one answer per query"
grep -q '"error"' "$tmp/answers.jsonl" && bad "some queries were not answered: $(grep -m1 '"error"' "$tmp/answers.jsonl")" || ok

# The feed with every decision replaced by the one suggested.
jq -c -s --slurpfile ans "$tmp/answers.jsonl" '
  def answer($a; $rule): ($a.advice[] | select(.rule == $rule) | .answer) // {};
  . as $ev
  | ([$ev[] | select(.type == "penalty.decided") | .id] | to_entries
     | map({key: .value, value: $ans[.key]}) | from_entries) as $A
  | $ev[] | select(.type != "detention.executed")
  | if .type != "penalty.decided" then .
    else . as $p | $A[$p.id] as $a | answer($a; "SANCTION-RANGE") as $r
      | if ($r.found != true) or (answer($a; "MINOR-UNDER14").punishable == false) then empty
        else ($p | .data = ({person: .data.person, cause: .data.cause, circumstance: $r.tier,
                             factors: (.data.factors // [])}
                            + (if $r.standard.detention > 0 then {detention_days: $r.standard.detention} else {} end)
                            + (if $r.standard.fine > 0 then {fine: $r.standard.fine} else {} end)
                            + (if $r.standard.warning then {warning: true} else {} end))),
             (if $r.standard.detention > 0 and answer($a; "DETENTION-EXEMPT").executable == true
              then {id: ($p.id + "-x"), type: "detention.executed", case: $p.case, unit: $p.unit,
                    at: $p.at, data: {person: $p.data.person, days: $r.standard.detention}}
              else empty end)
        end
    end' "$tmp/g/events.jsonl" >"$tmp/followed.jsonl"

count3() {   # count3 EVENTS: section 3 findings of the rules on EVENTS
    "$cw" eval --rules "$rules" --events "$1" --now "$now" --quiet 2>/dev/null \
        | jq -r '.rule' | grep -cE "$section3"
}
before=$(count3 "$tmp/g/events.jsonl")
after=$(count3 "$tmp/followed.jsonl")
[ "$before" -gt 0 ] && ok || bad "the generated decisions raised no section 3 finding: the test proves nothing"
[ "$after" -eq 0 ] && ok || {
    bad "$after section 3 findings on the followed decisions"
    "$cw" eval --rules "$rules" --events "$tmp/followed.jsonl" --now "$now" --quiet 2>/dev/null \
        | jq -c 'select(.rule | test("'"${section3//\\/\\\\}"'")) | {rule, case, message}' | head -5
}
kept=$(jq -r 'select(.type == "penalty.decided") | .id' "$tmp/followed.jsonl" | grep -c .)
execd=$(jq -r 'select(.type == "detention.executed") | .id' "$tmp/followed.jsonl" | grep -c .)
[ "$kept" -ge $((n * 9 / 10)) ] && ok || bad "only $kept of $n decisions followed"
[ "$execd" -gt 0 ] && ok || bad "no detention executed in the followed feed"
echo "follow: $n decisions, $kept followed, $execd detentions executed; section 3 findings $before -> $after"
finish
