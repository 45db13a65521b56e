/* SPDX-License-Identifier: MIT */
/* m2m_tests: runs the registered tests on one backend, each in its own child
 * process on a fresh database, so a crash, an abort, a leak found at exit or
 * a hang fails that test (named, with the signal or the timeout) and the run
 * goes on. `m2m_tests --help` lists the options.
 *
 * Nothing passes by not running: a test skipped at run time fails the run,
 * a test that does not apply to a backend declares it (TEST_ONLY in
 * test.h), a pattern that selects no test fails, and the PostgreSQL and
 * MariaDB suites without M2M_TEST_PG / M2M_TEST_MARIADB fail rather than
 * skipping. */
#include "test.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct t_entry {
    const char *name;
    t_fn fn;
    const char *file;
    unsigned backends;
} t_entry;

/* What a child tells its parent beyond its exit status, in memory shared
 * across fork: a test whose process exits 0 passed only if its body ran to
 * the end. */
typedef struct t_report {
    int body_done;
    int skipped;
    char reason[512];
} t_report;

enum { T_PASS, T_FAIL, T_SKIP };

static t_entry *t_entries;
static size_t t_count, t_cap;
static bool t_registry_full;
const char *t_backend = "sqlite";
static unsigned t_mask = T_ON_sqlite;
static const char *t_pg_base;
static const char *t_my_base; /* mariadb://user:pw@host:port/db */
/* --backend galera: the suite on MariaDB with each connection on the next
 * node of the cluster (M2M_TEST_GALERA_1.._3) */
static bool t_galera;
static const char *t_nodes_base[3];
static int t_next_node; /* the node t_open connects to next */
static char t_dir[256];
static char t_cur_url[1024];
static char t_schema[64];
static m2m_db *t_cur_db;
static unsigned t_seq;
static long t_run_pid;
static t_report *t_rep;
static const t_entry *t_cur;
static volatile sig_atomic_t t_child_pid;

/* cmocka turns these signals into a test failure and carries on; a test's
 * own process must instead die of them (or let a sanitizer report them),
 * so the body runs with the handlers the process had before cmocka. */
static const int t_crash_sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGSYS};
static struct sigaction t_crash_act[sizeof t_crash_sigs / sizeof t_crash_sigs[0]];

void t_register(const char *name, t_fn fn, const char *file, unsigned backends) {
    if (t_count == t_cap) {
        size_t cap = t_cap ? 2 * t_cap : 256;
        t_entry *e = realloc(t_entries, cap * sizeof *e);
        if (!e) {
            t_registry_full = true; /* reported by main: no test is dropped silently */
            return;
        }
        t_entries = e;
        t_cap = cap;
    }
    t_entries[t_count++] = (t_entry){name, fn, file, backends};
}

/* tests/x.c rather than the absolute path the build gives __FILE__. */
static const char *t_rel(const char *file) {
    const char *p = file, *q;
    while ((q = strstr(p, "/tests/")))
        p = q + 1;
    return p;
}

void t_skip_at(const char *file, int line, const char *fmt, ...) {
    if (t_rep) {
        int n =
            snprintf(t_rep->reason, sizeof t_rep->reason, "%s:%d: ", t_rel(file), line);
        va_list ap;
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof t_rep->reason)
            vsnprintf(t_rep->reason + n, sizeof t_rep->reason - (size_t)n, fmt, ap);
        va_end(ap);
        t_rep->skipped = 1;
    }
    _skip(file, line);
}

m2m_db *t_db(void) { return t_cur_db; }
const char *t_url(void) { return t_cur_url; }

int t_nodes(void) { return t_galera ? 3 : 1; }

/* The base URL with its database replaced by the test's own. */
static void t_my_url(char *out, size_t n, const char *base) {
    const char *slash = strrchr(base, '/');
    int len = slash ? (int)(slash - base) : (int)strlen(base);
    snprintf(out, n, "%.*s/%s", len, base, t_schema);
}

/* The test's database on a node. Every statement of the suite's
 * connections waits until the node has applied all the cluster committed
 * before (wsrep_sync_wait=15: reads, and writes too, so a test's reset of
 * its tables on one node does not run ahead of a write made on another), as
 * the tests expect a write acknowledged on one connection to be seen by the
 * next; the cluster's own tests open plain connections with t_node_url. */
