/* SPDX-License-Identifier: MIT */
/* The query builder: the public calls that make a read (its parents,
 * filters, returned columns, order, limits, strategy). Each call checks its
 * arguments at once and records the first error for get/count. */
#include "query/query.h"
#include "core/input.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The only operator text that reaches SQL comes from this table. */
static const struct {
    const char *in, *sql;
} ops[] = {{"=", "="},   {"!=", "<>"},     {"<>", "<>"},
           {"<", "<"},   {"<=", "<="},     {">", ">"},
           {">=", ">="}, {"like", "LIKE"}, {"not like", "NOT LIKE"}};

/* The query keeps its first error for get/count. */
static int qkeep(m2m_query *q, int rc, const char *msg) {
    if (!q->err) {
        q->err = rc;
        snprintf(q->errmsg, sizeof q->errmsg, "%s", msg);
    }
    return rc;
}

/* A builder call failed: the call reports itself on the db at once, and the
 * query keeps the error. */
static int qfail(m2m_query *q, int rc, const char *fmt, const char *a) {
    char msg[sizeof q->errmsg];
    snprintf(msg, sizeof msg, fmt, q->rel->pivot_table, a ? a : "(null)");
    qkeep(q, rc, msg);
    return m2m__set_error(q->rel->db, rc, "%s", msg);
}

static int new_query(m2m_relation *rel, const m2m_value *parents, size_t n, bool many,
                     m2m_query **out) {
    m2m_db *db = rel->db;
    m2m__clear_error(db);
    for (size_t i = 0; i < n; i++) {
        int rc = m2m__check_id(rel, "parent", parents[i], rel->parent_type);
        if (rc)
            return rc;
    }
    m2m_query *q = m2m__calloc(1, sizeof *q);
    if (!q || m2m__values_dup(parents, n, &q->parents)) {
        m2m__free(q);
        return m2m__set_error(db, M2M_NOMEM, "out of memory creating a query");
    }
    q->rel = rel;
    m2m__rel_ref(rel);
    q->nparents = n;
    q->many = many;
    q->limit = -1;
    q->strategy = rel->strategy;
    *out = q;
    return M2M_OK;
}

int m2m_query_new(m2m_relation *rel, m2m_value parent, m2m_query **out) {
    if (out)
        *out = NULL;
    if (!rel || !out)
        return rel ? m2m__set_error(rel->db, M2M_MISUSE, "m2m_query_new: out is NULL")
                   : M2M_MISUSE;
    return new_query(rel, &parent, 1, false, out);
}

int m2m_query_new_many(m2m_relation *rel, const m2m_value *parents, size_t n,
                       m2m_query **out) {
    if (out)
        *out = NULL;
    if (!rel || !out || (n && !parents))
        return rel ? m2m__set_error(rel->db, M2M_MISUSE,
                                    "m2m_query_new_many: NULL parents or out")
                   : M2M_MISUSE;
    return new_query(rel, parents, n, true, out);
}

/* A reader of parent after parent keeps one query, built once. A bad
 * parent is kept as the query's error, so that a read never
 * silently returns the previous parent's rows. */
int m2m_query_set_parent(m2m_query *q, m2m_value parent) {
    if (!q)
        return M2M_MISUSE;
    m2m_db *db = q->rel->db;
    m2m__clear_error(db);
    if (q->many)
        return qfail(q, M2M_MISUSE,
                     "%s: m2m_query_set_parent on a query of many parents%.0s", NULL);
    int rc = m2m__check_id(q->rel, "parent", parent, q->rel->parent_type);
    if (rc)
        return qkeep(q, rc, m2m_errmsg(db));
    m2m_value v;
    if (m2m__value_copy(&v, parent))
        return qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
    m2m__value_clear(&q->parents[0]);
    q->parents[0] = v;
    /* Pages belong to one parent: the new one starts at its first. */
    m2m__values_free(q->after, q->nafter);
    q->after = NULL;
    q->nafter = 0;
    return M2M_OK;
}

