/* SPDX-License-Identifier: MIT */
/* Reads that answer per parent or per id, each one statement: counts and
 * existence for many parents, which of some ids are attached; and the
 * first row of a query, or the row of one related id. */
#include "core/input.h"
#include "query/query.h"

#include "core/plan.h"

#include <stdio.h>
#include <string.h>

/* Rows of (value, count) gathered from a statement. */
typedef struct pairs {
    m2m_db *db;
    m2m_value *v;
    int64_t *n;
    size_t len, cap, capn;
} pairs;

static int pair_row(void *arg, m2m__cursor *row) {
    pairs *p = arg;
    const m2m__driver *d = p->db->drv;
    if (m2m__grow((void **)&p->v, &p->cap, p->len + 1, sizeof *p->v) ||
        m2m__grow((void **)&p->n, &p->capn, p->len + 1, sizeof *p->n) ||
        m2m__value_copy(&p->v[p->len], d->stmt.cursor_value(row, 0)))
        return m2m__set_error(p->db, M2M_NOMEM, "out of memory reading rows");
    m2m_value c =
        d->stmt.cursor_ncols(row) > 1 ? d->stmt.cursor_value(row, 1) : M2M_INT(1);
    p->n[p->len++] = c.type == M2M_TINT ? c.i : 1;
    if (p->len > p->db->stats.rows_peak)
        p->db->stats.rows_peak = p->len;
    return M2M_OK;
}

static void pairs_free(pairs *p) {
    m2m__values_free(p->v, p->len);
    m2m__free(p->n);
}

/* Run the one statement built in s; its rows go to p. */
static int run_one(m2m_query *q, m2m__sqlq *s, pairs *p) {
    m2m__op op;
    m2m__stmt *st;
    int rc = m2m__q_read_begin(q, &op, false);
    m2m__step *step = NULL;
    if (rc == M2M_OK && (rc = m2m__q_prepare(q, s, &st)) == M2M_OK &&
        !(step = m2m__op_add(&op, st, s->params, s->np, pair_row, p)))
        rc = m2m__set_error(q->rel->db, M2M_ERROR, "internal: too many statements");
    if (step)
        step->why = "one statement, grouped: a row per parent or id that has rows";
    return m2m__q_read_rc(q, m2m__q_read_end(&op, rc));
}

/* Where each wanted value is among the found ones: out[i] = index + 1, or
 * 0. A hash of the found values (unique: grouped or distinct). */
static int match(m2m_db *db, const pairs *found, const m2m_value *want, size_t n,
                 size_t *out) {
    m2m__valset set;
    if (m2m__valset_alloc(&set, found->v, 1, found->len))
        return m2m__set_error(db, M2M_NOMEM, "out of memory");
    for (size_t i = 0; i < found->len; i++)
        m2m__valset_add(&set, i);
    for (size_t i = 0; i < n; i++)
        out[i] = m2m__valset_find(&set, want[i]);
    m2m__valset_free(&set);
    return M2M_OK;
}

/* ", count(col)" for each order column: order does not change these
 * reads, but a bad order column must fail here as it does in get. */
static void check_orders(m2m__sqlq *s, const m2m_query *q) {
    for (size_t i = 0; i < q->norders; i++) {
        m2m__buf_add(&s->b, ", count(");
        m2m__q_col(s, q->orders[i].pivot ? "p" : "r", q->orders[i].col);
        m2m__buf_add(&s->b, ")");
    }
}

/* SELECT p.fk, count(*) ... GROUP BY p.fk: one row per parent that has
 * rows. */
static int per_parent(m2m_query *q, int64_t *n_out, int *e_out) {
    int rc = m2m__q_check_ready(q);
    if (rc)
        return rc;
    m2m_db *db = q->rel->db;
    if (q->nparents == 0)
        return M2M_OK;
    if (!n_out && !e_out)
        return m2m__set_error(db, M2M_MISUSE, "%s: the output array is NULL",
                              q->rel->pivot_table);
    m2m__sqlq s;
    m2m__sqlq_init(&s, true);
    m2m__buf_add(&s.b, "SELECT ");
    m2m__q_col(&s, "p", q->rel->fk);
    m2m__buf_add(&s.b, ", count(*)");
    check_orders(&s, q);
    m2m__q_join_from_where(&s, q);
    m2m__buf_add(&s.b, " GROUP BY ");
    m2m__q_col(&s, "p", q->rel->fk);
    pairs p = {.db = db};
    size_t *at = NULL;
    rc = run_one(q, &s, &p);
    if (rc == M2M_OK && !(at = m2m__calloc(q->nparents, sizeof *at)))
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory");
    if (rc == M2M_OK)
        rc = match(db, &p, q->parents, q->nparents, at);
    for (size_t i = 0; rc == M2M_OK && i < q->nparents; i++) {
        if (n_out)
            n_out[i] = at[i] ? p.n[at[i] - 1] : 0;
        else
            e_out[i] = at[i] != 0;
    }
    m2m__free(at);
    pairs_free(&p);
    m2m__sqlq_free(&s);
    return rc;
}

