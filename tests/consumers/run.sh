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
#     unpacks the .deb files of DEB_DIR (dpkg-deb -x, into a temporary root:
#     the system is left as it is, as root too) and builds the pkg-config
#     consumer against them.
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
    root=$tmp/root
    n=0
    for deb in "$dir"/*.deb; do
        [ -e "$deb" ] || fail "no .deb files in $dir (make deb)"
        dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x $deb"
        n=$((n + 1))
    done
    lib=$(dirname "$(find "$root" -name libm2m.so.0 | head -1)")
    [ -d "$lib" ] || fail "no libm2m.so.0 in the packages"
    for f in "$root/usr/include/m2m.h" "$lib/libm2m.a" "$lib/libm2m.so" \
        "$lib/pkgconfig/m2m.pc" "$lib/cmake/m2m/m2mConfig.cmake" "$root/usr/bin/m2m" \
        "$root/usr/share/man/man1/m2m.1.gz"; do
        has_file "$f"
    done
    # m2m.pc says prefix=/usr: point it at the unpacked root.
    export PKG_CONFIG_PATH="$lib/pkgconfig"
    pc_build deb_shared --define-variable=prefix="$root/usr"
    LD_LIBRARY_PATH=$lib ./deb_shared "$tmp/deb.db" >>"$log" || fail "consumer of the .deb files"
    "$root/usr/bin/m2m" --version >>"$log" 2>&1 || fail "m2m --version from m2m-tools"
    step "$n .deb files unpacked; the pkg-config consumer builds and runs against them"
else
    echo "usage: run.sh install BUILD_DIR SOURCE_DIR | run.sh deb DEB_DIR SOURCE_DIR" >&2
    exit 2
fi
