/* SPDX-License-Identifier: MIT */
/* Running a read: the checks every read makes, the statement cache keyed
 * by the read's shape, and get and count through the JOIN or the
 * two-query strategy. */
#include "query/query.h"

#include "core/plan.h"

#include <stdlib.h>
#include <string.h>

typedef m2m__sqlq sqlq;

/* The default with-pivot set: the relation's declared pivot columns. */
static int default_with(m2m_query *q) {
    if (q->custom_with || q->nwith)
        return M2M_OK;
    for (size_t i = 0; i < q->rel->nextra; i++) {
        char *c = m2m__strdup(q->rel->cols[i]);
        if (!c ||
            m2m__grow((void **)&q->with, &q->capwith, q->nwith + 1, sizeof *q->with)) {
            m2m__free(c);
            return M2M_NOMEM;
        }
        q->with[q->nwith++] = c;
    }
    return M2M_OK;
}

/* The longest shape remembered: it bounds the key kept with each cached
 * read; reads of a longer one build their text every time. Unmeasured. */
enum { SHAPE_MAX = 256 };

/* The SQL text of a read depends on its shape only: the kinds, operators
 * and columns of its filters, its with and order columns, whether it has a
 * limit; not on the values. Reads of a known shape (the same read for
 * parent after parent) skip building the text. A shape longer than p is
 * not cached (n = 0). */
typedef struct shape {
    char p[SHAPE_MAX];
    size_t n;
    bool full;
} shape;

static void kput(shape *k, const void *v, size_t n) {
    if (k->full || n > sizeof k->p - k->n) {
        k->full = true;
        return;
    }
    memcpy(k->p + k->n, v, n);
    k->n += n;
}

static void kstr(shape *k, const char *s) { kput(k, s, strlen(s) + 1); }

static void kint(shape *k, size_t v) { kput(k, &v, sizeof v); }

static size_t shape_of(const m2m_query *q, char kind, int limited, shape *k) {
    k->n = 0;
    k->full = false;
    kput(k, &kind, 1);
    kint(k, q->many);
    kint(k, q->nfilters);
    for (size_t i = 0; i < q->nfilters; i++) {
        const m2m__filter *f = &q->filters[i];
        kint(k, (size_t)f->kind << 2 | (size_t)f->or << 1 | f->pivot);
        kstr(k, f->op ? f->op : "");
        kstr(k, f->col ? f->col : "");
    }
    kint(k, q->nwith);
    for (size_t i = 0; i < q->nwith; i++)
        kstr(k, q->with[i]);
    kint(k, q->nsel);
    for (size_t i = 0; i < q->nsel; i++)
        kstr(k, q->sel[i]);
    kint(k, q->find);
    kint(k, (size_t)q->each << 1 | (q->each && q->each_limit >= 0));
    kint(k, q->norders);
    for (size_t i = 0; i < q->norders; i++) {
        kint(k, (size_t)q->orders[i].dir << 1 | q->orders[i].pivot);
        kstr(k, q->orders[i].col);
    }
    kint(k, (size_t)limited);
    /* A token's NULL values change its condition's text. */
    bool after = q->after && !q->find;
    kint(k, (size_t)q->keyset << 1 | after);
    for (size_t i = 0; after && i < q->nafter; i++)
        kint(k, q->after[i].type == M2M_TNULL);
    if (k->full)
        k->n = 0; /* a cut key could name another shape: never remember it */
    return k->n;
}

static const shape unshaped; /* reads whose text is always built */

/* Start a read of the given kind: find the statement of its shape, and
 * set s to build the text only when that shape is new. */
static int start_read(m2m_query *q, char kind, int limited, shape *k, sqlq *s,
                      m2m__stmt **st, size_t *entry) {
    bool text = true;
    if (shape_of(q, kind, limited, k)) {
        int rc = m2m__rel_stmt_shape(q->rel, k->p, k->n, st, entry);
        if (rc != M2M_OK && rc != M2M_NOTFOUND)
            return rc;
        text = rc == M2M_NOTFOUND;
    }
    m2m__sqlq_init(s, text);
    return M2M_OK;
}

