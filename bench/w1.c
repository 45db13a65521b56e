/* SPDX-License-Identifier: MIT */
/*
 * w1 — workload W1 (shared/bench/W1.md) through the m2m API and through
 * hand-written raw-SQL baselines, on SQLite, PostgreSQL and MariaDB.
 *
 *   w1 [--runs R] BACKEND TARGET [U]        compare (default): every
 *        implementation R times (5), interleaved, each on a fresh database;
 *        median seconds per phase, m2m/best-baseline ratios, statements,
 *        checksums. Exit 1 when checksums or row counts differ.
 *   w1 --impl NAME BACKEND TARGET [U]       one implementation, printing the
 *        W1 output protocol (IMPL/PHASE/CHECK lines).
 *        --phases P1,P2,... runs only those phases (in order; for profiling).
 *        --cpu adds "CPU <phase> <client s> <server backend s or ->" lines.
 *   w1 --scale BACKEND TARGET               P1/P2/P6 at U = 200, 2000, 20000
 *        and for one parent with 1,000,000 related ids; time and peak RSS of
 *        each phase, each phase in its own process.
 *
 * BACKEND is sqlite, pg or mariadb. TARGET: for sqlite a database file
 * (compare and scale recreate it for every run) or "-" for a file in a fresh
 * temporary directory; for pg a libpq conninfo or "-" for $M2M_TEST_PG; for
 * mariadb a mariadb:// URL, "-" for $M2M_TEST_MARIADB, several URLs joined
 * by ',' (a Galera cluster: user u is written on node u mod n, reads use
 * causal reads), or "galera" for $M2M_TEST_GALERA_1.._3; every run gets a
 * fresh schema (database), dropped afterwards. NAME: m2m, raw, raw-set (not
 * on sqlite).
 * Exit codes: 0 ok, 1 checksum mismatch, 2 usage, 3 error.
 */
#include "w1.h"
#include "w1_m2m.h"
#include "w1_print.h"
#include "w1_raw_mariadb.h"
#include "w1_raw_pg.h"
#include "w1_raw_sqlite.h"

#include <m2m.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const w1_impl *const w1_impls_sqlite[] = {&w1_m2m_sqlite, &w1_raw_sqlite};
#ifdef W1_HAVE_MARIADB
static const w1_impl *const w1_impls_my[] = {&w1_m2m_my, &w1_raw_my, &w1_raw_my_set};
#else /* never run: "mariadb" is refused on the command line */
static const w1_impl *const w1_impls_my[] = {&w1_m2m_my, &w1_m2m_my, &w1_m2m_my};
#define w1_raw_my_set w1_m2m_my
#endif
#ifdef W1_HAVE_PG
static const w1_impl *const w1_impls_pg[] = {&w1_m2m_pg, &w1_raw_pg, &w1_raw_pg_set};
#else /* never run: "pg" is refused on the command line */
static const w1_impl *const w1_impls_pg[] = {&w1_m2m_pg, &w1_m2m_pg, &w1_m2m_pg};
#define w1_raw_pg_set w1_m2m_pg
#endif

/* ---- runs ---- */

typedef struct w1_opts {
    int backend;
    const char *target; /* path, conninfo, or "-" */
    int fresh_dir;      /* sqlite: a new temp dir per run */
    int recreate;       /* sqlite: remove the file before each run */
    int cpu;            /* single mode: also print CPU lines */
} w1_opts;

static int w1_is_sqlite_file(const char *path) {
    char head[16] = {0};
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == 0 || (n == 16 && memcmp(head, "SQLite format 3", 16) == 0);
}

static void w1_sq_remove(const char *path) {
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[4200];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            w1_die("cannot remove %s: %s", p, strerror(errno));
    }
}

