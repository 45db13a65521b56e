/* SPDX-License-Identifier: MIT */
/* A relation's definition checked against the database: its tables and
 * every column it names exist, and its keys hold the declared id types.
 * One catalog query (drv->dialect.columns) answers it all. */
#include "core/relation.h"

#include <string.h>

enum { T_PARENT, T_RELATED, T_PIVOT, NTABLES };

/* A column the definition names: which field, on which table, and the id
 * type it must hold (M2M_TNULL: any). */
typedef struct want {
    const char *field;
    const char *name;
    int table;
    m2m_type type;
    char kind; /* as found; 0: not found */
} want;

typedef struct found {
    m2m_db *db;
    want *w;
    size_t n;
    bool exists[NTABLES];
} found;

static bool same_name(const m2m_db *db, const char *a, const char *b) {
    if (!db->drv->info->caps.names_nocase)
        return strcmp(a, b) == 0;
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

static void on_col(void *arg, size_t t, const char *name, char kind) {
    found *f = arg;
    f->exists[t] = true;
    if (!name)
        return;
    for (size_t i = 0; i < f->n; i++)
        if (f->w[i].table == (int)t && !f->w[i].kind &&
            same_name(f->db, f->w[i].name, name))
            f->w[i].kind = kind ? kind : '?';
}

static const char *type_word(m2m_type t) { return t == M2M_TINT ? "integer" : "text"; }

int m2m__rel_check(m2m_relation *rel, bool pivot_needed, bool *pivot_exists) {
    m2m_db *db = rel->db;
    const char *tables[NTABLES] = {rel->parent_table, rel->related_table,
                                   rel->pivot_table};
    const char *table_field[NTABLES] = {"parent_table", "related_table", "pivot_table"};
    want w[M2M__MAX_PIVOT + M2M__MAX_CONDS + 10];
    size_t n = 0;
    w[n++] = (want){"parent_key", rel->parent_key, T_PARENT, rel->parent_type, 0};
    w[n++] = (want){"related_key", rel->related_key, T_RELATED, rel->related_type, 0};
    w[n++] = (want){"foreign_pivot_key", rel->fk, T_PIVOT, rel->parent_type, 0};
    w[n++] = (want){"related_pivot_key", rel->rk, T_PIVOT, rel->related_type, 0};
    for (size_t i = 0; i < rel->ncols; i++)
        w[n++] = (want){i < rel->nextra ? "pivot_columns entry" : "scope column",
                        rel->cols[i], T_PIVOT, M2M_TNULL, 0};
    if (rel->created_at)
        w[n++] = (want){"created_at", rel->created_at, T_PIVOT, M2M_TNULL, 0};
    if (rel->updated_at)
        w[n++] = (want){"updated_at", rel->updated_at, T_PIVOT, M2M_TNULL, 0};
    if (rel->pivot_id)
        w[n++] = (want){"pivot_id", rel->pivot_id, T_PIVOT, M2M_TNULL, 0};
    for (size_t i = 0; i < rel->nconds; i++)
        w[n++] = (want){"where column", rel->conds[i].col, T_PIVOT, M2M_TNULL, 0};
    if (rel->touch_col)
        w[n++] = (want){"parent_updated_at", rel->touch_col, T_PARENT, M2M_TNULL, 0};
    if (rel->owner_column)
        w[n++] = (want){"owner_column", rel->owner_column, T_PIVOT, M2M_TNULL, 0};
    found f = {.db = db, .w = w, .n = n};
    if (pivot_exists)
        *pivot_exists = true;
    int rc = db->drv->dialect.columns
                 ? db->drv->dialect.columns(db, tables, NTABLES, on_col, &f)
                 : M2M_OK;
    if (rc == M2M__LATER || !db->drv->dialect.columns)
        return M2M_OK; /* asked again at first use */
    if (rc)
        return rc;
    for (int t = 0; t < NTABLES; t++) {
        if (f.exists[t])
            continue;
        if (t == T_PIVOT && !pivot_needed) {
            if (pivot_exists)
                *pivot_exists = false;
            return M2M_OK;
        }
        return m2m__set_error(
            db, M2M_NOTFOUND, "relation: %s '%s' does not exist%s", table_field[t],
            tables[t], t == T_PIVOT ? " (m2m_relation_create_pivot creates it)" : "");
    }
    for (size_t i = 0; i < n; i++) {
        const char *side = i == 0 || i == 2 ? "parent" : "related";
        if (!w[i].kind)
            return m2m__set_error(db, M2M_NOTFOUND,
                                  "relation: %s '%s' is not a column of %s", w[i].field,
                                  w[i].name, tables[w[i].table]);
        if ((w[i].type == M2M_TINT && w[i].kind == 't') ||
            (w[i].type == M2M_TTEXT && w[i].kind == 'i'))
            return m2m__set_error(
                db, M2M_TYPE,
                "relation: %s '%s' of %s holds %s values but %s_key_type is %s",
                w[i].field, w[i].name, tables[w[i].table],
                w[i].type == M2M_TINT ? "text" : "integer", side, type_word(w[i].type));
    }
    rel->checked = true;
    if (f.exists[T_PIVOT])
        m2m__rel_lock_side(rel); /* asked now, not by the first write */
    return M2M_OK;
}

int m2m__rel_lock_side(m2m_relation *rel) {
    if (rel->lock_side)
        return rel->lock_side;
    const m2m__dialect *d = &rel->db->drv->dialect;
    int lead = d->key_lead ? d->key_lead(rel->db, rel->pivot_table, rel->fk, rel->rk) : 0;
    if (lead < 0)
        return M2M__LOCK_PIVOT; /* serializes with every writer: always safe */
    /* Both sides see the same catalog and the same two names, so they
     * agree on which one locks per parent. */
    bool mine = lead == 1 || (lead != 2 && strcmp(rel->fk, rel->rk) <= 0);
    rel->lock_side = mine ? M2M__LOCK_PARENT : M2M__LOCK_PIVOT;
    return rel->lock_side;
}
