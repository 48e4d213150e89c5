#!/usr/bin/env bash
# Discretion table analysis by `casewarden check` (docs/SANCTIONS.md): the
# shipped tables check clean; a table broken in each way DOMAIN.md and the
# issue name (min > max, a gap or an overlap between tiers that should
# meet, a tier with no range, a missing tier, an unknown factor, effective
# periods that overlap or leave a gap) is refused with exit 1 and a
# FILE:LINE line that names a concrete example value; every problem of a
# directory is listed at once. Usage: sanctions.sh PATH/TO/casewarden
set -uo pipefail
cw=${1:?usage: sanctions.sh CASEWARDEN}
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

# fresh NAME: a new copy of the shipped rules in $tmp/NAME
fresh() {
    rm -rf "${tmp:?}/$1"
    cp -r "$top/rules" "$tmp/$1"
}

# edit NAME FILE SED_EXPR: change one line of a table; fails the test if
# nothing changed (the shipped table moved under the script)
edit() {
    local f="$tmp/$1/discretion/$2"
    cp "$f" "$f.orig"
    sed -i "$3" "$f"
    if cmp -s "$f" "$f.orig"; then
        bad "$1: the edit '$3' changed nothing in $2"
    fi
    rm -f "$f.orig"
}

# line NAME FILE FIXED_STRING: the number of the first line holding it
line() {
    grep -nF -- "$3" "$tmp/$1/discretion/$2" | head -1 | cut -d: -f1
}

# expect_problems NAME PATTERN...: check exits 1 and lists every pattern
expect_problems() {
    local name=$1 st
    shift
    "$cw" check --rules "$tmp/$name" >"$tmp/out" 2>&1
    st=$?
    if [ "$st" -ne 1 ]; then
        bad "$name: check exit $st, expected 1"; sed 's/^/    /' "$tmp/out" | head -20; return
    fi
    ok
    for pat in "$@"; do
        if grep -qE -- "$pat" "$tmp/out"; then ok; else
            bad "$name: check output lacks /$pat/"; sed 's/^/    /' "$tmp/out" | head -20
        fi
    done
}

# The shipped tables are clean, and the rules directory loads.
"$cw" check --rules "$top/rules" >"$tmp/out" 2>&1
st=$?
[ "$st" -eq 0 ] && grep -qE "^[0-9]+ rules, 0 problems$" "$tmp/out" && ok \
    || { bad "shipped rules: check exit $st"; sed 's/^/    /' "$tmp/out" | tail -20; }
grep -qE "^SANCTION-RANGE +discretion" "$tmp/out" && ok || bad "check does not list SANCTION-RANGE"

d=discretion
# min > max
fresh minmax
edit minmax psal-2025.yaml 's/      normal: {detention: \[5, 10\], fine: \[500, 1000\], combine: and}/      normal: {detention: [10, 5], fine: [500, 1000], combine: and}/'
l=$(line minmax psal-2025.yaml "normal: {detention: [10, 5]")
expect_problems minmax "$d/psal-2025.yaml:$l: PSAL-51 normal detention \[10, 5\]: min 10 > max 5, no value fits"

# a fine range with min > max in the 2012 table
fresh minmax2
edit minmax2 psal-2012.yaml 's/      heavier: {detention: \[10, 15\], fine: \[500, 1000\], combine: and}/      heavier: {detention: [10, 15], fine: [1000, 500], combine: and}/'
l=$(line minmax2 psal-2012.yaml "fine: [1000, 500]")
expect_problems minmax2 "$d/psal-2012.yaml:$l: PSAL-43 heavier fine \[1000, 500\]: min 1000 > max 500"

# a gap between tiers that meet: 6 days in no tier
fresh gap
edit gap psal-2025.yaml '/PSAL-50:/,/heavier:/ s/heavier: {detention: \[5, 10\], fine: \[0, 1000\], combine: optional}/heavier: {detention: [7, 10], fine: [0, 1000], combine: optional}/'
l=$(line gap psal-2025.yaml "heavier: {detention: [7, 10]")
expect_problems gap "$d/psal-2025.yaml:$l: PSAL-50: detention of normal \[0, 5\] and heavier \[7, 10\] should meet: 6 days falls in no tier"

