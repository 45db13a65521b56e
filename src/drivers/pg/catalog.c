/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's catalog probes: the columns of tables and the
 * unique index of a pair, each in one round trip. */
#include "drivers/pg/pg.h"

#include <stdlib.h>
#include <string.h>

/* One catalog probe about table and its columns a and b ($1, $2, $3):
 * the first cell of sql's one row as a number, or -1 when not asked now (a
 * cursor holds the connection or a caller's transaction is open, which a
 * failure would abort) or when the probe failed. One round trip, once per
 * relation; callers keep a safe choice for -1. */
static int probe(m2m_db *db, const char *table, const char *a, const char *b,
                 const char *sql) {
    pg_conn *c = conn(db);
    if (db->cursor_busy || db->in_txn || PQstatus(c->pg) != CONNECTION_OK)
        return -1;
    m2m__buf name = {0};
    m2m__buf_ident(&name, table);
    if (name.oom) {
        m2m__buf_free(&name);
        return -1;
    }
    const char *pv[3] = {name.p, a, b};
    PGresult *res = PQexecParams(c->pg, sql, 3, NULL, pv, NULL, NULL, 0);
    db->stats.round_trips++;
    int v = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                ? atoi(PQgetvalue(res, 0, 0))
                : -1;
    PQclear(res);
    m2m__buf_free(&name);
    return v;
}

/* Does a valid, immediate, non-partial unique index of table (its primary
 * key included) have exactly columns a and b as keys? Asked while the
 * relation's first insert is built; with -1 the insert keeps its NOT
 * EXISTS. */
int m2m__pg_pair_unique(m2m_db *db, const char *table, const char *a, const char *b) {
    int n = probe(
        db, table, a, b,
        "SELECT count(*) FROM pg_index i"
        " JOIN pg_attribute a0 ON a0.attrelid = i.indrelid AND a0.attnum = i.indkey[0]"
        " JOIN pg_attribute a1 ON a1.attrelid = i.indrelid AND a1.attnum = i.indkey[1]"
        " WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indimmediate"
        " AND i.indisvalid AND i.indpred IS NULL AND i.indnkeyatts = 2"
        " AND ((a0.attname = $2 AND a1.attname = $3) OR (a0.attname = $3 AND a1.attname "
        "= $2))");
    return n < 0 ? -1 : n > 0;
}

/* Which of a and b leads a valid, non-partial unique index (the primary key
 * included) whose key columns hold both: 1 a, 2 b, 3 both, 0 neither, -1
 * not known. */
int m2m__pg_key_lead(m2m_db *db, const char *table, const char *a, const char *b) {
    return probe(
        db, table, a, b,
        "SELECT coalesce(bit_or(CASE k.attname WHEN $2 THEN 1 ELSE 2 END), 0)"
        " FROM pg_index i"
        " JOIN pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = i.indkey[0]"
        " JOIN pg_attribute o ON o.attrelid = i.indrelid"
        " AND o.attname = CASE k.attname WHEN $2 THEN $3 ELSE $2 END"
        " WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indisvalid"
        " AND i.indpred IS NULL AND k.attname IN ($2, $3)"
        " AND o.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])");
}

/* Columns of the tables in one round trip; to_regclass resolves each name
 * as the SQL will (search_path, quoting) and is NULL, not an error, for a
 * table or schema that does not exist. */
int m2m__pg_columns(m2m_db *db, const char *const *tables, size_t n,
                    void (*on_col)(void *arg, size_t t, const char *name, char kind),
                    void *arg) {
    pg_conn *c = conn(db);
    if (db->cursor_busy)
        return M2M__LATER;
    int rc = m2m__pg_check_usable(db);
    if (rc)
        return rc;
    m2m__buf q = {0}, names[3] = {{0}};
    const char *pv[3];
    if (n > 3)
        return m2m__set_error(db, M2M_ERROR, "internal: too many tables to describe");
    m2m__buf_add(&q, "SELECT t.n, a.attname, CASE WHEN a.attname IS NULL THEN NULL"
                     " WHEN y.typcategory = 'N' THEN 'i' WHEN y.typcategory = 'S'"
                     " THEN 't' ELSE '?' END FROM (VALUES ");
    for (size_t i = 0; i < n; i++) {
        m2m__buf_ident(&names[i], tables[i]);
        pv[i] = names[i].p;
        m2m__buf_addf(&q, "%s($%zu::text, %zu)", i ? ", " : "", i + 1, i);
    }
    m2m__buf_add(&q, ") AS t(name, n) JOIN pg_class r ON r.oid = to_regclass(t.name)"
                     " LEFT JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0"
                     " AND NOT a.attisdropped"
                     " LEFT JOIN pg_type y ON y.oid = a.atttypid");
    bool oom = q.oom;
    for (size_t i = 0; i < n; i++)
        oom |= names[i].oom;
    if (oom) {
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory describing tables");
    } else {
        m2m__note_exec(db, q.p);
        db->stats.round_trips++;
        PGresult *res = PQexecParams(c->pg, q.p, (int)n, NULL, pv, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = m2m__pg_fail(db, res);
        } else {
            for (int r = 0; r < PQntuples(res); r++) {
                size_t t = (size_t)atoi(PQgetvalue(res, r, 0));
                if (t >= n)
                    continue;
                on_col(arg, t, NULL, 0);
                if (!PQgetisnull(res, r, 1))
                    on_col(arg, t, PQgetvalue(res, r, 1), PQgetvalue(res, r, 2)[0]);
            }
        }
        PQclear(res);
    }
    m2m__buf_free(&q);
    for (size_t i = 0; i < n; i++)
        m2m__buf_free(&names[i]);
    return rc;
}
