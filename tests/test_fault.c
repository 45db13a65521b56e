/* SPDX-License-Identifier: MIT */
/* Fault injection: a countdown allocator installed through m2m_set_allocator
 * before anything else runs (a constructor, ahead of main). It passes every
 * call through until a test arms it; then it fails the k-th allocation, once
 * (transient) or from then on (persistent). For k = 1, 2, ... each run must
 * either succeed with the right result or fail cleanly: M2M_NOMEM, the pivot
 * table as before, and no leak (ASan in CI checks that part). */
#include "drivers/driver.h"
#include "fixtures.h"
#include "util/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    int armed;
    int persistent;
    long countdown;
    long fired; /* failures injected in this run */
} fault;

static int fault_hit(void) {
    if (!fault.armed)
        return 0;
    if (fault.fired && fault.persistent) {
        fault.fired++;
        return 1;
    }
    if (fault.fired)
        return 0;
    if (--fault.countdown == 0) {
        fault.fired = 1;
        return 1;
    }
    return 0;
}

static void *f_malloc(size_t n) { return fault_hit() ? NULL : malloc(n); }
static void *f_realloc(void *p, size_t n) { return fault_hit() ? NULL : realloc(p, n); }
static void f_free(void *p) { free(p); }

/* Runs before main, hence before any other m2m call in the process. */
__attribute__((constructor)) static void fault_install(void) {
    m2m_set_allocator(f_malloc, f_realloc, f_free);
}

static void arm(long k, int persistent) {
    fault.countdown = k;
    fault.persistent = persistent;
    fault.fired = 0;
    fault.armed = 1;
}

static long disarm(void) {
    fault.armed = 0;
    return fault.fired;
}

enum { MAX_K = 20000 };

/* A fault loop ended by itself after k runs, and the allocator hook is
 * live: some allocation failed and was reported. */
static void faults_ran(long k, long failures) {
    if (k >= MAX_K)
        fail_msg("faults still firing after %d allocations", MAX_K);
    if (failures == 0)
        fail_msg("no injected fault produced an error (%ld runs)", k);
}

#define INITIAL                                                                          \
    "DELETE FROM room_members; DELETE FROM users WHERE id >= 7;"                         \
    "INSERT INTO room_members(room_id, user_id, role, rank) VALUES"                      \
    " (1, 1, 'admin', 1), (1, 2, 'member', 2), (1, 3, 'member', 3), (2, 1, 'member', 4)"

static const char *const member_cols[] = {"role", "joined_at", "rank", NULL};

static const m2m_relation_def members_def = {.parent_table = "rooms",
                                             .related_table = "users",
                                             .pivot_table = "room_members",
                                             .foreign_pivot_key = "room_id",
                                             .related_pivot_key = "user_id",
                                             .pivot_columns = member_cols};

/* sync room 1 from {1 admin, 2 member, 3 member} to {2, 4, 5}, writing role
 * 'admin' to kept rows too: detaches 1 and 3, attaches 4 and 5, updates 2. */
static int do_sync(m2m_relation *rel, m2m_changes **ch) {
    return m2m_sync(rel, M2M_INT(1),
                    FX_ITEMS(IT(2), ITP(4, COL("rank", M2M_INT(40))), IT(5), IT(4)),
                    &(m2m_opts){.flags = M2M_UPDATE_EXISTING | M2M_WANT_VERSION,
                                .pivot = (const m2m_col[]){COLT("role", "admin")},
                                .npivot = 1},
                    ch);
}

#define SYNCED "1|2|admin|2,1|4|admin|40,1|5|admin|~,2|1|member|4"

/* toggle room 1's 3, 4 and 1: detaches 1 and 3 (on SQLite seen by the
 * pre-update hook, whose report can run out of memory mid-statement),
 * attaches 4. */
static int do_toggle(m2m_relation *rel, m2m_changes **ch) {
    return m2m_toggle(
        rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4), IT(1)),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("role", "admin")}, .npivot = 1}, ch);
}

#define TOGGLED "1|2|member|2,1|4|admin|~,2|1|member|4"

typedef struct fault_op {
    int (*run)(m2m_relation *rel, m2m_changes **ch);
    const char *attached, *detached, *updated, *rows;
    bool version;
} fault_op;

