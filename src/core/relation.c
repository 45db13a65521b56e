/* SPDX-License-Identifier: MIT */
/* Relation definitions: validation, copies, the inverse, pivot DDL and the
 * per-relation cache of prepared statements. */
#include "core/input.h"
#include "core/txn.h"

#include <stdio.h>
#include <string.h>

static void rel_free_strings(m2m_relation *r) {
    char **s[] = {&r->parent_table, &r->parent_key,   &r->related_table,
                  &r->related_key,  &r->pivot_table,  &r->fk,
                  &r->rk,           &r->created_at,   &r->updated_at,
                  &r->pivot_id,     &r->owner_column, &r->touch_col,
                  &r->inv_touch_col};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        m2m__free(*s[i]);
    for (size_t i = 0; i < r->ncols; i++) {
        m2m__free(r->cols[i]);
        m2m__value_clear(&r->scope_vals[i]);
    }
    m2m__conds_free(r);
}

static void rel_free(m2m_relation *rel) {
    m2m_db *db = rel->db;
    for (size_t i = 0; i < rel->ncache; i++) {
        rel->db->drv->stmt.finalize(rel->db, rel->cache[i].stmt);
        m2m__free(rel->cache[i].sql);
        m2m__free(rel->cache[i].shape);
    }
    m2m__free(rel->cache);
    for (size_t i = 0; i < rel->nrcols; i++)
        m2m__free(rel->rcols[i]);
    m2m__free(rel->rcols);
    m2m__free(rel->rkinds);
    rel_free_strings(rel);
    m2m__free(rel);
    m2m__db_unref(db);
}

void m2m_relation_close(m2m_relation *rel) {
    if (!rel)
        return;
    if (rel->nopen) {
        rel->closing = true; /* the last query or cursor freed frees rel */
        return;
    }
    rel_free(rel);
}

void m2m__rel_ref(m2m_relation *rel) { rel->nopen++; }

void m2m__rel_unref(m2m_relation *rel) {
    if (--rel->nopen == 0 && rel->closing)
        rel_free(rel);
}

m2m_db *m2m_relation_db(const m2m_relation *rel) { return rel ? rel->db : NULL; }

int m2m__rel_col(const m2m_relation *rel, const char *name) {
    for (size_t i = 0; i < rel->ncols; i++)
        if (strcmp(rel->cols[i], name) == 0)
            return (int)i;
    return -1;
}

/* Check one identifier field and copy it (or its default) into *dst. */
static int ident_field(m2m_db *db, const char *what, const char *v, const char *dflt,
                       bool schema, char **dst) {
    if (!v)
        v = dflt;
    if (!v)
        return m2m__set_error(db, M2M_INVALID, "relation: %s is required", what);
    if (!m2m__ident_ok(v, schema))
        return m2m__set_error(db, M2M_INVALID,
                              "relation: %s '%.80s' is not a valid identifier "
                              "([A-Za-z_][A-Za-z0-9_]*, at most 63 characters%s)",
                              what, v, schema ? ", optionally schema-qualified" : "");
    *dst = m2m__strdup(v);
    return *dst ? M2M_OK : m2m__set_error(db, M2M_NOMEM, "relation: out of memory");
}

/* A pivot column of the definition, once (scope columns may repeat a
 * declared pivot column: listed says whether name is a pivot_columns
 * entry, which may not repeat). */
static int add_col(m2m_relation *r, const char *name, bool listed, bool *added) {
    *added = false;
    if (m2m__rel_col(r, name) >= 0) {
        if (listed)
            return m2m__set_error(r->db, M2M_INVALID,
                                  "relation: pivot column '%s' is listed twice in "
                                  "pivot_columns",
                                  name);
        return M2M_OK;
    }
    if (r->ncols == M2M__MAX_PIVOT)
        return m2m__set_error(r->db, M2M_INVALID, "relation: more than %d pivot columns",
                              M2M__MAX_PIVOT);
    if (!(r->cols[r->ncols] = m2m__strdup(name)))
        return m2m__set_error(r->db, M2M_NOMEM, "relation: out of memory");
    r->ncols++;
    *added = true;
    return M2M_OK;
}

