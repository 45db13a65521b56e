/* SPDX-License-Identifier: MIT */
/*
 * million: memory and time of writes and reads of a million ids.
 *
 *   million BACKEND TARGET [N [CASES]]
 *
 * BACKEND sqlite (TARGET a file path, recreated), pg (TARGET a libpq
 * connection string) or mariadb (TARGET a mariadb:// URL); on a server its
 * tables are dropped and recreated. N ids
 * (default 1,000,000) on users -> roles over role_user. Each case is one
 * call, printed as one line with its time and the growth of the process's
 * peak resident set above its size just before the call (the caller's
 * arrays are built before; Linux: /proc/self/clear_refs resets the peak,
 * /proc/self/status VmHWM reads it):
 *
 *   attach     N ids on an empty parent, no report
 *   sync       to N ids, half of them new (N/2 detached, N/2 attached)
 *   sync-same  to the same N ids (nothing changes)
 *   read       the N related ids of the parent, row by row
 *   detach     every id of the parent
 *
 * With PostgreSQL, read is compared with hand-written libpq reads of the
 * same SQL (m2m's, as traced), alternating with m2m's read, RUNS (5) each,
 * medians printed:
 *
 *   raw-single  single-row mode (PQsetSingleRowMode)
 *   raw-fetchK  DECLARE CURSOR, then FETCH K rows at a time (K 1000, 10000)
 *   raw-binary  the same FETCH 10000, results in binary
 *   raw-whole   the whole result at once (memory grows with it)
 *
 * CASES (default all): a comma-separated subset, e.g. "attach,read"
 * (attach always runs: the others need its rows). The check after each case (counts in
 * the pivot) is outside the measurement. A regression test asserts statement counts,
 * never this.
 */
#include <m2m.h>

#include <inttypes.h>
#include <stdbool.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef W1_HAVE_PG
#include <libpq-fe.h>
#endif

static const char *backend, *cases;

/* Is case c among CASES? */
static bool want(const char *c) {
    size_t n = strlen(c);
    for (const char *p = cases; p && *p; p += strcspn(p, ","), p += *p == ',')
        if (strncmp(p, c, n) == 0 && (p[n] == ',' || !p[n]))
            return true;
    return !cases;
}
static char url[4096];

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(m2m_db *db, const char *what) {
    fprintf(stderr, "million: %s: %s\n", what, db ? m2m_errmsg(db) : "");
    exit(3);
}

/* A field of /proc/self/status in KiB, or -1. */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Reset the peak resident set to the current one; its size in KiB. What
 * an earlier case freed goes back to the system first, so that it does not
 * hide this case's growth. */
static long peak_reset(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0) {
        fprintf(stderr, "million: cannot reset the peak RSS (/proc/self/clear_refs)\n");
        exit(3);
    }
    fclose(f);
    return status_kib("VmRSS");
}

static int64_t count(m2m_db *db, const char *sql) {
    m2m_rows *rows;
    int64_t n = -1;
    if (m2m_sql(db, sql, NULL, 0, &rows) != M2M_OK)
        die(db, sql);
    if (m2m_rows_next(rows) == M2M_ROW)
        n = m2m_rows_value(rows, 0).i;
    m2m_rows_free(rows);
    return n;
}

typedef struct meas {
    long before, peak; /* KiB */
    int64_t t0, cpu0;
} meas;

/* This process's CPU time (user + system), us. */
static int64_t cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void start(meas *m) {
    m->before = peak_reset();
    m->t0 = now_us();
    m->cpu0 = cpu_us();
}

static void stop(meas *m, const char *name, size_t n, m2m_db *db, const m2m_stats *st0) {
    int64_t us = now_us() - m->t0, cpu = cpu_us() - m->cpu0;
    m->peak = status_kib("VmHWM");
    m2m_stats st;
    m2m_stats_get(db, &st);
    printf("%-12s %-6s n=%-8zu %8.3f s  %6.3f us/id  client CPU %6.3f us/id  "
           "peak RSS +%6.1f MiB  statements %" PRIu64 "\n",
           name, backend, n, (double)us / 1e6, (double)us / (double)(n ? n : 1),
           (double)cpu / (double)(n ? n : 1), (double)(m->peak - m->before) / 1024.0,
           st.executed - st0->executed);
    fflush(stdout);
}

