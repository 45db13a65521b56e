/* SPDX-License-Identifier: MIT */
/*
 * w1_raw_mariadb.h — the raw-SQL baselines of W1 on MariaDB, hand-written C
 * over libmariadb with prepared statements (binary protocol):
 *   raw      one execution (one round trip) per id, one transaction per user;
 *   raw-set  ids as one JSON parameter (JSON_TABLE): one statement per user
 *            and operation, two in one transaction for sync and toggle (no
 *            data-modifying CTE in MariaDB).
 * On a cluster (several URLs) user u is written on node u mod n, and reads
 * go through connections with causal reads (wsrep_sync_wait = 1), as the
 * m2m runs do. Included by w1.c alone.
 */
#ifndef M2M_BENCH_W1_RAW_MARIADB_H
#define M2M_BENCH_W1_RAW_MARIADB_H

#include "w1_mariadb.h"

#ifdef W1_HAVE_MARIADB

enum {
    RMY_READ,
    RMY_DEL_ALL,
    RMY_ATTACH,
    RMY_SYNC_DEL,
    RMY_TOGGLE_DEL,
    RMY_TOGGLE_INS,
    RMY_UPD,
    RMY_EAGER,
    RMY_INS,
    RMY_SEL,
    RMY_DEL,
    RMY_NST
};

#define RMY_IDS(p) "JSON_TABLE(" p ", '$[*]' COLUMNS (x INT PATH '$')) AS j"

static const char *const rmy_set_sql[RMY_NST] = {
    [RMY_ATTACH] = "INSERT IGNORE INTO role_user(user_id, role_id, granted_by)"
                   " SELECT ?, x, ? FROM " RMY_IDS("?"),
    [RMY_SYNC_DEL] = "DELETE FROM role_user WHERE user_id = ? AND role_id NOT IN"
                     " (SELECT x FROM " RMY_IDS("?") ")",
    [RMY_TOGGLE_DEL] = "DELETE FROM role_user WHERE user_id = ? AND role_id IN"
                       " (SELECT x FROM " RMY_IDS("?") ") RETURNING role_id",
    [RMY_TOGGLE_INS] =
        "INSERT INTO role_user(user_id, role_id, granted_by)"
        " SELECT ?, x, ? FROM " RMY_IDS(
            "?") " WHERE x NOT IN (SELECT y"
                 " FROM JSON_TABLE(?, '$[*]' COLUMNS (y INT PATH '$')) AS k)",
    [RMY_UPD] = "UPDATE role_user SET granted_by = ? WHERE user_id = ? AND role_id IN"
                " (SELECT x FROM " RMY_IDS("?") ")",
    [RMY_EAGER] = "SELECT ru.user_id, r.id, r.name, ru.granted_by"
                  " FROM role_user ru JOIN roles r ON r.id = ru.role_id"
                  " WHERE ru.user_id IN (SELECT x FROM " RMY_IDS(
                      "?") ")"
                           " ORDER BY ru.user_id, ru.role_id",
};
static const char *const rmy_plain_sql[RMY_NST] = {
    [RMY_INS] =
        "INSERT IGNORE INTO role_user(user_id, role_id, granted_by) VALUES(?, ?, ?)",
    [RMY_SEL] = "SELECT role_id FROM role_user WHERE user_id = ?",
    [RMY_DEL] = "DELETE FROM role_user WHERE user_id = ? AND role_id = ?",
    [RMY_UPD] = "UPDATE role_user SET granted_by = ? WHERE user_id = ? AND role_id = ?",
};
static const char rmy_read_sql[] = "SELECT r.id, r.name, ru.granted_by"
                                   " FROM role_user ru JOIN roles r ON r.id = ru.role_id"
                                   " WHERE ru.user_id = ? AND ru.granted_by = ?"
                                   " ORDER BY ru.role_id";

/* One parameter: an integer, or text when s is set. */
typedef struct rmy_p {
    long long i;
    const char *s;
} rmy_p;

typedef struct rmy_conn {
    MYSQL *my;
    MYSQL_STMT *st[RMY_NST];
} rmy_conn;

typedef struct rmy {
    rmy_conn w[W1_MY_MAX_NODES], r[W1_MY_MAX_NODES]; /* r aliases w on one server */
    int n, set;
    int64_t *ids, *cur;
    unsigned char *mark;
    w1_buf json, json2;
    uint64_t nstmt, sink;
    int failed; /* a statement of this transaction failed with 1213 or 1205 */
} rmy;

