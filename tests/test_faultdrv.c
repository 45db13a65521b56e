/* SPDX-License-Identifier: MIT */
/* Faults injected at every step of every write operation (faultdrv.h): busy,
 * I/O error, a lost connection, a commit whose answer is lost. For each k
 * the k-th point fails; the call must leave the database as before or as
 * after (never anything else), return the right code with a current
 * message, keep the handle usable, and leak nothing (ASan). Each operation
 * runs with and without a report, callbacks, a version and a caller
 * transaction. */
#include "faultdrv.h"
#include "fixtures.h"

#include <stdio.h>
#include <string.h>

#define INITIAL                                                                          \
    "DELETE FROM room_members;"                                                          \
    "INSERT INTO room_members(room_id, user_id, role, rank) VALUES"                      \
    " (1, 1, 'admin', 1), (1, 2, 'member', 2), (1, 3, 'member', 3), (2, 1, 'member', 4)"
#define BEFORE "1|1|admin|1,1|2|member|2,1|3|member|3,2|1|member|4"
#define ALL_ROWS()                                                                       \
    t_rows("SELECT room_id, user_id, role, rank FROM room_members ORDER BY 1, 2")

enum { V_REPORT = 1, V_CALLBACKS = 2, V_VERSION = 4, V_TXN = 8, V_ALL = 16 };

typedef struct wop {
    const char *name;
    int (*run)(m2m_relation *rel, int flags, m2m_changes **ch);
    const char *after, *att, *det, *upd;
} wop;

static int w_attach(m2m_relation *rel, int flags, m2m_changes **ch) {
    return m2m_attach(
        rel, M2M_INT(1),
        FX_ITEMS(ITP(4, COLT("role", "x")), IT(5), ITP(6, COL("rank", M2M_INT(6)))),
        &(m2m_opts){.flags = flags}, ch);
}
static int w_sync(m2m_relation *rel, int flags, m2m_changes **ch) {
    return m2m_sync(rel, M2M_INT(1),
                    FX_ITEMS(IT(2), ITP(4, COL("rank", M2M_INT(40))), IT(5)),
                    &(m2m_opts){.flags = flags | M2M_UPDATE_EXISTING,
                                .pivot = (const m2m_col[]){COLT("role", "admin")},
                                .npivot = 1},
                    ch);
}
static int w_toggle(m2m_relation *rel, int flags, m2m_changes **ch) {
    return m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4), IT(1)),
                      &(m2m_opts){.flags = flags}, ch);
}
static int w_detach(m2m_relation *rel, int flags, m2m_changes **ch) {
    return m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(1), M2M_INT(3)),
                      &(m2m_opts){.flags = flags}, ch);
}
static int w_detach_all(m2m_relation *rel, int flags, m2m_changes **ch) {
    return m2m_detach(rel, M2M_INT(1), NULL, 0, &(m2m_opts){.flags = flags}, ch);
}
static int w_update(m2m_relation *rel, int flags, m2m_changes **ch) {
    (void)flags;
    return m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(2), M2M_INT(3)),
                            FX_COLS(COL("rank", M2M_INT(9))), ch);
}

static const wop ops[] = {
    {"attach", w_attach,
     "1|1|admin|1,1|2|member|2,1|3|member|3,1|4|x|~,1|5|~|~,1|6|~|6,2|1|member|4",
     "4,5,6", "", ""},
    {"sync", w_sync, "1|2|admin|2,1|4|admin|40,1|5|admin|~,2|1|member|4", "4,5", "1,3",
     "2"},
    {"toggle", w_toggle, "1|2|member|2,1|4|~|~,2|1|member|4", "4", "1,3", ""},
    {"detach", w_detach, "1|2|member|2,2|1|member|4", "", "1,3", ""},
    {"detach_all", w_detach_all, "2|1|member|4", "", "1,2,3", ""},
    {"update", w_update, "1|1|admin|1,1|2|member|9,1|3|member|9,2|1|member|4", "", "",
     "2,3"},
};

static int afters;
static int before_cb(void *arg, const m2m_changes *ch) {
    (void)arg, (void)ch;
    return 0;
}
static void after_cb(void *arg, const m2m_changes *ch) {
    (void)arg, (void)ch;
    afters++;
}

/* The message of a failed call is current: its code, some text. */
static void assert_error(m2m_db *db, int rc, const char *what) {
    const char *msg = m2m_errmsg(db);
    if (m2m_errcode(db) != rc || !msg || !*msg || strstr(msg, "not an error"))
        fail_msg("%s: returned %s but m2m_errcode is %s, message '%s'", what,
                 m2m_errname(rc), m2m_errname(m2m_errcode(db)), msg ? msg : "(null)");
}

