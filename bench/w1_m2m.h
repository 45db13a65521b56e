/* SPDX-License-Identifier: MIT */
/*
 * w1_m2m.h — W1 through the m2m API, used as an application would: one
 * relation, the phases as calls, reads drained row by row; on a Galera
 * cluster a writer and a causal reader per node. Included by w1.c alone.
 */
#ifndef M2M_BENCH_W1_M2M_H
#define M2M_BENCH_W1_M2M_H

#include "w1.h"
#include "w1_mariadb.h"

#include <m2m.h>

typedef struct mm {
    m2m_db *db;
    m2m_relation *rel;
    /* mariadb: a writer and a causal reader per node (both db and rel on
     * one server); user u is written on node u mod n */
    int n;
    m2m_db *wdb[8], *rdb[8];
    m2m_relation *wrel[8], *rrel[8];
    int backend;
    int64_t *ids;
    m2m_item *items;
    m2m_value *vals;
    uint64_t sink;
    long server_pid; /* PostgreSQL backend, for its CPU time */
} mm;

static void mm_check(mm *h, int rc, const char *what) {
    if (rc != M2M_OK)
        w1_die("m2m: %s: %s (%s)", what, m2m_errmsg(h->db), m2m_errname(rc));
}

static void *mm_open(const w1_target *t, const w1_case *c) {
    mm *h = calloc(1, sizeof *h);
    if (h == NULL)
        w1_die("out of memory");
    h->backend = t->backend;
    char url[4200];
    int rc;
    if (t->backend == W1_SQLITE) {
        snprintf(url, sizeof url, "sqlite:%s", t->path);
        rc = m2m_open(url, &h->db);
        if (rc != M2M_OK)
            w1_die("m2m: open %s: %s", url, m2m_errmsg(h->db));
        mm_check(h, m2m_exec(h->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"),
                 "pragmas");
    } else if (t->backend == W1_MARIADB) {
        h->n = w1_my_nodes(t);
    } else {
        rc = m2m_open(t->conninfo, &h->db);
        if (rc != M2M_OK)
            w1_die("m2m: open: %s", m2m_errmsg(h->db));
        char sql[128];
        snprintf(sql, sizeof sql, "SET search_path TO %s", t->schema);
        mm_check(h, m2m_exec(h->db, sql), "search_path");
        m2m_rows *r = NULL;
        mm_check(h, m2m_sql(h->db, "SELECT pg_backend_pid()", NULL, 0, &r),
                 "backend pid");
        if (m2m_rows_next(r) == M2M_ROW)
            h->server_pid = (long)m2m_rows_value(r, 0).i;
        m2m_rows_free(r);
    }
    static const char *const pivot_cols[] = {"granted_by", NULL};
    m2m_relation_def def = {
        .parent_table = "users",
        .related_table = "roles",
        .pivot_table = "role_user",
        .foreign_pivot_key = "user_id",
        .related_pivot_key = "role_id",
        .pivot_columns = pivot_cols,
    };
    if (t->backend == W1_MARIADB) {
        for (int i = 0; i < h->n && i < 8; i++)
            for (int r = 0; r < (h->n > 1 ? 2 : 1); r++) {
                w1_my_m2m_url(t, i, url, sizeof url);
                if (r) /* a reader on a cluster: causal reads */
                    strncat(url, "?wsrep_sync_wait=1", sizeof url - strlen(url) - 1);
                m2m_db **db = r ? &h->rdb[i] : &h->wdb[i];
                h->db = NULL;
                if (m2m_open(url, db) != M2M_OK)
                    w1_die("m2m: open node %d: %s", i + 1, m2m_errmsg(*db));
                h->db = *db;
                m2m_relation **rel = r ? &h->rrel[i] : &h->wrel[i];
                mm_check(h, m2m_relation_open(*db, &def, rel), "relation_open");
                if (!r && h->n == 1)
                    h->rdb[i] = *db, h->rrel[i] = *rel;
            }
        h->db = h->wdb[0], h->rel = h->wrel[0];
    } else
        mm_check(h, m2m_relation_open(h->db, &def, &h->rel), "relation_open");
    size_t max = w1_max_ids(c);
    if ((size_t)c->users > max)
        max = (size_t)c->users;
    h->ids = w1_xmalloc(max * sizeof *h->ids);
    h->items = calloc(max, sizeof *h->items);
    h->vals = w1_xmalloc(max * sizeof *h->vals);
    if (h->items == NULL)
        w1_die("out of memory");
    return h;
}

/* Iterate a result to its end, reading each row's values; returns rows. */
static int64_t mm_drain(mm *h, m2m_query *q, int with_parent) {
    m2m_rows *rows = NULL;
    mm_check(h, m2m_query_get(q, &rows), "query_get");
    int64_t n = 0;
    int rc;
    while ((rc = m2m_rows_next(rows)) == M2M_ROW) {
        m2m_value id = m2m_rows_value(rows, 0);
        m2m_value name = m2m_rows_value(rows, 1);
        m2m_value pv = m2m_rows_pivot_value(rows, 0);
        h->sink += (uint64_t)id.i + (name.type == M2M_TTEXT ? strlen(name.s) : 0) +
                   (pv.type == M2M_TTEXT ? strlen(pv.s) : 0);
        if (with_parent)
            h->sink += (uint64_t)m2m_rows_parent(rows).i;
        n++;
    }
    if (rc != M2M_DONE)
        mm_check(h, rc, "rows_next");
    m2m_rows_free(rows);
    return n;
}

/* mariadb: node i's writer (read 0) or reader relation; h->db follows, for
 * error messages. */
static m2m_relation *mm_node(mm *h, int i, int read) {
    h->db = read ? h->rdb[i] : h->wdb[i];
    return read ? h->rrel[i] : h->wrel[i];
}

/* Reset the statistics (out NULL), or sum them over the connections. */
static void mm_stats(mm *h, m2m_stats *out) {
    m2m_db *all[16];
    int n = 0;
    if (!h->n)
        all[n++] = h->db;
    for (int i = 0; i < h->n; i++) {
        all[n++] = h->wdb[i];
        if (h->rdb[i] != h->wdb[i])
            all[n++] = h->rdb[i];
    }
    if (out)
        memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++) {
        if (!out) {
            m2m_stats_reset(all[i]);
            continue;
        }
        m2m_stats st;
        m2m_stats_get(all[i], &st);
        out->executed += st.executed;
        out->round_trips += st.round_trips;
    }
}

