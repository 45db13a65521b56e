/* SPDX-License-Identifier: MIT */
/* Concurrent writers on one parent: 16 threads through a relation and 4
 * through its inverse, each with its own connection, run sync, toggle,
 * attach, detach (given ids and all), and update pivot, with and without a
 * report, at the same moment, round after round, on a pivot with a unique
 * index on the two keys and on one without. Every call must succeed (no
 * busy, deadlock or duplicate key error reaches the caller), and after each
 * round one serial order of all the calls must explain every report and the
 * final rows (ids and pivot values; a duplicate row explains nothing): that
 * is linearizability, checked by a search over a model of the pivot set.
 *
 * The two pivots put the lock's canonical side (docs/backends.md,
 * Concurrency) on a different relation: the unique index leads with the
 * inverse's key; without one, the key whose name sorts first. Rounds:
 * M2M_STRESS_ROUNDS (scripts/stress.sh), else a bounded number for
 * `make check`. */
#include "fixtures.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    NCANON = 16,              /* writers through the relation */
    NINV = 4,                 /* writers through its inverse */
    NTHREADS = NCANON + NINV, /* one call each per round */
    NIDS = 10,                /* related ids 1..NIDS; 13 and 14 are the sentinel's */
    ROUNDS = 20,              /* per pivot in `make check` */
    BAD = 1 << 30,            /* a reported id outside the model */
};

enum { K_SYNC, K_TOGGLE, K_ATTACH, K_DETACH, K_DETACH_ALL, K_UPDATE, NKINDS };
static const char *const cc_kind_name[] = {"sync",   "toggle",     "attach",
                                           "detach", "detach-all", "update"};

typedef struct cc_op {
    int kind;
    bool inverse; /* through the inverse: parent = the related id of bit `in`,
                     ids {1} (sync: {1} when link, else none) */
    bool link;
    bool report;
    uint32_t in;            /* ids given, as a bit set (bit i: id i + 1) */
    int val;                /* attach and update: the pivot value v, 1..15 */
    uint32_t att, det, upd; /* what the report said */
    int64_t began, ended;   /* when the call was made and returned, µs */
    int rc;
    char msg[256];
} cc_op;

typedef struct cc_pivot {
    const char *table, *fk, *rk; /* the relation's keys: parent 1 is fk */
    bool unique;
} cc_pivot;

typedef struct cc_worker {
    int id;
    m2m_db *db;
    m2m_relation *rel;
    cc_op *ops; /* one per round */
    int rounds;
    pthread_barrier_t *start, *done;
} cc_worker;

/* Deterministic per round and thread, so a failure can be replayed. */
static uint32_t cc_rand(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void cc_plan(int round, int thread, cc_op *op) {
    uint32_t s = 2654435761u * (uint32_t)(round * 131 + thread * 7 + 1);
    cc_rand(&s);
    *op = (cc_op){.kind = (int)(cc_rand(&s) % NKINDS),
                  .inverse = thread >= NCANON,
                  /* a call without a report constrains the search
                   * only through the final rows: one in four */
                  .report = cc_rand(&s) % 4 != 0,
                  .val = 1 + (int)(cc_rand(&s) % 15)};
    if (op->inverse) {
        op->in = 1u << (cc_rand(&s) % NIDS);
        op->link = cc_rand(&s) % 2;
    } else {
        op->in = cc_rand(&s) & ((1u << NIDS) - 1);
        if (op->kind == K_DETACH || op->kind == K_UPDATE)
            op->in &= cc_rand(&s); /* fewer ids: more partial overlaps */
    }
}

/* Reported ids as bits: canonical ops report related ids, inverse ops the
 * parent 1, which stands for the pair of their own parent `in`. */
static uint32_t cc_bits(const cc_op *op, const m2m_value *v, size_t n) {
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].type != M2M_TINT)
            m |= BAD;
        else if (op->inverse)
            m |= v[i].i == 1 ? op->in : BAD;
        else if (v[i].i >= 1 && v[i].i <= NIDS)
            m |= 1u << (v[i].i - 1);
        else
            m |= BAD;
    }
    return m;
}

static int cc_id(uint32_t bit) {
    for (int i = 0; i < NIDS; i++)
        if (bit & (1u << i))
            return i + 1;
    return 0;
}

