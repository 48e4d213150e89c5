# Shared by the integration tests: a private MariaDB for the run, a
# service configuration with one token per role, helpers to start and
# stop `casewarden serve`, requests and their checks, and the pass/fail count.
#
# Usage: . lib.sh CASEWARDEN   (sets $cw, $top, $tmp, $sock, $cfg)

cw=${1:?usage: $0 CASEWARDEN}
cw=$(cd "$(dirname "$cw")" && pwd)/$(basename "$cw")
# shellcheck source=tests/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../harness.sh"
serve_pid=

cleanup() {
    if [ -n "$serve_pid" ]; then kill -9 "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; fi
    "$top/scripts/mariadb-stop.sh" "$tmp/db" >/dev/null 2>&1
    [ -n "${KEEP-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}

sock=$("$top/scripts/mariadb-start.sh" "$tmp/db" 2>"$tmp/mariadb.log" | tail -n1) || {
    echo "FAIL: the private MariaDB did not start"; cat "$tmp/mariadb.log"; echo "0 passed, 1 failed"; exit 1; }

sql() { mariadb --no-defaults -S "$sock" -u root -N -B casewarden -e "$1"; }

digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

port=$(free_port)
url=http://127.0.0.1:$port
cp -r "$top/rules" "$tmp/rules"
rm -f "$tmp/rules/notify.yaml"   # its receivers are the demo's: nothing here is notified
cfg=$tmp/casewarden.yaml
cat > "$cfg" <<YAML
database:
  socket: $sock
  user: root
  name: casewarden
rules: $tmp/rules
listen: 127.0.0.1:$port
engine: {poll_ms: 20}
api: {max_body_bytes: 65536, max_batch: 50, threads: 4}
tokens:
  - {name: case-system, role: ingest, sha256: $(digest ingest-tok)}
  - {name: inspector-3701, role: inspector, unit: "3701", sha256: $(digest insp-3701)}
  - {name: inspector-370103, role: inspector, unit: "370103", sha256: $(digest insp-370103)}
  - {name: inspector-3702, role: inspector, unit: "3702", sha256: $(digest insp-3702)}
  - {name: admin, role: admin, sha256: $(digest admin-tok)}
  - {name: officer-370102, role: handler, unit: "370102", sha256: $(digest handler-tok)}
YAML

# start_serve [ARGS...]: run serve in the background; wait until ready.
start_serve() {
    "$cw" serve --config "$cfg" "$@" >>"$tmp/serve.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 100); do
        curl -sf "$url/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: serve did not become ready"; tail -20 "$tmp/serve.log"
    return 1
}

stop_serve() {   # stop_serve [SIGNAL]
    [ -n "$serve_pid" ] || return 0
    kill -"${1:-TERM}" "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
    serve_pid=
}

# wait_checkpoint N [SECONDS]: until the engine has evaluated every event
# up to gseq N, its place in the log (at most SECONDS, default 10)
wait_checkpoint() {
    for _ in $(seq 1 $(( ${2:-10} * 20 ))); do
        [ "$(sql "SELECT COALESCE(MAX(seq),0) FROM engine_checkpoint")" -ge "$1" ] 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# findings_set: the stored findings as sorted "rule case subject state due raised" lines
findings_set() {
    sql "SELECT rule, case_id, IF(subject='','-',subject), state, COALESCE(due,'-'), raised FROM findings WHERE state <> 'withdrawn'" | sort
}

# eval_set FILE NOW: the same from `casewarden eval`
eval_set() {
    "$cw" eval --rules "$tmp/rules" --events "$1" --now "$2" --quiet \
        | jq -r '[.rule, .case, (if .subject == "" then "-" else .subject end), .state,
                  (if .due == null then "-" else (.due | sub("\\+08:00$"; "Z") | fromdateiso8601 - 28800 | tostring) end),
                  (.raised | sub("\\+08:00$"; "Z") | fromdateiso8601 - 28800 | tostring)] | @tsv' \
        | sort
}

# load_sql FILE [DATABASE]: insert a JSONL file straight into the events
# table (of casewarden, or DATABASE), as the case-tracking system would:
# one multi-row INSERT
load_sql() {
    { echo "INSERT INTO events (body) VALUES"
      sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g" -e "s/^/('/" -e "s/\$/'),/" "$1" | sed '$ s/,$/;/'
    } > "$tmp/load.sql"
    mariadb --no-defaults -S "$sock" -u root "${2:-casewarden}" < "$tmp/load.sql"
}


# same_as_eval LABEL: the findings table equals $tmp/eval.set (eval_set's)
same_as_eval() {
    findings_set >"$tmp/db.set"
    if [ -s "$tmp/eval.set" ] && cmp -s "$tmp/db.set" "$tmp/eval.set"; then ok
    else
        bad "$1: the findings table differs from eval (< eval only, > table only)"
        diff "$tmp/eval.set" "$tmp/db.set" | grep '^[<>]' | head -n 10
    fi
}

# generated_log SEED N: the schema, then N generated events (bench/gen,
# about one case per ten events) in $tmp/g/events.jsonl and straight in
# the events table; a failure ends the test
generated_log() {
    "$cw" migrate --config "$cfg" >/dev/null 2>&1 || { bad "migrate"; finish; exit 1; }
    "$(dirname "$cw")/bench/gen" --seed "$1" --events "$2" --out "$tmp/g" --rules "$tmp/rules" >/dev/null 2>&1 ||
        { bad "bench/gen"; finish; exit 1; }
    load_sql "$tmp/g/events.jsonl" || { bad "load"; finish; exit 1; }
}

# req METHOD PATH TOKEN [BODY [CONTENT-TYPE]]: sets $code, the body in
# $tmp/body, the headers in $tmp/headers
req() {
    local m=$1 p=$2 tok=$3 body=${4-} ct=${5-application/json}
    local args=(-s -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' -X "$m")
    [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
    [ -n "$body" ] && args+=(-H "Content-Type: $ct" --data-binary "$body")
    code=$(curl "${args[@]}" "$url$p")
    record_answer "$m" "$p"
}

# Every answer a test receives is kept in $tmp/answers, for check_openapi.
mkdir -p "$tmp/answers"
answers=0
record_answer() {   # record_answer METHOD PATH: the last answer ($code, $tmp/headers, $tmp/body)
    local ct
    answers=$((answers + 1))
    ct=$(tr -d '\r' <"$tmp/headers" 2>/dev/null | sed -n 's/^[Cc]ontent-[Tt]ype: *//p' | tail -n1)
    cp "$tmp/body" "$tmp/answers/$answers" 2>/dev/null || : >"$tmp/answers/$answers"
    printf '%s\t%s\t%s\t%s\t%s\n' "$answers" "$1" "$2" "$code" "$ct" >>"$tmp/answers/index.tsv"
}

# check_openapi: every answer recorded is one api/openapi.yaml describes
# (tests/openapi/validate.mjs, with the npm packages of tests/openapi)
check_openapi() {
    local oa=$top/tests/openapi
    [ -s "$tmp/answers/index.tsv" ] || { bad "openapi: no answers were recorded"; return; }
    if [ ! -d "$oa/node_modules/ajv" ] && ! (cd "$oa" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1); then
        bad "openapi: npm ci in tests/openapi failed"; return
    fi
    if node "$oa/validate.mjs" "$top/api/openapi.yaml" "$tmp/answers" >"$tmp/openapi.out" 2>&1; then ok
    else bad "openapi: answers api/openapi.yaml does not describe:"; grep -v '^validated' "$tmp/openapi.out" | head -40; fi
    tail -n1 "$tmp/openapi.out"
}

# expect NAME STATUS [JQ-FILTER-THAT-MUST-BE-TRUE]: of the last req
expect() {
    local name=$1 want=$2 filter=${3-}
    if [ "$code" != "$want" ]; then bad "$name: HTTP $code, expected $want: $(head -c 300 "$tmp/body")"; return; fi
    if [ -n "$filter" ] && ! jq -e "$filter" "$tmp/body" >/dev/null 2>&1; then
        bad "$name: body fails $filter: $(head -c 400 "$tmp/body")"; return; fi
    ok
}
