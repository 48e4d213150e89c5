#!/usr/bin/env bash
# One node of a Galera cluster that galera-start.sh started under DIR:
# kill it (SIGKILL, as a crash), stop it (a clean shutdown), or start it
# again. A node killed has no saved position (grastate.dat says seqno -1):
# `mariadbd --wsrep-recover` reads it from InnoDB, and the node starts with
# --wsrep-start-position=UUID:SEQNO, so it asks the others only for the
# writes it missed (IST, from their gcache) instead of a whole copy (SST).
# `start` waits until the node is Synced and says how it caught up.
#
# Usage: scripts/galera-node.sh DIR kill|stop|start N
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: galera-node.sh DIR kill|stop|start N

Act on node N of the Galera cluster under DIR (started by galera-start.sh):
  kill    SIGKILL its mariadbd (a crash: no position saved); waits until gone
  stop    a clean shutdown (SIGTERM); waits until gone, at most 60 s
  start   start it again: after a kill, `mariadbd --wsrep-recover` first and
          --wsrep-start-position with the position it prints; waits until the
          node is Synced (at most 60 s) and prints one line
            node N synced after MS ms by IST (K writesets)|SST (position UUID:SEQNO)
          from its log (DIR/nodeN/error.log): IST, the writes it missed
          sent by a member, or SST, a whole copy
Exits non-zero when the node is not in the state asked for.
EOF
}

say() { echo "galera: $*" >&2; }
die() { say "error: $*"; exit 1; }

case "${1-}" in
    -h|--help) usage; exit 0 ;;
    --) shift ;;
    -*) usage >&2; exit 2 ;;
esac
if [ $# -ne 3 ] || [ -z "$1" ]; then usage >&2; exit 2; fi
action=$2
n=$3
case $action in kill|stop|start) ;; *) usage >&2; exit 2 ;; esac
[[ $n =~ ^[1-9]$ ]] || die "N must be a node number from 1 to 9, not '$n'"
[ -d "$1" ] || die "no directory $1"
dir=$(cd -P -- "$1" && pwd)
d=$dir/node$n
[ -f "$d/my.cnf" ] || die "$d/my.cnf not found: no node $n of a galera-start.sh cluster in $dir"
export PATH=$PATH:/usr/sbin:/sbin

now_ms() { echo $(( ${EPOCHREALTIME/[.,]/} / 1000 )); }
# the pid of node n's mariadbd: the one of its pid file (left behind by a
# kill) if it still runs with node n's --defaults-file, else the one
# whose command line has it (a node still starting)
is_node() {   # is_node PID
    { tr '\0' '\n' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qx -- "--defaults-file=$d/my.cnf"
}
server() {
    local p pid
    pid=$(cat "$d/mysqld.pid" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && is_node "$pid"; then echo "$pid"; return 0; fi
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        is_node "$pid" || continue
        case $(tr '\0' '\n' <"$p/cmdline" 2>/dev/null | head -n1) in
            *mariadbd|*mysqld) echo "$pid"; return 0 ;;
        esac
    done
    return 1
}
gone() {   # gone PID SECONDS: until PID is no more
    local i
    for ((i = 0; i < $2 * 50; i++)); do
        is_node "$1" || return 0
        sleep 0.02
    done
    return 1
}
status() {   # status VARIABLE
    timeout 10 mariadb --no-defaults --socket="$d/mysqld.sock" -u root -N -B \
        -e "SHOW GLOBAL STATUS LIKE '$1'" 2>/dev/null | cut -f2
}

case $action in
kill|stop)
    pid=$(server) || die "node $n is not running"
    t0=$(now_ms)
    if [ "$action" = kill ]; then kill -KILL "$pid"; limit=10; else kill -TERM "$pid"; limit=60; fi
    gone "$pid" "$limit" || die "node $n (pid $pid) is still there after $limit s"
    say "node $n ${action/stop/stopp}ed after $(( $(now_ms) - t0 )) ms"
    ;;
start)
    ! server >/dev/null || die "node $n is running already"
    t0=$(now_ms)
    extra=()
    pos=
    seqno=$(sed -n 's/^seqno:[[:space:]]*//p' "$d/data/grastate.dat" 2>/dev/null || true)
    if [ "${seqno:--1}" = -1 ]; then
        # a crash left no position: InnoDB has it
        : >"$d/recover.log"
        chown mysql:mysql "$d/recover.log"
        timeout 120 mariadbd --defaults-file="$d/my.cnf" --wsrep-recover \
            --log-error="$d/recover.log" </dev/null >/dev/null 2>&1 ||
            { tail -n 20 "$d/recover.log" | sed 's/^/galera:   /' >&2; die "mariadbd --wsrep-recover failed on node $n"; }
        pos=$(sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' "$d/recover.log" | tail -n1)
        [ -n "$pos" ] || { tail -n 20 "$d/recover.log" | sed 's/^/galera:   /' >&2; die "no recovered position in $d/recover.log"; }
        say "node $n: recovered position $pos ($(( $(now_ms) - t0 )) ms)"
        extra=(--wsrep-start-position="$pos")
    else
        pos="$(sed -n 's/^uuid:[[:space:]]*//p' "$d/data/grastate.dat"):$seqno"
    fi
    # what the log says from here on is this start's
    from=$(($(stat -c %s "$d/error.log" 2>/dev/null || echo 0) + 1))
    setsid mariadbd --defaults-file="$d/my.cnf" "${extra[@]}" \
        </dev/null >>"$d/error.log" 2>&1 &
    pid=$!
    synced=
    for ((i = 0; i < 600; i++)); do
        if [ -S "$d/mysqld.sock" ] && [ "$(status wsrep_local_state_comment)" = Synced ]; then
            synced=$(now_ms); break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$synced" ]; then
        tail -c +"$from" "$d/error.log" | tail -n 30 | sed 's/^/galera:   /' >&2
        die "node $n did not reach Synced within 60 s"
    fi
    log=$(tail -c +"$from" "$d/error.log")
    # rsync's script runs at every join; it says which transfer it made:
    # "rsync SST completed" (a whole copy) or "rsync IST completed" (none:
    # the writes missed come by IST, "Receiving IST: N writesets")
    if grep -q "SST completed on joiner" <<<"$log"; then
        how=SST
    elif grep -q "IST received" <<<"$log"; then
        how="IST ($(sed -n 's/.*Receiving IST: \([0-9]*\) writesets.*/\1/p' <<<"$log" | head -n1) writesets)"
    else
        how="neither IST nor SST (nothing to catch up)"
    fi
    echo "node $n synced after $(( synced - t0 )) ms by $how (position $pos)"
    grep -E "completed on joiner|Receiving IST:|IST received" <<<"$log" | head -n 3 | sed 's/^/galera:   /' >&2 || true
    ;;
esac