static int64_t cc_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void cc_do(cc_worker *w, cc_op *op) {
    m2m_item items[NIDS];
    m2m_value ids[NIDS];
    size_t n = 0;
    m2m_value parent = M2M_INT(1);
    if (op->inverse) {
        parent = M2M_INT(cc_id(op->in));
        if (op->kind != K_SYNC || op->link) {
            items[n] = (m2m_item){.id = M2M_INT(1)};
            ids[n++] = M2M_INT(1);
        }
    } else {
        for (int i = 0; i < NIDS; i++)
            if (op->in & (1u << i)) {
                items[n] = (m2m_item){.id = M2M_INT(i + 1)};
                ids[n++] = M2M_INT(i + 1);
            }
    }
    m2m_col v = {"v", M2M_INT(op->val)};
    m2m_opts with_v = {.pivot = &v, .npivot = 1};
    m2m_changes *ch = NULL, **out = op->report ? &ch : NULL;
    op->began = cc_clock();
    switch (op->kind) {
        case K_SYNC:
            op->rc = m2m_sync(w->rel, parent, items, n, NULL, out);
            break;
        case K_TOGGLE:
            op->rc = m2m_toggle(w->rel, parent, items, n, NULL, out);
            break;
        case K_ATTACH:
            op->rc = m2m_attach(w->rel, parent, items, n, &with_v, out);
            break;
        case K_DETACH:
            op->rc = m2m_detach(w->rel, parent, ids, n, NULL, out);
            break;
        case K_DETACH_ALL:
            op->rc = m2m_detach(w->rel, parent, NULL, 0, NULL, out);
            break;
        default:
            op->rc = m2m_update_pivot(w->rel, parent, ids, n, &v, 1, out);
    }
    op->ended = cc_clock();
    if (op->rc != M2M_OK) {
        snprintf(op->msg, sizeof op->msg, "%s", m2m_errmsg(w->db));
        return;
    }
    if (ch) {
        op->att = cc_bits(op, ch->attached, ch->nattached);
        op->det = cc_bits(op, ch->detached, ch->ndetached);
        op->upd = cc_bits(op, ch->updated, ch->nupdated);
        m2m_changes_free(ch);
    }
}

/* M2M_CC_SERIAL=1: the threads take turns in thread order, which the
 * model must then explain (a check of the model itself). */
static atomic_int cc_turn;
static bool cc_serial;

static void *cc_main(void *arg) {
    cc_worker *w = arg;
    for (int r = 0; r < w->rounds; r++) {
        pthread_barrier_wait(w->start);
        while (cc_serial && atomic_load(&cc_turn) != w->id)
            sched_yield();
        cc_do(w, &w->ops[r]);
        if (cc_serial)
            atomic_fetch_add(&cc_turn, 1);
        pthread_barrier_wait(w->done);
    }
    return NULL;
}

/* The model: bits 0..NIDS-1 say which ids are attached to parent 1; four
 * bits per id from bit NIDS hold its v (0 for NULL, and for absent ids). */
typedef uint64_t cc_state;

static int cc_v(cc_state s, int i) { return (int)(s >> (NIDS + 4 * i)) & 15; }

static cc_state cc_set_v(cc_state s, uint32_t ids, int v) {
    for (int i = 0; i < NIDS; i++)
        if (ids & (1u << i))
            s = (s & ~(15ull << (NIDS + 4 * i))) | ((cc_state)v << (NIDS + 4 * i));
    return s;
}

/* Apply op to s; what its report would say goes to att, det and upd. */
static cc_state cc_apply(const cc_op *op, cc_state s, uint32_t *att, uint32_t *det,
                         uint32_t *upd) {
    uint32_t cur = (uint32_t)s & ((1u << NIDS) - 1), in = op->in, next = cur;
    *att = *det = *upd = 0;
    switch (op->kind) {
        case K_SYNC:
            if (op->inverse) { /* the pair (1, in) exists iff link */
                uint32_t want = op->link ? in : 0;
                *att = want & ~cur;
                *det = cur & in & ~want;
            } else {
                *att = in & ~cur;
                *det = cur & ~in;
            }
            next = (cur & ~*det) | *att;
            break;
        case K_TOGGLE:
            *det = cur & in;
            *att = in & ~cur;
            next = cur ^ in;
            break;
        case K_ATTACH:
            *att = in & ~cur;
            next = cur | in;
            break;
        case K_DETACH:
            *det = cur & in;
            next = cur & ~in;
            break;
        case K_DETACH_ALL:
            *det = op->inverse ? cur & in : cur;
            next = cur & ~*det;
            break;
        default:
            *upd = cur & in;
    }
    s = cc_set_v(s, *det | (op->kind == K_ATTACH ? 0 : *att), 0);
    if (op->kind == K_ATTACH)
        s = cc_set_v(s, *att, op->val);
    if (op->kind == K_UPDATE)
        s = cc_set_v(s, *upd, op->val);
    return (s & ~(cc_state)((1u << NIDS) - 1)) | next;
}

