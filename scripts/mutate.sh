#!/bin/sh
# SPDX-License-Identifier: MIT
# mutate.sh [--list] [--keep] [--baseline] [MUTATION...]: mutations the
# test suite must kill.
#
# Each mutation breaks one guarantee on purpose (the busy retry, the error
# mapping of serialization failures, the rollback of a failed COMMIT,
# identifier quoting, the per-parent lock of each operation). One at a time,
# on a scratch copy of this tree (the caller's files are only read), the
# script applies it, rebuilds m2m_tests and runs the suite on every backend
# where the mutated code runs (PostgreSQL through scripts/with-pg.sh). A
# mutation is "killed" when the suite fails on each of them, and "SURVIVED"
# otherwise. A test that killed a mutation is run again without it at the
# end and must pass (else "INCONCLUSIVE"); --baseline also runs the whole
# unmutated suite first. Exit status: 0 when every mutation is killed, 1
# when one survives, 2 when one cannot be applied (its anchor no longer
# matches the code: update the mutation below), does not build, or is
# inconclusive.
#
# Every anchor is checked before anything runs. Too slow for `make check`
# (the suite runs once per mutation and backend; a killed one stops at its
# first failing test). --keep keeps the scratch tree and logs; with no
# MUTATION every one runs. Each test gets $M2M_TEST_TIMEOUT seconds
# (default here 60: a hang kills the mutation as well as a failure does).
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)

# name, backends, the tests run first (name substrings: the likely killers,
# so a killed mutation is found early), what it breaks
mutations() {
    cat <<'EOF'
a-busy-retry       sqlite,pg busy            run_op gives up at the first busy error
b-pg-serialization pg        busy,concurren  PostgreSQL 40001 and 40P01 map to M2M_ERROR
c-commit-open      sqlite,pg commit,faultdrv a failed COMMIT leaves the transaction open
d-ident-quoting    sqlite,pg -               m2m__buf_ident emits identifiers unquoted
e-lock-attach      pg        lock,concurren  attach runs without the per-parent lock
e-lock-sync        pg        lock,concurren  sync runs without the per-parent lock
e-lock-toggle      pg        lock,concurren  toggle runs without the per-parent lock
e-lock-detach      pg        lock,concurren  detach runs without the per-parent lock
e-lock-update      pg        lock,concurren  update runs without the per-parent lock
EOF
}
# (SQLite has no per-parent lock: BEGIN IMMEDIATE takes the database's write
# lock for every write, and its driver never sees PostgreSQL's SQLSTATEs.)

# sub FILE REGEX REPLACEMENT: replaces the one match of the Perl REGEX in
# FILE (under $tree) by REPLACEMENT, where @@ stands for the matched text
# and @1..@9 for its groups. Fails loudly unless the regex matches exactly
# once.
sub() {
    perl -e '
        my ($f, $re, $rep) = @ARGV;
        open my $in, "<", $f or die "mutate: $f: $!\n";
        local $/;
        my $s = <$in>;
        close $in;
        my $n = 0;
        $n++ while $s =~ /$re/g;
        if ($n != 1) {
            print STDERR "mutate: ANCHOR NO LONGER MATCHES in $f ($n matches, ",
                "expected 1):\n  $re\n";
            exit 3;
        }
        $s =~ s/$re/my @g = ($&, map { $_ \/\/ "" } ($1, $2, $3, $4, $5, $6, $7, $8, $9));
                    (my $r = $rep) =~ s{\@([\@1-9])}{$g[$1 eq "@" ? 0 : $1]}g; $r/e;
        open my $out, ">", $f or die "mutate: $f: $!\n";
        print $out $s;
        close $out or die "mutate: $f: $!\n";
    ' "$tree/$1" "$2" "$3"
}
# need FILE REGEX: the code still does what a mutation assumes.
need() {
    perl -e '
        my ($f, $re) = @ARGV;
        open my $in, "<", $f or die "mutate: $f: $!\n";
        local $/;
        my $s = <$in>;
        my $n = 0;
        $n++ while $s =~ /$re/g;
        if ($n != 1) {
            print STDERR "mutate: ASSUMPTION NO LONGER HOLDS in $f ($n matches, ",
                "expected 1):\n  $re\n";
            exit 3;
        }
    ' "$tree/$1" "$2"
}