/* The statement of the text just built (when it was), remembered under its
 * shape. */
static int prepare(m2m_query *q, sqlq *s, const shape *k, m2m__stmt **st, size_t *entry) {
    m2m_db *db = q->rel->db;
    if (s->b.oom || (!s->b.off && !s->b.p))
        return m2m__set_error(db, M2M_NOMEM, "%s: out of memory building a query",
                              q->rel->pivot_table);
    if (s->b.off)
        return M2M_OK;
    int rc = m2m__rel_stmt_sql(q->rel, s->b.p, st, entry);
    if (rc == M2M_OK && k->n)
        m2m__rel_remember_shape(q->rel, *entry, k->p, k->n);
    return rc;
}

int m2m__q_prepare(m2m_query *q, m2m__sqlq *s, m2m__stmt **st) {
    size_t entry;
    return prepare(q, s, &unshaped, st, &entry);
}

/* Related columns are checked by the database (at prepare on SQLite, at
 * execution on PostgreSQL): an unknown one is a bad argument of the query,
 * like an unknown pivot column. */
int m2m__q_read_rc(m2m_query *q, int rc) {
    m2m_db *db = q->rel->db;
    if (rc == M2M_NOTFOUND) {
        m2m__saved_error why = m2m__error_save(db);
        rc = m2m__set_error(db, M2M_INVALID, "%s: bad query: %s", q->rel->pivot_table,
                            why.msg ? why.msg : "unknown column");
        m2m__error_drop(&why);
    }
    return rc;
}

int m2m__q_check_ready(m2m_query *q) {
    if (!q)
        return M2M_MISUSE;
    m2m_db *db = q->rel->db;
    m2m__clear_error(db);
    if (q->err)
        return m2m__set_error(db, q->err, "%s", q->errmsg);
    if (q->depth)
        return m2m__set_error(db, M2M_INVALID,
                              "%s: %d condition group%s opened by m2m_query_group() "
                              "and not closed by m2m_query_group_end()",
                              q->rel->pivot_table, q->depth, q->depth == 1 ? "" : "s");
    int krc = m2m__ks_check(q);
    if (krc)
        return krc;
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a result cursor is still open on this connection; free it "
                              "with m2m_rows_free() first");
    if (q->rel->owner_column && !db->auth_claims)
        return m2m__set_error(db, M2M_DENIED,
                              "%s: the relation is bound to the JWT owner column '%s'; "
                              "authenticate with m2m_auth_jwt() first",
                              q->rel->pivot_table, q->rel->owner_column);
    int rc = m2m__auth_live(db);
    if (rc)
        return rc;
    if (default_with(q))
        return m2m__set_error(db, M2M_NOMEM, "out of memory");
    /* A pivot missing when the relation was opened is M2M_NOTFOUND, not a
     * bad query. */
    if (!q->rel->checked)
        return m2m__rel_check(q->rel, true, NULL);
    return M2M_OK;
}

/* The JOIN read. whole = 0 streams. whole > 0 takes the result in one
 * piece, which costs a streaming driver less per row (see whole_rows): when
 * the caller's limit is at most whole, or, without limit or offset, as a
 * probe with LIMIT whole + 1 written into the SQL (a constant, so that the
 * planner sees no smaller limit than the rows it expects and plans as for
 * the whole read). A probe's result that reaches whole + 1 rows is dropped
 * (M2M__MORE) and its shape marked big, so its next reads stream at once. */