/* create users 7 and 8 in room 1, 7 with its own role, both ranked. */
static int do_create(m2m_relation *rel, m2m_changes **ch) {
    const m2m_col a[] = {COL("id", M2M_INT(7)), COLT("name", "g")};
    const m2m_col b[] = {COL("id", M2M_INT(8)), COLT("name", "h")};
    const m2m_new rows[] = {{a, 2, (const m2m_col[]){COLT("role", "x")}, 1},
                            {b, 2, NULL, 0}};
    return m2m_create(
        rel, M2M_INT(1), rows, 2,
        &(m2m_opts){.pivot = (const m2m_col[]){COL("rank", M2M_INT(5))}, .npivot = 1},
        ch);
}

#define CREATED "1|1|admin|1,1|2|member|2,1|3|member|3,1|7|x|5,1|8|~|5,2|1|member|4"

static const fault_op sync_op = {do_sync, "4,5", "1,3", "2", SYNCED, true};
static const fault_op create_op = {do_create, "7,8", "", "", CREATED, false};
static const fault_op toggle_op = {do_toggle, "4", "1,3", "", TOGGLED, false};
#define ALL_ROWS()                                                                       \
    t_rows("SELECT room_id, user_id, role, rank FROM room_members ORDER BY 1, 2")

static void oom_op(const fault_op *op, int persistent, int warm) {
    fx_rooms();
    t_exec(INITIAL);
    long k;
    long failures = 0;
    for (k = 1; k < MAX_K; k++) {
        m2m_db *db = t_open();
        m2m_relation *rel = NULL;
        T_DB_OK(db, m2m_relation_open(db, &members_def, &rel));
        if (warm) {
            /* Prepare the statements first: the faults then hit the
             * per-call work, not the statement cache. */
            T_OK(op->run(rel, NULL));
            t_exec(INITIAL);
        }
        char *snap = fx_snap("room_members");
        m2m_changes *ch = NULL;
        arm(k, persistent);
        int rc = op->run(rel, &ch);
        long fired = disarm();
        if (rc == M2M_OK) {
            assert_non_null(ch);
            assert_string_equal(FX_ATT(ch), op->attached);
            assert_string_equal(FX_DET(ch), op->detached);
            assert_string_equal(FX_UPD(ch), op->updated);
            assert_int_equal(strlen(ch->version), op->version ? M2M_VERSION_LEN - 1 : 0);
            m2m_changes_free(ch);
            assert_string_equal(ALL_ROWS(), op->rows);
            free(snap);
            t_exec(INITIAL);
        } else {
            if (!fired)
                fail_msg("k=%ld: %s without an injected fault: %s", k, m2m_errname(rc),
                         m2m_errmsg(db));
            if (rc != M2M_NOMEM)
                fail_msg("k=%ld: %s, expected M2M_NOMEM (%s)", k, m2m_errname(rc),
                         m2m_errmsg(db));
            assert_null(ch);
            assert_int_equal(m2m_errcode(db), M2M_NOMEM);
            assert_non_null(m2m_errmsg(db));
            fx_assert_snap("room_members", snap);
            assert_int_equal(t_int("SELECT COUNT(*) FROM users WHERE id >= 7", NULL, 0),
                             0);
            failures++;
        }
        /* The handle still works after the failure. */
        if (rc != M2M_OK) {
            T_OK(op->run(rel, NULL));
            assert_string_equal(ALL_ROWS(), op->rows);
            t_exec(INITIAL);
        }
        m2m_relation_close(rel);
        m2m_close(db);
        if (!fired)
            break;
    }
    faults_ran(k, failures);
}

/* The allocation walks below test the client, which is the same on one
 * MariaDB server (--backend mariadb) as on a cluster; on a Galera cluster
 * each of their hundreds of runs waits for replication, and together they
 * take minutes: not run there (TEST_EXCEPT). */
TEST_EXCEPT(galera, fault_oom_sync_transient) { oom_op(&sync_op, 0, 0); }
TEST_EXCEPT(galera, fault_oom_sync_persistent) { oom_op(&sync_op, 1, 0); }
TEST_EXCEPT(galera, fault_oom_sync_transient_warm) { oom_op(&sync_op, 0, 1); }
TEST_EXCEPT(galera, fault_oom_toggle_transient_warm) { oom_op(&toggle_op, 0, 1); }
TEST_EXCEPT(galera, fault_oom_create_transient) { oom_op(&create_op, 0, 0); }
TEST_EXCEPT(galera, fault_oom_create_transient_warm) { oom_op(&create_op, 0, 1); }

/* The walk with a size threshold lowered to `to`, so that a few ids take
 * the path of many. */
