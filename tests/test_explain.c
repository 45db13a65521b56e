/* SPDX-License-Identifier: MIT */
/* m2m_explain: the plan of a call is exactly what the call sends. For each
 * write and read form, the explained call changes nothing and returns a
 * plan; the same call run for real then executes exactly the plan's
 * statements, in order (m2m_trace), in the plan's number of round trips
 * (m2m_stats). */
#include "fixtures.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL                                                                          \
    "DELETE FROM role_user;"                                                             \
    "INSERT INTO role_user(user_id, role_id, granted_by) VALUES"                         \
    " (1, 1, 'a'), (1, 2, 'a'), (2, 1, 'b')"

typedef struct sqls {
    char *v[64];
    size_t n;
} sqls;

static void trace_fn(void *arg, const char *sql) {
    sqls *s = arg;
    if (s->n < 64)
        s->v[s->n++] = strdup(sql);
}

static void sqls_free(sqls *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

typedef int (*call_fn)(m2m_relation *rel);

static int c_attach(m2m_relation *rel) {
    return m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, NULL);
}
static int c_attach_report(m2m_relation *rel) {
    m2m_changes *ch = NULL;
    int rc = m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3), ITP(4, COLT("granted_by", "x"))),
                        NULL, &ch);
    m2m_changes_free(ch);
    return rc;
}
static int c_sync(m2m_relation *rel) {
    return m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, NULL);
}
static int c_sync_report(m2m_relation *rel) {
    m2m_changes *ch = NULL;
    int rc = m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)),
                      &(m2m_opts){.flags = M2M_UPDATE_EXISTING,
                                  .pivot = (const m2m_col[]){COLT("granted_by", "s")},
                                  .npivot = 1},
                      &ch);
    m2m_changes_free(ch);
    return rc;
}
static int c_sync_keep_version(m2m_relation *rel) {
    m2m_changes *ch = NULL;
    int rc = m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(4)),
                      &(m2m_opts){.flags = M2M_KEEP | M2M_WANT_VERSION}, &ch);
    m2m_changes_free(ch);
    return rc;
}
static int c_toggle(m2m_relation *rel) {
    return m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, NULL);
}
static int c_toggle_report(m2m_relation *rel) {
    m2m_changes *ch = NULL;
    int rc = m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(5)), NULL, &ch);
    m2m_changes_free(ch);
    return rc;
}
static int c_detach(m2m_relation *rel) {
    return m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(1)), NULL, NULL);
}
static int c_detach_all_report(m2m_relation *rel) {
    m2m_changes *ch = NULL;
    int rc = m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, &ch);
    m2m_changes_free(ch);
    return rc;
}
static int c_update(m2m_relation *rel) {
    return m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(2)),
                            FX_COLS(COLT("granted_by", "u")), NULL);
}
/* Related 50 (and 51 with its pivot data): each created once per test. */
static int c_create(m2m_relation *rel) {
    const m2m_col a[] = {COL("id", M2M_INT(50)), COLT("name", "fifty")};
    const m2m_col b[] = {COL("id", M2M_INT(51)), COLT("name", "fifty-one")};
    const m2m_new rows[] = {{a, 2, NULL, 0},
                            {b, 2, (const m2m_col[]){COLT("granted_by", "c")}, 1}};
    m2m_changes *ch = NULL;
    int rc = m2m_create(rel, M2M_INT(1), rows, 2, NULL, &ch);
    m2m_changes_free(ch);
    return rc;
}
static int read_rows(m2m_relation *rel, int strategy) {
    m2m_query *q = NULL;
    m2m_rows *rows = NULL;
    int rc = m2m_query_new(rel, M2M_INT(1), &q);
    if (rc == M2M_OK)
        rc = m2m_query_strategy(q, strategy);
    if (rc == M2M_OK)
        rc = m2m_query_order_by(q, "name", M2M_ASC);
    if (rc == M2M_OK)
        rc = m2m_query_get(q, &rows);
    while (rc == M2M_OK && rows && m2m_rows_next(rows) == M2M_ROW)
        ;
    m2m_rows_free(rows);
    m2m_query_free(q);
    return rc;
}
static int c_get_join(m2m_relation *rel) { return read_rows(rel, M2M_JOIN); }
static int c_get_two(m2m_relation *rel) { return read_rows(rel, M2M_TWO_QUERY); }
static int c_count(m2m_relation *rel) {
    m2m_query *q = NULL;
    int64_t n = -1;
    int rc = m2m_query_new(rel, M2M_INT(1), &q);
    if (rc == M2M_OK)
        rc = m2m_query_count(q, &n);
    m2m_query_free(q);
    return rc;
}
static int c_count_each(m2m_relation *rel) {
    m2m_query *q = NULL;
    int64_t n[2] = {-1, -1};
    int rc = m2m_query_new_many(rel, FX_VALS(M2M_INT(1), M2M_INT(2)), &q);
    if (rc == M2M_OK)
        rc = m2m_query_count_each(q, n);
    m2m_query_free(q);
    return rc;
}
static int c_has(m2m_relation *rel) {
    m2m_query *q = NULL;
    int has[2];
    int rc = m2m_query_new(rel, M2M_INT(1), &q);
    if (rc == M2M_OK)
        rc = m2m_query_has(q, FX_VALS(M2M_INT(1), M2M_INT(4)), has);
    m2m_query_free(q);
    return rc;
}
static int c_find(m2m_relation *rel) {
    m2m_query *q = NULL;
    m2m_rows *row = NULL;
    int rc = m2m_query_new(rel, M2M_INT(1), &q);
    if (rc == M2M_OK)
        rc = m2m_query_find(q, M2M_INT(2), &row);
    m2m_rows_free(row);
    m2m_query_free(q);
    return rc;
}
static int c_version(m2m_relation *rel) {
    char v[M2M_VERSION_LEN];
    return m2m_version(rel, M2M_INT(1), v);
}

