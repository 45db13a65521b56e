/* SPDX-License-Identifier: MIT */
/* Errors at the call that caused them: every error return of a public
 * function that has a db handle leaves m2m_errcode() equal to the code
 * returned and a message of its own, never the previous call's message nor
 * "not an error". Each case first leaves a stale error on the handle, then
 * makes the failing call. */
#include "fixtures.h"

#include <string.h>

#define STALE "no_such_stale_table"

/* Leave a known error on db. */
static void stale(m2m_db *db) {
    assert_int_not_equal(m2m_exec(db, "SELECT * FROM " STALE), M2M_OK);
    assert_non_null(strstr(m2m_errmsg(db), STALE));
}

/* call fails with want; the db's code and message are this call's. */
#define CUR(db, want, call)                                                              \
    do {                                                                                 \
        stale(db);                                                                       \
        int cur_rc_ = (call);                                                            \
        const char *cur_msg_ = m2m_errmsg(db);                                           \
        if (cur_rc_ != (want) || m2m_errcode(db) != cur_rc_ ||                           \
            strstr(cur_msg_, STALE) || !strcmp(cur_msg_, m2m_errstr(M2M_OK)) ||          \
            !strcmp(cur_msg_, m2m_errstr(cur_rc_)))                                      \
            fail_msg("%s -> %s, errcode %s, message '%s'; want %s with its own message", \
                     #call, m2m_errname(cur_rc_), m2m_errname(m2m_errcode(db)),          \
                     cur_msg_, m2m_errname(want));                                       \
    } while (0)

static const m2m_value one_id[] = {{.type = M2M_TINT, .i = 1}};
static const m2m_col one_col[] = {
    {.name = "granted_by", .value = {.type = M2M_TTEXT, .s = "z"}}};

TEST(errors_db_calls_set_their_message) {
    m2m_db *db = t_db();
    fx_users_roles();
    CUR(db, M2M_MISUSE, m2m_exec(db, NULL));
    CUR(db, M2M_MISUSE, m2m_sql(db, NULL, NULL, 0, NULL));
    CUR(db, M2M_MISUSE, m2m_sql(db, "SELECT $1", NULL, 1, NULL));
    CUR(db, M2M_MISUSE, m2m_commit(db));
    CUR(db, M2M_MISUSE, m2m_rollback(db));
    T_OK(m2m_begin(db));
    CUR(db, M2M_MISUSE, m2m_begin(db));
    T_OK(m2m_rollback(db));
    m2m_relation *rel = NULL;
    const m2m_relation_def def = {.parent_table = "users",
                                  .related_table = "roles",
                                  .pivot_table = "role_user",
                                  .foreign_pivot_key = "user_id",
                                  .related_pivot_key = "role_id"};
    CUR(db, M2M_MISUSE, m2m_relation_open(db, NULL, &rel));
    CUR(db, M2M_MISUSE, m2m_relation_open(db, &def, NULL));
    const m2m_relation_def bad = {.parent_table = "users",
                                  .related_table = "roles",
                                  .pivot_table = "role user",
                                  .foreign_pivot_key = "user_id",
                                  .related_pivot_key = "role_id"};
    CUR(db, M2M_INVALID, m2m_relation_open(db, &bad, &rel));
    assert_null(rel);
    /* Without row-level security (SQLite, MariaDB) JWT sessions are refused
     * before the arguments are looked at. */
    int no_rls = strcmp(t_backend, "pg") != 0;
    CUR(db, no_rls ? M2M_NOTSUP : M2M_INVALID, m2m_auth_jwt(db, NULL, NULL));
}

