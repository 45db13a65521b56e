/* SPDX-License-Identifier: MIT */
/* SQL text of the write operations. Identifiers come from the validated
 * definition and are quoted; every value is a parameter. */
#include "sql/parts.h"

#include "core/input.h"

#include <string.h>

/* The clause that skips pairs already present, unless the relation is
 * scoped (insert_rows says why). */
static void skip_present(m2m__buf *b, const m2m_relation *rel, bool scoped) {
    if (!scoped)
        rel->db->drv->dialect.insert_skip(b, rel->rk);
}

/* The value an inserted row stores in column i: from the JSON rows i, or
 * (flat) the scope's parameter or the next value parameter *vno. */
static void insert_value(m2m__buf *b, const m2m_relation *rel, uint64_t mask, size_t i,
                         int *vno) {
    if (!(mask & M2M__FLAT)) {
        m2m__sql_col(b, "i", rel->cols[i]);
        return;
    }
    int sno = 3;
    for (size_t k = 0; k < i; k++)
        sno += (rel->scope_mask >> k) & 1;
    m2m__buf_addf(b, "$%d", rel->scope_mask & (1ULL << i) ? sno : (*vno)++);
}

static bool pair_unique(m2m_relation *rel) {
    const m2m__driver *drv = rel->db->drv;
    if (!rel->pair_unique) {
        int yes =
            drv->dialect.pair_unique
                ? drv->dialect.pair_unique(rel->db, rel->pivot_table, rel->fk, rel->rk)
                : 0;
        if (yes < 0)
            return false; /* not now; the next statement built asks again */
        rel->pair_unique = yes ? 2 : 1;
    }
    return rel->pair_unique == 2;
}

/* gone: the CTE of rows deleted in the same statement (toggle), whose ids
 * must not come back; ON CONFLICT does not see those rows as conflicts. */
