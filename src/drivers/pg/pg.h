/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's private declarations, shared by its files. */
#ifndef M2M_PG_H
#define M2M_PG_H

#include "core/db.h"

#include <libpq-fe.h>
#include <string.h>

/* The connection's state (db->conn). */
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
    bool read_once; /* opened as a cursor before (cursor.c) */
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
     * type switch per value cost more than the value itself in reads of
     * many short rows (measured with callgrind, docs/BENCHMARKS.md). */
    unsigned char kind[32];
};

static inline void set_res(m2m__cursor *cur, PGresult *res) {
    cur->res = res;
    cur->nrows = res ? PQntuples(res) : 0;
    cur->ncols = res ? PQnfields(res) : 0;
}

static inline pg_conn *conn(m2m_db *db) { return (pg_conn *)db->conn; }

/* m2m_<num> into out, which holds at least 25 bytes. */
static inline void stmt_name(char *out, uint64_t num) {
    char tmp[24], *e = tmp + sizeof tmp, *p = m2m__int_text(e, (int64_t)num);
    memcpy(out, "m2m_", 4);
    memcpy(out + 4, p, (size_t)(e - p));
    out[4 + (e - p)] = '\0';
}

/* The largest result seen (m2m_stats.rows_peak). */
static inline void note_rows(m2m_db *db, int64_t rows) {
    if (db->stats.rows_peak < (uint64_t)rows)
        db->stats.rows_peak = (uint64_t)rows;
}

/* conn.c */
int m2m__pg_open(m2m_db *db, const char *url);
void m2m__pg_close(m2m_db *db);
int m2m__pg_reconnect(m2m_db *db);
/* Record the error of res (or of the connection when res has none): mapped
 * code, the server's message, detail and the table/column/constraint named. */
int m2m__pg_fail(m2m_db *db, const PGresult *res);
/* M2M_OK when a statement may be sent now: no cursor holds the connection
 * and it is up; else the error, set on db. */
int m2m__pg_check_usable(m2m_db *db);

/* types.c */
/* Convert the parameters of steps into the connection's scratch (pv). */
int m2m__pg_params(m2m_db *db, m2m__step *steps, size_t n);
m2m_value m2m__pg_cursor_value(m2m__cursor *cur, int i);

/* exec.c */
int m2m__pg_prepare(m2m_db *db, const char *sql, m2m__stmt **out);
void m2m__pg_finalize(m2m_db *db, m2m__stmt *s);
int m2m__pg_run(m2m_db *db, m2m__step *steps, size_t n);
int m2m__pg_exec_script(m2m_db *db, const char *script);
/* Read up to the sync point and leave pipeline mode. */
void m2m__pg_finish_pipeline(pg_conn *c);

/* cursor.c */
int m2m__pg_cursor_open(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n,
                        size_t whole, m2m__cursor **out);
int m2m__pg_cursor_next(m2m__cursor *cur);
int m2m__pg_cursor_ncols(m2m__cursor *cur);
const char *m2m__pg_cursor_name(m2m__cursor *cur, int i);
void m2m__pg_cursor_close(m2m__cursor *cur);

/* catalog.c */
int m2m__pg_pair_unique(m2m_db *db, const char *table, const char *a, const char *b);
int m2m__pg_key_lead(m2m_db *db, const char *table, const char *a, const char *b);
int m2m__pg_columns(m2m_db *db, const char *const *tables, size_t n,
                    void (*on_col)(void *arg, size_t t, const char *name, char kind),
                    void *arg);

/* rls.c: dialect.rls_install. */
int m2m__pg_rls_install(m2m_db *db, const m2m__rls *r);

#endif /* M2M_PG_H */
