/* SPDX-License-Identifier: MIT */
/* SQL text of the write operations. Identifiers come from the validated
 * definition and are quoted; every value is a parameter. */
#include "sql/sqlgen.h"

#include "core/input.h"

#include <string.h>

/* Names m2m gives its own subqueries and columns. Each holds a '-', which
 * no identifier of a definition may (m2m__ident_ok), so none can capture a
 * user's table or column, whatever the user names them. */
#define M2M__KEY_ALIAS "\"m2m-key\""
#define M2M__GONE      "\"m2m-gone\""
#define M2M__ADDED     "\"m2m-added\""

static void col(m2m__buf *b, const char *alias, const char *name) {
    m2m__buf_addf(b, "%s.", alias);
    m2m__buf_ident(b, name);
}

/* FROM-able rows of the JSON parameter $param with the given columns. */
static void input(m2m__buf *b, const m2m_relation *rel, int param,
                  const char *const *cols, size_t n) {
    m2m__buf t = {0};
    m2m__buf_ident(&t, rel->pivot_table);
    rel->db->drv->dialect.input_rows(b, t.p ? t.p : "", param, cols, n);
    if (t.oom)
        b->oom = true;
    m2m__buf_free(&t);
}

/* FROM item over the ids array parameter $param: alias.value. */
static void ids(m2m__buf *b, const m2m_relation *rel, int param, const char *alias) {
    rel->db->drv->dialect.ids_from(b, param, rel->related_type, alias);
}

static int count_scope(const m2m_relation *rel) {
    int n = 0;
    for (size_t i = 0; i < rel->ncols; i++)
        n += (rel->scope_mask >> i) & 1;
    return n;
}

/* The first parameter of the new values: after $1, $2, the scope values
 * and the conditions' values. */
static int first_val(const m2m_relation *rel) {
    return 3 + count_scope(rel) + (int)rel->ncondv;
}

/* alias.fk = $1 AND alias.scope_col = $k ... AND <conditions> (k from
 * *pno up). */
static void where_parent(m2m__buf *b, const m2m_relation *rel, const char *alias,
                         int *pno) {
    col(b, alias, rel->fk);
    m2m__buf_add(b, " = $1");
    for (size_t i = 0; i < rel->ncols; i++) {
        if (!(rel->scope_mask & (1ULL << i)))
            continue;
        m2m__buf_add(b, " AND ");
        col(b, alias, rel->cols[i]);
        m2m__buf_addf(b, " = $%d", (*pno)++);
    }
    m2m__conds_sql(b, rel, alias, true, pno);
}

size_t m2m__scope_params(const m2m_relation *rel, m2m_value *out) {
    size_t n = 0;
    for (size_t i = 0; i < rel->ncols; i++)
        if (rel->scope_mask & (1ULL << i))
            out[n++] = rel->scope_vals[i];
    return n;
}

/* The key goes unqualified (dialect.returning); UPDATE ... FROM sources
 * rename their key so it cannot be ambiguous. */
