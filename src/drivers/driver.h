/* SPDX-License-Identifier: MIT */
/* The driver interface: everything that differs between backends. */
#ifndef M2M_DRIVER_H
#define M2M_DRIVER_H

#include "util/util.h"

/* cursor_open in whole mode: the result holds more rows than asked for. */
enum { M2M__MORE = 0x7fff };
/* drv->columns: not now, ask again later. */
enum { M2M__LATER = 0x7ffe };

/* ---- drivers ---- */
/* An array parameter: a m2m_value of type M2M__TIDS whose s points to a
 * m2m__ids. Drivers bind it whole (SQLite through the "m2m-ids" table-valued
 * function, PostgreSQL as an array literal); it never reaches users. */
enum { M2M__TIDS = 0x100 };
typedef struct m2m__ids {
    const m2m_value *v; /* ids of one key type, borrowed */
    size_t n;
    size_t stride; /* id i is v[i * stride]; 0 is 1. A caller's m2m_items
                      are read in place with a stride of 2 (input.c) */
} m2m__ids;
static inline m2m_value m2m__ids_at(const m2m__ids *a, size_t i) {
    return a->v[a->stride ? i * a->stride : i];
}
/* The forms of drv->ids_in. */
enum { M2M__IN, M2M__NOT_IN, M2M__IN_SPAN, M2M__NOT_IN_FEW };
/* Are there ids, all integers? Then *lo and *hi are the least and the
 * greatest. */
bool m2m__ids_bounds(const m2m__ids *a, int64_t *lo, int64_t *hi);
/* Are the ids integers whose span (max - min) is narrow against their
 * number, so that scanning the parent's rows in that span costs about what
 * looking each id up would? */
bool m2m__ids_narrow(const m2m__ids *a);
static inline m2m_value m2m__ids_param(const m2m__ids *a) {
    m2m_value v = {.type = (m2m_type)M2M__TIDS};
    v.s = (const char *)(const void *)a;
    return v;
}

typedef struct m2m__stmt m2m__stmt;     /* a prepared statement (driver's) */
typedef struct m2m__cursor m2m__cursor; /* a result row source (driver's) */

/* One statement of a batch: run with params; each result row is handed to
 * on_row (when set) through a cursor positioned on that row. changes is set
 * to the number of rows affected or returned. A non-zero on_row return stops
 * the batch with that code. */
typedef struct m2m__step {
    m2m__stmt *stmt;
    const m2m_value *params;
    size_t nparams;
    int (*on_row)(void *arg, m2m__cursor *row);
    void *arg;
    /* > 0 (drivers with deleted_col): on_row sees, as its column 0, column
     * deleted_col - 1 of each row the statement deletes, with no RETURNING. */
    int deleted_col;
    int64_t changes; /* OUT */
    /* For plans (m2m_explain): why it is sent, and its M2M_PLAN_* flags. */
    const char *why;
    int plan_flags;
} m2m__step;

/* ---- what a backend is and can do ---- */

/* Facts the core plans with; a driver declares them, the core never asks
 * which backend it runs on. */
typedef struct m2m__caps {
    /* Row-level security: JWT sessions, owner_column relations and
     * m2m_rls_install (dialect.auth_sql, dialect.rls_install). */
    bool rls;
    /* One writer at a time for the whole database (SQLite's BEGIN
     * IMMEDIATE): writes take no per-parent lock, and a SELECT inside the
     * transaction finds exactly the rows a DELETE after it will take. false:
     * concurrent writers, serialized per parent by dialect.lock_sql. */
    bool single_writer;
    /* DELETE and INSERT may share one statement through WITH: toggle is
     * then one statement, and a touching relation's write touches the
     * parent in its own statement (sql/sqlgen_touch.c). */
    bool dml_cte;
    /* The statements of one run() form one transaction by themselves (an
     * extended-protocol pipeline up to its sync), so an operation sent
     * whole needs no BEGIN and COMMIT. */
    bool batch_is_txn;
    /* Each statement of a batch is a round trip of its own (no pipeline):
     * plans (m2m_explain) count them so. */
    bool trip_per_statement;
    /* A commit whose reply is lost may have happened: the core learns the
     * transaction's id (dialect.xid_sql, the lock's last column) and asks
     * after it (dialect.xid_status_sql). false: COMMIT either returns done
     * or leaves nothing committed. */
    bool in_doubt;
    /* Names compare ignoring ASCII case. */
    bool names_nocase;
    /* DDL qualifies an index's name, not its table, with the schema, and a
     * foreign key names its table without one. */
    bool ddl_local_names;
    /* A single-table DELETE may give its table an alias ("DELETE FROM p AS
     * t"); false: the statement qualifies columns with the table's name. */
    bool delete_alias;
    /* UPDATE ... RETURNING; false: an update whose ids are wanted reads
     * them first, under the parent's lock. */
    bool update_returning;
    /* UPDATE ... FROM source (standard); false: the multi-table form
     * "UPDATE p AS t, source SET t.c = ..." (columns qualified). */
    bool update_from;
    /* Reads whose result may hold at most this many rows are worth taking
     * whole (0: always stream): per row, a single-row mode may copy the
     * result's description into a result of its own. */
    size_t whole_rows;
} m2m__caps;