static void t_galera_url(char *out, size_t n, int node, bool causal) {
    t_my_url(out, n, t_nodes_base[node]);
    if (causal)
        snprintf(out + strlen(out), n - strlen(out), "?wsrep_sync_wait=15");
}

const char *t_node_url(int node) {
    static char url[3][1024];
    if (!t_galera)
        return t_cur_url;
    node = ((node % 3) + 3) % 3;
    t_galera_url(url[node], sizeof url[node], node, false);
    return url[node];
}

/* Waits until every node has applied what node 1 committed (the test's
 * database among it): a causal read on each. */
static int t_galera_sync(void) {
    for (int i = 0; i < 3; i++) {
        char url[1100];
        snprintf(url, sizeof url, "%s?wsrep_sync_wait=1", t_nodes_base[i]);
        m2m_db *db = NULL;
        int rc = m2m_open(url, &db);
        m2m_rows *rows = NULL;
        if (rc == M2M_OK && (rc = m2m_sql(db, "SELECT 1", NULL, 0, &rows)) == M2M_OK)
            m2m_rows_free(rows);
        if (rc != M2M_OK)
            fprintf(stderr, "node %d: %s\n", i + 1, m2m_errmsg(db));
        m2m_close(db);
        if (rc != M2M_OK)
            return -1;
    }
    return 0;
}

int t_node_ctl(const char *action, int node) {
    const char *ctl = getenv("M2M_TEST_GALERA_NODE");
    if (!t_galera || !ctl)
        fail_msg("t_node_ctl: not on a cluster (m2m_tests --backend galera)");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' %s %d", ctl, action, node % 3 + 1);
    fflush(NULL);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

m2m_db *t_open(void) {
    m2m_db *db = NULL;
    char url[1100];
    if (t_galera)
        t_galera_url(url, sizeof url, t_next_node++ % 3, true);
    else
        snprintf(url, sizeof url, "%s", t_cur_url);
    int rc = m2m_open(url, &db);
    if (rc != M2M_OK)
        fail_msg("open %s: %s", url, m2m_errname(rc));
    return db;
}

/* The tests' DDL on MariaDB: a TEXT column cannot be a key there without a
 * prefix length, so the word TEXT outside quotes becomes VARCHAR(255), the
 * type m2m itself gives text keys on MariaDB. A new string (free it), or
 * NULL to run script as it is. */
static char *t_mariadb_ddl(const char *script) {
    if (strcmp(t_backend, "mariadb") != 0)
        return NULL;
    size_t n = 0;
    for (const char *p = script; (p = strstr(p, "TEXT")); p += 4)
        n++;
    if (!n)
        return NULL;
    char *out = malloc(strlen(script) + n * 8 + 1), *o = out;
    if (!out)
        return NULL;
    char quote = 0;
    for (const char *p = script; *p;) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            *o++ = *p++;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            *o++ = *p++;
        } else if (strncmp(p, "TEXT", 4) == 0 &&
                   (p == script || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
                   !(isalnum((unsigned char)p[4]) || p[4] == '_')) {
            memcpy(o, "VARCHAR(255)", 12);
            o += 12;
            p += 4;
        } else
            *o++ = *p++;
    }
    *o = '\0';
    return out;
}

void t_exec(const char *script) {
    char *ddl = t_mariadb_ddl(script);
    int rc = m2m_exec(t_cur_db, ddl ? ddl : script);
    free(ddl);
    if (rc != M2M_OK)
        fail_msg("exec failed (%s): %s\n%s", m2m_errname(rc), m2m_errmsg(t_cur_db),
                 script);
}

int64_t t_int(const char *sql, const m2m_value *params, size_t n) {
    m2m_rows *rows = NULL;
    int rc = m2m_sql(t_cur_db, sql, params, n, &rows);
    if (rc != M2M_OK)
        fail_msg("query failed (%s): %s\n%s", m2m_errname(rc), m2m_errmsg(t_cur_db), sql);
    int64_t v = -1;
    if (m2m_rows_next(rows) == M2M_ROW) {
        m2m_value x = m2m_rows_value(rows, 0);
        v = x.type == M2M_TINT ? x.i : x.type == M2M_TTEXT ? strtoll(x.s, NULL, 10) : -1;
    }
    m2m_rows_free(rows);
    return v;
}

