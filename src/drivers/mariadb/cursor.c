/* SPDX-License-Identifier: MIT */
/* The MariaDB driver's cursors and value decoding: a statement's result is
 * taken whole into the client (mysql_stmt_store_result) or streamed row by
 * row, its columns bound by type (integers, reals, the rest as text). */
#include "drivers/mariadb/mariadb.h"

#include <stdlib.h>
#include <string.h>

static int kind_of(const MYSQL_FIELD *f) {
    switch (f->type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_YEAR:
            return K_INT;
        case MYSQL_TYPE_FLOAT:
        case MYSQL_TYPE_DOUBLE:
            return K_REAL;
        case MYSQL_TYPE_NULL:
            return K_NULL;
        default:
            return K_TEXT;
    }
}

void m2m__my_cursor_fini(m2m__cursor *cur) {
    if (cur->st)
        mysql_stmt_free_result(cur->st);
    if (cur->meta)
        mysql_free_result(cur->meta);
    for (unsigned i = 0; cur->cols && i < cur->ncols; i++)
        m2m__free(cur->cols[i].buf);
    m2m__free(cur->cols);
    m2m__free(cur->bind);
    cur->st = NULL;
    cur->meta = NULL;
    cur->cols = NULL;
    cur->bind = NULL;
}

int m2m__my_cursor_init(m2m_db *db, m2m__cursor *cur, MYSQL_STMT *st, bool store) {
    memset(cur, 0, sizeof *cur);
    cur->db = db;
    cur->st = st;
    if (store && mysql_stmt_store_result(st)) {
        int rc = m2m__my_fail(db, st);
        cur->st = NULL;
        return rc;
    }
    uint64_t nrows = store ? mysql_stmt_num_rows(st) : 1;
    if (db->stats.rows_peak < nrows)
        db->stats.rows_peak = nrows;
    cur->meta = mysql_stmt_result_metadata(st);
    cur->ncols = cur->meta ? mysql_num_fields(cur->meta) : 0;
    if (!cur->ncols)
        return M2M_OK;
    cur->bind = m2m__calloc(cur->ncols, sizeof *cur->bind);
    cur->cols = m2m__calloc(cur->ncols, sizeof *cur->cols);
    if (!cur->bind || !cur->cols) {
        m2m__my_cursor_fini(cur);
        return m2m__set_error(db, M2M_NOMEM, "out of memory reading a result");
    }
    MYSQL_FIELD *f = mysql_fetch_fields(cur->meta);
    for (unsigned i = 0; i < cur->ncols; i++) {
        my_col *c = &cur->cols[i];
        MYSQL_BIND *b = &cur->bind[i];
        c->kind = kind_of(&f[i]);
        b->is_null = &c->isnull;
        b->error = &c->err;
        b->length = &c->len;
        if (c->kind == K_INT) {
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = &c->i;
            b->is_unsigned = 0;
        } else if (c->kind == K_REAL) {
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = &c->d;
        } else {
            /* Stored: the longest value's length is known; streamed: values
             * longer than this are fetched again (refetch). */
            c->cap = (store ? f[i].max_length : 255) + 1;
            if (c->cap < 64)
                c->cap = 64;
            if (!(c->buf = m2m__malloc(c->cap))) {
                m2m__my_cursor_fini(cur);
                return m2m__set_error(db, M2M_NOMEM, "out of memory reading a result");
            }
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = c->buf;
            b->buffer_length = c->cap - 1;
        }
    }
    if (mysql_stmt_bind_result(st, cur->bind)) {
        int rc = m2m__my_fail(db, st);
        m2m__my_cursor_fini(cur);
        return rc;
    }
    return M2M_OK;
}

/* A text value longer than its buffer: fetch it again, whole. */
static int refetch(m2m__cursor *cur, unsigned i) {
    my_col *c = &cur->cols[i];
    if (c->kind != K_TEXT || c->len < c->cap - 1)
        return M2M_OK;
    char *nb = m2m__realloc(c->buf, (size_t)c->len + 1);
    if (!nb)
        return m2m__set_error(cur->db, M2M_NOMEM, "out of memory reading a value");
    c->buf = nb;
    c->cap = c->len + 1;
    MYSQL_BIND b = cur->bind[i];
    b.buffer = c->buf;
    b.buffer_length = c->cap - 1;
    cur->bind[i].buffer = c->buf;
    cur->bind[i].buffer_length = c->cap - 1;
    /* The statement keeps a copy of the bindings: the next rows go to the
     * new buffer. */
    if (mysql_stmt_fetch_column(cur->st, &b, i, 0) ||
        mysql_stmt_bind_result(cur->st, cur->bind))
        return m2m__my_fail(cur->db, cur->st);
    return M2M_OK;
}

int m2m__my_cursor_next(m2m__cursor *cur) {
    if (cur->done || !cur->st)
        return M2M_DONE;
    int r = mysql_stmt_fetch(cur->st);
    if (r == MYSQL_NO_DATA) {
        cur->done = true;
        return M2M_DONE;
    }
    if (r == 1)
        return m2m__my_fail(cur->db, cur->st);
    for (unsigned i = 0; i < cur->ncols; i++) {
        my_col *c = &cur->cols[i];
        if (r == MYSQL_DATA_TRUNCATED && !c->isnull && c->err) {
            int rc = refetch(cur, i);
            if (rc)
                return rc;
        }
        if (c->kind == K_TEXT && !c->isnull)
            c->buf[c->len < c->cap ? c->len : c->cap - 1] = '\0';
    }
    return M2M_ROW;
}

int m2m__my_cursor_ncols(m2m__cursor *cur) { return (int)cur->ncols; }

const char *m2m__my_cursor_name(m2m__cursor *cur, int i) {
    if (!cur->meta || i < 0 || (unsigned)i >= cur->ncols)
        return NULL;
    return mysql_fetch_fields(cur->meta)[i].name;
}

m2m_value m2m__my_cursor_value(m2m__cursor *cur, int i) {
    if (i < 0 || (unsigned)i >= cur->ncols)
        return M2M_NULL;
    my_col *c = &cur->cols[i];
    if (c->isnull || c->kind == K_NULL)
        return M2M_NULL;
    if (c->kind == K_INT)
        return M2M_INT((int64_t)c->i);
    if (c->kind == K_REAL)
        return M2M_REAL(c->d);
    return M2M_TEXT(c->buf);
}

int m2m__my_cursor_open(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n,
                        size_t whole, m2m__cursor **out) {
    *out = NULL;
    int rc = m2m__my_check_usable(db);
    if (!rc)
        rc = m2m__my_execute(db, s, p, n);
    if (rc)
        return rc;
    m2m__cursor *cur = m2m__malloc(sizeof *cur);
    if (!cur)
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a cursor");
    if (s->plain) {
        memset(cur, 0, sizeof *cur);
        cur->db = db;
        cur->done = true;
    } else if ((rc = m2m__my_cursor_init(db, cur, s->st, whole > 0)) != M2M_OK) {
        m2m__free(cur);
        return rc;
    }
    if (whole && cur->st && mysql_stmt_num_rows(cur->st) > whole) {
        m2m__my_cursor_fini(cur);
        m2m__free(cur);
        return M2M__MORE;
    }
    if (!whole) {
        cur->holding = true;
        db->cursor_busy = true;
    }
    *out = cur;
    return M2M_OK;
}

void m2m__my_cursor_close(m2m__cursor *cur) {
    if (!cur)
        return;
    if (cur->holding)
        cur->db->cursor_busy = false;
    m2m__my_cursor_fini(cur);
    m2m__free(cur);
}
