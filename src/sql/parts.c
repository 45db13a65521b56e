/* SPDX-License-Identifier: MIT */
/* Pieces of SQL the statement builders share (parts.h). Identifiers come
 * from the validated definition and are quoted; values are parameters. */
#include "sql/parts.h"

#include "core/input.h"

void m2m__sql_col(m2m__buf *b, const char *alias, const char *name) {
    m2m__buf_addf(b, "%s.", alias);
    m2m__buf_ident(b, name);
}

/* FROM-able rows of the JSON parameter $param with the given columns. */
void m2m__sql_input(m2m__buf *b, const m2m_relation *rel, int param,
                    const char *const *cols, size_t n) {
    m2m__buf t = {0};
    m2m__buf_ident(&t, rel->pivot_table);
    rel->db->drv->dialect.input_rows(b, t.p ? t.p : "", param, cols, n);
    if (t.oom)
        b->oom = true;
    m2m__buf_free(&t);
}

/* FROM item over the ids array parameter $param: alias.value. */
void m2m__sql_ids(m2m__buf *b, const m2m_relation *rel, int param, const char *alias) {
    rel->db->drv->dialect.ids_from(b, param, rel->related_type, alias);
}

int m2m__sql_count_scope(const m2m_relation *rel) {
    int n = 0;
    for (size_t i = 0; i < rel->ncols; i++)
        n += (rel->scope_mask >> i) & 1;
    return n;
}

/* The first parameter of the new values: after $1, $2, the scope values
 * and the conditions' values. */
int m2m__sql_first_val(const m2m_relation *rel) {
    return 3 + m2m__sql_count_scope(rel) + (int)rel->ncondv;
}

/* alias.fk = $1 AND alias.scope_col = $k ... AND <conditions> (k from
 * *pno up). */
void m2m__sql_where_parent(m2m__buf *b, const m2m_relation *rel, const char *alias,
                           int *pno) {
    m2m__sql_col(b, alias, rel->fk);
    m2m__buf_add(b, " = $1");
    for (size_t i = 0; i < rel->ncols; i++) {
        if (!(rel->scope_mask & (1ULL << i)))
            continue;
        m2m__buf_add(b, " AND ");
        m2m__sql_col(b, alias, rel->cols[i]);
        m2m__buf_addf(b, " = $%d", (*pno)++);
    }
    m2m__conds_sql(b, rel, alias, true, pno);
}

/* The key goes unqualified (dialect.returning); UPDATE ... FROM sources
 * rename their key so it cannot be ambiguous. */
void m2m__sql_returning_rk(m2m__buf *b, const m2m_relation *rel, uint64_t mask) {
    if (mask & M2M__NO_RETURNING)
        return;
    rel->db->drv->dialect.returning(b, rel->rk);
}

/* A statement of a touching relation (m2m__touch_in_stmt) returns its rows
 * whoever wants them: the touch runs when there is one. */
uint64_t m2m__sql_touch_mask(const m2m_relation *rel, uint64_t mask) {
    return m2m__touch_in_stmt(rel) ? mask & ~M2M__NO_RETURNING : mask;
}

int m2m__sql_touched(const m2m_relation *rel, m2m__buf *b) {
    if (m2m__touch_in_stmt(rel))
        m2m__touch_wrap(b, rel);
    return M2M_OK;
}

/* The WHERE of the delete/count family: the parent's rows, all or those
 * whose id is (not) in the ids array $2 (M2M__SPAN in mask: in its span
 * form, or for NOT IN its form for few ids). */
void m2m__sql_where_set_as(m2m__buf *b, const m2m_relation *rel, const char *alias,
                           int kind, uint64_t mask) {
    int pno = (kind == S_DELETE_ALL || kind == S_COUNT_ALL) ? 2 : 3;
    m2m__buf_add(b, " WHERE ");
    m2m__sql_where_parent(b, rel, alias, &pno);
    if (kind == S_DELETE_ALL || kind == S_COUNT_ALL)
        return;
    m2m__buf_add(b, " AND ");
    m2m__buf t = {0};
    m2m__sql_col(&t, alias, rel->rk);
    bool in = kind == S_DELETE_IN || kind == S_COUNT_IN;
    int form = in ? (mask & M2M__SPAN ? M2M__IN_SPAN : M2M__IN)
                  : (mask & M2M__SPAN ? M2M__NOT_IN_FEW : M2M__NOT_IN);
    rel->db->drv->dialect.ids_in(b, t.p ? t.p : "", 2, rel->related_type, form);
    if (t.oom)
        b->oom = true;
    m2m__buf_free(&t);
}

void m2m__sql_where_set(m2m__buf *b, const m2m_relation *rel, int kind, uint64_t mask) {
    m2m__sql_where_set_as(b, rel, "t", kind, mask);
}

/* "<verb> <pivot> AS t": the head of every statement on the pivot rows. */
void m2m__sql_pivot_as_t(m2m__buf *b, const m2m_relation *rel, const char *verb) {
    m2m__buf_add(b, verb);
    m2m__buf_ident(b, rel->pivot_table);
    m2m__buf_add(b, " AS t");
}

size_t m2m__scope_params(const m2m_relation *rel, m2m_value *out) {
    size_t n = 0;
    for (size_t i = 0; i < rel->ncols; i++)
        if (rel->scope_mask & (1ULL << i))
            out[n++] = rel->scope_vals[i];
    return n;
}