static bool key_type_ok(m2m_type t) { return t == M2M_TINT || t == M2M_TTEXT; }

/* Name clashes between the fixed pivot columns make SQL ambiguous. */
static int check_reserved(m2m_relation *r, const char *name) {
    const char *fixed[] = {r->fk, r->rk, r->pivot_id, r->created_at, r->updated_at};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i] && strcmp(fixed[i], name) == 0)
            return m2m__set_error(
                r->db, M2M_INVALID,
                "relation: pivot column '%s' is managed by m2m (key, id or "
                "timestamp) and cannot be an extra or scope column",
                name);
    return M2M_OK;
}

/* The columns m2m manages (the keys, the own id, the timestamps) are
 * distinct: one column cannot hold two of them. */
static int check_managed(m2m_relation *r) {
    const char *what[] = {"foreign_pivot_key", "related_pivot_key", "pivot_id",
                          "created_at", "updated_at"};
    const char *name[] = {r->fk, r->rk, r->pivot_id, r->created_at, r->updated_at};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < i; j++)
            if (name[i] && name[j] && strcmp(name[i], name[j]) == 0)
                return m2m__set_error(r->db, M2M_INVALID,
                                      "relation: %s and %s are both '%s'", what[j],
                                      what[i], name[i]);
    return M2M_OK;
}

/* The key of the pivot's advisory locks: the 31-bit FNV-1a of its name.
 * Connections of every running version serialize on it: never change it. */
static int32_t lock_key(const char *pivot) {
    uint64_t h = m2m__fnv1a(M2M__FNV32_BASIS, M2M__FNV32_PRIME, pivot, strlen(pivot));
    return (int32_t)(h & 0x7fffffff);
}

static int rel_open(m2m_db *db, const m2m_relation_def *def, bool check,
                    m2m_relation **out);

/* The definition is checked against the database, except that the pivot
 * table may not exist yet (m2m_relation_create_pivot makes it): then it is
 * checked at first use. */
int m2m_relation_open(m2m_db *db, const m2m_relation_def *def, m2m_relation **out) {
    return rel_open(db, def, true, out);
}

