/* SPDX-License-Identifier: MIT */
/* The id arrays of the SQLite backend, bound as pointers
 * (sqlite3_bind_pointer) so that ids reach SQLite without being printed
 * to JSON and parsed back:
 *
 * - "m2m-ids"(?), a table-valued function, yields them in call order
 *   (inserts report in that order);
 * - m2m_has(?, key) tests membership per row, where IN (subquery) would
 *   first copy the ids into a temporary b-tree;
 * - m2m_lo(?) and m2m_hi(?) bound integer ids, so that a range scan of the
 *   pivot's index reads only the parent's rows in their span. */
#include "drivers/sqlite/ids.h"

#include <stdlib.h>
#include <string.h>

enum { COL_VALUE, COL_ARR };
enum { VIEW_BITS = 1, VIEW_SORTED };

typedef struct ids_cursor {
    sqlite3_vtab_cursor base;
    const m2m__sq_ids *a;
    size_t i;
} ids_cursor;

static int ids_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **out, char **err) {
    (void)aux, (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(value, arr HIDDEN)");
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_vtab *t = sqlite3_malloc(sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = t;
    return SQLITE_OK;
}

static int ids_disconnect(sqlite3_vtab *t) {
    sqlite3_free(t);
    return SQLITE_OK;
}

static int ids_best_index(sqlite3_vtab *t, sqlite3_index_info *info) {
    (void)t;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->usable && c->op == SQLITE_INDEX_CONSTRAINT_EQ && c->iColumn == COL_ARR) {
            info->aConstraintUsage[i].argvIndex = 1;
            info->aConstraintUsage[i].omit = 1;
            info->estimatedCost = 1000;
            info->estimatedRows = 1000;
            return SQLITE_OK;
        }
    }
    return SQLITE_CONSTRAINT; /* the array argument is required */
}

static int ids_open(sqlite3_vtab *t, sqlite3_vtab_cursor **out) {
    (void)t;
    ids_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static int ids_close(sqlite3_vtab_cursor *cur) {
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int ids_filter(sqlite3_vtab_cursor *cur, int idx, const char *s, int argc,
                      sqlite3_value **argv) {
    (void)idx, (void)s, (void)argc;
    ids_cursor *c = (ids_cursor *)cur;
    c->a = sqlite3_value_pointer(argv[0], M2M__SQ_IDS_TYPE);
    c->i = 0;
    return SQLITE_OK;
}

static int ids_next(sqlite3_vtab_cursor *cur) {
    ((ids_cursor *)cur)->i++;
    return SQLITE_OK;
}

static int ids_eof(sqlite3_vtab_cursor *cur) {
    ids_cursor *c = (ids_cursor *)cur;
    return !c->a || c->i >= c->a->n;
}

static int ids_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    ids_cursor *c = (ids_cursor *)cur;
    if (col != COL_VALUE) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    const m2m_value *v = &c->a->v[c->i * c->a->stride];
    switch (v->type) {
        case M2M_TINT:
            sqlite3_result_int64(ctx, v->i);
            break;
        case M2M_TREAL:
            sqlite3_result_double(ctx, v->d);
            break;
        case M2M_TTEXT:
            /* The ids outlive the statement's run: no copy. */
            sqlite3_result_text(ctx, v->s, -1, SQLITE_STATIC);
            break;
        default:
            sqlite3_result_null(ctx);
    }
    return SQLITE_OK;
}

static int ids_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
    *rowid = (sqlite3_int64)((ids_cursor *)cur)->i;
    return SQLITE_OK;
}

static const sqlite3_module ids_module = {
    .iVersion = 0,
    .xConnect = ids_connect,
    .xBestIndex = ids_best_index,
    .xDisconnect = ids_disconnect,
    .xOpen = ids_open,
    .xClose = ids_close,
    .xFilter = ids_filter,
    .xNext = ids_next,
    .xEof = ids_eof,
    .xColumn = ids_column,
    .xRowid = ids_rowid,
};

static int cmp_ptr(const void *x, const void *y) {
    return m2m__value_cmp(**(const m2m_value *const *)x, **(const m2m_value *const *)y);
}

/* A bitmap of span + 1 bits is used while it is at most 8 bytes per id
 * (the sorted view's pointer) plus 64 bytes: a bound on memory, which
 * every span the range scan takes (m2m__ids_narrow) stays far within. Its
 * speed against the sorted view was not measured. */
enum { BITMAP_BITS_PER_ID = 64, BITMAP_BITS_MIN = 512 };

static bool bitmap_fits(const m2m__sq_ids *a) {
    return (uint64_t)a->hi - (uint64_t)a->lo <
           BITMAP_BITS_PER_ID * (uint64_t)a->n + BITMAP_BITS_MIN;
}

static int view_bits(m2m__sq_ids *a) {
    size_t nb = (size_t)(((uint64_t)a->hi - (uint64_t)a->lo) / 8 + 1);
    if (nb > a->bcap) {
        unsigned char *b = m2m__realloc(a->bits, nb);
        if (!b)
            return SQLITE_NOMEM;
        a->bits = b;
        a->bcap = nb;
    }
    memset(a->bits, 0, nb);
    for (size_t i = 0; i < a->n; i++) {
        uint64_t off = (uint64_t)a->v[i * a->stride].i - (uint64_t)a->lo;
        a->bits[off >> 3] |= (unsigned char)(1u << (off & 7));
    }
    a->view = VIEW_BITS;
    return SQLITE_OK;
}

