/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's execution: statements prepared lazily, a batch
 * of steps sent as one pipeline (one round trip), scripts. */
#include "drivers/pg/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deallocations queued per batch at most, so one batch stays small. */
enum { MAX_DEALLOC = 32 };

/* Array literal bytes kept between batches; W1's are under 1 KiB. */
enum { ARRAYS_KEEP = 64 * 1024 };

/* Preparing on the server is deferred to the statement's first run, where
 * the Parse travels in the same pipeline as the execution: a cold statement
 * costs no extra round trip, and after a reconnect it is simply re-sent. */
int m2m__pg_prepare(m2m_db *db, const char *sql, m2m__stmt **out) {
    *out = NULL;
    m2m__stmt *s = m2m__calloc(1, sizeof *s);
    if (!s || !(s->sql = m2m__strdup(sql))) {
        m2m__free(s);
        return m2m__set_error(db, M2M_NOMEM, "out of memory preparing a statement");
    }
    db->stats.prepared++;
    *out = s;
    return M2M_OK;
}

/* The server-side statement is deallocated in the next batch (it rides along
 * for free); if the list cannot grow it lives until the connection closes. */
void m2m__pg_finalize(m2m_db *db, m2m__stmt *s) {
    if (!s)
        return;
    pg_conn *c = db ? conn(db) : NULL;
    if (c && s->gen == c->gen &&
        m2m__grow((void **)&c->dead, &c->deadcap, c->ndead + 1, sizeof *c->dead) ==
            M2M_OK)
        c->dead[c->ndead++] = s->num;
    m2m__free(s->sql);
    m2m__free(s);
}

/* The next result of the pipeline and the NULL that ends its statement;
 * NULL, noting it, at the sync point (reached early only when the
 * connection broke). */
static PGresult *take(pg_conn *c) {
    PGresult *res = PQgetResult(c->pg);
    if (res && PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
        PQclear(res);
        c->synced = true;
        return NULL;
    }
    if (res) {
        PGresult *extra;
        while ((extra = PQgetResult(c->pg)) != NULL)
            PQclear(extra);
    }
    return res;
}

/* Read up to the sync point and leave pipeline mode. Gives up on a dead
 * connection: m2m_reconnect replaces it. */
void m2m__pg_finish_pipeline(pg_conn *c) {
    int nulls = 0;
    while (PQstatus(c->pg) == CONNECTION_OK &&
           PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF) {
        if (c->synced && PQexitPipelineMode(c->pg))
            break;
        PGresult *res = PQgetResult(c->pg);
        if (!res) {
            if (++nulls > 1)
                break;
            continue;
        }
        nulls = 0;
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
            c->synced = true;
        PQclear(res);
    }
}

/* Queue the steps, a Parse before each cold statement, and pending
 * deallocations, then one sync: the whole batch is one round trip. Returns
 * how many steps were queued in *nsent and how many deallocations in *ndel. */
static int send_batch(m2m_db *db, m2m__step *steps, size_t n, size_t *nsent,
                      size_t *ndel) {
    pg_conn *c = conn(db);
    char name[32];
    *nsent = *ndel = 0;
    const char *const *pv = c->pv;
    for (size_t k = 0; k < n; k++) {
        m2m__stmt *s = steps[k].stmt;
        if (s->gen != c->gen) {
            s->num = ++c->seq;
            stmt_name(name, s->num);
            if (!PQsendPrepare(c->pg, name, s->sql, 0, NULL))
                return m2m__pg_fail(db, NULL);
            s->gen = c->gen;
            s->batch = c->batch;
            s->step = k;
        }
        stmt_name(name, s->num);
        if (!PQsendQueryPrepared(c->pg, name, (int)steps[k].nparams, pv, NULL, NULL, 0))
            return m2m__pg_fail(db, NULL);
        pv += steps[k].nparams;
        *nsent = k + 1;
    }
    for (size_t d = 0; d < c->ndead && d < MAX_DEALLOC; d++) {
        char sql[48];
        stmt_name(name, c->dead[d]);
        snprintf(sql, sizeof sql, "DEALLOCATE %s", name);
        if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0))
            return m2m__pg_fail(db, NULL);
        *ndel = d + 1;
    }
    return M2M_OK;
}

