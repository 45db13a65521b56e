/* SPDX-License-Identifier: MIT */
/* Turning a call's ids and pivot data into validated, deduplicated rows,
 * encoded as one parameter per set of columns given: an id array when the
 * rows share their values, else JSON rows. */
#include "core/input.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static const char *type_name(m2m_type t) {
    return t == M2M_TINT    ? "integer"
           : t == M2M_TTEXT ? "text"
           : t == M2M_TREAL ? "real"
                            : "NULL";
}

int m2m__check_id(m2m_relation *rel, const char *what, m2m_value v, m2m_type want) {
    if (v.type == M2M_TNULL || (v.type == M2M_TTEXT && !v.s))
        return m2m__set_error(rel->db, M2M_INVALID, "%s: %s id is NULL", rel->pivot_table,
                              what);
    if (v.type < M2M_TNULL || v.type > M2M_TTEXT)
        return m2m__set_error(rel->db, M2M_TYPE,
                              "%s: %s id has no valid type (type %d) but the "
                              "relation's %s key is %s",
                              rel->pivot_table, what, (int)v.type, what, type_name(want));
    if (v.type != want) {
        char buf[40];
        return m2m__set_error(rel->db, M2M_TYPE,
                              "%s: %s id %.60s is %s but the relation's %s key is %s",
                              rel->pivot_table, what, m2m_value_text(v, buf, sizeof buf),
                              type_name(v.type), what, type_name(want));
    }
    return M2M_OK;
}

/* Resolve a user-given pivot column: known, not managed, not fixed by scope. */
static int user_col(m2m_relation *rel, const m2m_col *c, int *ix) {
    *ix = -1;
    if (!c->name)
        return m2m__set_error(rel->db, M2M_INVALID, "%s: pivot column name is NULL",
                              rel->pivot_table);
    *ix = m2m__rel_col(rel, c->name);
    if (*ix < 0)
        return m2m__set_error(rel->db, M2M_INVALID,
                              "%s: unknown pivot column '%.80s' (declare it in "
                              "pivot_columns)",
                              rel->pivot_table, c->name);
    if (rel->scope_mask & (1ULL << *ix))
        return m2m__set_error(rel->db, M2M_INVALID,
                              "%s: pivot column '%s' is fixed by the relation's scope",
                              rel->pivot_table, c->name);
    if (c->value.type == M2M_TTEXT && !c->value.s)
        return m2m__set_error(rel->db, M2M_INVALID,
                              "%s: pivot column '%s' has a NULL text", rel->pivot_table,
                              c->name);
    return m2m__pivot_value_ok(rel->db, rel->pivot_table, c->name, c->value);
}

/* NaN and infinities are stored as NULL, "Inf" or "nan" depending on the
 * backend and the path a value takes: refused everywhere instead. */
int m2m__pivot_value_ok(m2m_db *db, const char *where, const char *col, m2m_value v) {
    if (v.type < M2M_TNULL || v.type > M2M_TTEXT)
        return m2m__set_error(db, M2M_INVALID,
                              "%s: pivot column '%s' has no valid type (type %d)", where,
                              col, (int)v.type);
    if (v.type == M2M_TREAL && !isfinite(v.d))
        return m2m__set_error(db, M2M_INVALID,
                              "%s: pivot column '%s' is %s: only finite numbers can be "
                              "stored alike on every backend",
                              where, col,
                              isnan(v.d) ? "NaN"
                              : v.d > 0  ? "infinity"
                                         : "-infinity");
    return M2M_OK;
}

int m2m__cols_mask(m2m_relation *rel, const m2m_col *cols, size_t n, uint64_t *mask) {
    *mask = 0;
    if (n && !cols)
        return m2m__set_error(rel->db, M2M_MISUSE, "%s: pivot data is NULL",
                              rel->pivot_table);
    for (size_t i = 0; i < n; i++) {
        int ix = -1, rc = user_col(rel, &cols[i], &ix);
        if (rc)
            return rc;
        if (*mask & (1ULL << ix))
            return m2m__set_error(rel->db, M2M_INVALID,
                                  "%s: pivot column '%s' given twice", rel->pivot_table,
                                  cols[i].name);
        *mask |= 1ULL << ix;
    }
    return M2M_OK;
}

