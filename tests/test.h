/* SPDX-License-Identifier: MIT */
/* Test harness: cmocka assertions, self-registering tests, and a fresh
 * database per test on the backend chosen by `m2m_tests --backend NAME`,
 * each test in its own process (runner.c). Test bodies use only m2m.h and
 * these helpers, never backend-specific code. */
#ifndef M2M_TEST_H
#define M2M_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "m2m.h"

typedef void (*t_fn)(void **state);

/* The backends a test runs on. A test that cannot apply to a backend says so
 * where it is registered, so the exceptions are explicit and reviewable
 * (grep TEST_ONLY, TEST_EXCEPT); the runner lists the others as not applicable. A test
 * that skips at run time instead fails the run. */
#define T_ON_sqlite  1u
#define T_ON_pg      2u
#define T_ON_mariadb 4u
/* MariaDB on a three-node Galera cluster (m2m_tests --backend galera):
 * t_backend is "mariadb" there, and t_open() connects to the next node. */
#define T_ON_galera 8u
#define T_ON_ALL    (T_ON_sqlite | T_ON_pg | T_ON_mariadb | T_ON_galera)
void t_register(const char *name, t_fn fn, const char *file, unsigned backends);

/* TEST(name) { ... } defines and registers a test run on every backend. */
#define TEST(name) T_DEFINE(name, T_ON_ALL)
/* TEST_ONLY(pg, name) { ... }: a test that applies to one backend only
 * (sqlite, pg, mariadb or galera); say why in its comment. */
#define TEST_ONLY(backend, name) T_DEFINE(name, T_ON_##backend)
/* TEST_EXCEPT(mariadb, name) { ... }: a test that applies to every backend
 * but one; say why in its comment. A test excepted on mariadb is not run on
 * a Galera cluster either (MariaDB too); TEST_EXCEPT(galera, name) excepts
 * the cluster alone. */
#define T_EXCEPT_sqlite            T_ON_sqlite
#define T_EXCEPT_pg                T_ON_pg
#define T_EXCEPT_mariadb           (T_ON_mariadb | T_ON_galera)
#define T_EXCEPT_galera            T_ON_galera
#define TEST_EXCEPT(backend, name) T_DEFINE(name, T_ON_ALL & ~T_EXCEPT_##backend)

#define T_DEFINE(name, backends)                                                         \
    static void name(void);                                                              \
    static void name##_run(void **s) {                                                   \
        (void)s;                                                                         \
        name();                                                                          \
    }                                                                                    \
    __attribute__((constructor)) static void name##_reg(void) {                          \
        t_register(#name, name##_run, __FILE__, backends);                               \
    }                                                                                    \
    static void name(void)

/* Ends the current test as skipped and prints why. A skip fails the run
 * (`make check` must not pass by not testing): a test that does not apply
 * to a backend is declared with TEST_ONLY instead. cmocka's skip() lands
 * here too. */
void t_skip_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define t_skip(...) t_skip_at(__FILE__, __LINE__, __VA_ARGS__)
#undef skip
#define skip() t_skip_at(__FILE__, __LINE__, "skip() without a reason")

/* "sqlite", "pg" or "mariadb". */
extern const char *t_backend;
/* The current test's connection, opened on a fresh, empty database. */
m2m_db *t_db(void);
/* The URL of the current test's database, for more connections. */
const char *t_url(void);
/* Another connection to the current test's database; the test closes it.
 * On a cluster each call connects to the next node. */
m2m_db *t_open(void);
/* The cluster: its number of nodes (1 off a cluster), the URL of the
 * current test's database on node i (0-based, taken modulo the number of
 * nodes), and t_node_ctl("kill" | "start" | "wait", i), which runs
 * scripts/galera-node.sh on node i and returns its exit status. */
int t_nodes(void);
const char *t_node_url(int node);
int t_node_ctl(const char *action, int node);
/* Run a script on the test connection; fails the test on error. */
void t_exec(const char *script);
/* First column of the first row of sql (params $1..), as an integer. */
int64_t t_int(const char *sql, const m2m_value *params, size_t n);
/* All rows of sql joined as "a|b,c|d" (columns by '|', rows by ','), with
 * NULL as "~"; a static buffer valid until the next call. */
const char *t_rows(const char *sql);
/* Assert an m2m call succeeded, printing m2m_errmsg otherwise. */
#define T_OK(call)                                                                       \
    do {                                                                                 \
        int t_rc_ = (call);                                                              \
        if (t_rc_ != M2M_OK)                                                             \
            fail_msg("%s -> %s: %s", #call, m2m_errname(t_rc_), m2m_errmsg(t_db()));     \
    } while (0)

/* T_OK for a call on another connection than t_db(): its message. */
#define T_DB_OK(db, call)                                                                \
    do {                                                                                 \
        int t_rc_ = (call);                                                              \
        if (t_rc_ != M2M_OK)                                                             \
            fail_msg("%s -> %s: %s", #call, m2m_errname(t_rc_), m2m_errmsg(db));         \
    } while (0)

#endif
