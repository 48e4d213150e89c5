#!/usr/bin/env bash
# The console end to end in a real browser: Debian's chromium driven by
# playwright-core (tests/browser/package.json, installed with `npm ci`;
# it downloads no browser), against `casewarden serve` on a private
# MariaDB loaded with examples/. Saves a screenshot of each page in
# $CW_SCREENSHOTS (default _build/screenshots).
# Usage: run.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh" "$1"

shots=${CW_SCREENSHOTS:-$top/_build/screenshots}
mkdir -p "$shots"
if [ ! -x /usr/bin/chromium ]; then
    echo "FAIL: /usr/bin/chromium is missing (scripts/deps.sh installs it)"; finish; exit 1
fi
if [ ! -d "$top/tests/browser/node_modules/playwright-core" ]; then
    (cd "$top/tests/browser" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1 ||
        { echo "FAIL: npm ci in tests/browser"; cat "$tmp/npm.log"; finish; exit 1; }
fi
cat >> "$cfg" <<YAML
  - {name: reviewer-3701, role: reviewer, unit: "3701", sha256: $(digest rev-3701)}
YAML
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now 2026-06-01T00:00:00+08:00 || { finish; exit 1; }
split -l 40 "$top/examples/events.jsonl" "$tmp/part."
for p in "$tmp"/part.*; do
    curl -sf -H "Authorization: Bearer ingest-tok" -H 'Content-Type: application/json' \
        --data-binary "{\"events\":[$(paste -sd, "$p")]}" "$url/v1/events" >/dev/null || bad "loading $p"
done
wait_checkpoint "$(wc -l <"$top/examples/events.jsonl")" || bad "the engine did not take the examples"

CW_URL=$url CW_SHOTS=$shots CW_TMP=$tmp CW_DB_STOP="$top/scripts/mariadb-stop.sh $tmp/db" \
    node "$top/tests/browser/e2e.mjs" 2>&1 | tee "$tmp/e2e.out"
p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/e2e.out" | tail -1)
f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/e2e.out" | tail -1)
[ -n "$p" ] || { bad "the browser test did not finish"; tail -5 "$tmp/serve.log"; }
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
# the tee'd summary is not the last line: ours is
stop_serve
finish
