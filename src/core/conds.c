/* SPDX-License-Identifier: MIT */
/* Filter-only conditions of a relation (m2m_relation_def.where): checked
 * and copied at open, rendered into every statement on the pivot rows (the
 * reads' parent condition, the writes' where_parent), their values always
 * parameters. */
#include "core/input.h"

#include <string.h>
#include <strings.h>

/* The only operator text that reaches SQL comes from this table. nvals:
 * the values it takes (-1: one or more). */
static const struct {
    const char *in, *sql;
    int kind, nvals;
} ops[] = {
    {"=", "=", C_CMP, 1},
    {"!=", "<>", C_CMP, 1},
    {"<>", "<>", C_CMP, 1},
    {"<", "<", C_CMP, 1},
    {"<=", "<=", C_CMP, 1},
    {">", ">", C_CMP, 1},
    {">=", ">=", C_CMP, 1},
    {"like", "LIKE", C_CMP, 1},
    {"not like", "NOT LIKE", C_CMP, 1},
    {"in", "IN", C_IN, -1},
    {"not in", "NOT IN", C_NOTIN, -1},
    {"null", "IS NULL", C_NULL, 0},
    {"not null", "IS NOT NULL", C_NOTNULL, 0},
    {"between", "BETWEEN", C_BETWEEN, 2},
    {"not between", "NOT BETWEEN", C_NOTBETWEEN, 2},
};

static int cond_one(m2m_relation *r, const m2m_cond *c, m2m__cond *out) {
    m2m_db *db = r->db;
    if (!c->column || !m2m__ident_ok(c->column, false))
        return m2m__set_error(db, M2M_INVALID,
                              "relation: where column '%.80s' is not a valid identifier",
                              c->column ? c->column : "(null)");
    int k = -1;
    for (size_t i = 0; c->op && i < sizeof ops / sizeof ops[0]; i++)
        if (strcasecmp(c->op, ops[i].in) == 0)
            k = (int)i;
    if (k < 0)
        return m2m__set_error(
            db, M2M_INVALID,
            "relation: where column '%s': unknown operator '%.20s' (=, !=, <>, <, <=, "
            ">, >=, like, not like, in, not in, null, not null, between, not between)",
            c->column, c->op ? c->op : "(null)");
    int want = ops[k].nvals;
    if ((want >= 0 && c->nvalues != (size_t)want) || (want < 0 && c->nvalues == 0))
        return m2m__set_error(db, M2M_INVALID,
                              "relation: where column '%s' %s takes %s, not %zu",
                              c->column, ops[k].in,
                              want == 0   ? "no value"
                              : want == 1 ? "one value"
                              : want == 2 ? "two values (lo, hi)"
                                          : "one value or more",
                              c->nvalues);
    if (c->nvalues && !c->values)
        return m2m__set_error(
            db, M2M_MISUSE, "relation: where column '%s': nvalues > 0 but values is NULL",
            c->column);
    if (r->ncondv + c->nvalues > M2M__MAX_COND_VALUES)
        return m2m__set_error(db, M2M_INVALID, "relation: where: more than %d values",
                              M2M__MAX_COND_VALUES);
    for (size_t i = 0; i < c->nvalues; i++) {
        m2m_value v = c->values[i];
        if (v.type == M2M_TNULL)
            return m2m__set_error(db, M2M_INVALID,
                                  "relation: where column '%s' %s: a NULL value matches "
                                  "no row; use the operator \"null\" or \"not null\"",
                                  c->column, ops[k].in);
        if (v.type == M2M_TTEXT && !v.s)
            return m2m__set_error(db, M2M_INVALID,
                                  "relation: where column '%s': a text value is NULL",
                                  c->column);
        int rc = m2m__pivot_value_ok(db, "relation: where", c->column, v);
        if (rc)
            return rc;
    }
    *out = (m2m__cond){.kind = ops[k].kind, .op = ops[k].in, .sql = ops[k].sql};
    if (!(out->col = m2m__strdup(c->column)) ||
        (c->nvalues && !(out->vals = m2m__calloc(c->nvalues, sizeof *out->vals))))
        return m2m__set_error(db, M2M_NOMEM, "relation: out of memory");
    for (size_t i = 0; i < c->nvalues; i++) {
        if (m2m__value_copy(&out->vals[i], c->values[i]))
            return m2m__set_error(db, M2M_NOMEM, "relation: out of memory");
        out->nvals++;
    }
    r->ncondv += c->nvalues;
    return M2M_OK;
}

int m2m__conds_set(m2m_relation *r, const m2m_cond *c, size_t n) {
    if (n && !c)
        return m2m__set_error(r->db, M2M_MISUSE,
                              "relation: nwhere > 0 but where is NULL");
    if (n > M2M__MAX_CONDS)
        return m2m__set_error(r->db, M2M_INVALID,
                              "relation: more than %d where conditions", M2M__MAX_CONDS);
    for (size_t i = 0; i < n; i++) {
        /* Counted first: a failed copy is freed with the others. */
        r->nconds++;
        int rc = cond_one(r, &c[i], &r->conds[i]);
        if (rc)
            return rc;
    }
    return M2M_OK;
}

void m2m__conds_free(m2m_relation *r) {
    for (size_t i = 0; i < r->nconds; i++) {
        m2m__cond *c = &r->conds[i];
        m2m__free(c->col);
        for (size_t j = 0; j < c->nvals; j++)
            m2m__value_clear(&c->vals[j]);
        m2m__free(c->vals);
    }
    r->nconds = r->ncondv = 0;
}

static void ph(m2m__buf *b, const char *pre, int *pno) {
    m2m__buf_addf(b, "%s$%d", pre, (*pno)++);
}

void m2m__conds_sql(m2m__buf *b, const m2m_relation *rel, const char *alias, bool lead,
                    int *pno) {
    for (size_t i = 0; i < rel->nconds; i++) {
        const m2m__cond *c = &rel->conds[i];
        if (lead || i)
            m2m__buf_add(b, " AND ");
        m2m__buf_add(b, alias);
        m2m__buf_addn(b, ".", 1);
        m2m__buf_ident(b, c->col);
        m2m__buf_add(b, " ");
        m2m__buf_add(b, c->sql);
        switch (c->kind) {
            case C_CMP:
                ph(b, " ", pno);
                break;
            case C_IN:
            case C_NOTIN:
                for (size_t j = 0; j < c->nvals; j++)
                    ph(b, j ? ", " : " (", pno);
                m2m__buf_add(b, ")");
                break;
            case C_BETWEEN:
            case C_NOTBETWEEN:
                ph(b, " ", pno);
                ph(b, " AND ", pno);
                break;
            default: /* IS [NOT] NULL */
                break;
        }
    }
}

size_t m2m__cond_params(const m2m_relation *rel, m2m_value *out) {
    size_t n = 0;
    for (size_t i = 0; i < rel->nconds; i++)
        for (size_t j = 0; j < rel->conds[i].nvals; j++)
            out[n++] = rel->conds[i].vals[j];
    return n;
}

void m2m__conds_def(const m2m_relation *rel, m2m_cond *out) {
    for (size_t i = 0; i < rel->nconds; i++)
        out[i] = (m2m_cond){rel->conds[i].col, rel->conds[i].op, rel->conds[i].vals,
                            rel->conds[i].nvals};
}
