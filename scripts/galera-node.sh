#!/bin/sh
# SPDX-License-Identifier: MIT
# galera-node.sh ACTION N: one node of the cluster scripts/with-galera.sh
# started (its directory is $M2M_TEST_GALERA_DIR). Tests call it to take a
# node down and bring it back in the middle of a run.
#   start N [--new-cluster]  start node N and wait until it is Synced
#                            (--new-cluster: bootstrap a cluster with it)
#   kill N                   SIGKILL node N's server, as a crash would
#   wait N                   wait until node N is Synced in a cluster of three
# Exits 0 on success; otherwise says why on stderr (with the end of the
# node's log) and exits 1. Waits are bounded ($M2M_GALERA_WAIT seconds,
# default 120).
set -u

here=$(cd "$(dirname "$0")" && pwd)
ME=galera-node
. "$here/mariadb-lib.sh"

if [ "$#" -lt 2 ] || [ -z "${M2M_TEST_GALERA_DIR:-}" ]; then
    echo "usage: M2M_TEST_GALERA_DIR=DIR scripts/galera-node.sh start|kill|wait N" >&2
    exit 2
fi
action=$1
n=$2
dir="$M2M_TEST_GALERA_DIR/n$n"
[ -f "$dir/my.cnf" ] || { echo "$ME: no node $n in $M2M_TEST_GALERA_DIR" >&2; exit 2; }
my_drop_privileges
sock="$dir/mysqld.sock"
log="$dir/server.log"
limit=$((${M2M_GALERA_WAIT:-120} * 10))

fail() {
    echo "$ME: node $n: $1" >&2
    [ -f "$log" ] && tail -n 30 "$log" | sed "s/^/$ME: node $n: server: /" >&2
    exit 1
}

# wsrep_cluster_size and wsrep_local_state_comment, on one line.
state() {
    "$CLIENT" --no-defaults -uroot --socket="$sock" -N -B -e \
        "SELECT GROUP_CONCAT(VARIABLE_VALUE ORDER BY VARIABLE_NAME SEPARATOR ' ')
         FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN
         ('WSREP_CLUSTER_SIZE', 'WSREP_LOCAL_STATE_COMMENT')" 2>/dev/null
}

# wait_synced SIZE: node n Synced in a cluster of SIZE (any: of any size).
wait_synced() {
    i=0
    last=""
    while [ "$i" -lt "$limit" ]; do
        last=$(state)
        case "$1 $last" in "any "*" Synced" | "$1 $1 Synced") return 0 ;; esac
        pid=$(cat "$dir/mariadbd.pid" 2>/dev/null)
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            fail "the server exited while joining"
        fi
        sleep 0.1
        i=$((i + 1))
    done
    fail "not Synced in a cluster of $1 after ${M2M_GALERA_WAIT:-120} s (last: ${last:-no answer})"
}

case "$action" in
kill)
    pid=$(cat "$dir/mariadbd.pid" 2>/dev/null)
    [ -n "$pid" ] || fail "no pid file"
    kill -KILL "$pid" || fail "cannot kill $pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    rm -f "$dir/mariadbd.pid"
    ;;
start)
    cd / || exit 1 # the server user may not be able to read the caller's cwd
    extra=""
    if [ "${3:-}" = "--new-cluster" ]; then
        extra="--wsrep-new-cluster"
    elif [ -f "$dir/data/grastate.dat" ]; then
        # A node that crashed does not know its last transaction; InnoDB
        # does. With it the node catches up by IST from a donor's cache
        # instead of copying everything (SST).
        rm -f "$dir/recover.log"
        as_db "$MARIADBD" --defaults-file="$dir/my.cnf" --wsrep-recover \
            --log-error="$dir/recover.log" >/dev/null 2>&1
        pos=$(sed -n 's/.*WSREP: Recovered position: *//p' "$dir/recover.log" | tail -n 1)
        [ -n "$pos" ] && extra="--wsrep-start-position=$pos"
    fi
    # Detached, with no descriptor of the caller's: a test's system() returns.
    set -- "$MARIADBD" --defaults-file="$dir/my.cnf" $extra
    [ "$(id -u)" -eq 0 ] && set -- runuser -u "$DBUSER_OS" -- "$@"
    setsid "$@" </dev/null >>"$dir/start.log" 2>&1 &
    wait_synced any
    ;;
wait)
    wait_synced 3
    ;;
*)
    echo "$ME: unknown action $action" >&2
    exit 2
    ;;
esac
exit 0
