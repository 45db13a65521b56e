/* SPDX-License-Identifier: MIT */
/* The two-query read: the pivot rows first, then the related rows by the
 * key set of those rows, joined in memory. The database orders: each
 * statement returns, for every order column, the dense rank of the row's
 * value under the column's own collation (ascending, NULLs first), so the
 * memory sort compares integers and gives exactly the JOIN's sequence
 * whatever the collation. Both statements run in one read-only
 * transaction (or the caller's), so they see one snapshot. */
#include "query/query.h"

#include <stdlib.h>
#include <string.h>

typedef struct collect_rows {
    m2m_db *db;
    m2m_value *vals;
    size_t nrows, cap, width;
    char ***names; /* when set, take column names from the first row */
} collect_rows;

static int collect_row(void *arg, m2m__cursor *row) {
    collect_rows *c = arg;
    const m2m__driver *d = c->db->drv;
    if (c->nrows == 0) {
        c->width = (size_t)d->stmt.cursor_ncols(row);
        if (c->names) {
            *c->names = m2m__calloc(c->width ? c->width : 1, sizeof(char *));
            if (!*c->names)
                return m2m__set_error(c->db, M2M_NOMEM, "out of memory reading rows");
            for (size_t i = 0; i < c->width; i++)
                if (!((*c->names)[i] = m2m__strdup(d->stmt.cursor_name(row, (int)i))))
                    return m2m__set_error(c->db, M2M_NOMEM, "out of memory reading rows");
        }
    }
    if (m2m__grow((void **)&c->vals, &c->cap, (c->nrows + 1) * c->width, sizeof *c->vals))
        return m2m__set_error(c->db, M2M_NOMEM, "out of memory reading rows");
    for (size_t i = 0; i < c->width; i++)
        if (m2m__value_copy(&c->vals[c->nrows * c->width + i],
                            d->stmt.cursor_value(row, (int)i))) {
            for (size_t k = 0; k < i; k++)
                m2m__value_clear(&c->vals[c->nrows * c->width + k]);
            return m2m__set_error(c->db, M2M_NOMEM, "out of memory reading rows");
        }
    c->nrows++;
    if (c->nrows > c->db->stats.rows_peak)
        c->db->stats.rows_peak = c->nrows;
    return M2M_OK;
}

/* The transaction several statements share: none inside a caller
 * transaction (it holds them together), else a read-only one, sent with
 * the first statement. A JWT session's claims are set in it as for writes,
 * also for a read of one statement. */
int m2m__q_read_begin(m2m_query *q, m2m__op *op, bool several) {
    m2m_db *db = q->rel->db;
    m2m__stmt *st;
    if (db->auth_claims) {
        /* A read needs no write lock: BEGIN and the claims only. */
        int rc = m2m__op_begin_read(op, q->rel);
        if (rc == M2M_OK && !db->in_txn &&
            (rc = m2m__fixed(db, M2M__READ_BEGIN, &st)) == M2M_OK)
            op->steps[0].stmt = st;
        return rc;
    }
    *op = (m2m__op){.db = db, .rel = q->rel};
    if (db->in_txn || !several)
        return M2M_OK;
    int rc = m2m__fixed(db, M2M__READ_BEGIN, &st);
    if (rc)
        return rc;
    m2m__step *b = m2m__op_add(op, st, NULL, 0, NULL, NULL);
    if (b)
        b->why = "a read-only transaction: the statements see one snapshot";
    op->open = true;
    op->begin_pending = true;
    return M2M_OK;
}

int m2m__q_read_end(m2m__op *op, int rc) {
    if (rc == M2M_OK)
        rc = op->open ? m2m__op_commit(op) : m2m__op_flush(op);
    if (op->begin_pending)
        op->open = false; /* nothing was sent: nothing to roll back */
    if (op->open)
        m2m__op_abort(op);
    return rc;
}

/* ", dense_rank() OVER (ORDER BY alias.col ASC NULLS FIRST)" */
static void rank_col(m2m__sqlq *s, const m2m_relation *rel, const char *alias,
                     const char *col) {
    m2m__buf_add(&s->b, ", dense_rank() OVER (ORDER BY ");
    m2m__q_col(s, alias, col);
    rel->db->drv->dialect.order_dir(&s->b, false);
    m2m__buf_add(&s->b, ")");
}

/* One key of the memory sort: a column of the pivot or related row. */
typedef struct sortkey {
    bool pivot;
    size_t col;
    bool desc;
} sortkey;

