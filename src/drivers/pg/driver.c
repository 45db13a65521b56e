/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver (libpq): its dialect and its vtable. The files
 * beside it connect (conn.c), encode and decode values (types.c), run
 * pipelined batches (exec.c), stream cursors (cursor.c), probe the catalog
 * (catalog.c) and install row-level security (rls.c). */
#include "drivers/pg/pg.h"

/* Rows typed by the table itself: each JSON key fills the column of the same
 * name, so the SQL needs no per-column casts. */
static void pg_input_rows(m2m__buf *b, const char *table, int param,
                          const char *const *cols, size_t ncols) {
    (void)cols;
    (void)ncols;
    m2m__buf_addf(b, "jsonb_populate_recordset(NULL::%s, $%d::jsonb)", table, param);
}

static void pg_input_rows_has(m2m__buf *b, const char *table, int param,
                              const char *const *cols, size_t ncols, size_t from) {
    m2m__buf_add(b, "(SELECT \"m2m-r\".*");
    for (size_t i = from; i < ncols; i++)
        m2m__buf_addf(b, ", \"m2m-e\".j ? '%s' AS \"m2m-has%zu\"", cols[i], i);
    m2m__buf_addf(b,
                  " FROM jsonb_array_elements($%d::jsonb) AS \"m2m-e\"(j) CROSS JOIN"
                  " LATERAL jsonb_populate_record(NULL::%s, \"m2m-e\".j) AS \"m2m-r\")",
                  param, table);
}

static const char *pg_array_type(m2m_type type) {
    return type == M2M_TTEXT ? "text[]" : "int8[]";
}

static void pg_ids_from(m2m__buf *b, int param, m2m_type type, const char *alias) {
    m2m__buf_addf(b, "unnest($%d::%s) AS %s(value)", param, pg_array_type(type), alias);
}

/* = ANY(array) is an index scan over the given keys. The rows not given
 * are a NOT EXISTS over the unnested array, which plans as a hash anti
 * join even in a generic plan; NOT IN (subquery) turns into a plain
 * subplan rescanned per row once the ids outgrow work_mem, and <> ALL
 * compares each row with every id: both quadratic for a million ids. For
 * a few ids <> ALL is the cheaper one: the hash join's setup cost about
 * 120 k instructions a sync of 50 (W1's P2), a row's comparisons with 64
 * ids a few hundred. IS NULL keeps NOT EXISTS's answer for a NULL key. */
enum { NOT_IN_FEW = 64 };

static void pg_ids_in(m2m__buf *b, const char *expr, int param, m2m_type type, int form) {
    if (form == M2M__NOT_IN_FEW)
        m2m__buf_addf(b, "(%s IS NULL OR %s <> ALL($%d::%s))", expr, expr, param,
                      pg_array_type(type));
    else if (form == M2M__NOT_IN)
        m2m__buf_addf(b,
                      "NOT EXISTS (SELECT 1 FROM unnest($%d::%s) AS \"m2m-i\"(value)"
                      " WHERE \"m2m-i\".value = %s)",
                      param, pg_array_type(type), expr);
    else
        m2m__buf_addf(b, "%s = ANY($%d::%s)", expr, param, pg_array_type(type));
}

extern const m2m__backend m2m__pg_backend;

const m2m__driver m2m__pg_driver = {
    .version = M2M__DRIVER_VERSION,
    .info = &m2m__pg_backend,
    .conn =
        {
            .open = m2m__pg_open,
            .close = m2m__pg_close,
            .reconnect = m2m__pg_reconnect,
        },
    .stmt =
        {
            .prepare = m2m__pg_prepare,
            .finalize = m2m__pg_finalize,
            .run = m2m__pg_run,
            .cursor_open = m2m__pg_cursor_open,
            .cursor_next = m2m__pg_cursor_next,
            .cursor_ncols = m2m__pg_cursor_ncols,
            .cursor_name = m2m__pg_cursor_name,
            .cursor_value = m2m__pg_cursor_value,
            .cursor_close = m2m__pg_cursor_close,
            .exec_script = m2m__pg_exec_script,
        },
    .dialect =
        {
            .begin_sql = "BEGIN",
            .read_begin_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            /* How PostgREST hands claims to policies; role switches with it. */
            .auth_sql = "SELECT set_config('request.jwt.claims', $1, true), "
                        "set_config('role', $2, true)",
            /* The pivot lock is the one-bigint form of advisory lock, a key
             * space apart from the (int4, int4) parent locks; its high half
             * spells "m2m". OFFSET 0 keeps the subquery, so the pivot lock is
             * taken first. The row's last column is the transaction's id, for
             * an in-doubt commit. */
            .lock_sql = "SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text)), "
                        "txid_current()"
                        " FROM (SELECT pg_advisory_xact_lock_shared(7156077::int8 * "
                        "4294967296 + $1::int4) OFFSET 0) AS m2m__pivot",
            .lock_all_sql =
                "SELECT pg_advisory_xact_lock(7156077::int8 * 4294967296 + $1::int4), "
                "txid_current()",
            .xid_sql = "SELECT txid_current_if_assigned()",
            .xid_status_sql = "SELECT txid_status($1::bigint)",
            .ids_from = pg_ids_from,
            .ids_in = pg_ids_in,
            .not_in_few = NOT_IN_FEW,
            .input_rows = pg_input_rows,
            .input_rows_has = pg_input_rows_has,
            .insert_skip = m2m__std_insert_skip,
            .returning = m2m__std_returning,
            .distinct = m2m__std_distinct,
            .order_dir = m2m__std_order_dir,
            .now_sql = "now()",
            .int_key_type = "BIGINT",
            .text_type = "TEXT",
            .timestamp_type = "TIMESTAMPTZ",
            .pair_unique = m2m__pg_pair_unique,
            .key_lead = m2m__pg_key_lead,
            .columns = m2m__pg_columns,
            .rls_install = m2m__pg_rls_install,
        },
};