void m2m_query_free(m2m_query *q) {
    if (!q)
        return;
    for (size_t i = 0; i < q->nfilters; i++) {
        m2m__filter *f = &q->filters[i];
        m2m__free(f->col);
        m2m__value_clear(&f->v);
        m2m__value_clear(&f->v2);
        m2m__values_free(f->list, f->nlist);
    }
    m2m__free(q->filters);
    for (size_t i = 0; i < q->nwith; i++)
        m2m__free(q->with[i]);
    m2m__free(q->with);
    for (size_t i = 0; i < q->nsel; i++)
        m2m__free(q->sel[i]);
    m2m__free(q->sel);
    for (size_t i = 0; i < q->norders; i++)
        m2m__free(q->orders[i].col);
    m2m__free(q->orders);
    m2m__values_free(q->parents, q->nparents);
    m2m__values_free(q->after, q->nafter);
    m2m_relation *rel = q->rel;
    m2m__free(q);
    m2m__rel_unref(rel);
}

/* Pivot columns a read may name: keys, extra and scope columns, id and
 * timestamps. */
static bool pivot_col_known(const m2m_relation *rel, const char *c) {
    if (m2m__rel_col(rel, c) >= 0 || strcmp(c, rel->fk) == 0 || strcmp(c, rel->rk) == 0)
        return true;
    if (rel->pivot_id && strcmp(c, rel->pivot_id) == 0)
        return true;
    return (rel->created_at && strcmp(c, rel->created_at) == 0) ||
           (rel->updated_at && strcmp(c, rel->updated_at) == 0);
}

static int check_col(m2m_query *q, const char *col, bool pivot) {
    if (!m2m__ident_ok(col, false))
        return qfail(q, M2M_INVALID, "%s: column '%.80s' is not a valid identifier", col);
    if (pivot && !pivot_col_known(q->rel, col))
        return qfail(q, M2M_INVALID, "%s: unknown pivot column '%.80s'", col);
    return M2M_OK;
}

static int check_value(m2m_query *q, m2m_value v) {
    if ((v.type == M2M_TTEXT && !v.s) || v.type < M2M_TNULL || v.type > M2M_TTEXT)
        return qfail(q, M2M_INVALID, "%s: bad filter value%.0s", NULL);
    return M2M_OK;
}

/* Nothing yet in the innermost open group. */
static bool group_empty(const m2m_query *q) {
    const m2m__filter *last = q->nfilters ? &q->filters[q->nfilters - 1] : NULL;
    return last && last->kind == F_OPEN && last->depth == q->depth - 1;
}

/* A new item (a condition or a group's bracket) at the current depth. */
static m2m__filter *add_item(m2m_query *q, int kind) {
    if (q->depth && q->next_or && group_empty(q) && kind != F_CLOSE) {
        qfail(q, M2M_INVALID,
              "%s: m2m_query_or() with nothing before it in its group%.0s", NULL);
        return NULL;
    }
    if (m2m__grow((void **)&q->filters, &q->capfilters, q->nfilters + 1,
                  sizeof *q->filters)) {
        qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
        return NULL;
    }
    m2m__filter *f = &q->filters[q->nfilters];
    *f = (m2m__filter){.kind = kind, .or = q->next_or, .depth = q->depth};
    return f;
}

static m2m__filter *add_filter(m2m_query *q, bool pivot, int kind, const char *col) {
    if (check_col(q, col, pivot))
        return NULL;
    m2m__filter *f = add_item(q, kind);
    if (!f)
        return NULL;
    f->pivot = pivot;
    if (!(f->col = m2m__strdup(col))) {
        qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
        return NULL;
    }
    q->nfilters++;
    q->next_or = false;
    return f;
}

int m2m_query_group(m2m_query *q) {
    if (!q)
        return M2M_MISUSE;
    if (!q->depth && q->next_or)
        return qfail(q, M2M_INVALID,
                     "%s: a group outside any other is AND-ed with the other conditions: "
                     "to OR it with a condition, open a group around both%.0s",
                     NULL);
    if (q->depth == M2M__MAX_DEPTH)
        return qfail(q, M2M_INVALID, "%s: groups nested deeper than 32%.0s", NULL);
    if (!add_item(q, F_OPEN))
        return q->err;
    q->nfilters++;
    q->next_or = false;
    q->depth++;
    return M2M_OK;
}

int m2m_query_group_end(m2m_query *q) {
    if (!q)
        return M2M_MISUSE;
    if (!q->depth)
        return qfail(q, M2M_INVALID,
                     "%s: m2m_query_group_end() without an open group%.0s", NULL);
    if (q->next_or)
        return qfail(q, M2M_INVALID,
                     "%s: m2m_query_or() with nothing after it in its group%.0s", NULL);
    if (group_empty(q))
        return qfail(q, M2M_INVALID, "%s: an empty condition group%.0s", NULL);
    q->depth--;
    if (!add_item(q, F_CLOSE)) {
        q->depth++;
        return q->err;
    }
    q->nfilters++;
    return M2M_OK;
}