static const struct {
    const char *name;
    call_fn fn;
    const char *first_sql; /* a statement the plan must hold (substring) */
} calls[] = {
    {"attach", c_attach, "INSERT INTO"},
    {"attach with a report", c_attach_report, "RETURNING"},
    {"sync", c_sync, "DELETE FROM"},
    {"sync update existing, report", c_sync_report, "UPDATE"},
    {"sync keep, version", c_sync_keep_version, "SELECT"},
    {"version", c_version, "SELECT"},
    {"toggle", c_toggle, "INSERT INTO"},
    {"toggle with a report", c_toggle_report, "INSERT INTO"},
    {"detach", c_detach, "DELETE FROM"},
    {"detach all, report", c_detach_all_report, "DELETE FROM"},
    {"update", c_update, "UPDATE"},
    {"create", c_create, "RETURNING"},
    {"get, join", c_get_join, "JOIN"},
    {"get, two queries", c_get_two, "SELECT"},
    {"count", c_count, "count(*)"},
    {"count each", c_count_each, "GROUP BY"},
    {"has", c_has, "GROUP BY"},
    {"find", c_find, "LIMIT"},
};

/* Explain fn, check the database did not change, then run it for real and
 * compare what it executed with the plan. */
static void check_call(m2m_relation *rel, size_t i) {
    m2m_db *db = t_db();
    t_exec(INITIAL);
    char *before = fx_snap("role_user");
    m2m_plan *plan = NULL;
    T_OK(m2m_explain(db, &plan));
    int rc = calls[i].fn(rel);
    if (rc != M2M_OK)
        fail_msg("%s explained: %s: %s", calls[i].name, m2m_errname(rc), m2m_errmsg(db));
    if (!plan || m2m_plan_count(plan) == 0)
        fail_msg("%s: no plan", calls[i].name);
    fx_assert_snap("role_user", before);
    bool found = false;
    for (size_t s = 0; s < m2m_plan_count(plan); s++) {
        found |= strstr(m2m_plan_sql(plan, s), calls[i].first_sql) != NULL;
        if (!m2m_plan_why(plan, s) || (!m2m_plan_why(plan, s)[0] &&
                                       strncmp(m2m_plan_sql(plan, s), "BEGIN", 5) != 0))
            fail_msg("%s: statement %zu has no reason: %s", calls[i].name, s,
                     m2m_plan_sql(plan, s));
        if (m2m_plan_round(plan, s) < 1 ||
            m2m_plan_round(plan, s) > m2m_plan_rounds(plan))
            fail_msg("%s: statement %zu in round %d of %d", calls[i].name, s,
                     m2m_plan_round(plan, s), m2m_plan_rounds(plan));
    }
    if (!found)
        fail_msg("%s: no statement holds '%s'", calls[i].name, calls[i].first_sql);

    /* The real call sends exactly the plan. */
    sqls run = {0};
    m2m_stats st0, st1;
    m2m_stats_get(db, &st0);
    m2m_trace(db, trace_fn, &run);
    rc = calls[i].fn(rel);
    m2m_trace(db, NULL, NULL);
    m2m_stats_get(db, &st1);
    if (rc != M2M_OK)
        fail_msg("%s: %s: %s", calls[i].name, m2m_errname(rc), m2m_errmsg(db));
    size_t p = 0;
    for (size_t s = 0; s < run.n; s++, p++) {
        /* A statement sent only when an earlier one found rows. */
        while (p < m2m_plan_count(plan) && m2m_plan_flags(plan, p) & M2M_PLAN_IF_FOUND &&
               strcmp(m2m_plan_sql(plan, p), run.v[s]) != 0)
            p++;
        if (p >= m2m_plan_count(plan) || strcmp(m2m_plan_sql(plan, p), run.v[s]) != 0)
            fail_msg("%s: statement %zu sent:\n  %s\nplanned:\n  %s", calls[i].name, s,
                     run.v[s],
                     p < m2m_plan_count(plan) ? m2m_plan_sql(plan, p) : "(none)");
    }
    if (p != m2m_plan_count(plan))
        fail_msg("%s: planned %zu statements, %zu sent", calls[i].name,
                 m2m_plan_count(plan), run.n);
    if (st1.executed - st0.executed != run.n)
        fail_msg("%s: %llu executed, %zu traced", calls[i].name,
                 (unsigned long long)(st1.executed - st0.executed), run.n);
    if (strcmp(t_backend, "pg") == 0 &&
        st1.round_trips - st0.round_trips != (uint64_t)m2m_plan_rounds(plan))
        fail_msg("%s: %llu round trips, %d planned", calls[i].name,
                 (unsigned long long)(st1.round_trips - st0.round_trips),
                 m2m_plan_rounds(plan));
    sqls_free(&run);
    m2m_plan_free(plan);
}

