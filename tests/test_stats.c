/* SPDX-License-Identifier: MIT */
/* Cost: the statements an operation executes do not depend on the number of
 * ids, and 100,000 ids in one call work (no host-parameter limit). */
#include "fixtures.h"

#include <stdlib.h>
#include <string.h>

static m2m_relation *big(int64_t nroles) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE role_user(user_id BIGINT NOT NULL REFERENCES users(id),"
           " role_id BIGINT NOT NULL REFERENCES roles(id), granted_by TEXT,"
           " PRIMARY KEY(user_id, role_id));");
    fx_fill("users", 1, 10);
    fx_fill("roles", 1, nroles);
    static const char *const cols[] = {"granted_by", NULL};
    return fx_open(&(m2m_relation_def){.parent_table = "users",
                                       .related_table = "roles",
                                       .pivot_table = "role_user",
                                       .foreign_pivot_key = "user_id",
                                       .related_pivot_key = "role_id",
                                       .pivot_columns = cols});
}

typedef int (*op_fn)(m2m_relation *rel, int64_t parent, size_t n);

static int op_sync(m2m_relation *rel, int64_t parent, size_t n) {
    m2m_item *it = fx_range_items(1, n);
    int rc = m2m_sync(
        rel, M2M_INT(parent), it, n,
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "s")}, .npivot = 1},
        NULL);
    free(it);
    return rc;
}
static int sync_flags(m2m_relation *rel, int64_t parent, size_t n, int flags) {
    m2m_item *it = fx_range_items(1, n);
    int rc = m2m_sync(rel, M2M_INT(parent), it, n,
                      &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "k")},
                                  .npivot = 1,
                                  .flags = flags},
                      NULL);
    free(it);
    return rc;
}
static int op_sync_keep(m2m_relation *rel, int64_t parent, size_t n) {
    return sync_flags(rel, parent, n, M2M_KEEP);
}
static int op_sync_update(m2m_relation *rel, int64_t parent, size_t n) {
    return sync_flags(rel, parent, n, M2M_UPDATE_EXISTING);
}
static int op_attach(m2m_relation *rel, int64_t parent, size_t n) {
    m2m_item *it = fx_range_items(1, n);
    int rc = m2m_attach(rel, M2M_INT(parent), it, n, NULL, NULL);
    free(it);
    return rc;
}
static int op_toggle(m2m_relation *rel, int64_t parent, size_t n) {
    m2m_item *it = fx_range_items(1, n);
    int rc = m2m_toggle(rel, M2M_INT(parent), it, n, NULL, NULL);
    free(it);
    return rc;
}
static int op_detach(m2m_relation *rel, int64_t parent, size_t n) {
    m2m_value *v = fx_range_vals(1, n);
    int rc = m2m_detach(rel, M2M_INT(parent), v, n, NULL, NULL);
    free(v);
    return rc;
}
static int op_update(m2m_relation *rel, int64_t parent, size_t n) {
    m2m_value *v = fx_range_vals(1, n);
    int rc = m2m_update_pivot(rel, M2M_INT(parent), v, n,
                              FX_COLS(COLT("granted_by", "u")), NULL);
    free(v);
    return rc;
}

static uint64_t cost(m2m_relation *rel, op_fn op, int64_t parent, size_t n) {
    m2m_stats_reset(t_db());
    T_OK(op(rel, parent, n));
    return fx_executed();
}

