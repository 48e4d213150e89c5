#!/usr/bin/env bash
# Start a private MariaDB server for casewarden's demo and tests, with all
# its files in DATADIR (created and initialised on first use). It listens
# only on the Unix socket DATADIR/mysqld.sock (no TCP port), reads no option
# file from /etc/mysql or ~, and root connects over the socket without a
# password. Does nothing if that server is already running.
# The system's own MariaDB service is neither used nor touched.
#
# Usage: scripts/mariadb-start.sh DATADIR
# Prints progress on stderr and the socket path as the last line of stdout.
# Stop it with scripts/mariadb-stop.sh DATADIR.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: mariadb-start.sh DATADIR

Start a private MariaDB server whose data, socket (DATADIR/mysqld.sock),
pid file (DATADIR/mysqld.pid) and log (DATADIR/error.log) live in DATADIR.
DATADIR is created and initialised if it holds no database yet. No TCP port
is opened and no system option file is read; root connects over the socket
without a password:  mariadb --no-defaults --socket=DATADIR/mysqld.sock -u root
Succeeds without doing anything if the server is already running.
Prints the socket path as the last line of stdout.
Stop it with mariadb-stop.sh DATADIR.
EOF
}

say() { echo "mariadb: $*" >&2; }
die() { say "error: $*"; exit 1; }

case "${1-}" in
    -h|--help) usage; exit 0 ;;
    --) shift ;;
    -*) usage >&2; exit 2 ;;
esac
if [ $# -ne 1 ] || [ -z "$1" ]; then usage >&2; exit 2; fi

for tool in mariadbd mariadb-install-db mariadb-admin flock setsid timeout; do
    command -v "$tool" >/dev/null 2>&1 ||
        PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found (run scripts/deps.sh)"
done
export PATH=$PATH:/usr/sbin:/sbin          # mariadbd lives in /usr/sbin

# sun_path holds 107 bytes plus the NUL; mariadbd would refuse a longer
# one. Check before creating anything.
sock=$(realpath -m -- "$1")/mysqld.sock
[ "$(printf %s "$sock" | wc -c)" -le 107 ] ||
    die "socket path '$sock' is longer than 107 bytes; use a shorter DATADIR"
# Absolute, symlink-free DATADIR: the same string start and stop look for in
# the server's command line.
created=0
[ -d "$1" ] || { mkdir -p -- "$1" || die "cannot create '$1'"; created=1; }
datadir=$(cd -P -- "$1" && pwd) || die "cannot enter '$1'"
sock=$datadir/mysqld.sock
pidfile=$datadir/mysqld.pid
errlog=$datadir/error.log

# Only one start or stop at a time per DATADIR: lock the directory itself
# (no extra file in it). The server must not inherit this descriptor.
exec 9<"$datadir"
flock -w 120 9 || die "timed out waiting for another start/stop on $datadir"

# ours PID and server_pid: the mariadbd serving $datadir
. "$(dirname "$0")/mariadb-lib.sh"
admin() { timeout 10 mariadb-admin --no-defaults --socket="$sock" --user=root --connect-timeout=2 "$@"; }
answers() { [ -S "$sock" ] && admin ping >/dev/null 2>&1; }
show_log() {
    if [ -s "$errlog" ]; then
        say "last lines of $errlog:"
        tail -n 25 "$errlog" | sed 's/^/mariadb:   /' >&2
    fi
}
running() {   # running PID: does PID exist and is it not a zombie?
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "${st:0:1}" != Z ]
}
wait_ready() {   # wait_ready PID: until the server answers, at most 30 s
    local pid=$1 i dead=0
    for ((i = 0; i < 150; i++)); do
        if answers; then return 0; fi
        # PID may be our child still on its way to exec mariadbd, so test
        # it by state, not by command line; and trust death seen twice only
        if ! running "$pid" && [ -z "$(server_pid)" ]; then
            if [ $dead = 1 ]; then
                say "error: mariadbd exited during startup"
                show_log
                exit 1
            fi
            dead=1
        else
            dead=0
        fi
        sleep 0.2
    done
    say "error: mariadbd did not answer on $sock within 30 s"
    show_log
    pid=$(server_pid)
    [ -z "$pid" ] || say "it is still running (pid $pid): a later start waits for it again; mariadb-stop.sh stops it"
    exit 1
}

