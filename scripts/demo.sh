#!/usr/bin/env bash
# The main job, for now: build casewarden and judge the example case file
# as of 2026-06-01, printing the findings as a table.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/scripts/deps.sh"
echo "demo: building..." >&2
bdir=$("$top/scripts/build.sh" release)
now=${CW_DEMO_NOW:-2026-06-01T00:00:00+08:00}
echo "demo: casewarden eval --rules rules --events examples/events.jsonl --now $now --format table" >&2
exec "$bdir/casewarden" eval --rules rules --events examples/events.jsonl --now "$now" --format table