typedef struct sortctx {
    const m2m__memrows *m;
    const sortkey *keys;
    size_t nkeys;
} sortctx;

static m2m_value sort_val(const sortctx *c, size_t out, const sortkey *k) {
    const m2m__memrows *m = c->m;
    if (k->pivot)
        return m->piv[m->out_p[out] * m->piv_width + k->col];
    return m->rel[m->out_r[out] * m->rel_width + k->col];
}

/* Ranks and integer keys compare as numbers. */
static int cmp_out(const sortctx *c, size_t a, size_t b) {
    for (size_t i = 0; i < c->nkeys; i++) {
        const sortkey *k = &c->keys[i];
        int r = m2m__value_cmp(sort_val(c, a, k), sort_val(c, b, k));
        if (r)
            return k->desc ? -r : r;
    }
    return 0;
}

/* Stable merge sort of output row numbers (qsort has no context). */
static void msort(const sortctx *c, size_t *v, size_t *tmp, size_t n) {
    if (n < 2)
        return;
    size_t h = n / 2;
    msort(c, v, tmp, h);
    msort(c, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_out(c, v[j], v[i]) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* Join the pivot rows to the related rows through a hash of related keys:
 * out_p/out_r list the pairs, in pivot row order. */
static int join_rows(m2m_query *q, m2m__memrows *m) {
    m2m_db *db = q->rel->db;
    /* The key follows the columns returned. */
    const m2m_value *keys = m->nrel_rows ? m->rel + m->rel_ncols : NULL;
    m2m__valset set;
    int rc = m2m__valset_alloc(&set, keys, m->rel_width, m->nrel_rows);
    m->out_p = m2m__calloc(m->npiv_rows ? m->npiv_rows : 1, sizeof *m->out_p);
    m->out_r = m2m__calloc(m->npiv_rows ? m->npiv_rows : 1, sizeof *m->out_r);
    if (rc || !m->out_p || !m->out_r) {
        m2m__valset_free(&set);
        return m2m__set_error(db, M2M_NOMEM, "out of memory");
    }
    for (size_t i = 0; keys && i < m->nrel_rows; i++)
        m2m__valset_add(&set, i);
    for (size_t p = 0; keys && p < m->npiv_rows; p++) {
        size_t r = m2m__valset_find(&set, m->piv[p * m->piv_width + 1]);
        if (r) {
            m->out_p[m->nout] = p;
            m->out_r[m->nout++] = r - 1;
        }
    }
    m2m__valset_free(&set);
    return M2M_OK;
}

/* A per-parent limit over the sorted rows perm: keep each parent's rows
 * numbered (from 1, in order) in (offset, offset + limit]; m->nout
 * shrinks to the rows kept. Counts per parent through a hash of the
 * parent values. */
static int cut_each(const m2m_query *q, m2m__memrows *m, size_t *perm) {
    m2m__valset parents; /* the parent of each pivot row: column 0 */
    int rc = m2m__valset_alloc(&parents, m->piv, m->piv_width, m->nout);
    /* rows of each parent, by its first pivot row */
    uint64_t *seen = m2m__calloc(m->npiv_rows ? m->npiv_rows : 1, sizeof *seen);
    if (rc || !seen) {
        m2m__valset_free(&parents);
        m2m__free(seen);
        return M2M_NOMEM;
    }
    uint64_t lo = (uint64_t)q->each_offset;
    size_t kept = 0;
    for (size_t i = 0; i < m->nout; i++) {
        uint64_t n = ++seen[m2m__valset_add(&parents, m->out_p[perm[i]])];
        if (n > lo && (q->each_limit < 0 || n - lo <= (uint64_t)q->each_limit))
            perm[kept++] = perm[i];
    }
    m->nout = kept;
    m2m__valset_free(&parents);
    m2m__free(seen);
    return M2M_OK;
}

/* Order the joined rows as the JOIN's ORDER BY does (the order columns,
 * then parent and related key), then apply limit and offset. Text keys
 * sort by their ranks, integer keys by value. */
static int order_rows(m2m_query *q, m2m__memrows *m, bool fk_rank, bool rk_rank) {
    const m2m_relation *rel = q->rel;
    sortkey *keys = m2m__calloc(q->norders + 2, sizeof *keys);
    size_t *perm = m2m__calloc(m->nout ? m->nout : 1, sizeof *perm);
    size_t *tmp = m2m__calloc(m->nout ? m->nout : 1, sizeof *tmp);
    if (!keys || !perm || !tmp) {
        m2m__free(keys);
        m2m__free(perm);
        m2m__free(tmp);
        return m2m__set_error(rel->db, M2M_NOMEM, "out of memory");
    }
    size_t prank = 2 + q->nwith, rrank = m->rel_ncols + 1, n = 0;
    for (size_t k = 0; k < q->norders; k++) {
        bool pivot = q->orders[k].pivot;
        keys[n++] =
            (sortkey){pivot, pivot ? prank++ : rrank++, q->orders[k].dir == M2M_DESC};
    }
    if (q->many)
        keys[n++] = (sortkey){true, fk_rank ? prank++ : 0, false};
    keys[n++] = (sortkey){true, rk_rank ? prank : 1, false};
    sortctx sc = {.m = m, .keys = keys, .nkeys = n};
    for (size_t i = 0; i < m->nout; i++)
        perm[i] = i;
    msort(&sc, perm, tmp, m->nout);
    if (q->each && cut_each(q, m, perm) != M2M_OK) {
        m2m__free(keys);
        m2m__free(perm);
        m2m__free(tmp);
        return m2m__set_error(rel->db, M2M_NOMEM, "out of memory");
    }
    size_t from = q->offset < 0 ? 0 : (size_t)q->offset;
    if (from > m->nout)
        from = m->nout;
    size_t cnt = m->nout - from;
    if (q->limit >= 0 && (uint64_t)q->limit < cnt)
        cnt = (size_t)q->limit;
    for (size_t i = 0; i < cnt; i++) {
        tmp[i] = m->out_p[perm[from + i]];
        perm[from + i] = m->out_r[perm[from + i]];
    }
    memcpy(m->out_p, tmp, cnt * sizeof *tmp);
    memmove(m->out_r, perm + from, cnt * sizeof *perm);
    m->nout = cnt;
    m2m__free(keys);
    m2m__free(perm);
    m2m__free(tmp);
    return M2M_OK;
}

int m2m__query_two(m2m_query *q, bool count_only, int64_t *count, m2m_rows **out) {
    m2m_relation *rel = q->rel;
    m2m_db *db = rel->db;
    m2m__op op = {0};
    int rc = m2m__q_read_begin(q, &op, true);
    m2m__memrows *m = m2m__calloc(1, sizeof *m);
    collect_rows pc = {.db = db}, rc2 = {.db = db};
    m2m__sqlq s1, s2;
    m2m__sqlq_init(&s1, true);
    m2m__sqlq_init(&s2, true);
    m2m_value *keys = NULL; /* the related key set, bound by s2 */
    bool fk_rank = q->many && rel->parent_type == M2M_TTEXT;
    bool rk_rank = rel->related_type == M2M_TTEXT;
    if (!m && rc == M2M_OK)
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory");
    if (rc)
        goto done;
    /* 1. Pivot rows: fk, rk, with-pivot columns, then the ranks of the
     * pivot order columns and of text keys. */
    m2m__buf_add(&s1.b, "SELECT ");
    m2m__q_col(&s1, "p", rel->fk);
    m2m__buf_add(&s1.b, ", ");
    m2m__q_col(&s1, "p", rel->rk);
    for (size_t i = 0; i < q->nwith; i++) {
        m2m__buf_add(&s1.b, ", ");
        m2m__q_col(&s1, "p", q->with[i]);
    }
    for (size_t i = 0; i < q->norders; i++)
        if (q->orders[i].pivot)
            rank_col(&s1, rel, "p", q->orders[i].col);
    if (fk_rank)
        rank_col(&s1, rel, "p", rel->fk);
    if (rk_rank)
        rank_col(&s1, rel, "p", rel->rk);
    /* Keyset pages: the values of the tokens, last (m2m_rows_token). */
    bool keyed = q->keyset && !count_only, by_related = false;
    for (size_t i = 0; keyed && i < q->norders; i++)
        by_related |= !q->orders[i].pivot;
    if (keyed)
        m2m__q_keyset_cols(&s1, q);
    m2m__buf_add(&s1.b, " FROM ");
    m2m__buf_ident(&s1.b, rel->pivot_table);
    m2m__buf_add(&s1.b, " AS p");
    /* A group naming related and pivot columns is a condition on the
     * pair, and a keyset page by a related column compares it: the pivot
     * rows are read joined to their related row. */
    if (m2m__q_mixed(q) || by_related) {
        m2m__buf_add(&s1.b, " JOIN ");
        m2m__buf_ident(&s1.b, rel->related_table);
        m2m__buf_add(&s1.b, " AS r ON ");
        m2m__q_col(&s1, "r", rel->related_key);
        m2m__buf_add(&s1.b, " = ");
        m2m__q_col(&s1, "p", rel->rk);
    }
    m2m__buf_add(&s1.b, " WHERE ");
    m2m__q_parent(&s1, q);
    m2m__q_filters(&s1, q, true);
    m2m__q_groups(&s1, q, G_PIVOT | G_MIXED);
    if (keyed && q->after && !q->find)
        m2m__q_keyset(&s1, q);
    m2m__stmt *st;
    if ((rc = m2m__q_prepare(q, &s1, &st)))
        goto done;
    m2m__step *step1 = m2m__op_add(&op, st, s1.params, s1.np, collect_row, &pc);
    if (step1) {
        step1->why = "two-query read, first: the parent's pivot rows";
        step1->plan_flags = M2M_PLAN_READ;
    } else {
        rc = m2m__set_error(db, M2M_ERROR, "internal: too many statements queued");
        goto done;
    }
    if ((rc = m2m__op_flush(&op)))
        goto done;
    m->piv = pc.vals;
    m->npiv_rows = pc.nrows;
    m->piv_width = pc.width;
    pc.vals = NULL;
    /* 2. Related rows whose key is in the pivot rows' key set, then the
     * ranks of the related order columns. It runs without pivot rows too:
     * a bad related column is an error whatever the data. */
    keys = m2m__calloc(m->npiv_rows ? m->npiv_rows : 1, sizeof *keys);
    if (!keys) {
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m->npiv_rows; i++)
        keys[i] = m->piv[i * m->piv_width + 1];
    m2m__buf_add(&s2.b, "SELECT ");
    m2m__q_select(&s2, q, "r");
    m2m__buf_add(&s2.b, ", ");
    m2m__q_col(&s2, "r", rel->related_key);
    size_t nrank = 1; /* the key, then the ranks */
    for (size_t i = 0; i < q->norders; i++)
        if (!q->orders[i].pivot) {
            rank_col(&s2, rel, "r", q->orders[i].col);
            nrank++;
        }
    m2m__buf_add(&s2.b, " FROM ");
    m2m__buf_ident(&s2.b, rel->related_table);
    m2m__buf_add(&s2.b, " AS r WHERE ");
    m2m__q_key_set(&s2, rel, "r", rel->related_key, keys, m->npiv_rows,
                   rel->related_type);
    m2m__q_filters(&s2, q, false);
    m2m__q_groups(&s2, q, G_RELATED);
    if ((rc = m2m__q_prepare(q, &s2, &st)))
        goto done;
    rc2.names = &m->rel_names;
    m2m__step *step2 = m2m__op_add(&op, st, s2.params, s2.np, collect_row, &rc2);
    if (step2) {
        step2->why = "two-query read, second: the related rows of those pivot rows "
                     "(their keys as one parameter)";
    } else {
        rc = m2m__set_error(db, M2M_ERROR, "internal: too many statements queued");
        goto done;
    }
    rc = op.open ? m2m__op_commit(&op) : m2m__op_flush(&op);
    m->rel = rc2.vals;
    m->nrel_rows = rc2.nrows;
    m->rel_width = rc2.width;
    m->rel_ncols = rc2.width >= nrank ? rc2.width - nrank : 0;
    rc2.vals = NULL;
    if (rc || (rc = join_rows(q, m)))
        goto done;
    if (count_only) {
        *count = (int64_t)m->nout;
        goto done;
    }
    if ((rc = order_rows(q, m, fk_rank, rk_rank)))
        goto done;
    rc = m2m__rows_mem(q, m, out);
    m = NULL;
done:
    if (op.begin_pending)
        op.open = false; /* nothing was sent: nothing to roll back */
    if (op.open)
        m2m__op_abort(&op);
    m2m__values_free(pc.vals, pc.nrows * pc.width);
    m2m__values_free(rc2.vals, rc2.nrows * rc2.width);
    m2m__memrows_free(m);
    m2m__free(keys);
    m2m__sqlq_free(&s1);
    m2m__sqlq_free(&s2);
    return rc;
}
