/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the library's source files. Not installed. */
#ifndef M2M_INTERNAL_H
#define M2M_INTERNAL_H

#include "m2m.h"

#include <stdarg.h>
#include <stdbool.h>

#if defined(__GNUC__)
#define M2M__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define M2M__PRINTF(a, b)
#endif

/* ---- alloc.c: allocation through the hooks of m2m_set_allocator ---- */
void *m2m__malloc(size_t n);
void *m2m__calloc(size_t n, size_t size); /* overflow-checked, zeroed */
void *m2m__realloc(void *p, size_t n);
void m2m__free(void *p);
char *m2m__strdup(const char *s);
/* Grow *p (of *cap elements of size) to hold at least need; 0 or M2M_NOMEM. */
int m2m__grow(void **p, size_t *cap, size_t need, size_t size);

/* ---- buf.c: growable string; an allocation failure sticks in oom ---- */
typedef struct m2m__buf {
    char *p;
    size_t len, cap;
    bool oom;
    bool off; /* appends are dropped: a builder run only for its parameters */
} m2m__buf;
void m2m__buf_add(m2m__buf *b, const char *s);
void m2m__buf_addn(m2m__buf *b, const char *s, size_t n);
void m2m__buf_addf(m2m__buf *b, const char *fmt, ...) M2M__PRINTF(2, 3);
/* Append an identifier, double-quoted; "a.b" becomes "a"."b". The identifier
 * must have passed m2m__ident_ok(). */
void m2m__buf_ident(m2m__buf *b, const char *ident);
/* Append a value as a JSON scalar (numbers, escaped strings, null). */
void m2m__buf_json_value(m2m__buf *b, m2m_value v);
/* The decimal text of v written so that it ends just before end (no NUL;
 * at most 20 chars); returns where it starts. Ids, placeholders and
 * statement names are printed on hot paths, where printf cost more than
 * the rest of the work. */
char *m2m__int_text(char *end, int64_t v);
/* Take the string (NUL-terminated) out of b, or NULL on oom. b is reset. */
char *m2m__buf_take(m2m__buf *b);
void m2m__buf_free(m2m__buf *b);

/* ---- ident.c ---- */
/* [A-Za-z_][A-Za-z0-9_]* (max 63 chars), optionally one "schema." prefix. */
bool m2m__ident_ok(const char *s, bool allow_schema);

/* ---- value.c ---- */
/* Deep copy (text duplicated); M2M_NOMEM on failure. */
int m2m__value_copy(m2m_value *dst, m2m_value src);
void m2m__value_clear(m2m_value *v);
bool m2m__value_eq(m2m_value a, m2m_value b);
uint64_t m2m__value_hash(m2m_value v);
/* Byte-order comparison used by in-memory sorts: NULL < numbers < text. */
int m2m__value_cmp(m2m_value a, m2m_value b);

/* ---- digest.c ---- */
/* SHA-256 of n bytes at p: M2M_OK, or M2M_NOMEM (nothing set on a db). */
int m2m__sha256(const void *p, size_t n, unsigned char out[32]);

/* ---- input.c ---- */
/* Can v be stored in pivot column col: a valid type, and a finite number?
 * M2M_OK, or M2M_INVALID set on db naming where and col. */
int m2m__pivot_value_ok(m2m_db *db, const char *where, const char *col, m2m_value v);

/* ---- error.c ---- */
/* The one error funnel: records rc and the formatted message on db; returns
 * rc. db may be NULL (then only rc is returned). */
int m2m__set_error(m2m_db *db, int rc, const char *fmt, ...) M2M__PRINTF(3, 4);
void m2m__clear_error(m2m_db *db);

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
} m2m__ids;
/* The forms of drv->ids_in. */
enum { M2M__IN, M2M__NOT_IN, M2M__IN_SPAN };
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
} m2m__step;

