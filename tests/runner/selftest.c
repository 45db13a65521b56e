/* SPDX-License-Identifier: MIT */
/* Tests of the test runner itself, linked with tests/runner.c into
 * m2m_runner_selftest (never into m2m_tests): one test of each way a test
 * can end. tests/runner/selftest.sh runs them and checks that each is
 * reported for what it is and that the run fails. */
#include "../test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

TEST(st_pass) {
    T_OK(m2m_exec(t_db(), "CREATE TABLE t (x INTEGER)"));
    assert_int_equal(t_int("SELECT count(*) FROM t", NULL, 0), 0);
}

TEST(st_fail) {
    printf("st_fail prints this\n");
    assert_int_equal(t_int("SELECT 1", NULL, 0), 2);
}

TEST(st_segv) { raise(SIGSEGV); }

TEST(st_abort) { abort(); }

/* Writes its process id to $ST_PIDFILE, so the script can tell whether a
 * runner that is killed takes its test along. */
TEST(st_hang) {
    const char *path = getenv("ST_PIDFILE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
    for (;;)
        pause();
}

TEST(st_skip) { t_skip("no server for %s", "this"); }

TEST(st_cmocka_skip) { skip(); }

/* A process that ends 0 in the middle of a test did not pass it. */
TEST(st_exit0) { exit(0); }

/* Declared for PostgreSQL only: not applicable on SQLite, never run there. */
TEST_ONLY(pg, st_pg_only) { fail_msg("st_pg_only must not run on sqlite"); }

#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer a leak found when the test's process exits fails
 * that test. */
void *volatile st_sink;
TEST(st_leak) {
    st_sink = malloc(64);
    st_sink = NULL;
}
#endif
