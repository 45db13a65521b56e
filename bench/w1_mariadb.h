/* SPDX-License-Identifier: MIT */
/*
 * w1_mariadb.h — W1's database on MariaDB, over raw libmariadb: URLs, a fresh
 * database per run, the CHECK query. TARGET is one mariadb:// URL, or
 * several joined by ',' (the nodes of a Galera cluster: writes go round-robin
 * over them, user u to node u mod n). Included by w1.c alone.
 */
#ifndef M2M_BENCH_W1_MARIADB_H
#define M2M_BENCH_W1_MARIADB_H

#include "w1.h"

#ifdef W1_HAVE_MARIADB
#include <mysql.h>

enum { W1_MY_MAX_NODES = 8 };

/* mariadb://user:pw@host:port/db, split into a w1_my_url. */
typedef struct w1_my_url {
    char user[128], pw[128], host[256], db[128];
    unsigned port;
} w1_my_url;

static void w1_my_parse(const char *url, size_t len, w1_my_url *u) {
    memset(u, 0, sizeof *u);
    char s[1024];
    snprintf(s, sizeof s, "%.*s", (int)len, url);
    char *p = strstr(s, "://");
    if (!p)
        w1_die("mariadb: not a mariadb:// URL: %s", s);
    p += 3;
    char *q = strchr(p, '?');
    if (q)
        *q = '\0';
    char *at = strrchr(p, '@');
    if (at) {
        *at = '\0';
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            snprintf(u->pw, sizeof u->pw, "%s", colon + 1);
        }
        snprintf(u->user, sizeof u->user, "%s", p);
        p = at + 1;
    }
    char *slash = strchr(p, '/');
    if (slash) {
        *slash = '\0';
        snprintf(u->db, sizeof u->db, "%s", slash + 1);
    }
    char *colon = strchr(p, ':');
    if (colon) {
        *colon = '\0';
        u->port = (unsigned)atoi(colon + 1);
    }
    snprintf(u->host, sizeof u->host, "%s", p);
}

/* The URLs of TARGET, split at ','; returns how many. */
static int w1_my_urls(const char *target, w1_my_url *out) {
    int n = 0;
    for (const char *p = target; *p && n < W1_MY_MAX_NODES;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        w1_my_parse(p, len, &out[n++]);
        p += len + (e != NULL);
    }
    if (n == 0)
        w1_die("mariadb: no URL in %s", target);
    return n;
}

static void w1_my_exec(MYSQL *my, const char *sql) {
    if (mysql_query(my, sql))
        w1_die("mariadb: %s: %s", sql, mysql_error(my));
    do {
        MYSQL_RES *r = mysql_store_result(my);
        if (r)
            mysql_free_result(r);
    } while (mysql_next_result(my) == 0);
    if (mysql_errno(my))
        w1_die("mariadb: %s: %s", sql, mysql_error(my));
}

/* A connection to node i of t, in the run's database when db is set. */
static MYSQL *w1_my_connect_node(const w1_target *t, int i, const char *db) {
    w1_my_url u[W1_MY_MAX_NODES];
    int n = w1_my_urls(t->conninfo, u);
    MYSQL *my = mysql_init(NULL);
    if (!my)
        w1_die("out of memory");
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(my, u[i % n].host, u[i % n].user, u[i % n].pw, db,
                            u[i % n].port, NULL, CLIENT_MULTI_STATEMENTS))
        w1_die("mariadb: cannot connect to %s:%u: %s", u[i % n].host, u[i % n].port,
               mysql_error(my));
    return my;
}

static MYSQL *w1_my_connect(const w1_target *t) {
    return w1_my_connect_node(t, 0, t->schema);
}

static int w1_my_nodes(const w1_target *t) {
    w1_my_url u[W1_MY_MAX_NODES];
    return w1_my_urls(t->conninfo, u);
}