static int where_cmp(m2m_query *q, bool pivot, const char *col, const char *op,
                     m2m_value v) {
    if (!q)
        return M2M_MISUSE;
    const char *sql = NULL;
    for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++)
        if (strcasecmp(op, ops[i].in) == 0) {
            sql = ops[i].sql;
            break;
        }
    if (!sql)
        return qfail(q, M2M_INVALID, "%s: unknown operator '%.20s'", op);
    if (v.type == M2M_TNULL)
        return qfail(q, M2M_INVALID,
                     "%s: a comparison with NULL on column '%.80s' matches no row; use "
                     "m2m_query_where_null() or m2m_query_where_pivot_null()",
                     col);
    if (check_value(q, v))
        return q->err;
    m2m__filter *f = add_filter(q, pivot, F_CMP, col);
    if (!f)
        return q->err;
    f->op = sql;
    if (m2m__value_copy(&f->v, v))
        return qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
    return M2M_OK;
}

int m2m_query_where(m2m_query *q, const char *col, const char *op, m2m_value v) {
    return where_cmp(q, false, col, op, v);
}

int m2m_query_where_pivot(m2m_query *q, const char *col, const char *op, m2m_value v) {
    return where_cmp(q, true, col, op, v);
}

static int where_null(m2m_query *q, bool pivot, const char *col, int is_null) {
    if (!q)
        return M2M_MISUSE;
    return add_filter(q, pivot, is_null ? F_NULL : F_NOTNULL, col) ? M2M_OK : q->err;
}

int m2m_query_where_null(m2m_query *q, const char *col, int is_null) {
    return where_null(q, false, col, is_null);
}

int m2m_query_where_pivot_null(m2m_query *q, const char *col, int is_null) {
    return where_null(q, true, col, is_null);
}

static int where_in(m2m_query *q, bool pivot, const char *col, const m2m_value *vals,
                    size_t n, int negate) {
    if (!q)
        return M2M_MISUSE;
    if (n && !vals)
        return qfail(q, M2M_MISUSE, "%s: where_in: values are NULL%.0s", NULL);
    for (size_t i = 0; i < n; i++)
        if (check_value(q, vals[i]))
            return q->err;
    m2m__filter *f = add_filter(q, pivot, negate ? F_NOTIN : F_IN, col);
    if (!f)
        return q->err;
    if (m2m__values_dup(vals, n, &f->list))
        return qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
    f->nlist = n;
    return M2M_OK;
}

int m2m_query_where_in(m2m_query *q, const char *col, const m2m_value *vals, size_t n,
                       int negate) {
    return where_in(q, false, col, vals, n, negate);
}

int m2m_query_where_pivot_in(m2m_query *q, const char *col, const m2m_value *vals,
                             size_t n, int negate) {
    return where_in(q, true, col, vals, n, negate);
}

static int where_between(m2m_query *q, bool pivot, const char *col, m2m_value lo,
                         m2m_value hi, bool negate) {
    if (!q)
        return M2M_MISUSE;
    if (lo.type == M2M_TNULL || hi.type == M2M_TNULL)
        return qfail(q, M2M_INVALID,
                     "%s: a NULL bound of between on column '%.80s' matches no row", col);
    if (check_value(q, lo) || check_value(q, hi))
        return q->err;
    m2m__filter *f = add_filter(q, pivot, negate ? F_NOTBETWEEN : F_BETWEEN, col);
    if (!f)
        return q->err;
    if (m2m__value_copy(&f->v, lo) || m2m__value_copy(&f->v2, hi))
        return qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
    return M2M_OK;
}

int m2m_query_where_between(m2m_query *q, const char *col, m2m_value lo, m2m_value hi) {
    return where_between(q, false, col, lo, hi, false);
}

int m2m_query_where_not_between(m2m_query *q, const char *col, m2m_value lo,
                                m2m_value hi) {
    return where_between(q, false, col, lo, hi, true);
}

int m2m_query_where_pivot_between(m2m_query *q, const char *col, m2m_value lo,
                                  m2m_value hi) {
    return where_between(q, true, col, lo, hi, false);
}

