/* SPDX-License-Identifier: MIT */
/* Writers wait for each other and retry what a busy database refused:
 * every write waits while another connection's transaction holds a write on
 * the same parent (through the relation or its inverse); serialization
 * failures, deadlocks and lock conflicts are retried until the operation
 * succeeds; a database that stays busy fails the call within the busy
 * timeout, with M2M_BUSY, its code on the handle and a message that says
 * what was busy. */
#include "fixtures.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool is_pg(void) { return strcmp(t_backend, "pg") == 0; }

static double bz_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bz_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Keys (a_id, b_id): the relation from bz_a is the canonical side of the
 * lock, its inverse the other. */
static const m2m_relation_def bz_def = {.parent_table = "bz_a",
                                        .related_table = "bz_b",
                                        .pivot_table = "bz_pivot",
                                        .foreign_pivot_key = "a_id",
                                        .related_pivot_key = "b_id",
                                        .pivot_columns =
                                            (const char *const[]){"v", NULL}};

static void bz_schema(bool unique) {
    t_exec("CREATE TABLE bz_a(id BIGINT PRIMARY KEY);"
           "CREATE TABLE bz_b(id BIGINT PRIMARY KEY);"
           "INSERT INTO bz_a VALUES (1),(2),(3);"
           "INSERT INTO bz_b VALUES (1),(2),(3);");
    t_exec(unique ? "CREATE TABLE bz_pivot(a_id BIGINT NOT NULL REFERENCES bz_a(id),"
                    " b_id BIGINT NOT NULL REFERENCES bz_b(id), v BIGINT,"
                    " PRIMARY KEY(a_id, b_id))"
                  : "CREATE TABLE bz_pivot(a_id BIGINT NOT NULL REFERENCES bz_a(id),"
                    " b_id BIGINT NOT NULL REFERENCES bz_b(id), v BIGINT)");
}

/* A call made by a thread while the test holds a transaction. */
enum { W_SYNC, W_TOGGLE, W_ATTACH, W_DETACH, W_DETACH_ALL, W_UPDATE, W_N };
static const char *const w_name[] = {"sync",   "toggle",     "attach",
                                     "detach", "detach-all", "update"};

typedef struct bz_call {
    m2m_relation *rel;
    int kind;
    bool inverse; /* the pair (1, 3) through the inverse: parent 3, ids {1} */
    bool report;
    int rc;
    char msg[256];
    char att[32], det[32], upd[32];
    atomic_bool finished;
} bz_call;

static void bz_ids(char *out, const m2m_value *v, size_t n) {
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), 32 - strlen(out), "%s%lld", i ? "," : "",
                 (long long)v[i].i);
}

static void *bz_thread(void *arg) {
    bz_call *c = arg;
    m2m_value parent = M2M_INT(c->inverse ? 3 : 1), id = M2M_INT(c->inverse ? 1 : 3);
    m2m_item item = {.id = id};
    m2m_col v = {"v", M2M_INT(9)};
    m2m_opts with_v = {.pivot = &v, .npivot = 1};
    m2m_changes *ch = NULL, **out = c->report ? &ch : NULL;
    switch (c->kind) {
        case W_SYNC:
            c->rc = m2m_sync(c->rel, parent, &item, 1, NULL, out);
            break;
        case W_TOGGLE:
            c->rc = m2m_toggle(c->rel, parent, &item, 1, NULL, out);
            break;
        case W_ATTACH:
            c->rc = m2m_attach(c->rel, parent, &item, 1, &with_v, out);
            break;
        case W_DETACH:
            c->rc = m2m_detach(c->rel, parent, &id, 1, NULL, out);
            break;
        case W_DETACH_ALL:
            c->rc = m2m_detach(c->rel, parent, NULL, 0, NULL, out);
            break;
        default:
            c->rc = m2m_update_pivot(c->rel, parent, &id, 1, &v, 1, out);
    }
    if (c->rc)
        snprintf(c->msg, sizeof c->msg, "%s", m2m_errmsg(m2m_relation_db(c->rel)));
    if (ch) {
        bz_ids(c->att, ch->attached, ch->nattached);
        bz_ids(c->det, ch->detached, ch->ndetached);
        bz_ids(c->upd, ch->updated, ch->nupdated);
        m2m_changes_free(ch);
    }
    atomic_store(&c->finished, true);
    return NULL;
}

