#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every shell example of docs/cli.md, in page order, against the config
# file that page shows (its ```ini block, saved as ./m2m.conf) and an SQLite
# app.db holding the tables that config names:
#   scripts/doc-cli.sh PATH/TO/m2m [docs/cli.md]
# A ```sh block is one script run with `sh -e`; in a block whose lines start
# with "$ ", those lines are the commands and the others their output (not
# compared). A block after <!-- doc: pg --> needs PostgreSQL: it runs only
# when M2M_TEST_PG is set, on a scratch schema holding the same tables.
set -u
bin=$1
page=${2:-$(cd "$(dirname "$0")/.." && pwd)/docs/cli.md}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
[ -x "$bin" ] || { echo "doc-cli: no m2m binary at $bin" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "doc-cli: sqlite3 is needed" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-doc-cli.XXXXXX")
schema="doc_cli_$$"
cleanup() {
    if [ -n "${M2M_TEST_PG:-}" ]; then
        psql "$M2M_TEST_PG" -XAtq -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/bin" "$tmp/run"
ln -s "$bin" "$tmp/bin/m2m"

# The blocks: $tmp/NNN.sh (with NNN.pg for PostgreSQL-only ones), m2m.conf.
awk -v dir="$tmp" '
!inblk && /^<!-- doc: pg -->/ { pg = 1; next }
!inblk && /^```ini[ \t]*$/ { inblk = 1; f = dir "/run/m2m.conf"; dollar = 0; next }
!inblk && /^```sh[ \t]*$/ {
    inblk = 1; n++; f = sprintf("%s/%03d.sh", dir, n); start = FNR
    printf "# %s:%d\n", FILENAME, start > f
    if (pg) { printf "" > (sprintf("%s/%03d.pg", dir, n)) }
    pg = 0; dollar = -1; next
}
inblk && /^```[ \t]*$/ { inblk = 0; close(f); next }
inblk && dollar == -1 { dollar = /^\$ / }
inblk && f ~ /\.conf$/ { print > f; next }
inblk && dollar { if (sub(/^\$ /, "")) print > f; next }
inblk { print > f; next }
!inblk && NF { pg = 0 }
' "$page"
[ -s "$tmp/run/m2m.conf" ] || { echo "doc-cli: $page shows no config" >&2; exit 1; }

# The tables the config names, with users 1..100000 (the page pipes seq into
# sync) and the names its outputs show.
ddl="CREATE TABLE rooms(id BIGINT PRIMARY KEY, name TEXT);
CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT, uid TEXT UNIQUE);
CREATE TABLE roles(id TEXT PRIMARY KEY, name TEXT);
CREATE TABLE room_members(room_id BIGINT NOT NULL REFERENCES rooms(id),
  user_id BIGINT NOT NULL REFERENCES users(id), role TEXT, joined_at TEXT,
  created_at TEXT, updated_at TEXT, PRIMARY KEY(room_id, user_id));
CREATE TABLE user_roles(user_id TEXT NOT NULL REFERENCES users(uid),
  role_id TEXT NOT NULL REFERENCES roles(id), tenant BIGINT,
  PRIMARY KEY(user_id, role_id));
INSERT INTO rooms VALUES (1,'general'),(2,'random'),(3,'ops'),(5,'lobby');
INSERT INTO roles VALUES ('admin','Admin'),('member','Member');"
users="INSERT INTO users SELECT i, 'u' || i, 'uid' || i FROM"
(
    cd "$tmp/run" &&
        sqlite3 -batch app.db "$ddl
        $users (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i<100000)
                SELECT i FROM s) t;
        UPDATE users SET name = 'ann' WHERE id = 7; UPDATE users SET name = 'bob' WHERE id = 8;
        UPDATE users SET name = 'dee' WHERE id = 9;"
) || { echo "doc-cli: cannot create app.db" >&2; exit 1; }

total=0
failed=0
skipped=0
for script in "$tmp"/[0-9][0-9][0-9].sh; do
    [ -e "$script" ] || continue
    total=$((total + 1))
    where=$(head -1 "$script" | cut -c3-)
    url=
    if [ -e "${script%.sh}.pg" ]; then
        if [ -z "${M2M_TEST_PG:-}" ]; then
            skipped=$((skipped + 1))
            echo "doc-cli: $where needs PostgreSQL (M2M_TEST_PG): not run"
            continue
        fi
        psql "$M2M_TEST_PG" -XAtq -v ON_ERROR_STOP=1 -c "CREATE SCHEMA IF NOT EXISTS $schema;
            SET search_path = $schema; $ddl
            $users generate_series(1, 100000) i;
            DO \$\$BEGIN CREATE ROLE authenticated NOLOGIN;
            EXCEPTION WHEN duplicate_object THEN NULL; END\$\$;" >/dev/null ||
            { echo "doc-cli: cannot create the PostgreSQL schema" >&2; exit 1; }
        url="$M2M_TEST_PG options='-csearch_path=$schema'"
    fi
    if ! (cd "$tmp/run" && PATH="$tmp/bin:$PATH" M2M_DB="$url" sh -e "$script") \
        >"$tmp/out" 2>&1 </dev/null; then
        failed=$((failed + 1))
        echo "FAIL: the example at $where:" >&2
        sed 1d "$script" >&2
        echo "--- gave:" >&2
        head -c 600 "$tmp/out" >&2
    fi
done
echo "doc-cli: $total examples, $failed failures, $skipped need PostgreSQL"
[ "$total" -gt 0 ] && [ "$failed" -eq 0 ]
