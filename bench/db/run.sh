#!/usr/bin/env bash
# The database measurements of casewarden, in one run on one private
# MariaDB so that the ratios hold (bench/db/README.md says what each one
# measures and how):
#
#   a. ingest: POST /v1/events (batches of 100, 4 connections) against
#      multi-row INSERT and CALL cw_put_event of the same events with the
#      same connector; the API also with a no-op ruleset and over one
#      connection, and direct INSERTs while the engine evaluates them
#   b. startup: `casewarden serve` on 1M stored events, time to ready,
#      rebuild rate and findings write rate, first and second start
#   c. the SQL baseline: the deadline rules of DOMAIN.md section 1 as SQL
#      queries over the events table (bench/db/sql), against
#      `casewarden eval` of the same events with the same rules: time and
#      findings compared
#
# Usage: bench/db/run.sh BUILD_DIR [--quick]
# The report goes to stdout, progress to stderr. --quick: 20k events to
# ingest and 100k at startup instead of 200k and 1M.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/db/run.sh BUILD_DIR [--quick]

Measure casewarden against MariaDB: API ingest against raw multi-row
INSERT and the cw_put_event procedure, the service's startup rebuild and
findings write rate, and the section-1 deadline rules written as SQL
against the engine. BUILD_DIR holds the casewarden binary and the bench
programs (built there when missing). A private MariaDB is started in a
temporary directory and stopped at the end.

  --quick   20k events to ingest and 100k at startup (default 200k and 1M)

Environment: CW_BENCH_BUFFER_POOL_MB (default 4096), CW_BENCH_KEEP=1 keeps
the temporary directory. Report on stdout, progress on stderr.
EOF
}

build_arg=
quick=false
for a in "$@"; do
    case $a in
        -h|--help) usage; exit 0 ;;
        --quick) quick=true ;;
        -*) usage >&2; exit 2 ;;
        *) [ -z "$build_arg" ] || { usage >&2; exit 2; }; build_arg=$a ;;
    esac
done
[ -n "$build_arg" ] || { usage >&2; exit 2; }

# shellcheck source=bench/db/lib.sh
. "$(dirname "$0")/lib.sh" bench/db "$build_arg"

if $quick; then n_ingest=20000; n_start=100000; else n_ingest=200000; n_start=1000000; fi
conns=4
batch=100
here=$top/bench/db

# field LINE KEY: the value of KEY=value in a line of insert, post or wrk
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# The rules, copied so that edits made elsewhere during the run do not
# count: the shipped ones; a single rule that listens to a rare event type
# and does nothing (the API's cost without evaluation); and the deadline
# rules of section 1 that have an SQL version, for the baseline.
cp -r "$top/rules" "$work/rules"
rm -f "$work/rules/notify.yaml"   # its receivers are the demo's: nothing here is notified
mkdir "$work/rules-noop" "$work/rules-sql"
for d in rules-noop rules-sql; do
    cp -r "$top/rules/engine.yaml" "$top/rules/catalogue.yaml" "$top/rules/calendar" "$work/$d/"
    [ -d "$top/rules/discretion" ] && cp -r "$top/rules/discretion" "$work/$d/"
done
cat >"$work/rules-noop/noop.lua" <<'EOF'
rule {
  id = "NOOP", title = "does nothing", severity = "low", basis = "bench/db",
  on = { "hearing.notified" },
  check = function(case, ev) end,
}
EOF
sql_rules=$(cd "$here/sql" && printf '%s\n' [A-Z]*.sql | sed 's/\.sql$//' | tr '\n' ' ')
nr=$(wc -w <<<"$sql_rules")
# the deadline{...} blocks of those rules, as they are in rules/deadlines.lua
awk -v want=" $sql_rules " '
    /^deadline \{/ { block = $0 "\n"; inb = 1; next }
    inb { block = block $0 "\n"
          if ($0 ~ /^  id = "/) { id = $0; sub(/^  id = "/, "", id); sub(/".*/, "", id) }
          if ($0 ~ /^\}/) { inb = 0; if (index(want, " " id " ")) printf "%s\n", block } }
' "$top/rules/deadlines.lua" >"$work/rules-sql/deadlines.lua"
[ "$(grep -c '^deadline {' "$work/rules-sql/deadlines.lua")" = "$nr" ] ||
    die "not every rule of bench/db/sql is a deadline{} of rules/deadlines.lua"

start_db

say "generating $n_ingest and $n_start events (bench/gen --seed 7)"
"$gen" --seed 7 --events "$n_ingest" --out "$work/gi" --rules "$work/rules" 2>"$work/gen-i.log"
"$gen" --seed 7 --events "$n_start" --out "$work/gs" --rules "$work/rules" 2>"$work/gen-s.log"
ev_i=$(wc -l <"$work/gi/events.jsonl")
ev_s=$(wc -l <"$work/gs/events.jsonl")
now=$(cat "$work/gi/now.txt")
case $now in *+08:00) ;; *) die "now.txt is not at +08:00: $now" ;; esac
now_local=$(echo "$now" | cut -c1-19 | tr T ' ')

