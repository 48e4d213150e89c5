#!/usr/bin/env bash
# Stop the private MariaDB server that scripts/mariadb-start.sh started on
# DATADIR: a clean shutdown over its socket, then SIGTERM and at last SIGKILL
# if it does not exit. Succeeds quietly if no server runs on DATADIR.
# Only the mariadbd whose command line names DATADIR is ever signalled.
#
# Usage: scripts/mariadb-stop.sh DATADIR
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: mariadb-stop.sh DATADIR

Stop the MariaDB server started by mariadb-start.sh DATADIR: shut it down
cleanly over DATADIR/mysqld.sock and wait for it to exit; if it has not
exited after 30 s, send it SIGTERM, then SIGKILL. Succeeds quietly if no
server is running on DATADIR. No other mariadbd is ever touched.
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

[ -d "$1" ] || exit 0                    # no datadir, no server
datadir=$(cd -P -- "$1" && pwd) || die "cannot enter '$1'"
sock=$datadir/mysqld.sock
pidfile=$datadir/mysqld.pid

# Wait for a start or stop in progress on this datadir (see mariadb-start.sh).
exec 9<"$datadir"
flock -w 120 9 || die "timed out waiting for another start/stop on $datadir"

# ours PID and server_pid: the mariadbd serving $datadir
. "$(dirname "$0")/mariadb-lib.sh"
gone() {   # gone PID SECONDS: wait for PID to exit; false if it has not
    local i
    for ((i = 0; i < $2 * 5; i++)); do
        ours "$1" || return 0     # a zombie has no command line: gone too
        sleep 0.2
    done
    ! ours "$1"
}

pid=$(server_pid)
if [ -z "$pid" ]; then
    rm -f -- "$pidfile" "$sock"          # stale leftovers, if any
    exit 0
fi

say "stopping mariadbd (pid $pid) on $datadir"
# The SQL SHUTDOWN statement does what "mariadb-admin shutdown" does, but
# mariadb-admin then polls the pid file once a second: a fixed extra second
# per stop. We poll the process ourselves, every 0.2 s.
if timeout 10 mariadb --no-defaults --socket="$sock" --user=root \
        --connect-timeout=2 --batch -e SHUTDOWN </dev/null >/dev/null 2>&1 9<&-; then
    gone "$pid" 30 && { say "stopped"; exit 0; }
    say "still running after 30 s; sending SIGTERM"
else
    say "shutdown over the socket failed; sending SIGTERM"
fi
if ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
gone "$pid" 30 && { rm -f -- "$sock"; say "stopped"; exit 0; }
say "still running after SIGTERM; sending SIGKILL"
if ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
gone "$pid" 10 || die "mariadbd (pid $pid) did not die"
rm -f -- "$pidfile" "$sock"
say "killed"