/* What the registry (drivers/registry.c) knows of a backend whether or not
 * its driver is built in: each driver folder's info.c, always compiled. */
typedef struct m2m__backend {
    const char *name;  /* m2m_backend(): "sqlite", ... */
    const char *label; /* its name in messages */
    /* The build switch and the library that bring the driver in, named
     * when a URL of it reaches a build without it. */
    const char *option, *library;
    /* The URLs it opens, as messages list them. */
    const char *urls;
    /* The prefix that turns a file's path into one of its URLs (messages
     * suggest it for a bare path); NULL: it opens no files. */
    const char *file_prefix;
    /* Is url one of its (by scheme, or by form)? */
    bool (*claims)(const char *url);
    m2m__caps caps;
} m2m__backend;

/* What m2m_rls_install asks a driver with caps.rls to install: the
 * relation's tables and owner column (validated identifiers) and the role
 * (validated, never NULL). */
typedef struct m2m__rls {
    const char *pivot, *parent, *related;
    const char *owner_column;
    bool owner_read_all; /* every row readable, writes still owner-bound */
    const char *role;
} m2m__rls;

/* ---- the vtable ---- */

/* The version of the interface below: a driver built for another is
 * refused by the registry. */
enum { M2M__DRIVER_VERSION = 4 };

/* Connection. */
typedef struct m2m__conn_ops {
    /* Connect to url (one the backend claims); state in db->conn, errors
     * via set_error. */
    int (*open)(m2m_db *db, const char *url);
    /* Disconnect and free db->conn. */
    void (*close)(m2m_db *db);
    /* Drop the connection and open a new one to the same URL. */
    int (*reconnect)(m2m_db *db);
} m2m__conn_ops;

/* Statements (all SQL uses $1..$n placeholders) and cursors. */
typedef struct m2m__stmt_ops {
    /* Prepare once, run many times. */
    int (*prepare)(m2m_db *db, const char *sql, m2m__stmt **out);
    /* Free a prepared statement. */
    void (*finalize)(m2m_db *db, m2m__stmt *st);
    /* Run steps in order, stopping at the first error (whose code it
     * returns, message set on db); a driver may send them in one pipeline. */
    int (*run)(m2m_db *db, m2m__step *steps, size_t n);
    /* Read of one statement. whole = 0 streams the rows; whole > 0 takes
     * the result in one piece, or, when it holds more than whole rows,
     * drops it and returns M2M__MORE. */
    int (*cursor_open)(m2m_db *db, m2m__stmt *st, const m2m_value *params, size_t n,
                       size_t whole, m2m__cursor **out);
    /* Advance: M2M_ROW, M2M_DONE or error. */
    int (*cursor_next)(m2m__cursor *c);
    /* The number of columns of the result. */
    int (*cursor_ncols)(m2m__cursor *c);
    /* Column i's name. */
    const char *(*cursor_name)(m2m__cursor *c, int i);
    /* Column i of the current row, borrowed until the next call. */
    m2m_value (*cursor_value)(m2m__cursor *c, int i);
    /* Stop reading and free the cursor. */
    void (*cursor_close)(m2m__cursor *c);
    /* A script of statements without parameters or rows. */
    int (*exec_script)(m2m_db *db, const char *script);
} m2m__stmt_ops;