static int rel_open(m2m_db *db, const m2m_relation_def *def, bool check,
                    m2m_relation **out) {
    if (out)
        *out = NULL;
    int rc = m2m__db_call(db);
    if (rc)
        return rc;
    if (!def || !out)
        return m2m__set_error(db, M2M_MISUSE, "relation: NULL definition or out pointer");
    if (def->version != 0)
        return m2m__set_error(db, M2M_INVALID, "relation: unknown definition version %d",
                              def->version);
    m2m_relation *r = m2m__calloc(1, sizeof *r);
    if (!r)
        return m2m__set_error(db, M2M_NOMEM, "relation: out of memory");
    r->db = db;
    m2m__db_ref(db);
    if ((rc = ident_field(db, "parent_table", def->parent_table, NULL, true,
                          &r->parent_table)) ||
        (rc = ident_field(db, "parent_key", def->parent_key, "id", false,
                          &r->parent_key)) ||
        (rc = ident_field(db, "related_table", def->related_table, NULL, true,
                          &r->related_table)) ||
        (rc = ident_field(db, "related_key", def->related_key, "id", false,
                          &r->related_key)) ||
        (rc = ident_field(db, "pivot_table", def->pivot_table, NULL, true,
                          &r->pivot_table)) ||
        (rc = ident_field(db, "foreign_pivot_key", def->foreign_pivot_key, NULL, false,
                          &r->fk)) ||
        (rc = ident_field(db, "related_pivot_key", def->related_pivot_key, NULL, false,
                          &r->rk)))
        goto fail;
    r->parent_type = def->parent_key_type ? def->parent_key_type : M2M_TINT;
    r->related_type = def->related_key_type ? def->related_key_type : M2M_TINT;
    if (!key_type_ok(r->parent_type) || !key_type_ok(r->related_type)) {
        rc = m2m__set_error(db, M2M_INVALID, "relation: %s must be M2M_TINT or M2M_TTEXT",
                            key_type_ok(r->parent_type) ? "related_key_type"
                                                        : "parent_key_type");
        goto fail;
    }
    /* M2M_TIMESTAMPS alone keeps both columns, as before the choice. */
    int ts = def->timestamps == M2M_TIMESTAMPS ? M2M_CREATED_AT | M2M_UPDATED_AT
                                               : def->timestamps & ~M2M_TIMESTAMPS;
    if (def->timestamps & ~(M2M_TIMESTAMPS | M2M_CREATED_AT | M2M_UPDATED_AT)) {
        rc = m2m__set_error(
            db, M2M_INVALID,
            "relation: timestamps %d is not M2M_TIMESTAMPS, M2M_CREATED_AT "
            "or M2M_UPDATED_AT",
            def->timestamps);
        goto fail;
    }
    if (((ts & M2M_CREATED_AT) &&
         (rc = ident_field(db, "created_at", def->created_at, "created_at", false,
                           &r->created_at))) ||
        ((ts & M2M_UPDATED_AT) &&
         (rc = ident_field(db, "updated_at", def->updated_at, "updated_at", false,
                           &r->updated_at))))
        goto fail;
    if (def->pivot_id &&
        (rc = ident_field(db, "pivot_id", def->pivot_id, NULL, false, &r->pivot_id)))
        goto fail;
    if (def->owner_column && (rc = ident_field(db, "owner_column", def->owner_column,
                                               NULL, false, &r->owner_column)))
        goto fail;
    if ((rc = check_managed(r)))
        goto fail;
    if (def->touch &&
        ((rc = ident_field(db, "parent_updated_at", def->parent_updated_at, "updated_at",
                           false, &r->touch_col)) ||
         (rc = ident_field(db, "related_updated_at", def->related_updated_at,
                           "updated_at", false, &r->inv_touch_col))))
        goto fail;
    r->owner_read_all = def->owner_read_all != 0;
    if (def->strategy != M2M_JOIN && def->strategy != M2M_TWO_QUERY) {
        rc = m2m__set_error(db, M2M_INVALID, "relation: unknown strategy %d",
                            def->strategy);
        goto fail;
    }
    r->strategy = def->strategy;
    for (const char *const *c = def->pivot_columns; c && *c; c++) {
        bool added;
        if (!m2m__ident_ok(*c, false)) {
            rc = m2m__set_error(
                db, M2M_INVALID,
                "relation: pivot_columns entry '%.80s' is not a valid identifier", *c);
            goto fail;
        }
        if ((rc = check_reserved(r, *c)) || (rc = add_col(r, *c, true, &added)))
            goto fail;
    }
    r->nextra = r->ncols;
    if (def->nscope && !def->scope) {
        rc = m2m__set_error(db, M2M_MISUSE, "relation: nscope > 0 but scope is NULL");
        goto fail;
    }
    for (size_t i = 0; i < def->nscope; i++) {
        const m2m_col *sc = &def->scope[i];
        bool added;
        if (!sc->name || !m2m__ident_ok(sc->name, false)) {
            rc = m2m__set_error(
                db, M2M_INVALID,
                "relation: scope column (scope entry) '%.80s' is not a valid identifier",
                sc->name ? sc->name : "(null)");
            goto fail;
        }
        if (sc->value.type == M2M_TNULL ||
            (sc->value.type == M2M_TTEXT && !sc->value.s)) {
            rc = m2m__set_error(db, M2M_INVALID,
                                "relation: scope column '%s' needs a value", sc->name);
            goto fail;
        }
        if ((rc = m2m__pivot_value_ok(db, "relation: scope", sc->name, sc->value)) ||
            (rc = check_reserved(r, sc->name)) ||
            (rc = add_col(r, sc->name, false, &added)))
            goto fail;
        int ix = m2m__rel_col(r, sc->name);
        if (r->scope_mask & (1ULL << ix)) {
            rc = m2m__set_error(db, M2M_INVALID,
                                "relation: scope column '%s' given twice", sc->name);
            goto fail;
        }
        if (m2m__value_copy(&r->scope_vals[ix], sc->value)) {
            rc = m2m__set_error(db, M2M_NOMEM, "relation: out of memory");
            goto fail;
        }
        r->scope_mask |= 1ULL << ix;
    }
    if ((rc = m2m__conds_set(r, def->where, def->nwhere)))
        goto fail;
    r->lock_key = lock_key(r->pivot_table);
    if (check && (rc = m2m__rel_check(r, false, NULL)))
        goto fail;
    /* No JWT session can start without row-level security: say so now, not
     * at every write (after the checks against the catalog, so a missing
     * column is M2M_NOTFOUND on every backend). */
    if (r->owner_column && !db->drv->info->caps.rls) {
        bool built;
        const m2m__backend *with = m2m__rls_backend(&built);
        rc = m2m__set_error(db, M2M_NOTSUP,
                            "relation: owner_column '%s' needs %s (JWT-bound "
                            "relations rely on its row-level security)",
                            r->owner_column, with ? with->label : "row-level security");
        goto fail;
    }
    *out = r;
    return M2M_OK;
fail:
    m2m_relation_close(r);
    return rc;
}