static int insert_rows(m2m_relation *rel, uint64_t mask, const char *gone, m2m__buf *b) {
    bool flat = mask & M2M__FLAT;
    const char *cols[M2M__MAX_PIVOT + 3];
    size_t n = 0;
    cols[n++] = rel->fk;
    cols[n++] = rel->rk;
    if (rel->pivot_id)
        cols[n++] = rel->pivot_id;
    for (size_t i = 0; i < rel->ncols; i++)
        if (mask & (1ULL << i))
            cols[n++] = rel->cols[i];
    m2m__buf_add(b, "INSERT INTO ");
    m2m__buf_ident(b, rel->pivot_table);
    m2m__buf_add(b, " (");
    for (size_t i = 0; i < n; i++) {
        if (i)
            m2m__buf_add(b, ", ");
        m2m__buf_ident(b, cols[i]);
    }
    /* Inserted rows get every timestamp kept, updated_at included. */
    const char *ts[] = {rel->created_at, rel->updated_at};
    for (size_t i = 0; i < 2; i++)
        if (ts[i]) {
            m2m__buf_add(b, ", ");
            m2m__buf_ident(b, ts[i]);
        }
    m2m__buf_add(b, ") SELECT ");
    if (flat) {
        int vno = m2m__sql_first_val(rel);
        m2m__buf_add(b, "$1, i.value");
        for (size_t i = 0; i < rel->ncols; i++)
            if (mask & (1ULL << i)) {
                m2m__buf_add(b, ", ");
                insert_value(b, rel, mask, i, &vno);
            }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i)
                m2m__buf_add(b, ", ");
            m2m__sql_col(b, "i", cols[i]);
        }
    }
    for (size_t i = 0; i < 2; i++)
        if (ts[i]) {
            m2m__buf_add(b, ", ");
            m2m__buf_add(b, rel->db->drv->dialect.now_sql);
        }
    m2m__buf_add(b, " FROM ");
    if (flat)
        m2m__sql_ids(b, rel, 2, "i");
    else {
        m2m__sql_input(b, rel, 2, cols, n);
        m2m__buf_add(b, " AS i");
    }
    /* The NOT EXISTS makes attach duplicate-safe without a unique index;
     * the dialect's insert_skip covers writers that do not take m2m's lock.
     * It always follows a WHERE (some parsers read an upsert only after
     * one). Rows from JSON name $1 there, so that every insert takes the
     * same parameters and the server can type it; ids are never NULL. A
     * scoped relation has no insert_skip: its NOT EXISTS skips the pairs
     * present inside the scope, and a pair present outside it must fail
     * (M2M_EXISTS) where a unique index forbids a second row, not be
     * skipped as if attached. */
    bool scoped = m2m__rel_filtered(rel);
    if (gone) {
        /* Toggle inserts only ids whose pairs its DELETE found absent under
         * the parent's lock: no insert_skip, whose conflict check cost
         * about 44 k instructions a toggle on PostgreSQL. A pair a writer
         * outside m2m inserted meanwhile is an error (M2M_EXISTS), not a
         * toggle that silently left it attached. */
        m2m__buf_addf(b, " WHERE NOT EXISTS (SELECT 1 FROM %s WHERE %s.", gone, gone);
        m2m__buf_ident(b, rel->rk);
        m2m__buf_add(b, " = i.value)");
        m2m__sql_returning_rk(b, rel, mask);
        return M2M_OK;
    }
    if (!scoped && pair_unique(rel)) {
        m2m__buf_add(b, " WHERE ");
        if (flat)
            m2m__buf_add(b, "i.value IS NOT NULL");
        else {
            m2m__sql_col(b, "i", rel->fk);
            m2m__buf_add(b, " = $1");
        }
        skip_present(b, rel, false);
        m2m__sql_returning_rk(b, rel, mask);
        return M2M_OK;
    }
    m2m__buf_add(b, " WHERE NOT EXISTS (SELECT 1 FROM ");
    m2m__buf_ident(b, rel->pivot_table);
    m2m__buf_add(b, " AS x WHERE ");
    m2m__sql_col(b, "x", rel->fk);
    m2m__buf_add(b, " = $1 AND ");
    m2m__sql_col(b, "x", rel->rk);
    m2m__buf_add(b, " = ");
    if (flat)
        m2m__buf_add(b, "i.value");
    else
        m2m__sql_col(b, "i", rel->rk);
    for (size_t i = 0; i < rel->ncols; i++) {
        if (!(rel->scope_mask & (1ULL << i)))
            continue;
        int unused = 0;
        m2m__buf_add(b, " AND ");
        m2m__sql_col(b, "x", rel->cols[i]);
        m2m__buf_add(b, " = ");
        insert_value(b, rel, mask, i, &unused);
    }
    /* Rows of JSON carry no scope parameters: the conditions' come first. */
    int cno = flat ? 3 + m2m__sql_count_scope(rel) : 3;
    m2m__conds_sql(b, rel, "x", true, &cno);
    m2m__buf_add(b, ")");
    skip_present(b, rel, scoped);
    m2m__sql_returning_rk(b, rel, mask);
    return M2M_OK;
}

static int b_insert(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    insert_rows(rel, m2m__sql_touch_mask(rel, mask), NULL, b);
    return m2m__sql_touched(rel, b);
}

/* Where a DELETE takes no alias (caps.delete_alias), its columns are
 * qualified by the table's name. */
static int b_delete(m2m_relation *rel, int kind, uint64_t mask, m2m__buf *b) {
    if (rel->db->drv->info->caps.delete_alias) {
        m2m__sql_pivot_as_t(b, rel, "DELETE FROM ");
        m2m__sql_where_set(b, rel, kind, mask);
    } else {
        m2m__buf name = {0};
        m2m__buf_ident(&name, rel->pivot_table);
        m2m__buf_add(b, "DELETE FROM ");
        m2m__buf_add(b, name.p ? name.p : "");
        m2m__sql_where_set_as(b, rel, name.p ? name.p : "", kind, mask);
        if (name.oom)
            b->oom = true;
        m2m__buf_free(&name);
    }
    m2m__sql_returning_rk(b, rel, mask);
    return M2M_OK;
}

static int b_count(m2m_relation *rel, int kind, uint64_t mask, m2m__buf *b) {
    m2m__sql_pivot_as_t(b, rel, "SELECT count(*) FROM ");
    m2m__sql_where_set(b, rel, kind, mask);
    return M2M_OK;
}