/* A deadlock or lock wait timeout (on a cluster also a certification
 * failure, or an abort by a replicated write) fails the transaction: the
 * caller rolls back and runs the user's operation again, as an application
 * on Galera must. Any other error ends the run. */
static void rmy_error(rmy *h, unsigned e, const char *what, const char *msg) {
    if (e != 1213 && e != 1205)
        w1_die("mariadb raw: %s: %s", what, msg);
    h->failed = 1;
}

static void rmy_text(rmy *h, MYSQL *my, const char *sql) {
    if (h->failed)
        return;
    if (mysql_query(my, sql))
        rmy_error(h, mysql_errno(my), sql, mysql_error(my));
    h->nstmt++;
}

static MYSQL_STMT *rmy_prepare(MYSQL *my, const char *sql) {
    MYSQL_STMT *st = mysql_stmt_init(my);
    if (!st || mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)))
        w1_die("mariadb raw: prepare %s: %s", sql,
               st ? mysql_stmt_error(st) : "no memory");
    return st;
}

/* Execute a prepared statement with params; its rows (if any) are stored
 * in the client and read as text by rmy_rows. */
static MYSQL_STMT *rmy_run(rmy *h, rmy_conn *c, int k, const rmy_p *p, int n) {
    MYSQL_STMT *st = c->st[k];
    if (h->failed)
        return st;
    MYSQL_BIND b[2100];
    if (n > 2100)
        w1_die("mariadb raw: too many parameters");
    memset(b, 0, (size_t)n * sizeof b[0]);
    for (int i = 0; i < n; i++) {
        if (p[i].s) {
            b[i].buffer_type = MYSQL_TYPE_STRING;
            b[i].buffer = (void *)p[i].s;
            b[i].buffer_length = (unsigned long)strlen(p[i].s);
        } else {
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&p[i].i;
        }
    }
    if (n && mysql_stmt_bind_param(st, b))
        w1_die("mariadb raw: statement %d: %s", k, mysql_stmt_error(st));
    if (mysql_stmt_execute(st))
        rmy_error(h, mysql_stmt_errno(st), "a statement", mysql_stmt_error(st));
    h->nstmt++;
    return st;
}

/* Read the stored rows of st as text: ints of column 0 into out (when not
 * NULL), every value's length into the sink; returns the number of rows. */
static int64_t rmy_rows(rmy *h, MYSQL_STMT *st, int64_t *out) {
    unsigned nf = mysql_stmt_field_count(st);
    if (nf == 0 || h->failed)
        return 0;
    char buf[8][256];
    unsigned long len[8];
    MYSQL_BIND b[8];
    memset(b, 0, sizeof b);
    for (unsigned i = 0; i < nf && i < 8; i++) {
        b[i].buffer_type = MYSQL_TYPE_STRING;
        b[i].buffer = buf[i];
        b[i].buffer_length = sizeof buf[i];
        b[i].length = &len[i];
    }
    if (mysql_stmt_bind_result(st, b))
        w1_die("mariadb raw: rows: %s", mysql_stmt_error(st));
    if (mysql_stmt_store_result(st)) {
        rmy_error(h, mysql_stmt_errno(st), "rows", mysql_stmt_error(st));
        return 0;
    }
    int64_t n = 0;
    int rc;
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        if (out)
            out[n] = strtoll(buf[0], NULL, 10);
        for (unsigned i = 0; i < nf && i < 8; i++)
            h->sink += len[i];
        n++;
    }
    mysql_stmt_free_result(st);
    return n;
}

/* "[1,2,3]" in b (reset first). */
static const char *rmy_json(w1_buf *b, const int64_t *ids, size_t n) {
    return w1_id_list(b, ids, n, '[', ']');
}

