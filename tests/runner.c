/* m2m_tests: runs every registered test on one backend, each on a fresh
 * database. `m2m_tests --backend sqlite|pg [substring]`. The PostgreSQL
 * suite needs M2M_TEST_PG (a libpq key=value connection string); without it
 * the run fails rather than skipping, so CI cannot pass by not testing. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct t_entry {
    const char *name;
    t_fn fn;
    const char *file;
} t_entry;

static t_entry t_entries[1024];
static size_t t_count;
const char *t_backend = "sqlite";
static const char *t_pg_base;
static char t_dir[256];
static char t_cur_url[1024];
static char t_schema[64];
static m2m_db *t_cur_db;
static unsigned t_seq;

void t_register(const char *name, t_fn fn, const char *file) {
    if (t_count < sizeof t_entries / sizeof t_entries[0])
        t_entries[t_count++] = (t_entry){name, fn, file};
}

m2m_db *t_db(void) { return t_cur_db; }
const char *t_url(void) { return t_cur_url; }

m2m_db *t_open(void) {
    m2m_db *db = NULL;
    int rc = m2m_open(t_cur_url, &db);
    if (rc != M2M_OK)
        fail_msg("open %s: %s", t_cur_url, m2m_errname(rc));
    return db;
}

void t_exec(const char *script) {
    int rc = m2m_exec(t_cur_db, script);
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

static int t_setup(void **state) {
    (void)state;
    t_seq++;
    if (strcmp(t_backend, "sqlite") == 0) {
        snprintf(t_cur_url, sizeof t_cur_url, "sqlite:%s/t%u.db", t_dir, t_seq);
    } else {
        snprintf(t_schema, sizeof t_schema, "m2mt_%ld_%u", (long)getpid(), t_seq);
        m2m_db *admin = NULL;
        if (m2m_open(t_pg_base, &admin) != M2M_OK)
            return -1;
        char sql[256];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s;",
                 t_schema, t_schema);
        int rc = m2m_exec(admin, sql);
        m2m_close(admin);
        if (rc != M2M_OK)
            return -1;
        snprintf(t_cur_url, sizeof t_cur_url, "%s options='-csearch_path=%s'", t_pg_base,
                 t_schema);
    }
    if (m2m_open(t_cur_url, &t_cur_db) != M2M_OK) {
        fprintf(stderr, "cannot open %s\n", t_cur_url);
        return -1;
    }
    return 0;
}

static int t_teardown(void **state) {
    (void)state;
    m2m_close(t_cur_db);
    t_cur_db = NULL;
    if (strcmp(t_backend, "sqlite") == 0) {
        char path[512];
        const char *sfx[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(path, sizeof path, "%s/t%u.db%s", t_dir, t_seq, sfx[i]);
            unlink(path);
        }
    } else {
        m2m_db *admin = NULL;
        if (m2m_open(t_pg_base, &admin) == M2M_OK) {
            char sql[128];
            snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", t_schema);
            m2m_exec(admin, sql);
            m2m_close(admin);
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *pattern = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc)
            t_backend = argv[++i];
        else if (argv[i][0] != '-')
            pattern = argv[i];
        else {
            fprintf(stderr, "usage: m2m_tests [--backend sqlite|pg] [name-substring]\n");
            return 2;
        }
    }
    if (strcmp(t_backend, "pg") == 0) {
        t_pg_base = getenv("M2M_TEST_PG");
        if (!t_pg_base || !*t_pg_base) {
            fprintf(stderr, "m2m_tests: M2M_TEST_PG is not set; `make check` starts a "
                            "server and sets it\n");
            return 1;
        }
    } else if (strcmp(t_backend, "sqlite") != 0) {
        fprintf(stderr, "m2m_tests: unknown backend '%s'\n", t_backend);
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(t_dir, sizeof t_dir, "%s/m2m-tests-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t_dir)) {
        perror("mkdtemp");
        return 1;
    }
    struct CMUnitTest *tests = calloc(t_count ? t_count : 1, sizeof *tests);
    size_t n = 0;
    for (size_t i = 0; i < t_count; i++) {
        if (pattern && !strstr(t_entries[i].name, pattern))
            continue;
        tests[n++] = (struct CMUnitTest){t_entries[i].name, t_entries[i].fn, t_setup,
                                         t_teardown, NULL};
    }
    char group[64];
    snprintf(group, sizeof group, "m2m[%s]", t_backend);
    int failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    free(tests);
    rmdir(t_dir);
    return failed ? 1 : 0;
}
