#!/bin/sh
# SPDX-License-Identifier: MIT
# The plans in docs/backends.md ("What each operation sends") are the output
# of the explain example (examples/explain.c, m2m_explain) on SQLite and on
# PostgreSQL. This fails when the page and the code differ; --write puts
# the code's plans into the page.
#   doc-plans.sh EXPLAIN DOC sqlite|sqlite+pg [--write]
# The PostgreSQL half needs M2M_TEST_PG (scripts/with-pg.sh sets it).
set -eu
explain=$1 doc=$2 backends=$3 mode=${4:-check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

gen() {
    printf '<!-- plans: made by scripts/doc-plans.sh from examples/explain.c; do not edit -->\n'
    printf '#### SQLite\n\n```\n'
    "$explain" "sqlite:$tmp/plans.db"
    printf '```\n'
    if [ "$backends" = sqlite+pg ]; then
        if [ -z "${M2M_TEST_PG:-}" ]; then
            echo "doc-plans: the PostgreSQL plans need a server: run under scripts/with-pg.sh" >&2
            exit 1
        fi
        printf '\n#### PostgreSQL\n\n```\n'
        "$explain" "$M2M_TEST_PG"
        printf '```\n'
    fi
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