/* Run op once under variant v on db, as a caller would: inside a caller
 * transaction it commits, or rolls back when the operation failed. */
static int run_variant(m2m_db *db, m2m_relation *rel, const wop *op, int v,
                       m2m_changes **ch, const char *what) {
    int flags = v & V_VERSION ? M2M_WANT_VERSION : 0;
    int rc = v & V_TXN ? m2m_begin(db) : M2M_OK;
    if (rc == M2M_OK)
        rc = op->run(rel, flags, v & V_REPORT ? ch : NULL);
    if (rc != M2M_OK)
        assert_error(db, rc, what);
    if (!(v & V_TXN))
        return rc;
    if (rc == M2M_OK) {
        rc = m2m_commit(db);
        if (rc != M2M_OK) {
            assert_error(db, rc, what);
            m2m_changes_free(*ch);
            *ch = NULL;
        }
        return rc;
    }
    if (rc != M2M_CONNECTION || strcmp(t_backend, "sqlite") == 0)
        m2m_rollback(db);
    return rc;
}

/* Walk every fault point of kind through op under variant v. */
static void walk(const wop *op, int v, int kind, int persistent) {
    fd_disarm(); /* a failed test before may have left it armed */
    if (!fd_applies(kind))
        return;
    m2m_db *db = t_open();
    m2m_relation *rel = NULL;
    T_OK(m2m_relation_open(
        db,
        &(m2m_relation_def){.parent_table = "rooms",
                            .related_table = "users",
                            .pivot_table = "room_members",
                            .foreign_pivot_key = "room_id",
                            .related_pivot_key = "user_id",
                            .pivot_columns =
                                (const char *const[]){"role", "joined_at", "rank", NULL}},
        &rel));
    if (v & V_CALLBACKS)
        T_OK(m2m_relation_on_change(rel, before_cb, after_cb, NULL));
    if (strcmp(t_backend, "sqlite") == 0)
        T_OK(m2m_exec(db, "PRAGMA synchronous=OFF")); /* no fsync: thousands of commits */
    fd_install(db);
    /* A persistent busy fault waits out the whole busy timeout at every
     * step; its bound is proven in test_busy.c, here it only costs time. */
    db->busy_timeout_ms = 50;
    /* Warm the statement cache: the faults then hit the steps of the call
     * itself (the cold variant below covers the prepares). */
    if (!(v & V_ALL)) {
        t_exec(INITIAL);
        m2m_changes *ch = NULL;
        T_OK(run_variant(db, rel, op, v, &ch, op->name));
        m2m_changes_free(ch);
    }
    long k, failures = 0;
    for (k = 1; k < 1000; k++) {
        char what[128];
        snprintf(what, sizeof what, "%s v%d %s%s k=%ld", op->name, v, fd_name(kind),
                 persistent ? " persistent" : "", k);
        t_exec(INITIAL);
        afters = 0;
        m2m_changes *ch = NULL;
        fd_arm(kind, k, persistent);
        int rc = run_variant(db, rel, op, v, &ch, what);
        long fired = fd_disarm();
        const char *rows = ALL_ROWS();
        bool after = strcmp(rows, op->after) == 0, before = strcmp(rows, BEFORE) == 0;
        if (rc == M2M_OK) {
            if (!after)
                fail_msg("%s: M2M_OK but the pivot is %s", what, rows);
            if (v & V_REPORT) {
                assert_non_null(ch);
                assert_string_equal(FX_ATT(ch), op->att);
                assert_string_equal(FX_DET(ch), op->det);
                assert_string_equal(FX_UPD(ch), op->upd);
                if (v & V_VERSION && op->run != w_update)
                    assert_true(strlen(ch->version) > 0);
            }
            if (v & V_CALLBACKS && afters != 1)
                fail_msg("%s: M2M_OK but %d after-callbacks", what, afters);
        } else {
            failures++;
            assert_null(ch);
            if (!fired)
                fail_msg("%s: %s without an injected fault: %s", what, m2m_errname(rc),
                         m2m_errmsg(db));
            if (rc == M2M_INDOUBT) {
                if (!before && !after)
                    fail_msg("%s: M2M_INDOUBT and the pivot is %s", what, rows);
            } else if (!before) {
                fail_msg("%s: %s (%s) but the pivot is %s", what, m2m_errname(rc),
                         m2m_errmsg(db), rows);
            } else if (rc != fd_code(kind)) {
                fail_msg("%s: %s, expected %s (%s)", what, m2m_errname(rc),
                         m2m_errname(fd_code(kind)), m2m_errmsg(db));
            }
            if (afters)
                fail_msg("%s: %s but the after-callback ran", what, m2m_errname(rc));
        }
        if (kind == FD_COMMIT_LOST && !persistent && fired && rc != M2M_OK)
            fail_msg("%s: a commit whose answer was lost is not resolved: %s (%s)", what,
                     m2m_errname(rc), m2m_errmsg(db));
        /* Its id read in an earlier batch resolves it; else it is unknown. */
        if (kind == FD_REPLY_LOST && fired && rc != M2M_INDOUBT && rc != M2M_OK)
            fail_msg("%s: %s after a commit whose answer was lost (%s)", what,
                     m2m_errname(rc), m2m_errmsg(db));
        m2m_changes_free(ch);
        if (rc == M2M_CONNECTION || rc == M2M_INDOUBT)
            T_OK(m2m_reconnect(db));
        /* The handle still works. */
        if (rc != M2M_OK && before) {
            ch = NULL;
            afters = 0;
            int again = run_variant(db, rel, op, v, &ch, what);
            if (again != M2M_OK)
                fail_msg("%s: the next call fails: %s (%s)", what, m2m_errname(again),
                         m2m_errmsg(db));
            assert_string_equal(ALL_ROWS(), op->after);
            m2m_changes_free(ch);
        }
        if (!fired)
            break;
    }
    if (k >= 1000)
        fail_msg("%s: faults still firing after 1000 points", op->name);
    if (k == 1)
        fail_msg("%s: no fault point", op->name);
    (void)failures;
    m2m_relation_close(rel);
    m2m_close(db);
}

