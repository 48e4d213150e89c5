#!/usr/bin/env bash
# The service against a real MariaDB: migrations, the direct INSERT path,
# duplicates and conflicts, invalid events, out-of-order events, restarts,
# timers across restarts and while running, rule reloads (good and bad).
# Usage: service.sh PATH/TO/casewarden    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh" "$1"

ex=$top/examples/events.jsonl
T=2026-06-01T00:00:00+08:00

# --- migrations ---
"$cw" migrate --config "$cfg" >"$tmp/out" 2>&1 && grep -q "applying version 1" "$tmp/out" &&
    grep -q "applying version 2" "$tmp/out" && grep -q "applying version 5" "$tmp/out" && grep -q "applying version 6" "$tmp/out" && grep -q "applying version 7" "$tmp/out" && grep -q "applying version 8" "$tmp/out" && ok || bad "migrate: $(cat "$tmp/out")"
"$cw" migrate --config "$cfg" >"$tmp/out" 2>&1 && grep -q "up to date" "$tmp/out" && ok || bad "migrate twice: $(cat "$tmp/out")"
[ "$(sql "SELECT COUNT(*) FROM cw_schema")" = 8 ] && ok || bad "cw_schema rows"
sql "INSERT INTO cw_schema (version, description) VALUES (99, 'from the future')"
"$cw" migrate --config "$cfg" >"$tmp/out" 2>&1; st=$?
[ $st -eq 1 ] && grep -q "newer than this casewarden" "$tmp/out" && ok || bad "newer schema not refused ($st): $(cat "$tmp/out")"
"$cw" serve --config "$cfg" --once --now "$T" >"$tmp/out" 2>&1; st=$?
[ $st -eq 1 ] && grep -q "upgrade casewarden" "$tmp/out" && ok || bad "serve on a newer schema: $st $(cat "$tmp/out")"
sql "DELETE FROM cw_schema WHERE version = 99"

# --- the direct INSERT path: the same findings as eval ---
load_sql "$ex" && ok || bad "direct INSERT of the example file"
"$cw" serve --config "$cfg" --once --now "$T" >"$tmp/out" 2>&1 && ok || bad "serve --once: $(cat "$tmp/out")"
findings_set >"$tmp/db.set"
eval_set "$ex" "$T" >"$tmp/eval.set"
[ -s "$tmp/db.set" ] && cmp -s "$tmp/db.set" "$tmp/eval.set" && ok || { bad "stored findings differ from eval"; diff "$tmp/eval.set" "$tmp/db.set" | head; }
[ "$(sql "SELECT seq FROM engine_checkpoint WHERE name='main'")" = "$(wc -l <"$ex")" ] && ok || bad "checkpoint is not the last seq"

# a restart from the snapshot the last run left writes nothing, loses nothing
before=$(sql "SELECT COUNT(*), MAX(updated_at) FROM findings")
"$cw" serve --config "$cfg" --once --now "$T" >"$tmp/out" 2>&1
grep -q "^casewarden serve: started from the snapshot at event $(wc -l <"$ex") " "$tmp/out" && ok \
    || bad "restart did not start from the snapshot: $(cat "$tmp/out")"
[ "$(sql "SELECT COUNT(*), MAX(updated_at) FROM findings")" = "$before" ] && ok \
    || bad "restart from the snapshot rewrote findings"
findings_set | cmp -s - "$tmp/db.set" && ok || bad "findings changed across a restart"
# a snapshot of another program is not used: the log is judged again,
# and what comes out the same is not written again
sql "UPDATE engine_snapshot_meta SET program = 'casewarden 0.0.1 snapshot 0'"
"$cw" serve --config "$cfg" --once --now "$T" >"$tmp/out" 2>&1
grep -q "judging the event log again: the snapshot was written by casewarden 0.0.1" "$tmp/out" && ok \
    || bad "a foreign snapshot was not refused: $(cat "$tmp/out")"
grep -q "^casewarden serve: $(wc -l <"$tmp/db.set") findings were stored, 0 written, 0 withdrawn" "$tmp/out" && ok \
    || bad "the rebuild rewrote findings: $(cat "$tmp/out")"
findings_set | cmp -s - "$tmp/db.set" && ok || bad "findings changed across a rebuild"

# --- append-only ---
sql "UPDATE events SET body = '{}' WHERE seq = 1" 2>"$tmp/out" && bad "events could be updated" || { grep -q "append-only" "$tmp/out" && ok || bad "update error: $(cat "$tmp/out")"; }
sql "DELETE FROM events WHERE seq = 1" 2>/dev/null && bad "events could be deleted" || ok