/* Search for a serial order of the round's calls: depth-first, trying
 * the calls in the order they returned, as a limited discrepancy search:
 * taking the j-th call still to place, rather than the first, spends j of
 * a budget that grows 0, 1, 2, ... Writers on one parent commit one at a
 * time, so a correct run's order is the return order but for calls whose
 * threads were slow to note the time: found within a small budget. A
 * (calls done, state) pair that failed with budget b fails with less. */
typedef struct cc_seen {
    cc_state s;
    uint32_t done;
    uint32_t gen;
    int budget;
} cc_seen;

enum { SEEN_BITS = 20, MAX_BUDGET = NTHREADS * NTHREADS, NODE_LIMIT = 20000000 };

typedef struct cc_search {
    const cc_op *ops[NTHREADS];
    int order[NTHREADS]; /* the calls by the time they returned */
    cc_state final;
    cc_seen *seen;
    uint32_t gen;
    long nodes;
} cc_search;

static cc_seen *cc_slot(cc_search *x, uint32_t done, cc_state s) {
    uint64_t h = (s ^ ((uint64_t)done << 40) ^ done) * 0x9E3779B97F4A7C15ull;
    size_t mask = ((size_t)1 << SEEN_BITS) - 1;
    for (size_t i = (size_t)(h >> (64 - SEEN_BITS)), probe = 0; probe < 64;
         i = (i + 1) & mask, probe++) {
        cc_seen *e = &x->seen[i];
        if (e->gen != x->gen || (e->done == done && e->s == s))
            return e;
    }
    return NULL; /* crowded: search on without remembering */
}

static bool cc_explain(cc_search *x, uint32_t done, cc_state s, int budget) {
    if (done == (1u << NTHREADS) - 1)
        return s == x->final;
    if (++x->nodes > NODE_LIMIT)
        return false;
    cc_seen *e = cc_slot(x, done, s);
    if (e && e->gen == x->gen && e->budget >= budget)
        return false;
    /* A call that returned before another began comes before it. */
    int64_t first_end = INT64_MAX;
    for (int t = 0; t < NTHREADS; t++)
        if (!(done & (1u << t)) && x->ops[t]->ended < first_end)
            first_end = x->ops[t]->ended;
    for (int k = 0, j = 0; k < NTHREADS && j <= budget; k++) {
        int t = x->order[k];
        if (done & (1u << t))
            continue;
        int cost = j++;
        const cc_op *op = x->ops[t];
        if (op->began > first_end)
            continue;
        uint32_t att, det, upd;
        cc_state next = cc_apply(op, s, &att, &det, &upd);
        if (op->report && (att != op->att || det != op->det || upd != op->upd))
            continue;
        if (cc_explain(x, done | (1u << t), next, budget - cost))
            return true;
    }
    e = cc_slot(x, done, s);
    if (e && (e->gen != x->gen || e->budget < budget))
        *e = (cc_seen){s, done, x->gen, budget};
    return false;
}

/* Some order explains the round, or none within the node limit. */
static bool cc_explained(cc_search *x, cc_state init) {
    x->nodes = 0;
    x->gen++;
    for (int budget = 0; budget <= MAX_BUDGET && x->nodes <= NODE_LIMIT; budget++)
        if (cc_explain(x, 0, init, budget))
            return true;
    return false;
}

