# shellcheck shell=bash
# Shared by bench/db/run.sh and bench/db/api.sh: the programs of a build
# directory, a private MariaDB in a temporary directory (stopped at exit,
# also on failure), databases with a configuration each, and
# `casewarden serve` started and stopped by its pid.
#
# Usage: . lib.sh NAME BUILD_DIR   (NAME prefixes progress messages)
# Sets $top, $build, $cw, $gen, $insert, $post, $work, $sock, $port.

name=$1
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "$2" 2>/dev/null && pwd) || { echo "$name: no build directory '$2'" >&2; exit 2; }
cw=$build/casewarden
gen=$build/bench/gen
insert=$build/bench/db/insert
post=$build/bench/db/post
work=
sock=
serve_pid=
serve_log=
ready_s=        # set by start_serve: seconds until /readyz answered 200

say() { echo "$name: $*" >&2; }
die() { say "error: $*"; exit 1; }

# a monotonic-enough clock in seconds, with microseconds
now_s() { echo "${EPOCHREALTIME/,/.}"; }
# elapsed T0 [T1]: seconds between two now_s readings, 3 decimals
elapsed() { awk -v a="$1" -v b="${2:-$(now_s)}" 'BEGIN { printf "%.3f", b - a }'; }
# CPU seconds (user + system) a process has used so far
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# calc EXPR: floating-point arithmetic
calc() { awk "BEGIN { printf \"%s\", $1 }"; }

for tool in mariadb curl jq awk make; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/deps.sh installs it)"
done
[ -x "$cw" ] || die "$cw not found: build first (scripts/build.sh release, or make in $build)"
if [ ! -x "$gen" ] || [ ! -x "$insert" ] || [ ! -x "$post" ]; then
    say "building bench/gen, bench/db/insert and bench/db/post in $build"
    make -C "$build" -s bench/gen bench/db/insert bench/db/post >&2 ||
        die "could not build the bench programs in $build"
fi

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_serve
    if [ -n "$work" ]; then
        "$top/scripts/mariadb-stop.sh" "$work/db" >/dev/null 2>&1 || say "could not stop MariaDB in $work/db"
        if [ "${CW_BENCH_KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf -- "$work"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A short path: a Unix socket path holds at most 107 bytes.
work=$(mktemp -d /tmp/cw-benchdb-XXXXXX)

# start_db: the private MariaDB of this run. The buffer pool and redo log
# are sized as a production server would be for these volumes
# (CW_BENCH_BUFFER_POOL_MB, default 4096); commits stay durable
# (innodb_flush_log_at_trx_commit = 1).
start_db() {
    say "starting a private MariaDB in $work/db"
    # The server's temporary files in the run's directory, not /tmp
    # (mariadbd takes its tmpdir from TMPDIR).
    mkdir -p "$work/tmp"
    sock=$(TMPDIR=$work/tmp "$top/scripts/mariadb-start.sh" "$work/db" 2>"$work/mariadb-start.log" | tail -n1) || {
        cat "$work/mariadb-start.log" >&2; die "MariaDB did not start"; }
    sql "" "SET GLOBAL innodb_buffer_pool_size = ${CW_BENCH_BUFFER_POOL_MB:-4096} * 1048576,
                   GLOBAL innodb_log_file_size = 1024 * 1024 * 1024"
}

# sql DB STATEMENTS: run statements, output tab-separated without headers
sql() { mariadb --no-defaults -S "$sock" -u root -N -B ${1:+"$1"} -e "$2"; }

db_settings() {
    sql "" "SELECT CONCAT('MariaDB ', VERSION(), ', innodb_buffer_pool_size ',
                          @@innodb_buffer_pool_size DIV 1048576, ' MiB, innodb_log_file_size ',
                          @@innodb_log_file_size DIV 1048576, ' MiB, innodb_flush_log_at_trx_commit ',
                          @@innodb_flush_log_at_trx_commit, ', autoinc lock mode ',
                          @@innodb_autoinc_lock_mode, ', tmpdir ', @@tmpdir)"
}

# A free loopback port for the API.
port=
for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || die "no free port found"
url=http://127.0.0.1:$port

digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
ingest_tok=bench-ingest-$RANDOM$RANDOM
admin_tok=bench-admin-$RANDOM$RANDOM
insp_tok=bench-insp-$RANDOM$RANDOM

# new_db DB RULES_DIR [API_THREADS]: a migrated database DB and its
# configuration $work/DB.yaml (tokens: ingest, admin, inspector of 3701)
new_db() {
    cat >"$work/$1.yaml" <<YAML
database:
  socket: $sock
  user: root
  name: $1
rules: $2
listen: 127.0.0.1:$port
engine: {poll_ms: 50, batch: 2000}
api: {threads: ${3:-4}, max_batch: 1000, page_max: 500}
tokens:
  - {name: case-system, role: ingest, sha256: $(digest "$ingest_tok")}
  - {name: admin, role: admin, sha256: $(digest "$admin_tok")}
  - {name: inspector-3701, role: inspector, unit: "3701", sha256: $(digest "$insp_tok")}
log: {level: info}
YAML
    "$cw" migrate --config "$work/$1.yaml" >/dev/null 2>"$work/migrate.log" || {
        cat "$work/migrate.log" >&2; die "migrate $1 failed"; }
}

# start_serve DB [ARGS...]: `casewarden serve` on DB in the background,
# each line of its log stamped with the time it came; waits until
# /readyz answers 200 and sets $ready_s (seconds from the start).
start_serve() {
    local db=$1 t0 code
    shift
    serve_log=$work/serve-$db-$RANDOM.log
    t0=$(now_s)
    "$cw" serve --config "$work/$db.yaml" "$@" \
        2> >(while IFS= read -r l; do printf '%s %s\n' "${EPOCHREALTIME/,/.}" "$l"; done >"$serve_log") &
    serve_pid=$!
    for _ in $(seq 1 30000); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz" 2>/dev/null || true)
        # shellcheck disable=SC2034  # read by the scripts that source this file
        [ "$code" = 200 ] && { ready_s=$(elapsed "$t0"); return 0; }
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.02
    done
    sleep 0.2
    tail -n 20 "$serve_log" >&2
    die "serve on $db did not become ready"
}

# stop_serve: SIGTERM to the serve we started, and wait for it
stop_serve() {
    [ -n "$serve_pid" ] || return 0
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    serve_pid=
}

# serve_warnings: the warning and error lines serve logged, at most 5
serve_warnings() {
    grep -E 'casewarden: (warning|error):' "$serve_log" 2>/dev/null | cut -d' ' -f2- | head -n 5 |
        sed 's/^/    serve log: /' || true
}

# checkpoint DB: the seq up to which the engine has evaluated
checkpoint() { sql "$1" "SELECT COALESCE(MAX(seq), 0) FROM engine_checkpoint"; }

# wait_checkpoint DB N SECONDS: until the engine has evaluated up to N;
# prints the seconds it took, or "timeout"
wait_checkpoint() {
    local t0 c
    t0=$(now_s)
    while :; do
        c=$(checkpoint "$1")
        [ "$c" -ge "$2" ] && { elapsed "$t0"; return 0; }
        [ "$(elapsed "$t0" | cut -d. -f1)" -ge "$3" ] && { echo timeout; return 1; }
        sleep 0.05
    done
}

# machine: one line about the machine and its load now
machine() {
    local model
    model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
    echo "$(nproc) CPUs (${model:-unknown}), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