# --- duplicates and conflicts on the SQL path ---
first=$(head -n1 "$ex")
sql "INSERT INTO events (body) VALUES ('$first')" 2>"$tmp/out" && bad "a duplicate id was inserted" || { grep -q "Duplicate entry" "$tmp/out" && ok || bad "duplicate error: $(cat "$tmp/out")"; }
spaced=$(echo "$first" | sed 's/,/, /g')
[ "$(sql "CALL cw_put_event('$spaced', @r); SELECT @r")" = duplicate ] && ok || bad "cw_put_event: same content is not a duplicate"
other=$(echo "$first" | sed 's/PSAL-51/PSAL-58/')
[ "$(sql "CALL cw_put_event('$other', @r); SELECT @r")" = conflict ] && ok || bad "cw_put_event: other content is not a conflict"
[ "$(sql "SELECT COUNT(*) FROM event_conflicts WHERE event_id = 'evt-00001' AND first_seq = 1")" = 1 ] && ok || bad "conflict not recorded"
new='{"id":"sql-1","type":"case.accepted","case":"C-SQL","unit":"370102","at":"2026-05-25T09:00:00+08:00","data":{"kind":"criminal"}}'
[ "$(sql "CALL cw_put_event('$new', @r); SELECT @r")" = stored ] && ok || bad "cw_put_event: a new event is not stored"
# the INSERT refused on the unique id took a seq, not a place in the log
# the engine reads (gseq, given by the insert trigger, has no hole)
[ "$(sql "SELECT MAX(seq) > COUNT(*) FROM events")" = 1 ] && [ "$(sql "SELECT MAX(gseq) = COUNT(*) FROM events")" = 1 ] && ok ||
    bad "seq/gseq after a refused INSERT: $(sql "SELECT COUNT(*), MAX(seq), MAX(gseq) FROM events")"

# --- an invalid event inserted straight: recorded, nothing else lost ---
sql "INSERT INTO events (body) VALUES ('{\"id\":\"bad-1\",\"type\":\"case.accepted\",\"case\":\"C-BAD\",\"unit\":\"37x\",\"at\":\"2026-05-25T09:00:00+08:00\",\"data\":{\"kind\":\"criminal\"}}'), ('not json at all')"
"$cw" serve --config "$cfg" --once --now "$T" >"$tmp/out" 2>&1
[ "$(sql "SELECT field FROM event_problems WHERE event_id = 'bad-1'")" = unit ] && ok || bad "invalid event not recorded with its field: $(sql "SELECT * FROM event_problems")"
sql "SELECT message FROM event_problems WHERE event_id IS NULL" | grep -q "malformed JSON" && ok || bad "malformed body not recorded"
[ "$(sql "SELECT state FROM findings WHERE case_id = 'C-SQL'")" = overdue ] && ok || bad "the good event next to the bad ones was not evaluated"

# --- out of order: an event older than what its case has seen ---
sql "INSERT INTO events (body) VALUES ('{\"id\":\"ooo-2\",\"type\":\"case.filed\",\"case\":\"C-OOO\",\"unit\":\"370102\",\"at\":\"2026-05-22T09:00:00+08:00\"}')"
"$cw" serve --config "$cfg" --once --now "$T" >/dev/null 2>&1
sql "INSERT INTO events (body) VALUES ('{\"id\":\"ooo-1\",\"type\":\"case.accepted\",\"case\":\"C-OOO\",\"unit\":\"370102\",\"at\":\"2026-05-18T09:00:00+08:00\",\"data\":{\"kind\":\"criminal\"}}')"
start_serve --now "$T" || exit 1
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")"
[ "$(sql "SELECT state FROM findings WHERE case_id = 'C-OOO' AND rule = 'CRIM-FILING'")" = late ] && ok || bad "out-of-order acceptance: $(sql "SELECT rule,state FROM findings WHERE case_id='C-OOO'")"

# --- new events while running, then a kill -9 in the middle ---
sql "INSERT INTO events (body) VALUES ('{\"id\":\"run-1\",\"type\":\"evidence.seized\",\"case\":\"A-RUN\",\"unit\":\"370102\",\"at\":\"2026-05-28T10:00:00+08:00\",\"data\":{\"item\":\"K1\"}}')"
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")" && ok || bad "a running serve did not take a new event"
[ "$(sql "SELECT state FROM findings WHERE case_id = 'A-RUN'")" = overdue ] && ok || bad "new event not evaluated while running"
stop_serve KILL
sql "INSERT INTO events (body) VALUES ('{\"id\":\"run-2\",\"type\":\"evidence.stored\",\"case\":\"A-RUN\",\"unit\":\"370102\",\"at\":\"2026-05-29T11:00:00+08:00\",\"data\":{\"item\":\"K1\"}}')"
start_serve --now "$T" || exit 1
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")"
[ "$(sql "SELECT state FROM findings WHERE case_id = 'A-RUN'")" = late ] && ok || bad "event stored while down not evaluated after restart"
sql "SELECT body FROM events ORDER BY seq" | jq -cR 'fromjson? // empty' >"$tmp/all.jsonl"
findings_set >"$tmp/db.set"
eval_set "$tmp/all.jsonl" "$T" >"$tmp/eval.set"
cmp -s "$tmp/db.set" "$tmp/eval.set" && ok || { bad "findings after kill -9 and restart differ from eval"; diff "$tmp/eval.set" "$tmp/db.set" | head; }
stop_serve

