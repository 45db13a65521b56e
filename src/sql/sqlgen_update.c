/* SPDX-License-Identifier: MIT */
/* SQL text of the UPDATE statements of the pivot rows: update_pivot and
 * sync's update of existing rows, from one shared value set or per-row JSON
 * values, with their counts for row-level security and their reads. */
#include "sql/parts.h"

#include "core/input.h"

#include <string.h>

/* The presence column of the k-th column of the JSON rows (input_rows_has):
 * k counts rk first, then the columns of mask. */
static void has(m2m__buf *b, size_t k) { m2m__buf_addf(b, "i.\"m2m-has%zu\"", k); }

/* SET list "c" = $k for the columns of mask, or from JSON rows i:
 * "c" = CASE WHEN <row names c> THEN i."c" ELSE t."c" END; and updated_at. */
static void set_list(m2m__buf *b, const m2m_relation *rel, uint64_t mask, int *pno) {
    /* The multi-table UPDATE names its targets with their table. */
    const char *qual = rel->db->drv->info->caps.update_from || pno ? "" : "t.";
    bool first = true;
    size_t k = 1;
    for (size_t i = 0; i < rel->ncols; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        m2m__buf_add(b, first ? " SET " : ", ");
        first = false;
        m2m__buf_add(b, qual);
        m2m__buf_ident(b, rel->cols[i]);
        if (pno) {
            m2m__buf_addf(b, " = $%d", (*pno)++);
        } else {
            m2m__buf_add(b, " = CASE WHEN ");
            has(b, k++);
            m2m__buf_add(b, " THEN ");
            m2m__sql_col(b, "i", rel->cols[i]);
            m2m__buf_add(b, " ELSE ");
            m2m__sql_col(b, "t", rel->cols[i]);
            m2m__buf_add(b, " END");
        }
    }
    if (rel->updated_at) {
        m2m__buf_add(b, ", ");
        m2m__buf_add(b, qual);
        m2m__buf_ident(b, rel->updated_at);
        m2m__buf_add(b, " = ");
        m2m__buf_add(b, rel->db->drv->dialect.now_sql);
    }
}

/* " AND (t.c IS DISTINCT FROM <new c> OR ...)" over the columns of mask;
 * the new value is i.c where the JSON row names c, or (flat) the value
 * parameters from vno on. */
static void differ(m2m__buf *b, const m2m_relation *rel, uint64_t mask, int vno) {
    m2m__buf_add(b, " AND (");
    bool first = true;
    size_t k = 1;
    for (size_t i = 0; i < rel->ncols; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        if (!first)
            m2m__buf_add(b, " OR ");
        first = false;
        if (!(mask & M2M__FLAT)) {
            m2m__buf_add(b, "(");
            has(b, k++);
            m2m__buf_add(b, " AND ");
        }
        m2m__buf x = {0}, y = {0};
        m2m__sql_col(&x, "t", rel->cols[i]);
        if (mask & M2M__FLAT)
            m2m__buf_addf(&y, "$%d", vno++);
        else
            m2m__sql_col(&y, "i", rel->cols[i]);
        rel->db->drv->dialect.distinct(b, x.p ? x.p : "", y.p ? y.p : "", false);
        if (x.oom || y.oom)
            b->oom = true;
        m2m__buf_free(&x);
        m2m__buf_free(&y);
        if (!(mask & M2M__FLAT))
            m2m__buf_add(b, ")");
    }
    m2m__buf_add(b, ")");
}

/* The rows an update from the input touches: flat, the parent's rows of the
 * ids array whose values differ; else FROM rows AS i WHERE <parent> AND
 * t.rk = i.rk AND (values differ). */
enum { U_ALL, U_SOURCE, U_WHERE }; /* the parts update_from_where writes */

