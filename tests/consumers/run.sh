#!/bin/sh
# SPDX-License-Identifier: MIT
# m2m as its users get it, built and run outside the source tree.
#
#   run.sh install BUILD_DIR SOURCE_DIR
#     installs BUILD_DIR into a temporary prefix and checks the layout, then
#     builds and runs consumer.c/.cpp through pkg-config (shared and
#     --static), find_package(m2m CONFIG REQUIRED) (m2m::m2m, m2m::m2m_static,
#     C++17), and add_subdirectory (a SQLite-only build, with notsup.c);
#     then compares the library's exports with m2m.h.
#   run.sh deb DEB_DIR SOURCE_DIR
#     installs the .deb files of DEB_DIR (apt-get, as root or through sudo),
#     builds and runs the pkg-config consumers (shared and --static) and the
#     m2m tool against the system's files, then purges the packages again,
#     also when a check fails. Nothing but these packages is installed (their
#     dependencies come from scripts/deps.sh), one run at a time per machine
#     (a lock file); where m2m packages are installed already they stay as
#     they are and the .deb files are checked unpacked (dpkg-deb -x) instead.
# Everything happens in a temporary directory, removed afterwards.
set -eu
mode=$1
dir=$(cd "$2" && pwd)
src=$(cd "$3" && pwd)
here=$src/tests/consumers
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-consumers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
CC=${CC:-cc}
CXX=${CXX:-c++}
log=$tmp/log

step() { printf 'consumers: %s\n' "$*"; }
fail() { printf 'consumers: FAIL: %s\n' "$*" >&2; [ -s "$log" ] && tail -40 "$log" >&2; exit 1; }
has_file() { [ -e "$1" ] || fail "missing $1"; }
# The program's NEEDED entries must not include libm2m (a static link).
not_needed() {
    ! readelf -d "$1" | grep -q "NEEDED.*libm2m" || fail "$1 needs libm2m.so"
}

# The prefix's include dir and library dir, for pkg-config.
pc_build() { # pc_build OUT PKGCONFIG_ARGS...
    out=$1
    shift
    # shellcheck disable=SC2046
    $CC -std=c11 -Wall -Wextra -pedantic -Werror -o "$out" "$here/consumer.c" \
        $(pkg-config "$@" --cflags --libs m2m) >>"$log" 2>&1 || fail "build $out"
}

# pc_static OUT PKGCONFIG_ARGS...: consumer.c with libm2m.a, as README
# says: -lm2m becomes -l:libm2m.a (the shared library sits beside it), the
# rest is what `pkg-config --static --libs m2m` lists.
pc_static() {
    out=$1
    shift
    flags=$(pkg-config "$@" --static --cflags --libs m2m 2>>"$log") ||
        fail "pkg-config --static --cflags --libs m2m"
    # shellcheck disable=SC2046
    $CC -std=c11 -Wall -Wextra -pedantic -Werror -o "$out" "$here/consumer.c" \
        $(printf '%s\n' "$flags" | sed -E 's/(^| )-lm2m( |$)/\1-l:libm2m.a\2/') >>"$log" 2>&1 ||
        fail "build $out with pkg-config --static: $flags"
    not_needed "$out"
}