/* Each feature alone, then all together. */
static const int variants[] = {0,
                               V_REPORT,
                               V_CALLBACKS,
                               V_TXN,
                               V_VERSION,
                               V_REPORT | V_VERSION | V_TXN,
                               V_REPORT | V_CALLBACKS | V_VERSION | V_TXN};

/* Where a point costs a new connection, a busy wait or a server round
 * trip: the variants that differ in their statements and batches. */
static const int few[] = {0, V_REPORT | V_CALLBACKS | V_VERSION, V_TXN | V_REPORT};

static void setup(void) {
    fx_rooms();
    if (strcmp(t_backend, "sqlite") == 0)
        t_exec("PRAGMA synchronous=OFF");
}

/* One operation through every variant, then once more cold (its prepares
 * fail too). */
static void walk_op(size_t o, int kind, int persistent) {
    setup();
    bool slow = persistent || kind >= FD_LOST || strcmp(t_backend, "pg") == 0;
    const int *vs = slow ? few : variants;
    size_t nv = slow ? sizeof few / sizeof few[0] : sizeof variants / sizeof variants[0];
    if (persistent && kind >= FD_LOST)
        nv = 2; /* a reconnect that keeps failing: as the first one */
    for (size_t v = 0; v < nv; v++)
        walk(&ops[o], vs[v], kind, persistent);
    if (kind <= FD_IOERR)
        walk(&ops[o], V_ALL | V_REPORT, kind, persistent);
}

/* One test per operation and fault, each well within the runner's
 * timeout. Lost connections and commits are PostgreSQL's: SQLite is an
 * embedded file, and its COMMIT is never in doubt. */
#define FAULT_TESTS(NAME, ONLY, KIND, PERSISTENT)                                        \
    ONLY(NAME##_attach) { walk_op(0, KIND, PERSISTENT); }                                \
    ONLY(NAME##_sync) { walk_op(1, KIND, PERSISTENT); }                                  \
    ONLY(NAME##_toggle) { walk_op(2, KIND, PERSISTENT); }                                \
    ONLY(NAME##_detach) { walk_op(3, KIND, PERSISTENT); }                                \
    ONLY(NAME##_detach_all) { walk_op(4, KIND, PERSISTENT); }                            \
    ONLY(NAME##_update) { walk_op(5, KIND, PERSISTENT); }
#define ALL(name) TEST(name)
#define PG(name)  TEST_ONLY(pg, name)

FAULT_TESTS(faultdrv_busy, ALL, FD_BUSY, 0)
FAULT_TESTS(faultdrv_busy_persistent, ALL, FD_BUSY, 1)
FAULT_TESTS(faultdrv_ioerr, ALL, FD_IOERR, 0)
FAULT_TESTS(faultdrv_ioerr_persistent, ALL, FD_IOERR, 1)
FAULT_TESTS(faultdrv_lost, PG, FD_LOST, 0)
FAULT_TESTS(faultdrv_lost_persistent, PG, FD_LOST, 1)
FAULT_TESTS(faultdrv_commit_lost, PG, FD_COMMIT_LOST, 0)
FAULT_TESTS(faultdrv_commit_lost_persistent, PG, FD_COMMIT_LOST, 1)
FAULT_TESTS(faultdrv_reply_lost, PG, FD_REPLY_LOST, 0)
