/* SPDX-License-Identifier: MIT */
/*
 * w1_raw_sqlite.h — the raw-SQL baseline of W1 on SQLite: hand-written C over
 * libsqlite3, statements prepared once and reused (bind/step/reset), the
 * minimal SQL for each phase, one transaction per user. In-process SQLite
 * makes one execution per id the fastest form, so there is one baseline.
 * Included by w1.c alone.
 */
#ifndef M2M_BENCH_W1_RAW_SQLITE_H
#define M2M_BENCH_W1_RAW_SQLITE_H

#include "w1.h"

typedef struct rsq {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *ins, *sel, *del, *upd, *del_all, *read, *eager;
    int64_t *ids, *cur;  /* id lists of one call */
    unsigned char *mark; /* by related id: in the new set / present */
    uint64_t nstmt;
    uint64_t sink; /* values read, so that reading is not elided */
} rsq;

static void rsq_run(rsq *h, sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        w1_die("sqlite raw: %s: %s", sqlite3_sql(st), sqlite3_errmsg(h->db));
    sqlite3_reset(st);
    h->nstmt++;
}

static void *rsq_open(const w1_target *t, const w1_case *c) {
    rsq *h = calloc(1, sizeof *h);
    if (h == NULL)
        w1_die("out of memory");
    h->db = w1_sq_open(t->path);
    h->begin = w1_sq_prepare(h->db, "BEGIN");
    h->commit = w1_sq_prepare(h->db, "COMMIT");
    h->ins = w1_sq_prepare(h->db, "INSERT INTO role_user(user_id, role_id, granted_by)"
                                  " VALUES(?1, ?2, ?3) ON CONFLICT DO NOTHING");
    h->sel = w1_sq_prepare(h->db, "SELECT role_id FROM role_user WHERE user_id = ?1");
    h->del =
        w1_sq_prepare(h->db, "DELETE FROM role_user WHERE user_id = ?1 AND role_id = ?2");
    h->upd = w1_sq_prepare(h->db, "UPDATE role_user SET granted_by = ?3"
                                  " WHERE user_id = ?1 AND role_id = ?2");
    h->del_all = w1_sq_prepare(h->db, "DELETE FROM role_user WHERE user_id = ?1");
    h->read = w1_sq_prepare(h->db, "SELECT r.id, r.name, ru.granted_by"
                                   " FROM role_user ru JOIN roles r ON r.id = ru.role_id"
                                   " WHERE ru.user_id = ?1 AND ru.granted_by = ?2"
                                   " ORDER BY ru.role_id");
    /* The eager load binds every parent id: one statement for all users. */
    w1_buf b = {0};
    w1_buf_addf(&b, "SELECT ru.user_id, r.id, r.name, ru.granted_by"
                    " FROM role_user ru JOIN roles r ON r.id = ru.role_id"
                    " WHERE ru.user_id IN (");
    for (int64_t i = 0; i < c->users; i++)
        w1_buf_addf(&b, i ? ",?" : "?");
    w1_buf_addf(&b, ") ORDER BY ru.user_id, ru.role_id");
    h->eager = w1_sq_prepare(h->db, b.p);
    free(b.p);
    h->ids = w1_xmalloc(w1_max_ids(c) * sizeof *h->ids);
    h->cur = w1_xmalloc(w1_max_ids(c) * sizeof *h->cur);
    h->mark = calloc((size_t)c->roles + 1, 1);
    if (h->mark == NULL)
        w1_die("out of memory");
    return h;
}

