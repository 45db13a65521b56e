/* SPDX-License-Identifier: MIT */
/* Which side of a relation locks per parent (docs/backends.md,
 * Concurrency): the side whose key leads the pivot's unique index on the
 * two keys, whatever the keys' names. On role_user(user_id, role_id) with
 * PRIMARY KEY (user_id, role_id), writers through users->roles on distinct
 * users run at once although "user_id" sorts after "role_id"; on a pivot
 * whose key leads with role_id, writers through roles->users do. Writers
 * on one parent, through the relation and its inverse, stay serialized. */
#include "fixtures.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void ls_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* users -> roles over ls_pivot; the pivot's key order is the test's. */
static const m2m_relation_def ls_def = {.parent_table = "ls_users",
                                        .related_table = "ls_roles",
                                        .pivot_table = "ls_pivot",
                                        .foreign_pivot_key = "user_id",
                                        .related_pivot_key = "role_id"};

static void ls_schema(const char *key) {
    char sql[512];
    t_exec("CREATE TABLE ls_users(id BIGINT PRIMARY KEY);"
           "CREATE TABLE ls_roles(id BIGINT PRIMARY KEY);"
           "INSERT INTO ls_users VALUES (1),(2),(3);"
           "INSERT INTO ls_roles VALUES (1),(2),(3);");
    snprintf(sql, sizeof sql,
             "CREATE TABLE ls_pivot(user_id BIGINT NOT NULL REFERENCES ls_users(id),"
             " role_id BIGINT NOT NULL REFERENCES ls_roles(id), PRIMARY KEY(%s))",
             key);
    t_exec(sql);
}

typedef struct ls_call {
    m2m_relation *rel;
    int64_t parent, id;
    int rc;
    size_t nattached;
    atomic_bool finished;
} ls_call;

static void *ls_thread(void *arg) {
    ls_call *c = arg;
    m2m_changes *ch = NULL;
    m2m_item item = {.id = M2M_INT(c->id)};
    c->rc = m2m_attach(c->rel, M2M_INT(c->parent), &item, 1, NULL, &ch);
    if (ch) {
        c->nattached = ch->nattached;
        m2m_changes_free(ch);
    }
    atomic_store(&c->finished, true);
    return NULL;
}

/* While hold (on its own connection, in a transaction) has attached
 * (hold_parent, hold_id), call attaches (parent, id) from a thread: did it
 * finish within ms, before the holder committed? Its result is checked
 * either way. */
static bool ls_done_before(long ms, m2m_db *hold_db, m2m_relation *hold,
                           int64_t hold_parent, int64_t hold_id, m2m_relation *call,
                           int64_t parent, int64_t id) {
    T_OK(m2m_begin(hold_db));
    T_OK(m2m_attach(hold, M2M_INT(hold_parent), FX_ITEMS(IT(hold_id)), NULL, NULL));
    ls_call c = {.rel = call, .parent = parent, .id = id};
    atomic_init(&c.finished, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ls_thread, &c), 0);
    for (long t = 0; t < ms && !atomic_load(&c.finished); t += 10)
        ls_sleep_ms(10);
    bool at_once = atomic_load(&c.finished);
    T_OK(m2m_commit(hold_db));
    pthread_join(th, NULL);
    T_OK(c.rc);
    assert_int_equal(c.nattached, 1);
    return at_once;
}

/* At once: well within 2 s. A blocked call waits for the commit. */
#define ls_runs_at_once(...) ls_done_before(2000, __VA_ARGS__)
/* Waits: still waiting after 150 ms. */
#define ls_waits(...) (!ls_done_before(150, __VA_ARGS__))

typedef struct ls_pair {
    m2m_db *db[2];
    m2m_relation *rel[2], *inv[2];
} ls_pair;