int m2m__input_ids(m2m_relation *rel, const m2m_value *ids, size_t n, m2m__input *in) {
    *in = (m2m__input){.rel = rel, .row_mask = M2M__FLAT};
    if (n && !ids)
        return m2m__set_error(rel->db, M2M_MISUSE, "%s: ids is NULL", rel->pivot_table);
    for (size_t i = 0; i < n; i++) {
        int rc = m2m__check_id(rel, "related", ids[i], rel->related_type);
        if (rc)
            return rc;
    }
    in->ids = ids;
    in->n = in->nitems = n;
    return M2M_OK;
}

/* The caller's items, read in place as values with a stride. */
_Static_assert(offsetof(m2m_item, id) == 0 && sizeof(m2m_item) % sizeof(m2m_value) == 0,
               "m2m_item's ids are read as m2m_values with a stride");
enum { ITEM_STRIDE = sizeof(m2m_item) / sizeof(m2m_value) };

/* The first n ids given, read in place: the items' or the plain ids. */
static m2m__ids given(const m2m__input *in, size_t n) {
    return in->items
               ? (m2m__ids){(const m2m_value *)(const void *)in->items, n, ITEM_STRIDE}
               : (m2m__ids){in->ids, n, 1};
}

static m2m_value given_at(const m2m__input *in, size_t i) {
    return in->items ? in->items[i].id : in->ids[i];
}

/* The rows of attach, sync or toggle: items, or plain ids (items NULL)
 * that store only the shared pivot data. */