const char *t_rows(const char *sql) {
    static char out[1 << 16];
    m2m_rows *rows = NULL;
    int rc = m2m_sql(t_cur_db, sql, NULL, 0, &rows);
    if (rc != M2M_OK)
        fail_msg("query failed (%s): %s\n%s", m2m_errname(rc), m2m_errmsg(t_cur_db), sql);
    size_t len = 0;
    out[0] = '\0';
    int r = 0;
    while ((rc = m2m_rows_next(rows)) == M2M_ROW) {
        for (int i = 0; i < m2m_rows_ncols(rows); i++) {
            m2m_value v = m2m_rows_value(rows, i);
            char tmp[64];
            const char *s = tmp;
            if (v.type == M2M_TINT)
                snprintf(tmp, sizeof tmp, "%lld", (long long)v.i);
            else if (v.type == M2M_TREAL)
                snprintf(tmp, sizeof tmp, "%g", v.d);
            else if (v.type == M2M_TTEXT)
                s = v.s;
            else
                s = "~";
            len += (size_t)snprintf(out + len, sizeof out - len, "%s%s",
                                    i ? "|" : (r ? "," : ""), s);
            if (len >= sizeof out)
                fail_msg("t_rows: result too large");
        }
        r++;
    }
    m2m_rows_free(rows);
    if (rc != M2M_DONE)
        fail_msg("t_rows: %s", m2m_errname(rc));
    return out;
}

static void t_names(unsigned seq) {
    snprintf(t_schema, sizeof t_schema, "m2mt_%ld_%u", t_run_pid, seq);
    if (strcmp(t_backend, "sqlite") == 0)
        snprintf(t_cur_url, sizeof t_cur_url, "sqlite:%s/t%u.db", t_dir, seq);
    else if (t_galera) {
        /* Tests start on nodes in turn; t_open goes on from there. */
        t_next_node = (int)(seq % 3);
        t_galera_url(t_cur_url, sizeof t_cur_url, t_next_node++ % 3, true);
    } else if (strcmp(t_backend, "mariadb") == 0)
        t_my_url(t_cur_url, sizeof t_cur_url, t_my_base);
    else
        snprintf(t_cur_url, sizeof t_cur_url, "%s options='-csearch_path=%s'", t_pg_base,
                 t_schema);
}

/* Runs sql on the server's base database (PostgreSQL or MariaDB). */
static int t_pg_admin(const char *sql) {
    m2m_db *admin = NULL;
    const char *base = strcmp(t_backend, "mariadb") == 0 ? t_my_base : t_pg_base;
    if (m2m_open(base, &admin) != M2M_OK) {
        fprintf(stderr, "cannot open the base database: %s\n", m2m_errmsg(admin));
        m2m_close(admin);
        return -1;
    }
    int rc = m2m_exec(admin, sql);
    if (rc != M2M_OK)
        fprintf(stderr, "%s: %s\n", sql, m2m_errmsg(admin));
    m2m_close(admin);
    return rc == M2M_OK ? 0 : -1;
}

/* Removes what a test left behind; the child does it, and the parent again
 * for a child that died before its teardown. */
static void t_drop(unsigned seq) {
    t_names(seq);
    if (strcmp(t_backend, "sqlite") == 0) {
        char path[512];
        const char *sfx[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(path, sizeof path, "%s/t%u.db%s", t_dir, seq, sfx[i]);
            unlink(path);
        }
    } else if (strcmp(t_backend, "mariadb") == 0) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", t_schema);
        t_pg_admin(sql);
    } else {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", t_schema);
        t_pg_admin(sql);
    }
}

static int t_setup(void **state) {
    (void)state;
    t_names(t_seq);
    if (strcmp(t_backend, "pg") == 0) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s;",
                 t_schema, t_schema);
        if (t_pg_admin(sql) != 0)
            return -1;
    } else if (strcmp(t_backend, "mariadb") == 0) {
        /* A fresh database per test, as PostgreSQL's fresh schema. */
        char sql[256];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s",
                 t_schema, t_schema);
        if (t_pg_admin(sql) != 0 || (t_galera && t_galera_sync() != 0))
            return -1;
    }
    if (m2m_open(t_cur_url, &t_cur_db) != M2M_OK) {
        fprintf(stderr, "cannot open %s: %s\n", t_cur_url, m2m_errmsg(t_cur_db));
        return -1;
    }
    return 0;
}

