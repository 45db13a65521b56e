#!/bin/sh
# SPDX-License-Identifier: MIT
# with-galera.sh CMD...: run CMD against a throwaway three-node MariaDB
# Galera cluster on 127.0.0.1.
#
# The nodes live in a fresh temp dir (n1, n2, n3), each with its own data
# directory, unix socket, and free TCP ports (SQL, group communication,
# IST, SST). Node 1 bootstraps the cluster, nodes 2 and 3 join it by rsync
# state transfer; CMD runs once all three are Synced in a cluster of three.
# Everything is stopped and removed afterwards, also when CMD fails or the
# run is interrupted. CMD sees:
#   M2M_TEST_GALERA_1, _2, _3  mariadb:// URLs of the database m2m on each
#                              node (user m2m, password m2m, may create and
#                              drop databases)
#   M2M_TEST_GALERA_DIR        the cluster's directory (nN/mariadbd.pid is
#                              node N's pid file)
#   M2M_TEST_GALERA_NODE       scripts/galera-node.sh: `$M2M_TEST_GALERA_NODE
#                              kill 2` SIGKILLs node 2, `... start 2` restarts
#                              it and waits until it is Synced again
# The script exits with CMD's status. It installs nothing (scripts/deps.sh
# installs mariadb-server, galera-4 and rsync): if the cluster cannot form
# the run fails, naming the node and showing its log.
set -u

if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-galera.sh CMD [ARGS...]" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
ME=with-galera
. "$here/mariadb-lib.sh"
PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
my_check_bins "$PROVIDER" /usr/bin/rsync /usr/bin/wsrep_sst_rsync
my_drop_privileges

tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-galera.XXXXXX") || exit 1
M2M_TEST_GALERA_DIR=$tmp
M2M_TEST_GALERA_NODE="$here/galera-node.sh"
export M2M_TEST_GALERA_DIR M2M_TEST_GALERA_NODE

cleanup() {
    # Joiners first, so the bootstrap node does not wait for them to leave.
    for n in 3 2 1; do
        my_stop "$tmp/n$n/mariadbd.pid" &
    done
    wait
    rm -rf "$tmp"
}
trap 'cleanup' EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM
trap 'cleanup; trap - EXIT; exit 129' HUP

fail() {
    echo "with-galera: $1" >&2
    exit 1
}

# Twelve distinct free ports: SQL, group communication, IST, SST per node.
ports=""
while [ "$(echo "$ports" | wc -w)" -lt 12 ]; do
    p=$(free_port "$(echo "$ports" | wc -w)")
    case " $ports " in *" $p "*) continue ;; esac
    ports="$ports $p"
done
port() { echo "$ports" | tr -s ' ' '\n' | sed '/^$/d' | sed -n "$1p"; }
gcomm="gcomm://127.0.0.1:$(port 2),127.0.0.1:$(port 6),127.0.0.1:$(port 10)"

# Each node's option file: the settings of every test server, and Galera's.
# Galera replicates InnoDB only, in row format, with interleaved
# auto-increment locks. A node that stops answering is suspected after 2 s
# and dropped from the cluster after 4 s (defaults 5 s and 15 s), so the
# others' writes do not stall long on a killed node. A replicated
# transaction that finds a row locked by a local one which is itself
# committing (and so cannot be aborted at once) waits up to
# innodb-lock-wait-timeout before it retries: 2 s rather than 10 s, or a
# writer queued behind it runs out of its own retry time.
my_own "$tmp"
for n in 1 2 3; do
    d="$tmp/n$n"
    mkdir -p "$d/data"
    b=$(((n - 1) * 4))
    {
        echo "[mariadbd]"
        my_settings
        cat <<EOF
datadir=$d/data
socket=$d/mysqld.sock
port=$(port $((b + 1)))
pid-file=$d/mariadbd.pid
log-error=$d/server.log
binlog-format=ROW
default-storage-engine=InnoDB
innodb-autoinc-lock-mode=2
innodb-lock-wait-timeout=2
wsrep-on=ON
wsrep-provider=$PROVIDER
wsrep-cluster-name=m2m_test
wsrep-cluster-address=$gcomm
wsrep-node-name=n$n
wsrep-node-address=127.0.0.1:$(port $((b + 2)))
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:$(port $((b + 4)))
wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:$(port $((b + 2)));ist.recv_addr=127.0.0.1:$(port $((b + 3)));gcache.size=64M;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.inactive_check_period=PT0.5S;evs.keepalive_period=PT0.5S
EOF
    } >"$d/my.cnf"
    chmod 644 "$d/my.cnf"
    my_own -R "$d"
done

cwd=$(pwd)
cd / || exit 1 # the server user may not be able to read the caller's cwd

my_install_db "$tmp/n1/data" "$tmp/install.log" ||
    { cat "$tmp/install.log" >&2; fail "mariadb-install-db failed"; }
"$here/galera-node.sh" start 1 --new-cluster || fail "node 1 did not bootstrap the cluster"
my_create_user "$tmp/n1/mysqld.sock" "$tmp/setup.log" ||
    { cat "$tmp/setup.log" >&2; fail "creating the database and user failed"; }
# One joiner at a time: each copies the data of a Synced donor.
for n in 2 3; do
    "$here/galera-node.sh" start "$n" || fail "node $n did not join the cluster"
done
for n in 1 2 3; do
    "$here/galera-node.sh" wait "$n" || fail "node $n is not Synced"
done

for n in 1 2 3; do
    eval "M2M_TEST_GALERA_$n=\"mariadb://m2m:m2m@127.0.0.1:\$(port \$(((n - 1) * 4 + 1)))/m2m\""
    export "M2M_TEST_GALERA_$n"
done

cd "$cwd" || exit 1
"$@"
status=$?
exit "$status"
