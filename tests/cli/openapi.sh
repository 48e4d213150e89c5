#!/usr/bin/env bash
# api/openapi.yaml is valid OpenAPI: Redocly's linter (tests/openapi, a
# pinned @redocly/cli from npm, installed with `npm ci`) with its
# recommended rules finds no error and no warning, and every operation
# has an operationId. The answers of the API tests are checked against
# the same file by tests/openapi/validate.mjs (tests/integration/lib.sh).
# Usage: openapi.sh PATH/TO/casewarden (unused)    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/../harness.sh"
oa=$top/tests/openapi

if (cd "$oa" && npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1); then ok
else bad "npm ci in tests/openapi: $(tail -3 "$tmp/npm.log")"; finish; exit 1; fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
(cd "$oa" && ./node_modules/.bin/redocly lint --config redocly.yaml --format=stylish "$top/api/openapi.yaml") >"$tmp/lint" 2>&1
st=$?
[ "$st" = 0 ] && ok || { bad "redocly lint: exit $st"; grep -E 'error|warning' "$tmp/lint" | head -20; }
grep -qE '^ +[0-9]+:[0-9]+ +(error|warning) ' "$tmp/lint" && { bad "redocly lint reports problems:"; grep -E '^ +[0-9]+:[0-9]+ ' "$tmp/lint" | head -20; } || ok
grep -q 'Your API description is valid' "$tmp/lint" && ok || bad "redocly lint did not say the file is valid: $(tail -5 "$tmp/lint")"
# operationId on every operation, each once
node --input-type=module -e '
import { readFileSync } from "node:fs";
import YAML from "'"$oa"'/node_modules/yaml/dist/index.js";
const spec = YAML.parse(readFileSync(process.argv[1], "utf8"));
const ids = [], missing = [];
for (const [p, ops] of Object.entries(spec.paths))
  for (const [m, op] of Object.entries(ops))
    if (["get", "post", "put", "delete", "patch"].includes(m)) (op.operationId ? ids.push(op.operationId) : missing.push(`${m} ${p}`));
const dup = ids.filter((x, i) => ids.indexOf(x) !== i);
if (missing.length || dup.length) { console.log("missing:", missing.join(", "), "duplicated:", dup.join(", ")); process.exit(1); }
console.log(ids.length, "operations");
' "$top/api/openapi.yaml" >"$tmp/ids" 2>&1 && ok || bad "operationId: $(cat "$tmp/ids")"
# the file names every route the server has (api/server.c's routes table)
for p in $(sed -n 's/^    { "[A-Z]*", "\([^"]*\)".*/\1/p' "$top/api/server.c" | sed 's/{}/{x}/; s/{\*}//' | sort -u); do
    pat=$(printf '%s' "$p" | sed 's/{x}/{[a-z]*}/')
    grep -qE "^  ${pat}:$" "$top/api/openapi.yaml" && ok || bad "route $p is not in api/openapi.yaml"
done
finish
