/* SPDX-License-Identifier: MIT */
/* m2m on a three-node MariaDB Galera cluster (m2m_tests --backend galera,
 * under scripts/with-galera.sh): what only a multi-master cluster can get
 * wrong. Writers of one parent on different nodes certify-conflict, so the
 * second to commit fails and is retried instead of both leaving the union;
 * causal reads (wsrep_sync_wait in the URL) see every write acknowledged
 * before on any node; and a node SIGKILLed in the middle of a write load
 * loses no acknowledged write, applies no rejected one, and rejoins with
 * the same pivot table as the others. The rest of the suite runs on the
 * cluster too, each connection on the next node. */
#include "fixtures.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cu(id) 1..8 parents, cr(id) 1..nrel related, cu_cr the pivot. */
static void cl_schema(int64_t nrel) {
    t_exec("CREATE TABLE cu(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE cr(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE cu_cr("
           " cu_id BIGINT NOT NULL REFERENCES cu(id),"
           " cr_id BIGINT NOT NULL REFERENCES cr(id),"
           " PRIMARY KEY(cu_id, cr_id));");
    fx_fill("cu", 1, 8);
    fx_fill("cr", 1, nrel);
}

static const m2m_relation_def cl_def = {.parent_table = "cu",
                                        .related_table = "cr",
                                        .pivot_table = "cu_cr",
                                        .foreign_pivot_key = "cu_id",
                                        .related_pivot_key = "cr_id"};

/* A connection to node i, plain or with causal reads; NULL if it fails. */
static m2m_db *cl_connect(int node, bool causal) {
    char url[1200];
    snprintf(url, sizeof url, "%s%s", t_node_url(node),
             causal ? "?wsrep_sync_wait=1" : "");
    m2m_db *db = NULL;
    if (m2m_open(url, &db) != M2M_OK) {
        m2m_close(db);
        return NULL;
    }
    return db;
}

static m2m_relation *cl_rel(m2m_db *db) {
    m2m_relation *rel = NULL;
    int rc = m2m_relation_open(db, &cl_def, &rel);
    if (rc != M2M_OK)
        fail_msg("relation on a node: %s: %s", m2m_errname(rc), m2m_errmsg(db));
    return rel;
}

/* The pivot table as node i holds it ("p|r,..."), read causally. */
static char *cl_pivot_on(int node) {
    m2m_db *db = cl_connect(node, true);
    if (!db)
        fail_msg("cannot connect to node %d", node + 1);
    m2m_rows *rows = NULL;
    int rc = m2m_sql(db, "SELECT cu_id, cr_id FROM cu_cr ORDER BY cu_id, cr_id", NULL, 0,
                     &rows);
    if (rc != M2M_OK)
        fail_msg("node %d: %s", node + 1, m2m_errmsg(db));
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    while (m2m_rows_next(rows) == M2M_ROW) {
        if (len + 48 > cap) {
            char *bigger = realloc(out, cap *= 2);
            assert_non_null(bigger);
            out = bigger;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%lld|%lld", len ? "," : "",
                                (long long)m2m_rows_value(rows, 0).i,
                                (long long)m2m_rows_value(rows, 1).i);
    }
    m2m_rows_free(rows);
    m2m_close(db);
    return out;
}

/* Every node holds want. */
static void cl_assert_everywhere(const char *want) {
    for (int i = 0; i < 3; i++) {
        char *got = cl_pivot_on(i);
        if (strcmp(got, want) != 0)
            fail_msg("node %d holds [%s], expected [%s]", i + 1, got, want);
        free(got);
    }
}

/* Two writers of parent 1 on nodes 1 and 2, each in its own transaction,
 * changing disjoint pivot rows: certification would let both commit (their
 * rows differ) and leave {1, 2}, which no serial order gives. Both write
 * the parent's lock row, so the second commit fails (M2M_BUSY, error 1213)
 * and the pivot is what the first left, on every node. Once for a parent
 * never written (its lock row is new), once for one written before, and
 * once against a writer through the inverse relation. */