/* "SELECT t.rk FROM <ids $2> AS i CROSS JOIN pivot AS t WHERE ": the
 * pivot rows of the given ids, driven by the ids, one index lookup each
 * (on SQLite "IN (SELECT ...)" would first copy them into a temporary
 * index). */
static void rows_of_ids(m2m__buf *b, const m2m_relation *rel) {
    m2m__buf_add(b, "SELECT ");
    m2m__sql_col(b, "t", rel->rk);
    m2m__buf_add(b, " FROM ");
    m2m__sql_ids(b, rel, 2, "i");
    m2m__sql_pivot_as_t(b, rel, " CROSS JOIN ");
    m2m__buf_add(b, " WHERE ");
}

static int b_select_in(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    (void)m;
    rows_of_ids(b, rel);
    int pno = 3;
    m2m__sql_where_parent(b, rel, "t", &pno);
    m2m__buf_add(b, " AND ");
    m2m__sql_col(b, "t", rel->rk);
    m2m__buf_add(b, " = i.value");
    return M2M_OK;
}

static int b_delete_in(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    b_delete(rel, S_DELETE_IN, m2m__sql_touch_mask(rel, m), b);
    return m2m__sql_touched(rel, b);
}
static int b_delete_all(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    b_delete(rel, S_DELETE_ALL, m2m__sql_touch_mask(rel, m), b);
    return m2m__sql_touched(rel, b);
}
static int b_delete_not_in(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    b_delete(rel, S_DELETE_NOT_IN, m2m__sql_touch_mask(rel, m), b);
    return m2m__sql_touched(rel, b);
}
static int b_count_in(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    return b_count(rel, S_COUNT_IN, m, b);
}
static int b_count_all(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    return b_count(rel, S_COUNT_ALL, m, b);
}
static int b_count_not_in(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    return b_count(rel, S_COUNT_NOT_IN, m, b);
}

/* Delete and insert in one statement (drivers with dml_cte): toggle
 * deletes the given rows that exist, sync the rows not given. The INSERT
 * sees the rows as they were before the statement; toggle's NOT EXISTS
 * therefore skips exactly the deleted ones, and sync's deletes touch no
 * given id. With RETURNING, rows are (list, id): M2M__DETACHED or
 * M2M__ATTACHED. */
static int delete_insert(m2m_relation *rel, int del, uint64_t mask, m2m__buf *b) {
    bool toggle = del == S_DELETE_IN;
    mask = m2m__sql_touch_mask(rel, mask);
    m2m__buf_add(b, "WITH " M2M__GONE " AS (");
    b_delete(rel, del, toggle ? 0 : mask & (M2M__NO_RETURNING | M2M__SPAN), b);
    m2m__buf_add(b, mask & M2M__NO_RETURNING ? ") " : "), " M2M__ADDED " AS (");
    insert_rows(rel, mask, toggle ? M2M__GONE : NULL, b);
    if (mask & M2M__NO_RETURNING)
        return M2M_OK;
    m2m__buf_add(b, ")");
    if (m2m__touch_in_stmt(rel))
        m2m__touch_cte(b, rel,
                       "EXISTS (SELECT 1 FROM " M2M__GONE
                       ") OR EXISTS (SELECT 1 FROM " M2M__ADDED ")");
    m2m__buf_addf(b, " SELECT %d, ", M2M__DETACHED);
    m2m__buf_ident(b, rel->rk);
    m2m__buf_addf(b, " FROM " M2M__GONE " UNION ALL SELECT %d, ", M2M__ATTACHED);
    m2m__buf_ident(b, rel->rk);
    m2m__buf_add(b, " FROM " M2M__ADDED);
    return M2M_OK;
}

static int b_toggle(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    return delete_insert(rel, S_DELETE_IN, mask, b);
}

static int b_sync(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    return delete_insert(rel, S_DELETE_NOT_IN, mask, b);
}