if [ "$mode" = install ]; then
    prefix=$tmp/prefix
    cmake --install "$dir" --prefix "$prefix" >"$log" 2>&1 || fail "cmake --install"
    lib=$(dirname "$(find "$prefix" -name libm2m.so.0 | head -1)")
    [ -d "$lib" ] || fail "no libm2m.so.0 installed"
    for f in "$prefix/include/m2m.h" "$lib/libm2m.a" "$lib/libm2m.so" "$lib/pkgconfig/m2m.pc" \
        "$lib/cmake/m2m/m2mConfig.cmake" "$lib/cmake/m2m/m2mConfigVersion.cmake" \
        "$prefix/bin/m2m" "$prefix/share/man/man1/m2m.1"; do
        has_file "$f"
    done
    readelf -d "$lib/libm2m.so.0" | grep -q 'SONAME.*\[libm2m\.so\.0\]' ||
        fail "libm2m.so.0 has no soname libm2m.so.0"
    grep -q "^prefix=$prefix\$" "$lib/pkgconfig/m2m.pc" || fail "m2m.pc: prefix is not $prefix"
    grep -q '^Requires.private:.*sqlite3' "$lib/pkgconfig/m2m.pc" ||
        fail "m2m.pc: Requires.private lacks sqlite3"
    "$prefix/bin/m2m" --version >>"$log" 2>&1 || fail "m2m --version"
    step "installed layout ok ($prefix)"

    export PKG_CONFIG_PATH="$lib/pkgconfig"
    pkg-config --validate m2m >>"$log" 2>&1 || fail "m2m.pc does not validate"
    pc_build pc_shared
    LD_LIBRARY_PATH=$lib ./pc_shared "$tmp/pc_shared.db" >>"$log" || fail "pc_shared"
    readelf -d pc_shared | grep -q 'NEEDED.*libm2m\.so\.0' || fail "pc_shared: no libm2m.so.0"
    # libm2m.a linked with what `pkg-config --static` lists for it.
    pc_static pc_static
    ./pc_static "$tmp/pc_static.db" >>"$log" || fail "pc_static"
    step "pkg-config: shared, and libm2m.a with pkg-config --static, ok"

    cmake -S "$here/package" -B pkg -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" >>"$log" 2>&1 ||
        fail "find_package(m2m CONFIG REQUIRED)"
    cmake --build pkg >>"$log" 2>&1 || fail "build the find_package consumers"
    pkg/consumer "$tmp/cm_shared.db" >>"$log" || fail "m2m::m2m consumer"
    not_needed pkg/consumer_static
    pkg/consumer_static "$tmp/cm_static.db" >>"$log" || fail "m2m::m2m_static consumer"
    pkg/consumer_cpp "$tmp/cm_cpp.db" >>"$log" || fail "C++17 consumer"
    step "find_package: m2m::m2m, m2m::m2m_static, C++17 ok"

    cmake -S "$here/subdir" -B sub -DM2M_SOURCE_DIR="$src" -DCMAKE_C_COMPILER="$CC" \
        >>"$log" 2>&1 || fail "add_subdirectory(m2m)"
    cmake --build sub -j"${JOBS:-2}" >>"$log" 2>&1 || fail "build the add_subdirectory consumer"
    sub/consumer "$tmp/sub.db" >>"$log" || fail "add_subdirectory consumer"
    sub/notsup >>"$log" || fail "SQLite-only build: M2M_NOTSUP"
    for p in sub/consumer sub/m2m/w1; do
        ! readelf -d "$p" | grep -Eq 'NEEDED.*(libpq|libjwt|libjansson)' ||
            fail "$p of a SQLite-only build needs a PostgreSQL or JWT library"
    done
    sub/m2m/w1 --runs 1 sqlite - 20 >>"$log" 2>&1 || fail "w1 of a SQLite-only build"
    step "add_subdirectory: SQLite-only build, M2M_NOTSUP, w1 without libpq ok"

    sh "$here/exports.sh" "$lib/libm2m.so.0" "$prefix/include/m2m.h" || exit 1