TEST_ONLY(galera, cluster_writers_of_one_parent_on_two_nodes_conflict) {
    cl_schema(4);
    m2m_db *a = cl_connect(0, false), *b = cl_connect(1, false);
    assert_non_null(a);
    assert_non_null(b);
    m2m_relation *ra = cl_rel(a), *rb = cl_rel(b), *inv = NULL;
    T_OK(m2m_relation_inverse(rb, &inv));
    for (int round = 0; round < 3; round++) {
        m2m_changes *ca = NULL, *cb = NULL;
        T_OK(m2m_begin(a));
        T_OK(m2m_begin(b));
        int rc = m2m_sync(ra, M2M_INT(1), FX_ITEMS(IT(1)), NULL, &ca);
        assert_int_equal(rc, M2M_OK);
        /* round 2: role 2 gets user 1 through the inverse relation */
        rc = round < 2 ? m2m_sync(rb, M2M_INT(1), FX_ITEMS(IT(2)), NULL, &cb)
                       : m2m_attach(inv, M2M_INT(2), FX_ITEMS(IT(1)), NULL, &cb);
        if (rc != M2M_OK)
            fail_msg("round %d: node 2: %s", round, m2m_errmsg(b));
        assert_string_equal(FX_ATT(ca), round == 0 ? "1" : "");
        assert_string_equal(FX_ATT(cb), round < 2 ? "2" : "1");
        m2m_changes_free(ca);
        m2m_changes_free(cb);
        T_OK(m2m_commit(a));
        rc = m2m_commit(b);
        if (rc != M2M_BUSY)
            fail_msg("round %d: the second commit returned %s (%s), expected M2M_BUSY",
                     round, m2m_errname(rc), m2m_errmsg(b));
        if (!strstr(m2m_errmsg(b), "1213"))
            fail_msg("round %d: not a certification conflict: %s", round, m2m_errmsg(b));
        cl_assert_everywhere("1|1");
    }
    /* A conflict fails the transaction, not the connection. */
    m2m_changes *cb = NULL;
    T_OK(m2m_sync(rb, M2M_INT(1), FX_ITEMS(IT(2)), NULL, &cb));
    assert_string_equal(FX_ATT(cb), "2");
    assert_string_equal(FX_DET(cb), "1");
    m2m_changes_free(cb);
    cl_assert_everywhere("1|2");
    m2m_relation_close(inv);
    m2m_relation_close(ra);
    m2m_relation_close(rb);
    m2m_close(a);
    m2m_close(b);
}

/* A reader on node 2 with ?wsrep_sync_wait=1 sees each write acknowledged
 * on node 1 right after it; the option reaches the session; bad values and
 * unknown options are refused before connecting. */
TEST_ONLY(galera, cluster_causal_reads_see_every_acknowledged_write) {
    enum { N = 60 };
    cl_schema(N);
    m2m_db *w = cl_connect(0, false), *r = cl_connect(1, true);
    assert_non_null(w);
    assert_non_null(r);
    m2m_rows *rows = NULL;
    T_OK(m2m_sql(r, "SELECT @@wsrep_sync_wait", NULL, 0, &rows));
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    m2m_value v = m2m_rows_value(rows, 0);
    assert_true(v.type == M2M_TINT ? v.i == 1 : v.type == M2M_TTEXT && !strcmp(v.s, "1"));
    m2m_rows_free(rows);
    m2m_relation *rw = cl_rel(w), *rr = cl_rel(r);
    for (int i = 1; i <= N; i++) {
        T_OK(m2m_attach(rw, M2M_INT(1), &(m2m_item){.id = M2M_INT(i)}, 1, NULL, NULL));
        m2m_query *q = NULL;
        int64_t n = -1;
        T_OK(m2m_query_new(rr, M2M_INT(1), &q));
        T_OK(m2m_query_count(q, &n));
        m2m_query_free(q);
        if (n != i)
            fail_msg("write %d acknowledged on node 1, node 2 counts %lld", i,
                     (long long)n);
    }
    m2m_relation_close(rw);
    m2m_relation_close(rr);
    m2m_close(w);
    m2m_close(r);

    static const char *const bad[] = {
        "?wsrep_sync_wait=16", "?wsrep_sync_wait=", "?wsrep_sync_wait=1x", "?sync=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char url[1200];
        snprintf(url, sizeof url, "%s%s", t_node_url(0), bad[i]);
        m2m_db *db = NULL;
        assert_int_equal(m2m_open(url, &db), M2M_INVALID);
        if (!strstr(m2m_errmsg(db), "wsrep_sync_wait"))
            fail_msg("%s: %s", bad[i], m2m_errmsg(db));
        m2m_close(db);
    }
}

