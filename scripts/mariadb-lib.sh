# Sourced by mariadb-start.sh and mariadb-stop.sh once they have set
# $datadir (absolute, symlink-free) and $pidfile.

# The pid of the mariadbd serving $datadir, or nothing. A process counts only
# if its command line has our exact --datadir, so a stale pid file whose pid
# was reused, a zombie, or any other mariadbd on the machine never match.
ours() {   # ours PID: is PID a live mariadbd started on $datadir?
    local arg n=0
    while IFS= read -r -d '' arg; do
        if [ $n = 0 ]; then
            case ${arg##*/} in mariadbd|mysqld) ;; *) return 1 ;; esac
        fi
        n=1
        [ "$arg" = "--datadir=$datadir" ] && return 0
    done 2>/dev/null <"/proc/$1/cmdline"
    return 1
}
server_pid() {
    local pid d
    if [ -f "$pidfile" ]; then
        pid=$(tr -dc 0-9 <"$pidfile" 2>/dev/null || true)
        if [ -n "$pid" ] && ours "$pid"; then echo "$pid"; return; fi
    fi
    for d in /proc/[0-9]*; do     # no (or stale) pid file: look for it
        pid=${d#/proc/}
        if ours "$pid"; then echo "$pid"; return; fi
    done
}
