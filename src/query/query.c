/* SPDX-License-Identifier: MIT */
/* Read queries: the builder, the JOIN strategy and the two-query strategy
 * (pivot rows first, then related rows by key set). */
#include "query/query.h"
#include "core/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The only operator text that reaches SQL comes from this table. */
static const struct {
    const char *in, *sql;
} ops[] = {{"=", "="},   {"!=", "<>"},     {"<>", "<>"},
           {"<", "<"},   {"<=", "<="},     {">", ">"},
           {">=", ">="}, {"like", "LIKE"}, {"not like", "NOT LIKE"}};

/* A builder call failed: the call reports itself on the db at once, and the
 * query keeps its first error for get/count. */
static int qfail(m2m_query *q, int rc, const char *fmt, const char *a) {
    char msg[sizeof q->errmsg];
    snprintf(msg, sizeof msg, fmt, q->rel->pivot_table, a ? a : "(null)");
    if (!q->err) {
        q->err = rc;
        memcpy(q->errmsg, msg, sizeof msg);
    }
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
    return rel->timestamps &&
           (strcmp(c, rel->created_at) == 0 || strcmp(c, rel->updated_at) == 0);
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

static m2m__filter *add_filter(m2m_query *q, bool pivot, int kind, const char *col) {
    if (check_col(q, col, pivot))
        return NULL;
    if (m2m__grow((void **)&q->filters, &q->capfilters, q->nfilters + 1,
                  sizeof *q->filters)) {
        qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
        return NULL;
    }
    m2m__filter *f = &q->filters[q->nfilters];
    *f = (m2m__filter){.pivot = pivot, .kind = kind, .or = q->next_or};
    if (!(f->col = m2m__strdup(col))) {
        qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
        return NULL;
    }
    q->nfilters++;
    q->next_or = false;
    return f;
}

static int where_cmp(m2m_query *q, bool pivot, const char *col, const char *op,
                     m2m_value v) {
    if (!q)
        return M2M_MISUSE;
    const char *sql = NULL;
    for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++)
        if (strcasecmp(op, ops[i].in) == 0)
            sql = ops[i].sql;
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
    for (size_t i = 0; i < q->nwith; i++)
        if (strcmp(q->with[i], col) == 0)
            return M2M_OK;
    char *c = m2m__strdup(col);
    if (!c || m2m__grow((void **)&q->with, &q->capwith, q->nwith + 1, sizeof *q->with)) {
        m2m__free(c);
        return qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
    }
    q->with[q->nwith++] = c;
    return M2M_OK;
}