int m2m_query_count_each(m2m_query *q, int64_t *counts) {
    if (!q || !q->rel)
        return per_parent(q, counts, NULL);
    return M2M__EXPLAINED(q->rel->db, per_parent(q, counts, NULL));
}

int m2m_query_exists_each(m2m_query *q, int *exists) {
    if (!q || !q->rel)
        return per_parent(q, NULL, exists);
    return M2M__EXPLAINED(q->rel->db, per_parent(q, NULL, exists));
}

static int query_has(m2m_query *q, const m2m_value *ids, size_t n, int *out);

int m2m_query_has(m2m_query *q, const m2m_value *ids, size_t n, int *out) {
    if (!q || !q->rel)
        return query_has(q, ids, n, out);
    return M2M__EXPLAINED(q->rel->db, query_has(q, ids, n, out));
}

static int query_has(m2m_query *q, const m2m_value *ids, size_t n, int *out) {
    int rc = m2m__q_check_ready(q);
    if (rc)
        return rc;
    m2m_relation *rel = q->rel;
    m2m_db *db = rel->db;
    if ((n && (!ids || !out)) || q->many)
        return m2m__set_error(db, M2M_MISUSE,
                              "%s: m2m_query_has needs a query of one parent and "
                              "non-NULL ids and out",
                              rel->pivot_table);
    for (size_t i = 0; i < n; i++)
        if ((rc = m2m__check_id(rel, "related", ids[i], rel->related_type)))
            return rc;
    if (n == 0)
        return M2M_OK;
    m2m__sqlq s;
    m2m__sqlq_init(&s, true);
    m2m__buf_add(&s.b, "SELECT ");
    m2m__q_col(&s, "p", rel->rk);
    m2m__buf_add(&s.b, ", count(*)");
    check_orders(&s, q);
    m2m__q_join_from_where(&s, q);
    m2m__buf_add(&s.b, " AND ");
    m2m__q_key_set(&s, rel, "p", rel->rk, ids, n, rel->related_type);
    m2m__buf_add(&s.b, " GROUP BY ");
    m2m__q_col(&s, "p", rel->rk);
    pairs p = {.db = db};
    size_t *at = NULL;
    rc = run_one(q, &s, &p);
    if (rc == M2M_OK && !(at = m2m__calloc(n, sizeof *at)))
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory");
    if (rc == M2M_OK)
        rc = match(db, &p, ids, n, at);
    for (size_t i = 0; rc == M2M_OK && i < n; i++)
        out[i] = at[i] != 0;
    m2m__free(at);
    pairs_free(&p);
    m2m__sqlq_free(&s);
    return rc;
}

/* get with limit 1 (and offset 0 for find), then step onto the row. */
static int first_row(m2m_query *q, m2m_rows **out, const char *what) {
    if (out)
        *out = NULL;
    int64_t limit = q->limit, offset = q->offset;
    q->limit = 1;
    if (q->find)
        q->offset = 0;
    m2m_rows *rows = NULL;
    int rc = m2m_query_get(q, out ? &rows : NULL);
    q->limit = limit;
    q->offset = offset;
    if (rc == M2M_OK && q->rel->db->explain) { /* explained: no row, no error */
        m2m_rows_free(rows);
        return M2M_OK;
    }
    if (rc)
        return rc;
    rc = m2m_rows_next(rows);
    if (rc == M2M_ROW) {
        *out = rows;
        return M2M_OK;
    }
    m2m_rows_free(rows);
    if (rc != M2M_DONE)
        return rc;
    return m2m__set_error(q->rel->db, M2M_NOTFOUND, "%s: %s", q->rel->pivot_table, what);
}

int m2m_query_first(m2m_query *q, m2m_rows **out) {
    if (!q || !q->rel)
        return M2M_MISUSE;
    return M2M__EXPLAINED(q->rel->db, first_row(q, out, "the query has no rows"));
}

static int query_find(m2m_query *q, m2m_value id, m2m_rows **out);

int m2m_query_find(m2m_query *q, m2m_value id, m2m_rows **out) {
    if (out)
        *out = NULL;
    if (!q || !q->rel)
        return M2M_MISUSE;
    return M2M__EXPLAINED(q->rel->db, query_find(q, id, out));
}

static int query_find(m2m_query *q, m2m_value id, m2m_rows **out) {
    m2m__clear_error(q->rel->db);
    int rc = m2m__check_id(q->rel, "related", id, q->rel->related_type);
    if (rc)
        return rc;
    char buf[40], what[160];
    snprintf(what, sizeof what, "related id %.100s is not among the query's rows",
             m2m_value_text(id, buf, sizeof buf));
    q->find = true;
    q->find_id = id;
    rc = first_row(q, out, what);
    q->find = false;
    q->find_id = M2M_NULL;
    return rc;
}
