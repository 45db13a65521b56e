/* SPDX-License-Identifier: MIT */
/*
 * contention: many writers at once, each on its own connection.
 *
 *   contention BACKEND TARGET [THREADS [OPS]]
 *
 * BACKEND sqlite (TARGET a file path) or pg (TARGET a libpq connection
 * string). Each writer runs OPS operations, a mix of small writes (toggle
 * 3 ids, attach 2, sync 4, detach 2) and one read in five, on users -> roles
 * over role_user. Three cases, each printed as one line:
 *
 *   alone     one writer does the work of THREADS writers (THREADS x OPS)
 *   one       THREADS writers, all on the same parent
 *   distinct  THREADS writers, each on a parent of its own
 *
 * with operations per second, p50 and p99 latency, the busy errors seen
 * (each must be 0: every call waits its turn), and for the concurrent cases
 * their throughput against the one writer alone.
 *
 *   contention pg TARGET THREADS OPS compare [ROUNDS]
 *
 * compares m2m with a hand-written set-based baseline doing the same work:
 * each operation one simple-query round trip ("BEGIN; SELECT ... FOR
 * UPDATE of the parent's row; one set-based statement; COMMIT", a read
 * without the lock), the parent's row lock being its own correct
 * serialization of writers on one parent. ROUNDS (default 3) rounds
 * alternate m2m and the baseline, distinct parents then the hot parent,
 * and the medians and the m2m/baseline ratio of each are printed.
 * Correctness under the
 * same load is the concurrency test's job (tests/test_concurrency.c); this
 * measures only speed, and fails on any error.
 */
#include <m2m.h>
#ifdef W1_HAVE_PG
#include <libpq-fe.h>
#endif

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ROLES = 64, MAX_THREADS = 256 };

static const char *backend, *target;
static char url[4096];

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct worker {
    pthread_t th;
    int64_t parent;
    int ops, seed;
    int64_t *lat; /* per operation, us */
    int nbusy, nerr;
    char err[256];
    int raw; /* the hand-written baseline */
} worker;

static void die(m2m_db *db, const char *what) {
    fprintf(stderr, "contention: %s: %s\n", what, db ? m2m_errmsg(db) : "");
    exit(3);
}

static m2m_relation *open_rel(m2m_db *db) {
    static const char *const cols[] = {"note", NULL};
    m2m_relation *rel;
    if (m2m_relation_open(db,
                          &(m2m_relation_def){.parent_table = "users",
                                              .related_table = "roles",
                                              .pivot_table = "role_user",
                                              .foreign_pivot_key = "user_id",
                                              .related_pivot_key = "role_id",
                                              .pivot_columns = cols},
                          &rel) != M2M_OK)
        die(db, "relation");
    return rel;
}

/* One operation of the mix, chosen by i. */
static int one_op(m2m_relation *rel, int64_t parent, int i, unsigned *seed) {
    m2m_item it[4];
    m2m_value ids[4];
    for (int k = 0; k < 4; k++) {
        int64_t id = (int64_t)(rand_r(seed) % ROLES) + 1;
        it[k] = (m2m_item){.id = M2M_INT(id)};
        ids[k] = M2M_INT(id);
    }
    switch (i % 5) {
        case 0:
            return m2m_toggle(rel, M2M_INT(parent), it, 3, NULL, NULL);
        case 1:
            return m2m_attach(rel, M2M_INT(parent), it, 2, NULL, NULL);
        case 2:
            return m2m_sync(rel, M2M_INT(parent), it, 4, NULL, NULL);
        case 3:
            return m2m_detach(rel, M2M_INT(parent), ids, 2, NULL, NULL);
        default: {
            m2m_query *q;
            int64_t n;
            int rc = m2m_query_new(rel, M2M_INT(parent), &q);
            if (rc == M2M_OK)
                rc = m2m_query_count(q, &n);
            m2m_query_free(q);
            return rc;
        }
    }
}