int m2m_relation_inverse(const m2m_relation *rel, m2m_relation **out) {
    if (out)
        *out = NULL;
    if (!rel || !out)
        return rel ? m2m__set_error(rel->db, M2M_MISUSE,
                                    "m2m_relation_inverse: out is NULL")
                   : M2M_MISUSE;
    m2m_db *db = rel->db;
    const char *cols[M2M__MAX_PIVOT + 1] = {0};
    for (size_t i = 0; i < rel->nextra; i++)
        cols[i] = rel->cols[i];
    m2m_col scope[M2M__MAX_PIVOT];
    size_t nscope = 0;
    for (size_t i = 0; i < rel->ncols; i++)
        if (rel->scope_mask & (1ULL << i))
            scope[nscope++] = (m2m_col){rel->cols[i], rel->scope_vals[i]};
    m2m_cond where[M2M__MAX_CONDS];
    m2m__conds_def(rel, where);
    m2m_relation_def def = {
        .parent_table = rel->related_table,
        .parent_key = rel->related_key,
        .related_table = rel->parent_table,
        .related_key = rel->parent_key,
        .pivot_table = rel->pivot_table,
        .foreign_pivot_key = rel->rk,
        .related_pivot_key = rel->fk,
        .parent_key_type = rel->related_type,
        .related_key_type = rel->parent_type,
        .pivot_columns = cols,
        .timestamps = (rel->created_at ? M2M_CREATED_AT : 0) |
                      (rel->updated_at ? M2M_UPDATED_AT : 0),
        .created_at = rel->created_at,
        .updated_at = rel->updated_at,
        .pivot_id = rel->pivot_id,
        .scope = scope,
        .nscope = nscope,
        .owner_column = rel->owner_column,
        .owner_read_all = rel->owner_read_all,
        .strategy = rel->strategy,
        .where = where,
        .nwhere = rel->nconds,
        .touch = rel->touch_col != NULL,
        .parent_updated_at = rel->inv_touch_col,
        .related_updated_at = rel->touch_col,
    };
    /* The same tables and columns: verified if rel was, but for the column
     * the inverse touches (checked at its first write). */
    int rc = rel_open(db, &def, false, out);
    if (rc == M2M_OK) {
        (*out)->checked = rel->checked && !rel->touch_col;
        if (rel->lock_side) /* the inverse locks the other way */
            (*out)->lock_side = M2M__LOCK_PARENT + M2M__LOCK_PIVOT - rel->lock_side;
    }
    return rc;
}