# --- timers: states move at their time, across a restart and while running ---
# A bail since 2025-06-10: warning from 2026-05-26T23:59:59, overdue after 2026-06-10T23:59:59.
[ "$(sql "SELECT state FROM findings WHERE rule = 'BAIL-12M'")" = warning ] && ok || bad "bail warning"
"$cw" serve --config "$cfg" --once --now 2026-06-11T00:00:00+08:00 >/dev/null 2>&1
[ "$(sql "SELECT state FROM findings WHERE rule = 'BAIL-12M'")" = overdue ] && ok || bad "bail not overdue after a restart past its due"
[ "$(sql "SELECT raised FROM findings WHERE rule = 'BAIL-12M'")" = 1781107200 ] && ok || bad "overdue raised at due + 1 s"
start_serve --clock-from 2026-06-10T23:59:57+08:00 || exit 1
[ "$(sql "SELECT state FROM findings WHERE rule = 'BAIL-12M'")" = warning ] && ok || bad "bail should be a warning 3 s before due"
sleep 4
[ "$(sql "SELECT state FROM findings WHERE rule = 'BAIL-12M'")" = overdue ] && ok || bad "a running timer did not move the bail to overdue"
stop_serve

# --- reloads: SIGHUP with good rules, then a broken ruleset is refused ---
start_serve --now "$T" || exit 1
sed -i 's/period = { hours = 24 },\n  lead = { hours = 4 },/&/' "$tmp/rules/deadlines.lua"
sed -i '0,/period = { days = 30 },/s//period = { days = 20 },/' "$tmp/rules/deadlines.lua"
kill -HUP "$serve_pid"
for _ in $(seq 1 50); do grep -q "rules reloaded" "$tmp/serve.log" && break; sleep 0.1; done
grep -q "rules reloaded" "$tmp/serve.log" && ok || bad "SIGHUP did not reload"
sleep 0.3
[ "$(sql "SELECT state FROM findings WHERE rule = 'ADM-HANDLING' AND case_id = 'A370103202600003'")" = late ] && ok || bad "reloaded rules not applied to stored cases"
printf 'rule { id = "BROKEN" ' >"$tmp/rules/zz-broken.lua"
kill -HUP "$serve_pid"
for _ in $(seq 1 50); do grep -q "reload refused" "$tmp/serve.log" && break; sleep 0.1; done
grep -q "reload refused, the rules in force stay: .*zz-broken.lua:1" "$tmp/serve.log" && ok || bad "broken ruleset not refused with file:line: $(tail -3 "$tmp/serve.log")"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H "Authorization: Bearer admin-tok" "$url/v1/rules/reload")
[ "$code" = 422 ] && grep -q "zz-broken.lua:1" "$tmp/out" && ok || bad "API reload of a broken ruleset: $code $(cat "$tmp/out")"
sql "INSERT INTO events (body) VALUES ('{\"id\":\"after-bad\",\"type\":\"case.accepted\",\"case\":\"A-AFTER\",\"unit\":\"370102\",\"at\":\"2026-05-01T09:00:00+08:00\",\"data\":{\"kind\":\"administrative\"}}')"
wait_checkpoint "$(sql "SELECT MAX(gseq) FROM events")"
[ "$(sql "SELECT FROM_UNIXTIME(due + 28800, '%Y-%m-%d') FROM findings WHERE case_id = 'A-AFTER'")" = 2026-05-21 ] && ok \
    || bad "the rules in force after a refused reload are not the last good ones: $(sql "SELECT due FROM findings WHERE case_id='A-AFTER'")"
rm "$tmp/rules/zz-broken.lua"
# the directory is the rules in force again: a reload judges nothing again
metric() { curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
replays=$(metric casewarden_case_replays_total)
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H "Authorization: Bearer admin-tok" "$url/v1/rules/reload")
[ "$code" = 200 ] && [ "$(metric 'casewarden_reloads_total{result="unchanged"}')" = 1 ] &&
    [ -n "$replays" ] && [ "$(metric casewarden_case_replays_total)" = "$replays" ] && ok ||
    bad "a reload of the rules in force judged again: $code, replays $replays -> $(metric casewarden_case_replays_total)"
grep -q "unchanged (.* rules, digest [0-9a-f]*), nothing judged again" "$tmp/serve.log" && ok || bad "no log line for the unchanged reload"
stop_serve
grep -q "stopping" "$tmp/serve.log" && ok || bad "SIGTERM did not stop cleanly"

finish
