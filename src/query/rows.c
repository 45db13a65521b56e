/* SPDX-License-Identifier: MIT */
/* Result cursors: streaming over a statement, or over the memory rows of
 * the two-query strategy. */
#include "query/rows.h"
#include "query/query.h"

#include "core/plan.h"

#include <string.h>

struct m2m_rows {
    m2m_db *db;
    m2m__cursor *cur;
    m2m__stmt *own;    /* raw SQL statement to finalize */
    m2m_relation *rel; /* relation read: its cache entry is held */
    size_t entry;
    m2m_value *params; /* kept alive while the statement runs (in this block) */
    size_t nparams;
    bool raw;
    int base;          /* cursor column of the first related (or raw) column */
    bool parent_param; /* one parent: params[0], not a column (base 0) */
    int nrel, npiv;
    char **piv_names; /* copies of the query's with-pivot names (in this block) */
    m2m__memrows *mem;
    size_t pos;
    bool started;
    bool keyset, many; /* keyset reads: the row's token (m2m_rows_token) */
    uint32_t fp;
    size_t nk;   /* hidden token columns: the order values, the related key */
    char *token; /* the last token made */
};

int m2m__values_dup(const m2m_value *src, size_t n, m2m_value **out) {
    *out = NULL;
    if (!n)
        return M2M_OK;
    m2m_value *v = m2m__calloc(n, sizeof *v);
    if (!v)
        return M2M_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (m2m__value_copy(&v[i], src[i])) {
            m2m__values_free(v, i);
            return M2M_NOMEM;
        }
    *out = v;
    return M2M_OK;
}

void m2m__values_free(m2m_value *v, size_t n) {
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        m2m__value_clear(&v[i]);
    m2m__free(v);
}

static size_t text_size(m2m_value v) {
    return v.type == M2M_TTEXT ? strlen(v.s ? v.s : "") + 1 : 0;
}

/* Copy v's text into *t, advancing it. */
static m2m_value copy_text(m2m_value v, char **t) {
    if (v.type == M2M_TTEXT) {
        const char *src = v.s ? v.s : "";
        size_t len = strlen(src) + 1;
        memcpy(*t, src, len);
        v.s = *t;
        *t += len;
    }
    return v;
}

/* The cursor, its own copy of the parameters (SQLite binds their text
 * without copying and reads an id array's values while the cursor steps)
 * and its with-pivot names share one allocation, so the rows outlive the
 * query that made them: reading parent after parent opens a cursor per
 * read, and each piece on its own was a malloc and a free. */
static m2m_rows *rows_new(m2m_db *db, const m2m_value *params, size_t n,
                          char *const *names, size_t nnames) {
    /* Counts this large cannot be allocated; the bound keeps the size sums
     * below from overflowing. */
    if (n > SIZE_MAX / 64 || nnames > SIZE_MAX / 64)
        return NULL;
    size_t text = 0, nsets = 0, nids = 0;
    for (size_t i = 0; i < n; i++) {
        text += text_size(params[i]);
        if ((int)params[i].type == M2M__TIDS) {
            const m2m__ids *a = (const m2m__ids *)(const void *)params[i].s;
            nsets++;
            nids += a->n;
            for (size_t k = 0; k < a->n; k++)
                text += text_size(m2m__ids_at(a, k));
        }
    }
    for (size_t i = 0; i < nnames; i++)
        text += strlen(names[i]) + 1;
    size_t al = _Alignof(m2m_value);
    size_t head = (sizeof(m2m_rows) + al - 1) / al * al;
    size_t set = (sizeof(m2m__ids) + al - 1) / al * al;
    if (nids > SIZE_MAX / 64)
        return NULL;
    size_t size = head + (n + nids) * sizeof(m2m_value) + nsets * set +
                  nnames * sizeof(char *) + text;
    m2m_rows *r = m2m__calloc(1, size);
    if (!r)
        return NULL;
    r->db = db;
    m2m__db_ref(db);
    r->params = (m2m_value *)(void *)((char *)r + head);
    char *at = (char *)(r->params + n); /* id arrays, then names, then text */
    char *t = at + nsets * set + nids * sizeof(m2m_value) + nnames * sizeof(char *);
    for (size_t i = 0; i < n; i++) {
        r->params[i] = copy_text(params[i], &t);
        if ((int)params[i].type == M2M__TIDS) {
            const m2m__ids *a = (const m2m__ids *)(const void *)params[i].s;
            m2m__ids *c = (m2m__ids *)(void *)at;
            m2m_value *v = (m2m_value *)(void *)(at + set);
            for (size_t k = 0; k < a->n; k++)
                v[k] = copy_text(m2m__ids_at(a, k), &t);
            *c = (m2m__ids){v, a->n, 1};
            r->params[i] = m2m__ids_param(c);
            at += set + a->n * sizeof(m2m_value);
        }
    }
    r->piv_names = (char **)(void *)at;
    for (size_t i = 0; i < nnames; i++) {
        size_t len = strlen(names[i]) + 1;
        memcpy(t, names[i], len);
        r->piv_names[i] = t;
        t += len;
    }
    r->nparams = n;
    r->npiv = (int)nnames;
    return r;
}