static void setup(m2m_db *db, size_t n) {
    if (strcmp(backend, "sqlite") != 0)
        m2m_exec(db, "DROP TABLE IF EXISTS role_user; DROP TABLE IF EXISTS users;"
                     "DROP TABLE IF EXISTS roles");
    char sql[1024];
    bool pg = strcmp(backend, "pg") == 0, maria = strcmp(backend, "mariadb") == 0;
    snprintf(sql, sizeof sql,
             "CREATE TABLE users(id BIGINT PRIMARY KEY);"
             "CREATE TABLE roles(id BIGINT PRIMARY KEY);"
             "CREATE TABLE role_user(user_id BIGINT NOT NULL REFERENCES users(id),"
             " role_id BIGINT NOT NULL REFERENCES roles(id),"
             " PRIMARY KEY(user_id, role_id));"
             "INSERT INTO users VALUES (1);"
             "%s%s%zu%s",
             maria ? "SET SESSION max_recursive_iterations = 4294967295;" : "",
             pg      ? "INSERT INTO roles SELECT generate_series(1, "
             : maria ? "INSERT INTO roles WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL"
                       " SELECT i + 1 FROM s WHERE i < "
                     : "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s"
                       " WHERE i < ",
             2 * n,
             pg      ? ")"
             : maria ? ") SELECT i FROM s"
                     : ") INSERT INTO roles SELECT i FROM s");
    if (m2m_exec(db, sql) != M2M_OK)
        die(db, "schema");
}

/* Every related id of parent 1, row by row: what a caller must do with
 * each (read its value), no more. */
static double cpu_per_row;  /* of the last read, us */
static char read_sql[1024]; /* m2m's read, as traced */

static void on_sql(void *arg, const char *sql) {
    (void)arg;
    if (strncmp(sql, "SELECT", 6) == 0) /* the last: the streamed read */
        snprintf(read_sql, sizeof read_sql, "%s", sql);
}

/* Returns the time per row, us. */
static double read_all(m2m_db *db, m2m_relation *rel, size_t n) {
    meas m;
    m2m_stats st0;
    m2m_stats_get(db, &st0);
    start(&m);
    m2m_query *qr;
    m2m_rows *rows;
    int64_t sum = 0;
    size_t got = 0;
    m2m_trace(db, on_sql, NULL);
    if (m2m_query_new(rel, M2M_INT(1), &qr) != M2M_OK ||
        m2m_query_select(qr, "id") != M2M_OK || m2m_query_get(qr, &rows) != M2M_OK)
        die(db, "read");
    m2m_trace(db, NULL, NULL);
    int rc;
    while ((rc = m2m_rows_next(rows)) == M2M_ROW) {
        sum += m2m_rows_value(rows, 0).i;
        got++;
    }
    m2m_rows_free(rows);
    m2m_query_free(qr);
    if (rc != M2M_DONE)
        die(db, "read");
    stop(&m, "read", got, db, &st0);
    if (got != n)
        die(db, "read: wrong count");

    if (sum <= 0)
        die(db, "read: wrong ids");
    cpu_per_row = (double)(cpu_us() - m.cpu0) / (double)got;
    return (double)(now_us() - m.t0) / (double)got;
}

#ifdef W1_HAVE_PG
/* Hand-written reads of read_sql with $1 = 1, summing the ids as m2m's
 * loop does. mode: 0 single-row, 1 FETCH fetch rows (text), 2 the same in
 * binary, 3 whole. Returns the time per row, us. */
