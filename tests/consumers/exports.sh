#!/bin/sh
# SPDX-License-Identifier: MIT
# exports.sh LIB HEADER: the dynamic symbols LIB defines are exactly the
# functions HEADER declares with M2M_API (nothing internal leaks, nothing
# declared is missing).
set -eu
lib=$1
header=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$3 != "_init" && $3 != "_fini" { print $3 }' |
    sort -u >"$tmp/lib"
sed -n 's/^M2M_API[^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$header" | sort -u >"$tmp/h"
[ -s "$tmp/h" ] || { echo "exports: no M2M_API declarations in $header" >&2; exit 1; }
if ! cmp -s "$tmp/lib" "$tmp/h"; then
    echo "exports: $lib and $header differ (< only in the library, > only in the header):" >&2
    diff "$tmp/lib" "$tmp/h" | grep '^[<>]' >&2
    exit 1
fi
echo "exports: $(wc -l <"$tmp/h") functions, as declared in m2m.h"
