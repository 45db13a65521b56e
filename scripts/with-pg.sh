#!/bin/sh
# SPDX-License-Identifier: MIT
# with-pg.sh CMD...: run CMD against a throwaway PostgreSQL 15 cluster.
#
# The cluster lives in a fresh temp dir, listens only on a unix socket there
# (no TCP port, so parallel runs cannot collide) and is removed afterwards,
# also when CMD fails or the run is interrupted. CMD sees M2M_TEST_PG, a libpq
# key=value connection string; the script exits with CMD's status. If the
# server cannot start the run fails: tests are never skipped for lack of one.
# With M2M_TEST_PG already set, CMD simply runs against that server.
# M2M_PG_DEFAULTS=1 starts the server with its default settings.
set -u

if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-pg.sh CMD [ARGS...]" >&2
    exit 2
fi
if [ -n "${M2M_TEST_PG:-}" ]; then
    exec "$@"
fi

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=${M2M_PG_PORT:-54329}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
    echo "with-pg: $PG_BIN/initdb not found; installing postgresql-15" >&2
    "$here/deps.sh" || { echo "with-pg: cannot install postgresql-15" >&2; exit 1; }
fi

# PostgreSQL refuses to run as root: run the server as an unprivileged user.
if [ "$(id -u)" -eq 0 ]; then
    PGUSER_OS=postgres
    if ! id "$PGUSER_OS" >/dev/null 2>&1; then
        PGUSER_OS=m2m-pg
        id "$PGUSER_OS" >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /bin/sh "$PGUSER_OS" ||
            { echo "with-pg: cannot create user $PGUSER_OS" >&2; exit 1; }
    fi
    as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }
else
    PGUSER_OS=$(id -un)
    as_pg() { "$@"; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-pg.XXXXXX") || exit 1
data="$tmp/data"
log="$tmp/server.log"
started=0

cleanup() {
    if [ "$started" -eq 1 ]; then
        (cd / && as_pg "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop) >/dev/null 2>&1
    fi
    rm -rf "$tmp"
}
trap 'cleanup' EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM
trap 'cleanup; trap - EXIT; exit 129' HUP

fail() {
    echo "with-pg: $1" >&2
    [ -f "$log" ] && sed 's/^/with-pg: server: /' "$log" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS" "$tmp"
cwd=$(pwd)
cd / || exit 1 # the server user may not be able to read the caller's cwd

as_pg "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C \
    >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; fail "initdb failed"; }

# Unix socket in the temp dir only; durability off because the data is thrown
# away, which makes the tests' many small transactions fast. With
# M2M_PG_DEFAULTS=1 (the benchmark: W1 asks for the server's defaults) every
# other setting keeps its default.
settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
[ "${M2M_PG_DEFAULTS:-0}" = 1 ] && settings=""
as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-c listen_addresses='' \
-c unix_socket_directories='$tmp' -p $PORT $settings" start >/dev/null 2>&1 ||
    fail "the server did not start"
started=1

# The cluster's locale is C, but the tests' database sorts text by ICU's
# root collation (alice < Bob < Carl), as most applications' databases do
# not sort by bytes: a read that sorted in byte order anywhere would show.
"$PG_BIN/createdb" -h "$tmp" -p "$PORT" -U postgres --template=template0 \
    --locale-provider=icu --icu-locale=und m2m 2>"$tmp/createdb.log" ||
    { cat "$tmp/createdb.log" >&2; fail "createdb failed"; }

M2M_TEST_PG="host=$tmp port=$PORT user=postgres dbname=m2m"
export M2M_TEST_PG

cd "$cwd" || exit 1
"$@"
status=$?
exit "$status"
