# SPDX-License-Identifier: MIT
# mariadb-lib.sh: what the throwaway MariaDB servers of with-mariadb.sh
# (one server) and with-galera.sh (a three-node Galera cluster) share:
# the binaries, running the server as an unprivileged user, free ports,
# creating a data directory, the settings of a test server, waiting for a
# server, stopping one, and the tests' database and user. Sourced, not run;
# the caller sets ME (the name its messages start with) first.

MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}
INSTALL_DB=${MARIADB_INSTALL_DB:-/usr/bin/mariadb-install-db}
CLIENT=${MARIADB_CLIENT:-/usr/bin/mariadb}

# Fails unless the server, its installer and the client are there: the
# scripts install nothing (scripts/deps.sh does).
my_check_bins() {
    for f in "$MARIADBD" "$INSTALL_DB" "$CLIENT" "$@"; do
        if [ ! -e "$f" ]; then
            echo "$ME: $f not found: scripts/deps.sh installs it" >&2
            exit 1
        fi
    done
}

# The server refuses to run as root unless told to: run it as mysql (the
# Debian package's user), or as the current user when not root. Sets
# DBUSER_OS and as_db (runs its arguments as that user).
my_drop_privileges() {
    if [ "$(id -u)" -eq 0 ]; then
        DBUSER_OS=mysql
        if ! id "$DBUSER_OS" >/dev/null 2>&1; then
            echo "$ME: no user mysql (the mariadb-server package creates it)" >&2
            exit 1
        fi
    else
        DBUSER_OS=$(id -un)
    fi
}
as_db() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$DBUSER_OS" -- "$@"
    else
        "$@"
    fi
}

# Gives the server user a file or directory it must write.
my_own() {
    [ "$(id -u)" -eq 0 ] && chown "$DBUSER_OS" "$@"
    return 0
}

# A free port: bind port 0 and keep what the kernel gave. Another process
# may take it before the server does; the server then fails to start and
# the caller's next attempt picks another.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + ($$ + ${1:-0}) % 20000))
}

# my_install_db DATADIR LOG: the system tables of a new server.
my_install_db() {
    as_db "$INSTALL_DB" --no-defaults --datadir="$1" --user="$DBUSER_OS" \
        --auth-root-authentication-method=normal --skip-test-db >"$2" 2>&1
}

# The settings of every test server, one per line (an option file's body):
# durability off because the data is thrown away, which makes the tests'
# many small transactions fast; a short lock wait so a deadlock-prone test
# fails fast rather than hanging; recursive CTEs (the tests' row generators)
# as long as PostgreSQL and SQLite allow. Text sorts by the Unicode
# collation (alice < Bob < Carl), as most applications' databases do, and
# compares case- and accent-sensitively, as keys must ('b' is not 'B').
my_settings() {
    cat <<'EOF'
bind-address=127.0.0.1
skip-name-resolve
innodb-flush-log-at-trx-commit=0
innodb-doublewrite=0
sync-binlog=0
innodb-buffer-pool-size=64M
innodb-log-file-size=48M
max-connections=200
character-set-server=utf8mb4
collation-server=utf8mb4_uca1400_as_cs
innodb-lock-wait-timeout=10
max-recursive-iterations=1000000
EOF
}

# my_ping SOCKET: the server answers as root on its socket.
my_ping() {
    "$CLIENT" --no-defaults -uroot --socket="$1" -e 'SELECT 1' >/dev/null 2>&1
}

# my_wait_up PID SOCKET TENTHS: 0 once the server answers, 1 if the process
# PID ended first or TENTHS tenths of a second went by.
my_wait_up() {
    _i=0
    while [ "$_i" -lt "$3" ]; do
        kill -0 "$1" 2>/dev/null || return 1
        my_ping "$2" && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

# my_stop PIDFILE [PID]: stops a server by its own pid (runuser does not
# pass signals on); a clean shutdown takes a second, a server that hangs
# is killed after 20 s. PID (the launcher's) is reaped.
my_stop() {
    _spid=$(cat "$1" 2>/dev/null)
    [ -n "$_spid" ] || _spid=${2:-}
    [ -n "$_spid" ] || return 0
    kill -TERM "$_spid" 2>/dev/null
    _i=0
    while kill -0 "$_spid" 2>/dev/null && [ "$_i" -lt 200 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    kill -KILL "$_spid" 2>/dev/null
    [ -n "${2:-}" ] && wait "$2" 2>/dev/null
    return 0
}

# my_create_user SOCKET LOG: the database m2m and the user m2m (password
# m2m) that may create and drop databases, over TCP and the socket.
my_create_user() {
    "$CLIENT" --no-defaults -uroot --socket="$1" >"$2" 2>&1 <<'EOF'
CREATE DATABASE m2m;
CREATE USER 'm2m'@'localhost' IDENTIFIED BY 'm2m';
CREATE USER 'm2m'@'127.0.0.1' IDENTIFIED BY 'm2m';
GRANT ALL PRIVILEGES ON *.* TO 'm2m'@'localhost';
GRANT ALL PRIVILEGES ON *.* TO 'm2m'@'127.0.0.1';
EOF
}
