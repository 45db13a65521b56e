/* SPDX-License-Identifier: MIT */
/* Opening and closing: m2m_open keeps the reason of a failure on the
 * handle it returns (unknown scheme, bare path, empty path, missing
 * directory, unreachable server, backend not built in), and closing in the
 * wrong order frees nothing that is still in use (m2m_close and
 * m2m_relation_close with queries and cursors open finish when the last of
 * them is freed). Run under ASan by make check. */
#include "fixtures.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Open url, expect code want and a handle whose message holds each needle
 * (NULL-terminated) and not the text avoid; then the handle refuses work
 * with M2M_MISUSE, keeping the reason, and closes. */
static void expect_open_fails(const char *url, int want, const char *avoid, ...) {
    m2m_db *db = NULL;
    int rc = m2m_open(url, &db);
    if (rc != want)
        fail_msg("m2m_open(\"%s\") -> %s, expected %s (%s)", url, m2m_errname(rc),
                 m2m_errname(want), db ? m2m_errmsg(db) : "no handle");
    assert_non_null(db);
    assert_int_equal(m2m_errcode(db), want);
    const char *msg = m2m_errmsg(db);
    va_list ap;
    va_start(ap, avoid);
    for (const char *n; (n = va_arg(ap, const char *));)
        if (!strstr(msg, n))
            fail_msg("m2m_open(\"%s\"): message \"%s\" should say '%s'", url, msg, n);
    va_end(ap);
    if (avoid && strstr(msg, avoid))
        fail_msg("m2m_open(\"%s\"): message \"%s\" shows '%s'", url, msg, avoid);
    char reason[512];
    snprintf(reason, sizeof reason, "%s", msg);
    assert_null(m2m_backend(db));
    m2m_relation *rel = (m2m_relation *)db;
    assert_int_equal(m2m_relation_open(db,
                                       &(m2m_relation_def){.parent_table = "a",
                                                           .related_table = "b",
                                                           .pivot_table = "ab",
                                                           .foreign_pivot_key = "a_id",
                                                           .related_pivot_key = "b_id"},
                                       &rel),
                     M2M_MISUSE);
    assert_null(rel);
    assert_int_equal(m2m_exec(db, "SELECT 1"), M2M_MISUSE);
    assert_int_equal(m2m_begin(db), M2M_MISUSE);
    assert_int_equal(m2m_reconnect(db), M2M_MISUSE);
    assert_int_equal(m2m_errcode(db), M2M_MISUSE);
    if (!strstr(m2m_errmsg(db), "did not open") || !strstr(m2m_errmsg(db), reason))
        fail_msg("after a failed open: \"%s\" should keep \"%s\"", m2m_errmsg(db),
                 reason);
    assert_int_equal(m2m_close(db), M2M_OK);
}

TEST(open_null_arguments) {
    m2m_db *db = (m2m_db *)&db;
    assert_int_equal(m2m_open(NULL, &db), M2M_MISUSE);
    assert_null(db);
    assert_int_equal(m2m_open("sqlite::memory:", NULL), M2M_MISUSE);
}

TEST(open_unknown_scheme_lists_the_schemes) {
    /* The password after the scheme is never echoed. */
    expect_open_fails("oracle://app:s3cret@db.example/app", M2M_INVALID, "s3cret",
                      "unknown database URL scheme 'oracle:'", "sqlite:PATH",
                      "postgresql://", "mariadb://", NULL);
    expect_open_fails("nosuch:thing", M2M_INVALID, NULL, "'nosuch:'", NULL);
}

TEST(open_bare_path_suggests_sqlite) {
    char dir[] = "/tmp/m2m-open-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], url[160];
    snprintf(path, sizeof path, "%s/app.db", dir);
    expect_open_fails(path, M2M_INVALID, NULL, "is not a database URL", NULL);
    snprintf(url, sizeof url, "'sqlite:%s'", path);
    m2m_db *db = NULL;
    assert_int_equal(m2m_open(path, &db), M2M_INVALID);
    if (!strstr(m2m_errmsg(db), url))
        fail_msg("\"%s\" should suggest %s", m2m_errmsg(db), url);
    m2m_close(db);
    expect_open_fails("app.db", M2M_INVALID, NULL, "'sqlite:app.db'", NULL);
    /* Nothing was created. */
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    assert_int_not_equal(stat("app.db", &st), 0);
    assert_int_equal(rmdir(dir), 0);
}

TEST(open_empty_url_or_path_is_invalid) {
    expect_open_fails("", M2M_INVALID, NULL, "empty database URL", "sqlite:PATH", NULL);
    expect_open_fails("sqlite:", M2M_INVALID, NULL, "no path", "sqlite:app.db", NULL);
}