/* Everything that differs between backends. The core never branches on the
 * backend; it calls these. All SQL uses $1..$n placeholders. */
typedef struct m2m__driver {
    int version; /* 1 */
    const char *name;
    /* Connection. open stores its state in db->conn; errors via set_error. */
    int (*open)(m2m_db *db, const char *url);
    void (*close)(m2m_db *db);
    int (*reconnect)(m2m_db *db);
    /* Statements: prepare once, run many times. */
    int (*prepare)(m2m_db *db, const char *sql, m2m__stmt **out);
    void (*finalize)(m2m_db *db, m2m__stmt *st);
    /* Run steps in order, stopping at the first error (whose code it
     * returns, message set on db). PostgreSQL sends them in one pipeline. */
    int (*run)(m2m_db *db, m2m__step *steps, size_t n);
    /* Read of one statement. whole = 0 streams the rows; whole > 0 takes
     * the result in one piece, or, when it holds more than whole rows,
     * drops it and returns M2M__MORE. */
    int (*cursor_open)(m2m_db *db, m2m__stmt *st, const m2m_value *params, size_t n,
                       size_t whole, m2m__cursor **out);
    int (*cursor_next)(m2m__cursor *c); /* M2M_ROW, M2M_DONE or error */
    int (*cursor_ncols)(m2m__cursor *c);
    const char *(*cursor_name)(m2m__cursor *c, int i);
    m2m_value (*cursor_value)(m2m__cursor *c, int i); /* borrowed until next */
    void (*cursor_close)(m2m__cursor *c);
    /* A script of statements without parameters or rows. */
    int (*exec_script)(m2m_db *db, const char *script);

    /* ---- dialect ---- */
    const char *begin_sql; /* "BEGIN IMMEDIATE" (SQLite) or "BEGIN" */
    /* A read-only transaction whose statements all see one snapshot: a
     * two-query read's pivot and related rows agree. */
    const char *read_begin_sql;
    /* The ids of an operation travel as one parameter of type M2M__TIDS
     * (m2m__ids). Append a FROM item over that parameter $param, named
     * alias, whose one column "value" holds the ids (of key type type). */
    void (*ids_from)(m2m__buf *b, int param, m2m_type type, const char *alias);
    /* Append "expr IN <ids $param>" (form M2M__NOT_IN: NOT IN), the
     * membership test the backend plans best for small and huge sets; form
     * M2M__IN_SPAN (only where span_ok allows it) for integer ids of a
     * narrow span (m2m__ids_narrow): a range scan of that span instead. */
    void (*ids_in)(m2m__buf *b, const char *expr, int param, m2m_type type, int form);
    /* Can a range over the span of integer ids in column rk of table find
     * a parent's rows: does rk compare them as numbers (SQLite: not TEXT
     * affinity), and does an index lead with fk, rk, so that the range
     * reads that parent's rows only? 1 yes, 0 no; NULL: the backend has no
     * M2M__IN_SPAN form. */
    int (*span_ok)(m2m_db *db, const char *table, const char *fk, const char *rk);
    /* DELETE and INSERT may share one statement through WITH (PostgreSQL):
     * toggle is then one statement. */
    bool dml_cte;
    /* The statements of one run() form one transaction by themselves
     * (PostgreSQL: an extended-protocol pipeline up to its sync), so an
     * operation sent whole needs no BEGIN and COMMIT. */
    bool batch_is_txn;
    /* Append a FROM-able relation of the rows of a JSON array of objects
     * bound as parameter $param; keys are column names of table (quoted
     * name), and cols are the columns the SQL will read. */
    void (*input_rows)(m2m__buf *b, const char *table, int param, const char *const *cols,
                       size_t ncols);
    /* The same rows, with for each of cols[from..ncols) a boolean column
     * "m2m-has<k>" (k its index in cols): does the row's object have
     * that key? A row updates only the columns it names. */
    void (*input_rows_has)(m2m__buf *b, const char *table, int param,
                           const char *const *cols, size_t ncols, size_t from);
    /* Append SQL that takes the per-parent write lock inside the current
     * transaction, with $1 the int key of the pivot table and $2 the parent,
     * under a shared lock of the pivot table (lock_all_sql's, $1 the same
     * key); NULL when the backend serializes writers anyway (SQLite). The
     * row of either ends with the transaction's id (xid_status_sql). */
    const char *lock_sql;
    /* ...and SQL that takes that pivot lock exclusively, for writers keyed
     * by the other column of the pivot (docs/backends.md, Concurrency). */
    const char *lock_all_sql;
    /* In-doubt commits (NULL: a commit is never in doubt, as on SQLite,
     * whose COMMIT either returns done or leaves nothing committed).
     * xid_sql: the current transaction's id, or NULL when it has written
     * nothing; xid_status_sql: with $1 such an id, "committed", "aborted"
     * or "in progress" (NULL when unknown). */
    const char *xid_sql;
    const char *xid_status_sql;
    /* Reads whose result may hold at most this many rows are worth taking
     * whole (0: always stream): per row, PostgreSQL's single-row mode
     * copies the result's description into a result of its own. */
    size_t whole_rows;
    /* Does a unique index of table cover exactly columns a and b? Then an
     * insert needs no NOT EXISTS: ON CONFLICT alone skips the pairs present
     * (on SQLite that subquery on the table being written also makes it
     * stage the rows in a temporary table first). 1 yes, 0 no, -1 could not
     * ask now (ask again later); NULL: always keep the NOT EXISTS. */
    int (*pair_unique)(m2m_db *db, const char *table, const char *a, const char *b);
    /* The index of col among table's columns, when the driver can report a
     * DELETE's rows without RETURNING (m2m__step.deleted_col; SQLite's
     * pre-update hook: RETURNING gathers its rows in a temporary table
     * first). -1: it cannot; NULL: never. */
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
    bool names_nocase; /* names compare ignoring ASCII case (SQLite) */
    /* DDL qualifies an index's name, not its table, with the schema, and
     * a foreign key names its table without one (SQLite). */
    bool ddl_local_names;
    const char *now_sql;        /* current timestamp expression */
    const char *int_key_type;   /* DDL type of integer keys */
    const char *text_type;      /* DDL type of text columns */
    const char *timestamp_type; /* DDL type of timestamps */
} m2m__driver;

