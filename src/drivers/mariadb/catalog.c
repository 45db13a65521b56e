/* SPDX-License-Identifier: MIT */
/* The MariaDB driver's catalog probe: the columns of a relation's tables
 * from information_schema, in one round trip. */
#include "drivers/mariadb/mariadb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "TABLE_SCHEMA = ... AND TABLE_NAME = ..." of table, for alias a. Constant
 * values let the server read that one table's definition; anything else
 * makes it open every table of every database (information_schema's too,
 * where MariaDB 10.11 was seen to crash under load). */
static void where_table(m2m__buf *q, const char *a, const char *table) {
    const char *dot = strchr(table, '.');
    if (dot)
        m2m__buf_addf(q, "%s.TABLE_SCHEMA = '%.*s' AND %s.TABLE_NAME = '%s'", a,
                      (int)(dot - table), table, a, dot + 1);
    else
        m2m__buf_addf(q, "%s.TABLE_SCHEMA = DATABASE() AND %s.TABLE_NAME = '%s'", a, a,
                      table);
}

/* Sends the catalog query q (freed here) as one of the relation's
 * statements; M2M_OK with *res holding its rows, or the error set on db
 * (what names the query in the out-of-memory message). */
static int catalog_query(m2m_db *db, m2m__buf *q, const char *what, MYSQL_RES **res) {
    *res = NULL;
    int rc = M2M_OK;
    if (q->oom) {
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory describing %s", what);
    } else {
        MYSQL *my = conn(db)->my;
        m2m__note_exec(db, q->p);
        db->stats.round_trips++;
        if (mysql_real_query(my, q->p, (unsigned long)q->len) ||
            !(*res = mysql_store_result(my)))
            rc = m2m__my_fail(db, NULL);
    }
    m2m__buf_free(q);
    return rc;
}

/* Table names are validated identifiers (letters, digits, '_', one '.'),
 * so they go into the query as literals; an unqualified one is in the
 * connection's database, as the SQL resolves it. A table exists when it
 * has columns (every MariaDB table has one). */
int m2m__my_columns(m2m_db *db, const char *const *tables, size_t n,
                    void (*on_col)(void *arg, size_t t, const char *name, char kind),
                    void *arg) {
    if (db->cursor_busy)
        return M2M__LATER;
    int rc = m2m__my_check_usable(db);
    if (rc)
        return rc;
    m2m__buf q = {0};
    for (size_t i = 0; i < n; i++) {
        m2m__buf_addf(
            &q,
            "%sSELECT %zu AS n, c.ORDINAL_POSITION AS o, c.COLUMN_NAME, CASE WHEN"
            " c.DATA_TYPE IN ('tinyint', 'smallint', 'mediumint', 'int', "
            "'bigint', 'decimal', 'float', 'double') THEN 'i' WHEN c.DATA_TYPE "
            "IN ('char', 'varchar', 'tinytext', 'text', 'mediumtext', "
            "'longtext') THEN 't' ELSE '?' END FROM information_schema.COLUMNS"
            " AS c WHERE ",
            i ? " UNION ALL " : "", i);
        where_table(&q, "c", tables[i]);
    }
    m2m__buf_add(&q, " ORDER BY 1, 2");
    MYSQL_RES *res;
    if ((rc = catalog_query(db, &q, "tables", &res)))
        return rc;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        size_t t = (size_t)strtoul(row[0], NULL, 10);
        if (t >= n)
            continue;
        on_col(arg, t, NULL, 0);
        if (row[2])
            on_col(arg, t, row[2], row[3] ? row[3][0] : '?');
    }
    mysql_free_result(res);
    return M2M_OK;
}

/* A foreign key's column must have the referenced column's type (InnoDB
 * refuses BIGINT referencing INT) and, for text, its collation. */
int m2m__my_key_type(m2m_db *db, const char *table, const char *col, char *out,
                     size_t n) {
    out[0] = '\0';
    int rc = m2m__my_check_usable(db);
    if (rc)
        return rc;
    m2m__buf q = {0};
    m2m__buf_add(&q, "SELECT c.COLUMN_TYPE, c.COLLATION_NAME FROM "
                     "information_schema.COLUMNS AS c WHERE ");
    where_table(&q, "c", table);
    m2m__buf_addf(&q, " AND c.COLUMN_NAME = '%s'", col);
    MYSQL_RES *res;
    if ((rc = catalog_query(db, &q, "a key", &res)))
        return rc;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0])
        snprintf(out, n, "%s%s%s", row[0], row[1] ? " COLLATE " : "",
                 row[1] ? row[1] : "");
    if (strlen(out) + 1 >= n)
        out[0] = '\0'; /* cut: the default type */
    mysql_free_result(res);
    return M2M_OK;
}

/* Which of a and b leads a unique index (the primary key included) whose
 * columns hold both: 1 a, 2 b, 3 both, 0 neither, -1 not asked now (a
 * cursor holds the connection, or the query failed). One round trip, once
 * per relation; names are validated identifiers. */
int m2m__my_key_lead(m2m_db *db, const char *table, const char *a, const char *b) {
    if (db->cursor_busy || !conn(db)->my)
        return -1;
    m2m__buf q = {0};
    m2m__buf_addf(
        &q,
        "SELECT COALESCE(BIT_OR(CASE l.COLUMN_NAME WHEN '%s' THEN 1 ELSE 2 END),"
        " 0) FROM information_schema.STATISTICS AS l JOIN"
        " information_schema.STATISTICS AS o ON o.INDEX_NAME = l.INDEX_NAME AND"
        " o.COLUMN_NAME = CASE l.COLUMN_NAME WHEN '%s' THEN '%s' ELSE '%s' END"
        " WHERE l.NON_UNIQUE = 0 AND l.SEQ_IN_INDEX = 1 AND l.COLUMN_NAME IN"
        " ('%s', '%s') AND ",
        a, a, b, a, a, b);
    where_table(&q, "l", table);
    m2m__buf_add(&q, " AND ");
    where_table(&q, "o", table);
    int lead = -1;
    MYSQL *my = conn(db)->my;
    MYSQL_RES *res = NULL;
    if (!q.oom) {
        /* A round trip, but no statement of the relation's (as on
         * PostgreSQL): a definition still costs one catalog query. */
        db->stats.round_trips++;
        if (!mysql_real_query(my, q.p, (unsigned long)q.len) &&
            (res = mysql_store_result(my))) {
            MYSQL_ROW row = mysql_fetch_row(res);
            if (row && row[0])
                lead = atoi(row[0]);
            mysql_free_result(res);
        }
    }
    m2m__buf_free(&q);
    return lead;
}