static int get_join(m2m_query *q, size_t whole, m2m_rows **out) {
    int limited = q->limit >= 0 || q->offset > 0 ? 1 : whole ? 2 : 0;
    shape k;
    sqlq s;
    m2m__stmt *st;
    size_t entry;
    int rc = start_read(q, 'g', limited, &k, &s, &st, &entry);
    if (rc)
        return rc;
    if (limited == 2 && s.b.off && q->rel->cache[entry].big) {
        m2m__sqlq_free(&s);
        return M2M__MORE;
    }
    m2m__q_get_sql(&s, q, limited == 2 ? whole + 1 : 0);
    rc = prepare(q, &s, &k, &st, &entry);
    if (rc == M2M_OK)
        rc = m2m__rows_rel(q, st, entry, s.params, s.np, whole, out);
    if (rc == M2M__MORE)
        q->rel->cache[entry].big = true;
    m2m__sqlq_free(&s);
    return rc;
}

static int query_get(m2m_query *q, m2m_rows **out) {
    if (out)
        *out = NULL;
    int rc = m2m__q_check_ready(q);
    if (rc)
        return rc;
    if (!out)
        return m2m__set_error(q->rel->db, M2M_MISUSE, "m2m_query_get: out is NULL");
    if (q->many && q->nparents == 0)
        return m2m__rows_mem(q, m2m__calloc(1, sizeof(m2m__memrows)), out);
    /* A JWT session reads inside a transaction that sets the claims, so it
     * reads through the two-query path, which runs to completion. */
    if (q->strategy == M2M_TWO_QUERY || q->rel->db->auth_claims)
        return m2m__q_read_rc(q, m2m__query_two(q, false, NULL, out));
    size_t whole = q->rel->db->drv->info->caps.whole_rows;
    bool fits = q->limit >= 0 && (uint64_t)q->limit <= whole;
    rc = whole && ((q->limit < 0 && q->offset == 0) || fits) ? get_join(q, whole, out)
                                                             : M2M__MORE;
    if (rc == M2M__MORE)
        rc = get_join(q, 0, out);
    return m2m__q_read_rc(q, rc);
}

static int query_count(m2m_query *q, int64_t *out) {
    int rc = m2m__q_check_ready(q);
    if (rc)
        return rc;
    if (!out)
        return m2m__set_error(q->rel->db, M2M_MISUSE, "m2m_query_count: out is NULL");
    *out = 0;
    if (q->many && q->nparents == 0)
        return M2M_OK;
    if (q->strategy == M2M_TWO_QUERY || q->rel->db->auth_claims)
        return m2m__q_read_rc(q, m2m__query_two(q, true, out, NULL));
    shape k;
    sqlq s;
    m2m__stmt *st;
    size_t entry;
    if ((rc = start_read(q, 'c', 0, &k, &s, &st, &entry)))
        return rc;
    m2m__q_count_sql(&s, q);
    rc = prepare(q, &s, &k, &st, &entry);
    m2m_db *db = q->rel->db;
    if (rc == M2M_OK) {
        m2m_value v = M2M_NULL;
        m2m__cursor *c = NULL;
        if (m2m__plan_read(db, q->rel, st, s.np,
                           "count the related rows in one statement"))
            rc = M2M_OK;
        else if ((rc = db->drv->stmt.cursor_open(db, st, s.params, s.np, 1, &c)) ==
                     M2M_OK &&
                 (rc = db->drv->stmt.cursor_next(c)) == M2M_ROW) { /* one row */
            v = db->drv->stmt.cursor_value(c, 0);
            *out = v.type == M2M_TINT    ? v.i
                   : v.type == M2M_TTEXT ? strtoll(v.s, NULL, 10)
                                         : 0;
            rc = M2M_OK;
        }
        if (c)
            db->drv->stmt.cursor_close(c);
    }
    m2m__sqlq_free(&s);
    return m2m__q_read_rc(q, rc);
}

int m2m_query_get(m2m_query *q, m2m_rows **out) {
    if (!q || !q->rel)
        return query_get(q, out);
    return M2M__EXPLAINED(q->rel->db, query_get(q, out));
}

int m2m_query_count(m2m_query *q, int64_t *out) {
    if (!q || !q->rel)
        return query_count(q, out);
    return M2M__EXPLAINED(q->rel->db, query_count(q, out));
}
