#!/bin/sh
# Install the Debian packages the build and the tests need, when missing.
# Runs apt-get as root, or through sudo.
set -e
pkgs="build-essential cmake pkg-config libsqlite3-dev libssl-dev libpq-dev postgresql-15 \
libjansson-dev libjwt-dev libcmocka-dev postgresql-client-15 sqlite3 jq clang clang-format \
libclang-rt-14-dev"
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
