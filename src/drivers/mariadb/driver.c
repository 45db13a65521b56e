/* SPDX-License-Identifier: MIT */
/* The MariaDB driver (MariaDB Connector/C): its dialect and its vtable.
 * The files beside it connect (conn.c), run statements (exec.c), read
 * results (cursor.c) and probe the catalog (catalog.c). The session runs
 * with ANSI_QUOTES (conn.c), so the core's double-quoted identifiers are
 * identifiers; its $n placeholders become ? (exec.c). */
#include "drivers/mariadb/mariadb.h"

/* Arrays and rows travel as one JSON parameter, read by JSON_TABLE
 * (MariaDB >= 10.6). JSON_TABLE cuts a longer text to its column's width
 * without an error, so text ids get the widest key an index holds, and
 * longer ones are refused before they are sent (exec.c). */
static const char *id_type(m2m_type type) {
    return type == M2M_TTEXT ? "VARCHAR(" M2M__MY_STR(MY_TEXT_ID_MAX) ")" : "BIGINT";
}

static void my_ids_from(m2m__buf *b, int param, m2m_type type, const char *alias) {
    m2m__buf_addf(b, "JSON_TABLE($%d, '$[*]' COLUMNS (\"value\" %s PATH '$')) AS %s",
                  param, id_type(type), alias);
}

/* A single-table DELETE or UPDATE runs an IN subquery per row (no
 * semi-join there before MariaDB 11.1): over JSON_TABLE that parses the ids
 * again for every row. A derived table is materialized once, with an index
 * the subquery looks each row up in (index_subquery). NOT IN scans that
 * table for every row instead (it must find out whether it holds a NULL):
 * NOT EXISTS looks each row up, and its IS NOT NULL keeps NOT IN's answer
 * for a NULL expr. Ids are never NULL. */
#define MY_IDS                                                                           \
    "(SELECT DISTINCT \"value\" FROM JSON_TABLE($%d, '$[*]' COLUMNS (\"value\" %s PATH " \
    "'$')) AS \"m2m-j\") AS \"m2m-i\""
static void my_ids_in(m2m__buf *b, const char *expr, int param, m2m_type type, int form) {
    if (form == M2M__NOT_IN) {
        m2m__buf_addf(b, "(%s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ", expr);
        m2m__buf_addf(b, MY_IDS, param, id_type(type));
        m2m__buf_addf(b, " WHERE \"m2m-i\".\"value\" = %s))", expr);
        return;
    }
    m2m__buf_addf(b, "%s IN (SELECT \"value\" FROM ", expr);
    m2m__buf_addf(b, MY_IDS, param, id_type(type));
    m2m__buf_add(b, ")");
}

/* Each key read as text; the server converts it to the column's type where
 * it is stored or compared. */
static void column(m2m__buf *b, const char *col) {
    m2m__buf_addf(b, "\"%s\" LONGTEXT PATH '$.%s'", col, col);
}

static void my_input_rows(m2m__buf *b, const char *table, int param,
                          const char *const *cols, size_t ncols) {
    (void)table;
    m2m__buf_addf(b, "JSON_TABLE($%d, '$[*]' COLUMNS (", param);
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            m2m__buf_add(b, ", ");
        column(b, cols[i]);
    }
    m2m__buf_add(b, "))");
}

static void my_input_rows_has(m2m__buf *b, const char *table, int param,
                              const char *const *cols, size_t ncols, size_t from) {
    (void)table;
    m2m__buf_addf(b, "JSON_TABLE($%d, '$[*]' COLUMNS (", param);
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            m2m__buf_add(b, ", ");
        column(b, cols[i]);
        if (i >= from)
            m2m__buf_addf(b, ", \"m2m-has%zu\" INT EXISTS PATH '$.%s'", i, cols[i]);
    }
    m2m__buf_add(b, "))");
}

/* Pairs present are skipped by the NOT EXISTS under the parent's lock (no
 * pair_unique): INSERT IGNORE would also turn foreign-key and type errors
 * into warnings, and ON DUPLICATE KEY UPDATE would return the rows it
 * left alone. A pair a writer outside m2m inserted meanwhile is an error
 * (M2M_EXISTS). */
static void my_insert_skip(m2m__buf *b, const char *key) {
    (void)b;
    (void)key;
}

/* <=> is MariaDB's NULL-safe equality. */
static void my_distinct(m2m__buf *b, const char *a, const char *c, bool not_distinct) {
    m2m__buf_addf(b, not_distinct ? "%s <=> %s" : "NOT (%s <=> %s)", a, c);
}