# The retry loop ends at its first busy error.
m_a_busy_retry() {
    sub src/core/ops.c 'if \(rc != M2M_BUSY \|\| db->in_txn' \
        'if (1 /* mutation */ || rc != M2M_BUSY || db->in_txn'
}
m_b_pg_serialization() {
    sub src/drivers/pg/driver.c '\{"40001",\s*M2M_BUSY\}' '{"40001", M2M_ERROR}' &&
        sub src/drivers/pg/driver.c '\{"40P01",\s*M2M_BUSY\}' '{"40P01", M2M_ERROR}'
}
# m2m__op_commit marks the transaction closed even when COMMIT failed, so
# m2m__op_abort sends no ROLLBACK.
m_c_commit_open() {
    sub src/core/txn.c \
        '(?s)(int m2m__op_commit\(m2m__op \*op\) \{.*?)if \(rc == M2M_OK\)\s*op->open = false;(\s*return rc;\s*\})' \
        '@1op->open = false; /* mutation */@2'
}
m_d_ident_quoting() {
    sub src/util/buf.c 'void m2m__buf_ident\(m2m__buf \*b, const char \*ident\) \{\n' \
        '@@    m2m__buf_add(b, ident); /* mutation: unquoted */
    return;
'
}
# run_op takes the lock step (its parameters are op->lock) out of the
# queue m2m__op_begin filled, for one operation.
m_e_lock() {
    need src/core/txn.c 'add_fixed\(op,[^;]*M2M__LOCK[^;]*op->lock' &&
        sub src/core/ops.c 'rc = [^;]*m2m__op_begin\(&c->op, rel, k->parent\);' "@@
        if (rc == M2M_OK && k->op == $1) { /* mutation: no per-parent lock */
            size_t j_ = 0;
            for (size_t i_ = 0; i_ < c->op.n; i_++)
                if (c->op.steps[i_].params != c->op.lock)
                    c->op.steps[j_++] = c->op.steps[i_];
            c->op.n = j_;
        }"
}
apply() {
    case $1 in
    a-busy-retry) m_a_busy_retry ;;
    b-pg-serialization) m_b_pg_serialization ;;
    c-commit-open) m_c_commit_open ;;
    d-ident-quoting) m_d_ident_quoting ;;
    e-lock-attach) m_e_lock M2M_OP_ATTACH ;;
    e-lock-sync) m_e_lock M2M_OP_SYNC ;;
    e-lock-toggle) m_e_lock M2M_OP_TOGGLE ;;
    e-lock-detach) m_e_lock M2M_OP_DETACH ;;
    e-lock-update) m_e_lock M2M_OP_UPDATE ;;
    *) return 1 ;;
    esac
}
# The files any mutation touches, restored (with a new mtime, so the build
# recompiles them) before each one.
touched="src/core/ops.c src/drivers/pg/driver.c src/core/txn.c src/util/buf.c"

keep=0
baseline=0
selected=
while [ "$#" -gt 0 ]; do
    case $1 in
    --list)
        mutations
        exit 0
        ;;
    --keep) keep=1 ;;
    --baseline) baseline=1 ;;
    -*)
        echo "usage: scripts/mutate.sh [--list] [--keep] [--baseline] [MUTATION...]" >&2
        exit 2
        ;;
    *)
        if ! mutations | grep -q "^$1 "; then
            echo "mutate: unknown mutation '$1' (see --list)" >&2
            exit 2
        fi
        selected="$selected $1"
        ;;
    esac
    shift
done
[ -n "$selected" ] || selected=$(mutations | awk '{print $1}')

# One PostgreSQL server for every run.
if [ -z "${M2M_TEST_PG:-}" ]; then
    opts=
    [ "$keep" = 1 ] && opts="$opts --keep"
    [ "$baseline" = 1 ] && opts="$opts --baseline"
    # shellcheck disable=SC2086 # options and names of mutations, one word each
    exec "$here/with-pg.sh" "$0" $opts $selected
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-mutate.XXXXXX") || exit 2
tree=$tmp/tree
if [ "$keep" = 1 ]; then
    echo "mutate: scratch tree and logs in $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 130' INT
trap 'exit 143' TERM

# The caller's tree as it is, uncommitted changes included, build output not.
mkdir -p "$tree" "$tmp/pristine" || exit 2
(cd "$src" && git ls-files -z -co --exclude-standard) |
    tar -C "$src" --null --ignore-failed-read -T - -cf - 2>/dev/null |
    tar -C "$tree" -xf - || exit 2
for f in $touched; do
    mkdir -p "$tmp/pristine/$(dirname "$f")" && cp "$tree/$f" "$tmp/pristine/$f" || exit 2
