/* SPDX-License-Identifier: MIT */
/*
 * w1_raw_pg.h — the raw-SQL baselines of W1 on PostgreSQL, hand-written C over
 * libpq with named prepared statements:
 *   raw      one execution (one round trip) per id, one transaction per user;
 *   raw-set  array parameters (unnest, = ANY, <> ALL): one statement, so one
 *            round trip and one transaction, per user and operation.
 * Included by w1.c alone.
 */
#ifndef M2M_BENCH_W1_RAW_PG_H
#define M2M_BENCH_W1_RAW_PG_H

#include "w1.h"

#ifdef W1_HAVE_PG

typedef struct rpg {
    PGconn *pg;
    int set; /* 1: raw-set */
    int64_t *ids, *cur;
    unsigned char *mark;
    w1_buf arr;
    uint64_t nstmt;
    uint64_t sink;
} rpg;

static void rpg_prepare(rpg *h, const char *name, const char *sql) {
    PGresult *r = PQprepare(h->pg, name, sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        w1_die("pg raw: prepare %s: %s", sql, PQerrorMessage(h->pg));
    PQclear(r);
}

/* Run a prepared statement; the caller PQclear()s the result. */
static PGresult *rpg_run(rpg *h, const char *name, int n, const char *const *vals) {
    PGresult *r = PQexecPrepared(h->pg, name, n, vals, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        w1_die("pg raw: %s: %s", name, PQerrorMessage(h->pg));
    h->nstmt++;
    return r;
}

static void rpg_run0(rpg *h, const char *name, int n, const char *const *vals) {
    PQclear(rpg_run(h, name, n, vals));
}

static const char rpg_read_sql[] = "SELECT r.id, r.name, ru.granted_by"
                                   " FROM role_user ru JOIN roles r ON r.id = ru.role_id"
                                   " WHERE ru.user_id = $1 AND ru.granted_by = $2"
                                   " ORDER BY ru.role_id";

static void *rpg_open_mode(const w1_target *t, const w1_case *c, int set) {
    rpg *h = calloc(1, sizeof *h);
    if (h == NULL)
        w1_die("out of memory");
    h->pg = w1_pg_connect(t);
    h->set = set;
    rpg_prepare(h, "read", rpg_read_sql);
    rpg_prepare(h, "del_all", "DELETE FROM role_user WHERE user_id = $1");
    if (set) {
        rpg_prepare(h, "attach",
                    "INSERT INTO role_user(user_id, role_id, granted_by)"
                    " SELECT $1::int4, x, $3::text FROM unnest($2::int4[]) x"
                    " ON CONFLICT DO NOTHING");
        rpg_prepare(h, "sync",
                    "WITH d AS (DELETE FROM role_user WHERE user_id = $1::int4"
                    "  AND role_id <> ALL($2::int4[]))"
                    " INSERT INTO role_user(user_id, role_id, granted_by)"
                    " SELECT $1::int4, x, $3::text FROM unnest($2::int4[]) x"
                    " ON CONFLICT DO NOTHING");
        /* <> ALL is quadratic; for big sets an anti-join. */
        rpg_prepare(h, "sync_big",
                    "WITH d AS (DELETE FROM role_user ru WHERE ru.user_id = $1::int4"
                    "  AND NOT EXISTS (SELECT 1 FROM unnest($2::int4[]) x"
                    "                  WHERE x = ru.role_id))"
                    " INSERT INTO role_user(user_id, role_id, granted_by)"
                    " SELECT $1::int4, x, $3::text FROM unnest($2::int4[]) x"
                    " ON CONFLICT DO NOTHING");
        rpg_prepare(h, "toggle",
                    "WITH d AS (DELETE FROM role_user WHERE user_id = $1::int4"
                    "  AND role_id = ANY($2::int4[]) RETURNING role_id)"
                    " INSERT INTO role_user(user_id, role_id, granted_by)"
                    " SELECT $1::int4, x, $3::text FROM unnest($2::int4[]) x"
                    " WHERE x NOT IN (SELECT role_id FROM d)");
        rpg_prepare(h, "upd",
                    "UPDATE role_user SET granted_by = $3::text"
                    " WHERE user_id = $1::int4 AND role_id = ANY($2::int4[])");
        rpg_prepare(h, "eager",
                    "SELECT ru.user_id, r.id, r.name, ru.granted_by"
                    " FROM role_user ru JOIN roles r ON r.id = ru.role_id"
                    " WHERE ru.user_id = ANY($1::int4[])"
                    " ORDER BY ru.user_id, ru.role_id");
    } else {
        rpg_prepare(h, "begin", "BEGIN");
        rpg_prepare(h, "commit", "COMMIT");
        rpg_prepare(h, "ins",
                    "INSERT INTO role_user(user_id, role_id, granted_by)"
                    " VALUES($1, $2, $3) ON CONFLICT DO NOTHING");
        rpg_prepare(h, "sel", "SELECT role_id FROM role_user WHERE user_id = $1");
        rpg_prepare(h, "del",
                    "DELETE FROM role_user WHERE user_id = $1 AND role_id = $2");
        rpg_prepare(h, "upd",
                    "UPDATE role_user SET granted_by = $3"
                    " WHERE user_id = $1 AND role_id = $2");
        w1_buf b = {0};
        w1_buf_addf(&b, "SELECT ru.user_id, r.id, r.name, ru.granted_by"
                        " FROM role_user ru JOIN roles r ON r.id = ru.role_id"
                        " WHERE ru.user_id IN (");
        for (int64_t i = 1; i <= c->users; i++)
            w1_buf_addf(&b, i > 1 ? ",$%" PRId64 : "$%" PRId64, i);
        w1_buf_addf(&b, ") ORDER BY ru.user_id, ru.role_id");
        rpg_prepare(h, "eager", b.p);
        free(b.p);
    }
    h->ids = w1_xmalloc(w1_max_ids(c) * sizeof *h->ids);
    h->cur = w1_xmalloc(w1_max_ids(c) * sizeof *h->cur);
    h->mark = calloc((size_t)c->roles + 1, 1);
    if (h->mark == NULL)
        w1_die("out of memory");
    return h;
}

static void *rpg_open_plain(const w1_target *t, const w1_case *c) {
    return rpg_open_mode(t, c, 0);
}
static void *rpg_open_set(const w1_target *t, const w1_case *c) {
    return rpg_open_mode(t, c, 1);
}

/* Read every value of a result the way a program would: ids as integers,
 * text as text; returns the number of rows. */
static int64_t rpg_consume(rpg *h, PGresult *r) {
    int nt = PQntuples(r), nf = PQnfields(r);
    for (int i = 0; i < nt; i++)
        for (int j = 0; j < nf; j++) {
            const char *v = PQgetvalue(r, i, j);
            h->sink += PQftype(r, j) == 23 ? (uint64_t)strtoll(v, NULL, 10)
                                           : (uint64_t)PQgetlength(r, i, j);
        }
    return nt;
}

/* Plain sync: read the set, delete the unwanted, insert the new. */
static void rpg_plain_sync(rpg *h, const char *us, const int64_t *ids, size_t n,
                           const char *pv) {
    char is[24];
    const char *pa[3] = {us, is, pv};
    PGresult *r = rpg_run(h, "sel", 1, pa);
    size_t ncur = (size_t)PQntuples(r);
    for (size_t i = 0; i < ncur; i++)
        h->cur[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
    PQclear(r);
    for (size_t i = 0; i < n; i++)
        h->mark[ids[i]] = 1;
    for (size_t i = 0; i < ncur; i++) {
        if (h->mark[h->cur[i]] == 0) {
            snprintf(is, sizeof is, "%" PRId64, h->cur[i]);
            rpg_run0(h, "del", 2, pa);
        } else {
            h->mark[h->cur[i]] = 2;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (h->mark[ids[i]] == 1) {
            snprintf(is, sizeof is, "%" PRId64, ids[i]);
            rpg_run0(h, "ins", 3, pa);
        }
        h->mark[ids[i]] = 0;
    }
}

static void rpg_phase(void *hv, const w1_case *c, int p, uint64_t *stmts, uint64_t *trips,
                      int64_t *rows) {
    rpg *h = hv;
    const char *pv = w1_pivot_value[p];
    h->nstmt = 0;
    *rows = -1;
    if (p == W1_P6) {
        PGresult *r;
        if (h->set) {
            int64_t *all = w1_xmalloc((size_t)c->users * sizeof *all);
            for (int64_t u = 1; u <= c->users; u++)
                all[u - 1] = u;
            const char *pa[1] = {w1_id_list(&h->arr, all, (size_t)c->users, '{', '}')};
            free(all);
            r = rpg_run(h, "eager", 1, pa);
        } else {
            char *txt = w1_xmalloc((size_t)c->users * 24);
            const char **pa = w1_xmalloc((size_t)c->users * sizeof *pa);
            for (int64_t u = 1; u <= c->users; u++) {
                pa[u - 1] = txt + (u - 1) * 24;
                snprintf(txt + (u - 1) * 24, 24, "%" PRId64, u);
            }
            r = rpg_run(h, "eager", (int)c->users, pa);
            free(pa);
            free(txt);
        }
        *rows = rpg_consume(h, r);
        PQclear(r);
        *stmts = *trips = h->nstmt;
        return;
    }
    int64_t seen = 0;
    for (int64_t u = 1; u <= c->users; u++) {
        size_t n = w1_ids(c, p, u, h->ids);
        char us[24], is[24];
        snprintf(us, sizeof us, "%" PRId64, u);
        if (p == W1_P5) {
            const char *pa[2] = {us, pv};
            PGresult *r = rpg_run(h, "read", 2, pa);
            seen += rpg_consume(h, r);
            PQclear(r);
            continue;
        }
        if (p == W1_P7) {
            const char *pa[1] = {us};
            rpg_run0(h, "del_all", 1, pa);
            continue;
        }
        if (h->set) {
            static const char *const names[] = {"attach", "sync", "toggle", "upd"};
            const char *name = names[p];
            if (p == W1_P2 && n > 1000)
                name = "sync_big";
            const char *pa[3] = {us, w1_id_list(&h->arr, h->ids, n, '{', '}'), pv};
            rpg_run0(h, name, 3, pa);
            continue;
        }
        const char *pa[3] = {us, is, pv};
        rpg_run0(h, "begin", 0, NULL);
        switch (p) {
            case W1_P1:
                for (size_t i = 0; i < n; i++) {
                    snprintf(is, sizeof is, "%" PRId64, h->ids[i]);
                    rpg_run0(h, "ins", 3, pa);
                }
                break;
            case W1_P2:
                rpg_plain_sync(h, us, h->ids, n, pv);
                break;
            case W1_P3: /* toggle: delete each id; insert it where nothing was deleted */
                for (size_t i = 0; i < n; i++) {
                    snprintf(is, sizeof is, "%" PRId64, h->ids[i]);
                    PGresult *r = rpg_run(h, "del", 2, pa);
                    int gone = strcmp(PQcmdTuples(r), "0") != 0;
                    PQclear(r);
                    if (!gone)
                        rpg_run0(h, "ins", 3, pa);
                }
                break;
            case W1_P4:
                for (size_t i = 0; i < n; i++) {
                    snprintf(is, sizeof is, "%" PRId64, h->ids[i]);
                    rpg_run0(h, "upd", 3, pa);
                }
                break;
        }
        rpg_run0(h, "commit", 0, NULL);
    }
    if (p == W1_P5)
        *rows = seen;
    *stmts = *trips = h->nstmt;
}

static void rpg_close(void *hv) {
    rpg *h = hv;
    PQfinish(h->pg);
    free(h->ids);
    free(h->cur);
    free(h->mark);
    free(h->arr.p);
    free(h);
}

static void rpg_describe(void *hv, char *buf, size_t size) {
    rpg *h = hv;
    int sv = PQserverVersion(h->pg);
    snprintf(buf, size, "raw libpq %d, server %d.%d, %s", PQlibVersion(), sv / 10000,
             sv % 10000,
             h->set ? "array parameters, one statement per user and operation"
                    : "one execution per id, one transaction per user");
}

static long rpg_server_pid(void *hv) { return PQbackendPID(((rpg *)hv)->pg); }

static const w1_impl w1_raw_pg = {"raw",     W1_PG,        rpg_open_plain, rpg_phase,
                                  rpg_close, rpg_describe, rpg_server_pid};
static const w1_impl w1_raw_pg_set = {"raw-set", W1_PG,        rpg_open_set,  rpg_phase,
                                      rpg_close, rpg_describe, rpg_server_pid};

#endif /* W1_HAVE_PG */
#endif /* M2M_BENCH_W1_RAW_PG_H */
