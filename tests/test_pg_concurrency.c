/* Concurrent writers on one parent: 8 threads, each with its own connection,
 * run sync / toggle / attach on the same parent at the same moment, round
 * after round. Every call must succeed (no duplicate key, deadlock or busy
 * error reaching the caller), and after each round the reports and the final
 * pivot set must be explained by one serial order of all the calls: that is
 * linearizability, checked by searching for such an order. Runs on every
 * backend. */
#include "fixtures.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NTHREADS = 8, OPS = 3, ROUNDS = 12, NIDS = 12 };

enum { K_SYNC, K_TOGGLE, K_ATTACH };

typedef struct cc_op {
    int kind;
    uint32_t in;       /* ids given, as a bit set (bit i: id i + 1) */
    uint32_t att, det; /* what the report said */
    int rc;
    char msg[256];
} cc_op;

typedef struct cc_worker {
    int id;
    m2m_db *db;
    m2m_relation *rel;
    cc_op ops[ROUNDS][OPS];
    pthread_barrier_t *start, *done;
} cc_worker;

static const m2m_relation_def cc_def = {.parent_table = "cc_parent",
                                        .related_table = "cc_item",
                                        .pivot_table = "cc_pivot",
                                        .foreign_pivot_key = "parent_id",
                                        .related_pivot_key = "item_id"};

/* Deterministic per round and thread, so a failure can be replayed. */
static uint32_t cc_rand(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static uint32_t cc_bits(const m2m_value *v, size_t n) {
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].type == M2M_TINT && v[i].i >= 1 && v[i].i <= NIDS)
            m |= 1u << (v[i].i - 1);
        else
            m |= 1u << 31; /* an id we never sent: fails every comparison */
    return m;
}

/* Round plan: every fourth round only syncs (the final set must then be
 * exactly one of the synced sets), the others mix all three operations. */
static void cc_plan(int round, int thread, int k, cc_op *op) {
    uint32_t s = 2654435761u * (uint32_t)(round * 131 + thread * 7 + k + 1);
    cc_rand(&s);
    op->kind = round % 4 == 0 ? K_SYNC : (int)(cc_rand(&s) % 3);
    op->in = cc_rand(&s) & ((1u << NIDS) - 1);
}

static void cc_do(cc_worker *w, cc_op *op) {
    m2m_item items[NIDS];
    size_t n = 0;
    for (int i = 0; i < NIDS; i++)
        if (op->in & (1u << i))
            items[n++] = (m2m_item){.id = M2M_INT(i + 1)};
    m2m_changes *ch = NULL;
    m2m_value parent = M2M_INT(1);
    if (op->kind == K_SYNC)
        op->rc = m2m_sync(w->rel, parent, items, n, NULL, &ch);
    else if (op->kind == K_TOGGLE)
        op->rc = m2m_toggle(w->rel, parent, items, n, NULL, &ch);
    else
        op->rc = m2m_attach(w->rel, parent, items, n, NULL, &ch);
    if (op->rc != M2M_OK) {
        snprintf(op->msg, sizeof op->msg, "%s", m2m_errmsg(w->db));
        return;
    }
    op->att = cc_bits(ch->attached, ch->nattached);
    op->det = cc_bits(ch->detached, ch->ndetached);
    m2m_changes_free(ch);
}

static void *cc_main(void *arg) {
    cc_worker *w = arg;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(w->start);
        for (int k = 0; k < OPS; k++)
            cc_do(w, &w->ops[r][k]);
        pthread_barrier_wait(w->done);
    }
    return NULL;
}

/* Search for a serial order of all ops (each thread's ops in program order)
 * under which every op's report and the final set come out as observed. */
typedef struct cc_search {
    cc_worker *w;
    int round;
    uint32_t final;
    int pos[NTHREADS];
    long nodes;
} cc_search;

static bool cc_explain(cc_search *s, uint32_t cur, int left) {
    if (left == 0)
        return cur == s->final;
    if (++s->nodes > 20000000)
        return false;
    for (int t = 0; t < NTHREADS; t++) {
        if (s->pos[t] == OPS)
            continue;
        const cc_op *op = &s->w[t].ops[s->round][s->pos[t]];
        uint32_t att = op->in & ~cur, det, next;
        if (op->kind == K_SYNC) {
            det = cur & ~op->in;
            next = op->in;
        } else if (op->kind == K_TOGGLE) {
            det = cur & op->in;
            next = cur ^ op->in;
        } else {
            det = 0;
            next = cur | op->in;
        }
        if (att != op->att || det != op->det)
            continue;
        s->pos[t]++;
        bool ok = cc_explain(s, next, left - 1);
        s->pos[t]--;
        if (ok)
            return true;
    }
    return false;
}