static void ls_open(ls_pair *p) {
    for (int i = 0; i < 2; i++) {
        p->db[i] = t_open();
        T_OK(m2m_relation_open(p->db[i], &ls_def, &p->rel[i]));
        T_OK(m2m_relation_inverse(p->rel[i], &p->inv[i]));
    }
}

static void ls_close(ls_pair *p) {
    for (int i = 0; i < 2; i++) {
        m2m_relation_close(p->inv[i]);
        m2m_relation_close(p->rel[i]);
        m2m_close(p->db[i]);
    }
}

/* PRIMARY KEY (user_id, role_id): users->roles locks per user. */
TEST_ONLY(pg, lock_side_distinct_parents_of_the_leading_key_run_at_once) {
    ls_schema("user_id, role_id");
    ls_pair p;
    ls_open(&p);
    /* user 1 is held: user 2 goes through, with or without a report. */
    assert_true(ls_runs_at_once(p.db[0], p.rel[0], 1, 1, p.rel[1], 2, 2));
    assert_string_equal(t_rows("SELECT user_id, role_id FROM ls_pivot ORDER BY 1, 2"),
                        "1|1,2|2");
    /* The other way round too: neither connection's first write decides. */
    assert_true(ls_runs_at_once(p.db[1], p.rel[1], 3, 3, p.rel[0], 1, 2));
    assert_string_equal(t_rows("SELECT user_id, role_id FROM ls_pivot ORDER BY 1, 2"),
                        "1|1,1|2,2|2,3|3");
    ls_close(&p);
}

/* PRIMARY KEY (role_id, user_id): the inverse, roles->users, locks per role. */
TEST_ONLY(pg, lock_side_distinct_parents_of_the_inverse_leading_key_run_at_once) {
    ls_schema("role_id, user_id");
    ls_pair p;
    ls_open(&p);
    assert_true(ls_runs_at_once(p.db[0], p.inv[0], 1, 1, p.inv[1], 2, 2));
    assert_true(ls_runs_at_once(p.db[1], p.inv[1], 3, 3, p.inv[0], 1, 2));
    assert_string_equal(t_rows("SELECT role_id, user_id FROM ls_pivot ORDER BY 1, 2"),
                        "1|1,1|2,2|2,3|3");
    ls_close(&p);
}

/* Both key orders: a write on a user waits for another connection's write
 * on that user through either side, and a write on the other side waits
 * for it (the pair (1, 2) through users->roles and through roles->users). * Not on a
 * Galera cluster, where the connections are on different nodes: nothing waits there, the
 * first to commit wins (test_cluster.c). */
TEST_EXCEPT(galera, lock_side_writers_of_one_parent_through_either_side_wait) {
    static const char *const keys[2] = {"user_id, role_id", "role_id, user_id"};
    for (int k = 0; k < 2; k++) {
        ls_schema(keys[k]);
        ls_pair p;
        ls_open(&p);
        /* hold users->roles (1, 1); call roles->users attaches user 1 to role 2. */
        assert_true(ls_waits(p.db[0], p.rel[0], 1, 1, p.inv[1], 2, 1));
        /* hold roles->users (role 3, user 2); call users->roles (2, 2). */
        assert_true(ls_waits(p.db[0], p.inv[0], 3, 2, p.rel[1], 2, 2));
        /* hold users->roles (3, 1); call users->roles (3, 2). */
        assert_true(ls_waits(p.db[1], p.rel[1], 3, 1, p.rel[0], 3, 2));
        /* hold roles->users (role 3, user 1); call roles->users (role 3, user 3). */
        assert_true(ls_waits(p.db[1], p.inv[1], 3, 1, p.inv[0], 3, 3));
        assert_string_equal(t_rows("SELECT user_id, role_id FROM ls_pivot ORDER BY 1, 2"),
                            "1|1,1|2,1|3,2|2,2|3,3|1,3|2,3|3");
        ls_close(&p);
        t_exec("DROP TABLE ls_pivot; DROP TABLE ls_users; DROP TABLE ls_roles");
    }
}