static void returning_rk(m2m__buf *b, const m2m_relation *rel, uint64_t mask) {
    if (mask & M2M__NO_RETURNING)
        return;
    rel->db->drv->dialect.returning(b, rel->rk);
}

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
        col(b, "i", rel->cols[i]);
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
        int vno = first_val(rel);
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
            col(b, "i", cols[i]);
        }
    }
    for (size_t i = 0; i < 2; i++)
        if (ts[i]) {
            m2m__buf_add(b, ", ");
            m2m__buf_add(b, rel->db->drv->dialect.now_sql);
        }
    m2m__buf_add(b, " FROM ");
    if (flat)
        ids(b, rel, 2, "i");
    else {
        input(b, rel, 2, cols, n);
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
        m2m__buf_addf(b, " WHERE NOT EXISTS (SELECT 1 FROM %s WHERE %s.", gone, gone);
        m2m__buf_ident(b, rel->rk);
        m2m__buf_add(b, " = i.value)");
        skip_present(b, rel, scoped);
        returning_rk(b, rel, mask);
        return M2M_OK;
    }
    if (!scoped && pair_unique(rel)) {
        m2m__buf_add(b, " WHERE ");
        if (flat)
            m2m__buf_add(b, "i.value IS NOT NULL");
        else {
            col(b, "i", rel->fk);
            m2m__buf_add(b, " = $1");
        }
        skip_present(b, rel, false);
        returning_rk(b, rel, mask);
        return M2M_OK;
    }
    m2m__buf_add(b, " WHERE NOT EXISTS (SELECT 1 FROM ");
    m2m__buf_ident(b, rel->pivot_table);
    m2m__buf_add(b, " AS x WHERE ");
    col(b, "x", rel->fk);
    m2m__buf_add(b, " = $1 AND ");
    col(b, "x", rel->rk);
    m2m__buf_add(b, " = ");
    if (flat)
        m2m__buf_add(b, "i.value");
    else
        col(b, "i", rel->rk);
    for (size_t i = 0; i < rel->ncols; i++) {
        if (!(rel->scope_mask & (1ULL << i)))
            continue;
        int unused = 0;
        m2m__buf_add(b, " AND ");
        col(b, "x", rel->cols[i]);
        m2m__buf_add(b, " = ");
        insert_value(b, rel, mask, i, &unused);
    }
    /* Rows of JSON carry no scope parameters: the conditions' come first. */
    int cno = flat ? 3 + count_scope(rel) : 3;
    m2m__conds_sql(b, rel, "x", true, &cno);
    m2m__buf_add(b, ")");
    skip_present(b, rel, scoped);
    returning_rk(b, rel, mask);
    return M2M_OK;
}

/* A statement of a touching relation (m2m__touch_in_stmt) returns its rows
 * whoever wants them: the touch runs when there is one. */
static uint64_t touch_mask(const m2m_relation *rel, uint64_t mask) {
    return m2m__touch_in_stmt(rel) ? mask & ~M2M__NO_RETURNING : mask;
}

static int touched(const m2m_relation *rel, m2m__buf *b) {
    if (m2m__touch_in_stmt(rel))
        m2m__touch_wrap(b, rel);
    return M2M_OK;
}

static int b_insert(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    insert_rows(rel, touch_mask(rel, mask), NULL, b);
    return touched(rel, b);
}

/* The WHERE of the delete/count family: the parent's rows, all or those
 * whose id is (not) in the ids array $2 (M2M__SPAN in mask: in its span
 * form). */
static void where_set_as(m2m__buf *b, const m2m_relation *rel, const char *alias,
                         int kind, uint64_t mask) {
    int pno = (kind == S_DELETE_ALL || kind == S_COUNT_ALL) ? 2 : 3;
    m2m__buf_add(b, " WHERE ");
    where_parent(b, rel, alias, &pno);
    if (kind == S_DELETE_ALL || kind == S_COUNT_ALL)
        return;
    m2m__buf_add(b, " AND ");
    m2m__buf t = {0};
    col(&t, alias, rel->rk);
    bool in = kind == S_DELETE_IN || kind == S_COUNT_IN;
    rel->db->drv->dialect.ids_in(b, t.p ? t.p : "", 2, rel->related_type,
                                 !in                ? M2M__NOT_IN
                                 : mask & M2M__SPAN ? M2M__IN_SPAN
                                                    : M2M__IN);
    if (t.oom)
        b->oom = true;
    m2m__buf_free(&t);
}

static void where_set(m2m__buf *b, const m2m_relation *rel, int kind, uint64_t mask) {
    where_set_as(b, rel, "t", kind, mask);
}

/* "<verb> <pivot> AS t": the head of every statement on the pivot rows. */
static void pivot_as_t(m2m__buf *b, const m2m_relation *rel, const char *verb) {
    m2m__buf_add(b, verb);
    m2m__buf_ident(b, rel->pivot_table);
    m2m__buf_add(b, " AS t");
}

/* Where a DELETE takes no alias (caps.delete_alias), its columns are
 * qualified by the table's name. */