# a gap with no whole value in it: the bound is no longer shared
fresh gap1
edit gap1 psal-2025.yaml 's/      lighter: {detention: \[0, 5\], fine: \[0, 1000\], combine: or}/      lighter: {detention: [0, 4], fine: [0, 1000], combine: or}/'
l=$(line gap1 psal-2025.yaml "normal: {detention: [5, 10], fine: [500, 1000]")
expect_problems gap1 "$d/psal-2025.yaml:$l: PSAL-51: detention of lighter ends at 4 days and normal starts at 5: they should share the bound"

# an overlap: 11 days in two tiers
fresh overlap
edit overlap psal-2025.yaml '/PSAL-30:/,/heavier:/ s/normal: {detention: \[5, 10\], fine: \[0, 1000\], combine: or}/normal: {detention: [5, 11], fine: [0, 1000], combine: or}/'
l=$(awk '/PSAL-30:/{f=1} f && /heavier: \{detention: \[10, 15\]/{print NR; exit}' "$tmp/overlap/$d/psal-2025.yaml")
expect_problems overlap "$d/psal-2025.yaml:$l: PSAL-30: detention of normal \[5, 11\] and heavier \[10, 15\] should meet at one value: 11 days is in both normal and heavier"

# a tier with no range at all, and a missing tier
fresh norange
edit norange psal-2012.yaml '/PSAL-23:/,$ s/      heavier: {detention: \[5, 10\], fine: \[0, 500\], combine: optional}/      heavier: {warning: false}/'
edit norange psal-2025.yaml '/PSAL-58:/,/PSAL-59:/ {/      heavier: /d}'
l=$(line norange psal-2012.yaml "heavier: {warning: false}")
l2=$(awk '/PSAL-58:/{f=1} f && /    tiers:/{print NR + 1; exit}' "$tmp/norange/$d/psal-2025.yaml")
expect_problems norange "$d/psal-2012.yaml:$l: PSAL-23 heavier: no range \(neither detention nor fine nor warning: true\)" \
    "$d/psal-2025.yaml:$l2: PSAL-58: tier heavier missing"

# an unknown factor name
fresh factor
edit factor psal-2025.yaml 's/    heavier_factors: \[multiple_attackers, vulnerable_victim, repeated\]/    heavier_factors: [multiple_attackers, vulnerable_victims, repeated]/'
l=$(line factor psal-2025.yaml "vulnerable_victims")
expect_problems factor "$d/psal-2025.yaml:$l: PSAL-51: unknown factor 'vulnerable_victims' in heavier_factors"

# effective periods that overlap: 2026-01-01 in both versions
fresh periods
edit periods psal-2012.yaml 's/^effective: {from: 2006-03-01, to: 2025-12-31}/effective: {from: 2006-03-01, to: 2026-01-05}/'
l=$(line periods psal-2025.yaml "effective: {from: 2026-01-01}")
expect_problems periods \
    "$d/psal-2025.yaml:$l: cause PSAL-51: effective periods overlap: 2026-01-01 is in both psal-2012.yaml \(PSAL-43, 2006-03-01..2026-01-05\) and psal-2025.yaml \(PSAL-51, 2026-01-01..\)" \
    "$d/psal-2025.yaml:$l: cause PSAL-58: effective periods overlap: 2026-01-01 is in both psal-2012.yaml \(PSAL-49"

# effective periods that leave a gap: 2025-12-31 in neither
fresh pgap
edit pgap psal-2025.yaml 's/^effective: {from: 2026-01-01}/effective: {from: 2026-01-02}/'
l=$(line pgap psal-2025.yaml "effective: {from: 2026-01-02}")
expect_problems pgap "$d/psal-2025.yaml:$l: cause PSAL-51: effective periods leave a gap: 2026-01-01 is in neither psal-2012.yaml \(PSAL-43, 2006-03-01..2025-12-31\) nor psal-2025.yaml \(PSAL-51, 2026-01-02..\)"

