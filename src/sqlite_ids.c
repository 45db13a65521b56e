/* m2m_ids(?): a table-valued function over an id array bound as a pointer
 * (sqlite3_bind_pointer), so that ids reach SQLite without being printed
 * to JSON and parsed back. A scan yields the ids in call order (inserts
 * report in that order); an equality lookup on value binary-searches a
 * sorted view, so "EXISTS (... WHERE value = t.key)" costs O(log n) per row
 * and needs no temporary b-tree, which IN (subquery) would build. */
#include "sqlite_ids.h"

#include <stdlib.h>
#include <string.h>

enum { COL_VALUE, COL_ARR };
enum { LOOKUP = 1 };

typedef struct ids_cursor {
    sqlite3_vtab_cursor base;
    m2m__sq_ids *a;
    const m2m_value *const *ord; /* lookup: the matching run of the view */
    size_t i, end;
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
    int arr = -1, eq = -1;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (!c->usable || c->op != SQLITE_INDEX_CONSTRAINT_EQ)
            continue;
        if (c->iColumn == COL_ARR)
            arr = i;
        else if (c->iColumn == COL_VALUE)
            eq = i;
    }
    if (arr < 0)
        return SQLITE_CONSTRAINT; /* the array argument is required */
    info->aConstraintUsage[arr].argvIndex = 1;
    info->aConstraintUsage[arr].omit = 1;
    if (eq >= 0) {
        info->aConstraintUsage[eq].argvIndex = 2;
        info->aConstraintUsage[eq].omit = 1;
        info->idxNum = LOOKUP;
        info->estimatedCost = 10;
        info->estimatedRows = 1;
    } else {
        info->estimatedCost = 1000;
        info->estimatedRows = 1000;
    }
    return SQLITE_OK;
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

static int cmp_ptr(const void *x, const void *y) {
    return m2m__value_cmp(**(const m2m_value *const *)x, **(const m2m_value *const *)y);
}

/* The sorted view, built on the first lookup of each binding. */
static int sorted(m2m__sq_ids *a) {
    if (a->sorted || a->n == 0) /* qsort takes no NULL array */
        return SQLITE_OK;
    if (a->n > a->cap) {
        const m2m_value **o = m2m__realloc(a->ord, a->n * sizeof *o);
        if (!o)
            return SQLITE_NOMEM;
        a->ord = o;
        a->cap = a->n;
    }
    for (size_t i = 0; i < a->n; i++)
        a->ord[i] = &a->v[i];
    qsort(a->ord, a->n, sizeof *a->ord, cmp_ptr);
    a->sorted = true;
    return SQLITE_OK;
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

static int ids_filter(sqlite3_vtab_cursor *cur, int idx, const char *s, int argc,
                      sqlite3_value **argv) {
    (void)s, (void)argc;
    ids_cursor *c = (ids_cursor *)cur;
    c->a = sqlite3_value_pointer(argv[0], M2M__SQ_IDS_TYPE);
    c->ord = NULL;
    c->i = c->end = 0;
    if (!c->a)
        return SQLITE_OK;
    if (!(idx & LOOKUP)) {
        c->end = c->a->n;
        return SQLITE_OK;
    }
    m2m_value key;
    if (!key_of(argv[1], &key))
        return SQLITE_OK;
    int rc = sorted(c->a);
    if (rc != SQLITE_OK)
        return rc;
    size_t lo = 0, hi = c->a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m2m__value_cmp(*c->a->ord[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < c->a->n && m2m__value_cmp(*c->a->ord[end], key) == 0)
        end++;
    c->ord = (const m2m_value *const *)c->a->ord;
    c->i = lo;
    c->end = end;
    return SQLITE_OK;
}

static int ids_next(sqlite3_vtab_cursor *cur) {
    ((ids_cursor *)cur)->i++;
    return SQLITE_OK;
}

static int ids_eof(sqlite3_vtab_cursor *cur) {
    ids_cursor *c = (ids_cursor *)cur;
    return c->i >= c->end;
}

static int ids_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
    ids_cursor *c = (ids_cursor *)cur;
    if (col != COL_VALUE) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    const m2m_value *v = c->ord ? c->ord[c->i] : &c->a->v[c->i];
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

int m2m__sq_ids_register(sqlite3 *h) {
    return sqlite3_create_module_v2(h, "m2m_ids", &ids_module, NULL, NULL);
}

void m2m__sq_ids_bind(m2m__sq_ids *a, const m2m__ids *ids) {
    a->v = ids->v;
    a->n = ids->n;
    a->sorted = false;
}

void m2m__sq_ids_free(m2m__sq_ids *a) {
    m2m__free(a->ord);
    *a = (m2m__sq_ids){0};
}