/* Dialect: the SQL the backend owns, and the planner's questions to it. */
typedef struct m2m__dialect {
    /* A write transaction (e.g. "BEGIN IMMEDIATE" takes the write lock). */
    const char *begin_sql;
    /* A read-only transaction whose statements all see one snapshot: a
     * two-query read's pivot and related rows agree. */
    const char *read_begin_sql;
    /* With caps.rls: hand the JWT claims ($1, JSON) and role ($2) to the
     * policies for the current transaction. */
    const char *auth_sql;
    /* Without caps.single_writer: take the per-parent write lock inside the
     * current transaction, with $1 the int key of the pivot table and $2 the
     * parent, under a shared lock of the pivot table (lock_all_sql's, $1 the
     * same key). With caps.in_doubt the row ends with the transaction's id. */
    const char *lock_sql;
    /* ...and take that pivot lock exclusively, for writers keyed by the
     * other column of the pivot (docs/backends.md, Concurrency). */
    const char *lock_all_sql;
    /* With caps.in_doubt: the current transaction's id, or NULL when it has
     * written nothing. */
    const char *xid_sql;
    /* ...and, with $1 such an id, "committed", "aborted" or "in progress"
     * (NULL when unknown). */
    const char *xid_status_sql;
    /* The ids of an operation travel as one parameter of type M2M__TIDS
     * (m2m__ids). Append a FROM item over that parameter $param, named
     * alias, whose one column "value" holds the ids (of key type type). */
    void (*ids_from)(m2m__buf *b, int param, m2m_type type, const char *alias);
    /* Append "expr IN <ids $param>" (form M2M__NOT_IN: NOT IN), the
     * membership test the backend plans best for small and huge sets; form
     * M2M__IN_SPAN (only where span_ok allows it) for integer ids of a
     * narrow span (m2m__ids_narrow): a range scan of that span instead;
     * M2M__NOT_IN_FEW for NOT IN over at most not_in_few ids. */
    void (*ids_in)(m2m__buf *b, const char *expr, int param, m2m_type type, int form);
    /* The most ids a NOT IN takes in its M2M__NOT_IN_FEW form (0: never). */
    size_t not_in_few;
    /* Append a FROM-able relation of the rows of a JSON array of objects
     * bound as parameter $param, in the array's order; keys are column
     * names of table (quoted name: the pivot, or the related table for
     * m2m_create), and cols are the columns the SQL will read. */
    void (*input_rows)(m2m__buf *b, const char *table, int param, const char *const *cols,
                       size_t ncols);
    /* The same rows, with for each of cols[from..ncols) a boolean column
     * "m2m-has<k>" (k its index in cols): does the row's object have
     * that key? A row updates only the columns it names. */
    void (*input_rows_has)(m2m__buf *b, const char *table, int param,
                           const char *const *cols, size_t ncols, size_t from);
    /* Append the clause that makes an INSERT ... SELECT skip the rows a
     * unique index already holds (key: the pivot's related key, for a
     * dialect that must name a column). It follows a WHERE, which some
     * parsers need to read INSERT ... SELECT ... ON CONFLICT as an upsert. */
    void (*insert_skip)(m2m__buf *b, const char *key);
    /* Append the clause that returns column col (an identifier) of each
     * row a DELETE, INSERT or UPDATE of the pivot table writes, or an
     * INSERT ... SELECT into the related table (m2m_create: its keys, in
     * the order of the rows selected). The column goes unqualified: some
     * dialects take no table alias there. */
    void (*returning)(m2m__buf *b, const char *col);
    /* Append "a IS DISTINCT FROM b" (not_distinct: "a IS NOT DISTINCT FROM
     * b"), NULL-safe comparisons of two expressions. */
    void (*distinct)(m2m__buf *b, const char *a, const char *c, bool not_distinct);
    /* Append the direction of an ORDER BY term: NULLs first ascending,
     * last descending (" ASC NULLS FIRST" / " DESC NULLS LAST"). */
    void (*order_dir)(m2m__buf *b, bool desc);
    const char *now_sql;      /* current timestamp expression */
    const char *int_key_type; /* DDL type of integer keys */
    const char *text_type;    /* DDL type of text columns */
    /* DDL type of text keys, where a key needs a bounded width (NULL:
     * text_type). */
    const char *text_key_type;
    const char *timestamp_type; /* DDL type of timestamps */
    /* Can a range over the span of integer ids in column rk of table find
     * a parent's rows: does rk compare them as numbers, and does an index
     * lead with fk, rk, so that the range reads that parent's rows only?
     * 1 yes, 0 no; NULL: the backend has no M2M__IN_SPAN form. */
    int (*span_ok)(m2m_db *db, const char *table, const char *fk, const char *rk);
    /* Does a unique index of table cover exactly columns a and b? Then an
     * insert needs no NOT EXISTS: insert_skip alone skips the pairs present
     * (a subquery on the table being written may also make the backend
     * stage the rows first). 1 yes, 0 no, -1 could not ask now (ask again
     * later); NULL: always keep the NOT EXISTS. */
    int (*pair_unique)(m2m_db *db, const char *table, const char *a, const char *b);
    /* Without caps.single_writer: which of columns a and b leads a unique
     * index (the primary key included) whose keys hold both? 0 neither, 1
     * a, 2 b, 3 both (two such indexes), -1 could not ask now; NULL: never
     * asked (the lock's side follows the names, core/txn.c). */
    int (*key_lead)(m2m_db *db, const char *table, const char *a, const char *b);
    /* The index of col among table's columns, when the driver can report a
     * DELETE's rows without RETURNING (m2m__step.deleted_col, e.g. through
     * a pre-update hook, where RETURNING gathers its rows in a temporary
     * table first). -1: it cannot; NULL: never. */
    int (*deleted_col)(m2m_db *db, const char *table, const char *col);
    /* The columns of tables (validated identifiers, maybe schema-qualified,
     * resolved as the SQL resolves them) in one query: on_col(arg, t, name,
     * kind) for each column of tables[t], and once with name NULL for each
     * table that exists. kind: 'i' integer, 't' text, '?' other. M2M_OK,
     * an error (set on db), or M2M__LATER (nothing set) when it cannot ask
     * now: a cursor holds the connection. */
    int (*columns)(m2m_db *db, const char *const *tables, size_t n,
                   void (*on_col)(void *arg, size_t t, const char *name, char kind),
                   void *arg);
    /* The DDL type of a key column that references column col of table
     * (validated identifiers), for a backend whose foreign keys need the
     * very type (MariaDB: INT does not take BIGINT): written to out (n
     * bytes; "" keeps int_key_type / text_key_type). M2M_OK or an error
     * (set on db). NULL: always those types. */
    int (*key_type)(m2m_db *db, const char *table, const char *col, char *out, size_t n);
    /* With caps.rls: install the policies that bind the pivot's rows to
     * the token's sub, in one transaction (or a savepoint inside the
     * caller's); the message of a failure names the pivot. */
    int (*rls_install)(m2m_db *db, const m2m__rls *r);
} m2m__dialect;

