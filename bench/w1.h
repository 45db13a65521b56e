/* SPDX-License-Identifier: MIT */
/*
 * w1.h — the W1 workload (shared/bench/W1.md) for bench/w1.c: data, phases,
 * results, timing, memory, and the database set-up every implementation
 * starts from. Header-only; included by w1.c alone.
 */
#ifndef M2M_BENCH_W1_H
#define M2M_BENCH_W1_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef W1_HAVE_PG
#include <libpq-fe.h>
#endif
#include <sqlite3.h>

enum { W1_P1, W1_P2, W1_P3, W1_P4, W1_P5, W1_P6, W1_P7, W1_NPHASES };
enum { W1_SQLITE, W1_PG, W1_MARIADB };
enum { W1_NCHECK = 8, W1_PER_USER = 50 };

static const char *const w1_phase_name[W1_NPHASES] = {"P1", "P2", "P3", "P4",
                                                      "P5", "P6", "P7"};
/* The phases after which W1 runs its CHECK query. */
static const int w1_checked[W1_NPHASES] = {1, 1, 1, 1, 0, 0, 1};

/* One run's parameters. W1 proper: roles = 1000, big = 0. The --scale case of
 * one parent with a million related ids: users = 1, big = 1 (see w1_ids). */
typedef struct w1_case {
    int64_t users;
    int64_t roles;
    int big;
    unsigned phases; /* bit i: run phase i */
} w1_case;

enum { W1_BIG_N = 1000000 };

static inline int64_t w1_role(int64_t u, int64_t k) {
    return ((u * 7 + k * 13) % 1000) + 1;
}

/* Largest id list any phase of c hands to one call. */
static inline size_t w1_max_ids(const w1_case *c) { return c->big ? W1_BIG_N : 80; }

/* The related ids of phase p for user u, into out (w1_max_ids long); returns
 * how many. W1: P1 k=0..49, P2 k=25..74, P3 k=70..79, P4 k=30..34. Big case:
 * P1 attaches ids 1..1e6, P2 syncs to 500001..1500000 (half kept, half
 * detached, half new), so it needs 1.5e6 related rows. */
static size_t w1_ids(const w1_case *c, int p, int64_t u, int64_t *out) {
    int64_t lo, hi;
    if (c->big) {
        int64_t base = p == W1_P1 ? 1 : W1_BIG_N / 2 + 1;
        for (int64_t i = 0; i < W1_BIG_N; i++)
            out[i] = base + i;
        return W1_BIG_N;
    }
    switch (p) {
        case W1_P1:
            lo = 0, hi = 49;
            break;
        case W1_P2:
            lo = 25, hi = 74;
            break;
        case W1_P3:
            lo = 70, hi = 79;
            break;
        case W1_P4:
            lo = 30, hi = 34;
            break;
        default:
            return 0;
    }
    for (int64_t k = lo; k <= hi; k++)
        out[k - lo] = w1_role(u, k);
    return (size_t)(hi - lo + 1);
}

/* The pivot value each mutating phase writes. */
static const char *const w1_pivot_value[W1_NPHASES] = {"seed", "sync", "toggle", "upd",
                                                       "sync", NULL,   NULL};

/* What one run of one implementation measured. */
typedef struct w1_result {
    double sec[W1_NPHASES];
    uint64_t stmts[W1_NPHASES];
    uint64_t trips[W1_NPHASES];
    int64_t rows[W1_NPHASES]; /* P5/P6 rows seen; -1 otherwise */
    int64_t check[W1_NPHASES][W1_NCHECK];
    int checked[W1_NPHASES];
    long rss_before_kb[W1_NPHASES], rss_peak_kb[W1_NPHASES];
    double cpu[W1_NPHASES]; /* CPU seconds of this process (the client) */
    double srv[W1_NPHASES]; /* ...of its server backend; -1 in process or unknown */
} w1_result;

