#!/usr/bin/env bash
# HTTP input the server must refuse, over raw sockets (tests/integration/
# rawhttp.py) where curl would not send it: bad bytes in the URL, the
# headers, the token and the body are 4xx with the JSON error shape, never
# 5xx; two lengths, a length with chunked, a content coding, a missing or
# too large length, over-long URLs and headers are refused as JSON; a
# client that sends its headers a byte at a time is cut at
# api.header_timeout_s, and the log stays short however many do; the
# access log names method, path and status, and never holds a token.
# Usage: http.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"
raw="$top/tests/integration/rawhttp.py"

sed -i 's/^api: {\(.*\)}$/api: {\1, header_timeout_s: 3}/' "$cfg"
"$cw" migrate --config "$cfg" >/dev/null 2>&1 || { echo "FAIL: migrate"; finish; exit 1; }
start_serve --now 2026-06-01T00:00:00+08:00 || { finish; exit 1; }
grep -q "serving on http://127.0.0.1:$port" "$tmp/serve.log" && ok || bad "the startup line lacks the port: $(grep serving "$tmp/serve.log")"

# rawreq NAME STATUS CODE REQUEST: the answer is STATUS, JSON, with error.code CODE
rawreq() {
    local name=$1 want=$2 ecode=$3 out st ct body
    out=$(printf '%s' "$4" | python3 "$raw" "$port" -)
    st=$(sed -n 1p <<<"$out"); ct=$(sed -n 2p <<<"$out"); body=$(sed -n '3,$p' <<<"$out")
    # kept for check_openapi like every answer of req
    printf '%s\n' "$body" >"$tmp/body"; printf 'Content-Type: %s\r\n' "$ct" >"$tmp/headers"; code=$st
    local line=${4%%\\r*}
    set -- $line
    record_answer "${1:--}" "${2:-/}"
    if [ "$st" != "$want" ]; then bad "$name: HTTP $st, expected $want: ${body:0:200}"; return; fi
    case "$ct" in application/json*) ;; *) bad "$name: answered as '$ct', not JSON: ${body:0:200}"; return ;; esac
    jq -e --arg c "$ecode" '.error.code == $c and (.error.message | type) == "string"' <<<"$body" >/dev/null 2>&1 &&
        ok || bad "$name: not the error shape with code $ecode: ${body:0:200}"
}
H='Host: x\r\nConnection: close\r\n'
A='Authorization: Bearer admin-tok\r\n'

# --- bad bytes (item: never 5xx) ---
req GET "/v1/findings?rule=%C3%A9" admin-tok
expect "a non-ASCII rule filter" 400 '.error.code == "bad_request" and .error.field == "rule"'
req GET "/v1/findings?rule=ADM-HANDLING" admin-tok
expect "an ASCII rule filter" 200 '.findings | type == "array"'
req GET "/v1/cases/%FF%FE" admin-tok
expect "invalid UTF-8 in the path" 400 '.error.code == "bad_request" and (.error.message | test("UTF-8"))'
req GET "/v1/findings?foo%FF=1" admin-tok
expect "invalid UTF-8 in a query name" 400 '.error.code == "bad_request"'
req GET "/v1/findings?case=%C0%AF" admin-tok
expect "an overlong UTF-8 form in a query value" 400 '.error.code == "bad_request"'
req GET "/v1/findings/4%00" admin-tok
expect "%00 in the path" 400 '.error.code == "bad_request" and (.error.message | test("NUL"))'
req GET "/v1/findings?case=A%00B" admin-tok
expect "%00 in a query value" 400 '.error.code == "bad_request"'
req GET "/v1/findings?case=%E" admin-tok
expect "a cut %-escape" 400 '.error.code == "bad_request"'
req GET "/v1/cases/%E6%A1%88" admin-tok
expect "a valid UTF-8 case id is looked up" 404 '.error.code == "not_found"'
rawreq "a token followed by NUL and junk" 400 bad_request "GET /v1/findings HTTP/1.1\r\n${H}Authorization: Bearer admin-tok\x00junk\r\n\r\n"
rawreq "a token followed by NUL, last header" 400 bad_request "GET /v1/findings HTTP/1.1\r\n${H}Authorization: Bearer admin-tok\x00\r\n\r\n"
rawreq "a token followed by NUL, not last" 400 bad_request "GET /v1/findings HTTP/1.1\r\nAuthorization: Bearer admin-tok\x00\r\n${H}\r\n"
# bare LF line ends are no NUL
out=$(python3 "$raw" "$port" "GET /v1/findings HTTP/1.1\nHost: x\nAuthorization: Bearer admin-tok\nConnection: close\n\n")
[ "$(sed -n 1p <<<"$out")" = 200 ] && ok || bad "a request with bare LF line ends: $out"
rawreq "a header that is not UTF-8" 400 bad_request "GET /v1/findings HTTP/1.1\r\n${H}${A}X-Note: \xff\xfe\r\n\r\n"
body=$(printf '{"id":"u-1","type":"scene.attended","case":"S\xff","unit":"370102","at":"2026-05-31T08:00:00+08:00","data":{"ref":"R"}}')
req POST /v1/events ingest-tok "$body"
expect "a body that is not UTF-8" 400 '.error.code == "malformed_json"'
req POST /v1/events ingest-tok '{"id":"u-2\u0000x","type":"scene.attended","case":"S","unit":"370102","at":"2026-05-31T08:00:00+08:00","data":{"ref":"R"}}'
expect "a \\u0000 in the body" 400 '.error.code == "malformed_json"'
[ "$(sql "SELECT COUNT(*) FROM events WHERE id LIKE 'u-%'")" = 0 ] && ok || bad "a bad body was stored"
req GET /v1/findings wrong-token
expect "a wrong token" 401 '.error.message == "invalid token"'
req GET /v1/findings ""
expect "no token" 401 '.error.message | test("bearer token is required")'

