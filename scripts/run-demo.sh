#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the rooms/members demo on a fresh SQLite file and remove it afterwards:
# scripts/run-demo.sh BUILD_DIR (what `make demo` runs after building).
set -eu
build=${1:-build}
demo=$build/demo
if [ ! -x "$demo" ]; then
    echo "run-demo: $demo not found: build first (make demo)" >&2
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$demo" "$tmp/demo.db"