extern const m2m__driver m2m__sqlite_driver;
#ifdef M2M_HAVE_PG
extern const m2m__driver m2m__pg_driver;
#endif

/* Set by a driver on every error it reports, mapping the backend's codes:
 * unique violation -> M2M_EXISTS, foreign key/not null/check ->
 * M2M_CONSTRAINT, RLS / insufficient privilege -> M2M_DENIED, busy/locked,
 * serialization failure and deadlock -> M2M_BUSY, lost connection ->
 * M2M_CONNECTION, statement timeout -> M2M_TIMEOUT. */

/* ---- busy.c: waiting out a busy database ---- */
/* The documented bound on how long one call waits for a busy database:
 * all its waits and retries together (SQLite's busy_timeout of old). */
enum { M2M__BUSY_TIMEOUT_MS = 5000 };
/* Monotonic clock, microseconds. */
int64_t m2m__clock_us(void);
/* Sleep the attempt-th backoff (1 ms doubling up to 50 ms, jittered), never
 * past deadline_us; false, without sleeping, once the deadline has passed. */
bool m2m__backoff(m2m_db *db, int attempt, int64_t deadline_us);
/* When the wait whose count-th poll this is must end (count 0 starts a
 * wait): the running operation's deadline, else the busy timeout from now. */
int64_t m2m__busy_wait_end(m2m_db *db, int count);