static int input_rows(m2m_relation *rel, const m2m_item *items, const m2m_value *ids,
                      size_t n, const m2m_opts *opts, m2m__input *in, const char *what) {
    *in = (m2m__input){.rel = rel, .items = items, .ids = ids, .nitems = n};
    m2m_db *db = rel->db;
    if (n && !items && !ids)
        return m2m__set_error(db, M2M_MISUSE, "%s: %s is NULL", rel->pivot_table, what);
    if (opts && (opts->npivot || opts->pivot)) {
        int rc = m2m__cols_mask(rel, opts->pivot, opts->npivot, &in->shared_mask);
        if (rc)
            return rc;
        in->shared = opts->pivot;
        in->nshared = opts->npivot;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = m2m__check_id(rel, "related", given_at(in, i), rel->related_type);
        if (rc)
            return rc;
    }
    /* The masks only when some item names columns of its own. */
    for (size_t i = 0; items && i < n; i++) {
        uint64_t own = 0;
        int rc = m2m__cols_mask(rel, items[i].pivot, items[i].npivot, &own);
        if (rc)
            return rc;
        if (own && !in->masks && !(in->masks = m2m__calloc(n, sizeof *in->masks)))
            return m2m__set_error(db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
        if (in->masks)
            in->masks[i] = own;
    }
    /* First occurrence wins: a repeated id is one row. */
    size_t nrep = 0;
    m2m__ids all = given(in, n);
    if (m2m__dups(all.v, all.stride, n, &in->rep, &nrep))
        return m2m__set_error(db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
    in->n = n - nrep;
    /* Rows without values of their own (nor a per-row pivot id) all store
     * the same: they travel as a flat id array. All the others travel as
     * one set of JSON rows with every column any of them names, however
     * their sets differ, so the operation's statements do not depend on
     * them; a row leaves out the keys of the columns it does not name. */
    uint64_t any = 0, common = in->shared_mask | rel->scope_mask;
    in->row_mask = (rel->pivot_id ? 0 : M2M__FLAT) | common;
    for (size_t i = 0; in->masks && i < n; i++) {
        if (m2m__bit(in->rep, i))
            continue;
        any |= in->masks[i];
        bool flat = !in->masks[i] && !rel->pivot_id;
        in->masks[i] |= (flat ? M2M__FLAT : 0) | common;
    }
    in->json_mask = any | common;
    return M2M_OK;
}

int m2m__input_items(m2m_relation *rel, const m2m_item *items, size_t n,
                     const m2m_opts *opts, m2m__input *in) {
    return input_rows(rel, items, NULL, n, opts, in, "items");
}

int m2m__input_plain(m2m_relation *rel, const m2m_value *ids, size_t n,
                     const m2m_opts *opts, m2m__input *in) {
    return input_rows(rel, NULL, ids, n, opts, in, "ids");
}

/* The value cols give to column name, if they name it. */
static bool col_value(const m2m_col *cols, size_t n, const char *name, m2m_value *v) {
    for (size_t k = 0; k < n; k++)
        if (strcmp(cols[k].name, name) == 0) {
            *v = cols[k].value;
            return true;
        }
    return false;
}

/* The value row i stores in column ix: scope, else its item's own, else
 * shared. */
static m2m_value item_value(const m2m__input *in, size_t i, size_t ix) {
    const m2m_relation *rel = in->rel;
    const m2m_item *it = in->items ? &in->items[i] : NULL;
    m2m_value v = M2M_NULL;
    if (rel->scope_mask & (1ULL << ix))
        return rel->scope_vals[ix];
    if (!it || !col_value(it->pivot, it->npivot, rel->cols[ix], &v))
        col_value(in->shared, in->nshared, rel->cols[ix], &v);
    return v;
}

static void json_key(m2m__buf *b, const char *k) {
    m2m__buf_add(b, "\"");
    m2m__buf_add(b, k);
    m2m__buf_add(b, "\":");
}

/* Append one row to its group: its id (flat), or a JSON object of its
 * columns. */
static int encode_row(const m2m__input *in, m2m__group *gr, size_t i, uint64_t keys,
                      m2m_value id, const m2m__buf *pj, const char *ptext) {
    const m2m_relation *rel = in->rel;
    if (gr->mask & M2M__FLAT) {
        /* Allocated once, for every row at most: no doubling. */
        if (!gr->ids && !(gr->ids = m2m__malloc(in->n * sizeof *gr->ids)))
            return M2M_NOMEM;
        gr->cap = in->n;
        gr->ids[gr->count++] = id;
        return M2M_OK;
    }
    m2m__buf *b = &gr->json;
    m2m__buf_add(b, gr->count++ ? ",{" : "[{");
    json_key(b, rel->fk);
    m2m__buf_addn(b, pj->p, pj->len);
    m2m__buf_add(b, ",");
    json_key(b, rel->rk);
    m2m__buf_json_value(b, id);
    if (rel->pivot_id) {
        char ibuf[40];
        m2m__buf_add(b, ",");
        json_key(b, rel->pivot_id);
        m2m__buf ids = {0};
        m2m__buf_addf(&ids, "%s_%s", ptext, m2m_value_text(id, ibuf, sizeof ibuf));
        m2m__buf_json_value(b, M2M_TEXT(ids.p ? ids.p : ""));
        if (ids.oom)
            b->oom = true;
        m2m__buf_free(&ids);
    }
    for (size_t ix = 0; ix < rel->ncols; ix++) {
        if (!(keys & (1ULL << ix)))
            continue;
        m2m__buf_add(b, ",");
        json_key(b, rel->cols[ix]);
        m2m__buf_json_value(b, item_value(in, i, ix));
    }
    m2m__buf_add(b, "}");
    return b->oom ? M2M_NOMEM : M2M_OK;
}

int m2m__input_encode(m2m__input *in, m2m_value parent, const m2m__valset *skip) {
    m2m_relation *rel = in->rel;
    m2m__input_clear_groups(in);
    /* Every row flat and given once: the group reads the caller's ids in
     * place. */
    bool flat = !in->masks && in->row_mask & M2M__FLAT;
    if (flat && !in->rep && in->n && (!skip || !skip->n)) {
        if (m2m__grow((void **)&in->groups, &in->capgroups, 1, sizeof *in->groups))
            goto oom0;
        in->groups[0] =
            (m2m__group){.mask = in->row_mask, .count = in->n, .arr = given(in, in->n)};
        in->ngroups = 1;
        return M2M_OK;
    }
    char pbuf[40];
    const char *ptext = NULL;
    m2m__buf pj = {0}; /* the parent as JSON, written once if needed */
    for (size_t i = 0; i < in->nitems; i++) {
        if (m2m__bit(in->rep, i))
            continue;
        m2m_value id = given_at(in, i);
        if (skip && m2m__valset_has(skip, id)) {
            in->nskipped++;
            continue;
        }
        uint64_t mask = in->masks ? in->masks[i] : in->row_mask;
        uint64_t keys = mask & ~M2M__FLAT; /* the columns it names */
        if (!(mask & M2M__FLAT))
            mask = in->json_mask; /* one group for all JSON rows */
        if (!(mask & M2M__FLAT) && !ptext) {
            ptext = m2m_value_text(parent, pbuf, sizeof pbuf);
            m2m__buf_json_value(&pj, parent);
            if (pj.oom)
                goto oom;
        }
        size_t g = 0;
        while (g < in->ngroups && in->groups[g].mask != mask)
            g++;
        if (g == in->ngroups) {
            if (m2m__grow((void **)&in->groups, &in->capgroups, g + 1,
                          sizeof *in->groups))
                goto oom;
            in->groups[g] = (m2m__group){.mask = mask};
            in->ngroups++;
        }
        if (encode_row(in, &in->groups[g], i, keys, id, &pj, ptext))
            goto oom;
    }
    for (size_t g = 0; g < in->ngroups; g++) {
        m2m__group *gr = &in->groups[g];
        gr->arr = (m2m__ids){gr->ids, gr->count, 1};
        if (gr->mask & M2M__FLAT)
            continue;
        m2m__buf_add(&gr->json, "]");
        if (gr->json.oom)
            goto oom;
    }
    m2m__buf_free(&pj);
    return M2M_OK;
oom:
    m2m__buf_free(&pj);
oom0:
    return m2m__set_error(rel->db, M2M_NOMEM, "%s: out of memory encoding ids",
                          rel->pivot_table);
}

m2m_value m2m__group_param(const m2m__group *g) {
    return g->mask & M2M__FLAT ? m2m__ids_param(&g->arr) : M2M_TEXT(g->json.p);
}

const m2m__ids *m2m__input_all_ids(m2m__input *in) {
    if (in->ngroups == 1 && !in->nskipped && in->groups[0].mask & M2M__FLAT)
        return &in->groups[0].arr;
    if (!in->rep) {
        in->allarr = given(in, in->n);
        return &in->allarr;
    }
    if (!in->allv && !(in->allv = m2m__calloc(in->n ? in->n : 1, sizeof *in->allv)))
        return NULL;
    for (size_t i = 0, u = 0; i < in->nitems; i++)
        if (!m2m__bit(in->rep, i))
            in->allv[u++] = given_at(in, i);
    in->allarr = (m2m__ids){in->allv, in->n, 1};
    return &in->allarr;
}

bool m2m__ids_bounds(const m2m__ids *a, int64_t *lo, int64_t *hi) {
    if (a->n == 0)
        return false;
    *lo = *hi = m2m__ids_at(a, 0).i;
    for (size_t i = 0; i < a->n; i++) {
        m2m_value v = m2m__ids_at(a, i);
        if (v.type != M2M_TINT)
            return false;
        *lo = v.i < *lo ? v.i : *lo;
        *hi = v.i > *hi ? v.i : *hi;
    }
    return true;
}

/* A scan of the span reads at most span + 1 of the parent's rows (its
 * pairs are unique), each one cheap test. SQLite's IN instead copies the
 * ids into a temporary b-tree, about 20 k instructions before the first
 * of its per-id seeks. Spans under SPAN_ROWS_MIN + SPAN_ROWS_PER_ID per id
 * keep the scan within that cost; sparser ids take IN. */
enum {
    /* Rows a scan may read per id. With the floor below, the scan took
     * toggles of 10 ids on 2,000 parents from 364.4 M to 275.7 M
     * instructions (callgrind, docs/BENCHMARKS.md); neither number was
     * tuned on its own (unmeasured). */
    SPAN_ROWS_PER_ID = 8,
    /* Rows a scan may read whatever the ids: few ids close together still
     * scan. Unmeasured apart from the rule above. */
    SPAN_ROWS_MIN = 64,
};

bool m2m__ids_narrow(const m2m__ids *a) {
    int64_t lo, hi;
    return m2m__ids_bounds(a, &lo, &hi) &&
           (uint64_t)hi - (uint64_t)lo <
               SPAN_ROWS_MIN + SPAN_ROWS_PER_ID * (uint64_t)a->n;
}

size_t m2m__cols_values(const m2m_relation *rel, const m2m_col *cols, size_t n,
                        uint64_t mask, m2m_value *out) {
    size_t nv = 0;
    for (size_t ix = 0; ix < rel->ncols; ix++) {
        if (!(mask & (1ULL << ix)) || rel->scope_mask & (1ULL << ix))
            continue;
        out[nv] = M2M_NULL;
        col_value(cols, n, rel->cols[ix], &out[nv++]);
    }
    return nv;
}

void m2m__input_clear_groups(m2m__input *in) {
    for (size_t g = 0; g < in->ngroups; g++) {
        m2m__buf_free(&in->groups[g].json);
        m2m__free(in->groups[g].ids);
    }
    in->ngroups = 0;
    in->nskipped = 0;
}

void m2m__input_free(m2m__input *in) {
    m2m__input_clear_groups(in);
    m2m__free(in->groups);
    m2m__free(in->rep);
    m2m__free(in->masks);
    m2m__free(in->allv);
    *in = (m2m__input){0};
}
