#!/usr/bin/env bash
# Start a private MariaDB Galera cluster of NODES nodes (default 3) on
# 127.0.0.1, all its files under DIR: DIR/nodeN holds node N's data, its
# option file (my.cnf), socket, pid file and log. Every node gets ports of
# its own, chosen at random for this run (client, group communication, IST,
# SST), so clusters of other people on this machine never collide. mariadbd
# runs as the `mysql` user; the first node bootstraps the cluster
# (--wsrep-new-cluster), the others join one after another by rsync SST.
# The failure detector's timeouts (evs.*) are shorter than Galera's
# defaults, so a node that is gone is declared so in about 2 s, not 5.
#
# Usage: scripts/galera-start.sh DIR [NODES]
# Prints progress on stderr; on stdout one line per node:
#   N PORT SOCKET
# and writes the same lines to DIR/nodes. root connects without a password
# over a node's socket or on 127.0.0.1:PORT. Stop it with
# scripts/galera-stop.sh DIR.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: galera-start.sh DIR [NODES]

Start a MariaDB Galera cluster of NODES nodes (default 3, at least 1) on
127.0.0.1 with all its files under DIR (DIR/nodeN: data, my.cnf, socket
mysqld.sock, pid file, error.log). Ports are chosen at random for this
run and printed, one line per node, "N PORT SOCKET" (also in DIR/nodes).
root connects without a password:
  mariadb --no-defaults --socket=DIR/node1/mysqld.sock -u root
  mariadb --no-defaults -h 127.0.0.1 -P PORT -u root
DIR must not hold a cluster already. Stop it with galera-stop.sh DIR.
EOF
}

say() { echo "galera: $*" >&2; }
die() { say "error: $*"; exit 1; }

case "${1-}" in
    -h|--help) usage; exit 0 ;;
    --) shift ;;
    -*) usage >&2; exit 2 ;;
esac
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then usage >&2; exit 2; fi
nodes=${2:-3}
[[ $nodes =~ ^[1-9]$ ]] || die "NODES must be 1 to 9, not '$nodes'"

export PATH=$PATH:/usr/sbin:/sbin
for tool in mariadbd mariadb-install-db mariadb-admin mariadb rsync ss setsid timeout; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run scripts/deps.sh)"
done
provider=/usr/lib/galera/libgalera_smm.so
[ -f "$provider" ] || die "$provider not found (the galera-4 package; run scripts/deps.sh)"
id mysql >/dev/null 2>&1 || die "there is no mysql user (it comes with mariadb-server)"

mkdir -p -- "$1"
dir=$(cd -P -- "$1" && pwd)
[ ! -e "$dir/nodes" ] || die "$dir holds a cluster already (galera-stop.sh it, or use another DIR)"
sock_max=$(printf %s "$dir/node1/mysqld.sock" | wc -c)
[ "$sock_max" -le 107 ] || die "socket paths under $dir are longer than 107 bytes; use a shorter DIR"

# mariadbd runs as mysql: it must reach DIR through every parent
# (mktemp -d makes them 0700).
chmod 0755 "$dir"
p=$dir
while p=$(dirname "$p") && [ "$p" != / ]; do
    perm=$(stat -c %A "$p")
    [ "${perm:9:1}" = x ] || [ "${perm:9:1}" = t ] || chmod o+x "$p"
done

# Ports: random, free now, none twice in this cluster, and below the
# kernel's ephemeral range (ip_local_port_range), so that no outgoing
# connection takes the port of a node stopped and started again
# (galera-node.sh).
taken=" "
eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[[ $eph =~ ^[0-9]+$ ]] && [ "$eph" -gt 12000 ] || eph=32768
pick() {   # pick: a port into $got
    local i
    for ((i = 0; i < 200; i++)); do
        got=$((10000 + RANDOM % (eph - 10000)))
        case $taken in *" $got "*) continue ;; esac
        ss -Hltn "sport = :$got" 2>/dev/null | grep -q . && continue
        taken="$taken$got "
        return
    done
    die "no free port found"
}
declare -a cport gport iport sport
for ((n = 1; n <= nodes; n++)); do
    pick; cport[n]=$got; pick; gport[n]=$got; pick; iport[n]=$got; pick; sport[n]=$got
done
members=
for ((n = 1; n <= nodes; n++)); do members+="${members:+,}127.0.0.1:${gport[n]}"; done
cluster=cw-$$-$RANDOM

# Failure detection a little shorter than Galera's defaults (suspect 5 s,
# inactive 15 s) but not so short that a node busy on a loaded machine
# (an SST, a burst of fsyncs) is taken for dead: a node gone is dropped from
# the primary component in about 5 s. The ordering Galera demands:
# keepalive <= inactive_check <= suspect <= inactive, install <= inactive.
evs="evs.keepalive_period=PT1S;evs.inactive_check_period=PT1S;evs.suspect_timeout=PT5S"
evs+=";evs.inactive_timeout=PT10S;evs.install_timeout=PT7.5S"