# an alias that another cause of the same table also claims
fresh dupalias
edit dupalias psal-2012.yaml 's/    aliases: \[PSAL-50\]/    aliases: [PSAL-50, PSAL-51]/'
l=$(line dupalias psal-2012.yaml "aliases: [PSAL-50, PSAL-51]")
expect_problems dupalias "$d/psal-2012.yaml:$l: cause PSAL-51: effective periods overlap: 2006-03-01 is in both psal-2012.yaml \(PSAL-4[23],"

# every problem of a directory at once, and nothing of it loads
fresh all
edit all psal-2025.yaml 's/      normal: {detention: \[5, 10\], fine: \[500, 1000\], combine: and}/      normal: {detention: [10, 5], fine: [500, 1000], combine: and}/'
edit all psal-2025.yaml '/PSAL-50:/,/heavier:/ s/heavier: {detention: \[5, 10\], fine: \[0, 1000\], combine: optional}/heavier: {detention: [7, 10], fine: [0, 1000], combine: optional}/'
edit all psal-2025.yaml 's/    heavier_factors: \[multiple_attackers, vulnerable_victim, repeated\]/    heavier_factors: [multiple_attackers, vulnerable_victims, repeated]/'
edit all psal-2012.yaml 's/^effective: {from: 2006-03-01, to: 2025-12-31}/effective: {from: 2006-03-01, to: 2026-01-05}/'
expect_problems all "min 10 > max 5" "6 days falls in no tier" "unknown factor 'vulnerable_victims'" \
    "2026-01-01 is in both" "not loaded; fix the problems above"
n=$(grep -c "discretion/psal-20" "$tmp/out")
[ "$n" -eq 8 ] && ok || bad "all: expected 8 problem lines, got $n"
"$cw" eval --rules "$tmp/all" --events "$top/examples/events.jsonl" >"$tmp/out" 2>&1
st=$?
[ "$st" -eq 2 ] && grep -q "not loaded" "$tmp/out" && ok || bad "eval with broken tables: exit $st, expected 2"

# keys the format does not know, and YAML that does not parse
fresh keys
edit keys psal-2025.yaml 's/      heavier: {detention: \[10, 15\], fine: \[1000, 2000\], combine: and}/      heavier: {detention: [10, 15], fine: [1000, 2000], combine: andd, warn: true}/'
l=$(line keys psal-2025.yaml "combine: andd")
expect_problems keys "$d/psal-2025.yaml:$l: PSAL-51 heavier: unknown key 'warn'" \
    "$d/psal-2025.yaml:$l: PSAL-51 heavier: combine must be and, or, optional"
fresh yaml
printf 'law: x\ncauses: {PSAL-1: [\n' > "$tmp/yaml/$d/zz-broken.yaml"
"$cw" check --rules "$tmp/yaml" >"$tmp/out" 2>&1
st=$?
[ "$st" -eq 1 ] && grep -q "zz-broken.yaml:[0-9]" "$tmp/out" && ok || bad "yaml: exit $st, no file:line: $(cat "$tmp/out")"

# The judging side, through the CLI: a 2012-era decision citing the 2025
# article is judged by the 2012 row.
cat > "$tmp/ev.jsonl" <<'EOF'
{"id":"a1","type":"case.accepted","case":"A1","unit":"370102","at":"2026-01-02T09:30:00+08:00","data":{"kind":"administrative","cause":"PSAL-51","offence_at":"2025-12-31T23:59:59+08:00"}}
{"id":"a2","type":"penalty.decided","case":"A1","unit":"370102","at":"2026-01-05T10:00:00+08:00","data":{"person":"P1","cause":"PSAL-51","circumstance":"normal","detention_days":5,"fine":600}}
EOF
"$cw" eval --rules "$top/rules" --events "$tmp/ev.jsonl" --now 2026-01-10T00:00:00+08:00 --quiet >"$tmp/out" 2>&1
grep -q '"rule":"SANCTION-RANGE","case":"A1","subject":"","unit":"370102","severity":"high","state":"violation"' "$tmp/out" \
    && grep -q '依据 2012版裁量基准 PSAL-43' "$tmp/out" && ok || bad "eval: no SANCTION-RANGE finding: $(cat "$tmp/out")"

finish