static int b_version(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    m2m__buf_add(b, "SELECT ");
    m2m__sql_col(b, "t", rel->rk);
    for (size_t i = 0; i < rel->ncols; i++) {
        m2m__buf_add(b, ", ");
        m2m__sql_col(b, "t", rel->cols[i]);
    }
    m2m__sql_pivot_as_t(b, rel, " FROM ");
    m2m__sql_where_set(b, rel, S_DELETE_ALL, 0);
    return M2M_OK;
}

static int b_diag_related(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    m2m__buf_add(b, "SELECT i.value FROM ");
    m2m__sql_ids(b, rel, 1, "i");
    m2m__buf_add(b, " WHERE NOT EXISTS (SELECT 1 FROM ");
    m2m__buf_ident(b, rel->related_table);
    m2m__buf_add(b, " AS r WHERE ");
    m2m__sql_col(b, "r", rel->related_key);
    m2m__buf_add(b, " = i.value) LIMIT 1");
    return M2M_OK;
}

/* $1 parent, $2 ids array, then the scope and conditions' values: the
 * first given id whose pair is present outside the scope or conditions. */
static int b_diag_outside(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    rows_of_ids(b, rel);
    m2m__sql_col(b, "t", rel->fk);
    m2m__buf_add(b, " = $1 AND ");
    m2m__sql_col(b, "t", rel->rk);
    m2m__buf_add(b, " = i.value AND NOT (");
    int pno = 3;
    bool first = true;
    if (rel->nconds) {
        /* NULL (a condition on a NULL column) is outside too. */
        m2m__buf_add(b, "CASE WHEN ");
        int cno = 3 + m2m__sql_count_scope(rel);
        m2m__conds_sql(b, rel, "t", false, &cno);
        m2m__buf_add(b, " THEN 1 ELSE 0 END = 1");
        first = false;
    }
    for (size_t i = 0; i < rel->ncols; i++) {
        if (!(rel->scope_mask & (1ULL << i)))
            continue;
        if (!first)
            m2m__buf_add(b, " AND ");
        first = false;
        m2m__buf x = {0}, y = {0};
        m2m__sql_col(&x, "t", rel->cols[i]);
        m2m__buf_addf(&y, "$%d", pno++);
        rel->db->drv->dialect.distinct(b, x.p ? x.p : "", y.p ? y.p : "", true);
        if (x.oom || y.oom)
            b->oom = true;
        m2m__buf_free(&x);
        m2m__buf_free(&y);
    }
    m2m__buf_add(b, ") LIMIT 1");
    return M2M_OK;
}

static int b_diag_parent(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    m2m__buf_add(b, "SELECT 1 FROM ");
    m2m__buf_ident(b, rel->parent_table);
    m2m__buf_add(b, " AS p WHERE ");
    m2m__sql_col(b, "p", rel->parent_key);
    m2m__buf_add(b, " = $1");
    return M2M_OK;
}

m2m__build_fn m2m__builder(int kind) {
    switch (kind) {
        case S_INSERT:
            return b_insert;
        case S_DELETE_IN:
            return b_delete_in;
        case S_DELETE_ALL:
            return b_delete_all;
        case S_DELETE_NOT_IN:
            return b_delete_not_in;
        case S_COUNT_IN:
            return b_count_in;
        case S_COUNT_ALL:
            return b_count_all;
        case S_COUNT_NOT_IN:
            return b_count_not_in;
        case S_UPDATE_FROM:
            return m2m__b_update_from;
        case S_COUNT_UPDATE_FROM:
            return m2m__b_count_update_from;
        case S_UPDATE_SET:
            return m2m__b_update_set;
        case S_TOGGLE:
            return b_toggle;
        case S_VERSION:
            return b_version;
        case S_DIAG_RELATED:
            return b_diag_related;
        case S_DIAG_PARENT:
            return b_diag_parent;
        case S_SELECT_IN:
            return b_select_in;
        case S_SYNC:
            return b_sync;
        case S_DIAG_OUTSIDE:
            return b_diag_outside;
        case S_SELECT_UPDATE_FROM:
            return m2m__b_select_update_from;
        case S_SELECT_UPDATE_SET:
            return m2m__b_select_update_set;
        case S_TOUCH:
            return m2m__b_touch;
    }
    return NULL;
}