req GET /v1/rules admin-tok
expect "rules declared relative to the rules directory" 200 '(.rules | length) > 0 and all(.rules[]; .declared | test("^[A-Za-z0-9_.-]+\\.lua:[0-9]+$"))'

# found by fuzzing (tests/fuzz/regressions/http): a method that is no
# token, echoed in a 405, made the answer invalid JSON (500)
rawreq "a method with a byte that is not UTF-8" 400 bad_request "G\x90T /readyz HTTP/1.1\r\n${H}\r\n"
rawreq "an unknown method" 405 method_not_allowed "BREW /readyz HTTP/1.1\r\n${H}\r\n"
# a message that quotes what was sent, cut to its buffer mid-character
long=$(printf '%%E6%%A1%%88%.0s' $(seq 1 600))
req GET "/v1/nothing/$long" admin-tok
expect "a 404 quoting 600 Chinese characters" 404 '.error.code == "not_found"'
req POST /v1/events ingest-tok "{\"events\":[{\"id\":\"c-1\",\"type\":\"$(printf '案%.0s' $(seq 1 100))\",\"case\":\"C\",\"unit\":\"370102\",\"at\":\"2026-05-31T08:00:00+08:00\"}]}"
expect "a batch quoting a long Chinese type" 200 '.results[0].result == "invalid" and .results[0].error.field == "type"'

# a statement refused on a live connection is our fault (500), not an
# outage (503): a missing table, then back
sql "RENAME TABLE findings TO findings_away"
req GET /v1/findings admin-tok
expect "a refused statement" 500 '.error.code == "internal"'
sql "RENAME TABLE findings_away TO findings"
req GET /v1/findings admin-tok
expect "the table back" 200 '.findings | type == "array"'