TEST(stats_statement_count_independent_of_size) {
    m2m_relation *rel = big(10000);
    struct {
        const char *name;
        op_fn op;
    } ops[] = {{"attach", op_attach},
               {"update", op_update},
               {"sync", op_sync},
               {"toggle", op_toggle},
               {"detach", op_detach}};
    /* Warm the statement cache on parent 3 so neither measured run prepares
     * more than the other. */
    for (size_t i = 0; i < 5; i++)
        T_OK(ops[i].op(rel, 3, 2));
    for (size_t i = 0; i < 5; i++) {
        /* Parents 1 and 2 are in the same state before each op. */
        uint64_t small = cost(rel, ops[i].op, 1, 10);
        uint64_t large = cost(rel, ops[i].op, 2, 10000);
        if (small != large || small == 0)
            fail_msg("%s: %llu statements for 10 ids, %llu for 10,000", ops[i].name,
                     (unsigned long long)small, (unsigned long long)large);
    }
    /* After attach, update, sync, toggle (detaches all), detach: empty. */
    assert_int_equal(fx_count("role_user"), 0);
    m2m_relation_close(rel);
}

/* The exact cost of each operation without a report. SQLite runs in
 * process: BEGIN IMMEDIATE, the statements, COMMIT. PostgreSQL sends each
 * operation as one pipeline (one round trip) that is its transaction, so
 * no BEGIN or COMMIT: the per-parent lock and the statements; sync and
 * toggle are one statement. Detach and update take the lock too. */
#ifdef M2M_HAVE_PREUPDATE
#define TOGGLE_ALL_PRESENT 3
#else
#define TOGGLE_ALL_PRESENT 4
#endif

TEST(stats_exact_statements_per_operation) {
    m2m_relation *rel = big(100);
    int pg = strcmp(t_backend, "pg") == 0;
    int mariadb = strcmp(t_backend, "mariadb") == 0;
    /* MariaDB: BEGIN, the parent's lock, the statements, COMMIT, each its
     * own round trip. */
    struct {
        const char *name;
        op_fn op;
        uint64_t sqlite, pg, mariadb;
    } ops[] = {{"attach", op_attach, 3, 2, 4},
               {"update", op_update, 3, 2, 4},
               /* PostgreSQL: one WITH d AS (DELETE) INSERT. */
               {"sync", op_sync, 4, 2, 5},
               /* Only the insert; the delete, the update of kept rows and
                * the insert. */
               {"sync keep", op_sync_keep, 3, 2, 4},
               {"sync update", op_sync_update, 5, 4, 6},
               /* All attached. SQLite: DELETE them, seen by the pre-update
                * hook (else a SELECT of the present ids first), no INSERT;
                * PostgreSQL: one WITH d AS (DELETE) INSERT. */
               {"toggle", op_toggle, TOGGLE_ALL_PRESENT, 2, 4},
               {"detach", op_detach, 3, 2, 4}};
    size_t nops = sizeof ops / sizeof ops[0];
    for (size_t i = 0; i < nops; i++)
        T_OK(ops[i].op(rel, 3, 2)); /* prepare every statement */
    for (size_t i = 0; i < nops; i++) {
        uint64_t got = cost(rel, ops[i].op, 1, 20);
        m2m_stats st = {0};
        m2m_stats_get(t_db(), &st);
        uint64_t want = pg ? ops[i].pg : mariadb ? ops[i].mariadb : ops[i].sqlite;
        if (got != want || (pg && st.round_trips != 1) ||
            (mariadb && st.round_trips != got))
            fail_msg("%s: %llu statements, %llu round trips", ops[i].name,
                     (unsigned long long)got, (unsigned long long)st.round_trips);
    }
    /* attach 20, update them, sync to the same 20 three ways, toggle (all
     * gone), detach. */
    assert_int_equal(fx_count("role_user"), 0);
    m2m_relation_close(rel);
}

/* PostgreSQL runs a batch whole, so a write that builds a report commits
 * in a second round trip, after the report is built: running out of memory
 * there must still roll back (fault_oom_toggle_transient_warm). Without a
 * report the COMMIT rides with the statements. SQLite steps in order and
 * stops before COMMIT either way. */