static double raw_read(PGconn *pg, int mode, int fetch, size_t n, const char *name) {
    meas m;
    start(&m);
    int64_t sum = 0;
    size_t got = 0;
    const char *one = "1";
    PGresult *r;
    if (mode == 0 || mode == 3) {
        if (!PQsendQueryParams(pg, read_sql, 1, NULL, &one, NULL, NULL, 0) ||
            (mode == 0 && !PQsetSingleRowMode(pg)))
            die(NULL, PQerrorMessage(pg));
        while ((r = PQgetResult(pg)) != NULL) {
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK)
                die(NULL, PQresultErrorMessage(r));
            for (int i = 0, k = PQntuples(r); i < k; i++, got++)
                sum += strtoll(PQgetvalue(r, i, 0), NULL, 10);
            PQclear(r);
        }
    } else {
        char decl[1200], fetchq[64];
        snprintf(decl, sizeof decl, "DECLARE m2m_bench NO SCROLL CURSOR FOR %s",
                 read_sql);
        snprintf(fetchq, sizeof fetchq, "FETCH %d FROM m2m_bench", fetch);
        PQclear(PQexec(pg, "BEGIN"));
        r = PQexecParams(pg, decl, 1, NULL, &one, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die(NULL, PQresultErrorMessage(r));
        PQclear(r);
        for (;;) {
            r = PQexecParams(pg, fetchq, 0, NULL, NULL, NULL, NULL, mode == 2);
            if (PQresultStatus(r) != PGRES_TUPLES_OK)
                die(NULL, PQresultErrorMessage(r));
            int k = PQntuples(r);
            for (int i = 0; i < k; i++, got++) {
                if (mode == 2) {
                    const unsigned char *b = (const unsigned char *)PQgetvalue(r, i, 0);
                    uint64_t v = 0;
                    for (int j = 0; j < 8; j++)
                        v = v << 8 | b[j];
                    sum += (int64_t)v;
                } else {
                    sum += strtoll(PQgetvalue(r, i, 0), NULL, 10);
                }
            }
            PQclear(r);
            if (k < fetch)
                break;
        }
        PQclear(PQexec(pg, "COMMIT"));
    }
    int64_t us = now_us() - m.t0, cpu = cpu_us() - m.cpu0;
    m.peak = status_kib("VmHWM");
    if (got != n || sum <= 0) {
        fprintf(stderr, "million: %s: %zu rows of %s\n", name, got, read_sql);
        exit(3);
    }
    printf("%-12s %-6s n=%-8zu %8.3f s  %6.3f us/id  client CPU %6.3f us/id  "
           "peak RSS +%6.1f MiB\n",
           name, backend, got, (double)us / 1e6, (double)us / (double)got,
           (double)cpu / (double)got, (double)(m.peak - m.before) / 1024.0);
    fflush(stdout);
    cpu_per_row = (double)cpu / (double)got;
    return (double)us / (double)got;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { RUNS = 5, NRAW = 5 };

/* m2m's read and each baseline in turn, RUNS rounds; medians. */
static void read_compare(m2m_db *db, m2m_relation *rel, size_t n) {
    static const struct {
        const char *name;
        int mode, fetch;
    } raw[NRAW] = {{"raw-single", 0, 0},
                   {"raw-fetch1k", 1, 1000},
                   {"raw-fetch10k", 1, 10000},
                   {"raw-binary", 2, 10000},
                   {"raw-whole", 3, 0}};
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK)
        die(NULL, PQerrorMessage(pg));
    double t[NRAW + 1][RUNS], c[NRAW + 1][RUNS], ratio[NRAW][RUNS];
    for (int r = 0; r < RUNS; r++) {
        t[0][r] = read_all(db, rel, n);
        c[0][r] = cpu_per_row;
        for (int k = 0; k < NRAW; k++) {
            t[k + 1][r] = raw_read(pg, raw[k].mode, raw[k].fetch, n, raw[k].name);
            c[k + 1][r] = cpu_per_row;
            ratio[k][r] = t[0][r] / t[k + 1][r];
        }
    }
    for (int k = 0; k <= NRAW; k++) {
        qsort(t[k], RUNS, sizeof t[k][0], cmpd);
        qsort(c[k], RUNS, sizeof c[k][0], cmpd);
        if (k < NRAW)
            qsort(ratio[k], RUNS, sizeof ratio[k][0], cmpd);
    }
    printf("median of %d runs, us/row (client CPU us/row):\n  %-12s %6.3f (%6.3f)\n",
           RUNS, "m2m", t[0][RUNS / 2], c[0][RUNS / 2]);
    for (int k = 0; k < NRAW; k++)
        printf("  %-12s %6.3f (%6.3f)  m2m/this: median of the runs' ratios %.2fx\n",
               raw[k].name, t[k + 1][RUNS / 2], c[k + 1][RUNS / 2], ratio[k][RUNS / 2]);
    PQfinish(pg);
}
#endif

/* Is every name in CASES one of ours? (attach always runs: the others
 * start from its rows.) */