int m2m_query_select(m2m_query *q, const char *col) {
    if (!q)
        return M2M_MISUSE;
    if (check_col(q, col, false))
        return q->err;
    for (size_t i = 0; i < q->nsel; i++)
        if (strcmp(q->sel[i], col) == 0)
            return M2M_OK;
    char *c = m2m__strdup(col);
    if (!c || m2m__grow((void **)&q->sel, &q->capsel, q->nsel + 1, sizeof *q->sel)) {
        m2m__free(c);
        return qfail(q, M2M_NOMEM, "%s: out of memory%.0s", NULL);
    }
    q->sel[q->nsel++] = c;
    return M2M_OK;
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

int m2m_query_strategy(m2m_query *q, int strategy) {
    if (!q)
        return M2M_MISUSE;
    if (strategy != M2M_JOIN && strategy != M2M_TWO_QUERY)
        return qfail(q, M2M_INVALID, "%s: unknown strategy%.0s", NULL);
    q->strategy = strategy;
    return M2M_OK;
}

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

/* ---- SQL ---- */

typedef m2m__sqlq sqlq;

/* One allocation for the usual read's text instead of doubling from 8;
 * without text, the builder runs only to gather the parameters. */
void m2m__sqlq_init(sqlq *s, bool text) {
    *s = (sqlq){.b.off = !text};
    if (text && m2m__grow((void **)&s->b.p, &s->b.cap, 512, 1))
        s->b.oom = true;
}

static int param(sqlq *s, m2m_value v) {
    if (m2m__grow((void **)&s->params, &s->capp, s->np + 1, sizeof *s->params)) {
        s->b.oom = true;
        return 0;
    }
    s->params[s->np++] = v;
    return (int)s->np;
}

void m2m__sqlq_free(sqlq *s) {
    m2m__buf_free(&s->b);
    m2m__free(s->params);
    for (size_t i = 0; i < s->nj; i++)
        m2m__free(s->jsons[i]);
    m2m__free(s->jsons);
}

/* A JSON rows parameter [{"col": v}, ...] read back through input_rows. */
static void json_rows(sqlq *s, m2m_db *db, const char *table, const char *colname,
                      const m2m_value *vals, size_t n) {
    m2m__buf j = {0};
    m2m__buf_add(&j, "[");
    for (size_t i = 0; i < n; i++) {
        m2m__buf_addf(&j, "%s{\"%s\":", i ? "," : "", colname);
        m2m__buf_json_value(&j, vals[i]);
        m2m__buf_add(&j, "}");
    }
    m2m__buf_add(&j, "]");
    char *json = m2m__buf_take(&j);
    if (!json || m2m__grow((void **)&s->jsons, &s->capj, s->nj + 1, sizeof *s->jsons)) {
        m2m__free(json);
        s->b.oom = true;
        return;
    }
    s->jsons[s->nj++] = json;
    int p = param(s, M2M_TEXT(json));
    m2m__buf t = {0};
    m2m__buf_ident(&t, table);
    const char *cols[] = {colname};
    m2m__buf_add(&s->b, "(SELECT i.");
    m2m__buf_ident(&s->b, colname);
    m2m__buf_add(&s->b, " FROM ");
    db->drv->input_rows(&s->b, t.p ? t.p : "", p, cols, 1);
    m2m__buf_add(&s->b, " AS i)");
    if (t.oom)
        s->b.oom = true;
    m2m__buf_free(&t);
}

/* "alias.col IN <the key set vals>", the n values all of type: one id
 * array parameter, as the writes send ids, read by "m2m-ids" on SQLite and
 * = ANY on PostgreSQL. vals must outlive the statement's run (a cursor
 * copies them). */
void m2m__q_key_set(sqlq *s, const m2m_relation *rel, const char *alias, const char *col,
                    const m2m_value *vals, size_t n, m2m_type type) {
    if (s->nsets == (int)(sizeof s->sets / sizeof s->sets[0])) {
        s->b.oom = true; /* cannot happen: a read has at most one key set */
        return;
    }
    m2m__ids *set = &s->sets[s->nsets++];
    *set = (m2m__ids){vals, n};
    int p = param(s, m2m__ids_param(set));
    m2m__buf e = {0};
    m2m__buf_add(&e, alias);
    m2m__buf_addn(&e, ".", 1);
    m2m__buf_ident(&e, col);
    if (e.oom)
        s->b.oom = true;
    else
        rel->db->drv->ids_in(&s->b, e.p, p, type, M2M__IN);
    m2m__buf_free(&e);
}

/* SQL text is rebuilt on every get (the statement cache is keyed by it), so
 * the pieces are appended without printf: P5 of W1 builds 2,000 of them. */
void m2m__q_col(sqlq *s, const char *alias, const char *col) {
    m2m__buf_add(&s->b, alias);
    m2m__buf_addn(&s->b, ".", 1);
    m2m__buf_ident(&s->b, col);
}

/* Append pre, then the placeholder $n of parameter n. */
static void ph(sqlq *s, const char *pre, int n) {
    char tmp[24], *e = tmp + sizeof tmp, *p = m2m__int_text(e, n);
    *--p = '$';
    m2m__buf_add(&s->b, pre);
    m2m__buf_addn(&s->b, p, (size_t)(e - p));
}

/* p.fk = $n (or IN the parents' key set), and the scope. */
void m2m__q_parent(sqlq *s, const m2m_query *q) {
    const m2m_relation *rel = q->rel;
    if (q->many) {
        m2m__q_key_set(s, rel, "p", rel->fk, q->parents, q->nparents, rel->parent_type);
    } else {
        m2m__q_col(s, "p", rel->fk);
        ph(s, " = ", param(s, q->parents[0]));
    }
    for (size_t i = 0; i < rel->ncols; i++) {
        if (!(rel->scope_mask & (1ULL << i)))
            continue;
        m2m__buf_add(&s->b, " AND ");
        m2m__q_col(s, "p", rel->cols[i]);
        ph(s, " = ", param(s, rel->scope_vals[i]));
    }
    if (q->find) {
        m2m__buf_add(&s->b, " AND ");
        m2m__q_col(s, "p", rel->rk);
        ph(s, " = ", param(s, q->find_id));
    }
}

void m2m__q_select(sqlq *s, const m2m_query *q, const char *alias) {
    if (!q->nsel) {
        m2m__buf_add(&s->b, alias);
        m2m__buf_add(&s->b, ".*");
    }
    for (size_t i = 0; i < q->nsel; i++) {
        if (i)
            m2m__buf_add(&s->b, ", ");
        m2m__q_col(s, alias, q->sel[i]);
    }
}

/* AND (f1 AND f2 OR f3) for the filters of one group. */
void m2m__q_filters(sqlq *s, const m2m_query *q, bool pivot) {
    bool any = false;
    const char *alias = pivot ? "p" : "r";
    const char *table = pivot ? q->rel->pivot_table : q->rel->related_table;
    for (size_t i = 0; i < q->nfilters; i++) {
        const m2m__filter *f = &q->filters[i];
        if (f->pivot != pivot)
            continue;
        m2m__buf_add(&s->b, !any ? " AND (" : f->or ? " OR " : " AND ");
        any = true;
        m2m__q_col(s, alias, f->col);
        switch (f->kind) {
            case F_CMP:
                m2m__buf_add(&s->b, " ");
                m2m__buf_add(&s->b, f->op);
                ph(s, " ", param(s, f->v));
                break;
            case F_NULL:
                m2m__buf_add(&s->b, " IS NULL");
                break;
            case F_NOTNULL:
                m2m__buf_add(&s->b, " IS NOT NULL");
                break;
            case F_BETWEEN:
            case F_NOTBETWEEN:
                ph(s, f->kind == F_BETWEEN ? " BETWEEN " : " NOT BETWEEN ",
                   param(s, f->v));
                ph(s, " AND ", param(s, f->v2));
                break;
            default:
                m2m__buf_add(&s->b, f->kind == F_IN ? " IN " : " NOT IN ");
                json_rows(s, q->rel->db, table, f->col, f->list, f->nlist);
        }
    }
    if (any)
        m2m__buf_add(&s->b, ")");
}

void m2m__q_join_from_where(sqlq *s, const m2m_query *q) {
    const m2m_relation *rel = q->rel;
    m2m__buf_add(&s->b, " FROM ");
    m2m__buf_ident(&s->b, rel->related_table);
    m2m__buf_add(&s->b, " AS r JOIN ");
    m2m__buf_ident(&s->b, rel->pivot_table);
    m2m__buf_add(&s->b, " AS p ON ");
    m2m__q_col(s, "p", rel->rk);
    m2m__buf_add(&s->b, " = ");
    m2m__q_col(s, "r", rel->related_key);
    m2m__buf_add(&s->b, " WHERE ");
    m2m__q_parent(s, q);
    m2m__q_filters(s, q, false);
    m2m__q_filters(s, q, true);
}

/* NULLs sort first ascending and last descending on both backends. */
static void order_by(sqlq *s, const m2m_query *q) {
    m2m__buf_add(&s->b, " ORDER BY ");
    for (size_t i = 0; i < q->norders; i++) {
        m2m__q_col(s, q->orders[i].pivot ? "p" : "r", q->orders[i].col);
        m2m__buf_add(&s->b, q->orders[i].dir == M2M_DESC ? " DESC NULLS LAST, "
                                                         : " ASC NULLS FIRST, ");
    }
    m2m__q_col(s, "p", q->rel->fk);
    m2m__buf_add(&s->b, ", ");
    m2m__q_col(s, "p", q->rel->rk);
}

/* t."m2m__<what><i>" */
static void hidden(sqlq *s, const char *what, size_t i) {
    m2m__buf_add(&s->b, "t.\"m2m__");
    m2m__buf_add(&s->b, what);
    if (i != (size_t)-1)
        m2m__buf_addf(&s->b, "%zu", i);
    m2m__buf_add(&s->b, "\"");
}

/* A per-parent limit: the rows numbered within their parent in the read's
 * order (a window), those in [offset, offset + limit) kept, and ordered as
 * a plain read. The order columns, related key and row number ride along
 * as hidden trailing columns (m2m__rows_hidden); with-pivot columns are
 * renamed, so that they cannot clash with related ones. */
static void each_select(sqlq *s, const m2m_query *q) {
    const m2m_relation *rel = q->rel;
    m2m__buf_add(&s->b, "SELECT * FROM (SELECT ");
    m2m__q_col(s, "p", rel->fk);
    m2m__buf_add(&s->b, " AS \"m2m__fk\", ");
    m2m__q_select(s, q, "r");
    for (size_t i = 0; i < q->nwith; i++) {
        m2m__buf_add(&s->b, ", ");
        m2m__q_col(s, "p", q->with[i]);
        m2m__buf_addf(&s->b, " AS \"m2m__w%zu\"", i);
    }
    for (size_t i = 0; i < q->norders; i++) {
        m2m__buf_add(&s->b, ", ");
        m2m__q_col(s, q->orders[i].pivot ? "p" : "r", q->orders[i].col);
        m2m__buf_addf(&s->b, " AS \"m2m__o%zu\"", i);
    }
    m2m__buf_add(&s->b, ", ");
    m2m__q_col(s, "p", rel->rk);
    m2m__buf_add(&s->b, " AS \"m2m__rk\", row_number() OVER (PARTITION BY ");
    m2m__q_col(s, "p", rel->fk);
    order_by(s, q);
    m2m__buf_add(&s->b, ") AS \"m2m__n\"");
    m2m__q_join_from_where(s, q);
    m2m__buf_add(&s->b, ") AS t WHERE ");
    hidden(s, "n", (size_t)-1);
    ph(s, " > ", param(s, M2M_INT(q->each_offset)));
    if (q->each_limit >= 0) {
        m2m__buf_add(&s->b, " AND ");
        hidden(s, "n", (size_t)-1);
        int64_t to = q->each_limit > INT64_MAX - q->each_offset
                         ? INT64_MAX
                         : q->each_offset + q->each_limit;
        ph(s, " <= ", param(s, M2M_INT(to)));
    }
    m2m__buf_add(&s->b, " ORDER BY ");
    for (size_t i = 0; i < q->norders; i++) {
        hidden(s, "o", i);
        m2m__buf_add(&s->b, q->orders[i].dir == M2M_DESC ? " DESC NULLS LAST, "
                                                         : " ASC NULLS FIRST, ");
    }
    hidden(s, "fk", (size_t)-1);
    m2m__buf_add(&s->b, ", ");
    hidden(s, "rk", (size_t)-1);
}

/* The SQL text of a read depends on its shape only: the kinds, operators
 * and columns of its filters, its with and order columns, whether it has a
 * limit; not on the values. Reads of a known shape (W1's P5 runs 2,000)
 * skip building the text. A shape longer than p is not cached (n = 0). */
typedef struct shape {
    char p[256];
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
        kstr(k, f->col);
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
        char *msg = db->errmsg;
        db->errmsg = NULL;
        rc = m2m__set_error(db, M2M_INVALID, "%s: bad query: %s", q->rel->pivot_table,
                            msg ? msg : "unknown column");
        m2m__free(msg);
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
    if (q->each) {
        each_select(&s, q);
    } else {
        /* One parent is not selected: the rows answer it from the parameter. */
        m2m__buf_add(&s.b, "SELECT ");
        if (q->many) {
            m2m__q_col(&s, "p", q->rel->fk);
            m2m__buf_add(&s.b, ", ");
        }
        m2m__q_select(&s, q, "r");
        for (size_t i = 0; i < q->nwith; i++) {
            m2m__buf_add(&s.b, ", ");
            m2m__q_col(&s, "p", q->with[i]);
        }
        m2m__q_join_from_where(&s, q);
        order_by(&s, q);
    }
    if (limited == 1) {
        ph(&s, " LIMIT ", param(&s, M2M_INT(q->limit >= 0 ? q->limit : INT64_MAX)));
        ph(&s, " OFFSET ", param(&s, M2M_INT(q->offset)));
    } else if (limited == 2) {
        m2m__buf_addf(&s.b, " LIMIT %zu", whole + 1);
    }
    rc = prepare(q, &s, &k, &st, &entry);
    if (rc == M2M_OK)
        rc = m2m__rows_rel(q, st, entry, s.params, s.np, whole, out);
    if (rc == M2M__MORE)
        q->rel->cache[entry].big = true;
    m2m__sqlq_free(&s);
    return rc;
}

int m2m_query_get(m2m_query *q, m2m_rows **out) {
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
    size_t whole = q->rel->db->drv->whole_rows;
    bool fits = q->limit >= 0 && (uint64_t)q->limit <= whole;
    rc = whole && ((q->limit < 0 && q->offset == 0) || fits) ? get_join(q, whole, out)
                                                             : M2M__MORE;
    if (rc == M2M__MORE)
        rc = get_join(q, 0, out);
    return m2m__q_read_rc(q, rc);
}

int m2m_query_count(m2m_query *q, int64_t *out) {
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
    m2m__buf_add(&s.b, "SELECT count(*)");
    /* Order does not change a count, but a bad order column must fail here
     * as it does in get: referencing it lets the database check it. */
    for (size_t i = 0; i < q->norders; i++)
        if (!q->orders[i].pivot) {
            m2m__buf_add(&s.b, ", count(");
            m2m__q_col(&s, "r", q->orders[i].col);
            m2m__buf_add(&s.b, ")");
        }
    m2m__q_join_from_where(&s, q);
    rc = prepare(q, &s, &k, &st, &entry);
    m2m_db *db = q->rel->db;
    if (rc == M2M_OK) {
        m2m_value v = M2M_NULL;
        m2m__cursor *c = NULL;
        rc = db->drv->cursor_open(db, st, s.params, s.np, 1, &c); /* one row */
        if (rc == M2M_OK && (rc = db->drv->cursor_next(c)) == M2M_ROW) {
            v = db->drv->cursor_value(c, 0);
            *out = v.type == M2M_TINT    ? v.i
                   : v.type == M2M_TTEXT ? strtoll(v.s, NULL, 10)
                                         : 0;
            rc = M2M_OK;
        }
        if (c)
            db->drv->cursor_close(c);
    }
    m2m__sqlq_free(&s);
    return m2m__q_read_rc(q, rc);
}
