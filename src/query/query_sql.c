/* SPDX-License-Identifier: MIT */
/* The SQL text and parameters of a read: the parent condition and scope,
 * filters, key sets, the JOIN, its order and per-parent window, and the
 * statements of get and count. Values always travel as parameters. */
#include "query/query.h"

#include <stdint.h>

typedef m2m__sqlq sqlq;

/* The text's first allocation: one for a usual read's text instead of
 * doubling from 8. With one block per cursor (rows.c) it took 2,000 reads
 * of 20 rows from 277.5 M to 272.4 M instructions (callgrind, SQLite); the
 * size itself was not measured. */
enum { SQL_TEXT_FIRST = 512 };

/* Without text, the builder runs only to gather the parameters. */
void m2m__sqlq_init(sqlq *s, bool text) {
    *s = (sqlq){.b.off = !text};
    if (text && m2m__grow((void **)&s->b.p, &s->b.cap, SQL_TEXT_FIRST, 1))
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
    db->drv->dialect.input_rows(&s->b, t.p ? t.p : "", p, cols, 1);
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
    *set = (m2m__ids){vals, n, 1};
    int p = param(s, m2m__ids_param(set));
    m2m__buf e = {0};
    m2m__buf_add(&e, alias);
    m2m__buf_addn(&e, ".", 1);
    m2m__buf_ident(&e, col);
    if (e.oom)
        s->b.oom = true;
    else
        rel->db->drv->dialect.ids_in(&s->b, e.p, p, type, M2M__IN);
    m2m__buf_free(&e);
}

/* The pieces are appended without printf: every read runs the builder
 * (for its parameters, and for its text when its shape is new). */
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

void m2m__q_param(sqlq *s, m2m_value v) { ph(s, "", param(s, v)); }

/* p.fk = $n (or IN the parents' key set), the scope and the conditions. */
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
    /* The conditions number their placeholders from the next parameter. */
    int pno = (int)s->np + 1;
    m2m__conds_sql(&s->b, rel, "p", true, &pno);
    for (size_t i = 0; i < rel->nconds; i++)
        for (size_t j = 0; j < rel->conds[i].nvals; j++)
            param(s, rel->conds[i].vals[j]);
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

/* One condition: on p (pivot) or r (related). */
static void one_filter(sqlq *s, const m2m_query *q, const m2m__filter *f) {
    const char *table = f->pivot ? q->rel->pivot_table : q->rel->related_table;
    m2m__q_col(s, f->pivot ? "p" : "r", f->col);
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
            ph(s, f->kind == F_BETWEEN ? " BETWEEN " : " NOT BETWEEN ", param(s, f->v));
            ph(s, " AND ", param(s, f->v2));
            break;
        default:
            m2m__buf_add(&s->b, f->kind == F_IN ? " IN " : " NOT IN ");
            json_rows(s, q->rel->db, table, f->col, f->list, f->nlist);
    }
}

/* AND (f1 AND f2 OR f3) for the conditions of one flat group (those
 * outside m2m_query_group). */
void m2m__q_filters(sqlq *s, const m2m_query *q, bool pivot) {
    bool any = false;
    for (size_t i = 0; i < q->nfilters; i++) {
        const m2m__filter *f = &q->filters[i];
        if (f->pivot != pivot || f->depth || f->kind >= F_OPEN)
            continue;
        m2m__buf_add(&s->b, !any ? " AND (" : f->or ? " OR " : " AND ");
        any = true;
        one_filter(s, q, f);
    }
    if (any)
        m2m__buf_add(&s->b, ")");
}

/* The index past the F_CLOSE of the group opened at i. */
static size_t group_end(const m2m_query *q, size_t i) {
    int depth = q->filters[i].depth;
    for (i++; i < q->nfilters; i++)
        if (q->filters[i].kind == F_CLOSE && q->filters[i].depth == depth)
            return i + 1;
    return q->nfilters; /* cannot happen: reads refuse open groups */
}

static int group_kind(const m2m_query *q, size_t i) {
    int kind = 0;
    for (size_t j = i + 1, end = group_end(q, i); j < end; j++)
        if (q->filters[j].kind < F_OPEN)
            kind |= q->filters[j].pivot ? G_PIVOT : G_RELATED;
    return kind == (G_PIVOT | G_RELATED) ? G_MIXED : kind;
}