static int b_delete(m2m_relation *rel, int kind, uint64_t mask, m2m__buf *b) {
    if (rel->db->drv->info->caps.delete_alias) {
        pivot_as_t(b, rel, "DELETE FROM ");
        where_set(b, rel, kind, mask);
    } else {
        m2m__buf name = {0};
        m2m__buf_ident(&name, rel->pivot_table);
        m2m__buf_add(b, "DELETE FROM ");
        m2m__buf_add(b, name.p ? name.p : "");
        where_set_as(b, rel, name.p ? name.p : "", kind, mask);
        if (name.oom)
            b->oom = true;
        m2m__buf_free(&name);
    }
    returning_rk(b, rel, mask);
    return M2M_OK;
}

static int b_count(m2m_relation *rel, int kind, uint64_t mask, m2m__buf *b) {
    pivot_as_t(b, rel, "SELECT count(*) FROM ");
    where_set(b, rel, kind, mask);
    return M2M_OK;
}

/* "SELECT t.rk FROM <ids $2> AS i CROSS JOIN pivot AS t WHERE ": the
 * pivot rows of the given ids, driven by the ids, one index lookup each
 * (on SQLite "IN (SELECT ...)" would first copy them into a temporary
 * index). */
static void rows_of_ids(m2m__buf *b, const m2m_relation *rel) {
    m2m__buf_add(b, "SELECT ");
    col(b, "t", rel->rk);
    m2m__buf_add(b, " FROM ");
    ids(b, rel, 2, "i");
    pivot_as_t(b, rel, " CROSS JOIN ");
    m2m__buf_add(b, " WHERE ");
}

static int b_select_in(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    (void)m;
    rows_of_ids(b, rel);
    int pno = 3;
    where_parent(b, rel, "t", &pno);
    m2m__buf_add(b, " AND ");
    col(b, "t", rel->rk);
    m2m__buf_add(b, " = i.value");
    return M2M_OK;
}

static int b_delete_in(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    b_delete(rel, S_DELETE_IN, touch_mask(rel, m), b);
    return touched(rel, b);
}
static int b_delete_all(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    b_delete(rel, S_DELETE_ALL, touch_mask(rel, m), b);
    return touched(rel, b);
}
static int b_delete_not_in(m2m_relation *rel, uint64_t m, m2m__buf *b) {
    b_delete(rel, S_DELETE_NOT_IN, touch_mask(rel, m), b);
    return touched(rel, b);
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
            col(b, "i", rel->cols[i]);
            m2m__buf_add(b, " ELSE ");
            col(b, "t", rel->cols[i]);
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
        col(&x, "t", rel->cols[i]);
        if (mask & M2M__FLAT)
            m2m__buf_addf(&y, "$%d", vno++);
        else
            col(&y, "i", rel->cols[i]);
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
        where_set(b, rel, S_DELETE_IN, mask);
        differ(b, rel, mask, first_val(rel));
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
    col(b, "j", rel->rk);
    m2m__buf_add(b, " AS " M2M__KEY_ALIAS);
    for (size_t k = 1; k < n; k++) {
        m2m__buf_add(b, ", ");
        col(b, "j", cols[k]);
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
    where_parent(b, rel, "t", &pno);
    m2m__buf_add(b, " AND ");
    col(b, "t", rel->rk);
    m2m__buf_add(b, " = i." M2M__KEY_ALIAS);
    differ(b, rel, mask, 0);
}

static void update_from_where(m2m__buf *b, const m2m_relation *rel, uint64_t mask) {
    update_from_where_part(b, rel, mask, U_ALL);
}

static int b_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    int vno = first_val(rel);
    mask = touch_mask(rel, mask);
    pivot_as_t(b, rel, "UPDATE ");
    if (!(mask & M2M__FLAT) && !rel->db->drv->info->caps.update_from) {
        /* UPDATE p AS t, (rows) AS i SET t.c = ... WHERE ... */
        m2m__buf_add(b, ", ");
        update_from_where_part(b, rel, mask, U_SOURCE);
        set_list(b, rel, mask, NULL);
        update_from_where_part(b, rel, mask, U_WHERE);
        returning_rk(b, rel, mask);
        return M2M_OK;
    }
    set_list(b, rel, mask, mask & M2M__FLAT ? &vno : NULL);
    update_from_where(b, rel, mask);
    returning_rk(b, rel, mask);
    return touched(rel, b);
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

static int b_count_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    pivot_as_t(b, rel, "SELECT count(*) FROM ");
    return read_update_from(rel, mask, b);
}

