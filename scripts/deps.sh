#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages the build and the tests need, when missing.
# Runs apt-get as root, or through sudo.
#   scripts/deps.sh        everything make check needs (the backends and their
#                          test servers: PostgreSQL, MariaDB, Galera; JWT, tests,
#                          fuzzing, format, Debian packaging, zlib1g-dev for
#                          SQLite's flags in `pkg-config --static`)
#   scripts/deps.sh build  what `make install` and `make deb` build: the
#                          library with every backend and JWT, and the tool
#   scripts/deps.sh demo   only what `make demo` needs: the library with
#                          SQLite, the m2m tool and the demo
set -e
demo_pkgs="build-essential cmake pkg-config libsqlite3-dev libssl-dev libjansson-dev"
build_pkgs="$demo_pkgs libpq-dev libmariadb-dev libjwt-dev"
pkgs="$demo_pkgs libpq-dev postgresql-15 \
libjwt-dev libcmocka-dev postgresql-client-15 mariadb-server galera-4 rsync libmariadb-dev \
sqlite3 jq \
clang clang-format \
libclang-rt-14-dev g++ dpkg-dev debhelper lintian zlib1g-dev"
case "${1:-}" in
demo) pkgs=$demo_pkgs ;;
build) pkgs=$build_pkgs ;;
esac
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