TEST(stats_report_commits_after_it_is_built) {
    m2m_relation *rel = big(10);
    int pg = strcmp(t_backend, "pg") == 0, mariadb = strcmp(t_backend, "mariadb") == 0;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL)); /* prepare */
    /* Prepare both toggles (each twice: the set is as before). */
    for (int report = 0; report < 2; report++) {
        m2m_changes *ch = NULL;
        for (int twice = 0; twice < 2; twice++) {
            T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL,
                            report ? &ch : NULL));
            m2m_changes_free(ch);
            ch = NULL;
        }
    }
    for (int report = 0; report < 2; report++) {
        m2m_changes *ch = NULL;
        m2m_stats_reset(t_db());
        T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL,
                        report ? &ch : NULL));
        m2m_stats st = {0};
        m2m_stats_get(t_db(), &st);
        if (report) {
            assert_string_equal(FX_ATT(ch), "1");
            assert_string_equal(FX_DET(ch), "2");
            m2m_changes_free(ch);
        }
        /* PostgreSQL: lock and toggle (+ BEGIN, COMMIT with a report).
         * MariaDB, report or not: BEGIN, lock, DELETE ... RETURNING (what
         * it detached is not inserted), INSERT, COMMIT, a round trip each. */
        if (pg &&
            (st.executed != (report ? 4u : 2u) || st.round_trips != (report ? 2u : 1u)))
            fail_msg("report %d: %llu statements, %llu round trips", report,
                     (unsigned long long)st.executed, (unsigned long long)st.round_trips);
        if (mariadb && (st.executed != 5u || st.round_trips != 5u))
            fail_msg("report %d: %llu statements, %llu round trips", report,
                     (unsigned long long)st.executed, (unsigned long long)st.round_trips);
    }
    assert_string_equal(t_rows("SELECT role_id FROM role_user ORDER BY 1"), "1");
    m2m_relation_close(rel);
}

TEST(stats_sync_from_nonempty_same_cost) {
    m2m_relation *rel = big(10000);
    T_OK(op_attach(rel, 3, 5));
    T_OK(op_sync(rel, 3, 3));
    /* Both parents start with half the target set attached. */
    T_OK(op_attach(rel, 1, 5));
    T_OK(op_attach(rel, 2, 5000));
    uint64_t small = cost(rel, op_sync, 1, 10);
    uint64_t large = cost(rel, op_sync, 2, 10000);
    assert_true(small > 0);
    assert_int_equal(small, large);
    assert_int_equal(t_int("SELECT COUNT(*) FROM role_user WHERE user_id = 2", NULL, 0),
                     10000);
    m2m_relation_close(rel);
}

TEST(stats_hundred_thousand_ids) {
    m2m_relation *rel = big(100001);
    m2m_item *it = fx_range_items(1, 100000);
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), it, 100000, NULL, &ch));
    assert_int_equal(ch->nattached, 100000);
    m2m_changes_free(ch);
    assert_int_equal(fx_count("role_user"), 100000);
    /* Shift the set by one: one detached, one attached, 99,999 kept. */
    for (size_t i = 0; i < 100000; i++)
        it[i].id = M2M_INT((int64_t)i + 2);
    T_OK(m2m_sync(rel, M2M_INT(1), it, 100000, NULL, &ch));
    assert_string_equal(FX_ATT(ch), "100001");
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_int_equal(t_int("SELECT MIN(role_id) FROM role_user", NULL, 0), 2);
    assert_int_equal(t_int("SELECT MAX(role_id) FROM role_user", NULL, 0), 100001);
    free(it);
    m2m_value *v = fx_range_vals(2, 100000);
    T_OK(m2m_detach(rel, M2M_INT(1), v, 100000, NULL, &ch));
    assert_int_equal(ch->ndetached, 100000);
    m2m_changes_free(ch);
    free(v);
    assert_int_equal(fx_count("role_user"), 0);
    m2m_relation_close(rel);
}

/* Arrays past the size sent in one request (MariaDB sends them in pieces
 * ahead of the statement; PostgreSQL's split sync sends one literal for
 * both its statements): each form, counted or reported, and the rows. */
static int64_t sum_range(int64_t from, int64_t to) {
    return (from + to) * (to - from + 1) / 2;
}

