/* SPDX-License-Identifier: MIT */
/* The SQLite driver's catalog probes (pragmas): the columns of tables, and
 * the planner's questions about a pivot's indexes and columns. */
#include "drivers/sqlite/sqlite.h"

#include <stdio.h>
#include <string.h>

/* A query on the pragmas of table (maybe "schema.table"): sql names the
 * table ?1 and, where it writes %s (up to four times), gets ", ?2", the
 * schema; ?3 and ?4 are bound to a and b. NULL on error. */
static sqlite3_stmt *table_query(m2m_db *db, const char *sql, const char *table,
                                 const char *a, const char *b) {
    const char *dot = strchr(table, '.');
    const char *schema = dot ? ", ?2" : "";
    m2m__buf q = {0};
    m2m__buf_addf(&q, sql, schema, schema, schema, schema);
    sqlite3_stmt *st = NULL;
    if (!q.oom && sqlite3_prepare_v2(conn(db), q.p, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, dot ? dot + 1 : table, -1, SQLITE_STATIC);
        if (dot)
            sqlite3_bind_text(st, 2, table, (int)(dot - table), SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a, -1, SQLITE_STATIC);
        if (b)
            sqlite3_bind_text(st, 4, b, -1, SQLITE_STATIC);
    }
    m2m__buf_free(&q);
    return st;
}

/* Does a unique index of table (its primary key included) cover exactly
 * columns a and b? Asked once per relation, while its first insert is
 * built; an error answers no. */
int m2m__sq_pair_unique(m2m_db *db, const char *table, const char *a, const char *b) {
    sqlite3_stmt *st =
        table_query(db,
                    "SELECT count(*) FROM pragma_index_list(?1%s) AS l"
                    " WHERE l.\"unique\" AND NOT l.partial"
                    " AND (SELECT count(*) FROM pragma_index_info(l.name%s)) = 2"
                    " AND (SELECT count(*) FROM pragma_index_info(l.name%s) AS c"
                    " WHERE c.name IN (?3, ?4)) = 2",
                    table, a, b);
    bool yes = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return yes;
}

/* A range finds integer ids in a column of any affinity but TEXT, which
 * would compare them as text ('10' < '9'), and reads only the parent's
 * rows through an index on (fk, rk, ...); one on (rk, fk) would read every
 * parent's rows in the span. An error answers no. */
int m2m__sq_span_ok(m2m_db *db, const char *table, const char *fk, const char *rk) {
    sqlite3_stmt *st = table_query(
        db,
        "SELECT (SELECT type LIKE '%%INT%%' OR NOT (type LIKE '%%CHAR%%'"
        " OR type LIKE '%%CLOB%%' OR type LIKE '%%TEXT%%')"
        " FROM pragma_table_xinfo(?1%s) WHERE name = ?4)"
        " AND EXISTS (SELECT 1 FROM pragma_index_list(?1%s) AS l"
        " WHERE NOT l.partial"
        " AND (SELECT name FROM pragma_index_info(l.name%s) WHERE seqno = 0) = ?3"
        " AND (SELECT name FROM pragma_index_info(l.name%s) WHERE seqno = 1) = ?4)",
        table, fk, rk);
    bool yes = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return yes;
}

#ifdef M2M_HAVE_PREUPDATE
/* The index of col among table's columns for the pre-update hook; -1 when
 * not found, or when the table has generated columns: some SQLite versions
 * count the hook's columns in storage order, where those move. */
int m2m__sq_deleted_col(m2m_db *db, const char *table, const char *col) {
    sqlite3_stmt *st =
        table_query(db,
                    "SELECT max(CASE WHEN name = ?3 THEN cid END), max(hidden)"
                    " FROM pragma_table_xinfo(?1%s)",
                    table, col, NULL);
    int at = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) == SQLITE_INTEGER && sqlite3_column_int(st, 1) == 0)
        at = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return at;
}
#endif

/* The kind of a declared type by SQLite's affinity rules. */
static char type_kind(const char *type) {
    char up[64];
    size_t i = 0;
    for (; type && type[i] && i < sizeof up - 1; i++)
        up[i] = (char)(type[i] >= 'a' && type[i] <= 'z' ? type[i] - 32 : type[i]);
    up[i] = '\0';
    if (strstr(up, "INT"))
        return 'i';
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        return 't';
    return '?';
}

/* Columns of the tables in one query over pragma_table_info, which looks a
 * plain name up as the SQL does (temp, main, then attached schemas). A
 * schema that is not attached would fail the whole query: its table is
 * left out (it does not exist). */
int m2m__sq_columns(m2m_db *db, const char *const *tables, size_t n,
                    void (*on_col)(void *arg, size_t t, const char *name, char kind),
                    void *arg) {
    m2m__buf q = {0};
    size_t asked = 0;
    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(tables[i], '.');
        if (dot) {
            char schema[64];
            snprintf(schema, sizeof schema, "%.*s", (int)(dot - tables[i]), tables[i]);
            if (sqlite3_db_readonly(conn(db), schema) < 0)
                continue;
        }
        m2m__buf_addf(&q, "%sSELECT %zu, name, type FROM pragma_table_info(?%zu",
                      asked++ ? " UNION ALL " : "", i, 2 * i + 1);
        if (dot)
            m2m__buf_addf(&q, ", ?%zu", 2 * i + 2);
        m2m__buf_add(&q, ")");
    }
    if (!asked)
        return M2M_OK;
    if (q.oom) {
        m2m__buf_free(&q);
        return m2m__set_error(db, M2M_NOMEM, "out of memory describing tables");
    }
    m2m__note_exec(db, q.p);
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(conn(db), q.p, -1, &st, NULL);
    m2m__buf_free(&q);
    for (size_t i = 0; src == SQLITE_OK && i < n; i++) {
        const char *dot = strchr(tables[i], '.');
        sqlite3_bind_text(st, (int)(2 * i + 1), dot ? dot + 1 : tables[i], -1,
                          SQLITE_STATIC);
        if (dot)
            sqlite3_bind_text(st, (int)(2 * i + 2), tables[i], (int)(dot - tables[i]),
                              SQLITE_STATIC);
    }
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        size_t t = (size_t)sqlite3_column_int(st, 0);
        on_col(arg, t, NULL, 0);
        on_col(arg, t, (const char *)sqlite3_column_text(st, 1),
               type_kind((const char *)sqlite3_column_text(st, 2)));
        src = SQLITE_OK;
    }
    int rc = src == SQLITE_DONE ? M2M_OK : m2m__sq_error(db, src, "describe tables");
    sqlite3_finalize(st);
    return rc;
}