# --- HTTP leniency ---
ev='{"id":"h-1","type":"scene.attended","case":"S-H","unit":"370102","at":"2026-05-31T08:00:00+08:00","data":{"ref":"R"}}'
n=${#ev}
rawreq "two different Content-Length" 400 bad_request "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\nContent-Length: $n\r\nContent-Length: 5\r\n\r\n$ev"
rawreq "Content-Length with chunked" 400 bad_request "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\nContent-Length: $n\r\nTransfer-Encoding: chunked\r\n\r\n$ev"
rawreq "Content-Encoding gzip" 415 unsupported_media_type "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: $n\r\n\r\n$ev"
rawreq "a POST without a length" 411 length_required "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\n\r\n"
rawreq "5 GB declared" 413 payload_too_large "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\nContent-Length: 5000000000\r\n\r\n"
rawreq "a transfer coding other than chunked" 400 bad_request "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n"
rawreq "a 10 KB URL" 414 uri_too_long "GET /v1/findings?case=$(head -c 10000 /dev/zero | tr '\0' a) HTTP/1.1\r\n${H}${A}\r\n"
rawreq "40 KB of headers" 431 headers_too_large "GET /v1/findings HTTP/1.1\r\n${H}${A}X-Big: $(head -c 40000 /dev/zero | tr '\0' a)\r\n\r\n"
# what libmicrohttpd would answer with its own HTML pages, answered as
# JSON before it sees the connection (api/accept.c)
rawreq "a request line that is not one" 400 bad_request "GARBAGE\r\n\r\n"
rawreq "a target with a space" 400 bad_request "GET /v1/ findings HTTP/1.1\r\n${H}\r\n"
rawreq "HTTP/0.9" 505 http_version "GET /healthz HTTP/0.9\r\n${H}\r\n"
rawreq "HTTP/2.0 as text" 505 http_version "GET /healthz HTTP/2.0\r\n${H}\r\n"
rawreq "a length that is no number" 400 bad_request "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\nContent-Length: 12abc\r\n\r\n"
rawreq "a length with a tab after it (found by fuzz_http)" 400 bad_request "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\nContent-Length: $n\t\n\r\n$ev"
rawreq "a length with a space after it" 400 bad_request "POST /v1/events HTTP/1.1\r\n${H}${A}Content-Type: application/json\r\nContent-Length: $n \r\n\r\n$ev"
rawreq "a 20 KB request line" 414 uri_too_long "GET /v1/findings?case=$(head -c 20000 /dev/zero | tr '\0' a) HTTP/1.1\r\n${H}\r\n"
rawreq "300 KB of headers" 431 headers_too_large "GET /healthz HTTP/1.1\r\n${H}X-Big: $(head -c 300000 /dev/zero | tr '\0' a)\r\n\r\n"
rawreq "a header line without a colon (found by fuzz_http)" 400 bad_request "GET /healthz HTTP/1.1\r\n${H}ContGET /v1 HTTP/1.1\r\n\r\n"
rawreq "a NUL in a header name" 400 bad_request "GET /healthz HTTP/1.1\r\n${H}A\x00b: x\r\n\r\n"
rawreq "empty lines before the request are skipped" 404 not_found "\r\n\r\nGET /nothing HTTP/1.1\r\n${H}\r\n"
[ "$(sql "SELECT COUNT(*) FROM events WHERE id = 'h-1'")" = 0 ] && ok || bad "a refused request stored its event"
# a chunked body with one length is fine
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer ingest-tok" -H "Content-Type: application/json" \
    -H "Transfer-Encoding: chunked" --data-binary "$ev" "$url/v1/events")
expect "a chunked body" 201 '.result == "stored"'
req POST /v1/rules/reload admin-tok
expect "a POST without a body where none is taken" 200

# --- the header deadline: a byte every 2 s is cut at header_timeout_s (3 s) ---
out=$(python3 "$raw" "$port" --slow 2)
secs=$(sed -n 4p <<<"$out")
awk -v s="$secs" 'BEGIN { exit !(s >= 2 && s < 9) }' && ok || bad "a slow client lasted $secs s (deadline 3 s)"
# forty of them at once: all cut, the log stays short
before=$(grep -c 'warning: http' "$tmp/serve.log")
python3 - "$port" <<'PY' &
import socket, sys, time
socks = []
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
time.sleep(6)
PY
slow_pid=$!
sleep 5.5
req GET /metrics ""
grep -qE '^casewarden_http_header_timeouts_total ([4-9][0-9]|[1-9][0-9]{2,})$' "$tmp/body" && ok ||
    bad "metrics: header timeouts not counted: $(grep header_timeouts "$tmp/body")"
wait "$slow_pid"
after=$(grep -c 'warning: http' "$tmp/serve.log")
[ $((after - before)) -le 21 ] && ok || bad "$((after - before)) warning lines for 40 slow clients"
req GET /healthz ""
expect "still serving after the slow clients" 200

# --- the access log: method, path, status, time; no query, no token ---
req GET "/v1/findings?case=SECRET-QUERY" admin-tok
req GET /v1/findings insp-3701
req GET /v1/findings nope-token-abc
grep -qE 'http: GET /v1/findings 200 [0-9.]+ ms admin$' "$tmp/serve.log" && ok || bad "no access line for GET /v1/findings: $(grep 'http: GET' "$tmp/serve.log" | tail -3)"
grep -qE 'http: GET /v1/findings 401 ' "$tmp/serve.log" && ok || bad "a 401 is not in the access log"
grep -q SECRET-QUERY "$tmp/serve.log" && bad "the access log holds a query" || ok
for t in ingest-tok insp-3701 insp-370103 insp-3702 admin-tok handler-tok nope-token-abc wrong-token; do
    grep -qF -- "$t" "$tmp/serve.log" && bad "the log holds the token $t"
done
ok
stop_serve
# under the sanitizers: nothing reported at exit either
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$tmp/serve.log"; then
    bad "serve under the sanitizers:"; grep -A20 -E 'ERROR: |runtime error' "$tmp/serve.log" | head -40
else ok; fi
check_openapi
finish
