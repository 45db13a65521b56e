/* SPDX-License-Identifier: MIT */
/* Row-level security for JWT-bound relations: the DDL that lets PostgreSQL
 * itself refuse pivot rows whose owner column is not the token's sub.
 *
 * The policies read the claims the core sets per transaction
 * (set_config('request.jwt.claims', json, true)). After such a transaction
 * the setting reverts to '' rather than NULL, so it goes through nullif()
 * before the cast: a connection without a session sees no rows instead of a
 * JSON syntax error. The owner column is compared as text so bigint and text
 * owners both work against the string sub.
 *
 * Only identifiers reach the SQL text, each validated by m2m__ident_ok and
 * quoted by m2m__buf_ident; the lookups use bound parameters. */
#include "drivers/pg/pg.h"

#include <stdio.h>
#include <string.h>

#define OWNER_SUB                                                                        \
    "(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')"

/* Longest pivot-name part of a policy name: "m2m_" + part + "_select" must
 * stay within PostgreSQL's 63 characters, or the four names could collide. */
enum { POLICY_PART_MAX = 63 - 4 - 7 };

static const char *const policy_ops[] = {"insert", "update", "delete", "select"};

/* The unqualified name of a possibly schema-qualified identifier. */
static const char *base_name(const char *ident) {
    const char *dot = strchr(ident, '.');
    return dot ? dot + 1 : ident;
}

static void policy_name(m2m__buf *b, const char *table, const char *op) {
    char name[64];
    const char *t = base_name(table);
    size_t n = strlen(t);
    if (n > POLICY_PART_MAX)
        n = POLICY_PART_MAX;
    snprintf(name, sizeof name, "m2m_%.*s_%s", (int)n, t, op);
    m2m__buf_ident(b, name);
}

/* The schema that table (as the relation names it) resolves to, new in *out;
 * M2M_NOTFOUND when the table does not exist. */
static int table_schema(m2m_db *db, const char *table, char **out) {
    *out = NULL;
    m2m__buf q = {0};
    m2m__buf_ident(&q, table);
    char *quoted = m2m__buf_take(&q);
    if (!quoted)
        return m2m__set_error(db, M2M_NOMEM, "rls: out of memory");
    m2m_value p = M2M_TEXT(quoted);
    m2m_rows *rows = NULL;
    int rc = m2m_sql(db,
                     "SELECT n.nspname::text FROM pg_catalog.pg_class c"
                     " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                     " WHERE c.oid = pg_catalog.to_regclass($1)",
                     &p, 1, &rows);
    if (rc == M2M_OK) {
        rc = m2m_rows_next(rows);
        if (rc == M2M_ROW) {
            m2m_value v = m2m_rows_value(rows, 0);
            if (v.type != M2M_TTEXT)
                rc = m2m__set_error(db, M2M_ERROR, "rls: cannot read the schema of %s",
                                    table);
            else if (!m2m__ident_ok(v.s, false))
                rc = m2m__set_error(db, M2M_INVALID,
                                    "rls: schema \"%s\" of %s is not a plain identifier",
                                    v.s, table);
            else if (!(*out = m2m__strdup(v.s)))
                rc = m2m__set_error(db, M2M_NOMEM, "rls: out of memory");
            else
                rc = M2M_OK;
        } else if (rc == M2M_DONE) {
            rc = m2m__set_error(db, M2M_NOTFOUND, "rls: table %s does not exist", table);
        }
    }
    m2m_rows_free(rows);
    m2m__free(quoted);
    return rc;
}