TEST(stats_id_arrays_in_pieces) {
    enum { N = 10000 };
    m2m_relation *rel = big(2 * N);
    const m2m_opts counted = {.flags = M2M_COUNTS};
    m2m_changes *ch = NULL;
    m2m_value *v = fx_range_vals(1, N);
    T_OK(m2m_attach_ids(rel, M2M_INT(1), v, N, &counted, &ch));
    assert_int_equal(ch->nattached, N);
    m2m_changes_free(ch);
    free(v);
    assert_int_equal(t_int("SELECT SUM(role_id) FROM role_user", NULL, 0),
                     sum_range(1, N));
    /* Shift by half: the first half detached, N/2 new. */
    v = fx_range_vals(N / 2 + 1, N);
    T_OK(m2m_sync_ids(rel, M2M_INT(1), v, N, &counted, &ch));
    assert_int_equal(ch->nattached, N / 2);
    assert_int_equal(ch->ndetached, N / 2);
    assert_null(ch->attached);
    m2m_changes_free(ch);
    assert_int_equal(t_int("SELECT SUM(role_id) FROM role_user", NULL, 0),
                     sum_range(N / 2 + 1, N + N / 2));
    T_OK(m2m_update_pivot(rel, M2M_INT(1), v, N, FX_COLS(COLT("granted_by", "u")), &ch));
    assert_int_equal(ch->nupdated, N);
    m2m_changes_free(ch);
    free(v);
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM role_user WHERE granted_by = 'u'", NULL, 0), N);
    /* Toggle N+1 .. 2N: the present half goes, the rest comes. */
    v = fx_range_vals(N + 1, N);
    T_OK(m2m_toggle_ids(rel, M2M_INT(1), v, N, NULL, &ch));
    assert_int_equal(ch->ndetached, N / 2);
    assert_int_equal(ch->nattached, N / 2);
    m2m_changes_free(ch);
    free(v);
    assert_int_equal(fx_count("role_user"), N);
    assert_int_equal(t_int("SELECT SUM(role_id) FROM role_user", NULL, 0),
                     sum_range(N / 2 + 1, N) + sum_range(N + N / 2 + 1, 2 * N));
    v = fx_range_vals(1, 2 * N);
    T_OK(m2m_detach(rel, M2M_INT(1), v, 2 * N, &counted, &ch));
    assert_int_equal(ch->ndetached, N);
    m2m_changes_free(ch);
    free(v);
    assert_int_equal(fx_count("role_user"), 0);
    m2m_relation_close(rel);
}

TEST(stats_counters_reset_and_trace) {
    m2m_relation *rel = big(10);
    m2m_stats_reset(t_db());
    m2m_stats st = {1, 1, 1, 1};
    m2m_stats_get(t_db(), &st);
    assert_int_equal(st.executed, 0);
    assert_int_equal(st.prepared, 0);
    T_OK(op_attach(rel, 1, 3));
    m2m_stats_get(t_db(), &st);
    assert_true(st.executed > 0);
    /* A second identical-shape call prepares nothing new. */
    m2m_stats_reset(t_db());
    T_OK(op_attach(rel, 2, 3));
    m2m_stats_get(t_db(), &st);
    assert_int_equal(st.prepared, 0);
    assert_true(st.executed > 0);
    m2m_relation_close(rel);
}

static void count_trace(void *arg, const char *sql) {
    (void)sql;
    (*(int *)arg)++;
}

TEST(stats_trace_sees_every_statement) {
    m2m_relation *rel = big(10);
    int n = 0;
    m2m_trace(t_db(), count_trace, &n);
    m2m_stats_reset(t_db());
    T_OK(op_sync(rel, 1, 5));
    assert_true(n > 0);
    assert_int_equal((uint64_t)n, fx_executed());
    m2m_trace(t_db(), NULL, NULL);
    T_OK(op_sync(rel, 1, 2));
    assert_true((uint64_t)n < fx_executed());
    m2m_relation_close(rel);
}
