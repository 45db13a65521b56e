/* SPDX-License-Identifier: MIT */
/* touch: a write that changes the parent's set sets the parent row's
 * updated_at in the same transaction; one that changes nothing leaves it;
 * the inverse touches its own parent; PostgreSQL does it inside the write's
 * own statement (no statement or round trip more), SQLite with one UPDATE
 * after it. */
#include "fixtures.h"

#include <stdbool.h>
#include <string.h>

static const char *const note_cols[] = {"note", NULL};

static m2m_relation_def touch_def(int touch) {
    return (m2m_relation_def){.parent_table = "users",
                              .related_table = "roles",
                              .pivot_table = "user_roles",
                              .foreign_pivot_key = "user_id",
                              .related_pivot_key = "role_id",
                              .pivot_columns = note_cols,
                              .touch = touch,
                              .related_updated_at = "changed_on"};
}

/* users 1..3 and roles 1..4 with their timestamps NULL; user 1 has role 1. */
static m2m_relation *touching(void) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT, updated_at TIMESTAMP);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT, changed_on TIMESTAMP);"
           "CREATE TABLE user_roles(user_id BIGINT NOT NULL REFERENCES users(id),"
           " role_id BIGINT NOT NULL REFERENCES roles(id), note TEXT,"
           " PRIMARY KEY(user_id, role_id));"
           "INSERT INTO users(id, name) VALUES (1, 'ann'), (2, 'bob'), (3, 'cy');"
           "INSERT INTO roles(id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd');"
           "INSERT INTO user_roles(user_id, role_id) VALUES (1, 1)");
    m2m_relation_def d = touch_def(1);
    return fx_open(&d);
}

/* The users whose updated_at is set, then cleared for the next step. */
static const char *touched(void) {
    const char *r =
        t_rows("SELECT id FROM users WHERE updated_at IS NOT NULL ORDER BY 1");
    t_exec("UPDATE users SET updated_at = NULL");
    return r;
}

static void each_write(bool report) {
    m2m_relation *rel = touching();
    m2m_changes *ch = NULL;
    m2m_changes **out = report ? &ch : NULL;
#define STEP(call, want)                                                                 \
    do {                                                                                 \
        T_OK(call);                                                                      \
        m2m_changes_free(ch);                                                            \
        ch = NULL;                                                                       \
        assert_string_equal(touched(), want);                                            \
    } while (0)
    /* Changes touch; no change does not. */
    STEP(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, out), "1");
    STEP(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(1)), NULL, out), "");
    STEP(m2m_attach(rel, M2M_INT(2), FX_ITEMS(ITP(3, COLT("note", "n"))), NULL, out),
         "2");
    STEP(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(4)), NULL, out), "");
    STEP(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(1)), NULL, out), "1");
    STEP(m2m_detach(rel, M2M_INT(3), NULL, 0, NULL, out), "");
    STEP(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, out), "");
    STEP(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, out), "1");
    STEP(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, out), "1");
    STEP(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3)), &(m2m_opts){.flags = M2M_KEEP}, out),
         "");
    STEP(m2m_sync(rel, M2M_INT(1), FX_ITEMS(ITP(3, COLT("note", "x"))),
                  &(m2m_opts){.flags = M2M_UPDATE_EXISTING}, out),
         "1");
    STEP(m2m_toggle(rel, M2M_INT(3), FX_ITEMS(IT(4)), NULL, out), "3");
    STEP(m2m_update_pivot(rel, M2M_INT(3), FX_VALS(M2M_INT(1)),
                          FX_COLS(COLT("note", "u")), out),
         "");
    STEP(m2m_update_pivot(rel, M2M_INT(3), FX_VALS(M2M_INT(4)),
                          FX_COLS(COLT("note", "u")), out),
         "3");
    const m2m_col five[] = {COL("id", M2M_INT(5)), COLT("name", "e")};
    STEP(m2m_create(rel, M2M_INT(2), (const m2m_new[]){{five, 2, NULL, 0}}, 1, NULL, out),
         "2");
    STEP(m2m_detach(rel, M2M_INT(2), NULL, 0, NULL, out), "2");
#undef STEP
    assert_string_equal(
        t_rows("SELECT user_id, role_id, note FROM user_roles ORDER BY 1, 2"),
        "1|3|x,3|4|u");
    /* Roles are never touched by this side. */
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM roles WHERE changed_on IS NOT NULL", NULL, 0), 0);
    m2m_relation_close(rel);
}

TEST(touch_each_write_with_report) { each_write(true); }
TEST(touch_each_write_without_report) { each_write(false); }