/* Where the data lives. sqlite: path of the database file. pg: conninfo and
 * the schema of this run (search_path is set to it on every connection).
 * mariadb: URLs (conninfo, ',' between the nodes of a cluster) and the
 * database of this run (schema). */
typedef struct w1_target {
    int backend;
    char path[4096];
    const char *conninfo;
    char schema[64];
} w1_target;

/* ---- small utilities ---- */

static void w1_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("w1: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(3);
}

static void *w1_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        w1_die("out of memory (%zu bytes)", n);
    return p;
}

static double w1_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: the client's work, SQLite's included. */
static double w1_cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of another local process (a PostgreSQL backend), from the
 * scheduler's nanosecond account; -1 when it cannot be read. */
static double w1_task_cpu(long pid) {
    char path[64];
    unsigned long long ns;
    snprintf(path, sizeof path, "/proc/%ld/schedstat", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    int ok = f && fscanf(f, "%llu", &ns) == 1;
    if (f)
        fclose(f);
    return ok ? (double)ns * 1e-9 : -1;
}

static long w1_rss_now_kb(void) {
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static long w1_rss_peak_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Growable text, for SQL and array literals. */
typedef struct w1_buf {
    char *p;
    size_t len, cap;
} w1_buf;

static void w1_buf_addf(w1_buf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            w1_die("formatting failed");
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            w1_die("out of memory");
        b->p = p, b->cap = cap;
    }
}

/* The ids between open and close, comma-separated, in b (reset first):
 * "{1,2,3}" is a PostgreSQL array literal, "[1,2,3]" a JSON array. */
static inline const char *w1_id_list(w1_buf *b, const int64_t *ids, size_t n, char open,
                                     char close) {
    b->len = 0;
    w1_buf_addf(b, "%c", open);
    for (size_t i = 0; i < n; i++)
        w1_buf_addf(b, i ? ",%" PRId64 : "%" PRId64, ids[i]);
    w1_buf_addf(b, "%c", close);
    return b->p;
}

/* ---- the CHECK query ---- */

/* W1's CHECK as written, for SQLite. */
static const char w1_check_sqlite[] =
    "SELECT count(*), coalesce(sum(user_id*1009+role_id),0),"
    " coalesce(sum(granted_by='upd'),0),"
    " coalesce(sum(((user_id*1009+role_id)*(user_id*1009+role_id)) % 1000000007),0),"
    " coalesce(sum(granted_by='seed'),0), coalesce(sum(granted_by='sync'),0),"
    " coalesce(sum(granted_by='toggle'),0), coalesce(sum(granted_by IS NULL),0)"
    " FROM role_user";

/* The same query in PostgreSQL's spelling: booleans are summed as integers
 * and the products are computed in bigint (they overflow INTEGER). */
static const char w1_check_pg[] =
    "SELECT count(*), coalesce(sum(user_id::bigint*1009+role_id),0),"
    " coalesce(sum((granted_by='upd')::int),0),"
    " coalesce(sum(((user_id::bigint*1009+role_id)*(user_id::bigint*1009+role_id))"
    " % 1000000007),0),"
    " coalesce(sum((granted_by='seed')::int),0), "
    "coalesce(sum((granted_by='sync')::int),0),"
    " coalesce(sum((granted_by='toggle')::int),0),"
    " coalesce(sum((granted_by IS NULL)::int),0)"
    " FROM role_user";

/* Expected CHECK values from W1.md, for the U they are given at. */
static const int64_t w1_expect_2000[5][W1_NCHECK] = {
    {100000, 101000500000, 0, 49540999969166, 100000, 0, 0, 0},
    {100000, 101000500000, 0, 49751730971637, 50000, 50000, 0, 0},
    {100000, 101000500000, 0, 49807982721637, 50000, 40000, 10000, 0},
    {100000, 101000500000, 10000, 49807982721637, 40000, 40000, 10000, 0},
    {0, 0, 0, 0, 0, 0, 0, 0}};
static const int64_t w1_expect_200[5][W1_NCHECK] = {
    {10000, 1019102000, 0, 4721560023496, 10000, 0, 0, 0},
    {10000, 1019281000, 0, 4653812284768, 5000, 5000, 0, 0},
    {10000, 1019260000, 0, 4661582133831, 5000, 4000, 1000, 0},
    {10000, 1019260000, 1000, 4661582133831, 4000, 4000, 1000, 0},
    {0, 0, 0, 0, 0, 0, 0, 0}};

/* Row of the tables above for a checked phase. */
static int w1_expect_row(int p) { return p == W1_P7 ? 4 : p; }

/* ---- SQLite set-up and checks (raw libsqlite3) ---- */

static void w1_sq_exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        w1_die("sqlite: %s: %s", sql, err ? err : sqlite3_errmsg(db));
}