int m2m_relation_on_change(m2m_relation *rel, m2m_before_fn before, m2m_after_fn after,
                           void *arg) {
    if (!rel)
        return M2M_MISUSE;
    rel->before = before;
    rel->after = after;
    rel->cb_arg = arg;
    return M2M_OK;
}

/* A table named in DDL where the backend wants it without its schema. */
static const char *ddl_table(const m2m__driver *d, const char *table) {
    const char *dot = strchr(table, '.');
    return dot && d->info->caps.ddl_local_names ? dot + 1 : table;
}

/* A name for an index or constraint of the pivot on column col: the
 * pivot's own name (no schema) and col, cut to fit, then 8 hex digits of
 * the SHA-256 of both names (and kind), which tell apart pairs whose joined
 * or cut names meet (a_b + c_d and a_b_c + d), then _kind; within the 63
 * bytes PostgreSQL keeps of a name and the 64 MariaDB allows (where a
 * foreign key's own name is unique in its database). */
static int key_name(const m2m_relation *rel, const char *col, const char *kind,
                    char out[64]) {
    const char *dot = strchr(rel->pivot_table, '.');
    const char *table = dot ? dot + 1 : rel->pivot_table;
    char full[200];
    /* The index keeps the hash of the names alone, as before. */
    int n = strcmp(kind, "idx") == 0
                ? snprintf(full, sizeof full, "%s%c%s", table, 0, col)
                : snprintf(full, sizeof full, "%s%c%s%c%s", table, 0, col, 0, kind);
    unsigned char h[32];
    if (m2m__sha256(full, (size_t)n, h))
        return M2M_NOMEM;
    snprintf(out, 64, "%.50s", table);
    size_t len = strlen(out);
    snprintf(out + len, 64 - len, "_%s", col);
    out[50] = '\0';
    len = strlen(out);
    snprintf(out + len, 64 - len, "_%02x%02x%02x%02x_%s", h[0], h[1], h[2], h[3], kind);
    return M2M_OK;
}

/* "CONSTRAINT name FOREIGN KEY (col) REFERENCES table(key) ON DELETE
 * CASCADE": named, as a backend's own name for it may not fit. */
static int add_fkey(m2m__buf *b, const m2m_relation *rel, const char *col,
                    const char *table, const char *key) {
    char name[64];
    if (key_name(rel, col, "fkey", name))
        return M2M_NOMEM;
    m2m__buf_add(b, ", CONSTRAINT ");
    m2m__buf_ident(b, name);
    m2m__buf_add(b, " FOREIGN KEY (");
    m2m__buf_ident(b, col);
    m2m__buf_add(b, ") REFERENCES ");
    m2m__buf_ident(b, ddl_table(rel->db->drv, table));
    m2m__buf_add(b, "(");
    m2m__buf_ident(b, key);
    m2m__buf_add(b, ") ON DELETE CASCADE");
    return M2M_OK;
}

