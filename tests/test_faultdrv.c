/* SPDX-License-Identifier: MIT */
/* Faults injected at every step of every write operation (faultdrv.h): busy,
 * I/O error, a lost connection, a commit whose answer is lost. For each k
 * the k-th point fails; the call must leave the database as before or as
 * after (never anything else), return the right code with a current
 * message, keep the handle usable, and leak nothing (ASan). Each operation
 * runs with and without a report, callbacks, a version and a caller
 * transaction, through three sides of one pivot table: the relation
 * (rooms -> users, in the most combinations), its inverse (users -> rooms)
 * and, on PostgreSQL, the inverse bound to its owner column under row-level
 * security, written in a JWT session (none of the features and all of
 * them: walk_side). */
#include "drivers/driver.h"
#include "faultdrv.h"
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef M2M_HAVE_JWT
#include <jwt.h>
#endif

/* The rows as (parent, related, role, rank) of the side that writes them:
 * the inverse sees them transposed, so one set of calls and expected
 * states serves every side. */
#define INITIAL                                                                          \
    "DELETE FROM room_members;"                                                          \
    "INSERT INTO room_members(%s, %s, role, rank) VALUES"                                \
    " (1, 1, 'admin', 1), (1, 2, 'member', 2), (1, 3, 'member', 3), (2, 1, 'member', 4)"
#define BEFORE "1|1|admin|1,1|2|member|2,1|3|member|3,2|1|member|4"

/* A side of the pivot table an operation goes through. */
typedef struct side {
    const char *name, *parent, *related, *fk, *rk;
    bool jwt; /* bound to owner column fk, in a session for sub "1" */
} side;

static const side fwd_side = {"", "rooms", "users", "room_id", "user_id", false};
static const side inv_side = {" inverse", "users", "rooms", "user_id", "room_id", false};
static const side jwt_side = {" jwt", "users", "rooms", "user_id", "room_id", true};

static void initial(const side *s) {
    char sql[512];
    snprintf(sql, sizeof sql,
             INITIAL "; DELETE FROM %s WHERE id >= 7; UPDATE %s SET updated_at = NULL",
             s->fk, s->rk, s->related, s->parent);
    t_exec(sql);
}

/* Parent rows touched (V_TOUCH): 1 after every operation, 0 before. */
static int64_t touched(const side *s) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE updated_at IS NOT NULL",
             s->parent);
    return t_int(sql, NULL, 0);
}

static const char *all_rows(const side *s) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s, %s, role, rank FROM room_members ORDER BY 1, 2",
             s->fk, s->rk);
    return t_rows(sql);
}

/* The pivot's rows (as all_rows), the related rows create made (ids 7
 * and up) and the parents touched, in one query: one round trip where
 * three were, at every step of every walk. The pivot's rows come each
 * with a 0, then one row of the two counts with a 1. */
static const char *state(const side *s, int64_t *made, int64_t *touch) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT %s, %s, role, rank, 0 FROM room_members UNION ALL"
             " SELECT (SELECT COUNT(*) FROM %s WHERE id >= 7),"
             " (SELECT COUNT(*) FROM %s WHERE updated_at IS NOT NULL), NULL, NULL, 1"
             " ORDER BY 5, 1, 2",
             s->fk, s->rk, s->related, s->parent);
    static char rows[4096];
    size_t len = 0;
    rows[0] = '\0';
    *made = *touch = -1;
    for (const char *row = t_rows(sql); *row;) {
        const char *end = strchr(row, ','), *bar;
        size_t n = end ? (size_t)(end - row) : strlen(row);
        for (bar = row + n; bar > row && bar[-1] != '|'; bar--)
            ;
        if (bar > row && *bar == '1') {
            long long m, t;
            if (sscanf(row, "%lld|%lld|", &m, &t) != 2)
                fail_msg("state: bad counts row %.*s", (int)n, row);
            *made = m, *touch = t;
        } else if (bar > row) {
            len += (size_t)snprintf(rows + len, sizeof rows - len, "%s%.*s",
                                    len ? "," : "", (int)(bar - 1 - row), row);
            if (len >= sizeof rows)
                fail_msg("state: pivot too large");
        }
        row += n + (end != NULL);
    }
    if (*made < 0)
        fail_msg("state: no counts row");
    return rows;
}