/* Everything that differs between backends. The core never branches on the
 * backend; it reads these. */
typedef struct m2m__driver {
    int version;              /* M2M__DRIVER_VERSION */
    const m2m__backend *info; /* name, URLs and capabilities */
    m2m__conn_ops conn;
    m2m__stmt_ops stmt;
    m2m__dialect dialect;
} m2m__driver;

/* ---- drivers/std.c: standard SQL pieces a dialect may point to ---- */
/* Id arrays of more ids than this travel in pieces where the driver can
 * (MariaDB's long data), not whole in one request; tests lower it. */
extern size_t m2m__ids_inline_max;
/* " ON CONFLICT DO NOTHING" */
void m2m__std_insert_skip(m2m__buf *b, const char *key);
/* " RETURNING col" */
void m2m__std_returning(m2m__buf *b, const char *col);
/* "a IS [NOT] DISTINCT FROM c" */
void m2m__std_distinct(m2m__buf *b, const char *a, const char *c, bool not_distinct);
/* " ASC NULLS FIRST" or " DESC NULLS LAST" */
void m2m__std_order_dir(m2m__buf *b, bool desc);

/* ---- drivers/registry.c: the only place that lists the backends ---- */
/* The driver of url, or an error (set on db) saying what is wrong with it:
 * M2M_NOTSUP naming the backend when its driver is not built in. */
int m2m__driver_for(m2m_db *db, const char *url, const m2m__driver **out);
/* The first backend with row-level security, or NULL; *built: is its
 * driver built in? */
const m2m__backend *m2m__rls_backend(bool *built);

/* Set by a driver on every error it reports, mapping the backend's codes:
 * unique violation -> M2M_EXISTS, foreign key/not null/check ->
 * M2M_CONSTRAINT, RLS / insufficient privilege -> M2M_DENIED, busy/locked,
 * serialization failure and deadlock -> M2M_BUSY, lost connection ->
 * M2M_CONNECTION, statement timeout -> M2M_TIMEOUT. */

#endif /* M2M_DRIVER_H */