/* The write load: each client attaches ids 1, 2, ... one per call to its
 * own parent, on its node, until told to stop; a client whose call fails
 * connects to the next node that answers and goes on with the next id. */
enum { NCLIENTS = 6, MAXOPS = 4000 };

typedef struct cl_client {
    int id, node, nops;
    int rc[MAXOPS];
    bool said_nothing[MAXOPS]; /* the error said nothing changed */
    bool quorum[MAXOPS];       /* ...named Galera's Primary Component */
    int failovers;
    char first_err[256];
    atomic_int *stop;
} cl_client;

static void *cl_load(void *arg) {
    cl_client *c = arg;
    m2m_db *db = NULL;
    m2m_relation *rel = NULL;
    while (!atomic_load(c->stop) && c->nops < MAXOPS) {
        if (!db) {
            for (int tries = 0; !db && !atomic_load(c->stop); tries++) {
                db = cl_connect(c->node, false);
                if (!db) {
                    c->node = (c->node + 1) % 3;
                    struct timespec ts = {0, 50000000L};
                    nanosleep(&ts, NULL);
                }
            }
            if (!db || m2m_relation_open(db, &cl_def, &rel) != M2M_OK) {
                m2m_close(db);
                db = NULL;
                continue;
            }
        }
        int k = c->nops;
        m2m_item it = {.id = M2M_INT(k + 1)};
        int rc = m2m_attach(rel, M2M_INT(c->id), &it, 1, NULL, NULL);
        c->rc[k] = rc;
        c->nops++;
        if (rc != M2M_OK) {
            const char *msg = m2m_errmsg(db);
            c->said_nothing[k] =
                strstr(msg, "nothing changed") || strstr(msg, "nothing was changed");
            c->quorum[k] = strstr(msg, "Primary Component") != NULL;
            if (!c->first_err[0])
                snprintf(c->first_err, sizeof c->first_err, "node %d: %s: %s",
                         c->node + 1, m2m_errname(rc), msg);
            m2m_relation_close(rel);
            m2m_close(db);
            rel = NULL;
            db = NULL;
            c->node = (c->node + 1) % 3;
            c->failovers++;
        }
    }
    m2m_relation_close(rel);
    m2m_close(db);
    return NULL;
}

static int cl_total(const cl_client *c) {
    int n = 0;
    for (int i = 0; i < NCLIENTS; i++)
        n += c[i].nops;
    return n;
}

/* Waits (30 s at most) until the clients made n calls in all, and each
 * at least each. */
static void cl_wait_ops(const cl_client *c, int n, int each) {
    for (int i = 0; i < 1500; i++) {
        int least = c[0].nops;
        for (int k = 1; k < NCLIENTS; k++)
            least = c[k].nops < least ? c[k].nops : least;
        if (cl_total(c) >= n && least >= each)
            return;
        struct timespec ts = {0, 20000000L};
        nanosleep(&ts, NULL);
    }
}

/* Node 2 is SIGKILLed while six clients, two per node, write; its clients
 * get M2M_CONNECTION or M2M_INDOUBT and go on on other nodes; the node
 * restarts and rejoins (IST or SST) while the load goes on. Afterwards all
 * three nodes hold the same pivot table, with every acknowledged attach and
 * none whose error said nothing changed. */
