/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend (libpq): pipelined batches, streaming cursors,
 * SQLSTATE mapping. */
#include "drivers/pg/pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs of pg_type.h (stable across server versions). */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701
};

/* Deallocations queued per batch at most, so one batch stays small. */
enum { MAX_DEALLOC = 32 };

typedef struct pg_conn {
    PGconn *pg;
    char *url;      /* kept for m2m_reconnect */
    uint64_t gen;   /* bumped per connection: statements re-prepare lazily */
    uint64_t seq;   /* server statement names m2m_<seq>, never reused */
    uint64_t batch; /* run() calls, to match prepares to the step that sent them */
    uint64_t *dead; /* server statements finalized but not yet deallocated */
    size_t ndead, deadcap;
    const char **pv; /* parameter text scratch, reused by every call */
    char *num;       /* 32 bytes per parameter for printed numbers */
    size_t pcap;
    m2m__buf arrays; /* array literals of the M2M__TIDS parameters */
    bool synced;     /* the current batch's sync result has been read */
} pg_conn;

struct m2m__stmt {
    char *sql;
    uint64_t gen;   /* connection generation it is prepared in; 0: not */
    uint64_t num;   /* its server name is m2m_<num> */
    uint64_t batch; /* run() batch that queued its Parse, until answered */
    size_t step;    /* ...and the step that queued it */
    bool read_once; /* opened as a cursor before (see pg_cursor_open) */
};

struct m2m__cursor {
    m2m_db *db;
    PGresult *res;    /* current row's result (or the final one, for names) */
    int row;          /* row of res: 0 when streaming, any in run() callbacks */
    bool primed;      /* res holds the first row, not yet handed out */
    bool whole;       /* res holds the whole result; row is the current one */
    bool done;        /* the statement's results are all read */
    bool holding;     /* this cursor owns db->cursor_busy */
    int nrows, ncols; /* of res */
    /* Each column's value kind, found on its first read: PQftype and the
     * type switch per value cost more than the value (W1's P5). */
    unsigned char kind[32];
};

static void set_res(m2m__cursor *cur, PGresult *res) {
    cur->res = res;
    cur->nrows = res ? PQntuples(res) : 0;
    cur->ncols = res ? PQnfields(res) : 0;
}

static pg_conn *conn(m2m_db *db) { return (pg_conn *)db->conn; }

/* libpq prints NOTICEs to stderr by default; a library must stay quiet. */
static void pg_quiet(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

static int pg_map(const char *st, bool conn_bad) {
    if (conn_bad)
        return M2M_CONNECTION;
    if (!st)
        return M2M_ERROR;
    /* 08P01 on a live connection is a parameter count the statement does
     * not take: the caller's mistake, as SQLite's driver reports it. */
    if (strcmp(st, "08P01") == 0)
        return M2M_MISUSE;
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P0", 4) == 0)
        return M2M_CONNECTION;
    static const struct {
        const char *state;
        int rc;
    } map[] = {
        {"23505", M2M_EXISTS},     {"23503", M2M_CONSTRAINT}, {"23502", M2M_CONSTRAINT},
        {"23514", M2M_CONSTRAINT}, {"23P01", M2M_CONSTRAINT}, {"42501", M2M_DENIED},
        {"40001", M2M_BUSY},       {"40P01", M2M_BUSY},       {"55P03", M2M_BUSY},
        {"57014", M2M_TIMEOUT},    {"42P01", M2M_NOTFOUND},   {"42703", M2M_NOTFOUND},
        {"53200", M2M_NOMEM},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(st, map[i].state) == 0)
            return map[i].rc;
    return strncmp(st, "22", 2) == 0 ? M2M_TYPE : M2M_ERROR;
}

static void add_trimmed(m2m__buf *b, const char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    m2m__buf_addn(b, s, n);
}

/* Record the error of res (or of the connection when res has none): mapped
 * code, the server's message, detail and the table/column/constraint named. */
static int pg_fail(m2m_db *db, const PGresult *res) {
    PGconn *pg = conn(db)->pg;
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int rc = pg_map(st, PQstatus(pg) == CONNECTION_BAD);
    /* A lost connection the server itself reported (57P01 ...) ended the
     * batch at that statement, before its commit; libpq's own "server
     * closed the connection" carries no SQLSTATE and proves nothing. */
    if (rc == M2M_CONNECTION && st)
        db->lost_early = true;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg && res)
        msg = PQresultErrorMessage(res);
    if (!msg || !*msg)
        msg = PQerrorMessage(pg);
    if (!*msg)
        msg = "no response from the server";
    m2m__buf b = {0};
    if (rc == M2M_CONNECTION)
        m2m__buf_add(&b, "connection to the PostgreSQL server lost: ");
    add_trimmed(&b, msg);
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (detail)
        m2m__buf_addf(&b, " (%s)", detail);
    static const struct {
        int field;
        const char *label;
    } names[] = {{PG_DIAG_TABLE_NAME, "table"},
                 {PG_DIAG_COLUMN_NAME, "column"},
                 {PG_DIAG_CONSTRAINT_NAME, "constraint"}};
    int shown = 0;
    for (size_t i = 0; res && i < sizeof names / sizeof names[0]; i++) {
        const char *v = PQresultErrorField(res, names[i].field);
        if (v)
            m2m__buf_addf(&b, "%s%s \"%s\"", shown++ ? ", " : " [", names[i].label, v);
    }
    if (shown)
        m2m__buf_add(&b, "]");
    if (st)
        m2m__buf_addf(&b, " (SQLSTATE %s)", st);
    if (rc == M2M_CONNECTION)
        m2m__buf_add(&b, "; call m2m_reconnect()");
    char *text = m2m__buf_take(&b);
    rc = m2m__set_error(db, rc, "%s", text ? text : msg);
    m2m__free(text);
    return rc;
}