echo "casewarden bench/db: the database measurements, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(machine)"
echo "build:   $build ($(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo ', with local changes'))"
echo "server:  $(db_settings)"
echo "data:    bench/gen --seed 7: $ev_i events to ingest ($(du -m "$work/gi/events.jsonl" | cut -f1) MB JSONL), $ev_s at startup; now = $now"
echo

# ---- a. ingest ---------------------------------------------------------------

# Each configuration runs twice, into a new empty database each time; the
# faster run counts (the other is shown), so that a moment of load from
# elsewhere on the machine weighs less. Server CPU seconds are shown too:
# mariadbd's, and serve's where it runs.
reps=2
echo "a. ingest: $ev_i events, batches of $batch, $conns connections, into an empty events table; best of $reps runs"
printf '  %-46s %9s %8s %9s  %s\n' "" "events/s" "seconds" "CPU s" "(the other run; this one's CPU s: serve + mariadbd)"
mpid=$(cat "$work/db/mysqld.pid")

# insert_run MODE: one run of bench/db/insert into a new database;
# sets rate, secs, cpu
k=0
insert_run() {
    local out m0
    k=$((k + 1))
    new_db "cw_i$k" "$work/rules"
    m0=$(cpu_s "$mpid")
    out=$("$insert" --socket "$sock" --database "cw_i$k" --events "$work/gi/events.jsonl" \
          --batch $batch --connections $conns --mode "$1")
    cpu=$(calc "$(cpu_s "$mpid") - $m0")
    rate=$(field "$out" events_per_s); secs=$(field "$out" seconds)
    last_db=cw_i$k
}

# api_run RULES [CONNECTIONS]: one run of POST /v1/events into a new
# database with serve running; sets rate, secs, cpu, p50, p99, lag
api_run() {
    local c0 m0 out
    k=$((k + 1))
    new_db "cw_i$k" "$1"
    start_serve "cw_i$k" --now "$now"
    c0=$(cpu_s "$serve_pid"); m0=$(cpu_s "$mpid")
    out=$("$post" ingest --port "$port" --token "$ingest_tok" --events "$work/gi/events.jsonl" \
          --batch $batch --connections "${2:-$conns}") || die "POST /v1/events failed"
    cpu="$(calc "$(cpu_s "$serve_pid") - $c0") + $(calc "$(cpu_s "$mpid") - $m0")"
    lag=$(wait_checkpoint "cw_i$k" "$ev_i" 300 || true)
    rate=$(field "$out" events_per_s); secs=$(field "$out" seconds)
    p50=$(field "$out" p50_ms); p99=$(field "$out" p99_ms)
    stop_serve
    serve_warnings
}