/* Parent 1's rows as a model state; *dup when an id has two rows. */
static cc_state cc_read(const cc_pivot *p, bool *dup, bool *unreadable) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s, v FROM %s WHERE %s = 1", p->rk, p->table,
             p->fk);
    m2m_rows *rows = NULL;
    *dup = *unreadable = false;
    if (m2m_sql(t_db(), sql, NULL, 0, &rows) != M2M_OK) {
        fprintf(stderr, "reading the pivot: %s\n", m2m_errmsg(t_db()));
        *unreadable = true;
        return 0;
    }
    cc_state s = 0;
    while (m2m_rows_next(rows) == M2M_ROW) {
        m2m_value id = m2m_rows_value(rows, 0), v = m2m_rows_value(rows, 1);
        if (id.type != M2M_TINT || id.i < 1 || id.i > NIDS ||
            (v.type != M2M_TNULL && (v.type != M2M_TINT || v.i < 0 || v.i > 15))) {
            *unreadable = true;
            continue;
        }
        uint32_t bit = 1u << (id.i - 1);
        *dup |= (s & bit) != 0;
        s = cc_set_v(s | bit, bit, v.type == M2M_TINT ? (int)v.i : 0);
    }
    m2m_rows_free(rows);
    return s;
}

/* Start a round from state s, written by the test connection. */
static bool cc_reset(const cc_pivot *p, cc_state s) {
    char sql[2048];
    int len = snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = 1;", p->table, p->fk);
    for (int i = 0; i < NIDS; i++)
        if (s & (1u << i))
            len += snprintf(sql + len, sizeof sql - (size_t)len,
                            "INSERT INTO %s(%s, %s, v) VALUES (1, %d, %d);", p->table,
                            p->fk, p->rk, i + 1, cc_v(s, i));
    if (m2m_exec(t_db(), sql) != M2M_OK) {
        fprintf(stderr, "resetting the pivot: %s\n", m2m_errmsg(t_db()));
        return false;
    }
    return true;
}

static void cc_print_op(int t, const cc_op *op, int64_t t0) {
    fprintf(stderr,
            "  thread %2d [%6lld..%6lld us]: %s%s in %#x val %d link %d report %d -> %s",
            t, (long long)(op->began - t0), (long long)(op->ended - t0),
            op->inverse ? "inverse " : "", cc_kind_name[op->kind], op->in, op->val,
            op->link, op->report, m2m_errname(op->rc));
    if (op->rc)
        fprintf(stderr, " (%s)\n", op->msg);
    else
        fprintf(stderr, " att %#x det %#x upd %#x\n", op->att, op->det, op->upd);
}