int m2m_relation_create_pivot(m2m_relation *rel) {
    if (!rel)
        return M2M_MISUSE;
    m2m_db *db = rel->db;
    m2m__clear_error(db);
    const m2m__driver *d = db->drv;
    /* Parent and related must exist (SQLite would accept foreign keys to
     * tables that do not); an existing pivot is left as it is. */
    bool exists = false;
    int rc = m2m__rel_check(rel, false, &exists);
    if (rc || exists)
        return rc;
    /* Keys take the backend's type for text keys (a key column may need a
     * bounded width), other text columns its text type. */
    const char *tk =
        d->dialect.text_key_type ? d->dialect.text_key_type : d->dialect.text_type;
    const char *pt = rel->parent_type == M2M_TINT ? d->dialect.int_key_type : tk;
    const char *rt = rel->related_type == M2M_TINT ? d->dialect.int_key_type : tk;
    char pbuf[128] = "", rbuf[128] = "";
    if (d->dialect.key_type &&
        ((rc = d->dialect.key_type(db, rel->parent_table, rel->parent_key, pbuf,
                                   sizeof pbuf)) ||
         (rc = d->dialect.key_type(db, rel->related_table, rel->related_key, rbuf,
                                   sizeof rbuf))))
        return rc;
    pt = *pbuf ? pbuf : pt;
    rt = *rbuf ? rbuf : rt;
    m2m__buf b = {0};
    m2m__buf_add(&b, "CREATE TABLE IF NOT EXISTS ");
    m2m__buf_ident(&b, rel->pivot_table);
    m2m__buf_add(&b, " (");
    if (rel->pivot_id) {
        m2m__buf_ident(&b, rel->pivot_id);
        m2m__buf_addf(&b, " %s NOT NULL UNIQUE, ", tk);
    }
    m2m__buf_ident(&b, rel->fk);
    m2m__buf_addf(&b, " %s NOT NULL, ", pt);
    m2m__buf_ident(&b, rel->rk);
    m2m__buf_addf(&b, " %s NOT NULL", rt);
    for (size_t i = 0; i < rel->ncols; i++) {
        m2m__buf_add(&b, ", ");
        m2m__buf_ident(&b, rel->cols[i]);
        m2m__buf_addf(&b, " %s", d->dialect.text_type);
    }
    const char *ts[] = {rel->created_at, rel->updated_at};
    for (size_t i = 0; i < 2; i++)
        if (ts[i]) {
            m2m__buf_add(&b, ", ");
            m2m__buf_ident(&b, ts[i]);
            m2m__buf_addf(&b, " %s", d->dialect.timestamp_type);
        }
    char idx[64];
    if (add_fkey(&b, rel, rel->fk, rel->parent_table, rel->parent_key) ||
        add_fkey(&b, rel, rel->rk, rel->related_table, rel->related_key) ||
        key_name(rel, rel->rk, "idx", idx)) {
        m2m__buf_free(&b);
        return m2m__set_error(db, M2M_NOMEM, "create pivot: out of memory");
    }
    m2m__buf_add(&b, ", PRIMARY KEY (");
    m2m__buf_ident(&b, rel->fk);
    m2m__buf_add(&b, ", ");
    m2m__buf_ident(&b, rel->rk);
    m2m__buf_add(&b, ")); CREATE INDEX IF NOT EXISTS ");
    const char *dot = strchr(rel->pivot_table, '.');
    if (dot && d->info->caps.ddl_local_names)
        m2m__buf_addf(&b, "\"%.*s\".", (int)(dot - rel->pivot_table), rel->pivot_table);
    m2m__buf_ident(&b, idx);
    m2m__buf_add(&b, " ON ");
    m2m__buf_ident(&b, d->info->caps.ddl_local_names ? ddl_table(d, rel->pivot_table)
                                                     : rel->pivot_table);
    m2m__buf_add(&b, " (");
    m2m__buf_ident(&b, rel->rk);
    m2m__buf_add(&b, ");");
    char *ddl = m2m__buf_take(&b);
    if (!ddl)
        return m2m__set_error(db, M2M_NOMEM, "create pivot: out of memory");
    m2m__buf s = {0};
    m2m__buf_addf(&s, "%s; %s COMMIT;",
                  db->in_txn ? "SAVEPOINT m2m_ddl" : d->dialect.begin_sql, ddl);
    if (db->in_txn) {
        s.len -= strlen("COMMIT;");
        m2m__buf_add(&s, "RELEASE SAVEPOINT m2m_ddl;");
    }
    char *script = m2m__buf_take(&s);
    m2m__free(ddl);
    if (!script)
        return m2m__set_error(db, M2M_NOMEM, "create pivot: out of memory");
    rc = d->stmt.exec_script(db, script);
    m2m__free(script);
    if (rc != M2M_OK) {
        m2m__saved_error why = m2m__error_save(db);
        d->stmt.exec_script(db, db->in_txn
                                    ? "ROLLBACK TO SAVEPOINT m2m_ddl; RELEASE SAVEPOINT "
                                      "m2m_ddl"
                                    : "ROLLBACK");
        m2m__set_error(db, rc, "create pivot table %s: %s", rel->pivot_table,
                       why.msg ? why.msg : m2m_errstr(rc));
        m2m__error_drop(&why);
    }
    return rc;
}