# best LABEL CMD ARGS...: run CMD $reps times, print the best; sets best_rate
best() {
    local label=$1 r other='' b_secs b_cpu b_extra=
    shift
    best_rate=0
    for ((r = 1; r <= reps; r++)); do
        say "a: $label, run $r"
        "$@"
        if awk -v a="$rate" -v b="$best_rate" 'BEGIN { exit !(a > b) }'; then
            [ "$best_rate" = 0 ] || other="$other ${best_rate}/s"
            best_rate=$rate; b_secs=$secs; b_cpu=$cpu
            b_extra=${p50:+; per request p50 $p50 ms, p99 $p99 ms; the engine done ${lag} s after the last answer}
            best_db=$last_db
        else
            other="$other ${rate}/s"
        fi
        p50=
    done
    other=${other# }
    printf '  %-46s %9s %8s %9s  (%s; CPU s %s)%s\n' "$label" "$best_rate" "$b_secs" \
        "$(calc "$b_cpu")" "${other:-one run}" "$b_cpu" "$b_extra"
}
p50=
best "INSERT INTO events (body) VALUES (..) x$batch" insert_run insert
raw_rate=$best_rate; raw_db=$best_db
best "CALL cw_put_event(..) x$batch per round trip" insert_run proc
proc_rate=$best_rate
last_db=
best "POST /v1/events, {\"events\":[x$batch]}" api_run "$work/rules"
api_shipped=$best_rate
best "the same, one no-op rule (no evaluation)" api_run "$work/rules-noop"
api_noop=$best_rate
# One connection: events arrive in the order of the file, which is time
# order, so the engine never sees an event older than its case's last.
reps=1
best "POST as above, 1 connection, shipped rules" api_run "$work/rules" 1
reps=2

say "a: multi-row INSERT while the engine evaluates"
new_db cw_eng "$work/rules"
start_serve cw_eng --now "$now"
c0=$(cpu_s "$serve_pid"); m0=$(cpu_s "$mpid")
out=$("$insert" --socket "$sock" --database cw_eng --events "$work/gi/events.jsonl" --batch $batch --connections $conns)
m1=$(cpu_s "$mpid")
lag=$(wait_checkpoint cw_eng "$ev_i" 300 || true)
printf '  %-46s %9s %8s %9s  (one run; CPU s %s + %s; the engine done %s s after the last commit)\n' \
    "INSERT as above, serve evaluating the table" "$(field "$out" events_per_s)" "$(field "$out" seconds)" \
    "$(calc "$(cpu_s "$serve_pid") - $c0 + $m1 - $m0")" "$(calc "$(cpu_s "$serve_pid") - $c0")" \
    "$(calc "$m1 - $m0")" "$lag"
stop_serve
serve_warnings

ratio=$(calc "100 * $api_shipped / $raw_rate")
ratio_noop=$(calc "100 * $api_noop / $raw_rate")
printf '  API / multi-row INSERT: %.1f %% with the shipped rules, %.1f %% with no evaluation (target >= 50 %%: %s)\n' \
    "$ratio" "$ratio_noop" "$(awk -v r="$ratio" 'BEGIN { print (r >= 50 ? "met" : "NOT met") }')"
printf '  cw_put_event / multi-row INSERT: %.1f %%\n' "$(calc "100 * $proc_rate / $raw_rate")"
echo

# ---- b. startup ----------------------------------------------------------------

echo "b. startup: casewarden serve on $ev_s stored events (shipped rules, --now $now)"
new_db cw_start "$work/rules"
say "b: loading $ev_s events into cw_start"
out=$("$insert" --socket "$sock" --database cw_start --events "$work/gs/events.jsonl" --batch 1000 --connections $conns)
printf '  %-52s %8s events/s  %7s s\n' "loaded with INSERT x1000, $conns connections" "$(field "$out" events_per_s)" "$(field "$out" seconds)"

# startup LABEL: start serve on cw_start, report, stop. The first start
# judges the stored events again (the rebuild, its findings written as it
# goes); it writes a snapshot, so the second starts from that.
startup() {
    local label=$1 line n cases gone rb_s
    say "b: $label start"
    start_serve cw_start --now "$now"
    line=$(grep -m1 -E 'casewarden serve: (rebuilt|started from the snapshot)' "$serve_log" | cut -d' ' -f2- || true)
    case $line in
    *"started from the snapshot"*)
        printf '  %-13s ready (GET /readyz 200) after %6.2f s, from the snapshot: %s\n' "$label start:" \
            "$ready_s" "${line#casewarden serve: started from the snapshot }" ;;
    *rebuilt*)
        # "rebuilt N events in S s (R events/s), C cases in memory, G left it"
        n=$(sed -n 's/.*rebuilt \([0-9]*\) events in.*/\1/p' <<<"$line")
        rb_s=$(sed -n 's/.*rebuilt [0-9]* events in \([0-9.]*\) s.*/\1/p' <<<"$line")
        cases=$(sed -n 's/.*, \([0-9]*\) cases in memory.*/\1/p' <<<"$line")
        gone=$(sed -n 's/.*, \([0-9]*\) left it.*/\1/p' <<<"$line")
        [ -n "$n" ] && [ -n "$rb_s" ] && [ -n "$cases" ] && [ -n "$gone" ] || { cat "$serve_log" >&2; die "unexpected serve log"; }
        printf '  %-13s ready (GET /readyz 200) after %6.2f s: rebuild %s events in %s s = %s events/s (%s cases in memory, %s left it);\n' \
            "$label start:" "$ready_s" "$n" "$rb_s" "$(calc "$n / $rb_s" | cut -d. -f1)" "$cases" "$gone"
        printf '  %-13s %s\n' "" "$(grep -m1 -o 'casewarden serve: [0-9]* findings were stored.*' "$serve_log" |
            sed 's/casewarden serve: //') ($(sql cw_start "SELECT COUNT(*) FROM findings") in the table)" ;;
    *) cat "$serve_log" >&2; die "unexpected serve log" ;;
    esac
    stop_serve
}
startup first
startup second
say "b: checking the stored findings against casewarden eval"
"$cw" eval --rules "$work/rules" --events "$work/gs/events.jsonl" --now "$now" --quiet |
    jq -r '[.rule, .case, (if .subject == "" then "-" else .subject end), .state, (.due // "-")] | @tsv' |
    sort >"$work/start-eval.tsv"
