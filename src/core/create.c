/* SPDX-License-Identifier: MIT */
/* m2m_create: new related rows inserted by one INSERT ... RETURNING, whose
 * keys are then attached like m2m_attach's ids (write_plan.c plans both).
 * The rows' columns are checked against the related table's, read from the
 * catalog once per relation, so that a name or a type is refused alike on
 * every backend, before any row is written. */
#include "core/plan.h"
#include "core/write.h"

#include <stdio.h>
#include <string.h>

typedef struct rcols {
    m2m_relation *rel;
    bool oom;
} rcols;

static void on_rcol(void *arg, size_t t, const char *name, char kind) {
    rcols *r = arg;
    m2m_relation *rel = r->rel;
    (void)t;
    if (!name || r->oom)
        return;
    size_t cap = rel->nrcols; /* grown one at a time: read once per relation */
    char **names = m2m__realloc(rel->rcols, (cap + 1) * sizeof *names);
    if (names)
        rel->rcols = names;
    char *kinds = names ? m2m__realloc(rel->rkinds, cap + 1) : NULL;
    if (kinds)
        rel->rkinds = kinds;
    char *copy = kinds ? m2m__strdup(name) : NULL;
    if (!copy) {
        r->oom = true;
        return;
    }
    rel->rcols[cap] = copy;
    rel->rkinds[cap] = kind ? kind : '?';
    rel->nrcols++;
}

/* The related table's columns, asked once. */
static int related_columns(m2m_relation *rel) {
    m2m_db *db = rel->db;
    if (rel->rcols_known)
        return M2M_OK;
    if (!db->drv->dialect.columns) {
        rel->rcols_known = true; /* no catalog: the INSERT itself judges */
        return M2M_OK;
    }
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE, "a result cursor is still open");
    const char *tables[1] = {rel->related_table};
    rcols r = {rel, false};
    int rc = db->drv->dialect.columns(db, tables, 1, on_rcol, &r);
    if (rc == M2M__LATER)
        return m2m__set_error(db, M2M_MISUSE, "a result cursor is still open");
    if (rc == M2M_OK && r.oom)
        rc = m2m__set_error(db, M2M_NOMEM, "%s: out of memory", rel->related_table);
    if (rc) {
        for (size_t i = 0; i < rel->nrcols; i++)
            m2m__free(rel->rcols[i]);
        rel->nrcols = 0;
        return rc;
    }
    rel->rcols_known = true;
    return M2M_OK;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* The kind of column name ('i', 't', '?'), or 0 when the table has none. */
static char kind_of(const m2m_relation *rel, const char *name) {
    bool nocase = rel->db->drv->info->caps.names_nocase;
    if (!rel->db->drv->dialect.columns)
        return '?';
    for (size_t i = 0; i < rel->nrcols; i++) {
        const char *a = rel->rcols[i], *b = name;
        while (*a && *b && (nocase ? lower(*a) == lower(*b) : *a == *b))
            a++, b++;
        if (!*a && !*b)
            return rel->rkinds[i];
    }
    return 0;
}

static const char *kind_word(char k) { return k == 'i' ? "numeric" : "text"; }

/* Column c of row r: a valid name of the table, a value its kind takes. */
static int check_col(m2m_relation *rel, size_t r, const m2m_col *c) {
    m2m_db *db = rel->db;
    const char *t = rel->related_table;
    if (!c->name || !m2m__ident_ok(c->name, false))
        return m2m__set_error(db, M2M_INVALID,
                              "%s: row %zu: column '%.80s' is not a valid identifier", t,
                              r, c->name ? c->name : "(null)");
    char k = kind_of(rel, c->name);
    if (!k)
        return m2m__set_error(db, M2M_NOTFOUND, "%s: row %zu: '%s' is not a column of %s",
                              t, r, c->name, t);
    m2m_value v = c->value;
    if (v.type == M2M_TTEXT && !v.s)
        return m2m__set_error(db, M2M_INVALID, "%s: row %zu: column '%s' has a NULL text",
                              t, r, c->name);
    int rc = m2m__pivot_value_ok(db, t, c->name, v);
    if (rc)
        return rc;
    if (strcmp(c->name, rel->related_key) == 0 &&
        (rc = m2m__check_id(rel, "related", v, rel->related_type)))
        return rc;
    bool fits = v.type == M2M_TNULL || k == '?' ||
                (k == 'i' && (v.type == M2M_TINT || v.type == M2M_TREAL)) ||
                (k == 't' && v.type == M2M_TTEXT);
    if (!fits) {
        char buf[40];
        return m2m__set_error(db, M2M_TYPE,
                              "%s: row %zu: column '%s' holds %s values, not %.60s", t, r,
                              c->name, kind_word(k), m2m_value_text(v, buf, sizeof buf));
    }
    return M2M_OK;
}