/* The parent's set; bit 31 when it cannot be read. Never fails the test by
 * itself: the worker threads must reach every barrier first. */
static uint32_t cc_current(void) {
    m2m_rows *rows = NULL;
    if (m2m_sql(t_db(), "SELECT item_id FROM cc_pivot WHERE parent_id = 1", NULL, 0,
                &rows) != M2M_OK) {
        fprintf(stderr, "reading the pivot: %s\n", m2m_errmsg(t_db()));
        return 1u << 31;
    }
    uint32_t m = 0;
    while (m2m_rows_next(rows) == M2M_ROW) {
        m2m_value v = m2m_rows_value(rows, 0);
        m |= cc_bits(&v, 1);
    }
    m2m_rows_free(rows);
    return m;
}

TEST(concurrent_writers_same_parent_linearizable) {
    t_exec(
        "CREATE TABLE cc_parent(id BIGINT PRIMARY KEY);"
        "CREATE TABLE cc_item(id BIGINT PRIMARY KEY);"
        "CREATE TABLE cc_pivot(parent_id BIGINT NOT NULL REFERENCES cc_parent(id),"
        " item_id BIGINT NOT NULL REFERENCES cc_item(id), PRIMARY KEY(parent_id, "
        "item_id));"
        "INSERT INTO cc_parent VALUES (1), (2);"
        "INSERT INTO cc_item VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11),(12);"
        "INSERT INTO cc_pivot VALUES (2, 1), (2, 5);");
    m2m_relation *rel = fx_open(&cc_def);
    static cc_worker w[NTHREADS];
    static pthread_barrier_t start, done;
    pthread_t th[NTHREADS];
    pthread_barrier_init(&start, NULL, NTHREADS + 1);
    pthread_barrier_init(&done, NULL, NTHREADS + 1);
    for (int t = 0; t < NTHREADS; t++) {
        w[t] = (cc_worker){.id = t, .db = t_open(), .start = &start, .done = &done};
        T_OK(m2m_relation_open(w[t].db, &cc_def, &w[t].rel));
        for (int r = 0; r < ROUNDS; r++)
            for (int k = 0; k < OPS; k++)
                cc_plan(r, t, k, &w[t].ops[r][k]);
    }
    for (int t = 0; t < NTHREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, cc_main, &w[t]), 0);

    uint32_t seed = 12345;
    int failures = 0;
    for (int r = 0; r < ROUNDS; r++) {
        /* A fresh starting set for the round, written by the test connection. */
        uint32_t init = cc_rand(&seed) & ((1u << NIDS) - 1);
        m2m_item items[NIDS];
        size_t n = 0;
        for (int i = 0; i < NIDS; i++)
            if (init & (1u << i))
                items[n++] = (m2m_item){.id = M2M_INT(i + 1)};
        if (m2m_sync(rel, M2M_INT(1), items, n, NULL, NULL) != M2M_OK ||
            cc_current() != init) {
            fprintf(stderr, "round %d: cannot set the starting set: %s\n", r,
                    m2m_errmsg(t_db()));
            failures++;
        }
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&done);
        for (int t = 0; t < NTHREADS; t++)
            for (int k = 0; k < OPS; k++)
                if (w[t].ops[r][k].rc != M2M_OK) {
                    fprintf(stderr, "round %d thread %d op %d: %s: %s\n", r, t, k,
                            m2m_errname(w[t].ops[r][k].rc), w[t].ops[r][k].msg);
                    failures++;
                }
        cc_search s = {.w = w, .round = r, .final = cc_current()};
        if (r % 4 == 0) {
            bool one_of = false; /* syncs only: exactly one synced set, never a union */
            for (int t = 0; t < NTHREADS; t++)
                for (int k = 0; k < OPS; k++)
                    one_of |= w[t].ops[r][k].in == s.final;
            if (!one_of) {
                fprintf(stderr, "round %d: final set %#x is none of the synced sets\n", r,
                        s.final);
                failures++;
            }
        }
        if (!cc_explain(&s, init, NTHREADS * OPS)) {
            fprintf(stderr,
                    "round %d: no serial order explains the reports (final %#x, "
                    "%ld nodes searched)\n",
                    r, s.final, s.nodes);
            failures++;
        }
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        m2m_relation_close(w[t].rel);
        m2m_close(w[t].db);
    }
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&done);
    /* The other parent was never touched. */
    assert_string_equal(
        t_rows("SELECT item_id FROM cc_pivot WHERE parent_id = 2 ORDER BY 1"), "1,5");
    m2m_relation_close(rel);
    assert_int_equal(failures, 0);
}