static void mm_phase(void *hv, const w1_case *c, int p, uint64_t *stmts, uint64_t *trips,
                     int64_t *rows) {
    mm *h = hv;
    m2m_col col = {"granted_by", M2M_TEXT(w1_pivot_value[p])};
    m2m_opts opts = {.pivot = &col, .npivot = 1};
    m2m_query *q = NULL;
    m2m_stats st;
    *rows = -1;
    mm_stats(h, NULL);
    m2m_relation *rel = h->rel;
    if (p == W1_P6) {
        if (h->n)
            rel = mm_node(h, 0, 1);
        for (int64_t u = 1; u <= c->users; u++)
            h->vals[u - 1] = M2M_INT(u);
        mm_check(h, m2m_query_new_many(rel, h->vals, (size_t)c->users, &q),
                 "query_new_many");
        mm_check(h, m2m_query_with_pivot(q, "granted_by"), "with_pivot");
        *rows = mm_drain(h, q, 1);
        m2m_query_free(q);
        mm_stats(h, &st);
        *stmts = st.executed;
        *trips = st.round_trips;
        return;
    }
    int64_t seen = 0;
    m2m_query *reads[sizeof h->rrel / sizeof *h->rrel] = {0};
    for (int64_t u = 1; u <= c->users; u++) {
        size_t n = w1_ids(c, p, u, h->ids);
        if (h->n)
            rel = mm_node(h, (int)(u % h->n), p == W1_P5);
        for (size_t i = 0; i < n; i++) {
            h->items[i].id = M2M_INT(h->ids[i]);
            h->vals[i] = M2M_INT(h->ids[i]);
        }
        switch (p) {
            case W1_P1:
                mm_check(h, m2m_attach(rel, M2M_INT(u), h->items, n, &opts, NULL),
                         "attach");
                break;
            case W1_P2:
                mm_check(h, m2m_sync(rel, M2M_INT(u), h->items, n, &opts, NULL), "sync");
                break;
            case W1_P3:
                mm_check(h, m2m_toggle(rel, M2M_INT(u), h->items, n, &opts, NULL),
                         "toggle");
                break;
            case W1_P4:
                mm_check(h, m2m_update_pivot(rel, M2M_INT(u), h->vals, n, &col, 1, NULL),
                         "update_pivot");
                break;
            case W1_P5: {
                /* A query per reader (a cluster node's each), built once and
                 * re-pointed at each user, as the baseline prepares once. */
                m2m_query **rq = &reads[h->n ? u % h->n : 0];
                if (!*rq) {
                    mm_check(h, m2m_query_new(rel, M2M_INT(u), rq), "query_new");
                    mm_check(
                        h,
                        m2m_query_where_pivot(*rq, "granted_by", "=", M2M_TEXT("sync")),
                        "where_pivot");
                    mm_check(h, m2m_query_with_pivot(*rq, "granted_by"), "with_pivot");
                } else
                    mm_check(h, m2m_query_set_parent(*rq, M2M_INT(u)),
                             "query_set_parent");
                seen += mm_drain(h, *rq, 0);
                break;
            }
            case W1_P7:
                mm_check(h, m2m_detach(rel, M2M_INT(u), NULL, 0, NULL, NULL), "detach");
                break;
        }
    }
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++)
        m2m_query_free(reads[i]);
    if (p == W1_P5)
        *rows = seen;
    mm_stats(h, &st);
    *stmts = st.executed;
    *trips = st.round_trips;
}