static int cache_put(m2m_relation *rel, int op, uint64_t mask, char *sql,
                     m2m__stmt **out) {
    m2m_db *db = rel->db;
    m2m__stmt *st = NULL;
    int rc = db->drv->stmt.prepare(db, sql, &st);
    if (rc == M2M_OK && m2m__grow((void **)&rel->cache, &rel->capcache, rel->ncache + 1,
                                  sizeof *rel->cache))
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory caching a statement");
    if (rc != M2M_OK) {
        if (st)
            db->drv->stmt.finalize(db, st);
        m2m__free(sql);
        return rc;
    }
    rel->cache[rel->ncache++] =
        (m2m__cached){.op = op, .mask = mask, .sql = sql, .stmt = st};
    *out = st;
    return M2M_OK;
}

int m2m__rel_stmt(m2m_relation *rel, int op, uint64_t mask, m2m__build_fn build,
                  m2m__stmt **out) {
    for (size_t i = 0; i < rel->ncache; i++)
        if (rel->cache[i].op == op && rel->cache[i].mask == mask && op >= 0) {
            *out = rel->cache[i].stmt;
            return M2M_OK;
        }
    int rc;
    if (!rel->checked && (rc = m2m__rel_check(rel, true, NULL)))
        return rc;
    m2m__buf b = {0};
    rc = build(rel, mask, &b);
    if (rc != M2M_OK) {
        m2m__buf_free(&b);
        return rc;
    }
    char *sql = m2m__buf_take(&b);
    if (!sql)
        return m2m__set_error(rel->db, M2M_NOMEM, "out of memory building SQL");
    return cache_put(rel, op, mask, sql, out);
}

int m2m__rel_stmt_sql(m2m_relation *rel, const char *sql, m2m__stmt **out,
                      size_t *entry) {
    for (size_t i = 0; i < rel->ncache; i++)
        if (rel->cache[i].op == -1 && !rel->cache[i].inuse &&
            strcmp(rel->cache[i].sql, sql) == 0) {
            *out = rel->cache[i].stmt;
            *entry = i;
            return M2M_OK;
        }
    int rc;
    if (!rel->checked && (rc = m2m__rel_check(rel, true, NULL)))
        return rc;
    char *copy = m2m__strdup(sql);
    if (!copy)
        return m2m__set_error(rel->db, M2M_NOMEM, "out of memory caching a statement");
    *entry = rel->ncache;
    return cache_put(rel, -1, 0, copy, out);
}

int m2m__rel_stmt_shape(m2m_relation *rel, const char *shape, size_t n, m2m__stmt **out,
                        size_t *entry) {
    for (size_t i = 0; i < rel->ncache; i++) {
        m2m__cached *c = &rel->cache[i];
        if (c->op != -1 || c->nshape != n || memcmp(c->shape, shape, n) != 0)
            continue;
        if (!c->inuse) {
            *out = c->stmt;
            *entry = i;
            return M2M_OK;
        }
        return m2m__rel_stmt_sql(rel, c->sql, out, entry);
    }
    return M2M_NOTFOUND;
}

/* Out of memory here only loses the shortcut. */
void m2m__rel_remember_shape(m2m_relation *rel, size_t entry, const char *shape,
                             size_t n) {
    m2m__cached *c = &rel->cache[entry];
    if (c->shape || !(c->shape = m2m__malloc(n)))
        return;
    memcpy(c->shape, shape, n);
    c->nshape = n;
}