static void oom_lowered(size_t *knob, size_t to, const fault_op *op, int persistent,
                        int warm) {
    size_t was = *knob;
    *knob = to;
    oom_op(op, persistent, warm);
    *knob = was;
}

/* Repeated ids found by sorting (dups.c), as in calls of many ids. */
TEST_EXCEPT(galera, fault_oom_sync_sorted_transient) {
    oom_lowered(&m2m__dups_sort_min, 2, &sync_op, 0, 0);
}
TEST_EXCEPT(galera, fault_oom_sync_sorted_persistent_warm) {
    oom_lowered(&m2m__dups_sort_min, 2, &sync_op, 1, 1);
}
TEST_EXCEPT(galera, fault_oom_toggle_sorted_transient_warm) {
    oom_lowered(&m2m__dups_sort_min, 2, &toggle_op, 0, 1);
}

/* Every id array sent in pieces ahead of its statement, as MariaDB sends
 * big ones (m2m__ids_inline_max). */
TEST_ONLY(mariadb, fault_oom_sync_pieces_transient_warm) {
    oom_lowered(&m2m__ids_inline_max, 0, &sync_op, 0, 1);
}
TEST_ONLY(mariadb, fault_oom_toggle_pieces_persistent) {
    oom_lowered(&m2m__ids_inline_max, 0, &toggle_op, 1, 0);
}

/* Open a connection, define the relation, read with filters: each fault
 * gives a clean error and no leak, or the right rows. */
TEST_EXCEPT(galera, fault_oom_open_and_read) {
    fx_rooms();
    t_exec(INITIAL);
    long k;
    long failures = 0;
    for (k = 1; k < MAX_K; k++) {
        m2m_db *db = NULL;
        m2m_relation *rel = NULL;
        m2m_query *q = NULL;
        m2m_rows *rows = NULL;
        char got[256] = "";
        arm(k, 1);
        int rc = m2m_open(t_url(), &db);
        if (rc == M2M_OK)
            rc = m2m_relation_open(db, &members_def, &rel);
        if (rc == M2M_OK)
            rc = m2m_query_new(rel, M2M_INT(1), &q);
        if (rc == M2M_OK) {
            m2m_query_where_pivot(q, "role", "=", M2M_TEXT("member"));
            m2m_query_or(q);
            m2m_query_where_pivot(q, "rank", "<", M2M_INT(2));
            m2m_query_order_by_pivot(q, "rank", M2M_DESC);
            rc = m2m_query_get(q, &rows);
        }
        if (rc == M2M_OK) {
            size_t len = 0;
            while ((rc = m2m_rows_next(rows)) == M2M_ROW)
                len += (size_t)snprintf(got + len, sizeof got - len, "%s%lld",
                                        len ? "," : "",
                                        (long long)m2m_rows_get(rows, "id").i);
            if (rc == M2M_DONE)
                rc = M2M_OK;
        }
        long fired = disarm();
        if (rc == M2M_OK)
            assert_string_equal(got, "3,2,1");
        else {
            if (!fired)
                fail_msg("k=%ld: %s without an injected fault", k, m2m_errname(rc));
            if (rc != M2M_NOMEM)
                fail_msg("k=%ld: %s, expected M2M_NOMEM", k, m2m_errname(rc));
            if (!db)
                assert_null(rel);
            failures++;
        }
        m2m_rows_free(rows);
        m2m_query_free(q);
        m2m_relation_close(rel);
        m2m_close(db);
        if (!fired)
            break;
    }
    faults_ran(k, failures);
    assert_string_equal(ALL_ROWS(), "1|1|admin|1,1|2|member|2,1|3|member|3,2|1|member|4");
}

/* Attach with per-id data and a report, and update_pivot, under transient
 * faults. */