/* Results of one step; rc is the batch's first error so far. After an error
 * or a stop, results are only read, to keep the bookkeeping exact. */
static int read_step(m2m_db *db, m2m__step *sp, size_t k, int rc) {
    pg_conn *c = conn(db);
    m2m__stmt *s = sp->stmt;
    if (s->batch == c->batch && s->step == k) {
        PGresult *res = take(c);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            s->gen = 0; /* skipped or failed: the statement does not exist */
            if (!rc && res && PQresultStatus(res) != PGRES_PIPELINE_ABORTED)
                rc = m2m__pg_fail(db, res);
        }
        s->batch = 0;
        PQclear(res);
    }
    PGresult *res = take(c);
    ExecStatusType est = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (res && est != PGRES_PIPELINE_ABORTED)
        m2m__note_exec(db, s->sql);
    if (rc) {
        /* already failed: nothing more to report */
    } else if (est == PGRES_TUPLES_OK) {
        int nrows = PQntuples(res);
        note_rows(db, nrows);
        sp->changes = nrows;
        m2m__cursor cur = {.db = db};
        set_res(&cur, res);
        for (int r = 0; sp->on_row && r < nrows && !rc; r++) {
            cur.row = r;
            rc = sp->on_row(sp->arg, &cur);
        }
    } else if (est == PGRES_COMMAND_OK) {
        sp->changes = strtoll(PQcmdTuples(res), NULL, 10);
    } else {
        rc = m2m__pg_fail(db, res);
    }
    PQclear(res);
    return rc;
}

int m2m__pg_run(m2m_db *db, m2m__step *steps, size_t n) {
    pg_conn *c = conn(db);
    db->unsent = true;
    int rc = m2m__pg_check_usable(db);
    if (!rc)
        rc = m2m__pg_params(db, steps, n);
    if (!rc && !PQenterPipelineMode(c->pg))
        rc = m2m__pg_fail(db, NULL);
    if (rc)
        return rc;
    db->lost_early = db->unsent = false;
    c->batch++;
    c->synced = false;
    size_t nsent, ndel;
    rc = send_batch(db, steps, n, &nsent, &ndel);
    /* libpq holds its own copy now; a big write's literals are not kept
     * for the connection's life. */
    if (c->arrays.cap > ARRAYS_KEEP)
        m2m__buf_free(&c->arrays);
    if (!PQpipelineSync(c->pg) && !rc)
        rc = m2m__pg_fail(db, NULL);
    db->stats.round_trips++;
    for (size_t k = 0; k < nsent; k++)
        rc = read_step(db, &steps[k], k, rc);
    /* A deallocation that did not run stays queued; one that failed is
     * dropped (the statement is gone either way). */
    size_t keep = 0;
    for (size_t d = 0; d < ndel; d++) {
        PGresult *res = take(c);
        if (!res || PQresultStatus(res) == PGRES_PIPELINE_ABORTED)
            c->dead[keep++] = c->dead[d];
        PQclear(res);
    }
    if (ndel) {
        memmove(c->dead + keep, c->dead + ndel, (c->ndead - ndel) * sizeof *c->dead);
        c->ndead -= ndel - keep;
    }
    m2m__pg_finish_pipeline(c);
    if (!rc && PQstatus(c->pg) == CONNECTION_BAD)
        rc = m2m__pg_fail(db, NULL);
    return rc;
}

int m2m__pg_exec_script(m2m_db *db, const char *script) {
    int rc = m2m__pg_check_usable(db);
    if (rc)
        return rc;
    m2m__note_exec(db, script);
    db->stats.round_trips++;
    PGresult *res = PQexec(conn(db)->pg, script);
    ExecStatusType est = PQresultStatus(res);
    if (est != PGRES_COMMAND_OK && est != PGRES_TUPLES_OK && est != PGRES_EMPTY_QUERY)
        rc = m2m__pg_fail(db, res);
    PQclear(res);
    return rc;
}
