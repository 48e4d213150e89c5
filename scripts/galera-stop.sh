#!/usr/bin/env bash
# Stop every node of the Galera cluster that galera-start.sh started under
# DIR: a clean shutdown, then SIGKILL for a node still there after 20 s.
# Nodes are found by their --defaults-file under DIR, so nothing else on the
# machine is touched. Safe to run twice, and on a half-started cluster.
#
# Usage: scripts/galera-stop.sh DIR
set -uo pipefail

usage() {
    cat <<'EOF'
Usage: galera-stop.sh DIR

Stop the nodes of the Galera cluster whose files are under DIR (started by
galera-start.sh DIR), and the rsync SST daemons they may have left. DIR
itself stays (remove it yourself).
EOF
}

say() { echo "galera: $*" >&2; }

case "${1-}" in
    -h|--help) usage; exit 0 ;;
    --) shift ;;
    -*) usage >&2; exit 2 ;;
esac
if [ $# -ne 1 ] || [ -z "$1" ]; then usage >&2; exit 2; fi
[ -d "$1" ] || { say "no directory $1: nothing to stop"; exit 0; }
dir=$(cd -P -- "$1" && pwd)

# pids of processes whose command line names a file under $dir/node*
ours() {
    local d pid
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [ "$pid" = $$ ] && continue
        { tr '\0' '\n' <"$d/cmdline"; } 2>/dev/null | grep -q -- "$dir/node[0-9]" && echo "$pid"
    done
}
servers() {
    local pid
    for pid in $(ours); do
        case $(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1) in
            *mariadbd|*mysqld) echo "$pid" ;;
        esac
    done
}

pids=$(servers)
[ -n "$pids" ] && say "stopping $(echo $pids | wc -w) node(s)"
for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
for ((i = 0; i < 100; i++)); do
    [ -z "$(servers)" ] && break
    sleep 0.2
done
left=$(ours)
if [ -n "$left" ]; then
    say "killing what is left: $(echo $left)"
    for pid in $left; do kill -KILL "$pid" 2>/dev/null; done
    sleep 0.3
fi
rm -f "$dir/nodes"
exit 0
