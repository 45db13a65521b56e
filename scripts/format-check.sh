#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails when a tracked C file differs from clang-format's output.
cd "$(dirname "$0")/.." || exit 1
bad=$(git ls-files '*.c' '*.h' | while read -r f; do
    clang-format "$f" | cmp -s - "$f" || echo "$f"
done)
[ -z "$bad" ] && exit 0
echo "not clang-formatted (run make format):" $bad
exit 1