static void *rmy_open_mode(const w1_target *t, const w1_case *c, int set) {
    rmy *h = calloc(1, sizeof *h);
    if (h == NULL)
        w1_die("out of memory");
    h->set = set;
    h->n = w1_my_nodes(t);
    const char *const *sql = set ? rmy_set_sql : rmy_plain_sql;
    for (int i = 0; i < h->n; i++) {
        h->w[i].my = w1_my_connect_node(t, i, t->schema);
        for (int k = 0; k < RMY_NST; k++)
            if (sql[k])
                h->w[i].st[k] = rmy_prepare(h->w[i].my, sql[k]);
        h->w[i].st[RMY_DEL_ALL] =
            rmy_prepare(h->w[i].my, "DELETE FROM role_user WHERE user_id = ?");
        rmy_conn *r = &h->w[i];
        if (h->n > 1) { /* reads see what the cluster committed before */
            r = &h->r[i];
            r->my = w1_my_connect_node(t, i, t->schema);
            w1_my_exec(r->my, "SET SESSION wsrep_sync_wait = 1");
        }
        r->st[RMY_READ] = rmy_prepare(r->my, rmy_read_sql);
        if (!set && i == 0) {
            w1_buf b = {0};
            w1_buf_addf(&b, "SELECT ru.user_id, r.id, r.name, ru.granted_by"
                            " FROM role_user ru JOIN roles r ON r.id = ru.role_id"
                            " WHERE ru.user_id IN (");
            for (int64_t u = 1; u <= c->users; u++)
                w1_buf_addf(&b, u > 1 ? ",?" : "?");
            w1_buf_addf(&b, ") ORDER BY ru.user_id, ru.role_id");
            r->st[RMY_EAGER] = rmy_prepare(r->my, b.p);
            free(b.p);
        } else if (set && h->n > 1) {
            r->st[RMY_EAGER] = rmy_prepare(r->my, rmy_set_sql[RMY_EAGER]);
        }
    }
    h->ids = w1_xmalloc(w1_max_ids(c) * sizeof *h->ids);
    h->cur = w1_xmalloc((w1_max_ids(c) + 1000) * sizeof *h->cur);
    h->mark = calloc((size_t)c->roles + 1, 1);
    if (h->mark == NULL)
        w1_die("out of memory");
    return h;
}

static void *rmy_open_plain(const w1_target *t, const w1_case *c) {
    return rmy_open_mode(t, c, 0);
}
static void *rmy_open_set(const w1_target *t, const w1_case *c) {
    return rmy_open_mode(t, c, 1);
}

static rmy_conn *rmy_reader(rmy *h, int i) { return h->n > 1 ? &h->r[i] : &h->w[i]; }

