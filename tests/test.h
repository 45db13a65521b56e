/* Test harness: cmocka assertions, self-registering tests, and a fresh
 * database per test on the backend chosen by `m2m_tests --backend NAME`.
 * Test bodies use only m2m.h and these helpers, never backend-specific code. */
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
void t_register(const char *name, t_fn fn, const char *file);

/* TEST(name) { ... } defines and registers a test. */
#define TEST(name)                                                                       \
    static void name(void);                                                              \
    static void name##_run(void **s) {                                                   \
        (void)s;                                                                         \
        name();                                                                          \
    }                                                                                    \
    __attribute__((constructor)) static void name##_reg(void) {                          \
        t_register(#name, name##_run, __FILE__);                                         \
    }                                                                                    \
    static void name(void)

/* "sqlite" or "pg". */
extern const char *t_backend;
/* The current test's connection, opened on a fresh, empty database. */
m2m_db *t_db(void);
/* The URL of the current test's database, for more connections. */
const char *t_url(void);
/* Another connection to the current test's database; the test closes it. */
m2m_db *t_open(void);
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

#endif