static bool cases_known(void) {
    static const char *const known[] = {"attach", "sync",         "sync-same",
                                        "read",   "read-compare", "detach"};
    for (const char *p = cases; p && *p; p += strcspn(p, ","), p += *p == ',') {
        size_t len = strcspn(p, ","), k = 0;
        while (k < sizeof known / sizeof *known &&
               (strlen(known[k]) != len || strncmp(p, known[k], len) != 0))
            k++;
        if (k == sizeof known / sizeof *known) {
            fprintf(stderr,
                    "million: unknown case '%.*s' (attach, sync, sync-same, "
                    "read, read-compare, detach)\n",
                    (int)len, p);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "sqlite") != 0 && strcmp(argv[1], "pg") != 0 &&
                     strcmp(argv[1], "mariadb") != 0)) {
        fprintf(stderr, "usage: million sqlite|pg|mariadb TARGET [N [CASES]]\n");
        return 2;
    }
    backend = argv[1];
#ifdef __GLIBC__
    /* A fixed threshold: big blocks are mapped and unmapped, never kept. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    size_t n = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : 1000000;
    cases = argc > 4 ? argv[4] : NULL;
    if (!cases_known())
        return 2;
    if (n < 2 || n > 1000000) {
        fprintf(stderr, "million: N from 2 to 1000000\n");
        return 2;
    }
    if (strcmp(backend, "sqlite") == 0) {
        remove(argv[2]);
        snprintf(url, sizeof url, "sqlite:%s", argv[2]);
    } else {
        snprintf(url, sizeof url, "%s", argv[2]);
    }
    m2m_db *db;
    if (m2m_open(url, &db) != M2M_OK)
        die(db, "open");
    setup(db, n);
    m2m_relation *rel;
    if (m2m_relation_open(db,
                          &(m2m_relation_def){.parent_table = "users",
                                              .related_table = "roles",
                                              .pivot_table = "role_user",
                                              .foreign_pivot_key = "user_id",
                                              .related_pivot_key = "role_id"},
                          &rel) != M2M_OK)
        die(db, "relation");
    /* ids 1..n, then n/2+1 .. n+n/2 for the sync; built before measuring. */
    m2m_item *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    if (!a || !b)
        die(NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        a[i] = (m2m_item){.id = M2M_INT((int64_t)i + 1)};
        b[i] = (m2m_item){.id = M2M_INT((int64_t)(i + n / 2) + 1)};
    }
    /* Touch a small write first: statements prepared, catalog asked. */
    if (m2m_attach(rel, M2M_INT(1), a, 1, NULL, NULL) != M2M_OK ||
        m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL) != M2M_OK)
        die(db, "warm-up");
    meas m;
    m2m_stats st0;
    char q[128];
    snprintf(q, sizeof q, "SELECT count(*) FROM role_user WHERE user_id = 1");

    m2m_stats_get(db, &st0);
    start(&m);
    if (m2m_attach(rel, M2M_INT(1), a, n, NULL, NULL) != M2M_OK)
        die(db, "attach");
    stop(&m, "attach", n, db, &st0);
    if (count(db, q) != (int64_t)n)
        die(db, "attach: wrong count");

    if (want("sync")) {
        m2m_stats_get(db, &st0);
        start(&m);
        if (m2m_sync(rel, M2M_INT(1), b, n, NULL, NULL) != M2M_OK)
            die(db, "sync");
        stop(&m, "sync", n, db, &st0);
        if (count(db, q) != (int64_t)n ||
            count(db, "SELECT min(role_id) FROM role_user") != (int64_t)(n / 2) + 1)
            die(db, "sync: wrong rows");
    }
    if (want("sync-same")) {
        m2m_item *now = want("sync") ? b : a;
        m2m_stats_get(db, &st0);
        start(&m);
        if (m2m_sync(rel, M2M_INT(1), now, n, NULL, NULL) != M2M_OK)
            die(db, "sync-same");
        stop(&m, "sync-same", n, db, &st0);
    }
    if (want("read"))
        read_all(db, rel, n);
#ifdef W1_HAVE_PG
    if (want("read-compare") && strcmp(backend, "pg") == 0)
        read_compare(db, rel, n);
#endif
    if (!want("detach"))
        goto done;

    m2m_stats_get(db, &st0);
    start(&m);
    if (m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL) != M2M_OK)
        die(db, "detach");
    stop(&m, "detach", n, db, &st0);
    if (count(db, q) != 0)
        die(db, "detach: rows left");
done:
    free(a);
    free(b);
    m2m_relation_close(rel);
    m2m_close(db);
    return 0;
}