/* The URL m2m opens for node i: the node's, with the run's database. */
static void w1_my_m2m_url(const w1_target *t, int i, char *out, size_t size) {
    w1_my_url u[W1_MY_MAX_NODES];
    int n = w1_my_urls(t->conninfo, u);
    snprintf(out, size, "mariadb://%s:%s@%s:%u/%s", u[i % n].user, u[i % n].pw,
             u[i % n].host, u[i % n].port, t->schema);
}

static int w1_my_serial;

/* A fresh database holding W1's tables and data (untimed), on node 1;
 * then every node waits until it has applied it (a causal read). */
static void w1_my_setup(w1_target *t, const w1_case *c) {
    snprintf(t->schema, sizeof t->schema, "w1_%ld_%d", (long)getpid(), ++w1_my_serial);
    MYSQL *my = w1_my_connect_node(t, 0, NULL);
    w1_buf b = {0};
    w1_buf_addf(&b,
                "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s; USE %s;"
                " CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
                " CREATE TABLE roles(id INTEGER PRIMARY KEY, name TEXT);"
                " CREATE TABLE role_user("
                "  user_id INTEGER NOT NULL REFERENCES users(id),"
                "  role_id INTEGER NOT NULL REFERENCES roles(id),"
                "  granted_by TEXT, PRIMARY KEY(user_id, role_id));"
                " INSERT INTO users WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL"
                "  SELECT n + 1 FROM g WHERE n < %" PRId64 ") SELECT n, concat('user', n)"
                "  FROM g;"
                " INSERT INTO roles WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL"
                "  SELECT n + 1 FROM g WHERE n < %" PRId64 ") SELECT n, concat('role', n)"
                "  FROM g;"
                " ANALYZE TABLE users, roles",
                t->schema, t->schema, t->schema, c->users, c->roles);
    w1_my_exec(my, b.p);
    free(b.p);
    mysql_close(my);
    for (int i = 1; i < w1_my_nodes(t); i++) {
        my = w1_my_connect_node(t, i, NULL);
        w1_my_exec(my, "SET SESSION wsrep_sync_wait = 1; SELECT 1");
        mysql_close(my);
    }
}

static void w1_my_teardown(const w1_target *t) {
    MYSQL *my = w1_my_connect_node(t, 0, NULL);
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE %s", t->schema);
    w1_my_exec(my, sql);
    mysql_close(my);
}

/* W1's CHECK as SQLite spells it reads the same on MariaDB (booleans are
 * integers, products are computed in 64 bits), read on node 1 causally. */
static void w1_my_check(MYSQL *my, int64_t out[W1_NCHECK]) {
    w1_my_exec(my, "SET SESSION wsrep_sync_wait = 1");
    if (mysql_query(my, w1_check_sqlite))
        w1_die("mariadb: check: %s", mysql_error(my));
    MYSQL_RES *r = mysql_store_result(my);
    MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
    if (!row)
        w1_die("mariadb: check: %s", mysql_error(my));
    for (int i = 0; i < W1_NCHECK; i++)
        out[i] = row[i] ? strtoll(row[i], NULL, 10) : 0;
    mysql_free_result(r);
}
#else
typedef struct w1_nomy MYSQL;
static void w1_my_nomy(void) { w1_die("mariadb: this w1 is built without libmariadb"); }
static MYSQL *w1_my_connect(const w1_target *t) {
    (void)t;
    w1_my_nomy();
    return NULL;
}
static void w1_my_setup(w1_target *t, const w1_case *c) {
    (void)t, (void)c;
    w1_my_nomy();
}
static void w1_my_teardown(const w1_target *t) { (void)t; }
static void w1_my_check(MYSQL *my, int64_t out[W1_NCHECK]) {
    (void)my, (void)out;
    w1_my_nomy();
}
static void mysql_close(MYSQL *my) { (void)my; }
static int w1_my_nodes(const w1_target *t) {
    (void)t;
    return 1;
}
static void w1_my_m2m_url(const w1_target *t, int i, char *out, size_t size) {
    (void)t, (void)i, (void)out, (void)size;
    w1_my_nomy();
}
#endif /* W1_HAVE_MARIADB */
#endif /* M2M_BENCH_W1_MARIADB_H */
