#!/bin/sh
# SPDX-License-Identifier: MIT
# The plans in docs/backends.md ("What each operation sends") are the output
# of the explain example (examples/explain.c, m2m_explain) on SQLite, on
# PostgreSQL and on MariaDB. This fails when the page and the code differ;
# --write puts the code's plans into the page.
#   doc-plans.sh EXPLAIN DOC BACKENDS [--write]
# BACKENDS is sqlite, sqlite+pg or sqlite+pg+mariadb. The PostgreSQL half
# needs M2M_TEST_PG (scripts/with-pg.sh sets it), the MariaDB one
# M2M_TEST_MARIADB (scripts/with-mariadb.sh).
set -eu
explain=$1 doc=$2 backends=$3 mode=${4:-check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# server TITLE URL-VARIABLE SCRIPT: the plans on the server of that URL.
server() {
    eval "url=\${$2:-}"
    if [ -z "$url" ]; then
        echo "doc-plans: the $1 plans need a server: run under scripts/$3" >&2
        exit 1
    fi
    printf '\n#### %s\n\n```\n' "$1"
    "$explain" "$url"
    printf '```\n'
}

gen() {
    printf '<!-- plans: made by scripts/doc-plans.sh from examples/explain.c; do not edit -->\n'
    printf '#### SQLite\n\n```\n'
    "$explain" "sqlite:$tmp/plans.db"
    printf '```\n'
    case $backends in *+pg*) server PostgreSQL M2M_TEST_PG with-pg.sh ;; esac
    case $backends in *+mariadb*) server MariaDB M2M_TEST_MARIADB with-mariadb.sh ;; esac
    printf '<!-- plans end -->\n'
}
gen >"$tmp/plans.md"

# The page with its plans section replaced by the generated one.
awk -v gen="$tmp/plans.md" '
    /^<!-- plans: / { while ((getline l < gen) > 0) print l; skip = 1; next }
    /^<!-- plans end -->/ { skip = 0; next }
    !skip { print }
' "$doc" >"$tmp/page.md"
grep -q '^<!-- plans: ' "$doc" || { echo "doc-plans: $doc has no plans section" >&2; exit 1; }

if [ "$mode" = --write ]; then
    cp "$tmp/page.md" "$doc"
    exit 0
fi
if ! diff -u "$doc" "$tmp/page.md" >"$tmp/diff"; then
    echo "doc-plans: $doc differs from what m2m_explain plans (scripts/doc-plans.sh ... --write):" >&2
    head -60 "$tmp/diff" >&2
    exit 1
fi