/* MariaDB sorts NULLs first ascending and last descending by itself. */
static void my_order_dir(m2m__buf *b, bool desc) {
    m2m__buf_add(b, desc ? " DESC" : " ASC");
}

extern const m2m__backend m2m__mariadb_backend;

const m2m__driver m2m__mariadb_driver = {
    .version = M2M__DRIVER_VERSION,
    .info = &m2m__mariadb_backend,
    .conn =
        {
            .open = m2m__my_open,
            .close = m2m__my_close,
            .reconnect = m2m__my_reconnect,
        },
    .stmt =
        {
            .prepare = m2m__my_prepare,
            .finalize = m2m__my_finalize,
            .run = m2m__my_run,
            .cursor_open = m2m__my_cursor_open,
            .cursor_next = m2m__my_cursor_next,
            .cursor_ncols = m2m__my_cursor_ncols,
            .cursor_name = m2m__my_cursor_name,
            .cursor_value = m2m__my_cursor_value,
            .cursor_close = m2m__my_cursor_close,
            .exec_script = m2m__my_exec_script,
        },
    .dialect =
        {
            .begin_sql = "START TRANSACTION",
            .read_begin_sql = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
            /* The parent's row of m2m_lock (conn.c), written: writers of one
             * parent queue on it on one server and conflict in Galera's
             * certification (GET_LOCK is not replicated, and certification
             * sees only rows written, never rows read). Writers keyed by the
             * other column write every row of the pivot and its row ''; a
             * parent's first writer also writes the row '' (its own row is
             * new, so no such writer could have written it). So any two
             * writers whose changes may touch the same pairs write a common
             * row, on one server (row locks) and on a cluster alike. Each
             * leaves the connection's next token in the rows it writes (the
             * first row made increments it, the others copy it) and returns
             * it: the transaction's id. */
            .lock_sql =
                "INSERT INTO m2m_lock (pivot, parent, n, tok) SELECT $1, "
                "UNHEX(MD5($2)), 1, @m2m_tok := @m2m_tok + 1 UNION ALL SELECT $1, "
                "'', 0, @m2m_tok FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM m2m_lock "
                "AS s WHERE s.pivot = $1 AND s.parent = UNHEX(MD5($2))) ON "
                "DUPLICATE KEY UPDATE n = m2m_lock.n + 1, tok = VALUES(tok) "
                "RETURNING tok",
            .lock_all_sql =
                "INSERT INTO m2m_lock (pivot, parent, n, tok) SELECT $1, '', 1, "
                "@m2m_tok := @m2m_tok + 1 UNION ALL SELECT s.pivot, s.parent, "
                "1, @m2m_tok FROM m2m_lock AS s WHERE s.pivot = $1 AND "
                "s.parent <> '' ON DUPLICATE KEY UPDATE n = m2m_lock.n + 1, "
                "tok = VALUES(tok) RETURNING tok",
            /* A caller's transaction without an operation left no token:
             * no row, so a lost COMMIT reply is in doubt. */
            .xid_sql = "SELECT 1 FROM DUAL WHERE 1 = 0",
            /* The token is in a lock row once its transaction committed,
             * until a later writer of that parent replaces it: found, it
             * committed; not found, it rolled back or was replaced. The
             * locking read waits for a transaction still committing. */
            .xid_status_sql = "SELECT IF(COUNT(*) > 0, 'committed', 'unknown') FROM "
                              "m2m_lock WHERE tok = $1 LOCK IN SHARE MODE",
            .ids_from = my_ids_from,
            .ids_in = my_ids_in,
            .input_rows = my_input_rows,
            .input_rows_has = my_input_rows_has,
            .insert_skip = my_insert_skip,
            .returning = m2m__std_returning,
            .distinct = my_distinct,
            .order_dir = my_order_dir,
            .now_sql = "CURRENT_TIMESTAMP(6)",
            .int_key_type = "BIGINT",
            /* Text keys are indexed, and an index holds at most 3072 bytes
             * (768 utf8mb4 characters; 255 leaves room for the pair). */
            .text_type = "LONGTEXT",
            .text_key_type = "VARCHAR(255)",
            .timestamp_type = "DATETIME(6)",
            .columns = m2m__my_columns,
            .key_type = m2m__my_key_type,
            .key_lead = m2m__my_key_lead,
        },
};