static sqlite3 *w1_sq_open(const char *path) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        w1_die("sqlite: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
    sqlite3_busy_timeout(db, 5000);
    w1_sq_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   " PRAGMA foreign_keys=ON");
    return db;
}

static sqlite3_stmt *w1_sq_prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK)
        w1_die("sqlite: prepare %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

/* Schema and data of W1 (untimed). Idempotent on a database that already
 * holds them; role_user must be empty. */
static void w1_sq_setup(const char *path, const w1_case *c) {
    sqlite3 *db = w1_sq_open(path);
    w1_sq_exec(db, "CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, name TEXT);"
                   "CREATE TABLE IF NOT EXISTS roles(id INTEGER PRIMARY KEY, name TEXT);"
                   "CREATE TABLE IF NOT EXISTS role_user("
                   " user_id INTEGER NOT NULL REFERENCES users,"
                   " role_id INTEGER NOT NULL REFERENCES roles,"
                   " granted_by TEXT, PRIMARY KEY(user_id, role_id));"
                   "BEGIN");
    sqlite3_stmt *st =
        w1_sq_prepare(db, "INSERT OR IGNORE INTO users VALUES(?1, 'user' || ?1)");
    for (int64_t i = 1; i <= c->users; i++) {
        sqlite3_bind_int64(st, 1, i);
        if (sqlite3_step(st) != SQLITE_DONE)
            w1_die("sqlite: insert user: %s", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = w1_sq_prepare(db, "INSERT OR IGNORE INTO roles VALUES(?1, 'role' || ?1)");
    for (int64_t i = 1; i <= c->roles; i++) {
        sqlite3_bind_int64(st, 1, i);
        if (sqlite3_step(st) != SQLITE_DONE)
            w1_die("sqlite: insert role: %s", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    w1_sq_exec(db, "COMMIT; ANALYZE users; ANALYZE roles");
    st = w1_sq_prepare(db, "SELECT count(*) FROM role_user");
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) != 0)
        w1_die("sqlite: %s: role_user is not empty", path);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void w1_sq_check(sqlite3 *db, int64_t out[W1_NCHECK]) {
    sqlite3_stmt *st = w1_sq_prepare(db, w1_check_sqlite);
    if (sqlite3_step(st) != SQLITE_ROW)
        w1_die("sqlite: check: %s", sqlite3_errmsg(db));
    for (int i = 0; i < W1_NCHECK; i++)
        out[i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);
}

#ifdef W1_HAVE_PG
/* ---- PostgreSQL set-up and checks (raw libpq) ---- */

static void w1_pg_exec(PGconn *pg, const char *sql) {
    PGresult *r = PQexec(pg, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        w1_die("pg: %s: %s", sql, PQerrorMessage(pg));
    PQclear(r);
}

/* A connection whose search_path is the run's schema. */
static PGconn *w1_pg_connect(const w1_target *t) {
    PGconn *pg = PQconnectdb(t->conninfo);
    if (PQstatus(pg) != CONNECTION_OK)
        w1_die("pg: cannot connect: %s", PQerrorMessage(pg));
    char sql[128];
    snprintf(sql, sizeof sql, "SET search_path TO %s", t->schema);
    w1_pg_exec(pg, sql);
    return pg;
}

static int w1_pg_serial;

/* A fresh schema holding W1's tables and data (untimed). */
static void w1_pg_setup(w1_target *t, const w1_case *c) {
    snprintf(t->schema, sizeof t->schema, "w1_%ld_%d", (long)getpid(), ++w1_pg_serial);
    PGconn *pg = PQconnectdb(t->conninfo);
    if (PQstatus(pg) != CONNECTION_OK)
        w1_die("pg: cannot connect: %s", PQerrorMessage(pg));
    w1_buf b = {0};
    w1_buf_addf(
        &b,
        "SET client_min_messages=warning; DROP SCHEMA IF EXISTS %s CASCADE;"
        " CREATE SCHEMA %s; SET search_path TO %s;"
        " CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
        " CREATE TABLE roles(id INTEGER PRIMARY KEY, name TEXT);"
        " CREATE TABLE role_user("
        "  user_id INTEGER NOT NULL REFERENCES users,"
        "  role_id INTEGER NOT NULL REFERENCES roles,"
        "  granted_by TEXT, PRIMARY KEY(user_id, role_id));"
        " INSERT INTO users SELECT g, 'user' || g FROM generate_series(1, %" PRId64 ") g;"
        " INSERT INTO roles SELECT g, 'role' || g FROM generate_series(1, %" PRId64 ") g;"
        " ANALYZE users; ANALYZE roles",
        t->schema, t->schema, t->schema, c->users, c->roles);
    w1_pg_exec(pg, b.p);
    free(b.p);
    PQfinish(pg);
}

static void w1_pg_teardown(const w1_target *t) {
    PGconn *pg = PQconnectdb(t->conninfo);
    if (PQstatus(pg) != CONNECTION_OK)
        w1_die("pg: cannot connect: %s", PQerrorMessage(pg));
    char sql[160];
    snprintf(sql, sizeof sql, "SET client_min_messages=warning; DROP SCHEMA %s CASCADE",
             t->schema);
    w1_pg_exec(pg, sql);
    PQfinish(pg);
}

static void w1_pg_check(PGconn *pg, int64_t out[W1_NCHECK]) {
    PGresult *r = PQexec(pg, w1_check_pg);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        w1_die("pg: check: %s", PQerrorMessage(pg));
    for (int i = 0; i < W1_NCHECK; i++)
        out[i] = strtoll(PQgetvalue(r, 0, i), NULL, 10);
    PQclear(r);
}
#else
/* Built without libpq: the PostgreSQL runs are refused where they start. */
typedef struct w1_nopg PGconn;
static void w1_pg_nopg(void) { w1_die("pg: this w1 is built without libpq"); }
static PGconn *w1_pg_connect(const w1_target *t) {
    (void)t;
    w1_pg_nopg();
    return NULL;
}
static void w1_pg_setup(w1_target *t, const w1_case *c) {
    (void)t, (void)c;
    w1_pg_nopg();
}
static void w1_pg_teardown(const w1_target *t) { (void)t; }
static void w1_pg_check(PGconn *pg, int64_t out[W1_NCHECK]) {
    (void)pg, (void)out;
    w1_pg_nopg();
}
static void PQfinish(PGconn *pg) { (void)pg; }
#endif /* W1_HAVE_PG */

/* ---- one implementation, behind a small table of functions ---- */

typedef struct w1_impl {
    const char *name;
    int backend;
    /* Connect to the prepared database of t; w1_die on failure. */
    void *(*open)(const w1_target *t, const w1_case *c);
    /* Run phase p over all users; store statements executed, client-server
     * round trips (0 in process) and rows seen. */
    void (*phase)(void *h, const w1_case *c, int p, uint64_t *stmts, uint64_t *trips,
                  int64_t *rows);
    void (*close)(void *h);
    /* Free text for the IMPL line. */
    void (*describe)(void *h, char *buf, size_t size);
    /* Process id of the server backend serving h; NULL in process. */
    long (*server_pid)(void *h);
} w1_impl;

#endif /* M2M_BENCH_W1_H */