elif [ "$mode" = deb ]; then
    debs=""
    pkgs=""
    for deb in "$dir"/*.deb; do
        [ -e "$deb" ] || fail "no .deb files in $dir (make deb)"
        debs="$debs $deb"
        pkgs="$pkgs $(dpkg-deb -f "$deb" Package)"
    done
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    apt_get() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 "$@"; }
    # One install at a time on this machine: a second make check waits here
    # rather than purging the packages under the first one's consumers.
    lock=/tmp/m2m-check-deb.lock
    [ -e "$lock" ] || { : >"$lock" && chmod 666 "$lock"; } 2>/dev/null || true
    exec 9<"$lock"
    flock -w 900 9 || fail "another make check-deb holds $lock"
    present=""
    for p in $pkgs; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || continue
        case $st in *not-installed) ;; *) present="$present $p ($st)" ;; esac
    done
    # An m2m installed otherwise (make install into /usr/local) would shadow
    # the packages' files: the consumers would not test them.
    for f in $(env -u PKG_CONFIG_PATH pkg-config --variable=pcfiledir m2m 2>/dev/null) \
        $(command -v m2m) /usr/local/include/m2m.h; do
        if [ -e "$f" ]; then present="$present $f"; fi
    done
    installed=0
    purge() {
        [ "$installed" -eq 1 ] || return 0
        installed=0
        # shellcheck disable=SC2086
        apt_get purge -y $pkgs >>"$log" 2>&1 || {
            echo "consumers: FAIL: could not remove$pkgs (dpkg --purge them)" >&2
            return 1
        }
        for p in $pkgs; do
            ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed$' || {
                echo "consumers: FAIL: $p is still installed" >&2
                return 1
            }
        done
        [ ! -e /usr/include/m2m.h ] || { echo "consumers: FAIL: /usr/include/m2m.h is left" >&2; return 1; }
        step "packages removed:$pkgs"
    }
    trap 'st=$?; purge || st=1; rm -rf "$tmp"; exit $st' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [ -n "$present" ]; then
        # Someone's m2m is installed: it stays as it is, and the packages
        # are checked unpacked instead (dpkg-deb -x into a temporary root).
        step "NOTE: already installed:$present; not replacing them, checking the unpacked files"
        root=$tmp/root
        for deb in $debs; do dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x $deb"; done
        lib=$(dirname "$(find "$root" -name libm2m.so.0 | head -1)")
        export PKG_CONFIG_PATH="$lib/pkgconfig"
        pc_build deb_shared --define-variable=prefix="$root/usr"
        LD_LIBRARY_PATH=$lib ./deb_shared "$tmp/deb.db" >>"$log" || fail "consumer of the .deb files"
        "$root/usr/bin/m2m" --version >>"$log" 2>&1 || fail "m2m --version from m2m-tools"
        step "the pkg-config consumer builds and runs against the unpacked .deb files"
        exit 0
    fi
    # Only these packages may be installed: anything more they need is
    # scripts/deps.sh's job, and would stay behind after the purge.
    # shellcheck disable=SC2086
    extra=$(apt_get install -s --no-install-recommends $debs 2>>"$log" | sed -n 's/^Inst \([^ ]*\).*/\1/p' |
        grep -vxF "$(printf '%s\n' $pkgs)" || true)
    [ -z "$extra" ] || fail "the packages need $(echo "$extra" | tr '\n' ' ')first (scripts/deps.sh)"
    installed=1
    # shellcheck disable=SC2086
    apt_get install -y --no-install-recommends $debs >>"$log" 2>&1 || fail "apt-get install$debs"
    step "installed:$pkgs"
    # From here the system's files are used: no PKG_CONFIG_PATH, no
    # LD_LIBRARY_PATH, nothing of the source tree (m2m.h is /usr/include's).
    unset PKG_CONFIG_PATH LD_LIBRARY_PATH CPATH C_INCLUDE_PATH LIBRARY_PATH
    multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
    for f in /usr/include/m2m.h "/usr/lib/$multi/libm2m.so.0" "/usr/lib/$multi/libm2m.a" \
        "/usr/lib/$multi/libm2m.so" "/usr/lib/$multi/pkgconfig/m2m.pc" \
        "/usr/lib/$multi/cmake/m2m/m2mConfig.cmake" /usr/bin/m2m /usr/share/man/man1/m2m.1.gz; do
        has_file "$f"
    done
    [ "$(pkg-config --variable=prefix m2m)" = /usr ] || fail "pkg-config does not find /usr's m2m.pc"
    pc_build deb_shared
    loaded=$(ldd deb_shared | sed -n 's/.*libm2m\.so\.0 => \([^ ]*\) .*/\1/p')
    if [ -z "$loaded" ] || [ "$(readlink -f "$loaded")" != "$(readlink -f "/usr/lib/$multi/libm2m.so.0")" ]; then
        fail "deb_shared loads '$loaded', not /usr/lib/$multi/libm2m.so.0"
    fi
    ./deb_shared "$tmp/deb.db" >>"$log" || fail "consumer of the installed packages"
    pc_static deb_static
    ./deb_static "$tmp/deb_static.db" >>"$log" || fail "static consumer of the installed packages"
    step "pkg-config consumers (shared, and libm2m.a with --static) build and run against /usr"
    # The installed tool, on the consumer's database.
    m2m="/usr/bin/m2m --db sqlite:$tmp/deb.db --pivot room_members --parent rooms"
    m2m="$m2m --related users --fk room_id --rk user_id --pivot-col role --json"
    [ "$(command -v m2m)" = /usr/bin/m2m ] || fail "m2m on PATH is $(command -v m2m), not /usr/bin/m2m"
    /usr/bin/m2m --version | grep -qF "$(dpkg-query -W -f='${Version}' m2m-tools)" ||
        fail "m2m --version does not say the package's version"
    # shellcheck disable=SC2086
    $m2m detach 1 8 | grep -qF '"detached":[8]' || fail "m2m detach 1 8 (installed tool)"
    # shellcheck disable=SC2086
    $m2m list 1 | grep -qF '"rows":[{"id":7,"name":"ann","pivot":{"role":"admin"}}],"count":1' ||
        fail "m2m list 1 after the detach (installed tool)"
    step "the installed m2m tool detaches and lists"
    purge || exit 1
else
    echo "usage: run.sh install BUILD_DIR SOURCE_DIR | run.sh deb DEB_DIR SOURCE_DIR" >&2
    exit 2
fi
