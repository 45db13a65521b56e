#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/build-deb.sh OUT_DIR: build libm2m0, libm2m-dev and m2m-tools with
# dpkg-buildpackage (debhelper, debian/) from a copy of the tree in a
# temporary directory, so nothing is written beside the checkout; then run
# lintian on them, failing on any error. The .deb files, .changes and
# .buildinfo end up in OUT_DIR with the build log. The test suite is not run
# again inside the package build (DEB_BUILD_OPTIONS=nocheck): make check runs
# it on the same sources.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
tree=$tmp/m2m-$version
mkdir "$tree"
# The files of the checkout (tracked, and new ones not ignored), as they
# are now; without git, everything but build directories.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$src" && git ls-files --cached --others --exclude-standard) |
        while IFS= read -r f; do [ -e "$src/$f" ] && printf '%s\n' "$f"; done >"$tmp/files"
    tar -C "$src" -cf - -T "$tmp/files" | tar -C "$tree" -xf -
else
    tar -C "$src" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$tree" -xf -
fi
log=$out/build.log
echo "deb: building m2m $version (log: $log)"
if ! (cd "$tree" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=${JOBS:-2}" \
    dpkg-buildpackage -b -us -uc) >"$log" 2>&1; then
    tail -40 "$log"
    echo "deb: dpkg-buildpackage failed (log: $log)" >&2
    exit 1
fi
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
ls "$out"/*.deb | sed 's|.*/|deb: built |'
# lintian: errors fail the build; warnings are shown.
if ! lintian --fail-on error "$out"/*.changes >"$out/lintian.log" 2>&1; then
    cat "$out/lintian.log"
    echo "deb: lintian found errors" >&2
    exit 1
fi
grep -v 'running with root privileges' "$out/lintian.log" >"$tmp/tags" || true
if [ -s "$tmp/tags" ]; then
    sed 's/^/deb: lintian: /' "$tmp/tags"
else
    echo "deb: lintian: clean"
fi