/* ---- the connection ---- */
enum { M2M__NFIXED_MAX = 12 };                      /* >= M2M__NFIXED */
typedef struct m2m__pending m2m__pending;           /* after-commit callbacks */
typedef struct m2m__digest_state m2m__digest_state; /* digest.c */
/* Free what version digests keep on db (digest.c). */
void m2m__digest_free(m2m_db *db);

struct m2m_db {
    const m2m__driver *drv;
    void *conn; /* driver state */
    int errcode;
    char *errmsg;
    int in_txn;       /* a caller transaction is open (m2m_begin) */
    int savepoint_no; /* names savepoints inside caller transactions */
    m2m_stats stats;
    void (*trace)(void *arg, const char *sql);
    void *trace_arg;
    m2m__pending *pending; /* after-commit callbacks of the caller txn */
    /* JWT session (auth.c): claims JSON and role, set per transaction;
     * exp, nbf and leeway, checked before each operation. */
    char *auth_claims;
    char *auth_role;
    char *auth_sub;
    double auth_exp, auth_nbf; /* the token's exp and nbf (0: none) */
    int64_t auth_leeway;
    bool cursor_busy;          /* a streaming cursor holds the connection */
    m2m__digest_state *digest; /* reused by every version digest */
    /* Busy waits (busy.c): the running write's deadline (0: none runs), the
     * end of the current wait, the backoff's jitter state. */
    int64_t busy_deadline, busy_wait_end;
    int busy_timeout_ms; /* M2M__BUSY_TIMEOUT_MS; tests shorten it */
    uint32_t busy_seed;
    /* The id of the transaction open on the server, for in-doubt commits:
     * xid_state 0 unknown, 1 none (it has written nothing), 2 in xid. */
    int xid_state;
    int64_t xid;
    /* Set by a driver when its last run failed with M2M_CONNECTION before
     * the server could commit any of it: nothing was sent, or the server
     * answered one of its statements with an error (an error aborts the
     * rest of a batch, whose COMMIT is always last). */
    bool lost_early;
    /* Set by a driver when its last run failed before sending anything. */
    bool unsent;
    /* m2m_open failed: the handle only carries why (open_err). */
    char *open_err;
    bool unopened;
    /* Relations and cursors open from db; m2m_close with some open only
     * marks it closing, and the last one out frees it. */
    size_t nopen;
    bool closing;
    m2m__stmt *fixed[M2M__NFIXED_MAX];
};

/* Called by drivers for every statement they execute. */
void m2m__note_exec(m2m_db *db, const char *sql);
/* M2M_OK, or M2M_MISUSE (set on db) for a handle whose m2m_open failed. */
int m2m__db_usable(m2m_db *db);
/* Open objects hold their db (and relation): a close while they are open
 * is finished by the last unref (m2m_close, m2m_relation_close). */
void m2m__db_ref(m2m_db *db);
void m2m__db_unref(m2m_db *db);
void m2m__rel_ref(m2m_relation *rel);
void m2m__rel_unref(m2m_relation *rel);

/* M2M_OK without a JWT session or while its token is valid (exp and nbf,
 * with the leeway, at this moment); else M2M_DENIED saying when it expired.
 * Sends nothing (auth.c). */
int m2m__auth_live(m2m_db *db);

/* ---- relations (relation.c) ---- */
/* Bits 61 to 63 of a statement's column mask are not columns. 63 asks
 * for the variant without RETURNING (sqlgen.c), used when no one wants the
 * ids; 62 for the variant whose rows all store the same values, which take
 * the ids as one array and the values as plain parameters. */
enum { M2M__MAX_PIVOT = 61 };
#define M2M__NO_RETURNING (1ULL << 63)
#define M2M__FLAT         (1ULL << 62)
/* Bit 61: the statement's ids are integers of a narrow span; its membership
 * test is drv->ids_in's M2M__IN_SPAN form. */
#define M2M__SPAN (1ULL << 61)

/* A statement built once for a relation and kept prepared: writes are keyed
 * by (op, column mask) so their SQL is never rebuilt; reads by their text. */
