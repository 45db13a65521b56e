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

MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}
INSTALL_DB=${MARIADB_INSTALL_DB:-/usr/bin/mariadb-install-db}
CLIENT=${MARIADB_CLIENT:-/usr/bin/mariadb}
for f in "$MARIADBD" "$INSTALL_DB" "$CLIENT"; do
    if [ ! -x "$f" ]; then
        echo "with-mariadb: $f not found: scripts/deps.sh installs mariadb-server" >&2
        exit 1
    fi
done

# The server refuses to run as root unless told to: run it as mysql (the
# Debian package's user), or as the current user when not root.
if [ "$(id -u)" -eq 0 ]; then
    DBUSER_OS=mysql
    if ! id "$DBUSER_OS" >/dev/null 2>&1; then
        echo "with-mariadb: no user mysql (the mariadb-server package creates it)" >&2
        exit 1
    fi
    as_db() { runuser -u "$DBUSER_OS" -- "$@"; }
else
    DBUSER_OS=$(id -un)
    as_db() { "$@"; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-mariadb.XXXXXX") || exit 1
data="$tmp/data"
sock="$tmp/mysqld.sock"
log="$tmp/server.log"
pid=""

cleanup() {
    if [ -n "$pid" ]; then
        # Stop the server by its own pid (runuser does not pass signals
        # on); a clean shutdown takes a second, a server that hangs is killed.
        spid=$(cat "$tmp/mariadbd.pid" 2>/dev/null)
        [ -n "$spid" ] || spid=$pid
        kill -TERM "$spid" 2>/dev/null
        i=0
        while kill -0 "$spid" 2>/dev/null && [ "$i" -lt 200 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$spid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
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

# A free port: bind port 0 and keep what the kernel gave. Another process
# may take it before the server does; the server then fails to start and
# the next attempt picks another.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + $$ % 20000))
}

[ "$(id -u)" -eq 0 ] && chown "$DBUSER_OS" "$tmp"
cwd=$(pwd)
cd / || exit 1 # the server user may not be able to read the caller's cwd

as_db "$INSTALL_DB" --no-defaults --datadir="$data" --user="$DBUSER_OS" \
    --auth-root-authentication-method=normal --skip-test-db \
    >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "mariadb-install-db failed"; }

# Durability off because the data is thrown away, which makes the tests'
# many small transactions fast; a short lock wait so a deadlock-prone test
# fails fast rather than hanging; recursive CTEs (the tests' row generators)
# as long as PostgreSQL and SQLite allow. Text sorts by the Unicode
# collation (alice < Bob < Carl), as most applications' databases do, and
# compares case- and accent-sensitively, as keys must ('b' is not 'B').
attempt=0
while :; do
    attempt=$((attempt + 1))
    port=$(free_port)
    : >"$log"
    [ "$(id -u)" -eq 0 ] && chown "$DBUSER_OS" "$log"
    as_db "$MARIADBD" --no-defaults --datadir="$data" --socket="$sock" \
        --port="$port" --bind-address=127.0.0.1 --pid-file="$tmp/mariadbd.pid" \
        --log-error="$log" --skip-log-bin --innodb-flush-log-at-trx-commit=0 \
        --innodb-doublewrite=0 --sync-binlog=0 --innodb-buffer-pool-size=64M \
        --innodb-log-file-size=48M --max-connections=200 --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_uca1400_as_cs \
        --innodb-lock-wait-timeout=10 --max-recursive-iterations=1000000 >>"$tmp/start.log" 2>&1 &
    pid=$!
    i=0
    while [ "$i" -lt 300 ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            pid=""
            break
        fi
        "$CLIENT" --no-defaults -uroot --socket="$sock" -e 'SELECT 1' \
            >/dev/null 2>&1 && break
        sleep 0.1
        i=$((i + 1))
    done
    [ -n "$pid" ] && [ "$i" -lt 300 ] && break
    grep -q -i "address already in use" "$log" && [ "$attempt" -lt 5 ] && continue
    fail "the server did not start"
done

"$CLIENT" --no-defaults -uroot --socket="$sock" >"$tmp/setup.log" 2>&1 <<'EOF' ||
CREATE DATABASE m2m;
CREATE USER 'm2m'@'localhost' IDENTIFIED BY 'm2m';
CREATE USER 'm2m'@'127.0.0.1' IDENTIFIED BY 'm2m';
GRANT ALL PRIVILEGES ON *.* TO 'm2m'@'localhost';
GRANT ALL PRIVILEGES ON *.* TO 'm2m'@'127.0.0.1';
EOF
    { cat "$tmp/setup.log" >&2; fail "creating the database and user failed"; }

M2M_TEST_MARIADB="mariadb://m2m:m2m@127.0.0.1:$port/m2m"
M2M_TEST_MARIADB_SOCKET="$sock"
export M2M_TEST_MARIADB M2M_TEST_MARIADB_SOCKET

cd "$cwd" || exit 1
"$@"
status=$?
exit "$status"