/* Make the fresh database of one run; fills t. */
static void w1_prepare(const w1_opts *o, const w1_case *c, w1_target *t) {
    memset(t, 0, sizeof *t);
    t->backend = o->backend;
    if (o->backend == W1_PG) {
        t->conninfo = o->target;
        w1_pg_setup(t, c);
        return;
    }
    if (o->backend == W1_MARIADB) {
        t->conninfo = o->target;
        w1_my_setup(t, c);
        return;
    }
    if (o->fresh_dir) {
        const char *tmp = getenv("TMPDIR");
        char dir[4000];
        snprintf(dir, sizeof dir, "%s/w1-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL)
            w1_die("mkdtemp %s: %s", dir, strerror(errno));
        snprintf(t->path, sizeof t->path, "%s/w1.db", dir);
    } else {
        snprintf(t->path, sizeof t->path, "%s", o->target);
        if (o->recreate) {
            if (!w1_is_sqlite_file(t->path) && access(t->path, F_OK) == 0)
                w1_die("%s exists and is not a SQLite database; not overwriting",
                       t->path);
            w1_sq_remove(t->path);
        }
    }
    w1_sq_setup(t->path, c);
}

static void w1_cleanup(const w1_opts *o, const w1_target *t) {
    if (o->backend == W1_PG) {
        w1_pg_teardown(t);
    } else if (o->backend == W1_MARIADB) {
        w1_my_teardown(t);
    } else if (o->fresh_dir) {
        w1_sq_remove(t->path);
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", t->path);
        char *slash = strrchr(dir, '/');
        if (slash != NULL) {
            *slash = '\0';
            rmdir(dir);
        }
    }
}

static void w1_print_check(const char *phase, const int64_t v[W1_NCHECK]) {
    printf("CHECK %s", phase);
    for (int i = 0; i < W1_NCHECK; i++)
        printf(" %" PRId64, v[i]);
    printf("\n");
}

/* One implementation over the phases of c on a fresh database. With proto,
 * print the W1 output protocol as it goes. */
static void w1_run(const w1_impl *im, const w1_opts *o, const w1_case *c, w1_result *res,
                   int proto) {
    w1_target t;
    memset(res, 0, sizeof *res);
    w1_prepare(o, c, &t);
    sqlite3 *csq = NULL;
    PGconn *cpg = NULL;
    MYSQL *cmy = NULL;
    if (o->backend == W1_SQLITE)
        csq = w1_sq_open(t.path);
    else if (o->backend == W1_MARIADB)
        cmy = w1_my_connect(&t);
    else
        cpg = w1_pg_connect(&t);
    void *h = im->open(&t, c);
    if (proto) {
        char desc[512];
        im->describe(h, desc, sizeof desc);
        printf("IMPL %s %s\n", im->name, desc);
        fflush(stdout);
    }
    for (int p = 0; p < W1_NPHASES; p++) {
        if (!(c->phases & (1u << p)))
            continue;
        long spid = im->server_pid ? im->server_pid(h) : 0;
        double s0 = w1_task_cpu(spid), c0 = w1_cpu_now(), t0 = w1_now();
        im->phase(h, c, p, &res->stmts[p], &res->trips[p], &res->rows[p]);
        res->sec[p] = w1_now() - t0;
        res->cpu[p] = w1_cpu_now() - c0;
        double s1 = w1_task_cpu(spid);
        res->srv[p] = s0 >= 0 && s1 >= 0 ? s1 - s0 : -1;
        if (proto) {
            if (res->rows[p] >= 0)
                printf("PHASE %s %.6f %" PRIu64 " %" PRId64 "\n", w1_phase_name[p],
                       res->sec[p], res->stmts[p], res->rows[p]);
            else
                printf("PHASE %s %.6f %" PRIu64 " -\n", w1_phase_name[p], res->sec[p],
                       res->stmts[p]);
            if (o->cpu && res->srv[p] >= 0)
                printf("CPU %s %.6f %.6f\n", w1_phase_name[p], res->cpu[p], res->srv[p]);
            else if (o->cpu)
                printf("CPU %s %.6f -\n", w1_phase_name[p], res->cpu[p]);
        }
        if (w1_checked[p]) {
            if (csq)
                w1_sq_check(csq, res->check[p]);
            else if (cmy)
                w1_my_check(cmy, res->check[p]);
            else
                w1_pg_check(cpg, res->check[p]);
            res->checked[p] = 1;
            if (proto)
                w1_print_check(w1_phase_name[p], res->check[p]);
        }
        if (proto)
            fflush(stdout);
    }
    im->close(h);
    sqlite3_close(csq);
    if (cpg)
        PQfinish(cpg);
    if (cmy)
        mysql_close(cmy);
    w1_cleanup(o, &t);
}

/* Checks of a W1 run against W1.md: row counts, and the expected checksums
 * when U is one W1.md lists. Returns the number of differences. */
static int w1_verify_expected(const w1_case *c, const w1_result *r, const char *who) {
    int bad = 0;
    if (c->phases != (1u << W1_NPHASES) - 1)
        return 0; /* a subset of the phases leaves other states */
    const int64_t(*exp)[W1_NCHECK] = c->users == 2000  ? w1_expect_2000
                                     : c->users == 200 ? w1_expect_200
                                                       : NULL;
    for (int p = 0; p < W1_NPHASES; p++) {
        if (!(c->phases & (1u << p)))
            continue;
        if (exp && r->checked[p] &&
            memcmp(exp[w1_expect_row(p)], r->check[p], sizeof r->check[p]) != 0) {
            fprintf(stderr, "w1: %s: CHECK %s differs from W1.md\n", who,
                    w1_phase_name[p]);
            bad++;
        }
        int64_t want = p == W1_P5 ? 20 * c->users : p == W1_P6 ? 50 * c->users : -1;
        if (want >= 0 && r->rows[p] != want) {
            fprintf(stderr, "w1: %s: %s saw %" PRId64 " rows, W1 says %" PRId64 "\n", who,
                    w1_phase_name[p], r->rows[p], want);
            bad++;
        }
    }
    return bad;
}

/* Compare mode: all implementations of the backend, runs times, interleaved. */
static int w1_compare(const w1_opts *o, int64_t users, int runs) {
    const w1_impl *const *impls = o->backend == W1_SQLITE ? w1_impls_sqlite
                                  : o->backend == W1_PG   ? w1_impls_pg
                                                          : w1_impls_my;
    int nimpl = o->backend == W1_SQLITE ? 2 : 3;
    w1_case c = {
        .users = users, .roles = 1000, .big = 0, .phases = (1u << W1_NPHASES) - 1};
    w1_result *res = calloc((size_t)(runs * nimpl), sizeof *res);
    if (res == NULL)
        w1_die("out of memory");
    int bad = 0;
    for (int r = 0; r < runs; r++)
        for (int i = 0; i < nimpl; i++) {
            w1_result *x = &res[r * nimpl + i];
            w1_run(impls[i], o, &c, x, 0);
            char who[64];
            snprintf(who, sizeof who, "%s run %d", impls[i]->name, r + 1);
            bad += w1_verify_expected(&c, x, who);
            for (int p = 0; p < W1_NPHASES; p++) {
                if (x->checked[p] &&
                    memcmp(x->check[p], res[0].check[p], sizeof x->check[p]) != 0) {
                    fprintf(stderr, "w1: %s: CHECK %s differs from m2m run 1\n", who,
                            w1_phase_name[p]);
                    bad++;
                }
                if (x->rows[p] != res[0].rows[p]) {
                    fprintf(stderr, "w1: %s: %s rows differ from m2m run 1\n", who,
                            w1_phase_name[p]);
                    bad++;
                }
            }
        }

    const char *be = w1_backend_name(o->backend);
    double med[W1_MAX_IMPLS][W1_NPHASES];
    double *tmp = w1_xmalloc((size_t)runs * sizeof *tmp);
    for (int i = 0; i < nimpl; i++)
        for (int p = 0; p < W1_NPHASES; p++) {
            for (int r = 0; r < runs; r++)
                tmp[r] = res[r * nimpl + i].sec[p];
            med[i][p] = w1_median(tmp, runs);
        }
    free(tmp);

    printf("W1 %s U=%" PRId64 " runs=%d: median seconds per phase\n", be, users, runs);
    printf("%-5s", "phase");
    for (int i = 0; i < nimpl; i++)
        printf(" %10s", impls[i]->name);
    printf(" %9s", "m2m/best");
    if (nimpl > 2)
        printf(" %9s", "m2m/raw");
    printf("  stmts:");
    for (int i = 0; i < nimpl; i++)
        printf(" %9s", impls[i]->name);
    printf(" %8s", "rows");
    if (o->backend == W1_PG)
        printf(" %12s", "trips:m2m");
    printf("\n");
    for (int p = 0; p < W1_NPHASES; p++) {
        w1_print_values((const double(*)[W1_NPHASES])med, nimpl, p);
        if (nimpl > 2)
            printf(" %8.2fx", med[0][p] / med[1][p]);
        printf("        ");
        for (int i = 0; i < nimpl; i++)
            printf(" %9" PRIu64, res[i].stmts[p]);
        if (res[0].rows[p] >= 0)
            printf(" %8" PRId64, res[0].rows[p]);
        else
            printf(" %8s", "-");
        if (o->backend == W1_PG)
            printf(" %12" PRIu64, res[0].trips[p]);
        printf("\n");
    }
    for (int p = 0; p < W1_NPHASES; p++)
        for (int i = 0; i < nimpl; i++)
            printf("RESULT %s %" PRId64 " %s %s %.6f %" PRIu64 " %" PRIu64 "\n", be,
                   users, w1_phase_name[p], impls[i]->name, med[i][p], res[i].stmts[p],
                   res[i].trips[p]);
    w1_print_cpu(res, impls, nimpl, runs, be, users);
    for (int p = 0; p < W1_NPHASES; p++)
        if (res[0].checked[p])
            w1_print_check(w1_phase_name[p], res[0].check[p]);
    if (bad)
        printf("checksums: MISMATCH (%d differences, see stderr)\n", bad);
    else
        printf("checksums: equal across %d implementations x %d runs%s\n", nimpl, runs,
               users == 2000 || users == 200 ? ", and equal to W1.md" : "");
    free(res);
    return bad ? 1 : 0;
}

/* Single-implementation mode: the W1 output protocol. */
static int w1_single(const w1_opts *o, const char *name, int64_t users, unsigned phases) {
    const w1_impl *const *impls = o->backend == W1_SQLITE ? w1_impls_sqlite
                                  : o->backend == W1_PG   ? w1_impls_pg
                                                          : w1_impls_my;
    int nimpl = o->backend == W1_SQLITE ? 2 : 3;
    const w1_impl *im = NULL;
    for (int i = 0; i < nimpl; i++)
        if (strcmp(impls[i]->name, name) == 0)
            im = impls[i];
    if (im == NULL) {
        fprintf(stderr, "w1: no implementation %s on %s\n", name,
                w1_backend_name(o->backend));
        return 2;
    }
    w1_case c = {.users = users, .roles = 1000, .big = 0, .phases = phases};
    w1_result res;
    w1_run(im, o, &c, &res, 1);
    return w1_verify_expected(&c, &res, im->name) ? 1 : 0;
}

/* ---- scale mode ---- */

typedef struct w1_scale_out {
    double sec;
    uint64_t stmts;
    int64_t rows;
    long rss_before, rss_peak;
} w1_scale_out;

/* Run phase p of c on t in a child process, so that its peak RSS is its own. */
static void w1_phase_in_child(const w1_impl *im, const w1_target *t, const w1_case *c,
                              int p, w1_scale_out *out) {
    int fd[2];
    if (pipe(fd) != 0)
        w1_die("pipe: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        w1_die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        w1_scale_out o = {0};
        uint64_t trips;
        void *h = im->open(t, c);
        o.rss_before = w1_rss_now_kb();
        double t0 = w1_now();
        im->phase(h, c, p, &o.stmts, &trips, &o.rows);
        o.sec = w1_now() - t0;
        o.rss_peak = w1_rss_peak_kb();
        im->close(h);
        if (write(fd[1], &o, sizeof o) != (ssize_t)sizeof o)
            _exit(3);
        _exit(0);
    }
    close(fd[1]);
    ssize_t n = read(fd[0], out, sizeof *out);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n != (ssize_t)sizeof *out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        w1_die("%s %s failed in its child process", im->name, w1_phase_name[p]);
}

static int w1_scale(const w1_opts *o) {
    const w1_impl *impls[2];
    impls[0] = o->backend == W1_SQLITE ? &w1_m2m_sqlite
               : o->backend == W1_PG   ? &w1_m2m_pg
                                       : &w1_m2m_my;
    impls[1] = o->backend == W1_SQLITE ? &w1_raw_sqlite
               : o->backend == W1_PG   ? &w1_raw_pg_set
                                       : &w1_raw_my_set;
    const unsigned ph = (1u << W1_P1) | (1u << W1_P2) | (1u << W1_P6);
    const w1_case cases[] = {
        {200, 1000, 0, ph},
        {2000, 1000, 0, ph},
        {20000, 1000, 0, ph},
        {1, W1_BIG_N + W1_BIG_N / 2, 1, ph},
    };
    const char *be = w1_backend_name(o->backend);
    printf("W1 scale on %s: P1/P2/P6, one run each, every phase in its own process\n",
           be);
    printf("%-10s %-8s %-5s %10s %9s %9s %9s %11s %11s\n", "case", "impl", "phase",
           "seconds", "us/id", "stmts", "rows", "rss0 KiB", "peak KiB");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const w1_case *c = &cases[k];
        char cname[32];
        if (c->big)
            snprintf(cname, sizeof cname, "1x%d", W1_BIG_N);
        else
            snprintf(cname, sizeof cname, "U=%" PRId64, c->users);
        for (int i = 0; i < 2; i++) {
            w1_target t;
            w1_prepare(o, c, &t);
            for (int p = 0; p < W1_NPHASES; p++) {
                if (!(ph & (1u << p)))
                    continue;
                w1_scale_out r;
                w1_phase_in_child(impls[i], &t, c, p, &r);
                double ids = c->big ? (double)W1_BIG_N : (double)c->users * W1_PER_USER;
                printf("%-10s %-8s %-5s %10.4f %9.3f %9" PRIu64 " %9" PRId64
                       " %11ld %11ld\n",
                       cname, impls[i]->name, w1_phase_name[p], r.sec, r.sec * 1e6 / ids,
                       r.stmts, r.rows, r.rss_before, r.rss_peak);
                printf("SCALE %s %s %s %s %.6f %" PRIu64 " %" PRId64 " %ld %ld\n", be,
                       cname, impls[i]->name, w1_phase_name[p], r.sec, r.stmts, r.rows,
                       r.rss_before, r.rss_peak);
                fflush(stdout);
            }
            w1_cleanup(o, &t);
        }
    }
    return 0;
}

