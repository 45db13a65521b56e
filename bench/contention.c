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
 * with operations per second, p50, p99, mean and greatest latency, the busy
 * errors seen (each must be 0: every call waits its turn), and for the
 * concurrent cases their throughput against the one writer alone.
 *
 *   contention sqlite FILE THREADS OPS procs PROCS
 *
 * runs the one and distinct cases in PROCS processes at once, THREADS
 * writers each: writers of other processes wake no one, so this shows the
 * waits across processes (the greatest, against the 5 s busy timeout).
 *
 *   contention pg TARGET THREADS OPS compare [ROUNDS]
 *
 * compares m2m with a hand-written set-based baseline doing the same work:
 * each operation one simple-query round trip ("BEGIN; SELECT ... FOR
 * UPDATE of the parent's row; one set-based statement; COMMIT", a read
 * without the lock), the parent's row lock being its own correct
 * serialization of writers on one parent. ROUNDS (default 3) rounds
 * alternate m2m and the baseline, distinct parents then the hot parent,
 * and the medians and the m2m/baseline ratio of each are printed. With
 * "advisory" the baseline locks its parent with a transaction-level
 * advisory lock, as m2m does, instead of the row lock.
 * Correctness under the same load is the concurrency test's job
 * (tests/test_concurrency.c); this measures only speed, and fails on any
 * error.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ROLES = 64, MAX_THREADS = 256 };

static const char *backend, *target;
static char url[4096];

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One implementation of the mix: its connection, and operation i of it.
 * op returns 0, 1 for busy (m2m gave up waiting), or -1 with err set. */
typedef struct impl {
    const char *name;
    void *(*open)(void);
    int (*op)(void *h, int64_t parent, int i, unsigned *seed, char *err, size_t n);
    void (*close)(void *h);
} impl;

typedef struct worker {
    pthread_t th;
    const impl *im;
    int64_t parent;
    int ops, seed;
    int64_t *lat; /* per operation, us */
    int nbusy, nerr;
    char err[256];
} worker;

static void die(m2m_db *db, const char *what) {
    fprintf(stderr, "contention: %s: %s\n", what, db ? m2m_errmsg(db) : "");
    exit(3);
}

typedef struct m2m_conn {
    m2m_db *db;
    m2m_relation *rel;
} m2m_conn;

static void *m2m_conn_open(void) {
    static const char *const cols[] = {"note", NULL};
    m2m_conn *c = calloc(1, sizeof *c);
    if (!c)
        exit(3);
    if (m2m_open(url, &c->db) != M2M_OK)
        die(c->db, "open");
    if (m2m_relation_open(c->db,
                          &(m2m_relation_def){.parent_table = "users",
                                              .related_table = "roles",
                                              .pivot_table = "role_user",
                                              .foreign_pivot_key = "user_id",
                                              .related_pivot_key = "role_id",
                                              .pivot_columns = cols},
                          &c->rel) != M2M_OK)
        die(c->db, "relation");
    return c;
}

static void m2m_conn_close(void *h) {
    m2m_conn *c = h;
    m2m_relation_close(c->rel);
    m2m_close(c->db);
    free(c);
}

/* One operation of the mix, chosen by i. */
static int m2m_op(void *h, int64_t parent, int i, unsigned *seed, char *err, size_t n) {
    m2m_relation *rel = ((m2m_conn *)h)->rel;
    m2m_item it[4];
    m2m_value ids[4];
    for (int k = 0; k < 4; k++) {
        int64_t id = (int64_t)(rand_r(seed) % ROLES) + 1;
        it[k] = (m2m_item){.id = M2M_INT(id)};
        ids[k] = M2M_INT(id);
    }
    int rc;
    switch (i % 5) {
        case 0:
            rc = m2m_toggle(rel, M2M_INT(parent), it, 3, NULL, NULL);
            break;
        case 1:
            rc = m2m_attach(rel, M2M_INT(parent), it, 2, NULL, NULL);
            break;
        case 2:
            rc = m2m_sync(rel, M2M_INT(parent), it, 4, NULL, NULL);
            break;
        case 3:
            rc = m2m_detach(rel, M2M_INT(parent), ids, 2, NULL, NULL);
            break;
        default: {
            m2m_query *q;
            int64_t count;
            rc = m2m_query_new(rel, M2M_INT(parent), &q);
            if (rc == M2M_OK)
                rc = m2m_query_count(q, &count);
            m2m_query_free(q);
        }
    }
    if (rc == M2M_OK || rc == M2M_BUSY)
        return rc == M2M_BUSY;
    snprintf(err, n, "%s: %s", m2m_errname(rc), m2m_errmsg(((m2m_conn *)h)->db));
    return -1;
}