int m2m__rows_raw(m2m_db *db, m2m__stmt *st, bool own_stmt, const m2m_value *params,
                  size_t n, m2m_rows **out) {
    *out = NULL;
    m2m_rows *r = rows_new(db, params, n, NULL, 0);
    if (!r) {
        if (own_stmt)
            db->drv->stmt.finalize(db, st);
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a cursor");
    }
    r->raw = true;
    r->own = own_stmt ? st : NULL;
    int rc = db->drv->stmt.cursor_open(db, st, r->params, n, 0, &r->cur);
    if (rc) {
        m2m_rows_free(r);
        return rc;
    }
    *out = r;
    return M2M_OK;
}

static void keyed(m2m_rows *r, const m2m_query *q) {
    if (!q->keyset)
        return;
    r->keyset = true;
    r->many = q->many;
    r->fp = m2m__ks_fingerprint(q);
    r->nk = q->norders + 1;
}

int m2m__rows_rel(m2m_query *q, m2m__stmt *st, size_t entry, m2m_value *params, size_t n,
                  size_t whole, m2m_rows **out) {
    m2m_db *db = q->rel->db;
    *out = NULL;
    m2m_rows *r = rows_new(db, params, n, q->with, q->nwith);
    if (!r)
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a cursor");
    /* Explained: no cursor, the rows are empty. */
    int rc = m2m__plan_read(db, q->rel, st, n,
                            "read the related rows joined to the pivot in one statement")
                 ? M2M_OK
                 : db->drv->stmt.cursor_open(db, st, r->params, n, whole, &r->cur);
    if (rc) {
        m2m_rows_free(r);
        return rc;
    }
    r->rel = q->rel;
    m2m__rel_ref(r->rel);
    r->entry = entry;
    q->rel->cache[entry].inuse++;
    r->base = q->many || q->each ? 1 : 0;
    r->parent_param = !r->base;
    keyed(r, q);
    r->nrel = r->cur ? db->drv->stmt.cursor_ncols(r->cur) - r->base - r->npiv -
                           m2m__rows_hidden(q)
                     : 0;
    *out = r;
    return M2M_OK;
}

int m2m__rows_hidden(const m2m_query *q) {
    return q->each ? (int)q->norders + 2 : q->keyset ? (int)q->norders + 1 : 0;
}

int m2m__rows_mem(m2m_query *q, m2m__memrows *mem, m2m_rows **out) {
    m2m_db *db = q->rel->db;
    *out = NULL;
    if (!mem)
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a cursor");
    m2m_rows *r = rows_new(db, NULL, 0, q->with, q->nwith);
    if (!r) {
        m2m__memrows_free(mem);
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a cursor");
    }
    r->mem = mem;
    r->nrel = (int)mem->rel_ncols;
    keyed(r, q);
    *out = r;
    return M2M_OK;
}

void m2m__memrows_free(m2m__memrows *m) {
    if (!m)
        return;
    m2m__values_free(m->piv, m->npiv_rows * m->piv_width);
    m2m__values_free(m->rel, m->nrel_rows * m->rel_width);
    for (size_t i = 0; m->rel_names && i < m->rel_width; i++)
        m2m__free(m->rel_names[i]);
    m2m__free(m->rel_names);
    m2m__free(m->out_p);
    m2m__free(m->out_r);
    m2m__free(m);
}

void m2m_rows_free(m2m_rows *r) {
    if (!r)
        return;
    m2m_db *db = r->db;
    if (r->cur)
        db->drv->stmt.cursor_close(r->cur);
    if (r->own)
        db->drv->stmt.finalize(db, r->own);
    if (r->rel)
        r->rel->cache[r->entry].inuse--;
    m2m__memrows_free(r->mem);
    m2m__free(r->token);
    m2m_relation *rel = r->rel;
    m2m__free(r);
    /* The relation before the db: freeing it finalizes on the db. */
    if (rel)
        m2m__rel_unref(rel);
    m2m__db_unref(db);
}