/* ---- main ---- */

static int w1_usage(void) {
    fprintf(stderr, "usage: w1 [--runs R] sqlite|pg|mariadb TARGET [U]\n"
                    "       w1 --impl m2m|raw|raw-set [--phases P1,P2,..] [--cpu] "
                    "sqlite|pg|mariadb TARGET [U]\n"
                    "       w1 --scale sqlite|pg|mariadb TARGET\n"
                    "TARGET: sqlite database file or '-' (fresh temp dir);"
                    " pg conninfo or '-' ($M2M_TEST_PG);\n"
                    "        mariadb URL, '-' ($M2M_TEST_MARIADB), URL,URL,... (a"
                    " cluster) or 'galera' ($M2M_TEST_GALERA_1.._3)\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *impl = NULL;
    int runs = 5, scale = 0, cpu = 0, i = 1;
    unsigned phases = (1u << W1_NPHASES) - 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc)
            impl = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--phases") == 0 && i + 1 < argc) {
            phases = 0;
            for (const char *s = argv[++i]; *s; s++)
                if (*s >= '1' && *s <= '7' && s > argv[i] && s[-1] == 'P')
                    phases |= 1u << (*s - '1');
            if (phases == 0)
                return w1_usage();
        } else if (strcmp(argv[i], "--scale") == 0)
            scale = 1;
        else if (strcmp(argv[i], "--cpu") == 0)
            cpu = 1;
        else
            return w1_usage();
    }
    if (argc - i < 2 || argc - i > 3 || runs < 1)
        return w1_usage();
    w1_opts o = {.cpu = cpu};
    if (strcmp(argv[i], "sqlite") == 0)
        o.backend = W1_SQLITE;
    else if (strcmp(argv[i], "pg") == 0) {
#ifndef W1_HAVE_PG
        w1_die("pg: this w1 is built without libpq");
#endif
        o.backend = W1_PG;
    } else if (strcmp(argv[i], "mariadb") == 0) {
#ifndef W1_HAVE_MARIADB
        w1_die("mariadb: this w1 is built without libmariadb");
#endif
        o.backend = W1_MARIADB;
    } else
        return w1_usage();
    o.target = argv[i + 1];
    int64_t users = 2000;
    if (argc - i == 3) {
        char *end;
        users = strtoll(argv[i + 2], &end, 10);
        if (*end != '\0' || users < 1 || users > 30000)
            return w1_usage();
    }
    if (o.backend == W1_PG && strcmp(o.target, "-") == 0) {
        o.target = getenv("M2M_TEST_PG");
        if (o.target == NULL || *o.target == '\0')
            w1_die("TARGET '-' needs M2M_TEST_PG (a libpq conninfo); it is not set");
    }
    static char nodes[3 * 1100];
    if (o.backend == W1_MARIADB && strcmp(o.target, "-") == 0) {
        o.target = getenv("M2M_TEST_MARIADB");
        if (o.target == NULL || *o.target == '\0')
            w1_die("TARGET '-' needs M2M_TEST_MARIADB (a mariadb:// URL); it is not set");
    } else if (o.backend == W1_MARIADB && strcmp(o.target, "galera") == 0) {
        const char *v[3] = {getenv("M2M_TEST_GALERA_1"), getenv("M2M_TEST_GALERA_2"),
                            getenv("M2M_TEST_GALERA_3")};
        if (!v[0] || !v[1] || !v[2])
            w1_die(
                "TARGET 'galera' needs M2M_TEST_GALERA_1.._3 (scripts/with-galera.sh)");
        snprintf(nodes, sizeof nodes, "%.1000s,%.1000s,%.1000s", v[0], v[1], v[2]);
        o.target = nodes;
    }
    if (o.backend == W1_SQLITE) {
        o.fresh_dir = strcmp(o.target, "-") == 0;
        o.recreate = !o.fresh_dir && impl == NULL;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (scale)
        return w1_scale(&o);
    if (impl != NULL)
        return w1_single(&o, impl, users, phases);
    return w1_compare(&o, users, runs);
}
