#!/bin/sh
# SPDX-License-Identifier: MIT
# Every public function of include/m2m.h is mentioned in README.md or a page
# of docs/: scripts/doc-api.sh [ROOT]. Lists the ones that are not. Names
# with m2m__ (the C++ value helpers) are internal.
set -eu
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
missing=0
for f in $(grep -o 'm2m_[a-z_0-9]*(' "$root/include/m2m.h" | tr -d '(' | grep -v '^m2m__' | sort -u); do
    if ! grep -qw "$f" "$root/README.md" "$root"/docs/*.md; then
        echo "doc-api: $f is in m2m.h but in no doc" >&2
        missing=$((missing + 1))
    fi
done
echo "doc-api: $missing undocumented public functions"
[ "$missing" -eq 0 ]