/* Plain sync: read the set, delete the unwanted, insert the new. */
static void rmy_plain_sync(rmy *h, rmy_conn *c, int64_t u, size_t n, const char *pv) {
    rmy_p sp[1] = {{u, NULL}};
    size_t ncur = (size_t)rmy_rows(h, rmy_run(h, c, RMY_SEL, sp, 1), h->cur);
    for (size_t i = 0; i < n; i++)
        h->mark[h->ids[i]] = 1;
    for (size_t i = 0; i < ncur; i++) {
        if (h->mark[h->cur[i]] == 0) {
            rmy_p p[2] = {{u, NULL}, {h->cur[i], NULL}};
            rmy_run(h, c, RMY_DEL, p, 2);
        } else {
            h->mark[h->cur[i]] = 2;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (h->mark[h->ids[i]] == 1) {
            rmy_p p[3] = {{u, NULL}, {h->ids[i], NULL}, {0, pv}};
            rmy_run(h, c, RMY_INS, p, 3);
        }
        h->mark[h->ids[i]] = 0;
    }
}

static void rmy_plain_op(rmy *h, rmy_conn *c, int p, int64_t u, size_t n,
                         const char *pv) {
    rmy_text(h, c->my, "START TRANSACTION");
    for (size_t i = 0; p != W1_P2 && i < n; i++) {
        rmy_p ins[3] = {{u, NULL}, {h->ids[i], NULL}, {0, pv}};
        rmy_p del[2] = {{u, NULL}, {h->ids[i], NULL}};
        rmy_p upd[3] = {{0, pv}, {u, NULL}, {h->ids[i], NULL}};
        if (p == W1_P1)
            rmy_run(h, c, RMY_INS, ins, 3);
        else if (p == W1_P4)
            rmy_run(h, c, RMY_UPD, upd, 3);
        else if (mysql_stmt_affected_rows(rmy_run(h, c, RMY_DEL, del, 2)) == 0)
            rmy_run(h, c, RMY_INS, ins, 3); /* toggle: insert what was not deleted */
    }
    if (p == W1_P2)
        rmy_plain_sync(h, c, u, n, pv);
    rmy_text(h, c->my, "COMMIT");
}

static void rmy_set_op(rmy *h, rmy_conn *c, int p, int64_t u, size_t n, const char *pv) {
    const char *j = rmy_json(&h->json, h->ids, n);
    rmy_p ins[3] = {{u, NULL}, {0, pv}, {0, j}};
    rmy_p uj[2] = {{u, NULL}, {0, j}};
    if (p == W1_P1) {
        rmy_run(h, c, RMY_ATTACH, ins, 3);
    } else if (p == W1_P4) {
        rmy_p upd[3] = {{0, pv}, {u, NULL}, {0, j}};
        rmy_run(h, c, RMY_UPD, upd, 3);
    } else if (p == W1_P2) {
        rmy_text(h, c->my, "START TRANSACTION");
        rmy_run(h, c, RMY_SYNC_DEL, uj, 2);
        rmy_run(h, c, RMY_ATTACH, ins, 3);
        rmy_text(h, c->my, "COMMIT");
    } else {
        rmy_text(h, c->my, "START TRANSACTION");
        size_t nd = (size_t)rmy_rows(h, rmy_run(h, c, RMY_TOGGLE_DEL, uj, 2), h->cur);
        rmy_p tin[4] = {{u, NULL}, {0, pv}, {0, j}, {0, rmy_json(&h->json2, h->cur, nd)}};
        rmy_run(h, c, RMY_TOGGLE_INS, tin, 4);
        rmy_text(h, c->my, "COMMIT");
    }
}

static void rmy_phase(void *hv, const w1_case *c, int p, uint64_t *stmts, uint64_t *trips,
                      int64_t *rows) {
    rmy *h = hv;
    const char *pv = w1_pivot_value[p];
    h->nstmt = 0;
    *rows = -1;
    if (p == W1_P6) {
        rmy_conn *r = rmy_reader(h, 0);
        int64_t *all = w1_xmalloc((size_t)c->users * sizeof *all);
        for (int64_t u = 1; u <= c->users; u++)
            all[u - 1] = u;
        if (h->set) {
            rmy_p a[1] = {{0, rmy_json(&h->json, all, (size_t)c->users)}};
            *rows = rmy_rows(h, rmy_run(h, r, RMY_EAGER, a, 1), NULL);
        } else {
            rmy_p *a = w1_xmalloc((size_t)c->users * sizeof *a);
            for (int64_t u = 0; u < c->users; u++)
                a[u] = (rmy_p){all[u], NULL};
            *rows = rmy_rows(h, rmy_run(h, r, RMY_EAGER, a, (int)c->users), NULL);
            free(a);
        }
        free(all);
        *stmts = *trips = h->nstmt;
        return;
    }
    int64_t seen = 0;
    for (int64_t u = 1; u <= c->users; u++) {
        rmy_conn *w = &h->w[u % h->n];
        size_t n = w1_ids(c, p, u, h->ids);
        if (p == W1_P5) {
            rmy_p a[2] = {{u, NULL}, {0, pv}};
            seen += rmy_rows(
                h, rmy_run(h, rmy_reader(h, (int)(u % h->n)), RMY_READ, a, 2), NULL);
        } else
            for (int tries = 0;; tries++) {
                if (p == W1_P7) {
                    rmy_p a[1] = {{u, NULL}};
                    rmy_run(h, w, RMY_DEL_ALL, a, 1);
                } else if (h->set) {
                    rmy_set_op(h, w, p, u, n, pv);
                } else {
                    rmy_plain_op(h, w, p, u, n, pv);
                }
                if (!h->failed)
                    break;
                if (tries == 100)
                    w1_die("mariadb raw: user %" PRId64 " failed 100 times", u);
                h->failed = 0;
                rmy_text(h, w->my, "ROLLBACK");
            }
    }
    if (p == W1_P5)
        *rows = seen;
    *stmts = *trips = h->nstmt;
}

static void rmy_close(void *hv) {
    rmy *h = hv;
    for (int i = 0; i < h->n; i++)
        for (int s = 0; s < 2; s++) {
            rmy_conn *c = s ? &h->r[i] : &h->w[i];
            for (int k = 0; k < RMY_NST; k++)
                if (c->st[k])
                    mysql_stmt_close(c->st[k]);
            if (c->my)
                mysql_close(c->my);
        }
    free(h->ids);
    free(h->cur);
    free(h->mark);
    free(h->json.p);
    free(h->json2.p);
    free(h);
}

static void rmy_describe(void *hv, char *buf, size_t size) {
    rmy *h = hv;
    snprintf(buf, size, "raw libmariadb %s, server %s, %d node(s), %s",
             mysql_get_client_info(), mysql_get_server_info(h->w[0].my), h->n,
             h->set ? "ids as one JSON parameter, one statement per user and operation"
                    : "one execution per id, one transaction per user");
}

static const w1_impl w1_raw_my = {
    "raw", W1_MARIADB, rmy_open_plain, rmy_phase, rmy_close, rmy_describe, NULL};
static const w1_impl w1_raw_my_set = {"raw-set", W1_MARIADB,   rmy_open_set, rmy_phase,
                                      rmy_close, rmy_describe, NULL};

#endif /* W1_HAVE_MARIADB */
#endif /* M2M_BENCH_W1_RAW_MARIADB_H */