static int t_teardown(void **state) {
    (void)state;
    m2m_close(t_cur_db);
    t_cur_db = NULL;
    t_drop(t_seq);
    return 0;
}

static void t_body(void **state) {
    for (size_t i = 0; i < sizeof t_crash_sigs / sizeof t_crash_sigs[0]; i++)
        sigaction(t_crash_sigs[i], &t_crash_act[i], NULL);
    t_cur->fn(state);
    t_rep->body_done = 1;
}

/* The child: output to a file the parent shows when the test does not pass,
 * one cmocka run of one test with the per-test database, and exit() rather
 * than _exit() so a sanitizer's leak check runs for this test. */
static void t_child(const char *out) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        _exit(3);
    close(fd);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* cmocka's compact format: the test's name, its output, then a
     * failure's message; CMOCKA_MESSAGE_OUTPUT still chooses another. */
    cmocka_set_message_output(CM_OUTPUT_SUBUNIT);
    for (size_t i = 0; i < sizeof t_crash_sigs / sizeof t_crash_sigs[0]; i++)
        sigaction(t_crash_sigs[i], NULL, &t_crash_act[i]);
    struct CMUnitTest one = {t_cur->name, t_body, t_setup, t_teardown, NULL};
    char group[64];
    snprintf(group, sizeof group, "m2m[%s]", t_galera ? "galera" : t_backend);
    int failed = _cmocka_run_group_tests(group, &one, 1, NULL, NULL);
    fflush(NULL);
    exit(failed ? 1 : 0);
}