int m2m_query_where_pivot_not_between(m2m_query *q, const char *col, m2m_value lo,
                                      m2m_value hi) {
    return where_between(q, true, col, lo, hi, true);
}

int m2m_query_or(m2m_query *q) {
    if (!q)
        return M2M_MISUSE;
    q->next_or = true;
    return M2M_OK;
}

/* Add a copy of col to a list of column names, unless it is there. */
static int add_name(m2m_query *q, char ***list, size_t *n, size_t *cap, const char *col) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], col) == 0)
            return M2M_OK;
    char *c = m2m__strdup(col);
    if (!c || m2m__grow((void **)list, cap, *n + 1, sizeof **list)) {
        m2m__free(c);
        return qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
    }
    (*list)[(*n)++] = c;
    return M2M_OK;
}

int m2m_query_with_pivot(m2m_query *q, const char *col) {
    if (!q)
        return M2M_MISUSE;
    if (check_col(q, col, true))
        return q->err;
    if (!q->custom_with) {
        q->custom_with = true;
        for (size_t i = 0; i < q->nwith; i++)
            m2m__free(q->with[i]);
        q->nwith = 0;
    }
    return add_name(q, &q->with, &q->nwith, &q->capwith, col);
}

int m2m_query_select(m2m_query *q, const char *col) {
    if (!q)
        return M2M_MISUSE;
    if (check_col(q, col, false))
        return q->err;
    return add_name(q, &q->sel, &q->nsel, &q->capsel, col);
}

static int order(m2m_query *q, bool pivot, const char *col, int dir) {
    if (!q)
        return M2M_MISUSE;
    if (dir != M2M_ASC && dir != M2M_DESC)
        return qfail(q, M2M_INVALID,
                     "%s: order direction must be M2M_ASC or M2M_DESC%.0s", NULL);
    if (check_col(q, col, pivot))
        return q->err;
    char *c = m2m__strdup(col);
    if (!c || m2m__grow((void **)&q->orders, &q->caporders, q->norders + 1,
                        sizeof *q->orders)) {
        m2m__free(c);
        return qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
    }
    q->orders[q->norders++] = (m2m__order){pivot, c, dir};
    return M2M_OK;
}

int m2m_query_order_by(m2m_query *q, const char *col, int dir) {
    return order(q, false, col, dir);
}

int m2m_query_order_by_pivot(m2m_query *q, const char *col, int dir) {
    return order(q, true, col, dir);
}

int m2m_query_limit(m2m_query *q, int64_t limit, int64_t offset) {
    if (!q)
        return M2M_MISUSE;
    if (offset < 0)
        return qfail(q, M2M_INVALID, "%s: negative offset%.0s", NULL);
    q->limit = limit < 0 ? -1 : limit;
    q->offset = offset;
    return M2M_OK;
}

int m2m_query_limit_each(m2m_query *q, int64_t limit, int64_t offset) {
    if (!q)
        return M2M_MISUSE;
    if (offset < 0)
        return qfail(q, M2M_INVALID, "%s: negative offset%.0s", NULL);
    q->each_limit = limit < 0 ? -1 : limit;
    q->each_offset = offset;
    q->each = limit >= 0 || offset > 0;
    return M2M_OK;
}

/* The token is checked against the query's order at the read
 * (m2m__ks_check): the order may be set after it. */
int m2m_query_after(m2m_query *q, const char *token) {
    if (!q)
        return M2M_MISUSE;
    m2m__values_free(q->after, q->nafter);
    q->after = NULL;
    q->nafter = 0;
    q->keyset = true;
    if (!token || !*token)
        return M2M_OK;
    const char *why;
    int rc = m2m__ks_decode(token, &q->after_fp, &q->after, &q->nafter, &why);
    if (rc == M2M_NOMEM)
        return qfail(q, rc, "%s: out of memory%.0s", NULL);
    if (rc)
        return qfail(q, rc, "%s: m2m_query_after: %s", why);
    return M2M_OK;
}

int m2m_query_strategy(m2m_query *q, int strategy) {
    if (!q)
        return M2M_MISUSE;
    if (strategy != M2M_JOIN && strategy != M2M_TWO_QUERY)
        return qfail(q, M2M_INVALID, "%s: unknown strategy%.0s", NULL);
    q->strategy = strategy;
    return M2M_OK;
}