TEST(explain_plan_is_what_runs) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        check_call(rel, i);
    m2m_relation_close(rel);
}

TEST(explain_plan_is_what_runs_in_a_caller_transaction) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_begin(t_db()));
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        check_call(rel, i);
    T_OK(m2m_rollback(t_db()));
    m2m_relation_close(rel);
}

/* Through the inverse relation (roles -> users over the same pivot), whose
 * writers lock differently: the plan is still what runs. */
TEST(explain_plan_is_what_runs_through_the_inverse) {
    fx_users_roles();
    static const char *const cols[] = {"granted_by", NULL};
    m2m_relation *inv = fx_open(&(m2m_relation_def){.parent_table = "roles",
                                                    .related_table = "users",
                                                    .pivot_table = "role_user",
                                                    .foreign_pivot_key = "role_id",
                                                    .related_pivot_key = "user_id",
                                                    .pivot_columns = cols});
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        check_call(inv, i);
    m2m_relation_close(inv);
}

/* if_version: the plan reads the version in its first round trip, and its
 * changes come after; a stale version is not checked when explaining. */
TEST(explain_sync_if_version) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    t_exec(INITIAL);
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    char *before = fx_snap("role_user");
    m2m_plan *plan = NULL;
    T_OK(m2m_explain(t_db(), &plan));
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3)),
                  &(m2m_opts){.if_version = "0000stale"}, NULL));
    fx_assert_snap("role_user", before);
    assert_non_null(plan);
    assert_true(m2m_plan_rounds(plan) >= 2);
    /* The version is read in the first round trip (MariaDB, a round trip
     * per statement: after those before it). */
    size_t first = 0;
    while (first < m2m_plan_count(plan) && !(m2m_plan_flags(plan, first) & M2M_PLAN_READ))
        first++;
    assert_true(first < m2m_plan_count(plan));
    assert_int_equal(m2m_plan_round(plan, first),
                     strcmp(t_backend, "mariadb") == 0 ? (int)first + 1 : 1);
    assert_non_null(strstr(m2m_plan_why(plan, first), "if_version"));
    /* Writes of the pivot (a lock may be a write of a table of its own). */
    for (size_t s = 0; s < m2m_plan_count(plan); s++)
        if ((strncmp(m2m_plan_sql(plan, s), "DELETE", 5) == 0 ||
             strncmp(m2m_plan_sql(plan, s), "INSERT", 6) == 0 ||
             strncmp(m2m_plan_sql(plan, s), "WITH", 4) == 0) &&
            strstr(m2m_plan_sql(plan, s), "\"role_user\""))
            assert_true(m2m_plan_round(plan, s) > 1);
    m2m_plan_free(plan);
    /* Not armed any more: the stale version fails for real. */
    T_RC(M2M_CONFLICT, m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3)),
                                &(m2m_opts){.if_version = "0000stale"}, NULL));
    m2m_relation_close(rel);
}