/* Row r (its names checked) names the columns of row 0, each once. */
static int same_cols(m2m_relation *rel, size_t r, const m2m_new *row,
                     const m2m_new *first) {
    const char *t = rel->related_table;
    if (row->ncols == 0)
        return m2m__set_error(rel->db, M2M_INVALID,
                              "%s: row %zu names no column: every row names at least one",
                              t, r);
    for (size_t i = 0; i < row->ncols; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(row->cols[i].name, row->cols[j].name) == 0)
                return m2m__set_error(rel->db, M2M_INVALID,
                                      "%s: row %zu: column '%.80s' given twice", t, r,
                                      row->cols[i].name);
    for (size_t i = 0; i < first->ncols; i++) {
        size_t j = 0;
        while (j < row->ncols && strcmp(row->cols[j].name, first->cols[i].name) != 0)
            j++;
        if (j == row->ncols || row->ncols != first->ncols)
            return m2m__set_error(rel->db, M2M_INVALID,
                                  "%s: row %zu does not name the columns of row 0 (%s "
                                  "'%.80s'): every row names the same columns",
                                  t, r, j == row->ncols ? "missing" : "besides",
                                  first->cols[i].name);
    }
    return M2M_OK;
}

static void json_row(m2m__buf *b, const m2m_new *row, const m2m_new *first) {
    m2m__buf_add(b, "{");
    for (size_t i = 0; i < first->ncols; i++) {
        const char *name = first->cols[i].name;
        size_t j = 0;
        while (strcmp(row->cols[j].name, name) != 0)
            j++;
        m2m__buf_addf(b, "%s\"%s\":", i ? "," : "", name);
        m2m__buf_json_value(b, row->cols[j].value);
    }
    m2m__buf_add(b, "}");
}

/* INSERT INTO related (c...) SELECT i.c... FROM <rows $1> AS i RETURNING key */
static char *insert_sql(m2m_relation *rel, const m2m_new *first) {
    const m2m__dialect *d = &rel->db->drv->dialect;
    const char *cols[M2M__MAX_PIVOT];
    size_t n = first->ncols;
    m2m__buf b = {0}, t = {0};
    m2m__buf_ident(&t, rel->related_table);
    m2m__buf_add(&b, "INSERT INTO ");
    m2m__buf_add(&b, t.p ? t.p : "");
    m2m__buf_add(&b, " (");
    for (size_t i = 0; i < n; i++) {
        if (i)
            m2m__buf_add(&b, ", ");
        m2m__buf_ident(&b, first->cols[i].name);
        cols[i] = first->cols[i].name;
    }
    m2m__buf_add(&b, ") SELECT ");
    for (size_t i = 0; i < n; i++) {
        m2m__buf_add(&b, i ? ", i." : "i.");
        m2m__buf_ident(&b, first->cols[i].name);
    }
    m2m__buf_add(&b, " FROM ");
    d->input_rows(&b, t.p ? t.p : "", 1, cols, n);
    m2m__buf_add(&b, " AS i");
    d->returning(&b, rel->related_key);
    if (t.oom)
        b.oom = true;
    m2m__buf_free(&t);
    return m2m__buf_take(&b);
}

