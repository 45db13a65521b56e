#!/bin/sh
# SPDX-License-Identifier: MIT
# selftest.sh RUNNER: checks that the test runner (tests/runner.c, built
# with tests/runner/selftest.c) reports each way a test can end for what it
# is, fails the run for anything but passes, and honours its options.
set -u
bin=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2m-runner-selftest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0
out=$tmp/out

# run EXPECTED-STATUS ARGS...: runs the runner with the variables in $envs
# set, keeps its output in $out.
envs=
run() {
    want=$1
    shift
    # shellcheck disable=SC2086 # $envs is a list of words
    env $envs "$bin" "$@" >"$out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: '$*' exited $got, expected $want; its output:"
        sed 's/^/    /' "$out"
        bad=1
    fi
}
# has REGEX...: each extended regex matches a line of $out.
has() {
    for re in "$@"; do
        if ! grep -Eq -- "$re" "$out"; then
            echo "FAIL: no line matches /$re/ in:"
            sed 's/^/    /' "$out"
            bad=1
        fi
    done
}
hasnt() {
    if grep -Eq -- "$1" "$out"; then
        echo "FAIL: a line matches /$1/ in:"
        sed 's/^/    /' "$out"
        bad=1
    fi
}

# Every way to end, in one run: only st_pass passes, and the run fails.
# (Under AddressSanitizer a SIGSEGV is its report, then exit or abort; the
# timeout leaves time to write a sanitizer report on a loaded machine.)
run 1 --backend sqlite --timeout 15
has '^\[ ok   \] st_pass ' \
    '^  FAILED  st_fail: exit status 1$' \
    '^    \| st_fail prints this$' \
    '0x1 != 0x2' \
    '^  FAILED  st_segv: (killed by signal (11|6) |exit status)' \
    '^  FAILED  st_abort: killed by signal 6 ' \
    '^  FAILED  st_hang: timed out after 15 s' \
    '^  SKIPPED st_skip: tests/runner/selftest.c:[0-9]+: no server for this$' \
    '^  SKIPPED st_cmocka_skip: tests/runner/selftest.c:[0-9]+: skip\(\) without a reason$' \
    '^  FAILED  st_exit0: the process exited 0 before the test body returned$' \
    ' 1 passed, [0-9]+ failed, 2 skipped; 1 do not apply to sqlite;' \
    'declare a test that does not apply to sqlite with TEST_ONLY'
hasnt 'st_pg_only must not run'
"$bin" --list >"$out" 2>&1
if grep -q '^st_leak ' "$out"; then # built with AddressSanitizer
    run 1 --backend sqlite --exact st_leak
    has '^  FAILED  st_leak: (exit status|killed by signal)' 'LeakSanitizer'
fi

# Passing alone passes; one test by its exact name.
run 0 --backend sqlite st_pass
has ' 1 passed, 0 failed, 0 skipped; 0 do not apply to sqlite;'
run 0 --exact st_pass
has ' 1 passed, 0 failed, 0 skipped;'

# A skip alone still fails the run.
run 1 --exact st_skip
has ' 0 passed, 0 failed, 1 skipped;'

# The timeout from the environment; --timeout wins over it.
envs=M2M_TEST_TIMEOUT=1
run 1 st_hang
has '^  FAILED  st_hang: timed out after 1 s'
envs=M2M_TEST_TIMEOUT=100
run 1 --timeout 1 st_hang
has '^  FAILED  st_hang: timed out after 1 s'
envs=

# A runner that is killed kills the test it is running. (A zombie waiting
# for its new parent to reap it is dead.)
alive() {
    if [ -r "/proc/$1/stat" ]; then
        ! grep -q ') Z' "/proc/$1/stat"
    else
        kill -0 "$1" 2>/dev/null
    fi
}
ST_PIDFILE=$tmp/pid "$bin" --timeout 60 --exact st_hang >"$out" 2>&1 &
runner=$!
i=0
while [ ! -s "$tmp/pid" ] && [ "$i" -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -TERM "$runner" 2>/dev/null
wait "$runner" 2>/dev/null
child=$(cat "$tmp/pid" 2>/dev/null)
i=0
while [ -n "$child" ] && alive "$child" && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
if [ -z "$child" ] || alive "$child"; then
    echo "FAIL: the test process (${child:-no pid written}) outlived its killed runner"
    [ -n "$child" ] && kill -KILL "$child"
    bad=1
fi

# --stop ends the run at the first test that does not pass.
run 1 --stop st_
has ' 1 passed, 1 failed, 0 skipped, [0-9]+ not run \(--stop\);'
hasnt 'st_segv'

# A pattern that selects nothing fails, and so does a test declared for
# another backend, alone; --list shows the declaration.
run 1 no_such_test
has 'no test name contains .no_such_test. on sqlite'
run 1 --exact st_pg_only
run 0 --list st_pg_only
has '^st_pg_only +pg +tests/runner/selftest.c$'
run 0 --backend sqlite --list st_
hasnt 'st_pg_only'
has '^st_pass +sqlite,pg,mariadb,galera '

# PostgreSQL without a server fails, it does not skip.
envs=M2M_TEST_PG=
run 1 --backend pg st_pg_only
has 'M2M_TEST_PG is not set'
envs=M2M_TEST_MARIADB=
run 1 --backend mariadb st_pass
has 'M2M_TEST_MARIADB is not set'
envs=

# Bad usage.
run 2 --backend oracle
run 2 --timeout 0
run 2 --bogus

if [ "$bad" -eq 0 ]; then
    echo "runner self-test: all checks passed"
fi
exit "$bad"
