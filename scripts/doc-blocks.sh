#!/bin/sh
# SPDX-License-Identifier: MIT
# Compile and run every C block of the given Markdown files:
#   scripts/doc-blocks.sh OUTDIR FILE.md...
# Each block becomes a program OUTDIR/<page>_<line>.c that includes
# tests/doc_fixture.h and runs the block inside main() between the set-up and
# tear-down of its fixture. An HTML comment before a block changes how it is
# wrapped:
#   <!-- doc: FIXTURE -->     none, schema, guide (the default) or jwt
#                             (tests/doc_fixture.h says what each provides)
#   <!-- doc: main -->        the block is a whole program
#   <!-- doc: top -->         the block goes at file scope (functions, statics)
#   <!-- doc: continue -->    the block joins the program of the block before
# Words combine: <!-- doc: top continue -->. Compile errors point at the page
# and line (#line). Each program runs in an empty directory of its own.
# Environment: CC, DOC_CFLAGS (e.g. sanitizers), DOC_LIBS (how to link m2m),
# DOC_JWT_FLAGS (libcrypto's flags, for the jwt fixture's token) and DOC_PG:
# with DOC_PG=1 (a build with JWT sessions) the jwt blocks run against the
# server of $M2M_TEST_PG (scripts/with-pg.sh) and fail without one;
# otherwise they are compiled only.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUTDIR FILE.md..." >&2; exit 2; }
out=$1
shift
cc=${CC:-cc}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
rm -rf "$out"/*_[0-9]* "$out"/run-*

awk -v out="$out" '
function flush(  f) {
    if (name == "")
        return
    f = out "/" name ".c"
    if (fix == "main") {
        printf "%s", top > f
    } else {
        printf "#include \"doc_fixture.h\"\n%s\nint main(void) {\n    DOC_SETUP_%s();\n    {\n%s    }\n    DOC_TEARDOWN_%s();\n    return 0;\n}\n", top, fix, body, fix > f
    }
    close(f)
    name = ""
}
function handle(  n, w, i, istop, iscont, f) {
    n = split(ann, w, /[ \t]+/)
    istop = 0; iscont = 0; f = "guide"
    for (i = 1; i <= n; i++) {
        if (w[i] == "top") istop = 1
        else if (w[i] == "continue") iscont = 1
        else if (w[i] != "") f = w[i]
    }
    if (!iscont || name == "") {
        flush()
        name = base "_" start
        fix = f
        top = ""
        body = ""
    }
    if (fix == "main")
        top = top "#line " start " \"" FILENAME "\"\n" code
    else if (istop)
        top = top "#line " start " \"" FILENAME "\"\n" code
    else
        body = body "#line " start " \"" FILENAME "\"\n" code
}
FNR == 1 { base = FILENAME; sub(/.*\//, "", base); sub(/\.md$/, "", base); ann = ""; inblk = 0 }
!inblk && /^[ \t]*<!-- doc:/ {
    ann = $0; sub(/.*<!-- doc:[ \t]*/, "", ann); sub(/[ \t]*-->.*/, "", ann); next
}
!inblk && /^[ \t]*```c[ \t]*$/ { inblk = 1; start = FNR + 1; code = ""; next }
inblk && /^[ \t]*```[ \t]*$/ { inblk = 0; handle(); ann = ""; next }
inblk { code = code $0 "\n"; next }
!inblk && NF && !/^[ \t]*<!--/ { ann = "" }
END { flush() }
' "$@"

total=0
failed=0
for src in "$out"/*.c; do
    [ -e "$src" ] || continue
    total=$((total + 1))
    prog=${src%.c}
    name=$(basename "$prog")
    jwt=""
    if grep -q '^    DOC_SETUP_jwt' "$src"; then
        jwt="-DDOC_FIXTURE_JWT ${DOC_JWT_FLAGS:-}"
    fi
    # shellcheck disable=SC2086 # flag lists
    if ! "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
        -Wno-unused-variable -Wno-unused-but-set-variable -Wno-unused-function \
        -Wno-missing-field-initializers \
        ${DOC_CFLAGS:-} -I"$root/include" -I"$root/tests" "$src" ${DOC_LIBS:-} $jwt \
        -o "$prog" 2>"$prog.log"; then
        failed=$((failed + 1))
        echo "FAIL: $name does not compile:" >&2
        head -20 "$prog.log" >&2
        continue
    fi
    if [ -n "$jwt" ] && [ "${DOC_PG:-0}" != 1 ]; then
        echo "doc-blocks: $name compiled (no JWT sessions in this build: not run)"
        continue
    fi
    dir="$out/run-$name"
    mkdir -p "$dir"
    if ! (cd "$dir" && "$prog") >"$prog.out" 2>&1; then
        failed=$((failed + 1))
        echo "FAIL: $name exited non-zero:" >&2
        head -30 "$prog.out" >&2
    fi
done
echo "doc-blocks: $total C blocks, $failed failures"
[ "$total" -gt 0 ] && [ "$failed" -eq 0 ]