TEST(touch_through_the_inverse_and_a_caller_txn) {
    m2m_relation *rel = touching();
    m2m_relation *inv = NULL;
    T_OK(m2m_relation_inverse(rel, &inv));
    T_OK(m2m_attach(inv, M2M_INT(2), FX_ITEMS(IT(1), IT(3)), NULL, NULL));
    assert_string_equal(t_rows("SELECT id FROM roles WHERE changed_on IS NOT NULL"), "2");
    assert_string_equal(touched(), "");
    /* Rolled back with the caller's transaction; kept with its commit. */
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(4)), NULL, NULL));
    T_OK(m2m_rollback(t_db()));
    assert_string_equal(touched(), "");
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(4)), NULL, NULL));
    T_OK(m2m_commit(t_db()));
    assert_string_equal(touched(), "2");
    /* A failed write touches nothing. */
    T_RC(M2M_CONSTRAINT, m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(9)), NULL, NULL));
    assert_string_equal(touched(), "");
    m2m_relation_close(inv);
    m2m_relation_close(rel);
}

/* PostgreSQL: the write's own statement touches (as many statements and
 * round trips as without touch); SQLite: one UPDATE more, only when the
 * write changed something. m2m_explain shows how. */
TEST(touch_statements_and_plan) {
    m2m_relation *rel = touching();
    m2m_relation_def d = touch_def(0);
    m2m_relation *plain = fx_open(&d);
    bool pg = strcmp(t_backend, "pg") == 0;
    m2m_stats a, b;
    /* Warm both. */
    T_OK(m2m_attach(rel, M2M_INT(3), FX_ITEMS(IT(1)), NULL, NULL));
    T_OK(m2m_attach(plain, M2M_INT(3), FX_ITEMS(IT(2)), NULL, NULL));
    m2m_stats_reset(t_db());
    T_OK(m2m_attach(plain, M2M_INT(2), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    m2m_stats_get(t_db(), &a);
    m2m_stats_reset(t_db());
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4)), NULL, NULL));
    m2m_stats_get(t_db(), &b);
    assert_int_equal(b.executed, a.executed + (pg ? 0 : 1));
    /* MariaDB sends each statement on its own round trip. */
    assert_int_equal(b.round_trips,
                     a.round_trips + (strcmp(t_backend, "mariadb") == 0 ? 1 : 0));
    /* Unchanged: no UPDATE at all. */
    m2m_stats_reset(t_db());
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4)), NULL, NULL));
    m2m_stats_get(t_db(), &b);
    assert_int_equal(b.executed, a.executed);
    touched();
    m2m_plan *plan = NULL;
    T_OK(m2m_explain(t_db(), &plan));
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL));
    bool found = false;
    for (size_t i = 0; i < m2m_plan_count(plan); i++) {
        const char *sql = m2m_plan_sql(plan, i);
        if (pg && strstr(sql, "DELETE FROM") &&
            strstr(sql, "\"m2m-touch\" AS (UPDATE \"users\""))
            found = true;
        if (!pg && strncmp(sql, "UPDATE \"users\" SET \"updated_at\"", 31) == 0) {
            found = true;
            assert_true(m2m_plan_flags(plan, i) & M2M_PLAN_IF_FOUND);
        }
    }
    assert_true(found);
    m2m_plan_free(plan);
    assert_string_equal(touched(), "");
    assert_int_equal(t_int("SELECT COUNT(*) FROM user_roles WHERE user_id = 1", NULL, 0),
                     3);
    m2m_relation_close(plain);
    m2m_relation_close(rel);
}

TEST(touch_bad_definition_rejected) {
    m2m_relation *rel = touching();
    m2m_relation_close(rel);
    m2m_relation_def d = touch_def(1);
    d.parent_updated_at = "updated_at; DROP TABLE users";
    T_RC(M2M_INVALID, m2m_relation_open(t_db(), &d, &rel));
    assert_null(rel);
    assert_non_null(strstr(m2m_errmsg(t_db()), "parent_updated_at"));
    d.parent_updated_at = "touched_at";
    T_RC(M2M_NOTFOUND, m2m_relation_open(t_db(), &d, &rel));
    assert_non_null(strstr(m2m_errmsg(t_db()), "touched_at"));
    /* The inverse's column is checked at its first write. */
    d.parent_updated_at = NULL;
    d.related_updated_at = "gone";
    T_OK(m2m_relation_open(t_db(), &d, &rel));
    m2m_relation *inv = NULL;
    T_OK(m2m_relation_inverse(rel, &inv));
    char *snap = fx_snap("user_roles");
    T_RC(M2M_NOTFOUND, m2m_attach(inv, M2M_INT(2), FX_ITEMS(IT(1)), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "gone"));
    fx_assert_snap("user_roles", snap);
    m2m_relation_close(inv);
    m2m_relation_close(rel);
}