static int view_sorted(m2m__sq_ids *a) {
    if (a->n > a->cap) {
        const m2m_value **o = m2m__realloc(a->ord, a->n * sizeof *o);
        if (!o)
            return SQLITE_NOMEM;
        a->ord = o;
        a->cap = a->n;
    }
    for (size_t i = 0; i < a->n; i++)
        a->ord[i] = &a->v[i * a->stride];
    if (a->n) /* no NULL array */
        m2m__sort(a->ord, a->n, sizeof *a->ord, cmp_ptr);
    a->view = VIEW_SORTED;
    return SQLITE_OK;
}

/* The bounds, and the lookup view, on the first call after a binding. */
static int view(m2m__sq_ids *a) {
    if (a->view)
        return SQLITE_OK;
    a->ints = m2m__ids_bounds(&(m2m__ids){a->v, a->n, a->stride}, &a->lo, &a->hi);
    return a->ints && bitmap_fits(a) ? view_bits(a) : view_sorted(a);
}

/* The key SQLite looks up, as a value ids compare with; false for NULL
 * and blobs, which equal no id. */
static bool key_of(sqlite3_value *v, m2m_value *out) {
    switch (sqlite3_value_type(v)) {
        case SQLITE_INTEGER:
            *out = M2M_INT(sqlite3_value_int64(v));
            return true;
        case SQLITE_FLOAT:
            *out = M2M_REAL(sqlite3_value_double(v));
            return true;
        case SQLITE_TEXT:
            *out = M2M_TEXT((const char *)sqlite3_value_text(v));
            return out->s != NULL;
    }
    return false;
}

static bool in_bits(const m2m__sq_ids *a, m2m_value key) {
    int64_t k;
    if (key.type == M2M_TINT)
        k = key.i;
    else if (key.type == M2M_TREAL && key.d >= -9.2e18 && key.d <= 9.2e18 &&
             key.d == (double)(int64_t)key.d)
        k = (int64_t)key.d; /* 5.0 equals the id 5 */
    else
        return false;
    uint64_t off = (uint64_t)k - (uint64_t)a->lo;
    return off <= (uint64_t)a->hi - (uint64_t)a->lo &&
           (a->bits[off >> 3] >> (off & 7) & 1);
}

static bool in_sorted(const m2m__sq_ids *a, m2m_value key) {
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = m2m__value_cmp(*a->ord[mid], key);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static m2m__sq_ids *arg_ids(sqlite3_context *ctx, sqlite3_value *v) {
    m2m__sq_ids *a = sqlite3_value_pointer(v, M2M__SQ_IDS_TYPE);
    if (!a) {
        sqlite3_result_error(ctx, "m2m: no id array bound", -1);
    } else if (view(a) != SQLITE_OK) {
        sqlite3_result_error_nomem(ctx);
        a = NULL;
    }
    return a;
}

/* m2m_has(ids, key): 1 when key equals one of the ids (numbers by value,
 * as the = of SQL compares them), else 0, also for NULL. */
static void has_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    m2m__sq_ids *a = arg_ids(ctx, argv[0]);
    m2m_value key;
    if (!a)
        return;
    bool yes = key_of(argv[1], &key) &&
               (a->view == VIEW_BITS ? in_bits(a, key) : in_sorted(a, key));
    sqlite3_result_int(ctx, yes);
}

/* m2m_lo(ids) and m2m_hi(ids): the least and greatest of integer ids; NULL
 * for none, an error for ids of other types, which have no such span. */
static void bound_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    m2m__sq_ids *a = arg_ids(ctx, argv[0]);
    if (!a)
        return;
    if (a->n == 0)
        sqlite3_result_null(ctx);
    else if (!a->ints)
        sqlite3_result_error(ctx, "m2m: the ids of a span are not all integers", -1);
    else
        sqlite3_result_int64(ctx, sqlite3_user_data(ctx) ? a->hi : a->lo);
}

int m2m__sq_ids_register(sqlite3 *h) {
    /* Deterministic: SQLite computes the bounds once per run, not per row. */
    int f = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc =
        sqlite3_create_function_v2(h, "m2m_has", 2, f, NULL, has_fn, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(h, "m2m_lo", 1, f, NULL, bound_fn, NULL, NULL,
                                        NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(h, "m2m_hi", 1, f, (void *)h, bound_fn, NULL,
                                        NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_module_v2(h, M2M__SQ_IDS_MODULE, &ids_module, NULL, NULL);
    return rc;
}

void m2m__sq_ids_bind(m2m__sq_ids *a, const m2m__ids *ids) {
    a->v = ids->v;
    a->n = ids->n;
    a->stride = ids->stride ? ids->stride : 1;
    a->view = 0;
}

void m2m__sq_ids_free(m2m__sq_ids *a) {
    m2m__free(a->ord);
    m2m__free(a->bits);
    *a = (m2m__sq_ids){0};
}