typedef struct m2m__cached {
    int op;
    uint64_t mask;
    char *sql;
    char *shape; /* reads: the query shape that built sql (query.c) */
    size_t nshape;
    m2m__stmt *stmt;
    int inuse; /* held by an open cursor: reads prepare another copy */
    bool big;  /* reads: a result outgrew the driver's whole_rows (query.c) */
} m2m__cached;

struct m2m_relation {
    m2m_db *db;
    char *parent_table, *parent_key, *related_table, *related_key;
    char *pivot_table, *fk, *rk; /* foreign / related pivot keys */
    m2m_type parent_type, related_type;
    /* Writable pivot columns: the extra columns, then the scope columns not
     * among them. Bit i of a column mask refers to cols[i]. */
    char *cols[M2M__MAX_PIVOT];
    size_t ncols;  /* all writable columns */
    size_t nextra; /* of which the declared pivot_columns (default reads) */
    m2m_value scope_vals[M2M__MAX_PIVOT]; /* per cols[i] when scope_mask bit i */
    uint64_t scope_mask;
    bool timestamps;
    char *created_at, *updated_at, *pivot_id, *owner_column;
    bool owner_read_all;
    int strategy;
    int32_t lock_key; /* per pivot table, for the PostgreSQL advisory lock */
    int pair_unique;  /* (fk, rk) unique in the pivot: 0 not asked, 1 no, 2 yes */
    int rk_col;       /* drv->deleted_col of rk: 0 not asked, -1 none, else index + 1 */
    int rk_span;      /* drv->span_ok of (fk, rk): 0 not asked, 1 no, 2 yes */
    bool checked;     /* tables and columns verified (relcheck.c) */
    m2m_before_fn before;
    m2m_after_fn after;
    void *cb_arg;
    m2m__cached *cache;
    size_t ncache, capcache;
    size_t nopen; /* queries and cursors open from it */
    bool closing; /* m2m_relation_close called while some were open */
};

/* Verify the definition against the database (one catalog query): the
 * tables and every named column exist (else M2M_NOTFOUND), keys hold the
 * declared id types (else M2M_TYPE). A missing pivot table is an error
 * only when pivot_needed; *pivot_exists (may be NULL) tells. Sets
 * rel->checked once all is verified; M2M_OK without it when the driver
 * cannot ask now. */
int m2m__rel_check(m2m_relation *rel, bool pivot_needed, bool *pivot_exists);
/* Index of a writable pivot column, or -1. */
int m2m__rel_col(const m2m_relation *rel, const char *name);
/* The prepared statement for (op, mask), its SQL made by build() on first
 * use. build returns M2M_OK or an error code (set on db). */
typedef int (*m2m__build_fn)(m2m_relation *rel, uint64_t mask, m2m__buf *b);
int m2m__rel_stmt(m2m_relation *rel, int op, uint64_t mask, m2m__build_fn build,
                  m2m__stmt **out);
/* The prepared statement for a read's SQL text (owned by the cache); *entry
 * is the cache entry, to mark while a cursor streams from it. */
int m2m__rel_stmt_sql(m2m_relation *rel, const char *sql, m2m__stmt **out, size_t *entry);
/* The read statement built for a query shape: M2M_NOTFOUND (no error set)
 * when none was; remember the shape of cache entry once it is built. */
int m2m__rel_stmt_shape(m2m_relation *rel, const char *shape, size_t n, m2m__stmt **out,
                        size_t *entry);
void m2m__rel_remember_shape(m2m_relation *rel, size_t entry, const char *shape,
                             size_t n);