#ifdef W1_HAVE_PG
/* The baseline's operation i: the same ids as one_op draws. */
static int raw_op(PGconn *pg, int64_t parent, int i, unsigned *seed, char *err,
                  size_t errsize) {
    int64_t id[4];
    for (int k = 0; k < 4; k++)
        id[k] = (int64_t)(rand_r(seed) % ROLES) + 1;
    char a[128], sql[1024];
    int kind = i % 5, n = kind == 0 ? 3 : kind == 2 ? 4 : 2;
    int len = snprintf(a, sizeof a, "ARRAY[");
    for (int k = 0; k < n; k++)
        len +=
            snprintf(a + len, sizeof a - (size_t)len, "%s%" PRId64, k ? "," : "", id[k]);
    snprintf(a + len, sizeof a - (size_t)len, "]::int8[]");
    const char *lock = "BEGIN; SELECT 1 FROM users WHERE id = %" PRId64 " FOR UPDATE; ";
    char head[128];
    snprintf(head, sizeof head, lock, parent);
    switch (kind) {
        case 0: /* toggle */
            snprintf(
                sql, sizeof sql,
                "%sWITH d AS (DELETE FROM role_user WHERE user_id = %" PRId64
                " AND role_id = ANY(%s) RETURNING role_id) INSERT INTO role_user"
                "(user_id, role_id) SELECT DISTINCT %" PRId64 ", x FROM unnest(%s) x"
                " WHERE x NOT IN (SELECT role_id FROM d) ON CONFLICT DO NOTHING; COMMIT",
                head, parent, a, parent, a);
            break;
        case 1: /* attach */
            snprintf(sql, sizeof sql,
                     "%sINSERT INTO role_user(user_id, role_id) SELECT DISTINCT %" PRId64
                     ", x FROM unnest(%s) x ON CONFLICT DO NOTHING; COMMIT",
                     head, parent, a);
            break;
        case 2: /* sync */
            snprintf(sql, sizeof sql,
                     "%sWITH d AS (DELETE FROM role_user WHERE user_id = %" PRId64
                     " AND role_id <> ALL(%s)) INSERT INTO role_user(user_id, role_id)"
                     " SELECT DISTINCT %" PRId64 ", x FROM unnest(%s) x"
                     " ON CONFLICT DO NOTHING; COMMIT",
                     head, parent, a, parent, a);
            break;
        case 3: /* detach */
            snprintf(sql, sizeof sql,
                     "%sDELETE FROM role_user WHERE user_id = %" PRId64
                     " AND role_id = ANY(%s); COMMIT",
                     head, parent, a);
            break;
        default: /* read: the count, as m2m_query_count */
            snprintf(sql, sizeof sql,
                     "SELECT count(*) FROM roles r JOIN role_user p ON p.role_id = r.id"
                     " WHERE p.user_id = %" PRId64,
                     parent);
    }
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc) {
        snprintf(err, errsize, "%s", PQresultErrorMessage(r));
        PQclear(PQexec(pg, "ROLLBACK"));
    }
    PQclear(r);
    return rc;
}

static void *run_raw(worker *w) {
    PGconn *pg = PQconnectdb(target);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "contention: %s", PQerrorMessage(pg));
        exit(3);
    }
    unsigned seed = (unsigned)w->seed;
    char err[200];
    for (int i = 0; i < w->ops; i++) {
        int64_t t0 = now_us();
        int rc = raw_op(pg, w->parent, i, &seed, err, sizeof err);
        w->lat[i] = now_us() - t0;
        if (rc && !w->nerr++)
            snprintf(w->err, sizeof w->err, "baseline: %s", err);
    }
    PQfinish(pg);
    return NULL;
}
#endif