static void cc_run(const cc_pivot *p) {
    char ddl[1024];
    snprintf(ddl, sizeof ddl,
             "CREATE TABLE cc_parent(id BIGINT PRIMARY KEY);"
             "CREATE TABLE cc_item(id BIGINT PRIMARY KEY);"
             "CREATE TABLE %s(%s BIGINT NOT NULL REFERENCES cc_parent(id),"
             " %s BIGINT NOT NULL REFERENCES cc_item(id), v BIGINT%s);"
             "CREATE INDEX %s_by_parent ON %s(%s);"
             "INSERT INTO cc_parent VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10);"
             "INSERT INTO cc_item VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10),"
             " (13),(14);"
             "INSERT INTO %s VALUES (2, 13, 7), (2, 14, NULL);",
             p->table, p->fk, p->rk, p->unique ? ", UNIQUE(" : "", p->table, p->table,
             p->fk, p->table);
    if (p->unique) { /* splice the key pair, rk first, into the UNIQUE clause */
        char *u = strstr(ddl, ", UNIQUE(");
        char tail[1024];
        snprintf(tail, sizeof tail, "%s", u + 9);
        snprintf(u + 9, sizeof ddl - (size_t)(u + 9 - ddl), "%s, %s)%s", p->rk, p->fk,
                 tail);
    }
    t_exec(ddl);
    static const char *const cols[] = {"v", NULL};
    m2m_relation_def def = {.parent_table = "cc_parent",
                            .related_table = "cc_item",
                            .pivot_table = p->table,
                            .foreign_pivot_key = p->fk,
                            .related_pivot_key = p->rk,
                            .pivot_columns = cols};
    const char *env = getenv("M2M_STRESS_ROUNDS");
    int rounds = env && atoi(env) > 0 ? atoi(env) : ROUNDS;
    cc_serial = getenv("M2M_CC_SERIAL") != NULL;

    static cc_worker w[NTHREADS];
    pthread_barrier_t start, done;
    pthread_t th[NTHREADS];
    pthread_barrier_init(&start, NULL, NTHREADS + 1);
    pthread_barrier_init(&done, NULL, NTHREADS + 1);
    for (int t = 0; t < NTHREADS; t++) {
        w[t] = (cc_worker){.id = t,
                           .db = t_open(),
                           .rounds = rounds,
                           .start = &start,
                           .done = &done,
                           .ops = calloc((size_t)rounds, sizeof(cc_op))};
        assert_non_null(w[t].ops);
        m2m_relation *rel = NULL;
        T_DB_OK(w[t].db, m2m_relation_open(w[t].db, &def, &rel));
        if (t >= NCANON) {
            T_OK(m2m_relation_inverse(rel, &w[t].rel));
            m2m_relation_close(rel);
        } else {
            w[t].rel = rel;
        }
        for (int r = 0; r < rounds; r++)
            cc_plan(r, t, &w[t].ops[r]);
    }
    for (int t = 0; t < NTHREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, cc_main, &w[t]), 0);

    cc_search x = {.seen = calloc((size_t)1 << SEEN_BITS, sizeof(cc_seen))};
    assert_non_null(x.seen);
    uint32_t seed = 12345;
    int failures = 0;
    for (int r = 0; r < rounds; r++) {
        cc_state init = cc_rand(&seed) & ((1u << NIDS) - 1);
        for (int i = 0; i < NIDS; i++)
            if (init & (1u << i))
                init = cc_set_v(init, 1u << i, (int)(cc_rand(&seed) % 16));
        bool dup, unreadable, ok = cc_reset(p, init);
        if (ok && cc_read(p, &dup, &unreadable) != init)
            ok = false;
        failures += !ok;
        atomic_store(&cc_turn, 0);
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&done);
        bool bad = !ok;
        for (int t = 0; t < NTHREADS; t++) {
            x.ops[t] = &w[t].ops[r];
            bad |= w[t].ops[r].rc != M2M_OK;
        }
        for (int k = 0; k < NTHREADS; k++) { /* insertion sort by return time */
            int j = k;
            for (; j > 0 && x.ops[x.order[j - 1]]->ended > x.ops[k]->ended; j--)
                x.order[j] = x.order[j - 1];
            x.order[j] = k;
        }
        x.final = cc_read(p, &dup, &unreadable);
        const char *why = bad          ? "a call failed"
                          : dup        ? "a duplicate row"
                          : unreadable ? "a row outside the model"
                          : !cc_explained(&x, init)
                              ? "no serial order explains the reports and rows"
                              : NULL;
        if (why && cc_serial) { /* where the model and the database part */
            cc_state s = init;
            for (int t = 0; t < NTHREADS; t++) {
                uint32_t att, det, upd;
                s = cc_apply(x.ops[t], s, &att, &det, &upd);
                fprintf(stderr, "  model after %d: %#llx att %#x det %#x upd %#x\n", t,
                        (unsigned long long)s, att, det, upd);
            }
        }
        if (why) {
            fprintf(stderr, "%s round %d: %s (start %#llx, final %#llx, %ld nodes)\n",
                    p->table, r, why, (unsigned long long)init,
                    (unsigned long long)x.final, x.nodes);
            int64_t t0 = INT64_MAX;
            for (int t = 0; t < NTHREADS; t++)
                t0 = x.ops[t]->began < t0 ? x.ops[t]->began : t0;
            for (int t = 0; t < NTHREADS; t++)
                cc_print_op(t, &w[t].ops[r], t0);
            failures++;
        }
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        m2m_relation_close(w[t].rel);
        m2m_close(w[t].db);
        free(w[t].ops);
    }
    free(x.seen);
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&done);
    /* The other parent was never touched. */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s, v FROM %s WHERE %s = 2 ORDER BY 1", p->rk,
             p->table, p->fk);
    assert_string_equal(t_rows(sql), "13|7,14|~");
    if (failures)
        fail_msg("%d of %d rounds on %s failed (see above)", failures, rounds, p->table);
}

/* UNIQUE (item_id, parent_id): the inverse, keyed by item_id, is the
 * canonical side of the lock. */
TEST(concurrency_every_op_unique_pivot) {
    cc_run(&(cc_pivot){"cc_pivot", "parent_id", "item_id", true});
}

/* Keys (owner_id, thing_id), no unique index: the relation itself, whose
 * key sorts first, is the canonical side. */
TEST(concurrency_every_op_pivot_without_unique_index) {
    cc_run(&(cc_pivot){"cc_dup", "owner_id", "thing_id", false});
}