sql cw_start "SET time_zone = '+08:00';
              SELECT rule, case_id, IF(subject = '', '-', subject), state,
                     IF(due IS NULL, '-', DATE_FORMAT(FROM_UNIXTIME(due), '%Y-%m-%dT%H:%i:%s+08:00'))
              FROM findings WHERE state <> 'withdrawn'" | sort >"$work/start-db.tsv"
if cmp -s "$work/start-eval.tsv" "$work/start-db.tsv"; then
    echo "  findings table after startup = casewarden eval of the same events: $(wc -l <"$work/start-db.tsv") findings equal (rule, case, subject, state, due)"
else
    echo "  findings table after startup DIFFERS from casewarden eval (< eval only, > table only):"
    { diff "$work/start-eval.tsv" "$work/start-db.tsv" || true; } | { grep '^[<>]' || true; } | sed -n '1,20s/^/    /p'
fi
echo

# ---- c. the SQL baseline -------------------------------------------------------------

echo "c. SQL baseline: $nr deadline rules of DOMAIN.md section 1 as SQL (bench/db/sql) over the $ev_i events of a (the INSERT run kept), now = $now"
say "c: indexes and calendar for the SQL queries ($raw_db)"
t0=$(now_s)
mariadb --no-defaults -S "$sock" -u root "$raw_db" <"$here/sql/schema.sql" >/dev/null
awk -f "$here/calendar.awk" "$work/rules/calendar/"*.yaml | mariadb --no-defaults -S "$sock" -u root "$raw_db"
mariadb --no-defaults -S "$sock" -u root "$raw_db" <"$here/sql/calendar.sql"
printf '  %-52s %7s s (once, not in the batch)\n' "virtual columns, indexes, statistics, calendar" "$(elapsed "$t0")"

batch_sql() {
    echo "SET @now = TIMESTAMP '$now_local';"
    cat "$here/sql/prelude.sql"
    for r in $sql_rules; do cat "$here/sql/$r.sql"; done
}
batch_sql >"$work/batch.sql"
times_sql=()
for i in 1 2 3; do
    say "c: SQL batch, run $i"
    t0=$(now_s)
    mariadb --no-defaults -S "$sock" -u root -N -B "$raw_db" <"$work/batch.sql" >"$work/sql.out"
    times_sql+=("$(elapsed "$t0")")
done
times_eng=()
for i in 1 2 3; do
    say "c: casewarden eval, run $i"
    t0=$(now_s)
    "$cw" eval --rules "$work/rules-sql" --events "$work/gi/events.jsonl" --now "$now" --quiet >"$work/eval.out"
    times_eng+=("$(elapsed "$t0")")
done
fastest() { printf '%s\n' "$@" | sort -n | head -n1; }
bs=$(fastest "${times_sql[@]}"); be=$(fastest "${times_eng[@]}")
printf '  %-52s %7s s (best of %s; runs %s)\n' "SQL batch (mariadb client, one connection)" "$bs" 3 "${times_sql[*]}"
printf '  %-52s %7s s (best of %s; runs %s)\n' "casewarden eval --events FILE.jsonl, the same rules" "$be" 3 "${times_eng[*]}"
printf '  SQL / engine: %.1f x the time\n' "$(calc "$bs / $be")"

awk -F'\t' 'BEGIN { OFS = "\t" } { if ($3 == "") $3 = "-"; print }' "$work/sql.out" | sort >"$work/sql.tsv"
jq -r '[.rule, .case, (if .subject == "" then "-" else .subject end), .state, (.due // "-")] | @tsv' \
    "$work/eval.out" | sort >"$work/eval.tsv"
printf '  %-16s %8s %8s\n' rule SQL engine
for r in $sql_rules; do
    printf '  %-16s %8s %8s\n' "$r" "$(grep -c "^$r	" "$work/sql.tsv" || true)" "$(grep -c "^$r	" "$work/eval.tsv" || true)"
done
if cmp -s "$work/sql.tsv" "$work/eval.tsv"; then
    echo "  findings equal (rule, case, subject, state, due): $(wc -l <"$work/sql.tsv") on both sides"
else
    echo "  findings DIFFER (< SQL only, > engine only; rule, case, subject, state, due):"
    diff "$work/sql.tsv" "$work/eval.tsv" | grep '^[<>]' | head -n 40 | sed 's/^/    /'
fi
say "c: each rule's query alone"
line=
for r in $sql_rules; do
    t0=$(now_s)
    { echo "SET @now = TIMESTAMP '$now_local';"; cat "$here/sql/prelude.sql" "$here/sql/$r.sql"; } |
        mariadb --no-defaults -S "$sock" -u root -N -B "$raw_db" >/dev/null
    line="$line $r $(elapsed "$t0")s,"
done
echo "  each alone (with the prelude):${line%,}"
say "done"