TEST_EXCEPT(galera, fault_oom_attach_and_update) {
    fx_rooms();
    t_exec(INITIAL);
    m2m_relation *rel = fx_rel_members(NULL, 0);
    long k;
    for (k = 1; k < MAX_K; k++) {
        char *snap = fx_snap("room_members");
        m2m_changes *ch = NULL;
        arm(k, 0);
        int rc = m2m_attach(
            rel, M2M_INT(3),
            FX_ITEMS(ITP(1, COLT("role", "a")), ITP(2, COLT("role", "b"))), NULL, &ch);
        if (rc == M2M_OK) {
            m2m_changes_free(ch);
            ch = NULL;
            rc = m2m_update_pivot(rel, M2M_INT(3), FX_VALS(M2M_INT(2)),
                                  FX_COLS(COL("rank", M2M_INT(9))), &ch);
            if (rc != M2M_OK) {
                /* The attach stays; roll it back by hand for the snapshot. */
                m2m_changes_free(ch);
                ch = NULL;
                long f2 = disarm();
                assert_true(f2 > 0);
                assert_int_equal(rc, M2M_NOMEM);
                assert_string_equal(
                    fx_pivot_rows("room_members", "room_id", "user_id", "role, rank", 3),
                    "1|a|~,2|b|~");
                t_exec("DELETE FROM room_members WHERE room_id = 3");
                fx_assert_snap("room_members", snap);
                continue;
            }
        }
        long fired = disarm();
        if (rc == M2M_OK) {
            assert_string_equal(FX_UPD(ch), "2");
            m2m_changes_free(ch);
            assert_string_equal(
                fx_pivot_rows("room_members", "room_id", "user_id", "role, rank", 3),
                "1|a|~,2|b|9");
            t_exec("DELETE FROM room_members WHERE room_id = 3");
            free(snap);
            if (!fired)
                break;
        } else {
            assert_true(fired > 0);
            assert_int_equal(rc, M2M_NOMEM);
            assert_null(ch);
            fx_assert_snap("room_members", snap);
        }
    }
    if (k >= MAX_K)
        fail_msg("faults still firing after %d allocations", MAX_K);
    assert_true(k > 1);
    m2m_relation_close(rel);
}

/* An empty eager query (no parents) under allocation faults: M2M_NOMEM or
 * an empty cursor, never a crash. */
TEST_EXCEPT(galera, fault_oom_empty_eager_query) {
    fx_rooms();
    m2m_relation *rel = fx_rel_members(NULL, 0);
    long k, failures = 0;
    for (k = 1; k < MAX_K; k++) {
        m2m_query *q = NULL;
        m2m_rows *rows = NULL;
        arm(k, 0);
        int rc = m2m_query_new_many(rel, (const m2m_value *)"", 0, &q);
        if (rc == M2M_OK)
            rc = m2m_query_get(q, &rows);
        if (rc == M2M_OK)
            rc = m2m_rows_next(rows) == M2M_DONE ? M2M_OK : M2M_ERROR;
        long fired = disarm();
        if (rc != M2M_OK) {
            assert_int_equal(rc, M2M_NOMEM);
            assert_true(fired > 0);
            assert_null(rows);
            failures++;
        }
        m2m_rows_free(rows);
        m2m_query_free(q);
        if (!fired)
            break;
    }
    faults_ran(k, failures);
    m2m_relation_close(rel);
}

static int after_calls;
static void count_after(void *arg, const m2m_changes *ch) {
    (void)arg, (void)ch;
    after_calls++;
}

/* Inside a caller transaction an operation with an after-callback either
 * joins the transaction with its callback queued (M2M_OK), or fails with
 * M2M_NOMEM having changed nothing: never M2M_NOMEM for a change that the
 * caller's commit then makes. */
TEST_EXCEPT(galera, fault_oom_after_callback_in_txn) {
    fx_rooms();
    t_exec(INITIAL);
    m2m_relation *rel = fx_rel_members(NULL, 0);
    T_OK(m2m_relation_on_change(rel, NULL, count_after, NULL));
    long k, failures = 0;
    for (k = 1; k < MAX_K; k++) {
        char *snap = fx_snap("room_members");
        after_calls = 0;
        T_OK(m2m_begin(t_db()));
        arm(k, 0);
        int rc = m2m_attach(rel, M2M_INT(3), FX_ITEMS(IT(1), IT(2)), NULL, NULL);
        long fired = disarm();
        T_OK(m2m_commit(t_db()));
        if (rc == M2M_OK) {
            assert_int_equal(after_calls, 1);
            assert_string_equal(
                fx_pivot_rows("room_members", "room_id", "user_id", "role", 3),
                "1|~,2|~");
            free(snap);
            t_exec(INITIAL);
        } else {
            if (rc != M2M_NOMEM)
                fail_msg("k=%ld: %s (%s)", k, m2m_errname(rc), m2m_errmsg(t_db()));
            assert_int_equal(after_calls, 0);
            fx_assert_snap("room_members", snap);
            failures++;
        }
        if (!fired)
            break;
    }
    faults_ran(k, failures);
    m2m_relation_close(rel);
}