/* "(a AND (b OR c))" for the group opened at i; returns the index past it. */
static size_t one_group(sqlq *s, const m2m_query *q, size_t i) {
    size_t end = group_end(q, i);
    int depth = q->filters[i].depth + 1;
    m2m__buf_add(&s->b, "(");
    bool first = true;
    for (size_t j = i + 1; j < end;) {
        const m2m__filter *f = &q->filters[j];
        if (f->depth != depth || f->kind == F_CLOSE) {
            j++;
            continue;
        }
        if (!first)
            m2m__buf_add(&s->b, f->or ? " OR " : " AND ");
        first = false;
        if (f->kind == F_OPEN) {
            j = one_group(s, q, j);
        } else {
            one_filter(s, q, f);
            j++;
        }
    }
    m2m__buf_add(&s->b, ")");
    return end;
}

void m2m__q_groups(sqlq *s, const m2m_query *q, int which) {
    for (size_t i = 0; i < q->nfilters;) {
        if (q->filters[i].kind != F_OPEN || q->filters[i].depth) {
            i++;
            continue;
        }
        if (group_kind(q, i) & which) {
            m2m__buf_add(&s->b, " AND ");
            i = one_group(s, q, i);
        } else {
            i = group_end(q, i);
        }
    }
}

bool m2m__q_mixed(const m2m_query *q) {
    for (size_t i = 0; i < q->nfilters; i++)
        if (q->filters[i].kind == F_OPEN && !q->filters[i].depth &&
            group_kind(q, i) == G_MIXED)
            return true;
    return false;
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
    m2m__q_groups(s, q, G_ALL);
}

/* NULLs sort first ascending and last descending on every backend. */
static void order_by(sqlq *s, const m2m_query *q) {
    m2m__buf_add(&s->b, " ORDER BY ");
    for (size_t i = 0; i < q->norders; i++) {
        m2m__q_col(s, q->orders[i].pivot ? "p" : "r", q->orders[i].col);
        q->rel->db->drv->dialect.order_dir(&s->b, q->orders[i].dir == M2M_DESC);
        m2m__buf_add(&s->b, ", ");
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
        q->rel->db->drv->dialect.order_dir(&s->b, q->orders[i].dir == M2M_DESC);
        m2m__buf_add(&s->b, ", ");
    }
    hidden(s, "fk", (size_t)-1);
    m2m__buf_add(&s->b, ", ");
    hidden(s, "rk", (size_t)-1);
}

void m2m__q_get_sql(sqlq *s, const m2m_query *q, size_t probe) {
    if (q->each) {
        each_select(s, q);
    } else {
        /* One parent is not selected: the rows answer it from the parameter. */
        m2m__buf_add(&s->b, "SELECT ");
        if (q->many) {
            m2m__q_col(s, "p", q->rel->fk);
            m2m__buf_add(&s->b, ", ");
        }
        m2m__q_select(s, q, "r");
        for (size_t i = 0; i < q->nwith; i++) {
            m2m__buf_add(&s->b, ", ");
            m2m__q_col(s, "p", q->with[i]);
        }
        if (q->keyset)
            m2m__q_keyset_cols(s, q);
        m2m__q_join_from_where(s, q);
        if (q->after && !q->find)
            m2m__q_keyset(s, q);
        order_by(s, q);
    }
    if (probe) {
        m2m__buf_addf(&s->b, " LIMIT %zu", probe);
    } else if (q->limit >= 0 || q->offset > 0) {
        ph(s, " LIMIT ", param(s, M2M_INT(q->limit >= 0 ? q->limit : INT64_MAX)));
        ph(s, " OFFSET ", param(s, M2M_INT(q->offset)));
    }
}

void m2m__q_count_sql(sqlq *s, const m2m_query *q) {
    m2m__buf_add(&s->b, "SELECT count(*)");
    /* Order does not change a count, but a bad order column must fail here
     * as it does in get: referencing it lets the database check it. */
    for (size_t i = 0; i < q->norders; i++)
        if (!q->orders[i].pivot) {
            m2m__buf_add(&s->b, ", count(");
            m2m__q_col(s, "r", q->orders[i].col);
            m2m__buf_add(&s->b, ")");
        }
    m2m__q_join_from_where(s, q);
}