/* For dialects without UPDATE ... RETURNING: the rows the update will
 * change, read first under the parent's lock. */
static int b_select_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    m2m__buf_add(b, "SELECT ");
    col(b, "t", rel->rk);
    pivot_as_t(b, rel, " FROM ");
    return read_update_from(rel, mask, b);
}

static int b_select_update_set(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    m2m__buf_add(b, "SELECT ");
    col(b, "t", rel->rk);
    pivot_as_t(b, rel, " FROM ");
    where_set(b, rel, S_DELETE_IN, 0);
    return M2M_OK;
}

static int b_update_set(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    int vno = first_val(rel);
    mask = touch_mask(rel, mask);
    pivot_as_t(b, rel, "UPDATE ");
    set_list(b, rel, mask, &vno);
    where_set(b, rel, S_DELETE_IN, mask);
    returning_rk(b, rel, mask);
    return touched(rel, b);
}

/* Delete and insert in one statement (drivers with dml_cte): toggle
 * deletes the given rows that exist, sync the rows not given. The INSERT
 * sees the rows as they were before the statement; toggle's NOT EXISTS
 * therefore skips exactly the deleted ones, and sync's deletes touch no
 * given id. With RETURNING, rows are (list, id): M2M__DETACHED or
 * M2M__ATTACHED. */
static int delete_insert(m2m_relation *rel, int del, uint64_t mask, m2m__buf *b) {
    bool toggle = del == S_DELETE_IN;
    mask = touch_mask(rel, mask);
    m2m__buf_add(b, "WITH " M2M__GONE " AS (");
    b_delete(rel, del, toggle ? 0 : mask & M2M__NO_RETURNING, b);
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
    col(b, "t", rel->rk);
    for (size_t i = 0; i < rel->ncols; i++) {
        m2m__buf_add(b, ", ");
        col(b, "t", rel->cols[i]);
    }
    pivot_as_t(b, rel, " FROM ");
    where_set(b, rel, S_DELETE_ALL, 0);
    return M2M_OK;
}

static int b_diag_related(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    m2m__buf_add(b, "SELECT i.value FROM ");
    ids(b, rel, 1, "i");
    m2m__buf_add(b, " WHERE NOT EXISTS (SELECT 1 FROM ");
    m2m__buf_ident(b, rel->related_table);
    m2m__buf_add(b, " AS r WHERE ");
    col(b, "r", rel->related_key);
    m2m__buf_add(b, " = i.value) LIMIT 1");
    return M2M_OK;
}

/* $1 parent, $2 ids array, then the scope and conditions' values: the
 * first given id whose pair is present outside the scope or conditions. */
static int b_diag_outside(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    rows_of_ids(b, rel);
    col(b, "t", rel->fk);
    m2m__buf_add(b, " = $1 AND ");
    col(b, "t", rel->rk);
    m2m__buf_add(b, " = i.value AND NOT (");
    int pno = 3;
    bool first = true;
    if (rel->nconds) {
        /* NULL (a condition on a NULL column) is outside too. */
        m2m__buf_add(b, "CASE WHEN ");
        int cno = 3 + count_scope(rel);
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
        col(&x, "t", rel->cols[i]);
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
    col(b, "p", rel->parent_key);
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
            return b_update_from;
        case S_COUNT_UPDATE_FROM:
            return b_count_update_from;
        case S_UPDATE_SET:
            return b_update_set;
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
            return b_select_update_from;
        case S_SELECT_UPDATE_SET:
            return b_select_update_set;
        case S_TOUCH:
            return m2m__b_touch;
    }
    return NULL;
}