int m2m__create_prepare(m2m_relation *rel, m2m__call *k) {
    m2m_db *db = rel->db;
    m2m__create *cr = k->create;
    const char *t = rel->related_table;
    if (cr->n && !cr->rows)
        return m2m__set_error(db, M2M_MISUSE, "%s: rows is NULL", t);
    if (cr->n == 0)
        return M2M_OK;
    int rc = related_columns(rel);
    if (rc)
        return rc;
    const m2m_new *first = &cr->rows[0];
    if (first->ncols > M2M__MAX_PIVOT)
        return m2m__set_error(db, M2M_INVALID, "%s: more than %d columns in a row", t,
                              M2M__MAX_PIVOT);
    uint64_t mask;
    if (k->opts && (rc = m2m__cols_mask(rel, k->opts->pivot, k->opts->npivot, &mask)))
        return rc;
    m2m__buf json = {0};
    m2m__buf_add(&json, "[");
    for (size_t r = 0; r < cr->n && rc == M2M_OK; r++) {
        const m2m_new *row = &cr->rows[r];
        if (row->ncols && !row->cols) {
            rc = m2m__set_error(db, M2M_MISUSE, "%s: row %zu: cols is NULL", t, r);
            break;
        }
        for (size_t i = 0; i < row->ncols && rc == M2M_OK; i++)
            rc = check_col(rel, r, &row->cols[i]);
        if (rc || (rc = same_cols(rel, r, row, first)) ||
            (rc = m2m__cols_mask(rel, row->pivot, row->npivot, &mask)))
            break;
        if (r)
            m2m__buf_add(&json, ",");
        json_row(&json, row, first);
    }
    m2m__buf_add(&json, "]");
    if (rc) {
        m2m__buf_free(&json);
        return rc;
    }
    cr->json = m2m__buf_take(&json);
    cr->sql = cr->json ? insert_sql(rel, first) : NULL;
    cr->items = m2m__calloc(cr->n, sizeof *cr->items);
    if (!cr->sql || !cr->items)
        return m2m__set_error(db, M2M_NOMEM, "%s: out of memory", t);
    cr->param = M2M_TEXT(cr->json);
    return M2M_OK;
}

int m2m__create_queue(m2m__op *op, m2m_relation *rel, m2m__create *cr, m2m__collect *to,
                      const char *why) {
    m2m__stmt *st;
    size_t entry;
    int rc = m2m__rel_stmt_sql(rel, cr->sql, &st, &entry);
    if (rc)
        return rc;
    m2m__step *s = m2m__op_add(op, st, &cr->param, 1, m2m__collect_row, to);
    if (!s)
        return m2m__set_error(rel->db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
    s->why = why;
    s->plan_flags = M2M_PLAN_READ;
    return M2M_OK;
}

int m2m__create_input(m2m_relation *rel, const m2m__call *k, const m2m_changes *ch,
                      m2m__input *in) {
    m2m__create *cr = k->create;
    m2m_db *db = rel->db;
    bool dry = db->explain != NULL;
    m2m__input_free(in);
    if (!dry && ch->nattached != cr->n)
        return m2m__set_error(
            db, M2M_ERROR,
            "%s: the INSERT returned %zu keys for %zu rows; nothing was "
            "changed",
            rel->related_table, ch->nattached, cr->n);
    if (dry && rel->related_type == M2M_TTEXT && !cr->fake &&
        !(cr->fake = m2m__malloc(cr->n * 24)))
        return m2m__set_error(db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
    for (size_t i = 0; i < cr->n; i++) {
        m2m_value id = M2M_INT((int64_t)i);
        /* SQLite lets a key other than INTEGER PRIMARY KEY be NULL. */
        if (!dry && ch->attached[i].type == M2M_TNULL)
            return m2m__set_error(
                db, M2M_INVALID,
                "%s: row %zu got no key (%s is NULL): give it, or let "
                "the database generate it (INTEGER PRIMARY KEY, serial, "
                "identity); nothing was changed",
                rel->related_table, i, rel->related_key);
        if (dry && cr->fake) {
            snprintf(cr->fake + i * 24, 24, "%zu", i);
            id = M2M_TEXT(cr->fake + i * 24);
        }
        cr->items[i] = (m2m_item){.id = dry ? id : ch->attached[i],
                                  .pivot = cr->rows[i].pivot,
                                  .npivot = cr->rows[i].npivot};
    }
    int rc = m2m__input_items(rel, cr->items, cr->n, k->opts, in);
    return rc ? rc : m2m__input_encode(in, k->parent, NULL);
}

void m2m__create_free(m2m__create *cr) {
    m2m__free(cr->sql);
    m2m__free(cr->json);
    m2m__free(cr->items);
    m2m__free(cr->fake);
}

int m2m_create(m2m_relation *rel, m2m_value parent, const m2m_new *rows, size_t n,
               const m2m_opts *opts, m2m_changes **out) {
    m2m__create cr = {.rows = rows, .n = n};
    m2m__call k = {
        .op = M2M_OP_CREATE, .parent = parent, .n = n, .opts = opts, .create = &cr};
    int rc = m2m__write_call(rel, &k, out);
    m2m__create_free(&cr);
    return rc;
}