static const impl m2m_impl = {"m2m ", m2m_conn_open, m2m_op, m2m_conn_close};

#ifdef W1_HAVE_PG
static int raw_advisory; /* the baseline locks its parent as m2m does */

static void *raw_open(void) {
    PGconn *pg = PQconnectdb(target);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "contention: %s", PQerrorMessage(pg));
        exit(3);
    }
    return pg;
}

static void raw_close(void *h) { PQfinish(h); }

/* The baseline's operation i: the same ids as m2m_op draws. */
static int raw_op(void *h, int64_t parent, int i, unsigned *seed, char *err,
                  size_t errsize) {
    PGconn *pg = h;
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
    char head[128];
    snprintf(head, sizeof head,
             raw_advisory ? "BEGIN; SELECT pg_advisory_xact_lock(%" PRId64 "); "
                          : "BEGIN; SELECT 1 FROM users WHERE id = %" PRId64
                            " FOR UPDATE; ",
             parent);
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

static const impl raw_impl = {"raw ", raw_open, raw_op, raw_close};
#endif

static void *run(void *arg) {
    worker *w = arg;
    void *h = w->im->open();
    unsigned seed = (unsigned)w->seed;
    char err[200];
    for (int i = 0; i < w->ops; i++) {
        int64_t t0 = now_us();
        int rc = w->im->op(h, w->parent, i, &seed, err, sizeof err);
        w->lat[i] = now_us() - t0;
        if (rc > 0)
            w->nbusy++;
        else if (rc < 0 && !w->nerr++)
            snprintf(w->err, sizeof w->err, "%s%s", w->im->name, err);
    }
    w->im->close(h);
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

/* What a case measured: operations per second, latency in ms. */
typedef struct result {
    double ops, p50, p99, mean, max;
} result;

/* Run nthreads writers of im, ops operations each, on parents first + 1 ...
 * (distinct) or all on parent 1. -1 in r.ops on any busy or error. */
static result run_case(const char *name, const impl *im, int nthreads, int ops,
                       int distinct, int first, double alone_ops) {
    static worker w[MAX_THREADS];
    int64_t *lat = calloc((size_t)nthreads * (size_t)ops, sizeof *lat);
    if (!lat)
        exit(3);
    int64_t t0 = now_us();
    for (int i = 0; i < nthreads; i++) {
        w[i] = (worker){.im = im,
                        .parent = distinct ? first + i + 1 : 1,
                        .ops = ops,
                        .seed = 17 * (first + i) + 1,
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
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lat[i];
    result r = {(double)n / secs, (double)lat[n / 2] / 1000.0,
                (double)lat[n * 99 / 100] / 1000.0, (double)sum / (double)n / 1000.0,
                (double)lat[n - 1] / 1000.0};
    printf("%-8s %s%s writers=%-3d ops=%-6zu %7.0f ops/s  p50 %6.2f  p99 %7.2f  mean "
           "%6.2f  max %7.2f ms  busy %d  errors %d",
           name, im->name, backend, nthreads, n, r.ops, r.p50, r.p99, r.mean, r.max, busy,
           errs);
    if (alone_ops > 0)
        printf("  %.2fx alone", r.ops / alone_ops);
    printf("\n");
    fflush(stdout);
    free(lat);
    if (busy || errs)
        r.ops = -1;
    return r;
}

/* The one and distinct cases in procs processes at once, threads writers
 * each: the waits across processes. */
static int multi_process(int procs, int threads, int ops) {
    int bad = 0;
    for (int distinct = 0; distinct < 2; distinct++) {
        pid_t pid[MAX_THREADS];
        for (int p = 0; p < procs; p++) {
            fflush(stdout);
            if ((pid[p] = fork()) < 0)
                exit(3);
            if (pid[p] == 0) {
                char name[16];
                snprintf(name, sizeof name, "%s/%d", distinct ? "distinct" : "one", p);
                result r =
                    run_case(name, &m2m_impl, threads, ops, distinct, p * threads, 0);
                _exit(r.ops < 0);
            }
        }
        for (int p = 0; p < procs; p++) {
            int st;
            waitpid(pid[p], &st, 0);
            bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        }
    }
    return bad;
}

#ifdef W1_HAVE_PG
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { MAX_ROUNDS = 15 };

/* m2m and the baseline in turn, distinct parents then the hot one. */
static int compare(int threads, int ops, int rounds) {
    static const impl *const im[2] = {&m2m_impl, &raw_impl};
    double v[2][2][4][MAX_ROUNDS]; /* [hot][raw][ops/s, p50, p99, mean][round] */
    double ratio[2][MAX_ROUNDS];
    int bad = 0;
    for (int r = 0; r < rounds; r++)
        for (int hot = 0; hot < 2; hot++) {
            for (int raw = 0; raw < 2; raw++) {
                result x =
                    run_case(hot ? "hot" : "distinct", im[raw], threads, ops, !hot, 0, 0);
                v[hot][raw][0][r] = x.ops, v[hot][raw][1][r] = x.p50;
                v[hot][raw][2][r] = x.p99, v[hot][raw][3][r] = x.mean;
                bad |= x.ops < 0;
            }
            ratio[hot][r] = v[hot][0][0][r] / v[hot][1][0][r];
        }
    for (int hot = 0; hot < 2; hot++) {
        for (int raw = 0; raw < 2; raw++)
            for (int k = 0; k < 4; k++)
                qsort(v[hot][raw][k], (size_t)rounds, sizeof(double), cmpd);
        qsort(ratio[hot], (size_t)rounds, sizeof(double), cmpd);
        int m = rounds / 2;
        printf("median of %d: %-8s clients=%-3d", rounds, hot ? "hot" : "distinct",
               threads);
        for (int raw = 0; raw < 2; raw++)
            printf(" %s %6.0f ops/s p50 %6.2f p99 %6.2f mean %6.2f ms |",
                   raw ? "baseline" : "m2m", v[hot][raw][0][m], v[hot][raw][1][m],
                   v[hot][raw][2][m], v[hot][raw][3][m]);
        printf(" m2m/baseline %.2fx\n", ratio[hot][m]);
    }
    return bad ? 1 : 0;
}
#endif

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "sqlite") != 0 && strcmp(argv[1], "pg") != 0)) {
        fprintf(stderr,
                "usage: contention sqlite|pg TARGET [THREADS [OPS]]\n"
                "       contention sqlite FILE THREADS OPS procs PROCS\n"
                "       contention pg TARGET THREADS OPS compare [ROUNDS [advisory]]\n");
        return 2;
    }
    backend = argv[1];
    target = argv[2];
    int threads = argc > 3 ? atoi(argv[3]) : 16;
    int ops = argc > 4 ? atoi(argv[4]) : 200;
    const char *mode = argc > 5 ? argv[5] : "";
    int procs = strcmp(mode, "procs") == 0 && argc > 6 ? atoi(argv[6]) : 1;
    if (threads < 1 || threads > MAX_THREADS || ops < 1 || procs < 1 ||
        procs * threads > MAX_THREADS) {
        fprintf(stderr, "contention: 1..%d writers in all, at least 1 op\n", MAX_THREADS);
        return 2;
    }
    if (strcmp(backend, "sqlite") == 0) {
        remove(target);
        snprintf(url, sizeof url, "sqlite:%s", target);
    } else {
        snprintf(url, sizeof url, "%s", target);
    }
    setup(procs * threads);
    if (strcmp(mode, "procs") == 0) {
        if (strcmp(backend, "sqlite") != 0) {
            fprintf(stderr, "contention: procs is for sqlite\n");
            return 2;
        }
        return multi_process(procs, threads, ops);
    }
    if (strcmp(mode, "compare") == 0) {
#ifdef W1_HAVE_PG
        int rounds = argc > 6 ? atoi(argv[6]) : 3;
        raw_advisory = argc > 7 && strcmp(argv[7], "advisory") == 0;
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
    double alone = run_case("alone", &m2m_impl, 1, threads * ops, 0, 0, 0).ops;
    double one = run_case("one", &m2m_impl, threads, ops, 0, 0, alone).ops;
    double distinct = run_case("distinct", &m2m_impl, threads, ops, 1, 0, alone).ops;
    return alone < 0 || one < 0 || distinct < 0 ? 1 : 0;
}