/* ---- txn.c: one operation's transaction ---- */
typedef struct m2m__op {
    m2m_db *db;
    m2m_relation *rel;
    m2m__step *steps; /* the queue: inl, or on the heap once it outgrows it */
    size_t n, cap;
    m2m__step inl[12];
    bool open;          /* BEGIN / SAVEPOINT queued or sent */
    bool begin_pending; /* steps[0] is a BEGIN not sent yet */
    bool started;       /* the BEGIN or SAVEPOINT reached the server */
    m2m_value auth[2];
    m2m_value lock[2];
} m2m__op;
/* Queue BEGIN (or SAVEPOINT inside a caller txn), the JWT claims and the
 * per-parent lock. Nothing is sent until m2m__op_flush. M2M_DENIED, with
 * nothing queued, when the JWT session's token has expired. */
int m2m__op_begin(m2m__op *op, m2m_relation *rel, m2m_value parent);
/* The same without the lock, for reads. */
int m2m__op_begin_read(m2m__op *op, m2m_relation *rel);
/* Queue a statement; on_row receives its result rows. Returns the step
 * (valid until the next statement is queued: the queue may move; its index
 * op->n - 1 stays valid, and op->steps[ix].changes is readable after the
 * flush), or NULL when out of memory. */
m2m__step *m2m__op_add(m2m__op *op, m2m__stmt *st, const m2m_value *params, size_t n,
                       int (*on_row)(void *arg, m2m__cursor *row), void *arg);
/* Send what is queued (one round trip on PostgreSQL). */
int m2m__op_flush(m2m__op *op);
/* Queue COMMIT (or RELEASE) and flush. When the BEGIN is still queued and
 * the driver's batches are transactions, both are dropped instead: the
 * batch commits, or rolls back whole, by itself. */
int m2m__op_commit(m2m__op *op);
/* Roll back what the operation did; keeps the error already on db. */
void m2m__op_abort(m2m__op *op);
/* Free the queue's memory (op may be begun again). */
void m2m__op_release(m2m__op *op);

/* Fixed statements of a connection (BEGIN, COMMIT, ...), prepared once. */
enum {
    M2M__BEGIN,
    M2M__COMMIT,
    M2M__ROLLBACK,
    M2M__SAVEPOINT,
    M2M__RELEASE,
    M2M__ROLLBACK_TO,
    M2M__AUTH,
    M2M__LOCK,
    M2M__LOCK_ALL,
    M2M__READ_BEGIN,
    M2M__XID,
    M2M__XID_STATUS,
    M2M__NFIXED
};
int m2m__fixed(m2m_db *db, int which, m2m__stmt **out);

/* on_row of a statement whose last column is the transaction's id (the
 * lock statement, xid_sql): records it on db, arg. */
int m2m__xid_row(void *arg, m2m__cursor *row);
/* A batch that carried a COMMIT (or committed by itself) failed with rc.
 * When the connection was lost, ask the server what became of the
 * transaction (reconnecting to do so): M2M_OK when it committed,
 * M2M_CONNECTION when it did not, M2M_INDOUBT when that cannot be known;
 * the message says which. Any other rc is returned as it is. */
int m2m__resolve_commit(m2m_db *db, int rc);

/* After-commit callbacks inside a caller transaction: the entry is made
 * (the allocation that can fail) before the operation's RELEASE and queued
 * after it, which cannot fail. new takes ownership of ch. */
m2m__pending *m2m__pending_new(m2m_after_fn fn, void *arg, m2m_changes *ch);
void m2m__pending_push(m2m_db *db, m2m__pending *p);
void m2m__pending_drop(m2m__pending *p);

/* ---- rows.c ---- */
/* A cursor over a statement's rows (RAW layout: every column is related). */
int m2m__rows_raw(m2m_db *db, m2m__stmt *st, bool own_stmt, const m2m_value *params,
                  size_t n, m2m_rows **out);
/* Deep copies of parameter arrays that must outlive the call. */
int m2m__values_dup(const m2m_value *src, size_t n, m2m_value **out);
void m2m__values_free(m2m_value *v, size_t n);

#endif /* M2M_INTERNAL_H */
