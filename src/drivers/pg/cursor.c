/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's cursors: a read streamed in single-row mode, or
 * taken whole. */
#include "drivers/pg/pg.h"

/* The rest of a cursor's statement: its results, the sync, pipeline off. */
static void cursor_drain(pg_conn *c) {
    PGresult *res;
    while ((res = PQgetResult(c->pg)) != NULL)
        PQclear(res);
    m2m__pg_finish_pipeline(c);
}

/* Streaming cursors read one row at a time (single-row mode), so memory
 * stays at one row whatever the result size. The statement runs as a
 * one-query pipeline: libpq 15 leaves single-row mode armed after the
 * query, and only the advance past it to the sync disarms it for the next
 * batch. The first result is read at open so that errors surface there and
 * column names are known before the first row. A whole cursor takes the
 * result in one piece (no per-row copy) and drops it when it holds more
 * than whole rows; it still holds the connection until read or closed, so
 * that the one-cursor rule does not depend on the size of a result. */
int m2m__pg_cursor_open(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n,
                        size_t whole, m2m__cursor **out) {
    pg_conn *c = conn(db);
    PGresult *res = NULL;
    char name[32];
    bool piped = false;
    *out = NULL;
    int rc = m2m__pg_check_usable(db);
    if (rc)
        return rc;
    m2m__cursor *cur = m2m__calloc(1, sizeof *cur);
    if (!cur)
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a cursor");
    cur->db = db;
    m2m__step one = {.stmt = s, .params = p, .nparams = n};
    if ((rc = m2m__pg_params(db, &one, 1)) != M2M_OK)
        goto exit;
    /* Single-row mode applies only to the head of a pipeline, so a cold
     * statement cannot be parsed in the same round trip. Its first read
     * runs unnamed (one-shot SQL such as m2m_sql then never lingers on the
     * server); a second read prepares it for good. */
    if (s->gen != c->gen && s->read_once) {
        uint64_t num = ++c->seq;
        stmt_name(name, num);
        res = PQprepare(c->pg, name, s->sql, 0, NULL);
        db->stats.round_trips++;
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = m2m__pg_fail(db, res);
            goto exit;
        }
        PQclear(res);
        res = NULL;
        s->gen = c->gen;
        s->num = num;
    }
    if (!PQenterPipelineMode(c->pg)) {
        rc = m2m__pg_fail(db, NULL);
        goto exit;
    }
    piped = true;
    c->synced = false;
    int sent;
    if (s->gen != c->gen) {
        s->read_once = true;
        sent = PQsendQueryParams(c->pg, s->sql, (int)n, NULL, c->pv, NULL, NULL, 0);
    } else {
        stmt_name(name, s->num);
        sent = PQsendQueryPrepared(c->pg, name, (int)n, c->pv, NULL, NULL, 0);
    }
    if (!sent || (!whole && !PQsetSingleRowMode(c->pg)) || !PQpipelineSync(c->pg)) {
        rc = m2m__pg_fail(db, NULL);
        goto exit;
    }
    m2m__note_exec(db, s->sql);
    db->stats.round_trips++;
    res = PQgetResult(c->pg);
    switch (PQresultStatus(res)) {
        case PGRES_SINGLE_TUPLE:
            note_rows(db, 1);
            cur->primed = true;
            break;
        case PGRES_TUPLES_OK:
            if (whole)
                note_rows(db, PQntuples(res));
            if (whole && (size_t)PQntuples(res) > whole) {
                rc = M2M__MORE;
                goto exit;
            }
            if (whole && PQntuples(res) > 0) {
                cur->whole = true;
                cur->row = -1;
                break;
            }
            cur->done = true;
            break;
        case PGRES_COMMAND_OK:
            cur->done = true;
            break;
        default:
            rc = m2m__pg_fail(db, res);
            goto exit;
    }
    set_res(cur, res);
    if (cur->done || cur->whole)
        cursor_drain(c);
    if (!cur->done) {
        cur->holding = true;
        db->cursor_busy = true;
    }
    *out = cur;
    return M2M_OK;
exit:
    PQclear(res);
    if (piped)
        cursor_drain(c);
    m2m__free(cur);
    return rc;
}

static void release(m2m__cursor *cur) {
    cur->done = true;
    if (cur->holding) {
        cur->holding = false;
        cur->db->cursor_busy = false;
    }
}

int m2m__pg_cursor_next(m2m__cursor *cur) {
    if (cur->primed) {
        cur->primed = false;
        return M2M_ROW;
    }
    if (cur->done)
        return M2M_DONE;
    if (cur->whole) {
        if (++cur->row < cur->nrows)
            return M2M_ROW;
        release(cur);
        return M2M_DONE;
    }
    pg_conn *c = conn(cur->db);
    PGresult *res = PQgetResult(c->pg);
    ExecStatusType est = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (est == PGRES_SINGLE_TUPLE) {
        PQclear(cur->res);
        set_res(cur, res);
        return M2M_ROW;
    }
    int rc = M2M_DONE;
    if (est != PGRES_TUPLES_OK && est != PGRES_COMMAND_OK)
        rc = m2m__pg_fail(cur->db, res);
    bool answered = res != NULL; /* NULL: the connection broke */
    PQclear(res);
    if (answered)
        cursor_drain(c);
    release(cur);
    return rc;
}

int m2m__pg_cursor_ncols(m2m__cursor *cur) { return cur->ncols; }

const char *m2m__pg_cursor_name(m2m__cursor *cur, int i) {
    return cur->res ? PQfname(cur->res, i) : NULL;
}

/* Closing early must leave the connection usable: outside a caller's
 * transaction the rest of the query is cancelled (a million unread rows are
 * not worth reading); inside one a cancel would abort the transaction, so
 * the rows are read and dropped instead. */
void m2m__pg_cursor_close(m2m__cursor *cur) {
    if (!cur)
        return;
    if (cur->holding && cur->whole) {
        release(cur); /* its pipeline is already read */
    } else if (cur->holding) {
        pg_conn *c = conn(cur->db);
        if (!cur->db->in_txn) {
            PGcancel *cancel = PQgetCancel(c->pg);
            char err[256];
            if (cancel)
                PQcancel(cancel, err, sizeof err);
            PQfreeCancel(cancel);
        }
        cursor_drain(c);
        release(cur);
    }
    PQclear(cur->res);
    m2m__free(cur);
}