static int role_exists(m2m_db *db, const char *role, bool *exists) {
    m2m_value p = M2M_TEXT(role);
    m2m_rows *rows = NULL;
    int rc =
        m2m_sql(db, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", &p, 1, &rows);
    if (rc == M2M_OK) {
        rc = m2m_rows_next(rows);
        *exists = rc == M2M_ROW;
        rc = rc == M2M_ROW || rc == M2M_DONE ? M2M_OK : rc;
    }
    m2m_rows_free(rows);
    return rc;
}

/* The whole installation, in statements that are each idempotent. */
static void build_script(m2m__buf *b, const m2m__rls *rel, const char *role,
                         bool create_role, char *const schemas[3]) {
    const char *pivot = rel->pivot;
    if (create_role) {
        /* Another installer may create it between our check and here. */
        m2m__buf_add(b, "DO $m2m$ BEGIN CREATE ROLE ");
        m2m__buf_ident(b, role);
        m2m__buf_add(b,
                     " NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $m2m$;\n");
    }
    m2m__buf_add(b, "ALTER TABLE ");
    m2m__buf_ident(b, pivot);
    m2m__buf_add(b, " ENABLE ROW LEVEL SECURITY;\nALTER TABLE ");
    m2m__buf_ident(b, pivot);
    m2m__buf_add(b, " FORCE ROW LEVEL SECURITY;\n");

    for (int i = 0; i < 3; i++) {
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup = dup || strcmp(schemas[i], schemas[j]) == 0;
        if (dup)
            continue;
        m2m__buf_add(b, "GRANT USAGE ON SCHEMA ");
        m2m__buf_ident(b, schemas[i]);
        m2m__buf_add(b, " TO ");
        m2m__buf_ident(b, role);
        m2m__buf_add(b, ";\n");
    }
    m2m__buf_add(b, "GRANT SELECT, INSERT, UPDATE, DELETE ON ");
    m2m__buf_ident(b, pivot);
    m2m__buf_add(b, " TO ");
    m2m__buf_ident(b, role);
    m2m__buf_add(b, ";\nGRANT SELECT ON ");
    m2m__buf_ident(b, rel->parent);
    m2m__buf_add(b, ", ");
    m2m__buf_ident(b, rel->related);
    m2m__buf_add(b, " TO ");
    m2m__buf_ident(b, role);
    m2m__buf_add(b, ";\n");

    for (size_t i = 0; i < sizeof policy_ops / sizeof policy_ops[0]; i++) {
        const char *op = policy_ops[i];
        m2m__buf_add(b, "DROP POLICY IF EXISTS ");
        policy_name(b, pivot, op);
        m2m__buf_add(b, " ON ");
        m2m__buf_ident(b, pivot);
        m2m__buf_add(b, ";\nCREATE POLICY ");
        policy_name(b, pivot, op);
        m2m__buf_add(b, " ON ");
        m2m__buf_ident(b, pivot);
        m2m__buf_addf(b, " AS PERMISSIVE FOR %s TO ", op);
        m2m__buf_ident(b, role);
        bool open_read = strcmp(op, "select") == 0 && rel->owner_read_all;
        bool has_using = strcmp(op, "insert") != 0;
        bool has_check = strcmp(op, "insert") == 0 || strcmp(op, "update") == 0;
        if (has_using && open_read) {
            m2m__buf_add(b, " USING (true)");
        } else if (has_using) {
            m2m__buf_add(b, " USING (");
            m2m__buf_ident(b, rel->owner_column);
            m2m__buf_add(b, "::text = " OWNER_SUB ")");
        }
        if (has_check) {
            m2m__buf_add(b, " WITH CHECK (");
            m2m__buf_ident(b, rel->owner_column);
            m2m__buf_add(b, "::text = " OWNER_SUB ")");
        }
        m2m__buf_add(b, ";\n");
    }
}

int m2m__pg_rls_install(m2m_db *db, const m2m__rls *rel) {
    const char *role = rel->role;
    char *schemas[3] = {NULL, NULL, NULL};
    const char *tables[3] = {rel->pivot, rel->parent, rel->related};
    char *script = NULL;
    bool exists = false;
    int rc = M2M_OK;
    for (int i = 0; i < 3 && rc == M2M_OK; i++)
        rc = table_schema(db, tables[i], &schemas[i]);
    if (rc == M2M_OK)
        rc = role_exists(db, role, &exists);
    if (rc != M2M_OK)
        goto out;

    /* One transaction, or a savepoint inside the caller's. */
    m2m__buf b = {0};
    m2m__buf_add(&b, db->in_txn ? "SAVEPOINT m2m_rls;\n" : "BEGIN;\n");
    build_script(&b, rel, role, !exists, schemas);
    m2m__buf_add(&b, db->in_txn ? "RELEASE SAVEPOINT m2m_rls;\n" : "COMMIT;\n");
    script = m2m__buf_take(&b);
    if (!script) {
        rc = m2m__set_error(db, M2M_NOMEM, "rls: out of memory");
        goto out;
    }
    rc = db->drv->stmt.exec_script(db, script);
    if (rc != M2M_OK) {
        /* Keep the driver's message; undo whatever ran before the failure. */
        const char *cur = m2m_errmsg(db);
        char *msg = cur ? m2m__strdup(cur) : NULL;
        db->drv->stmt.exec_script(db, db->in_txn ? "ROLLBACK TO SAVEPOINT m2m_rls; "
                                                   "RELEASE SAVEPOINT m2m_rls"
                                                 : "ROLLBACK");
        m2m__set_error(db, rc, "rls: installing policies on %s failed: %s", rel->pivot,
                       msg ? msg : m2m_errstr(rc));
        m2m__free(msg);
        goto out;
    }
    m2m__clear_error(db);
out:
    m2m__free(script);
    for (int i = 0; i < 3; i++)
        m2m__free(schemas[i]);
    return rc;
}