enum {
    V_REPORT = 1,
    V_CALLBACKS = 2,
    V_VERSION = 4,
    V_TXN = 8,
    V_ALL = 16,
    V_TOUCH = 32
};

typedef struct wop {
    const char *name;
    int (*run)(m2m_relation *rel, int flags, m2m_changes **ch);
    const char *after, *att, *det, *upd;
    int64_t made; /* related rows it creates */
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

/* The plain-id forms: repeats, the shared values written to kept rows. */
static int w_sync_ids(m2m_relation *rel, int flags, m2m_changes **ch) {
    return m2m_sync_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(2), M2M_INT(4), M2M_INT(2)),
                        &(m2m_opts){.flags = flags | M2M_UPDATE_EXISTING,
                                    .pivot = (const m2m_col[]){COLT("role", "admin")},
                                    .npivot = 1},
                        ch);
}
/* M2M_COUNTS: its report has the counts of sync_ids, no ids. */
static int w_sync_counts(m2m_relation *rel, int flags, m2m_changes **ch) {
    return w_sync_ids(rel, flags | M2M_COUNTS, ch);
}
static int w_toggle_ids(m2m_relation *rel, int flags, m2m_changes **ch) {
    return m2m_toggle_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(3), M2M_INT(4), M2M_INT(3)),
                          &(m2m_opts){.flags = flags}, ch);
}

/* Related 7 and 8 (users on the relation's side, rooms on the others). */
static int w_create(m2m_relation *rel, int flags, m2m_changes **ch) {
    const m2m_col seven[] = {COL("id", M2M_INT(7)), COLT("name", "g")};
    const m2m_col eight[] = {COLT("name", "h"), COL("id", M2M_INT(8))};
    const m2m_new rows[] = {{seven, 2, (const m2m_col[]){COLT("role", "x")}, 1},
                            {eight, 2, NULL, 0}};
    return m2m_create(rel, M2M_INT(1), rows, 2, &(m2m_opts){.flags = flags}, ch);
}