TEST(errors_relation_calls_set_their_message) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles(), *inv = NULL;
    m2m_db *db = m2m_relation_db(rel);
    char *snap = fx_snap("role_user");
    m2m_changes *ch = NULL;
    char v[M2M_VERSION_LEN];
    CUR(db, M2M_MISUSE, m2m_relation_inverse(rel, NULL));
    CUR(db, M2M_MISUSE, m2m_attach(rel, M2M_INT(1), NULL, 2, NULL, &ch));
    CUR(db, M2M_MISUSE,
        m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), &(m2m_opts){.npivot = 2}, &ch));
    CUR(db, M2M_TYPE, m2m_attach(rel, M2M_TEXT("x"), FX_ITEMS(IT(2)), NULL, &ch));
    CUR(db, M2M_INVALID,
        m2m_attach(rel, M2M_INT(1), FX_ITEMS((m2m_item){.id = M2M_NULL}), NULL, &ch));
    CUR(db, M2M_INVALID,
        m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(2, COLT("nosuch", "x"))), NULL, &ch));
    CUR(db, M2M_MISUSE, m2m_detach(rel, M2M_INT(1), NULL, 1, NULL, &ch));
    CUR(db, M2M_MISUSE, m2m_sync(rel, M2M_INT(1), NULL, 3, NULL, &ch));
    CUR(db, M2M_MISUSE, m2m_toggle(rel, M2M_INT(1), NULL, 1, NULL, &ch));
    CUR(db, M2M_MISUSE, m2m_update_pivot(rel, M2M_INT(1), NULL, 1, one_col, 1, &ch));
    CUR(db, M2M_MISUSE, m2m_update_pivot(rel, M2M_INT(1), one_id, 1, NULL, 1, &ch));
    CUR(db, M2M_MISUSE, m2m_version(rel, M2M_INT(1), NULL));
    CUR(db, M2M_TYPE, m2m_version(rel, M2M_TEXT("x"), v));
    CUR(db, strcmp(t_backend, "pg") == 0 ? M2M_INVALID : M2M_NOTSUP,
        m2m_rls_install(rel, NULL));
    assert_null(ch);
    assert_null(inv);
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

/* The builder records its first error for get/count, and each failing
 * builder call also reports itself at once. */
TEST(errors_query_builder_calls_set_their_message) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    m2m_db *db = m2m_relation_db(rel);
    m2m_query *q = NULL;
    CUR(db, M2M_MISUSE, m2m_query_new(rel, M2M_INT(1), NULL));
    CUR(db, M2M_MISUSE, m2m_query_new_many(rel, NULL, 2, &q));
    CUR(db, M2M_TYPE, m2m_query_new(rel, M2M_TEXT("x"), &q));
    assert_null(q);
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    CUR(db, M2M_INVALID, m2m_query_where(q, "name", "~", M2M_INT(1)));
    assert_non_null(strstr(m2m_errmsg(db), "~"));
    CUR(db, M2M_INVALID, m2m_query_where(q, "bad col", "=", M2M_INT(1)));
    assert_non_null(strstr(m2m_errmsg(db), "bad col"));
    CUR(db, M2M_INVALID, m2m_query_where_pivot(q, "nosuch", "=", M2M_INT(1)));
    assert_non_null(strstr(m2m_errmsg(db), "nosuch"));
    CUR(db, M2M_INVALID, m2m_query_where_pivot_null(q, "nosuch", 1));
    CUR(db, M2M_MISUSE, m2m_query_where_pivot_in(q, "granted_by", NULL, 2, 0));
    CUR(db, M2M_INVALID, m2m_query_where_pivot_in(q, "nosuch", one_id, 1, 0));
    CUR(db, M2M_INVALID,
        m2m_query_where_pivot_between(q, "nosuch", M2M_INT(1), M2M_INT(2)));
    CUR(db, M2M_INVALID, m2m_query_with_pivot(q, "nosuch"));
    CUR(db, M2M_INVALID, m2m_query_order_by(q, "name", 7));
    CUR(db, M2M_INVALID, m2m_query_order_by_pivot(q, "nosuch", M2M_ASC));
    CUR(db, M2M_INVALID, m2m_query_limit(q, 1, -1));
    CUR(db, M2M_INVALID, m2m_query_strategy(q, 9));
    /* get and count still report the first builder error. */
    m2m_rows *rows = NULL;
    int64_t n = -1;
    CUR(db, M2M_INVALID, m2m_query_get(q, &rows));
    assert_non_null(strstr(m2m_errmsg(db), "~"));
    assert_null(rows);
    CUR(db, M2M_INVALID, m2m_query_count(q, &n));
    assert_int_equal(n, -1);
    m2m_query_free(q);
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    CUR(db, M2M_MISUSE, m2m_query_get(q, NULL));
    CUR(db, M2M_MISUSE, m2m_query_count(q, NULL));
    m2m_query_free(q);
    m2m_relation_close(rel);
}