int m2m_rows_next(m2m_rows *r) {
    if (!r)
        return M2M_MISUSE;
    if (r->mem) {
        if (r->started)
            r->pos++;
        r->started = true;
        return r->pos < r->mem->nout ? M2M_ROW : M2M_DONE;
    }
    if (!r->cur)
        return M2M_DONE;
    r->started = true;
    int rc = r->db->drv->stmt.cursor_next(r->cur);
    if (rc != M2M_ROW) {
        /* Done or failed: give the connection back now. */
        r->db->drv->stmt.cursor_close(r->cur);
        r->cur = NULL;
    }
    return rc;
}

static bool on_row(const m2m_rows *r) {
    return r && r->started && (r->mem ? r->pos < r->mem->nout : r->cur != NULL);
}

int m2m_rows_ncols(m2m_rows *r) {
    if (!r)
        return 0;
    if (r->raw)
        return r->cur ? r->db->drv->stmt.cursor_ncols(r->cur) : 0;
    return r->nrel;
}

const char *m2m_rows_name(m2m_rows *r, int i) {
    if (!r || i < 0 || i >= m2m_rows_ncols(r))
        return NULL;
    if (r->mem)
        return r->mem->rel_names[i];
    /* Done or failed: the cursor, and its names, are gone. */
    return r->cur ? r->db->drv->stmt.cursor_name(r->cur, r->base + i) : NULL;
}

m2m_value m2m_rows_value(m2m_rows *r, int i) {
    /* The loop of every read comes here: a cursor's related column first. */
    if (r && r->cur && r->started && !r->raw && (unsigned)i < (unsigned)r->nrel)
        return r->db->drv->stmt.cursor_value(r->cur, r->base + i);
    if (!on_row(r) || i < 0 || i >= m2m_rows_ncols(r))
        return M2M_NULL;
    if (r->mem)
        return r->mem->rel[r->mem->out_r[r->pos] * r->mem->rel_width + (size_t)i];
    return r->db->drv->stmt.cursor_value(r->cur, r->base + i);
}

m2m_value m2m_rows_get(m2m_rows *r, const char *col) {
    int n = on_row(r) ? m2m_rows_ncols(r) : 0;
    for (int i = 0; col && i < n; i++) {
        const char *name = m2m_rows_name(r, i);
        if (name && strcmp(name, col) == 0)
            return m2m_rows_value(r, i);
    }
    return M2M_NULL;
}

int m2m_rows_npivot(m2m_rows *r) { return r ? r->npiv : 0; }

const char *m2m_rows_pivot_name(m2m_rows *r, int i) {
    return r && i >= 0 && i < r->npiv ? r->piv_names[i] : NULL;
}

m2m_value m2m_rows_pivot_value(m2m_rows *r, int i) {
    if (r && r->cur && r->started && (unsigned)i < (unsigned)r->npiv)
        return r->db->drv->stmt.cursor_value(r->cur, r->base + r->nrel + i);
    if (!on_row(r) || i < 0 || i >= r->npiv)
        return M2M_NULL;
    if (r->mem)
        return r->mem->piv[r->mem->out_p[r->pos] * r->mem->piv_width + 2 + (size_t)i];
    return r->db->drv->stmt.cursor_value(r->cur, r->base + r->nrel + i);
}

m2m_value m2m_rows_pivot(m2m_rows *r, const char *col) {
    for (int i = 0; r && col && i < r->npiv; i++)
        if (strcmp(r->piv_names[i], col) == 0)
            return m2m_rows_pivot_value(r, i);
    return M2M_NULL;
}

m2m_value m2m_rows_parent(m2m_rows *r) {
    if (!on_row(r) || r->raw)
        return M2M_NULL;
    if (r->mem)
        return r->mem->piv[r->mem->out_p[r->pos] * r->mem->piv_width];
    return r->parent_param ? r->params[0] : r->db->drv->stmt.cursor_value(r->cur, 0);
}

/* Hidden token column i of the current row: after the pivot columns of a
 * cursor, at the end of a memory pivot row. */
static m2m_value token_col(const m2m_rows *r, size_t i) {
    if (r->mem) {
        size_t w = r->mem->piv_width;
        return r->mem->piv[r->mem->out_p[r->pos] * w + w - r->nk + i];
    }
    return r->db->drv->stmt.cursor_value(r->cur, r->base + r->nrel + r->npiv + (int)i);
}

const char *m2m_rows_token(m2m_rows *r) {
    if (!on_row(r) || !r->keyset)
        return NULL;
    size_t n = r->nk + (r->many ? 1 : 0), k = 0;
    m2m_value *v = m2m__calloc(n, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i + 1 < r->nk; i++)
        v[k++] = token_col(r, i);
    if (r->many)
        v[k++] = m2m_rows_parent(r);
    v[k++] = token_col(r, r->nk - 1);
    m2m__free(r->token);
    r->token = m2m__ks_encode(r->fp, v, n);
    m2m__free(v);
    return r->token;
}