static double t_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A signal that ends the runner ends the test it is running too. */
static void t_on_term(int sig) {
    if (t_child_pid > 0)
        kill((pid_t)t_child_pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void t_show(const char *out) {
    FILE *f = fopen(out, "r");
    if (!f)
        return;
    char line[4096];
    bool nl = true;
    while (fgets(line, sizeof line, f)) {
        printf("%s%s", nl ? "    | " : "", line);
        nl = strchr(line, '\n') != NULL;
    }
    if (!nl)
        putchar('\n');
    fclose(f);
}

typedef struct t_opts {
    double timeout;
    bool verbose, stop;
} t_opts;

/* Runs one test in a child; prints its line, and its output unless it
 * passed; returns T_PASS, T_FAIL or T_SKIP with why in *why. */
static int t_run_one(const t_entry *e, const t_opts *o, char *why, size_t whylen) {
    char out[512];
    t_seq++;
    snprintf(out, sizeof out, "%s/t%u.out", t_dir, t_seq);
    memset(t_rep, 0, sizeof *t_rep);
    t_cur = e;
    fflush(NULL);
    double t0 = t_now();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        printf("[ FAIL ] %s: %s\n", e->name, why);
        return T_FAIL;
    }
    if (pid == 0)
        t_child(out);
    t_child_pid = pid;

    /* SIGCHLD is blocked: it stays pending until sigtimedwait takes it,
     * so an exit between waitpid and the wait is not missed. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int status = 0;
    bool timed_out = false;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(why, whylen, "waitpid: %s", strerror(errno));
            kill(pid, SIGKILL);
            return T_FAIL;
        }
        double left = o->timeout - (t_now() - t0);
        if (left <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        sigtimedwait(&chld, NULL, &ts);
    }
    t_child_pid = 0;
    double secs = t_now() - t0;

    int res = T_FAIL;
    why[0] = '\0';
    if (timed_out)
        snprintf(why, whylen, "timed out after %g s (killed)", o->timeout);
    else if (WIFSIGNALED(status))
        snprintf(why, whylen, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
    else if (t_rep->skipped) {
        res = T_SKIP;
        snprintf(why, whylen, "%s", t_rep->reason);
    } else if (!t_rep->body_done)
        snprintf(why, whylen, "the process exited 0 before the test body returned");
    else
        res = T_PASS;

    if (res == T_PASS)
        printf("[ ok   ] %s (%.2f s)\n", e->name, secs);
    else
        printf("[ %s ] %s: %s (%.2f s)\n", res == T_SKIP ? "SKIP" : "FAIL", e->name, why,
               secs);
    if (res != T_PASS || o->verbose)
        t_show(out);
    fflush(stdout);
    unlink(out);
    if (res == T_FAIL || timed_out)
        t_drop(t_seq); /* the child may have died before its teardown */
    return res;
}

/* "sqlite,pg,mariadb,galera" for --list. */
static const char *t_backends_text(unsigned b) {
    static char out[40];
    snprintf(out, sizeof out, "%s%s%s%s", b & T_ON_sqlite ? "sqlite," : "",
             b & T_ON_pg ? "pg," : "", b & T_ON_mariadb ? "mariadb," : "",
             b & T_ON_galera ? "galera," : "");
    size_t n = strlen(out);
    if (n)
        out[n - 1] = '\0';
    return out;
}

static void t_usage(FILE *f) {
    fprintf(f,
            "usage: m2m_tests [--backend sqlite|pg|mariadb|galera] [options] "
            "[name-substring]\n"
            "  --backend B   run on sqlite (default), pg (needs M2M_TEST_PG),\n"
            "                mariadb (needs M2M_TEST_MARIADB) or galera: the MariaDB\n"
            "                tests and the cluster's own on a three-node Galera\n"
            "                cluster, each connection on the next node (needs\n"
            "                M2M_TEST_GALERA_1.._3, scripts/with-galera.sh sets them)\n"
            "  --list        print the tests (with --backend, those that apply to it)\n"
            "                and the backends they apply to\n"
            "  --exact       the name argument is a whole test name, not a substring\n"
            "  --timeout S   fail a test still running after S seconds (default 120,\n"
            "                or $M2M_TEST_TIMEOUT)\n"
            "  --stop        stop at the first test that does not pass\n"
            "  -v            show the output of passing tests too\n"
            "Each test runs in its own process on a fresh database. The run fails if\n"
            "a test fails, crashes, hangs or skips, or if no test is selected.\n");
}

int main(int argc, char **argv) {
    const char *pattern = NULL;
    bool list = false, exact = false, backend_given = false;
    t_opts o = {120, false, false};
    const char *env = getenv("M2M_TEST_TIMEOUT");
    if (env && *env)
        o.timeout = atof(env);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            t_backend = argv[++i];
            backend_given = true;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            o.timeout = atof(argv[++i]);
        else if (strcmp(argv[i], "--list") == 0)
            list = true;
        else if (strcmp(argv[i], "--exact") == 0)
            exact = true;
        else if (strcmp(argv[i], "--stop") == 0)
            o.stop = true;
        else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            o.verbose = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            t_usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && !pattern)
            pattern = argv[i];
        else {
            t_usage(stderr);
            return 2;
        }
    }
    if (!(o.timeout > 0)) {
        fprintf(stderr, "m2m_tests: the timeout must be a positive number of seconds\n");
        return 2;
    }
    if (strcmp(t_backend, "pg") == 0)
        t_mask = T_ON_pg;
    else if (strcmp(t_backend, "mariadb") == 0)
        t_mask = T_ON_mariadb;
    else if (strcmp(t_backend, "galera") == 0) {
        /* The MariaDB dialect: tests see t_backend "mariadb". */
        t_galera = true;
        t_backend = "mariadb";
        t_mask = T_ON_galera;
    } else if (strcmp(t_backend, "sqlite") == 0)
        t_mask = T_ON_sqlite;
    else {
        fprintf(stderr, "m2m_tests: unknown backend '%s'\n", t_backend);
        return 2;
    }
    if (t_registry_full) {
        fprintf(stderr, "m2m_tests: out of memory registering the tests\n");
        return 1;
    }
    for (size_t i = 0; i < t_count; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(t_entries[i].name, t_entries[j].name) == 0) {
                fprintf(stderr, "m2m_tests: two tests named %s (%s, %s)\n",
                        t_entries[i].name, t_entries[j].file, t_entries[i].file);
                return 2;
            }

    size_t selected = 0, na = 0;
    for (size_t i = 0; i < t_count; i++) {
        const t_entry *e = &t_entries[i];
        if (pattern &&
            (exact ? strcmp(e->name, pattern) != 0 : !strstr(e->name, pattern)))
            continue;
        if (list && (!backend_given || e->backends & t_mask))
            printf("%-56s %-17s %s\n", e->name, t_backends_text(e->backends),
                   t_rel(e->file));
        if (e->backends & t_mask)
            selected++;
        else
            na++;
    }
    if (list) {
        free(t_entries);
        return 0;
    }
    if (selected == 0) {
        fprintf(stderr, "m2m_tests: no test %s '%s' on %s\n",
                exact ? "is named" : "name contains", pattern ? pattern : "", t_backend);
        free(t_entries);
        return 1;
    }

    if (strcmp(t_backend, "pg") == 0) {
        t_pg_base = getenv("M2M_TEST_PG");
        if (!t_pg_base || !*t_pg_base) {
            fprintf(stderr, "m2m_tests: M2M_TEST_PG is not set; `make check` starts a "
                            "server and sets it\n");
            return 1;
        }
    }
    if (t_galera) {
        static const char *const var[3] = {"M2M_TEST_GALERA_1", "M2M_TEST_GALERA_2",
                                           "M2M_TEST_GALERA_3"};
        for (int i = 0; i < 3; i++)
            if (!(t_nodes_base[i] = getenv(var[i])) || !*t_nodes_base[i]) {
                fprintf(stderr,
                        "m2m_tests: %s is not set; scripts/with-galera.sh "
                        "starts a cluster and sets it\n",
                        var[i]);
                return 1;
            }
        /* Databases are made and dropped on node 1; DDL reaches every node
         * before it returns (Galera's total order isolation). */
        t_my_base = t_nodes_base[0];
    } else if (strcmp(t_backend, "mariadb") == 0) {
        t_my_base = getenv("M2M_TEST_MARIADB");
        if (!t_my_base || !*t_my_base) {
            fprintf(stderr, "m2m_tests: M2M_TEST_MARIADB is not set; `make check` starts "
                            "a server and sets it\n");
            return 1;
        }
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(t_dir, sizeof t_dir, "%s/m2m-tests-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t_dir)) {
        perror("mkdtemp");
        return 1;
    }
    char rep[300];
    snprintf(rep, sizeof rep, "%s/report", t_dir);
    int fd = open(rep, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, sizeof *t_rep) != 0 ||
        (t_rep = mmap(NULL, sizeof *t_rep, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
            MAP_FAILED) {
        perror(rep);
        return 1;
    }
    close(fd);
    unlink(rep);
    t_run_pid = (long)getpid();
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    signal(SIGINT, t_on_term);
    signal(SIGTERM, t_on_term);
    signal(SIGHUP, t_on_term);

    /* Failures and skips are listed again at the end, where a long log
     * is read first. */
    size_t nbad = 0, npass = 0, nfail = 0, nskip = 0;
    struct {
        const char *name;
        int res;
        char why[600];
    } *bad = calloc(selected, sizeof *bad);
    if (!bad) {
        perror("calloc");
        return 1;
    }
    double t0 = t_now();
    for (size_t i = 0; i < t_count; i++) {
        const t_entry *e = &t_entries[i];
        if (pattern &&
            (exact ? strcmp(e->name, pattern) != 0 : !strstr(e->name, pattern)))
            continue;
        if (!(e->backends & t_mask))
            continue;
        char why[600];
        int res = t_run_one(e, &o, why, sizeof why);
        if (res == T_PASS) {
            npass++;
            continue;
        }
        res == T_SKIP ? nskip++ : nfail++;
        bad[nbad].name = e->name;
        bad[nbad].res = res;
        snprintf(bad[nbad].why, sizeof bad[nbad].why, "%s", why);
        nbad++;
        if (o.stop)
            break;
    }
    const char *shown = t_galera ? "galera" : t_backend;
    printf("\nm2m_tests --backend %s: %zu passed, %zu failed, %zu skipped", shown, npass,
           nfail, nskip);
    if (npass + nfail + nskip < selected)
        printf(", %zu not run (--stop)", selected - npass - nfail - nskip);
    printf("; %zu do not apply to %s; %.1f s\n", na, shown, t_now() - t0);
    for (size_t i = 0; i < nbad; i++)
        printf("  %s %s: %s\n", bad[i].res == T_SKIP ? "SKIPPED" : "FAILED ", bad[i].name,
               bad[i].why);
    if (nskip)
        printf("A skipped test fails the run: declare a test that does not apply to %s "
               "with TEST_ONLY (tests/test.h).\n",
               t_backend);
    free(bad);
    free(t_entries);
    munmap(t_rep, sizeof *t_rep);
    rmdir(t_dir);
    return nbad ? 1 : 0;
}