static int pg_check_usable(m2m_db *db) {
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a cursor is still open on this connection; free it "
                              "(m2m_rows_free) before the next call");
    db->lost_early = true; /* if lost now, nothing was sent */
    if (PQstatus(conn(db)->pg) != CONNECTION_OK)
        return m2m__set_error(db, M2M_CONNECTION,
                              "the connection to the PostgreSQL server is lost; call "
                              "m2m_reconnect()");
    return M2M_OK;
}

/* Connect with client_encoding forced to UTF8 in the startup packet, so no
 * extra round trip is spent on SET and the URL cannot override it. */
static PGconn *pg_connect(const char *url) {
    const char *const keys[] = {"dbname", "client_encoding", NULL};
    const char *const vals[] = {url, "UTF8", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (pg)
        PQsetNoticeProcessor(pg, pg_quiet, NULL);
    return pg;
}

static int pg_open(m2m_db *db, const char *url) {
    int rc = M2M_OK;
    pg_conn *c = m2m__calloc(1, sizeof *c);
    if (!c || !(c->url = m2m__strdup(url))) {
        rc = m2m__set_error(db, M2M_NOMEM,
                            "out of memory opening a PostgreSQL connection");
        goto exit;
    }
    c->pg = pg_connect(url);
    if (!c->pg) {
        rc = m2m__set_error(db, M2M_NOMEM,
                            "out of memory opening a PostgreSQL connection");
        goto exit;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        m2m__buf b = {0};
        add_trimmed(&b, PQerrorMessage(c->pg));
        char *msg = m2m__buf_take(&b);
        rc = m2m__set_error(db, M2M_CONNECTION, "cannot connect to PostgreSQL: %s",
                            msg ? msg : "connection failed");
        m2m__free(msg);
        goto exit;
    }
    c->gen = 1;
    db->conn = c;
    return M2M_OK;
exit:
    if (c) {
        PQfinish(c->pg);
        m2m__free(c->url);
        m2m__free(c);
    }
    return rc;
}

static void pg_close(m2m_db *db) {
    pg_conn *c = conn(db);
    if (!c)
        return;
    PQfinish(c->pg);
    m2m__free(c->url);
    m2m__free(c->dead);
    m2m__free(c->pv);
    m2m__free(c->num);
    m2m__buf_free(&c->arrays);
    m2m__free(c);
    db->conn = NULL;
}

/* A fresh connection replaces the old one only once it is up, so a failed
 * reconnect can simply be retried. */
static int pg_reconnect(m2m_db *db) {
    pg_conn *c = conn(db);
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a cursor is still open on this connection; free it first");
    PGconn *pg = pg_connect(c->url);
    if (!pg)
        return m2m__set_error(db, M2M_NOMEM, "out of memory reconnecting");
    if (PQstatus(pg) != CONNECTION_OK) {
        m2m__buf b = {0};
        add_trimmed(&b, PQerrorMessage(pg));
        char *msg = m2m__buf_take(&b);
        int rc = m2m__set_error(db, M2M_CONNECTION, "cannot reconnect to PostgreSQL: %s",
                                msg ? msg : "connection failed");
        m2m__free(msg);
        PQfinish(pg);
        return rc;
    }
    PQfinish(c->pg);
    c->pg = pg;
    c->gen++;
    c->ndead = 0; /* they died with the old connection */
    return M2M_OK;
}

/* Preparing on the server is deferred to the statement's first run, where
 * the Parse travels in the same pipeline as the execution: a cold statement
 * costs no extra round trip, and after a reconnect it is simply re-sent. */
static int pg_prepare(m2m_db *db, const char *sql, m2m__stmt **out) {
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
static void pg_finalize(m2m_db *db, m2m__stmt *s) {
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

/* m2m_<num> into out, which holds at least 25 bytes. */
static void stmt_name(char *out, uint64_t num) {
    char tmp[24], *e = tmp + sizeof tmp, *p = m2m__int_text(e, (int64_t)num);
    memcpy(out, "m2m_", 4);
    memcpy(out + 4, p, (size_t)(e - p));
    out[4 + (e - p)] = '\0';
}

/* Parameters of steps as text (NULL for M2M_TNULL), all converted before
 * anything is sent so that running out of memory cannot leave half a batch
 * queued; the server infers their types. */
/* An element of an array literal: integers as they are, text in double
 * quotes with a backslash before '"' and '\\'. */
static void pg_ids_value(m2m__buf *b, m2m_value v) {
    if (v.type != M2M_TTEXT) {
        m2m__buf_json_value(b, v);
        return;
    }
    m2m__buf_add(b, "\"");
    const char *s = v.s, *run = s;
    for (; *s; s++) {
        if (*s != '"' && *s != '\\')
            continue;
        m2m__buf_addn(b, run, (size_t)(s - run));
        m2m__buf_add(b, "\\");
        run = s;
    }
    m2m__buf_addn(b, run, (size_t)(s - run));
    m2m__buf_add(b, "\"");
}

/* Append the array literal of an M2M__TIDS parameter, NUL-terminated. */
static void pg_ids_literal(m2m__buf *b, const m2m__ids *a) {
    m2m__buf_addn(b, "{", 1);
    for (size_t i = 0; i < a->n; i++) {
        if (i)
            m2m__buf_addn(b, ",", 1);
        pg_ids_value(b, a->v[i]);
    }
    m2m__buf_addn(b, "}", 2);
}

static int pg_params(m2m_db *db, m2m__step *steps, size_t n) {
    pg_conn *c = conn(db);
    size_t total = 0;
    for (size_t k = 0; k < n; k++) {
        if (steps[k].nparams > 65535 || total > SIZE_MAX / 32 - 65536)
            return m2m__set_error(db, M2M_INVALID, "too many parameters");
        total += steps[k].nparams;
    }
    if (total > c->pcap) {
        const char **pv = m2m__realloc(c->pv, total * sizeof *pv);
        if (pv)
            c->pv = pv;
        char *num = pv ? m2m__realloc(c->num, total * 32) : NULL;
        if (num)
            c->num = num;
        if (!pv || !num)
            return m2m__set_error(db, M2M_NOMEM, "out of memory binding %zu parameters",
                                  total);
        c->pcap = total;
    }
    /* Array literals go into one buffer that may move as it grows: note
     * their offsets first, point at them once all are written. */
    c->arrays.len = 0;
    c->arrays.oom = false;
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t j = 0; j < steps[k].nparams; j++, i++) {
            m2m_value v = steps[k].params[j];
            char *slot = c->num + i * 32;
            c->pv[i] = slot;
            if (v.type == M2M_TINT) {
                slot[31] = '\0';
                c->pv[i] = m2m__int_text(slot + 31, v.i);
            } else if (v.type == M2M_TREAL) {
                snprintf(slot, 32, "%.17g", v.d);
            } else if ((int)v.type == M2M__TIDS) {
                memcpy(slot, &c->arrays.len, sizeof c->arrays.len);
                c->pv[i] = NULL;
                pg_ids_literal(&c->arrays, (const m2m__ids *)(const void *)v.s);
            } else {
                c->pv[i] = v.type == M2M_TTEXT ? v.s : NULL;
            }
        }
    }
    if (c->arrays.oom)
        return m2m__set_error(db, M2M_NOMEM, "out of memory binding an id array");
    i = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < steps[k].nparams; j++, i++)
            if ((int)steps[k].params[j].type == M2M__TIDS) {
                size_t off;
                memcpy(&off, c->num + i * 32, sizeof off);
                c->pv[i] = c->arrays.p + off;
            }
    return M2M_OK;
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
static void finish_pipeline(pg_conn *c) {
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

static void note_rows(m2m_db *db, int64_t rows) {
    if (db->stats.rows_peak < (uint64_t)rows)
        db->stats.rows_peak = (uint64_t)rows;
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
                return pg_fail(db, NULL);
            s->gen = c->gen;
            s->batch = c->batch;
            s->step = k;
        }
        stmt_name(name, s->num);
        if (!PQsendQueryPrepared(c->pg, name, (int)steps[k].nparams, pv, NULL, NULL, 0))
            return pg_fail(db, NULL);
        pv += steps[k].nparams;
        *nsent = k + 1;
    }
    for (size_t d = 0; d < c->ndead && d < MAX_DEALLOC; d++) {
        char sql[48];
        stmt_name(name, c->dead[d]);
        snprintf(sql, sizeof sql, "DEALLOCATE %s", name);
        if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0))
            return pg_fail(db, NULL);
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
                rc = pg_fail(db, res);
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
        rc = pg_fail(db, res);
    }
    PQclear(res);
    return rc;
}