static void mm_close(void *hv) {
    mm *h = hv;
    for (int i = 0; i < h->n; i++) {
        if (h->rdb[i] != h->wdb[i]) {
            m2m_relation_close(h->rrel[i]);
            m2m_close(h->rdb[i]);
        }
        m2m_relation_close(h->wrel[i]);
        m2m_close(h->wdb[i]);
    }
    if (!h->n) {
        m2m_relation_close(h->rel);
        m2m_close(h->db);
    }
    free(h->ids);
    free(h->items);
    free(h->vals);
    free(h);
}

static void mm_describe(void *hv, char *buf, size_t size) {
    mm *h = hv;
    if (h->backend == W1_SQLITE)
        snprintf(buf, size, "m2m %s, sqlite %s", m2m_libversion(), sqlite3_libversion());
    else if (h->backend == W1_MARIADB)
        snprintf(buf, size, "m2m %s, mariadb, %d node(s)%s", m2m_libversion(), h->n,
                 h->n > 1 ? ", writes round-robin, causal reads" : "");
    else
#ifdef W1_HAVE_PG
        snprintf(buf, size, "m2m %s, postgresql, libpq %d", m2m_libversion(),
                 PQlibVersion());
#else
        snprintf(buf, size, "m2m %s, postgresql", m2m_libversion());
#endif
}

static long mm_server_pid(void *hv) { return ((mm *)hv)->server_pid; }

static const w1_impl w1_m2m_sqlite = {"m2m",    W1_SQLITE,   mm_open, mm_phase,
                                      mm_close, mm_describe, NULL};
static const w1_impl w1_m2m_pg = {"m2m",    W1_PG,       mm_open,      mm_phase,
                                  mm_close, mm_describe, mm_server_pid};

static const w1_impl w1_m2m_my = {"m2m",    W1_MARIADB,  mm_open, mm_phase,
                                  mm_close, mm_describe, NULL};

#endif