static const wop ops[] = {
    {"attach", w_attach,
     "1|1|admin|1,1|2|member|2,1|3|member|3,1|4|x|~,1|5|~|~,1|6|~|6,2|1|member|4",
     "4,5,6", "", "", 0},
    {"sync", w_sync, "1|2|admin|2,1|4|admin|40,1|5|admin|~,2|1|member|4", "4,5", "1,3",
     "2", 0},
    {"toggle", w_toggle, "1|2|member|2,1|4|~|~,2|1|member|4", "4", "1,3", "", 0},
    {"detach", w_detach, "1|2|member|2,2|1|member|4", "", "1,3", "", 0},
    {"detach_all", w_detach_all, "2|1|member|4", "", "1,2,3", "", 0},
    {"update", w_update, "1|1|admin|1,1|2|member|9,1|3|member|9,2|1|member|4", "", "",
     "2,3", 0},
    {"create", w_create,
     "1|1|admin|1,1|2|member|2,1|3|member|3,1|7|x|~,1|8|~|~,2|1|member|4", "7,8", "", "",
     2},
    {"sync_ids", w_sync_ids, "1|2|admin|2,1|4|admin|~,2|1|member|4", "4", "1,3", "2", 0},
    {"sync_counts", w_sync_counts, "1|2|admin|2,1|4|admin|~,2|1|member|4", "1", "2", "1",
     0},
    {"toggle_ids", w_toggle_ids, "1|1|admin|1,1|2|member|2,1|4|~|~,2|1|member|4", "4",
     "3", "", 0},
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

static m2m_relation_def side_def(const side *s, int v) {
    static const char *const cols[] = {"role", "joined_at", "rank", NULL};
    return (m2m_relation_def){.parent_table = s->parent,
                              .related_table = s->related,
                              .pivot_table = "room_members",
                              .foreign_pivot_key = s->fk,
                              .related_pivot_key = s->rk,
                              .pivot_columns = cols,
                              .owner_column = s->jwt ? s->fk : NULL,
                              .touch = v & V_TOUCH};
}

static m2m_db *open_side(const side *s);

/* A connection for side s under the fault driver, for all its walks. */
static m2m_db *side_db(const side *s) {
    m2m_db *db = open_side(s);
    if (strcmp(t_backend, "sqlite") == 0)
        T_OK(m2m_exec(db, "PRAGMA synchronous=OFF")); /* no fsync: thousands of commits */
    fd_install(db);
    /* A persistent busy fault waits out the whole busy timeout at every
     * step; its bound is proven in test_busy.c, here it only costs time:
     * 20 ms still takes several attempts with their backoff. */
    db->busy_timeout_ms = 20;
    return db;
}

/* Walk every fault point of kind through op under variant v on side s,
 * over db (side_db), with a relation of its own: nothing prepared yet. */
static void walk(m2m_db *db, const wop *op, int v, int kind, int persistent,
                 const side *s) {
    fd_disarm(); /* a failed test before may have left it armed */
    if (!fd_applies(kind))
        return;
    m2m_relation *rel = NULL;
    m2m_relation_def def = side_def(s, v);
    int orc = m2m_relation_open(db, &def, &rel);
    if (orc != M2M_OK)
        fail_msg("relation_open%s: %s: %s", s->name, m2m_errname(orc), m2m_errmsg(db));
    if (v & V_CALLBACKS)
        T_OK(m2m_relation_on_change(rel, before_cb, after_cb, NULL));
    /* Warm the statement cache: the faults then hit the steps of the call
     * itself (the cold variant below covers the prepares). */
    if (!(v & V_ALL)) {
        initial(s);
        m2m_changes *ch = NULL;
        int wrc = run_variant(db, rel, op, v, &ch, op->name);
        if (wrc != M2M_OK)
            fail_msg("%s%s v%d: %s (%s)", op->name, s->name, v, m2m_errname(wrc),
                     m2m_errmsg(db));
        m2m_changes_free(ch);
    }
    long k, failures = 0;
    for (k = 1; k < 1000; k++) {
        char what[128];
        snprintf(what, sizeof what, "%s%s v%d %s%s k=%ld", op->name, s->name, v,
                 fd_name(kind), persistent ? " persistent" : "", k);
        initial(s);
        afters = 0;
        m2m_changes *ch = NULL;
        fd_arm(kind, k, persistent);
        int rc = run_variant(db, rel, op, v, &ch, what);
        long fired = fd_disarm();
        int64_t made, touch;
        const char *rows = state(s, &made, &touch);
        bool after = strcmp(rows, op->after) == 0 && made == op->made &&
                     touch == (v & V_TOUCH ? 1 : 0),
             before = strcmp(rows, BEFORE) == 0 && made == 0 && touch == 0;
        if (!before && !after)
            fail_msg("%s: %s: %lld related rows created, %lld parents touched, with the "
                     "pivot %s",
                     what, m2m_errname(rc), (long long)made, (long long)touch, rows);
        if (rc == M2M_OK) {
            if (!after)
                fail_msg("%s: M2M_OK but the pivot is %s", what, rows);
            if (v & V_REPORT) {
                assert_non_null(ch);
                if (op->run == w_sync_counts) {
                    char n[64];
                    assert_true(!ch->attached && !ch->detached && !ch->updated);
                    snprintf(n, sizeof n, "%zu %zu %zu", ch->nattached, ch->ndetached,
                             ch->nupdated);
                    assert_string_equal(n, "1 2 1");
                } else {
                    assert_string_equal(FX_ATT(ch), op->att);
                    assert_string_equal(FX_DET(ch), op->det);
                    assert_string_equal(FX_UPD(ch), op->upd);
                }
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
            assert_string_equal(all_rows(s), op->after);
            assert_int_equal(touched(s), v & V_TOUCH ? 1 : 0);
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
}

/* Each feature alone, then all together. */
static const int variants[] = {0,
                               V_REPORT,
                               V_CALLBACKS,
                               V_TXN,
                               V_VERSION,
                               V_TOUCH,
                               V_REPORT | V_VERSION | V_TXN,
                               V_REPORT | V_CALLBACKS | V_VERSION | V_TXN | V_TOUCH};

/* Where a point costs a new connection, a busy wait or a server round
 * trip: the variants that differ in their statements and batches. */
static const int few[] = {0, V_REPORT | V_CALLBACKS | V_VERSION | V_TOUCH,
                          V_TXN | V_REPORT};

/* The inverse and the session make the relation's calls with other SQL
 * (another lock; the claims, RLS checks and no fused COMMIT in a session). */
#define EVERY (V_REPORT | V_CALLBACKS | V_VERSION | V_TOUCH)

static void setup(void) {
    fx_rooms();
    /* Rooms 4..6: the inverse attaches them as the relation does users. */
    t_exec("INSERT INTO rooms VALUES (4, 'four'), (5, 'five'), (6, 'six');"
           "ALTER TABLE rooms ADD COLUMN updated_at TIMESTAMP;"
           "ALTER TABLE users ADD COLUMN updated_at TIMESTAMP");
    if (strcmp(t_backend, "sqlite") == 0)
        t_exec("PRAGMA synchronous=OFF");
}

/* op through a side other than the relation: none of the features, then
 * all of them in a caller transaction, cold where prepares can fail. Where
 * every point costs a new server process (a lost connection), only the
 * latter. A reconnect that keeps failing changes only how a lost commit is
 * resolved, the same code on every side: walked once, where a commit is
 * lost, with all the features and the call committing by itself. */
static void walk_side(m2m_db *db, const wop *op, int kind, int persistent,
                      const side *s) {
    if (persistent && kind >= FD_LOST) {
        if (kind == FD_COMMIT_LOST)
            walk(db, op, EVERY, kind, persistent, s);
        return;
    }
    if (kind != FD_LOST)
        walk(db, op, 0, kind, persistent, s);
    walk(db, op, EVERY | V_TXN | (kind <= FD_IOERR ? V_ALL : 0), kind, persistent, s);
}

/* One operation through every variant, then once more cold (its prepares
 * fail too); then through the inverse relation. */
static void walk_op(size_t o, int kind, int persistent) {
    setup();
    bool slow = persistent || kind >= FD_LOST || strcmp(t_backend, "sqlite") != 0;
    const int *vs = slow ? few : variants;
    size_t nv = slow ? sizeof few / sizeof few[0] : sizeof variants / sizeof variants[0];
    if (persistent && kind >= FD_LOST)
        nv = 2; /* a reconnect that keeps failing: as the first one */
    m2m_db *db = side_db(&fwd_side);
    for (size_t v = 0; v < nv; v++)
        walk(db, &ops[o], vs[v], kind, persistent, &fwd_side);
    if (kind <= FD_IOERR)
        walk(db, &ops[o], V_ALL | V_REPORT, kind, persistent, &fwd_side);
    walk_side(db, &ops[o], kind, persistent, &inv_side);
    m2m_close(db);
}

/* One test per operation and fault, each well within the runner's
 * timeout. Lost connections and commits are the servers' (PostgreSQL,
 * MariaDB): SQLite is an embedded file, and its COMMIT is never in doubt. */
#define FAULT_TESTS(NAME, ONLY, KIND, PERSISTENT)                                        \
    ONLY(NAME##_attach) { walk_op(0, KIND, PERSISTENT); }                                \
    ONLY(NAME##_sync) { walk_op(1, KIND, PERSISTENT); }                                  \
    ONLY(NAME##_toggle) { walk_op(2, KIND, PERSISTENT); }                                \
    ONLY(NAME##_detach) { walk_op(3, KIND, PERSISTENT); }                                \
    ONLY(NAME##_detach_all) { walk_op(4, KIND, PERSISTENT); }                            \
    ONLY(NAME##_update) { walk_op(5, KIND, PERSISTENT); }                                \
    ONLY(NAME##_create) { walk_op(6, KIND, PERSISTENT); }                                \
    ONLY(NAME##_sync_ids) { walk_op(7, KIND, PERSISTENT); }                              \
    ONLY(NAME##_sync_counts) { walk_op(8, KIND, PERSISTENT); }                           \
    ONLY(NAME##_toggle_ids) { walk_op(9, KIND, PERSISTENT); }
#define ALL(name)    TEST(name)
#define SERVER(name) TEST_EXCEPT(sqlite, name)
/* The lost connection ends the session with KILL CONNECTION_ID(). On a
 * Galera node (MariaDB 10.11) a session that kills itself commits its open
 * transaction, unlike a connection that drops or is killed from another
 * session (both roll back), so the walk would test that quirk: not run on
 * a cluster, where tests/test_cluster.c SIGKILLs a node instead. */
#define ONE_SERVER(name) T_DEFINE(name, T_ON_pg | T_ON_mariadb)

FAULT_TESTS(faultdrv_busy, ALL, FD_BUSY, 0)
FAULT_TESTS(faultdrv_busy_persistent, ALL, FD_BUSY, 1)
FAULT_TESTS(faultdrv_ioerr, ALL, FD_IOERR, 0)
FAULT_TESTS(faultdrv_ioerr_persistent, ALL, FD_IOERR, 1)
FAULT_TESTS(faultdrv_lost, ONE_SERVER, FD_LOST, 0)
FAULT_TESTS(faultdrv_lost_persistent, ONE_SERVER, FD_LOST, 1)
FAULT_TESTS(faultdrv_commit_lost, SERVER, FD_COMMIT_LOST, 0)
FAULT_TESTS(faultdrv_commit_lost_persistent, SERVER, FD_COMMIT_LOST, 1)
FAULT_TESTS(faultdrv_reply_lost, SERVER, FD_REPLY_LOST, 0)

/* MariaDB sends big id arrays ahead of their statement, in pieces
 * (m2m__ids_inline_max): the lost connection and reply with every array
 * sent so, where the connection can drop between pieces and execution. */
static void walk_pieces(size_t o, int kind) {
    size_t was = m2m__ids_inline_max;
    m2m__ids_inline_max = 0;
    walk_op(o, kind, 0);
    m2m__ids_inline_max = was;
}
TEST_ONLY(mariadb, faultdrv_lost_pieces_sync_ids) { walk_pieces(7, FD_LOST); }
TEST_ONLY(mariadb, faultdrv_lost_pieces_toggle) { walk_pieces(2, FD_LOST); }
TEST_ONLY(mariadb, faultdrv_reply_lost_pieces_sync) { walk_pieces(1, FD_REPLY_LOST); }

/* PostgreSQL finds the rows a sync of up to 64 ids does not keep with
 * `<> ALL`, a larger one's with NOT EXISTS: the walks above take the
 * former, these the latter (the SQL differs, the steps do not). */
static void walk_many(size_t o, int kind) {
    fd_many_ids = 1;
    walk_op(o, kind, 0);
    fd_many_ids = 0;
}
TEST_ONLY(pg, faultdrv_ioerr_many_sync) { walk_many(1, FD_IOERR); }
TEST_ONLY(pg, faultdrv_lost_many_sync_counts) { walk_many(8, FD_LOST); }

#ifdef M2M_HAVE_JWT

/* ---- the JWT side (PostgreSQL: sessions need row-level security) ---- */

static const unsigned char SECRET[] = "m2m-faultdrv-secret-0123456789abcdef";
static char jrole[80], jlogin[80]; /* the session's role, the login's */

/* Policies for role jrole on the pivot, and a login without privileges
 * that may switch to it, as an application connects (test_auth.c). A lost
 * connection is injected as pg_terminate_backend() of the connection's own
 * backend, which inside the session runs as jrole: pg_signal_backend lets
 * it signal the login's backend. */
static void jwt_setup(void) {
    char schema[64], sql[1024];
    snprintf(schema, sizeof schema, "%s", t_rows("SELECT current_schema()"));
    snprintf(jrole, sizeof jrole, "fr_%s", schema);
    snprintf(jlogin, sizeof jlogin, "fl_%s", schema);
    m2m_relation_def def = side_def(&jwt_side, 0);
    m2m_relation *admin = fx_open(&def);
    T_OK(m2m_rls_install(admin, jrole));
    m2m_relation_close(admin);
    snprintf(sql, sizeof sql,
             "CREATE ROLE \"%s\" LOGIN NOINHERIT; GRANT USAGE ON SCHEMA \"%s\" TO \"%s\";"
             " GRANT \"%s\" TO \"%s\"; GRANT pg_signal_backend TO \"%s\";"
             " GRANT INSERT ON rooms TO \"%s\"; GRANT UPDATE ON users TO \"%s\"",
             jlogin, schema, jlogin, jrole, jlogin, jrole, jrole, jrole);
    t_exec(sql);
}

static void jwt_done(void) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "DROP OWNED BY \"%s\"; DROP ROLE \"%s\"; DROP OWNED BY \"%s\";"
             " DROP ROLE \"%s\"",
             jlogin, jlogin, jrole, jrole);
    t_exec(sql);
}

/* A connection as jlogin in a session for sub "1", the owner of the rows
 * of parent 1 on this side. */
static m2m_db *open_session(void) {
    char url[1200];
    snprintf(url, sizeof url, "%s user=%s", t_url(), jlogin);
    m2m_db *db = NULL;
    int rc = m2m_open(url, &db);
    if (rc != M2M_OK)
        fail_msg("open as %s: %s", jlogin, m2m_errname(rc));
    char payload[64];
    snprintf(payload, sizeof payload, "{\"sub\":\"1\",\"exp\":%lld}",
             (long long)time(NULL) + 3600);
    jwt_t *j = NULL;
    assert_int_equal(jwt_new(&j), 0);
    assert_int_equal(jwt_add_grants_json(j, payload), 0);
    assert_int_equal(jwt_set_alg(j, JWT_ALG_HS256, SECRET, (int)sizeof SECRET - 1), 0);
    char *tok = jwt_encode_str(j);
    assert_non_null(tok);
    jwt_free(j);
    m2m_jwt_config cfg = {
        .hs256_secret = SECRET, .hs256_secret_len = sizeof SECRET - 1, .role = jrole};
    rc = m2m_auth_jwt(db, tok, &cfg);
    free(tok);
    if (rc != M2M_OK)
        fail_msg("auth_jwt: %s: %s", m2m_errname(rc), m2m_errmsg(db));
    return db;
}

static m2m_db *open_side(const side *s) { return s->jwt ? open_session() : t_open(); }

/* One operation through the session, every fault. */
static void walk_jwt(size_t o) {
    static const struct {
        int kind, persistent;
    } faults[] = {{FD_BUSY, 0},        {FD_BUSY, 1},      {FD_IOERR, 0},
                  {FD_IOERR, 1},       {FD_LOST, 0},      {FD_COMMIT_LOST, 0},
                  {FD_COMMIT_LOST, 1}, {FD_REPLY_LOST, 0}};
    setup();
    jwt_setup();
    m2m_db *db = side_db(&jwt_side);
    for (size_t f = 0; f < sizeof faults / sizeof faults[0]; f++)
        walk_side(db, &ops[o], faults[f].kind, faults[f].persistent, &jwt_side);
    /* Reconnects kept the session (every write above needed its role). */
    assert_string_equal(m2m_auth_sub(db), "1");
    m2m_close(db);
    jwt_done();
}

/* Every fault of one operation per test: the session's setup is paid once. */
TEST_ONLY(pg, faultdrv_jwt_attach) { walk_jwt(0); }
TEST_ONLY(pg, faultdrv_jwt_sync) { walk_jwt(1); }
TEST_ONLY(pg, faultdrv_jwt_toggle) { walk_jwt(2); }
TEST_ONLY(pg, faultdrv_jwt_detach) { walk_jwt(3); }
TEST_ONLY(pg, faultdrv_jwt_detach_all) { walk_jwt(4); }
TEST_ONLY(pg, faultdrv_jwt_update) { walk_jwt(5); }
TEST_ONLY(pg, faultdrv_jwt_create) { walk_jwt(6); }

#else
static m2m_db *open_side(const side *s) {
    (void)s;
    return t_open();
}
#endif