static void update_from_where_part(m2m__buf *b, const m2m_relation *rel, uint64_t mask,
                                   int part) {
    if (mask & M2M__FLAT) {
        m2m__sql_where_set(b, rel, S_DELETE_IN, mask);
        differ(b, rel, mask, m2m__sql_first_val(rel));
        return;
    }
    const char *cols[M2M__MAX_PIVOT + 1];
    size_t n = 0;
    cols[n++] = rel->rk;
    for (size_t i = 0; i < rel->ncols; i++)
        if (mask & (1ULL << i))
            cols[n++] = rel->cols[i];
    m2m__buf *all = b, skip = {.off = true};
    if (part == U_WHERE)
        b = &skip;
    m2m__buf_add(b, part == U_ALL ? " FROM (SELECT " : "(SELECT ");
    m2m__sql_col(b, "j", rel->rk);
    m2m__buf_add(b, " AS " M2M__KEY_ALIAS);
    for (size_t k = 1; k < n; k++) {
        m2m__buf_add(b, ", ");
        m2m__sql_col(b, "j", cols[k]);
        m2m__buf_addf(b, ", j.\"m2m-has%zu\"", k);
    }
    m2m__buf_add(b, " FROM ");
    m2m__buf t = {0};
    m2m__buf_ident(&t, rel->pivot_table);
    rel->db->drv->dialect.input_rows_has(b, t.p ? t.p : "", 2, cols, n, 1);
    if (t.oom)
        b->oom = true;
    m2m__buf_free(&t);
    m2m__buf_add(b, " AS j) AS i");
    if (part == U_SOURCE)
        return;
    b = all;
    m2m__buf_add(b, " WHERE ");
    int pno = 3;
    m2m__sql_where_parent(b, rel, "t", &pno);
    m2m__buf_add(b, " AND ");
    m2m__sql_col(b, "t", rel->rk);
    m2m__buf_add(b, " = i." M2M__KEY_ALIAS);
    differ(b, rel, mask, 0);
}

static void update_from_where(m2m__buf *b, const m2m_relation *rel, uint64_t mask) {
    update_from_where_part(b, rel, mask, U_ALL);
}

int m2m__b_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    int vno = m2m__sql_first_val(rel);
    mask = m2m__sql_touch_mask(rel, mask);
    m2m__sql_pivot_as_t(b, rel, "UPDATE ");
    if (!(mask & M2M__FLAT) && !rel->db->drv->info->caps.update_from) {
        /* UPDATE p AS t, (rows) AS i SET t.c = ... WHERE ... */
        m2m__buf_add(b, ", ");
        update_from_where_part(b, rel, mask, U_SOURCE);
        set_list(b, rel, mask, NULL);
        update_from_where_part(b, rel, mask, U_WHERE);
        m2m__sql_returning_rk(b, rel, mask);
        return M2M_OK;
    }
    set_list(b, rel, mask, mask & M2M__FLAT ? &vno : NULL);
    update_from_where(b, rel, mask);
    m2m__sql_returning_rk(b, rel, mask);
    return m2m__sql_touched(rel, b);
}

/* head: "SELECT count(*) FROM " or "SELECT t.rk FROM ". */
static int read_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    if (mask & M2M__FLAT) {
        update_from_where(b, rel, mask);
        return M2M_OK;
    }
    /* A join written as FROM t, rows i: same rows as the UPDATE touches. */
    m2m__buf ref = {0};
    update_from_where(&ref, rel, mask);
    m2m__buf_add(b, ", ");
    m2m__buf_add(b, ref.p ? ref.p + strlen(" FROM ") : "");
    if (ref.oom)
        b->oom = true;
    m2m__buf_free(&ref);
    return M2M_OK;
}

int m2m__b_count_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    m2m__sql_pivot_as_t(b, rel, "SELECT count(*) FROM ");
    return read_update_from(rel, mask, b);
}

/* For dialects without UPDATE ... RETURNING: the rows the update will
 * change, read first under the parent's lock. */
int m2m__b_select_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    m2m__buf_add(b, "SELECT ");
    m2m__sql_col(b, "t", rel->rk);
    m2m__sql_pivot_as_t(b, rel, " FROM ");
    return read_update_from(rel, mask, b);
}

int m2m__b_select_update_set(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    m2m__buf_add(b, "SELECT ");
    m2m__sql_col(b, "t", rel->rk);
    m2m__sql_pivot_as_t(b, rel, " FROM ");
    m2m__sql_where_set(b, rel, S_DELETE_IN, 0);
    return M2M_OK;
}

int m2m__b_update_set(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    int vno = m2m__sql_first_val(rel);
    mask = m2m__sql_touch_mask(rel, mask);
    m2m__sql_pivot_as_t(b, rel, "UPDATE ");
    set_list(b, rel, mask, &vno);
    m2m__sql_where_set(b, rel, S_DELETE_IN, mask);
    m2m__sql_returning_rk(b, rel, mask);
    return m2m__sql_touched(rel, b);
}