/* The rows after the holder's attach of (1, 2) and then the call on the
 * pair (1, 3), which starts as (1, 3, v=1); and the call's report. */
static const struct {
    const char *rows, *att, *det, *upd;
} bz_want[2][W_N] = {
    /* parent 1, ids {3} */
    {{"1|3|1", "", "2", ""},
     {"1|2|~", "", "3", ""},
     {"1|2|~,1|3|1", "", "", ""},
     {"1|2|~", "", "3", ""},
     {"", "", "2,3", ""},
     {"1|2|~,1|3|9", "", "", "3"}},
    /* inverse: parent 3, ids {1} */
    {{"1|2|~,1|3|1", "", "", ""},
     {"1|2|~", "", "1", ""},
     {"1|2|~,1|3|1", "", "", ""},
     {"1|2|~", "", "1", ""},
     {"1|2|~", "", "1", ""},
     {"1|2|~,1|3|9", "", "", "1"}},
};

static void bz_sorted(char *s) { /* "3,2" -> "2,3" for the two-id case */
    if (strcmp(s, "3,2") == 0)
        strcpy(s, "2,3");
}

/* Every write, with and without a report, through either side, waits while
 * another connection's transaction holds a write on the same parent
 * through either side; then it runs on what that transaction committed.
 * Not on a Galera cluster, where the two connections are on different
 * nodes: nothing waits there, the first to commit wins and the other's
 * commit fails (test_cluster.c). */