static void *run(void *arg) {
    worker *w = arg;
#ifdef W1_HAVE_PG
    if (w->raw)
        return run_raw(w);
#endif
    m2m_db *db;
    if (m2m_open(url, &db) != M2M_OK)
        die(db, "open");
    m2m_relation *rel = open_rel(db);
    unsigned seed = (unsigned)w->seed;
    for (int i = 0; i < w->ops; i++) {
        int64_t t0 = now_us();
        int rc = one_op(rel, w->parent, i, &seed);
        w->lat[i] = now_us() - t0;
        if (rc == M2M_BUSY)
            w->nbusy++;
        else if (rc != M2M_OK && !w->nerr++)
            snprintf(w->err, sizeof w->err, "%s: %s", m2m_errname(rc), m2m_errmsg(db));
    }
    m2m_relation_close(rel);
    m2m_close(db);
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void setup(int threads) {
    m2m_db *db;
    if (m2m_open(url, &db) != M2M_OK)
        die(db, "open");
    if (strcmp(backend, "pg") == 0)
        m2m_exec(db, "DROP TABLE IF EXISTS role_user; DROP TABLE IF EXISTS users;"
                     "DROP TABLE IF EXISTS roles");
    if (m2m_exec(db,
                 "CREATE TABLE users(id BIGINT PRIMARY KEY);"
                 "CREATE TABLE roles(id BIGINT PRIMARY KEY);"
                 "CREATE TABLE role_user(user_id BIGINT NOT NULL REFERENCES users(id),"
                 " role_id BIGINT NOT NULL REFERENCES roles(id), note TEXT,"
                 " PRIMARY KEY(user_id, role_id))") != M2M_OK)
        die(db, "schema");
    char sql[64];
    for (int i = 1; i <= ROLES; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO roles VALUES (%d)", i);
        if (m2m_exec(db, sql) != M2M_OK)
            die(db, "roles");
    }
    for (int i = 1; i <= threads; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO users VALUES (%d)", i);
        if (m2m_exec(db, sql) != M2M_OK)
            die(db, "users");
    }
    m2m_close(db);
}

/* Run nthreads writers of ops each; parent(i) picks writer i's parent. */
static double run_case_as(const char *name, int nthreads, int ops, int distinct,
                          double alone_ops, int raw, double *p50, double *p99) {
    static worker w[MAX_THREADS];
    int64_t *lat = calloc((size_t)nthreads * (size_t)ops, sizeof *lat);
    if (!lat)
        exit(3);
    int64_t t0 = now_us();
    for (int i = 0; i < nthreads; i++) {
        w[i] = (worker){.parent = distinct ? i + 1 : 1,
                        .ops = ops,
                        .seed = 17 * i + 1,
                        .raw = raw,
                        .lat = lat + (size_t)i * (size_t)ops};
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    int busy = 0, errs = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(w[i].th, NULL);
        busy += w[i].nbusy;
        errs += w[i].nerr;
        if (w[i].nerr)
            fprintf(stderr, "contention: %s writer %d: %s\n", name, i, w[i].err);
    }
    double secs = (double)(now_us() - t0) / 1e6;
    size_t n = (size_t)nthreads * (size_t)ops;
    qsort(lat, n, sizeof *lat, cmp64);
    double per_s = (double)n / secs;
    *p50 = (double)lat[n / 2] / 1000.0;
    *p99 = (double)lat[n * 99 / 100] / 1000.0;
    printf("%-8s %s%s writers=%-3d ops=%-6zu %9.0f ops/s  p50 %7.2f ms  p99 %7.2f ms"
           "  busy %d  errors %d",
           name, raw ? "raw " : "m2m ", backend, nthreads, n, per_s,
           (double)lat[n / 2] / 1000.0, (double)lat[n * 99 / 100] / 1000.0, busy, errs);
    if (alone_ops > 0)
        printf("  %.2fx alone", per_s / alone_ops);
    printf("\n");
    fflush(stdout);
    free(lat);
    return busy || errs ? -1 : per_s;
}

static double run_case(const char *name, int nthreads, int ops, int distinct,
                       double alone_ops) {
    double p50, p99;
    return run_case_as(name, nthreads, ops, distinct, alone_ops, 0, &p50, &p99);
}

#ifdef W1_HAVE_PG
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { MAX_ROUNDS = 15 };

/* m2m and the baseline in turn, distinct parents then the hot one. */
static int compare(int threads, int ops, int rounds) {
    double v[2][2][3][MAX_ROUNDS]; /* [hot][raw][ops/s, p50, p99][round] */
    double ratio[2][MAX_ROUNDS];
    int bad = 0;
    for (int r = 0; r < rounds; r++)
        for (int hot = 0; hot < 2; hot++) {
            for (int raw = 0; raw < 2; raw++) {
                double *o = &v[hot][raw][0][r];
                *o = run_case_as(hot ? "hot" : "distinct", threads, ops, !hot, 0, raw,
                                 &v[hot][raw][1][r], &v[hot][raw][2][r]);
                bad |= *o < 0;
            }
            ratio[hot][r] = v[hot][0][0][r] / v[hot][1][0][r];
        }
    for (int hot = 0; hot < 2; hot++) {
        for (int raw = 0; raw < 2; raw++)
            for (int k = 0; k < 3; k++)
                qsort(v[hot][raw][k], (size_t)rounds, sizeof(double), cmpd);
        qsort(ratio[hot], (size_t)rounds, sizeof(double), cmpd);
        int m = rounds / 2;
        printf("median of %d: %-8s clients=%-3d m2m %8.0f ops/s p50 %6.2f p99 %6.2f ms |"
               " baseline %8.0f ops/s p50 %6.2f p99 %6.2f ms | m2m/baseline %.2fx\n",
               rounds, hot ? "hot" : "distinct", threads, v[hot][0][0][m],
               v[hot][0][1][m], v[hot][0][2][m], v[hot][1][0][m], v[hot][1][1][m],
               v[hot][1][2][m], ratio[hot][m]);
    }
    return bad ? 1 : 0;
}
#endif

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "sqlite") != 0 && strcmp(argv[1], "pg") != 0)) {
        fprintf(stderr, "usage: contention sqlite|pg TARGET [THREADS [OPS]]\n"
                        "       contention pg TARGET THREADS OPS compare [ROUNDS]\n");
        return 2;
    }
    backend = argv[1];
    target = argv[2];
    int threads = argc > 3 ? atoi(argv[3]) : 16;
    int ops = argc > 4 ? atoi(argv[4]) : 200;
    if (threads < 1 || threads > MAX_THREADS || ops < 1) {
        fprintf(stderr, "contention: 1..%d threads, at least 1 op\n", MAX_THREADS);
        return 2;
    }
    if (strcmp(backend, "sqlite") == 0) {
        remove(target);
        snprintf(url, sizeof url, "sqlite:%s", target);
    } else {
        snprintf(url, sizeof url, "%s", target);
    }
    setup(threads);
    if (argc > 5 && strcmp(argv[5], "compare") == 0) {
#ifdef W1_HAVE_PG
        int rounds = argc > 6 ? atoi(argv[6]) : 3;
        if (strcmp(backend, "pg") != 0 || rounds < 1 || rounds > MAX_ROUNDS) {
            fprintf(stderr, "contention: compare needs pg and 1..%d rounds\n",
                    MAX_ROUNDS);
            return 2;
        }
        return compare(threads, ops, rounds);
#else
        fprintf(stderr, "contention: built without libpq\n");
        return 2;
#endif
    }
    double alone = run_case("alone", 1, threads * ops, 0, 0);
    double one = run_case("one", threads, ops, 0, alone);
    double distinct = run_case("distinct", threads, ops, 1, alone);
    return alone < 0 || one < 0 || distinct < 0 ? 1 : 0;
}
