#!/usr/bin/env bash
# casewarden diff --db and export against a private MariaDB: a rule change
# judged over the stored events (read in batches, two of them here) is
# the diff over the exported file, and over the file the events came
# from; the selections by unit and time are the same for both verbs.
# Usage: diffdb.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

gen=$(dirname "$cw")/bench/gen
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
# 30000 generated events (more than one batch of 20000) and the examples
"$gen" --seed 7 --events 30000 --out "$tmp/g" >/dev/null 2>&1 || { bad "bench/gen"; finish; exit 1; }
cat "$tmp/g/events.jsonl" "$top/examples/events.jsonl" >"$tmp/all.jsonl"
load_sql "$tmp/all.jsonl" || { bad "load"; finish; exit 1; }
n=$(grep -c . "$tmp/all.jsonl")
[ "$(sql "SELECT COUNT(*) FROM events")" -ge $((n - 100)) ] && ok || bad "events not stored"
T=2026-06-01T00:00:00+08:00
cp -r "$tmp/rules" "$tmp/new"
sed -i 's/period = { days = 30 },/period = { days = 20 },/' "$tmp/new/deadlines.lua"
sed -i 's/period = { hours = 24 },/period = { hours = 12 },/' "$tmp/new/deadlines.lua"

d() { "$cw" diff --rules "$tmp/new" --against "$tmp/rules" --now "$T" "$@"; }

# every stored event
d --db --config "$cfg" >"$tmp/db.out" 2>"$tmp/db.err"; st=$?
[ $st -eq 0 ] && ok || { bad "diff --db: exit $st"; cat "$tmp/db.err"; }
grep -qE "^[0-9]+ added, [0-9]+ removed, [0-9]+ changed, [0-9]+ unchanged" "$tmp/db.out" &&
    ! grep -q "^0 added, 0 removed, 0 changed" "$tmp/db.out" && ok || { bad "diff --db found no change"; tail -3 "$tmp/db.out"; }
grep -q "casewarden diff: $(sql "SELECT COUNT(*) FROM events") events from the database" "$tmp/db.err" &&
    grep -qE "casewarden diff: [0-9]+ events read from the database, [0-9]+ taken" "$tmp/db.err" && ok ||
    { bad "no progress on stderr"; cat "$tmp/db.err"; }
"$cw" export --config "$cfg" --out "$tmp/export.jsonl" 2>"$tmp/ex.err" && ok || { bad "export"; cat "$tmp/ex.err"; }
[ "$(grep -c . "$tmp/export.jsonl")" = "$(sql "SELECT COUNT(*) FROM events")" ] && ok || bad "export: not every event"
grep -q "casewarden export: $(sql "SELECT COUNT(*) FROM events") events written" "$tmp/ex.err" && ok || bad "export's count"
d --events "$tmp/export.jsonl" >"$tmp/file.out" 2>/dev/null
cmp -s "$tmp/db.out" "$tmp/file.out" && ok || { bad "diff --db differs from diff over the exported file"; diff "$tmp/db.out" "$tmp/file.out" | head; }
d --events "$tmp/all.jsonl" >"$tmp/orig.out" 2>/dev/null
cmp -s "$tmp/db.out" "$tmp/orig.out" && ok || { bad "diff --db differs from diff over the loaded file"; diff "$tmp/db.out" "$tmp/orig.out" | head; }
d --db --config "$cfg" --format json >"$tmp/db.json" 2>/dev/null
d --events "$tmp/export.jsonl" --format json >"$tmp/file.json" 2>/dev/null
cmp -s "$tmp/db.json" "$tmp/file.json" && [ -s "$tmp/db.json" ] && ok || bad "json: diff --db differs from the file's"

# a selection: the cases with an event under 370103 in May 2026
sel=(--unit 370103 --from 2026-05-01T00:00:00+08:00 --to 2026-05-31T23:59:59+08:00)
d --db --config "$cfg" "${sel[@]}" >"$tmp/dbs.out" 2>"$tmp/dbs.err"
"$cw" export --config "$cfg" "${sel[@]}" >"$tmp/sel.jsonl" 2>"$tmp/exs.err"
d --events "$tmp/sel.jsonl" >"$tmp/files.out" 2>/dev/null
cmp -s "$tmp/dbs.out" "$tmp/files.out" && ok || { bad "selected: diff --db differs from the exported file's"; diff "$tmp/dbs.out" "$tmp/files.out" | head; }
ncase=$(grep -oE "\(([0-9]+) cases selected\)" "$tmp/exs.err" | grep -oE "[0-9]+")
python3 - "$tmp/sel.jsonl" "$tmp/all.jsonl" "${ncase:-0}" <<'PY' && ok || bad "the selection is not the cases with an event of 370103 in May"
import json, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s)
lo, hi = t("2026-05-01T00:00:00+08:00"), t("2026-05-31T23:59:59+08:00")
want = set()
for line in open(sys.argv[2]):
    try: e = json.loads(line)
    except ValueError: continue
    if isinstance(e, dict) and isinstance(e.get("unit"), str) and e["unit"].startswith("370103") and isinstance(e.get("at"), str):
        try:
            if lo <= t(e["at"]) <= hi: want.add(e["case"])
        except ValueError: pass
got = [json.loads(l) for l in open(sys.argv[1])]
cases = {e["case"] for e in got}
assert cases == want and len(want) == int(sys.argv[3]) and len(want) > 0, (len(cases), len(want), sys.argv[3])
# every event of a case taken, whatever its own unit or time
every = sum(1 for l in open(sys.argv[2]) if l.strip() and (lambda e: isinstance(e, dict) and e.get("case") in want)(json.loads(l) if l.strip().startswith("{") else None))
assert len(got) == every, (len(got), every)
PY
grep -q "^[0-9]* added" "$tmp/dbs.out" && ! cmp -s "$tmp/dbs.out" "$tmp/db.out" && ok || bad "the selection changed nothing"

check "diff --db needs --config" 2 "or --db with --config" -- "$cw" diff --rules "$tmp/new" --against "$tmp/rules" --db
check "filters need --db" 2 "use them with --db" -- "$cw" diff --rules "$tmp/new" --against "$tmp/rules" --events "$tmp/all.jsonl" --unit 3701
check "bad unit" 2 "--unit must be a unit prefix" -- "$cw" export --config "$cfg" --unit 37x
check "export help" 0 "usage: casewarden export" -- "$cw" export --help
finish