for ((n = 1; n <= nodes; n++)); do
    d=$dir/node$n
    mkdir -p "$d/data"
    cat >"$d/my.cnf" <<EOF
[mariadbd]
user = mysql
datadir = $d/data
socket = $d/mysqld.sock
pid-file = $d/mysqld.pid
log-error = $d/error.log
port = ${cport[n]}
bind-address = 127.0.0.1
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb-buffer-pool-size = 64M
innodb-log-file-size = 16M
# Galera: row events, interleaved AUTO_INCREMENT locks
binlog-format = ROW
default-storage-engine = InnoDB
innodb-autoinc-lock-mode = 2
wsrep-on = ON
wsrep-provider = $provider
wsrep-cluster-name = $cluster
wsrep-cluster-address = gcomm://$members
wsrep-node-name = node$n
wsrep-node-address = 127.0.0.1:${gport[n]}
wsrep-sst-method = rsync
wsrep-sst-receive-address = 127.0.0.1:${sport[n]}
wsrep-provider-options = "gmcast.listen_addr=tcp://127.0.0.1:${gport[n]};ist.recv_addr=127.0.0.1:${iport[n]};gcache.size=64M;$evs"
EOF
done

# Only the first node is initialised; the others receive its data by SST.
say "initialising node 1 in $dir/node1"
if ! out=$(mariadb-install-db --no-defaults --datadir="$dir/node1/data" \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=16M </dev/null 2>&1); then
    printf '%s\n' "$out" | tail -n 20 | sed 's/^/galera:   /' >&2
    die "mariadb-install-db failed"
fi
chown -R mysql:mysql "$dir"/node*

admin() { timeout 10 mariadb-admin --no-defaults --socket="$dir/node$1/mysqld.sock" --user=root \
              --connect-timeout=2 "${@:2}"; }
status() {   # status N VARIABLE
    timeout 10 mariadb --no-defaults --socket="$dir/node$1/mysqld.sock" -u root -N -B \
        -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2
}
show_log() {
    [ -s "$dir/node$1/error.log" ] || return 0
    say "last lines of $dir/node$1/error.log:"
    tail -n 30 "$dir/node$1/error.log" | sed 's/^/galera:   /' >&2
}
# A start that fails (a port taken by someone else since it was picked, a
# joiner that lost the donor on a loaded machine) is tried again from
# nothing, on other ports, three times in all; each failure's logs are shown.
attempt=${GALERA_ATTEMPT:-1}
again_or_die() {   # again_or_die MESSAGE
    local m
    say "$1 (attempt $attempt of 3)"
    for ((m = 1; m <= nodes; m++)); do show_log "$m"; done
    [ "$attempt" -lt 3 ] || die "$1"
    say "starting the cluster again on other ports"
    "$(dirname "$0")/galera-stop.sh" "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"/node* "$dir/nodes.tmp"
    GALERA_ATTEMPT=$((attempt + 1)) exec "$0" "$dir" "$nodes"
}
wait_synced() {   # wait_synced N PID: until node N is Synced, at most 60 s
    local i
    for ((i = 0; i < 300; i++)); do
        if [ -S "$dir/node$1/mysqld.sock" ] && admin "$1" ping >/dev/null 2>&1 &&
           [ "$(status "$1" wsrep_local_state_comment)" = Synced ]; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || again_or_die "node $1 exited during startup"
        sleep 0.2
    done
    again_or_die "node $1 did not reach Synced within 60 s"
}

: >"$dir/nodes.tmp"
for ((n = 1; n <= nodes; n++)); do
    t0=${EPOCHREALTIME/[.,]/}
    extra=()
    [ "$n" = 1 ] && extra=(--wsrep-new-cluster)
    say "starting node $n (port ${cport[n]}, group ${gport[n]})"
    # --defaults-file must come first; a new session without our terminal
    setsid mariadbd --defaults-file="$dir/node$n/my.cnf" "${extra[@]}" \
        </dev/null >>"$dir/node$n/error.log" 2>&1 &
    wait_synced "$n" "$!"
    say "node $n synced after $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 )) ms"
    echo "$n ${cport[n]} $dir/node$n/mysqld.sock" >>"$dir/nodes.tmp"
done
size=$(status 1 wsrep_cluster_size)
[ "$size" = "$nodes" ] || again_or_die "the cluster has ${size:-no} nodes, not $nodes"
# root on 127.0.0.1 too (TCP), replicated to every node
timeout 10 mariadb --no-defaults --socket="$dir/node1/mysqld.sock" -u root -e \
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION" ||
    die "cannot create root@127.0.0.1"
mv "$dir/nodes.tmp" "$dir/nodes"
cat "$dir/nodes"