done
restore() {
    for f in $touched; do cp "$tmp/pristine/$f" "$tree/$f" || exit 2; done
}

echo "mutate: checking every anchor"
stale=0
for m in $selected; do
    restore
    apply "$m" || { echo "mutate: $m cannot be applied" >&2; stale=1; }
done
restore
[ "$stale" = 0 ] || exit 2

echo "mutate: building m2m_tests"
if ! { cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DM2M_WERROR=OFF && cmake --build "$tree/build" --target m2m_tests -j2; } \
    >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log"
    echo "mutate: the unmutated tree does not build" >&2
    exit 2
fi

: "${M2M_TEST_TIMEOUT:=60}"
export M2M_TEST_TIMEOUT

# suite BACKEND LOG [FOCUS]: runs the tests named by each FOCUS substring
# (that select a test on BACKEND), then the whole suite, stopping at the
# first test that does not pass; prints "passed" or "fails NAME: WHY".
suite() {
    : >"$2"
    rc=0
    for f in $(echo "${3:--}" | tr , ' ') ""; do
        [ "$f" = - ] && continue
        if [ -n "$f" ] && [ -z "$("$tree/build/m2m_tests" --backend "$1" --list "$f")" ]; then
            continue
        fi
        "$tree/build/m2m_tests" --backend "$1" --stop ${f:+"$f"} >>"$2" 2>&1
        rc=$?
        [ "$rc" -eq 0 ] || break
    done
    if [ "$rc" -eq 0 ]; then
        echo "passed"
    else
        why=$(grep -m1 -E '^  (FAILED |SKIPPED) ' "$2" | sed -E 's/^  (FAILED |SKIPPED) //')
        echo "fails ${why:-with status $rc (see its log)}"
    fi
}

if [ "$baseline" = 1 ]; then
    for b in sqlite pg; do
        echo "mutate: the unmutated suite on $b"
        r=$(suite "$b" "$tmp/baseline-$b.log")
        if [ "$r" != passed ]; then
            echo "mutate: the unmutated suite $r on $b; nothing to learn from mutations" >&2
            exit 2
        fi
    done
fi

: >"$tmp/killers"
: >"$tmp/report"
for m in $selected; do
    backends=$(mutations | awk -v m="$m" '$1 == m {print $2}')
    focus=$(mutations | awk -v m="$m" '$1 == m {print $3}')
    restore
    apply "$m" || exit 2
    if ! cmake --build "$tree/build" --target m2m_tests -j2 >"$tmp/build-$m.log" 2>&1; then
        cat "$tmp/build-$m.log"
        echo "mutate: $m does not build" >&2
        exit 2
    fi
    verdict=killed
    {
        for b in $(echo "$backends" | tr , ' '); do
            t0=$(date +%s)
            r=$(suite "$b" "$tmp/$m-$b.log" "$focus")
            t=$(($(date +%s) - t0))
            if [ "$r" = passed ]; then
                verdict=SURVIVED
                r="the suite passed"
            else
                case ${r#fails } in
                *:*) echo "$m $b ${r#fails }" | cut -d: -f1 >>"$tmp/killers" ;;
                esac
            fi
            echo "    $b: $r (${t} s)"
        done >"$tmp/detail"
        echo "$m: $verdict"
        cat "$tmp/detail"
    } | tee -a "$tmp/report"
done

# A test that kills a mutation must pass without it: each is run again on
# the unmutated tree (cheaper than --baseline, and enough for a verdict).
restore
echo "mutate: the killing tests again, without mutation"
if ! cmake --build "$tree/build" --target m2m_tests -j2 >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log"
    exit 2
fi
status=0
while read -r m b name; do
    [ -n "$name" ] || continue
    if ! "$tree/build/m2m_tests" --backend "$b" --exact "$name" >"$tmp/confirm.log" 2>&1; then
        sed 's/^/    /' "$tmp/confirm.log"
        echo "mutate: $name fails on $b without mutation $m too" >&2
        sed -i "s/^$m: killed\$/$m: INCONCLUSIVE ($name fails on $b without the mutation)/" \
            "$tmp/report"
        status=2
    fi
done <"$tmp/killers"

echo
echo "mutate: summary (killed = the suite fails on every backend listed)"
cat "$tmp/report"
if grep -q ': SURVIVED$' "$tmp/report" && [ "$status" = 0 ]; then
    status=1
fi
exit "$status"