TEST_ONLY(galera, cluster_node_killed_mid_load_loses_nothing) {
    cl_schema(MAXOPS);
    static cl_client c[NCLIENTS];
    atomic_int stop = 0;
    pthread_t th[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        c[i] = (cl_client){.id = i + 1, .node = i % 3, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, cl_load, &c[i]), 0);
    }
    cl_wait_ops(c, 60, 5); /* every client connected and writing */
    int before = cl_total(c);
    int krc = t_node_ctl("kill", 1);
    cl_wait_ops(c, before + 60, 0); /* the others go on without it */
    int src = krc == 0 ? t_node_ctl("start", 1) : -1;
    int during = cl_total(c);
    cl_wait_ops(c, during + 60, 0); /* and with it back */
    atomic_store(&stop, 1);
    for (int i = 0; i < NCLIENTS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(krc, 0);
    assert_int_equal(src, 0);
    assert_int_equal(t_node_ctl("wait", 1), 0);
    print_message("ops: %d before the kill, %d until node 2 was back, %d in all\n",
                  before, during, cl_total(c));

    /* Each client's failures: from losing its node, or (rarely) M2M_BUSY
     * when replicated writes kept aborting its transaction for the whole
     * busy timeout while the node rejoined; that one says nothing changed
     * and is checked below. */
    int lost = 0, busy = 0, total = cl_total(c);
    for (int i = 0; i < NCLIENTS; i++) {
        for (int k = 0; k < c[i].nops; k++) {
            int rc = c[i].rc[k];
            if (rc == M2M_BUSY && !c[i].said_nothing[k])
                fail_msg("client %d, attach %d: M2M_BUSY that does not say nothing "
                         "changed",
                         i + 1, k + 1);
            /* A node that briefly lost the quorum while the cluster
             * reformed (error 1180, "not connected to Primary Component")
             * fails the commit without saying nothing changed: an unknown
             * outcome, as M2M_CONNECTION. */
            if (rc == M2M_ERROR && c[i].quorum[k])
                rc = M2M_CONNECTION;
            if (rc != M2M_OK && rc != M2M_CONNECTION && rc != M2M_INDOUBT &&
                rc != M2M_BUSY)
                fail_msg("client %d, attach %d: %s (%s)", i + 1, k + 1, m2m_errname(rc),
                         c[i].first_err);
            lost += rc == M2M_CONNECTION || rc == M2M_INDOUBT;
            busy += rc == M2M_BUSY;
        }
        print_message("client %d: %d attaches, %d failover(s)%s%s\n", i + 1, c[i].nops,
                      c[i].failovers, c[i].failovers ? ", first: " : "", c[i].first_err);
    }
    /* Node 2's clients were writing when it died. */
    assert_true(c[1].failovers + c[4].failovers >= 2);
    assert_true(lost >= 2);
    if (busy * 50 > total)
        fail_msg("%d of %d attaches were M2M_BUSY", busy, total);

    /* The same table on every node: acknowledged attaches present, those
     * reported as not done absent, in-doubt ones either way. */
    char *one = cl_pivot_on(0);
    cl_assert_everywhere(one);
    for (int i = 0; i < NCLIENTS; i++)
        for (int k = 0; k < c[i].nops; k++) {
            char row[48];
            snprintf(row, sizeof row, "%d|%d", i + 1, k + 1);
            size_t n = strlen(row);
            bool present = false;
            for (const char *p = one; (p = strstr(p, row)); p += n)
                if ((p == one || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
                    present = true;
            if (c[i].rc[k] == M2M_OK && !present)
                fail_msg("client %d's acknowledged attach %d is missing", i + 1, k + 1);
            if (c[i].rc[k] != M2M_OK && c[i].said_nothing[k] && present)
                fail_msg("client %d's attach %d was reported as not done (%s) but is "
                         "there",
                         i + 1, k + 1, m2m_errname(c[i].rc[k]));
        }
    free(one);
}