static void rsq_bind_text(sqlite3_stmt *st, int i, const char *s) {
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Sync u to ids: read the current set, delete what is not wanted, insert
 * what is new. */
static void rsq_sync(rsq *h, int64_t u, const int64_t *ids, size_t n, const char *pv) {
    size_t ncur = 0;
    sqlite3_bind_int64(h->sel, 1, u);
    int rc;
    while ((rc = sqlite3_step(h->sel)) == SQLITE_ROW)
        h->cur[ncur++] = sqlite3_column_int64(h->sel, 0);
    if (rc != SQLITE_DONE)
        w1_die("sqlite raw: select: %s", sqlite3_errmsg(h->db));
    sqlite3_reset(h->sel);
    h->nstmt++;
    for (size_t i = 0; i < n; i++)
        h->mark[ids[i]] = 1;
    sqlite3_bind_int64(h->del, 1, u);
    for (size_t i = 0; i < ncur; i++) {
        if (h->mark[h->cur[i]] == 0) {
            sqlite3_bind_int64(h->del, 2, h->cur[i]);
            rsq_run(h, h->del);
        } else {
            h->mark[h->cur[i]] = 2;
        }
    }
    sqlite3_bind_int64(h->ins, 1, u);
    rsq_bind_text(h->ins, 3, pv);
    for (size_t i = 0; i < n; i++) {
        if (h->mark[ids[i]] == 1) {
            sqlite3_bind_int64(h->ins, 2, ids[i]);
            rsq_run(h, h->ins);
        }
        h->mark[ids[i]] = 0;
    }
}

static void rsq_phase(void *hv, const w1_case *c, int p, uint64_t *stmts, uint64_t *trips,
                      int64_t *rows) {
    *trips = 0;
    rsq *h = hv;
    const char *pv = w1_pivot_value[p];
    h->nstmt = 0;
    *rows = -1;
    if (p == W1_P6) {
        for (int64_t u = 1; u <= c->users; u++)
            sqlite3_bind_int64(h->eager, (int)u, u);
        int64_t n = 0;
        while (sqlite3_step(h->eager) == SQLITE_ROW) {
            h->sink += (uint64_t)sqlite3_column_int64(h->eager, 0) +
                       (uint64_t)sqlite3_column_int64(h->eager, 1) +
                       (uint64_t)sqlite3_column_bytes(h->eager, 2) +
                       (uint64_t)sqlite3_column_bytes(h->eager, 3);
            (void)sqlite3_column_text(h->eager, 2);
            (void)sqlite3_column_text(h->eager, 3);
            n++;
        }
        sqlite3_reset(h->eager);
        h->nstmt++;
        *rows = n;
        *stmts = h->nstmt;
        return;
    }
    int64_t seen = 0;
    for (int64_t u = 1; u <= c->users; u++) {
        size_t n = w1_ids(c, p, u, h->ids);
        switch (p) {
            case W1_P1:
                rsq_run(h, h->begin);
                sqlite3_bind_int64(h->ins, 1, u);
                rsq_bind_text(h->ins, 3, pv);
                for (size_t i = 0; i < n; i++) {
                    sqlite3_bind_int64(h->ins, 2, h->ids[i]);
                    rsq_run(h, h->ins);
                }
                rsq_run(h, h->commit);
                break;
            case W1_P2:
                rsq_run(h, h->begin);
                rsq_sync(h, u, h->ids, n, pv);
                rsq_run(h, h->commit);
                break;
            case W1_P3: /* toggle: delete each id; insert it where nothing was deleted */
                rsq_run(h, h->begin);
                sqlite3_bind_int64(h->del, 1, u);
                sqlite3_bind_int64(h->ins, 1, u);
                rsq_bind_text(h->ins, 3, pv);
                for (size_t i = 0; i < n; i++) {
                    sqlite3_bind_int64(h->del, 2, h->ids[i]);
                    rsq_run(h, h->del);
                    if (sqlite3_changes(h->db) == 0) {
                        sqlite3_bind_int64(h->ins, 2, h->ids[i]);
                        rsq_run(h, h->ins);
                    }
                }
                rsq_run(h, h->commit);
                break;
            case W1_P4:
                rsq_run(h, h->begin);
                sqlite3_bind_int64(h->upd, 1, u);
                rsq_bind_text(h->upd, 3, pv);
                for (size_t i = 0; i < n; i++) {
                    sqlite3_bind_int64(h->upd, 2, h->ids[i]);
                    rsq_run(h, h->upd);
                }
                rsq_run(h, h->commit);
                break;
            case W1_P5: {
                sqlite3_bind_int64(h->read, 1, u);
                rsq_bind_text(h->read, 2, pv);
                while (sqlite3_step(h->read) == SQLITE_ROW) {
                    (void)sqlite3_column_text(h->read, 1);
                    (void)sqlite3_column_text(h->read, 2);
                    h->sink += (uint64_t)sqlite3_column_int64(h->read, 0) +
                               (uint64_t)sqlite3_column_bytes(h->read, 1) +
                               (uint64_t)sqlite3_column_bytes(h->read, 2);
                    seen++;
                }
                sqlite3_reset(h->read);
                h->nstmt++;
                break;
            }
            case W1_P7: /* one statement: its own transaction */
                sqlite3_bind_int64(h->del_all, 1, u);
                rsq_run(h, h->del_all);
                break;
        }
    }
    if (p == W1_P5)
        *rows = seen;
    *stmts = h->nstmt;
}

static void rsq_close(void *hv) {
    rsq *h = hv;
    sqlite3_stmt *all[] = {h->begin, h->commit,  h->ins,  h->sel,  h->del,
                           h->upd,   h->del_all, h->read, h->eager};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(h->db);
    free(h->ids);
    free(h->cur);
    free(h->mark);
    free(h);
}

static void rsq_describe(void *hv, char *buf, size_t size) {
    (void)hv;
    snprintf(buf, size, "raw libsqlite3 %s, prepared statements, one execution per id",
             sqlite3_libversion());
}

static const w1_impl w1_raw_sqlite = {"raw",     W1_SQLITE,    rsq_open, rsq_phase,
                                      rsq_close, rsq_describe, NULL};

#endif /* M2M_BENCH_W1_RAW_SQLITE_H */