/* The statement count of a plan does not depend on the number of ids. */
TEST(explain_constant_statements) {
    fx_users_roles();
    fx_fill("roles", 6, 3000);
    m2m_relation *rel = fx_rel_roles();
    size_t counts[2];
    size_t sizes[2] = {2, 2000};
    for (int k = 0; k < 2; k++) {
        m2m_item *it = fx_range_items(1, sizes[k]);
        m2m_plan *plan = NULL;
        T_OK(m2m_explain(t_db(), &plan));
        T_OK(m2m_sync(rel, M2M_INT(1), it, sizes[k], NULL, NULL));
        counts[k] = m2m_plan_count(plan);
        m2m_plan_free(plan);
        free(it);
    }
    assert_int_equal(counts[0], counts[1]);
    assert_int_equal(fx_count("role_user"), 0);
    m2m_relation_close(rel);
}

/* A call that fails its checks returns its error, leaves the plan NULL and
 * ends the explaining; bad arguments to the plan accessors are safe. */
TEST(explain_errors) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_RC(M2M_MISUSE, m2m_explain(NULL, NULL));
    T_RC(M2M_MISUSE, m2m_explain(t_db(), NULL));
    m2m_plan *plan = (m2m_plan *)1;
    T_OK(m2m_explain(t_db(), &plan));
    assert_null(plan);
    T_RC(M2M_TYPE, m2m_attach(rel, M2M_TEXT("x"), FX_ITEMS(IT(1)), NULL, NULL));
    assert_null(plan);
    /* The next call runs. */
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    assert_string_equal(t_rows("SELECT user_id, role_id FROM role_user"), "1|1");
    assert_int_equal(m2m_plan_count(NULL), 0);
    assert_null(m2m_plan_sql(NULL, 0));
    assert_null(m2m_plan_why(NULL, 0));
    assert_int_equal(m2m_plan_rounds(NULL), 0);
    m2m_plan_free(NULL);
    /* Out of range. */
    T_OK(m2m_explain(t_db(), &plan));
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL));
    assert_null(m2m_plan_sql(plan, m2m_plan_count(plan)));
    assert_int_equal(m2m_plan_round(plan, 99), 0);
    assert_int_equal(m2m_plan_nparams(plan, 99), 0);
    m2m_plan_free(plan);
    assert_string_equal(t_rows("SELECT user_id, role_id FROM role_user"), "1|1");
    m2m_relation_close(rel);
}