TEST_EXCEPT(galera, lock_every_write_waits_for_a_write_on_the_same_parent) {
    bz_schema(false);
    m2m_relation *rel = fx_open(&bz_def), *inv = NULL;
    T_OK(m2m_relation_inverse(rel, &inv));
    m2m_db *hold_db = t_open(), *call_db = t_open();
    m2m_relation *hold = NULL, *hold_inv = NULL, *call = NULL, *call_inv = NULL;
    T_OK(m2m_relation_open(hold_db, &bz_def, &hold));
    T_OK(m2m_relation_inverse(hold, &hold_inv));
    T_OK(m2m_relation_open(call_db, &bz_def, &call));
    T_OK(m2m_relation_inverse(call, &call_inv));
    int failures = 0;
    for (int kind = 0; kind < W_N; kind++)
        for (int mode = 0; mode < 8; mode++) {
            bool report = mode & 1, side = mode & 2, hold_side = mode & 4;
            t_exec("DELETE FROM bz_pivot; INSERT INTO bz_pivot VALUES (1, 3, 1)");
            T_OK(m2m_begin(hold_db));
            /* The pair (1, 2), through the relation or the inverse. */
            if (hold_side)
                T_OK(m2m_attach(hold_inv, M2M_INT(2), FX_ITEMS(IT(1)), NULL, NULL));
            else
                T_OK(m2m_attach(hold, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
            bz_call c = {.rel = side ? call_inv : call,
                         .kind = kind,
                         .inverse = side,
                         .report = report};
            atomic_init(&c.finished, false);
            pthread_t th;
            assert_int_equal(pthread_create(&th, NULL, bz_thread, &c), 0);
            bz_sleep_ms(100);
            bool waited = !atomic_load(&c.finished);
            T_OK(m2m_commit(hold_db));
            pthread_join(th, NULL);
            const char *rows = t_rows("SELECT a_id, b_id, v FROM bz_pivot ORDER BY 1, 2");
            bz_sorted(c.det);
            bool ok = waited && c.rc == M2M_OK &&
                      strcmp(rows, bz_want[side][kind].rows) == 0 &&
                      (!report || (strcmp(c.att, bz_want[side][kind].att) == 0 &&
                                   strcmp(c.det, bz_want[side][kind].det) == 0 &&
                                   strcmp(c.upd, bz_want[side][kind].upd) == 0));
            if (!ok) {
                fprintf(
                    stderr,
                    "%s%s%s while %s holds (1,2): waited %d, %s %s, rows '%s' (want "
                    "'%s'), report att '%s' det '%s' upd '%s'\n",
                    side ? "inverse " : "", w_name[kind], report ? " with report" : "",
                    hold_side ? "the inverse" : "the relation", waited, m2m_errname(c.rc),
                    c.msg, rows, bz_want[side][kind].rows, c.att, c.det, c.upd);
                failures++;
            }
        }
    m2m_relation_close(hold_inv);
    m2m_relation_close(hold);
    m2m_relation_close(call_inv);
    m2m_relation_close(call);
    m2m_close(hold_db);
    m2m_close(call_db);
    m2m_relation_close(inv);
    m2m_relation_close(rel);
    assert_int_equal(failures, 0);
}

/* The canonical side locks per parent: writers on different parents do
 * not wait for each other (PostgreSQL; SQLite has one writer at a time;
 * on MariaDB the gap locks of REPEATABLE READ may make a writer wait for
 * one of a neighbouring parent, docs/backends.md). */
TEST_ONLY(pg, lock_distinct_parents_of_the_canonical_side_run_concurrently) {
    bz_schema(true);
    m2m_db *hold_db = t_open(), *call_db = t_open();
    m2m_relation *hold = NULL, *call = NULL;
    T_OK(m2m_relation_open(hold_db, &bz_def, &hold));
    T_OK(m2m_relation_open(call_db, &bz_def, &call));
    T_OK(m2m_begin(hold_db));
    T_OK(m2m_attach(hold, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
    /* parent 1 is held: parent 2 goes through. */
    m2m_changes *ch = NULL;
    double t0 = bz_now();
    T_OK(m2m_attach(call, M2M_INT(2), FX_ITEMS(IT(3)), NULL, &ch));
    assert_true(bz_now() - t0 < 2.0);
    assert_int_equal(ch->nattached, 1);
    m2m_changes_free(ch);
    T_OK(m2m_commit(hold_db));
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot ORDER BY 1, 2"),
                        "1|2,2|3");
    m2m_relation_close(hold);
    m2m_relation_close(call);
    m2m_close(hold_db);
    m2m_close(call_db);
}

/* The advisory locks of a write are keyed by the pivot table's name hashed
 * (31-bit FNV-1a of "bz_pivot"): connections of every running version
 * serialize on them, so the key must never change. */
TEST_ONLY(pg, lock_key_of_a_pivot_never_changes) {
    bz_schema(true);
    m2m_relation *rel = fx_open(&bz_def);
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
    /* The parent lock (int4 pair) and the shared pivot lock (one int8
     * whose low half is the key), compared once the transaction is over. */
    char *held = strdup(t_rows("SELECT CASE objsubid WHEN 2 THEN classid ELSE objid END,"
                               " mode FROM pg_locks WHERE locktype = 'advisory'"
                               " AND pid = pg_backend_pid() ORDER BY objsubid"));
    T_OK(m2m_commit(t_db()));
    assert_non_null(held);
    assert_string_equal(held, "1000717358|ShareLock,1000717358|ExclusiveLock");
    free(held);
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot"), "1|2");
    m2m_relation_close(rel);
}

typedef struct bz_attach {
    m2m_relation *rel;
    int64_t parent, id;
    int rc;
    char msg[256];
    size_t nattached;
    double took;
} bz_attach;

static void *bz_attach_thread(void *arg) {
    bz_attach *a = arg;
    m2m_item item = {.id = M2M_INT(a->id)};
    m2m_changes *ch = NULL;
    double t0 = bz_now();
    a->rc = m2m_attach(a->rel, M2M_INT(a->parent), &item, 1, NULL, &ch);
    a->took = bz_now() - t0;
    snprintf(a->msg, sizeof a->msg, "%s", m2m_errmsg(m2m_relation_db(a->rel)));
    if (ch)
        a->nattached = ch->nattached;
    m2m_changes_free(ch);
    return NULL;
}

/* The race the retry tests set up: call's attach of (1, id) runs in a
 * thread while hold_db's transaction is open; after 200 ms, then (if
 * any) runs in that transaction, which commits. The attach must end
 * M2M_OK; *a has its report and time. */
static void bz_race(m2m_db *hold_db, m2m_relation *hold, m2m_relation *call, int64_t id,
                    void (*then)(m2m_relation *hold), bz_attach *a) {
    *a = (bz_attach){.rel = call, .parent = 1, .id = id};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bz_attach_thread, a), 0);
    bz_sleep_ms(200);
    if (then)
        then(hold);
    T_OK(m2m_commit(hold_db));
    pthread_join(th, NULL);
    if (a->rc != M2M_OK)
        fail_msg("attach -> %s: %s", m2m_errname(a->rc), a->msg);
}

/* Two connections on bz_def: hold, whose transaction is open when this
 * returns, and call, warmed by one attach to parent 3 (its statements are
 * prepared before the race); session, when not NULL, is run on call first. */
typedef struct bz_pair {
    m2m_db *hold_db, *call_db;
    m2m_relation *hold, *call;
} bz_pair;

static void bz_pair_open(bz_pair *p, const char *session) {
    p->hold_db = t_open();
    p->call_db = t_open();
    if (session)
        T_OK(m2m_exec(p->call_db, session));
    p->hold = p->call = NULL;
    T_OK(m2m_relation_open(p->hold_db, &bz_def, &p->hold));
    T_OK(m2m_relation_open(p->call_db, &bz_def, &p->call));
    T_OK(m2m_attach(p->call, M2M_INT(3), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_begin(p->hold_db));
}

static void bz_pair_close(bz_pair *p) {
    m2m_relation_close(p->hold);
    m2m_relation_close(p->call);
    m2m_close(p->hold_db);
    m2m_close(p->call_db);
}

/* PostgreSQL under REPEATABLE READ: the attach's snapshot predates the
 * lock it waits for, so once the holder commits the same pair, its insert
 * fails with a serialization failure (40001); the retry sees the pair and
 * attaches nothing. */
TEST_ONLY(pg, busy_serialization_failure_is_retried) {
    bz_schema(true);
    bz_pair p;
    bz_pair_open(&p, "SET default_transaction_isolation TO 'repeatable read'");
    T_OK(m2m_attach(p.hold, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
    bz_attach a;
    bz_race(p.hold_db, p.hold, p.call, 2, NULL, &a);
    assert_int_equal(a.nattached, 0);
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot ORDER BY 1, 2"),
                        "1|2,3|3");
    bz_pair_close(&p);
}

/* Waits for the attach's lock until the deadlock is broken. */
static void bz_attach_one(m2m_relation *hold) {
    T_OK(m2m_attach(hold, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
}

/* PostgreSQL: the attach holds parent 1's lock and waits for the parent
 * row, which the other transaction holds FOR UPDATE while it waits for
 * parent 1's lock: a deadlock (40P01). The attach, which waited first, is
 * the one chosen; its retry waits for the other transaction and succeeds. */
TEST_ONLY(pg, busy_deadlock_is_retried) {
    bz_schema(true);
    bz_pair p;
    bz_pair_open(&p, NULL);
    T_OK(
        m2m_sql(p.hold_db, "SELECT id FROM bz_a WHERE id = 1 FOR UPDATE", NULL, 0, NULL));
    bz_attach a;
    bz_race(p.hold_db, p.hold, p.call, 2, bz_attach_one, &a);
    assert_int_equal(a.nattached, 1);
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot ORDER BY 1, 2"),
                        "1|1,1|2,3|3");
    bz_pair_close(&p);
}

/* MariaDB: as on PostgreSQL, the attach holds parent 1's lock row and
 * waits for the parent row, which the other transaction holds FOR UPDATE
 * while it waits for that lock row: a deadlock (1213). InnoDB rolls back
 * the transaction that wrote less, here the attach (the other one wrote 200
 * rows first); its retry waits for the other transaction and succeeds. */
TEST_ONLY(mariadb, busy_deadlock_is_retried_mariadb) {
    bz_schema(true);
    t_exec("CREATE TABLE bz_heavy(id BIGINT PRIMARY KEY)");
    bz_pair p;
    bz_pair_open(&p, NULL);
    T_OK(m2m_sql(p.hold_db, "INSERT INTO bz_heavy SELECT seq FROM seq_1_to_200", NULL, 0,
                 NULL));
    T_OK(
        m2m_sql(p.hold_db, "SELECT id FROM bz_a WHERE id = 1 FOR UPDATE", NULL, 0, NULL));
    bz_attach a;
    bz_race(p.hold_db, p.hold, p.call, 2, bz_attach_one, &a);
    assert_int_equal(a.nattached, 1);
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot ORDER BY 1, 2"),
                        "1|1,1|2,3|3");
    assert_int_equal(fx_count("bz_heavy"), 200);
    bz_pair_close(&p);
}

/* Holds parent 1's lock past the attach's lock wait timeout. */
static void bz_hold_1500_ms(m2m_relation *hold) {
    (void)hold;
    bz_sleep_ms(1500);
}

/* MariaDB: a lock wait timeout (1205) rolls back the statement; the
 * operation is retried (from BEGIN) until the lock is free. */
TEST_ONLY(mariadb, busy_lock_wait_timeout_is_retried) {
    bz_schema(true);
    bz_pair p;
    bz_pair_open(&p, "SET SESSION innodb_lock_wait_timeout = 1");
    T_OK(m2m_attach(p.hold, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    bz_attach a;
    bz_race(p.hold_db, p.hold, p.call, 2, bz_hold_1500_ms, &a);
    assert_int_equal(a.nattached, 1);
    assert_true(a.took > 1.0);
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot ORDER BY 1, 2"),
                        "1|1,1|2,3|3");
    bz_pair_close(&p);
}

typedef struct bz_txn_attach {
    m2m_relation *rel;
    int rc;
    char msg[256];
} bz_txn_attach;

static void *bz_txn_attach_thread(void *arg) {
    bz_txn_attach *a = arg;
    a->rc = m2m_attach(a->rel, M2M_INT(2), FX_ITEMS(IT(1)), NULL, NULL);
    snprintf(a->msg, sizeof a->msg, "%s", m2m_errmsg(m2m_relation_db(a->rel)));
    return NULL;
}

/* MariaDB: a deadlock between two callers' transactions. The server rolls
 * back one of them whole (not only the operation's savepoint): its
 * operation fails with M2M_BUSY saying so, and so does its commit, which
 * leaves nothing of it; the other one commits all of its work. Rows (1, 3)
 * and (2, 3) and both lock rows exist first, so that the transactions'
 * gap locks do not meet. */
TEST_ONLY(mariadb, busy_deadlock_in_a_caller_transaction_fails_it_whole) {
    bz_schema(true);
    m2m_db *dba = t_open(), *dbb = t_open();
    m2m_relation *ra = NULL, *rb = NULL;
    T_OK(m2m_relation_open(dba, &bz_def, &ra));
    T_OK(m2m_relation_open(dbb, &bz_def, &rb));
    T_OK(m2m_attach(ra, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_attach(rb, M2M_INT(2), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_begin(dba));
    T_OK(m2m_begin(dbb));
    T_OK(m2m_attach(ra, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    T_OK(m2m_attach(rb, M2M_INT(2), FX_ITEMS(IT(2)), NULL, NULL));
    /* a waits for parent 2, then b for parent 1. */
    bz_txn_attach ta = {.rel = ra};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bz_txn_attach_thread, &ta), 0);
    bz_sleep_ms(300);
    int rcb = m2m_attach(rb, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL);
    char msgb[256];
    snprintf(msgb, sizeof msgb, "%s", m2m_errmsg(dbb));
    if (rcb == M2M_OK) /* a's wait ends only once b commits */
        T_OK(m2m_commit(dbb));
    pthread_join(th, NULL);
    if ((ta.rc == M2M_OK) == (rcb == M2M_OK))
        fail_msg("a: %s (%s), b: %s (%s)", m2m_errname(ta.rc), ta.msg, m2m_errname(rcb),
                 msgb);
    const char *msg = ta.rc == M2M_OK ? msgb : ta.msg;
    m2m_db *lost = ta.rc == M2M_OK ? dbb : dba, *won = ta.rc == M2M_OK ? dba : dbb;
    assert_int_equal(ta.rc == M2M_OK ? rcb : ta.rc, M2M_BUSY);
    assert_non_null(strstr(msg, "whole transaction"));
    assert_int_equal(m2m_commit(lost), M2M_BUSY);
    assert_non_null(strstr(m2m_errmsg(lost), "rolled back"));
    if (won == dba)
        T_OK(m2m_commit(dba));
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot ORDER BY 1, 2"),
                        won == dba ? "1|1,1|3,2|1,2|3" : "1|2,1|3,2|2,2|3");
    /* Both handles go on. */
    T_OK(m2m_attach(ra, M2M_INT(3), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_attach(rb, M2M_INT(3), FX_ITEMS(IT(1)), NULL, NULL));
    assert_string_equal(
        t_rows("SELECT a_id, b_id FROM bz_pivot WHERE a_id = 3 ORDER BY 1, 2"),
        "3|1,3|3");
    m2m_relation_close(ra);
    m2m_relation_close(rb);
    m2m_close(dba);
    m2m_close(dbb);
}

/* SQLite in shared-cache mode: a writer finds the table locked by another
 * connection of the cache (SQLITE_LOCKED, which no busy handler waits
 * out); the retry waits until that transaction commits. */
TEST_ONLY(sqlite, busy_sqlite_shared_cache_lock_is_retried) {
    bz_schema(true);
    char url[600];
    snprintf(url, sizeof url, "sqlite:file:%s?cache=shared", t_url() + strlen("sqlite:"));
    m2m_db *hold_db = NULL, *call_db = NULL;
    T_OK(m2m_open(url, &hold_db));
    T_OK(m2m_open(url, &call_db));
    m2m_relation *hold = NULL, *call = NULL;
    T_OK(m2m_relation_open(hold_db, &bz_def, &hold));
    T_OK(m2m_relation_open(call_db, &bz_def, &call));
    T_OK(m2m_attach(call, M2M_INT(3), FX_ITEMS(IT(3)), NULL, NULL)); /* warm */
    T_OK(m2m_begin(hold_db));
    T_OK(m2m_attach(hold, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
    bz_attach a;
    bz_race(hold_db, hold, call, 1, NULL, &a);
    assert_int_equal(a.nattached, 1);
    assert_true(a.took >= 0.15);
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot ORDER BY 1, 2"),
                        "1|1,1|2,3|3");
    m2m_relation_close(hold);
    m2m_relation_close(call);
    m2m_close(hold_db);
    m2m_close(call_db);
}

/* A database that stays busy: SQLite locked EXCLUSIVE by another
 * connection (readers of the schema wait too), PostgreSQL with a lock
 * timeout shorter than the holder's transaction. The write gives up once
 * the busy timeout (5 s) has passed since it began — not twice that, nor
 * once per retry — with M2M_BUSY kept on the handle and a message that says
 * what was busy; nothing is written. Not on a Galera cluster: a holder on
 * another node blocks nothing (test_cluster.c). */
TEST_EXCEPT(galera, busy_that_persists_fails_within_the_timeout_with_a_message) {
    bz_schema(true);
    m2m_db *hold_db = t_open(), *call_db = t_open();
    m2m_relation *call = NULL;
    T_OK(m2m_relation_open(call_db, &bz_def, &call));
    /* A server (PostgreSQL, MariaDB): the holder is an m2m write left open,
     * and the caller's lock waits are short. */
    bool server = strcmp(t_backend, "sqlite") != 0;
    bool mariadb = strcmp(t_backend, "mariadb") == 0;
    if (server) {
        T_OK(m2m_exec(call_db, mariadb ? "SET innodb_lock_wait_timeout = 1"
                                       : "SET lock_timeout = '50ms'"));
        m2m_relation *hold = NULL;
        T_OK(m2m_relation_open(hold_db, &bz_def, &hold));
        T_OK(m2m_begin(hold_db));
        T_OK(m2m_attach(hold, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
        m2m_relation_close(hold);
    } else {
        T_OK(m2m_exec(hold_db, "BEGIN EXCLUSIVE; INSERT INTO bz_pivot VALUES (1, 2, 0)"));
    }
    bz_attach a = {.rel = call, .parent = 1, .id = 3};
    bz_attach_thread(&a);
    int code = m2m_errcode(call_db);
    if (server)
        T_OK(m2m_rollback(hold_db));
    else
        T_OK(m2m_exec(hold_db, "ROLLBACK"));
    assert_int_equal(a.rc, M2M_BUSY);
    assert_int_equal(code, M2M_BUSY);
    if (!strstr(a.msg, "busy") || !strstr(a.msg, mariadb   ? "Lock wait timeout"
                                                 : is_pg() ? "lock timeout"
                                                           : "locked"))
        fail_msg("message: '%s'", a.msg);
    if (a.took < 4.5 || a.took > 6.5)
        fail_msg("gave up after %.2f s, not about 5 s", a.took);
    assert_string_equal(t_rows("SELECT a_id, b_id FROM bz_pivot ORDER BY 1, 2"), "");
    m2m_relation_close(call);
    m2m_close(hold_db);
    m2m_close(call_db);
}
