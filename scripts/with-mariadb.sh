#!/bin/sh
# SPDX-License-Identifier: MIT
# with-mariadb.sh CMD...: run CMD against a throwaway MariaDB server.
#
# The server lives in a fresh temp dir, listens on a unix socket there and on
# a free TCP port of 127.0.0.1 (found at start, so parallel runs do not
# collide), and is removed afterwards, also when CMD fails or the run is
# interrupted. CMD sees M2M_TEST_MARIADB, a mariadb:// URL of a database m2m
# and a user m2m (password m2m) that may create and drop databases, over TCP;
# M2M_TEST_MARIADB_SOCKET is the socket's path. The script exits with CMD's
# status. It installs nothing (scripts/deps.sh does): if the server cannot
# start the run fails, tests are never skipped for lack of one. With
# M2M_TEST_MARIADB already set, CMD simply runs against that server.
set -u

if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-mariadb.sh CMD [ARGS...]" >&2
    exit 2
fi
if [ -n "${M2M_TEST_MARIADB:-}" ]; then
    exec "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
ME=with-mariadb
. "$here/mariadb-lib.sh"
my_check_bins
my_drop_privileges

tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-mariadb.XXXXXX") || exit 1
data="$tmp/data"
sock="$tmp/mysqld.sock"
log="$tmp/server.log"
pid=""

cleanup() {
    [ -n "$pid" ] && my_stop "$tmp/mariadbd.pid" "$pid"
    rm -rf "$tmp"
}
trap 'cleanup' EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM
trap 'cleanup; trap - EXIT; exit 129' HUP

fail() {
    echo "with-mariadb: $1" >&2
    [ -f "$log" ] && sed 's/^/with-mariadb: server: /' "$log" >&2
    exit 1
}

my_own "$tmp"
cwd=$(pwd)
cd / || exit 1 # the server user may not be able to read the caller's cwd

my_install_db "$data" "$tmp/install.log" ||
    { cat "$tmp/install.log" >&2; fail "mariadb-install-db failed"; }

attempt=0
while :; do
    attempt=$((attempt + 1))
    port=$(free_port "$attempt")
    { echo "[mariadbd]"; my_settings; } >"$tmp/my.cnf"
    : >"$log"
    my_own "$log"
    as_db "$MARIADBD" --defaults-file="$tmp/my.cnf" --datadir="$data" --socket="$sock" \
        --port="$port" --pid-file="$tmp/mariadbd.pid" --log-error="$log" \
        --skip-log-bin >>"$tmp/start.log" 2>&1 &
    pid=$!
    my_wait_up "$pid" "$sock" 300 && break
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; pid=""; }
    [ -z "$pid" ] && grep -q -i "address already in use" "$log" && [ "$attempt" -lt 5 ] &&
        continue
    fail "the server did not start"
done

my_create_user "$sock" "$tmp/setup.log" ||
    { cat "$tmp/setup.log" >&2; fail "creating the database and user failed"; }

M2M_TEST_MARIADB="mariadb://m2m:m2m@127.0.0.1:$port/m2m"
M2M_TEST_MARIADB_SOCKET="$sock"
export M2M_TEST_MARIADB M2M_TEST_MARIADB_SOCKET

cd "$cwd" || exit 1
"$@"
status=$?
exit "$status"