static int pg_run(m2m_db *db, m2m__step *steps, size_t n) {
    pg_conn *c = conn(db);
    db->unsent = true;
    int rc = pg_check_usable(db);
    if (!rc)
        rc = pg_params(db, steps, n);
    if (!rc && !PQenterPipelineMode(c->pg))
        rc = pg_fail(db, NULL);
    if (rc)
        return rc;
    db->lost_early = db->unsent = false;
    c->batch++;
    c->synced = false;
    size_t nsent, ndel;
    rc = send_batch(db, steps, n, &nsent, &ndel);
    if (!PQpipelineSync(c->pg) && !rc)
        rc = pg_fail(db, NULL);
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
    finish_pipeline(c);
    if (!rc && PQstatus(c->pg) == CONNECTION_BAD)
        rc = pg_fail(db, NULL);
    return rc;
}

/* The rest of a cursor's statement: its results, the sync, pipeline off. */
static void cursor_drain(pg_conn *c) {
    PGresult *res;
    while ((res = PQgetResult(c->pg)) != NULL)
        PQclear(res);
    finish_pipeline(c);
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
static int pg_cursor_open(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n,
                          size_t whole, m2m__cursor **out) {
    pg_conn *c = conn(db);
    PGresult *res = NULL;
    char name[32];
    bool piped = false;
    *out = NULL;
    int rc = pg_check_usable(db);
    if (rc)
        return rc;
    m2m__cursor *cur = m2m__calloc(1, sizeof *cur);
    if (!cur)
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a cursor");
    cur->db = db;
    m2m__step one = {.stmt = s, .params = p, .nparams = n};
    if ((rc = pg_params(db, &one, 1)) != M2M_OK)
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
            rc = pg_fail(db, res);
            goto exit;
        }
        PQclear(res);
        res = NULL;
        s->gen = c->gen;
        s->num = num;
    }
    if (!PQenterPipelineMode(c->pg)) {
        rc = pg_fail(db, NULL);
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
        rc = pg_fail(db, NULL);
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
            rc = pg_fail(db, res);
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

static int pg_cursor_next(m2m__cursor *cur) {
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
        rc = pg_fail(cur->db, res);
    bool answered = res != NULL; /* NULL: the connection broke */
    PQclear(res);
    if (answered)
        cursor_drain(c);
    release(cur);
    return rc;
}

static int pg_cursor_ncols(m2m__cursor *cur) { return cur->ncols; }

static const char *pg_cursor_name(m2m__cursor *cur, int i) {
    return cur->res ? PQfname(cur->res, i) : NULL;
}

/* Integers arrive as decimal text; strtoll (locale, base, overflow) cost
 * more than the rest of reading a value in W1's eager load. Up to 18
 * digits cannot overflow; anything else goes to strtoll. */
static int64_t pg_int(const char *v) {
    const char *p = v + (*v == '-');
    uint64_t u = 0;
    int n = 0;
    for (; *p >= '0' && *p <= '9'; p++, n++)
        u = u * 10 + (uint64_t)(*p - '0');
    if (*p || n == 0 || n > 18)
        return strtoll(v, NULL, 10);
    return *v == '-' ? -(int64_t)u : (int64_t)u;
}

enum { K_UNSET, K_INT, K_REAL, K_BOOL, K_TEXT };

static unsigned char kind_of(Oid type) {
    switch (type) {
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
            return K_INT;
        case OID_FLOAT4:
        case OID_FLOAT8:
            return K_REAL;
        case OID_BOOL:
            return K_BOOL;
        default:
            return K_TEXT;
    }
}

static m2m_value pg_cursor_value(m2m__cursor *cur, int i) {
    PGresult *res = cur->res;
    if (i < 0 || i >= cur->ncols || cur->row < 0 || cur->row >= cur->nrows ||
        PQgetisnull(res, cur->row, i))
        return M2M_NULL;
    const char *v = PQgetvalue(res, cur->row, i);
    unsigned char k = K_UNSET;
    if ((size_t)i < sizeof cur->kind) {
        k = cur->kind[i];
        if (k == K_UNSET)
            k = cur->kind[i] = kind_of(PQftype(res, i));
    } else {
        k = kind_of(PQftype(res, i));
    }
    switch (k) {
        case K_INT:
            return M2M_INT(pg_int(v));
        case K_REAL:
            return M2M_REAL(strtod(v, NULL));
        case K_BOOL:
            return M2M_INT(v[0] == 't');
        default:
            return M2M_TEXT(v);
    }
}

/* Closing early must leave the connection usable: outside a caller's
 * transaction the rest of the query is cancelled (a million unread rows are
 * not worth reading); inside one a cancel would abort the transaction, so
 * the rows are read and dropped instead. */
static void pg_cursor_close(m2m__cursor *cur) {
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

static int pg_exec_script(m2m_db *db, const char *script) {
    int rc = pg_check_usable(db);
    if (rc)
        return rc;
    m2m__note_exec(db, script);
    db->stats.round_trips++;
    PGresult *res = PQexec(conn(db)->pg, script);
    ExecStatusType est = PQresultStatus(res);
    if (est != PGRES_COMMAND_OK && est != PGRES_TUPLES_OK && est != PGRES_EMPTY_QUERY)
        rc = pg_fail(db, res);
    PQclear(res);
    return rc;
}

/* Rows typed by the table itself: each JSON key fills the column of the same
 * name, so the SQL needs no per-column casts. */
static void pg_input_rows(m2m__buf *b, const char *table, int param,
                          const char *const *cols, size_t ncols) {
    (void)cols;
    (void)ncols;
    m2m__buf_addf(b, "jsonb_populate_recordset(NULL::%s, $%d::jsonb)", table, param);
}

static void pg_input_rows_has(m2m__buf *b, const char *table, int param,
                              const char *const *cols, size_t ncols, size_t from) {
    m2m__buf_add(b, "(SELECT \"m2m-r\".*");
    for (size_t i = from; i < ncols; i++)
        m2m__buf_addf(b, ", \"m2m-e\".j ? '%s' AS \"m2m-has%zu\"", cols[i], i);
    m2m__buf_addf(b,
                  " FROM jsonb_array_elements($%d::jsonb) AS \"m2m-e\"(j) CROSS JOIN"
                  " LATERAL jsonb_populate_record(NULL::%s, \"m2m-e\".j) AS \"m2m-r\")",
                  param, table);
}

static const char *pg_array_type(m2m_type type) {
    return type == M2M_TTEXT ? "text[]" : "int8[]";
}

static void pg_ids_from(m2m__buf *b, int param, m2m_type type, const char *alias) {
    m2m__buf_addf(b, "unnest($%d::%s) AS %s(value)", param, pg_array_type(type), alias);
}

/* = ANY(array) is an index scan over the given keys. The rows not given
 * are a NOT EXISTS over the unnested array, which plans as a hash anti
 * join even in a generic plan; NOT IN (subquery) turns into a plain
 * subplan rescanned per row once the ids outgrow work_mem, and <> ALL
 * compares each row with every id: both quadratic for a million ids. */
static void pg_ids_in(m2m__buf *b, const char *expr, int param, m2m_type type, int form) {
    if (form == M2M__NOT_IN)
        m2m__buf_addf(b,
                      "NOT EXISTS (SELECT 1 FROM unnest($%d::%s) AS \"m2m-i\"(value)"
                      " WHERE \"m2m-i\".value = %s)",
                      param, pg_array_type(type), expr);
    else
        m2m__buf_addf(b, "%s = ANY($%d::%s)", expr, param, pg_array_type(type));
}

/* Does a valid, immediate, non-partial unique index of table (its primary
 * key included) have exactly columns a and b as keys? One round trip, once
 * per relation, while its first insert is built. Not asked while a cursor
 * holds the connection or a caller's transaction is open (a failure there
 * would abort it); the insert then keeps its NOT EXISTS. */
static int pg_pair_unique(m2m_db *db, const char *table, const char *a, const char *b) {
    pg_conn *c = conn(db);
    if (db->cursor_busy || db->in_txn || PQstatus(c->pg) != CONNECTION_OK)
        return -1;
    m2m__buf name = {0};
    m2m__buf_ident(&name, table);
    if (name.oom) {
        m2m__buf_free(&name);
        return -1;
    }
    const char *pv[3] = {name.p, a, b};
    PGresult *res = PQexecParams(
        c->pg,
        "SELECT count(*) FROM pg_index i"
        " JOIN pg_attribute a0 ON a0.attrelid = i.indrelid AND a0.attnum = i.indkey[0]"
        " JOIN pg_attribute a1 ON a1.attrelid = i.indrelid AND a1.attnum = i.indkey[1]"
        " WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indimmediate"
        " AND i.indisvalid AND i.indpred IS NULL AND i.indnkeyatts = 2"
        " AND ((a0.attname = $2 AND a1.attname = $3) OR (a0.attname = $3 AND a1.attname "
        "= $2))",
        3, NULL, pv, NULL, NULL, 0);
    db->stats.round_trips++;
    int yes = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                  ? strcmp(PQgetvalue(res, 0, 0), "0") != 0
                  : -1;
    PQclear(res);
    m2m__buf_free(&name);
    return yes;
}

/* Columns of the tables in one round trip; to_regclass resolves each name
 * as the SQL will (search_path, quoting) and is NULL, not an error, for a
 * table or schema that does not exist. */
static int pg_columns(m2m_db *db, const char *const *tables, size_t n,
                      void (*on_col)(void *arg, size_t t, const char *name, char kind),
                      void *arg) {
    pg_conn *c = conn(db);
    if (db->cursor_busy)
        return M2M__LATER;
    int rc = pg_check_usable(db);
    if (rc)
        return rc;
    m2m__buf q = {0}, names[3] = {{0}};
    const char *pv[3];
    if (n > 3)
        return m2m__set_error(db, M2M_ERROR, "internal: too many tables to describe");
    m2m__buf_add(&q, "SELECT t.n, a.attname, CASE WHEN a.attname IS NULL THEN NULL"
                     " WHEN y.typcategory = 'N' THEN 'i' WHEN y.typcategory = 'S'"
                     " THEN 't' ELSE '?' END FROM (VALUES ");
    for (size_t i = 0; i < n; i++) {
        m2m__buf_ident(&names[i], tables[i]);
        pv[i] = names[i].p;
        m2m__buf_addf(&q, "%s($%zu::text, %zu)", i ? ", " : "", i + 1, i);
    }
    m2m__buf_add(&q, ") AS t(name, n) JOIN pg_class r ON r.oid = to_regclass(t.name)"
                     " LEFT JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0"
                     " AND NOT a.attisdropped"
                     " LEFT JOIN pg_type y ON y.oid = a.atttypid");
    bool oom = q.oom;
    for (size_t i = 0; i < n; i++)
        oom |= names[i].oom;
    if (oom) {
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory describing tables");
    } else {
        m2m__note_exec(db, q.p);
        db->stats.round_trips++;
        PGresult *res = PQexecParams(c->pg, q.p, (int)n, NULL, pv, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = pg_fail(db, res);
        } else {
            for (int r = 0; r < PQntuples(res); r++) {
                size_t t = (size_t)atoi(PQgetvalue(res, r, 0));
                if (t >= n)
                    continue;
                on_col(arg, t, NULL, 0);
                if (!PQgetisnull(res, r, 1))
                    on_col(arg, t, PQgetvalue(res, r, 1), PQgetvalue(res, r, 2)[0]);
            }
        }
        PQclear(res);
    }
    m2m__buf_free(&q);
    for (size_t i = 0; i < n; i++)
        m2m__buf_free(&names[i]);
    return rc;
}

extern const m2m__backend m2m__pg_backend;

const m2m__driver m2m__pg_driver = {
    .version = M2M__DRIVER_VERSION,
    .info = &m2m__pg_backend,
    .conn =
        {
            .open = pg_open,
            .close = pg_close,
            .reconnect = pg_reconnect,
        },
    .stmt =
        {
            .prepare = pg_prepare,
            .finalize = pg_finalize,
            .run = pg_run,
            .cursor_open = pg_cursor_open,
            .cursor_next = pg_cursor_next,
            .cursor_ncols = pg_cursor_ncols,
            .cursor_name = pg_cursor_name,
            .cursor_value = pg_cursor_value,
            .cursor_close = pg_cursor_close,
            .exec_script = pg_exec_script,
        },
    .dialect =
        {
            .begin_sql = "BEGIN",
            .read_begin_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            /* How PostgREST hands claims to policies; role switches with it. */
            .auth_sql = "SELECT set_config('request.jwt.claims', $1, true), "
                        "set_config('role', $2, true)",
            /* The pivot lock is the one-bigint form of advisory lock, a key
             * space apart from the (int4, int4) parent locks; its high half
             * spells "m2m". OFFSET 0 keeps the subquery, so the pivot lock is
             * taken first. The row's last column is the transaction's id, for
             * an in-doubt commit. */
            .lock_sql = "SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text)), "
                        "txid_current()"
                        " FROM (SELECT pg_advisory_xact_lock_shared(7156077::int8 * "
                        "4294967296 + $1::int4) OFFSET 0) AS m2m__pivot",
            .lock_all_sql =
                "SELECT pg_advisory_xact_lock(7156077::int8 * 4294967296 + $1::int4), "
                "txid_current()",
            .xid_sql = "SELECT txid_current_if_assigned()",
            .xid_status_sql = "SELECT txid_status($1::bigint)",
            .ids_from = pg_ids_from,
            .ids_in = pg_ids_in,
            .input_rows = pg_input_rows,
            .input_rows_has = pg_input_rows_has,
            .insert_skip = m2m__std_insert_skip,
            .returning = m2m__std_returning,
            .now_sql = "now()",
            .int_key_type = "BIGINT",
            .text_type = "TEXT",
            .timestamp_type = "TIMESTAMPTZ",
            .pair_unique = pg_pair_unique,
            .columns = pg_columns,
            .rls_install = m2m__pg_rls_install,
        },
};