pid=$(server_pid)
if [ -n "$pid" ]; then
    if ! answers; then
        say "server (pid $pid) on $datadir is starting; waiting"
        wait_ready "$pid"
    fi
    say "already running (pid $pid)"
    echo "$sock"
    exit 0
fi

# Options for both the initialisation and the server: keep memory and disk
# use small for tests. Commits stay durable (innodb_flush_log_at_trx_commit
# keeps its default, 1).
innodb_opts=(--innodb-buffer-pool-size=64M --innodb-log-file-size=16M)

if [ ! -d "$datadir/mysql" ]; then
    if [ -n "$(ls -A -- "$datadir")" ]; then
        die "$datadir is not empty but holds no MariaDB database; refusing to initialise it"
    fi
    say "initialising a new database in $datadir"
    # With "normal" auth, root also gets accounts for this host's name,
    # 127.0.0.1 and ::1: useless without networking, and the host-name one
    # draws a warning at every start under --skip-name-resolve. Drop them.
    # (--extra-file must be a regular file, so no <(...).)
    extra=$(mktemp)
    # a temporary directory of its own: bootstraps side by side (tests run
    # two at a time) name their temporary tables alike in a shared /tmp
    boot_tmp=$(mktemp -d)
    trap 'rm -rf -- "$extra" "$boot_tmp"' EXIT
    cat >"$extra" <<'EOF'
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';
DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';
EOF
    # --no-defaults must come first. No --user: as root it would chown with
    # an unquoted path (breaks on spaces); bootstrap runs as root anyway.
    if ! out=$(mariadb-install-db --no-defaults --datadir="$datadir" \
            --auth-root-authentication-method=normal --skip-test-db \
            --skip-name-resolve --extra-file="$extra" --tmpdir="$boot_tmp" "${innodb_opts[@]}" \
            </dev/null 2>&1 9<&-); then
        say "error: mariadb-install-db failed:"
        printf '%s\n' "$out" | head -n 40 | sed 's/^/mariadb:   /' >&2
        # leave DATADIR as we found it, so that the next start retries
        if [ $created = 1 ]; then
            rm -rf -- "$datadir"
        else
            find "$datadir" -mindepth 1 -delete
        fi
        exit 1
    fi
    rm -rf -- "$extra" "$boot_tmp"
fi

# Nothing runs on this datadir now: pid and socket files are stale leftovers
# (e.g. after kill -9).
rm -f -- "$pidfile" "$sock"

opts=(--no-defaults                     # must be first: no /etc/mysql, no ~/.my.cnf
      --datadir="$datadir"
      --socket="$sock"
      --skip-networking                 # no TCP port at all
      --pid-file="$pidfile"
      --log-error="$errlog"
      --skip-name-resolve
      --character-set-server=utf8mb4
      --collation-server=utf8mb4_unicode_ci
      "${innodb_opts[@]}")
[ "$(id -u)" -eq 0 ] && opts+=(--user=root)   # mariadbd refuses root otherwise

say "starting mariadbd on $sock"
t0=${EPOCHREALTIME/[.,]/}
# New session, no stdin, output to the log: it must not hold the caller's
# terminal or pipes (a caller doing $(mariadb-start.sh ...) would hang).
setsid mariadbd "${opts[@]}" </dev/null >>"$errlog" 2>&1 9<&- &
wait_ready "$!"
pid=$(server_pid)
say "running (pid ${pid:-?}), ready after $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 )) ms"
echo "$sock"