TEST(open_missing_directory_names_it) {
    expect_open_fails("sqlite:/nonexistent-m2m-dir/x/y.db", M2M_IOERR, NULL,
                      "'/nonexistent-m2m-dir/x/y.db'",
                      "directory '/nonexistent-m2m-dir/x' does not exist", NULL);
    struct stat st;
    assert_int_not_equal(stat("/nonexistent-m2m-dir", &st), 0);
}

#ifdef M2M_HAVE_PG
TEST(open_unreachable_server_gives_libpq_reason) {
    /* A socket directory that does not exist, and a port nothing listens on
     * (loopback only): libpq's own words come through. */
    expect_open_fails("host=/nonexistent-m2m-socket-dir port=5432 dbname=app",
                      M2M_CONNECTION, NULL, "cannot connect to PostgreSQL",
                      "/nonexistent-m2m-socket-dir", "No such file or directory", NULL);
    expect_open_fails("postgresql://app:s3cret@127.0.0.1:1/app", M2M_CONNECTION, "s3cret",
                      "cannot connect to PostgreSQL", "127.0.0.1", NULL);
}
#else
TEST(open_backend_not_built_in_is_notsup) {
    expect_open_fails("postgresql://app:s3cret@127.0.0.1/app", M2M_NOTSUP, "s3cret",
                      "built without the PostgreSQL backend", NULL);
    expect_open_fails("host=/tmp dbname=app", M2M_NOTSUP, NULL, "PostgreSQL", NULL);
}
#endif

/* users -> roles over role_user on a connection of its own. */
static m2m_relation *roles_on(m2m_db *db) {
    m2m_relation *rel = NULL;
    T_OK(m2m_relation_open(
        db,
        &(m2m_relation_def){.parent_table = "users",
                            .related_table = "roles",
                            .pivot_table = "role_user",
                            .foreign_pivot_key = "user_id",
                            .related_pivot_key = "role_id",
                            .pivot_columns = (const char *const[]){"granted_by", NULL}},
        &rel));
    return rel;
}

/* Connections to the test database other than the test's own (PostgreSQL),
 * waiting a little for a closed one to go. */
static int64_t other_sessions(int64_t want) {
    int64_t n = -1;
    for (int i = 0; i < 100; i++) {
        n = t_int(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()",
            NULL, 0);
        if (n == want)
            break;
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    return n;
}

TEST(close_db_before_its_relation_query_and_cursor) {
    fx_users_roles();
    t_exec("INSERT INTO role_user(user_id, role_id, granted_by) VALUES (1, 1, 'a'), "
           "(1, 2, 'b')");
    bool pg = strcmp(t_backend, "pg") == 0;
    /* PostgreSQL and MariaDB: one cursor at a time per connection. */
    bool one_cursor = strcmp(t_backend, "sqlite") != 0;
    int64_t before = pg ? other_sessions(0) : 0;
    m2m_db *db = t_open();
    m2m_relation *rel = roles_on(db);
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    m2m_query_order_by(q, "id", M2M_ASC);
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    m2m_rows *raw = NULL;
    if (!one_cursor)
        T_OK(m2m_sql(db, "SELECT count(*) FROM role_user", NULL, 0, &raw));

    /* Closed first: it stays until the last object from it goes. */
    assert_int_equal(m2m_close(db), M2M_OK);
    if (pg)
        assert_int_equal(other_sessions(before + 1), before + 1);
    assert_string_equal(fx_rows_str(rows, 0), "1|admin|a,2|editor|b");
    if (raw) {
        assert_int_equal(m2m_rows_next(raw), M2M_ROW);
        assert_int_equal(m2m_rows_value(raw, 0).i, 2);
        m2m_rows_free(raw);
    }
    /* The relation still writes, and the write is in the database. */
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "3");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_id, role_id FROM role_user ORDER BY 1, 2"),
                        "1|1,1|2,1|3");

    m2m_relation_close(rel); /* the query still holds it */
    int64_t n = -1;
    T_OK(m2m_query_count(q, &n));
    assert_int_equal(n, 3);
    m2m_query_free(q); /* the last: relation and connection go */
    if (pg)
        assert_int_equal(other_sessions(before), before);
}

TEST(close_relation_before_its_cursor) {
    fx_users_roles();
    t_exec("INSERT INTO role_user(user_id, role_id, granted_by) VALUES (2, 4, 'x')");
    m2m_db *db = t_open();
    m2m_relation *rel = roles_on(db);
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(2), &q));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    m2m_query_free(q);
    m2m_relation_close(rel); /* the cursor still holds it */
    assert_string_equal(fx_rows_str(rows, 0), "4|owner|x");
    /* In the usual order after that: the connection is closed at once. */
    assert_int_equal(m2m_close(db), M2M_OK);
    assert_string_equal(t_rows("SELECT user_id, role_id, granted_by FROM role_user"),
                        "2|4|x");
}
