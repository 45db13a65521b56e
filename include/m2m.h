/* SPDX-License-Identifier: MIT */
/*
 * m2m.h — many-to-many relations stored in pivot tables, for C.
 *
 * This file is the whole public API of libm2m. Anything not declared here is
 * internal and may change.
 *
 * Threads: an m2m_db and everything opened from it are used by one thread at
 * a time; separate m2m_db handles are independent, in any threads. The only
 * global setting is the allocator (m2m_set_allocator); the one shared state
 * is internal: SQLite connections of one process to the same file wake each
 * other when a transaction ends, through a registry under its own mutex.
 *
 * Ownership words: "borrowed" pointers stay owned by whoever passed or returned
 * them and are valid only as long as stated; "new" objects are owned by the
 * caller and freed with the named _free/_close function. Every free function
 * accepts NULL. A failed constructor sets its OUT pointer to NULL, except
 * m2m_open (its handle carries the reason).
 *
 * C++: the header compiles as C++ (11 and later); the value macros M2M_INT,
 * M2M_TEXT, ... are inline functions there, C's compound literals not being
 * C++.
 */
#ifndef M2M_H
#define M2M_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(M2M_BUILDING)
#define M2M_API __attribute__((visibility("default")))
#else
#define M2M_API
#endif

#define M2M_VERSION        "0.2.0"
#define M2M_VERSION_NUMBER 200 /* major*10000 + minor*100 + patch */

M2M_API const char *m2m_libversion(void);
M2M_API int m2m_libversion_number(void);

/* ------------------------------------------------------------------------
 * Result codes. Stable: values are only ever added, never reused.
 * ---------------------------------------------------------------------- */
#define M2M_ERRNO_MAP(XX)                                                                \
    XX(OK, 0, "not an error")                                                            \
    XX(ERROR, 1, "generic error")                                                        \
    XX(MISUSE, 2, "library misuse (NULL or closed handle, call out of order)")           \
    XX(INVALID, 3, "invalid argument")                                                   \
    XX(NOTFOUND, 4, "not found")                                                         \
    XX(CONSTRAINT, 5, "constraint violation")                                            \
    XX(EXISTS, 6, "already exists")                                                      \
    XX(DENIED, 7, "permission denied")                                                   \
    XX(BUSY, 8, "database busy")                                                         \
    XX(IOERR, 9, "I/O error")                                                            \
    XX(NOMEM, 10, "out of memory")                                                       \
    XX(CONNECTION, 11, "connection lost")                                                \
    XX(CONFLICT, 12, "version conflict: the set changed since it was read")              \
    XX(VETOED, 13, "vetoed by a before-change callback")                                 \
    XX(NOTSUP, 14, "not supported")                                                      \
    XX(TIMEOUT, 15, "statement timeout")                                                 \
    XX(TYPE, 16, "type mismatch")                                                        \
    XX(ROW, 100, "another row is ready")                                                 \
    XX(DONE, 101, "no more rows")                                                        \
    XX(INDOUBT, 17, "in doubt: the connection was lost after COMMIT was sent")

enum {
#define M2M__XX(name, code, msg) M2M_##name = code,
    M2M_ERRNO_MAP(M2M__XX)
#undef M2M__XX
};

/* Static description of a code ("constraint violation"); never NULL. */
M2M_API const char *m2m_errstr(int rc);
/* Symbolic name of a code ("M2M_CONSTRAINT"); never NULL. */
M2M_API const char *m2m_errname(int rc);

/* ------------------------------------------------------------------------
 * Values: ids, pivot data, filter operands and read results.
 * Text is UTF-8 and NUL-terminated. A value passed in is borrowed for the
 * duration of the call; the library copies what it keeps.
 * ---------------------------------------------------------------------- */
typedef enum m2m_type {
    M2M_TNULL = 0,
    M2M_TINT = 1,  /* int64_t */
    M2M_TREAL = 2, /* double */
    M2M_TTEXT = 3  /* const char *, NUL-terminated */
} m2m_type;

typedef struct m2m_value {
    m2m_type type;
    union {
        int64_t i;
        double d;
        const char *s;
    };
} m2m_value;

#ifndef __cplusplus
#define M2M_NULL    ((m2m_value){.type = M2M_TNULL, .i = 0})
#define M2M_INT(x)  ((m2m_value){.type = M2M_TINT, .i = (int64_t)(x)})
#define M2M_REAL(x) ((m2m_value){.type = M2M_TREAL, .d = (double)(x)})
#define M2M_TEXT(x) ((m2m_value){.type = M2M_TTEXT, .s = (x)})
#else
/* C++ has no compound literals: the same macros, as inline functions. */
inline m2m_value m2m__value_int(int64_t i) {
    m2m_value v;
    v.type = M2M_TINT;
    v.i = i;
    return v;
}
inline m2m_value m2m__value_real(double d) {
    m2m_value v;
    v.type = M2M_TREAL;
    v.d = d;
    return v;
}
inline m2m_value m2m__value_text(const char *s) {
    m2m_value v;
    v.type = M2M_TTEXT;
    v.s = s;
    return v;
}
#define M2M_NULL    (m2m_value()) /* zeroed: M2M_TNULL */
#define M2M_INT(x)  m2m__value_int((int64_t)(x))
#define M2M_REAL(x) m2m__value_real((double)(x))
#define M2M_TEXT(x) m2m__value_text(x)
#endif

/* The text of a value as m2m prints it (messages, CLI): integers in decimal,
 * reals with 17 significant digits, text as is, "NULL" for null. Writes into
 * buf (32 bytes suffice) and returns buf, or v.s for text. */
M2M_API const char *m2m_value_text(m2m_value v, char *buf, size_t size);

/* A named value: one pivot column and what to store in it. */
typedef struct m2m_col {
    const char *name;
    m2m_value value;
} m2m_col;

/* One related id with its own pivot data (the seeds' map form
 * `{ [id]: { role: 'admin' } }`). pivot may be NULL when npivot is 0. Items
 * of one call may name different columns: an attached row stores NULL in a
 * column another item names and it does not (the default when no item
 * names it); an updated row keeps the columns its item does not name. */
typedef struct m2m_item {
    m2m_value id;
    const m2m_col *pivot;
    size_t npivot;
} m2m_item;

/* ------------------------------------------------------------------------
 * Allocator. Call before anything else, or not at all.
 * ---------------------------------------------------------------------- */
M2M_API void m2m_set_allocator(void *(*malloc_fn)(size_t),
                               void *(*realloc_fn)(void *, size_t),
                               void (*free_fn)(void *));

/* ------------------------------------------------------------------------
 * Connections.
 * ---------------------------------------------------------------------- */
typedef struct m2m_db m2m_db;

/* Open a database by URL:
 *   "sqlite:path/to/file.db", "sqlite::memory:"     (embedded default)
 *   "postgresql://user@host/db", "postgres://...", or a libpq connection
 *   string such as "host=/tmp dbname=app"
 *   "mariadb://user:pw@host:3306/db", "mysql://...", or over a unix socket
 *   "mariadb://user:pw@localhost/db?socket=/run/mysqld/mysqld.sock", and
 *   "...?wsrep_sync_wait=1" for causal reads on a Galera cluster (options
 *   joined by '&'; docs/backends.md, Scaling out)
 * SQLite connections get foreign_keys=ON and wait up to 5 s for another
 * connection's lock (per call: a write's waits and retries together).
 *
 * Like sqlite3_open_v2 and PQconnectdb, a failed open still stores a
 * handle in *out that says why: m2m_errcode(*out) and m2m_errmsg(*out).
 * Any other call on it returns M2M_MISUSE (keeping the reason in its
 * message); m2m_close() it. The codes:
 *   M2M_INVALID     no database URL: empty, an unknown scheme (the message
 *                   lists the URLs m2m opens; it names only the scheme,
 *                   never what follows, which may hold a password), a bare
 *                   path (the message suggests "sqlite:" + path), or
 *                   "sqlite:" with no path;
 *   M2M_NOTSUP      a PostgreSQL or MariaDB URL in a build without that
 *                   backend (M2M_WITH_POSTGRESQL, M2M_WITH_MARIADB);
 *   M2M_IOERR       the SQLite file cannot be opened (a missing directory
 *                   is named);
 *   M2M_CONNECTION  the server cannot be reached: libpq's or Connector/C's
 *                   reason.
 * Only M2M_MISUSE (url or out NULL) and M2M_NOMEM (no memory for the
 * handle) leave *out NULL. */
M2M_API int m2m_open(const char *url, /* database URL */
                     m2m_db **out     /* OUT: new handle, m2m_close() it,
                                         also after a failure */
);
/* Close the handle. NULL is a no-op. Returns M2M_OK.
 * Closing in any order is safe, as with sqlite3_close_v2: while relations,
 * queries or cursors opened from db are still open, the connection stays
 * open for them and they keep working; it is closed and freed when the
 * last of them is closed or freed. Do not use db itself afterwards. */
M2M_API int m2m_close(m2m_db *db);

/* Backend name: "sqlite" or "postgresql"; NULL for a handle that did not
 * open. */
M2M_API const char *m2m_backend(m2m_db *db);

/* The result of the last failed call on db and its message (what failed and
 * on which table/column/id). Every call that returns an error sets both, so
 * they always describe the call that failed, never an earlier one. The
 * message is valid until the next call on db. A call given a NULL handle
 * (db, relation, query or cursor) returns M2M_MISUSE and sets nothing: there
 * is no handle to hold a message, so the db's code and message stay those of
 * an earlier call. m2m_errcode(NULL) is M2M_MISUSE and m2m_errmsg(NULL) says
 * the handle is NULL. */
M2M_API int m2m_errcode(m2m_db *db);
M2M_API const char *m2m_errmsg(m2m_db *db);

/* PostgreSQL, MariaDB: drop and re-open the connection after M2M_CONNECTION
 * or M2M_INDOUBT. Prepared statements are prepared again on first use. SQLite:
 * the file stays open. On both an open caller transaction ends: it is rolled
 * back and m2m_commit() then returns M2M_MISUSE. */
M2M_API int m2m_reconnect(m2m_db *db);

/* Caller transactions. Library operations inside one run as savepoints: a
 * failed operation rolls back only itself. Not nestable. m2m_commit always
 * ends the transaction: when the COMMIT fails it rolls back and returns the
 * error; when the connection is lost after COMMIT was sent it answers as a
 * write operation does (M2M_OK, M2M_CONNECTION or M2M_INDOUBT, see below),
 * and the after-callbacks run only for M2M_OK. */
M2M_API int m2m_begin(m2m_db *db);
M2M_API int m2m_commit(m2m_db *db);
M2M_API int m2m_rollback(m2m_db *db);

/* Run SQL the application wrote itself (schema set-up, fixtures). Parameters
 * are written $1, $2, ... on every backend and bound from params; the SQL text
 * is used as given, so never build it from untrusted input. With out == NULL
 * the rows (if any) are discarded; otherwise *out is a cursor to read them. */
typedef struct m2m_rows m2m_rows;
M2M_API int m2m_sql(m2m_db *db, const char *sql, const m2m_value *params, size_t nparams,
                    m2m_rows **out /* OUT, may be NULL */);
/* Run a script of several statements with no parameters and no rows. */
M2M_API int m2m_exec(m2m_db *db, const char *script);

/* Counters of SQL work, for tests and benchmarks. */
typedef struct m2m_stats {
    uint64_t prepared;    /* statements prepared (cache misses) */
    uint64_t executed;    /* statements executed, BEGIN/COMMIT/SAVEPOINT too */
    uint64_t round_trips; /* client-server round trips (0 on SQLite) */
    uint64_t rows_peak;   /* most result rows held in memory at once */
} m2m_stats;
M2M_API void m2m_stats_get(m2m_db *db, m2m_stats *out /* OUT */);
M2M_API void m2m_stats_reset(m2m_db *db);
/* Called with the SQL text of every statement executed; NULL turns it off. */
M2M_API void m2m_trace(m2m_db *db, void (*fn)(void *arg, const char *sql), void *arg);

/* What a call would send, without sending it: like EXPLAIN, for m2m itself.
 * After m2m_explain(db, &plan), the next write (attach, detach, sync,
 * toggle, update pivot, create) or read (m2m_query_get, m2m_query_count and their
 * _each forms, m2m_version) on db checks its arguments as usual but sends
 * none of its statements and changes nothing; it returns M2M_OK (or the
 * error its arguments earn) and *plan then holds the statements it would
 * send on this connection, in order, each with why it was chosen. The
 * facts a plan rests on (which columns exist, whether a unique index
 * covers the pivot's keys) may be read from the catalog once per
 * relation, as a real call would. An explained call fills no report
 * (*out stays NULL), returns no rows (an empty m2m_rows, or NULL from
 * first and find) and counts 0, and calls no callback. A call that fails
 * leaves *plan NULL; either way the next call runs for real. */
typedef struct m2m_plan m2m_plan;
enum {
    /* Sent only when what an earlier round trip returned asks for it (a
     * toggle's DELETE, when its SELECT found attached ids). */
    M2M_PLAN_IF_FOUND = 1 << 0,
    /* Its rows are read before the next round trip: a version compared,
     * a row-level security count checked, ids the next step needs. */
    M2M_PLAN_READ = 1 << 1
};
M2M_API int m2m_explain(m2m_db *db, m2m_plan **plan /* OUT on the next call */);
M2M_API size_t m2m_plan_count(const m2m_plan *plan);
/* Statement i (0-based): its SQL text, why it is sent, how many parameters
 * it binds, its round trip (1, 2, ...: the statements of one round trip go
 * to the server together) and its M2M_PLAN_* flags. Out of range: NULL or
 * 0. */
M2M_API const char *m2m_plan_sql(const m2m_plan *plan, size_t i);
M2M_API const char *m2m_plan_why(const m2m_plan *plan, size_t i);
M2M_API size_t m2m_plan_nparams(const m2m_plan *plan, size_t i);
M2M_API int m2m_plan_round(const m2m_plan *plan, size_t i);
M2M_API int m2m_plan_flags(const m2m_plan *plan, size_t i);
/* The round trips of the whole plan (0 when it sends nothing). */
M2M_API int m2m_plan_rounds(const m2m_plan *plan);
M2M_API void m2m_plan_free(m2m_plan *plan);

/* ------------------------------------------------------------------------
 * Relations.
 * ---------------------------------------------------------------------- */
typedef struct m2m_relation m2m_relation;

enum { M2M_JOIN = 0, M2M_TWO_QUERY = 1 }; /* read strategies */

/* A filter-only condition of a relation (m2m_relation_def.where, Eloquent's
 * wherePivotIn / wherePivotNull / ... in the relation method): a pivot
 * column, an operator and its values. Operators (any case) and the values
 * they take: "=", "!=", "<>", "<", "<=", ">", ">=", "like", "not like"
 * one; "in", "not in" one or more; "between", "not between" two (lo, hi,
 * inclusive); "null", "not null" none. Values are never NULL (use "null"),
 * are bound as parameters and compare as the backend compares them (LIKE
 * is case-insensitive on SQLite); a row whose column is NULL matches only
 * "null". */
typedef struct m2m_cond {
    const char *column;
    const char *op;
    const m2m_value *values;
    size_t nvalues;
} m2m_cond;

/* m2m_relation_def.timestamps. An inserted row gets every column kept
 * (updated_at too); m2m_update_pivot and sync's updates set updated_at,
 * when kept. M2M_CREATED_AT alone is Eloquent's withTimestamps(createdAt,
 * null). */
enum { M2M_TIMESTAMPS = 1, M2M_CREATED_AT = 1 << 1, M2M_UPDATED_AT = 1 << 2 };

/* Definition of a BelongsToMany relation. Identifiers match
 * [A-Za-z_][A-Za-z0-9_]* and may be schema-qualified ("app.user_roles");
 * they are checked by m2m_relation_open() and always quoted in SQL.
 * Unset (NULL/0) fields take the defaults shown. All strings are copied. */
typedef struct m2m_relation_def {
    int version;                      /* 0 */
    const char *parent_table;         /* e.g. "users"; required */
    const char *parent_key;           /* local key on parent; "id" */
    const char *related_table;        /* e.g. "roles"; required */
    const char *related_key;          /* local key on related; "id" */
    const char *pivot_table;          /* e.g. "role_user"; required */
    const char *foreign_pivot_key;    /* pivot column -> parent; required */
    const char *related_pivot_key;    /* pivot column -> related; required */
    m2m_type parent_key_type;         /* M2M_TINT (default) or M2M_TTEXT */
    m2m_type related_key_type;        /* M2M_TINT (default) or M2M_TTEXT */
    const char *const *pivot_columns; /* NULL-terminated extra columns; the
                                         default with-pivot set of reads */
    int timestamps;                   /* 0, or M2M_TIMESTAMPS: both columns;
                                         or M2M_CREATED_AT and/or
                                         M2M_UPDATED_AT: those only */
    const char *created_at;           /* "created_at" */
    const char *updated_at;           /* "updated_at" */
    const char *pivot_id;             /* own id column, filled "parent_related" */
    const m2m_col *scope;             /* fixed pivot values: reads filter on
                                         them, writes store them, and every
                                         write touches only rows inside */
    size_t nscope;
    const char *owner_column; /* JWT-bound: pivot column that must
                                 equal the token's sub (PostgreSQL;
                                 M2M_NOTSUP on SQLite and MariaDB) */
    int owner_read_all;       /* RLS: any authenticated user may read */
    int strategy;             /* M2M_JOIN or M2M_TWO_QUERY */
    const m2m_cond *where;    /* filter-only conditions, all AND-ed with
                                 the scope: every read and write sees only
                                 the pivot rows matching them, but no write
                                 stores them (at most 16, 64 values) */
    size_t nwhere;
    int touch;                      /* set the parent row's updated_at when a
                                       write changes its set (Eloquent's
                                       $touches); 0: never */
    const char *parent_updated_at;  /* that column of the parent table:
                                       "updated_at" */
    const char *related_updated_at; /* the related table's, touched by the
                                       inverse relation: "updated_at" */
} m2m_relation_def;

/* Check def and open the relation. M2M_INVALID, before any SQL, for a bad
 * identifier or a definition that cannot work (the two pivot keys, pivot_id
 * and the timestamps not five distinct columns, an extra or scope column
 * that is one of them, a pivot column listed twice, a scope value of no
 * valid type, NaN or infinite, a where condition with an unknown operator,
 * the wrong number of values or a NULL value). Then one catalog query: M2M_NOTFOUND names
 * the parent or related table, or any column the definition names, that
 * does not exist; M2M_TYPE a key holding integers when its key type is
 * M2M_TTEXT, or text when M2M_TINT. The pivot table alone may not exist
 * yet (m2m_relation_create_pivot makes it): it is then checked at the
 * relation's first read or write, which fail with M2M_NOTFOUND while it is
 * missing. No name is reserved. */
M2M_API int m2m_relation_open(m2m_db *db, const m2m_relation_def *def,
                              m2m_relation **out /* OUT: m2m_relation_close() */);
/* The inverse relation (related becomes parent), e.g. roles -> users from
 * users -> roles; scope, where conditions, pivot columns, timestamps and
 * touch carry over (the inverse touches its parent, the related table, in
 * related_updated_at). */
M2M_API int m2m_relation_inverse(const m2m_relation *rel,
                                 m2m_relation **out /* OUT: m2m_relation_close() */);
/* Closing a relation while queries or cursors from it are open is safe:
 * it is freed when the last of them is freed (see m2m_close). */
M2M_API void m2m_relation_close(m2m_relation *rel);
M2M_API m2m_db *m2m_relation_db(const m2m_relation *rel);

/* Create the pivot table if it does not exist: the two keys as composite
 * primary key, foreign keys ON DELETE CASCADE, an index on the related key
 * (named "<pivot>_<key>_<8 hex digits>_idx", unique and at most 63 bytes),
 * extra columns (TEXT), timestamps and the own id column. Parent and related
 * tables must exist (M2M_NOTFOUND); an existing pivot table is left as it
 * is. Runs in one transaction. */
M2M_API int m2m_relation_create_pivot(m2m_relation *rel);

/* ------------------------------------------------------------------------
 * Change reports.
 * ---------------------------------------------------------------------- */
enum {
    M2M_OP_ATTACH = 1,
    M2M_OP_DETACH,
    M2M_OP_SYNC,
    M2M_OP_TOGGLE,
    M2M_OP_UPDATE,
    M2M_OP_CREATE
};

/* A set's version: the SHA-256 of its rows, 64 lower-case hex digits and
 * NUL. (It grew from 16 digits in 0.2.0: the old digest could give two
 * different sets one version.) */
#define M2M_VERSION_LEN 65

/* What one operation changed. Values are owned by the report. Ids appear in
 * the order the database returned them. */
typedef struct m2m_changes {
    int op;              /* M2M_OP_* */
    m2m_value parent;    /* the parent id */
    m2m_value *attached; /* ids newly attached */
    size_t nattached;
    m2m_value *detached; /* ids detached */
    size_t ndetached;
    m2m_value *updated; /* ids whose pivot row changed */
    size_t nupdated;
    char version[M2M_VERSION_LEN]; /* set's version after the change when
                                      M2M_WANT_VERSION or if_version asked */
} m2m_changes;

M2M_API void m2m_changes_free(m2m_changes *ch);

/* Options shared by the write operations; NULL means all defaults. */
enum {
    M2M_KEEP = 1 << 0,            /* sync without detaching */
    M2M_UPDATE_EXISTING = 1 << 1, /* sync: write given pivot data to kept
                                     rows too (Eloquent); default: only to
                                     new rows (Django's through_defaults) */
    M2M_WANT_VERSION = 1 << 2,    /* fill m2m_changes.version */
    M2M_COUNTS = 1 << 3           /* report counts only: nattached,
                                     ndetached and nupdated, their id lists
                                     NULL (no id is returned nor stored;
                                     a change callback still gets them) */
};
typedef struct m2m_opts {
    int version;          /* 0 */
    int flags;            /* M2M_KEEP | M2M_UPDATE_EXISTING | ... */
    const m2m_col *pivot; /* pivot data shared by all items; an item's
                             own data wins per column */
    size_t npivot;
    const char *if_version; /* sync: fail with M2M_CONFLICT, changing
                               nothing, unless the set still has this
                               version (from m2m_version or a report) */
} m2m_opts;

/* Every write operation below:
 *  - runs in one transaction (a savepoint inside m2m_begin());
 *  - is all-or-nothing: on any error the database is as before;
 *  - is serialized with every other write on the same parent, through this
 *    relation, its inverse or another relation over the same pivot table
 *    (named alike), whatever the options: concurrent writers from any
 *    number of connections give the result of some serial order, and a
 *    report says what that order did (docs/backends.md, Concurrency);
 *  - outside a caller transaction, starts over (after a jittered backoff of
 *    1 to 50 ms) when the database is busy: SQLite busy or locked,
 *    PostgreSQL serialization failure, deadlock or lock timeout, MariaDB
 *    deadlock (1213, also a Galera certification failure at COMMIT) or
 *    lock wait timeout (1205). After 5 s
 *    from the call, all waits included, it fails with M2M_BUSY, the code
 *    kept by m2m_errcode() and a message naming what was busy. Inside
 *    m2m_begin() the first M2M_BUSY returns: the caller's transaction is
 *    what must start over;
 *  - issues a constant number of statements whatever the number of ids;
 *  - takes ids of one type (the relation's key type), duplicates allowed;
 *  - on success stores a new report in *out when out is not NULL.
 * Errors: M2M_MISUSE (NULL handle), M2M_INVALID (unknown pivot column, NULL
 * id, a pivot value that is NaN or infinite: the backends would store it
 * apart), M2M_TYPE (id of the wrong type), M2M_NOTFOUND (a table or column
 * gone from the database), M2M_CONSTRAINT (a foreign key rejected
 * an id; the message names it), M2M_DENIED, M2M_BUSY, M2M_CONNECTION, ...
 * A connection lost once the commit may have reached the server (PostgreSQL,
 * MariaDB) is resolved by reconnecting and asking the server: committed is M2M_OK
 * (report and after-callback as usual), rolled back is M2M_CONNECTION
 * (nothing changed; the connection is then new). When that cannot be known
 * the result is M2M_INDOUBT: the change may or may not be committed, there
 * is no report and the after-callback does not run; the message names the
 * transaction id when it is known (PostgreSQL: SELECT txid_status(id) tells
 * later; MariaDB: the token of docs/backends.md, MariaDB). */

/* Attach items not yet attached; already attached ones are skipped (also on
 * a pivot table without a unique index). Reports attached. A scoped
 * relation's pair present outside the scope (or its where conditions) is
 * not attached: its in-scope row is added, or, where a unique index on the
 * two keys forbids a second row, attach/sync/toggle fail with M2M_EXISTS
 * naming the id. Where conditions are not written: a row stored that does
 * not match them is reported attached but is not the relation's. */
M2M_API int m2m_attach(m2m_relation *rel, m2m_value parent, const m2m_item *items,
                       size_t n, const m2m_opts *opts, m2m_changes **out);

/* m2m_attach, m2m_sync and m2m_toggle of plain ids: the same call, path,
 * guarantees and report, every row storing only opts->pivot (16 bytes an
 * id in the caller's array, read in place). NULL ids with n > 0 is
 * M2M_MISUSE. */
M2M_API int m2m_attach_ids(m2m_relation *rel, m2m_value parent, const m2m_value *ids,
                           size_t n, const m2m_opts *opts, m2m_changes **out);
M2M_API int m2m_sync_ids(m2m_relation *rel, m2m_value parent, const m2m_value *ids,
                         size_t n, const m2m_opts *opts, m2m_changes **out);
M2M_API int m2m_toggle_ids(m2m_relation *rel, m2m_value parent, const m2m_value *ids,
                           size_t n, const m2m_opts *opts, m2m_changes **out);

/* Detach the given ids, or all when ids is NULL (an empty non-NULL list
 * detaches nothing). Reports detached; ndetached is the count. */
M2M_API int m2m_detach(m2m_relation *rel, m2m_value parent, const m2m_value *ids,
                       size_t n, const m2m_opts *opts, m2m_changes **out);

/* Make the set exactly items (or add them, with M2M_KEEP). Reports attached,
 * detached and updated. Honors opts->if_version. */
M2M_API int m2m_sync(m2m_relation *rel, m2m_value parent, const m2m_item *items, size_t n,
                     const m2m_opts *opts, m2m_changes **out);

/* Attach the absent items, detach the present ones. Pivot data applies to
 * the newly attached. Reports attached and detached. */
M2M_API int m2m_toggle(m2m_relation *rel, m2m_value parent, const m2m_item *items,
                       size_t n, const m2m_opts *opts, m2m_changes **out);

/* Set pivot columns on the existing pivot rows of ids (the seeds'
 * updateExistingPivot). Touches updated_at with timestamps on. Reports the
 * ids of the rows updated (nupdated: 0 when none is attached). */
M2M_API int m2m_update_pivot(m2m_relation *rel, m2m_value parent, const m2m_value *ids,
                             size_t n, const m2m_col *cols, size_t ncols,
                             m2m_changes **out);

/* A related row to create: its columns (names of the related table's
 * columns, each once; its key too, to give it instead of letting the
 * database generate it), and its own pivot data (may be NULL when npivot
 * is 0). */
typedef struct m2m_new {
    const m2m_col *cols;
    size_t ncols;
    const m2m_col *pivot;
    size_t npivot;
} m2m_new;

/* Insert n rows into the related table and attach them to parent, in one
 * transaction (Eloquent's create / createMany; Django's create with
 * through_defaults): one INSERT ... RETURNING of all rows, then the attach
 * statement, whatever n. Every row names the same columns, at least one;
 * values are bound as parameters, never written into the SQL. A column
 * not named takes the table's default; the key is generated by the
 * database (INTEGER PRIMARY KEY on SQLite, serial or identity on
 * PostgreSQL) unless the rows name it. opts->pivot is pivot data shared
 * by all rows (a row's own wins per column), as for m2m_attach. Reports
 * op M2M_OP_CREATE with attached = the new keys, in the order of rows.
 * Errors, the database then unchanged: M2M_INVALID (no column, a column
 * named twice or missing from a row that others name, a name that is not
 * an identifier, a NaN or infinite value, a NULL text, an unknown pivot
 * column), M2M_NOTFOUND (a column the related table does not have),
 * M2M_TYPE (text for a numeric column, a number for a text one, a key
 * of another type than the relation's), M2M_EXISTS (a key
 * already present), M2M_CONSTRAINT (the parent does not exist, or a
 * constraint of the related table), and those listed for every write.
 * A row names at most 61 columns; n = 0 changes nothing. */
M2M_API int m2m_create(m2m_relation *rel, m2m_value parent, const m2m_new *rows, size_t n,
                       const m2m_opts *opts, m2m_changes **out);

/* The current version of parent's set: an order-independent SHA-256 digest
 * of the related ids and their pivot column values (the encoding is in
 * docs/guide.md), the same for the same rows on every backend. In a JWT
 * session it is read as the session's role, in a transaction (a savepoint
 * inside m2m_begin()) that sets the claims first, exactly as m2m_sync
 * computes the version it compares with if_version; like every operation of a
 * relation with owner_column it is M2M_DENIED without a session or once the
 * session's token has expired. */
M2M_API int m2m_version(m2m_relation *rel, m2m_value parent,
                        char out[M2M_VERSION_LEN] /* OUT */);

/* Change callbacks: one call per operation with the whole batch. before runs
 * inside the transaction, after the change; a non-zero return vetoes: the
 * operation is rolled back and returns M2M_VETOED. after runs once the change
 * is committed (after m2m_commit() inside a caller transaction). Either may be
 * NULL. The report is borrowed for the call. Callbacks must not call write
 * operations on the same db. */
typedef int (*m2m_before_fn)(void *arg, const m2m_changes *planned);
typedef void (*m2m_after_fn)(void *arg, const m2m_changes *done);
M2M_API int m2m_relation_on_change(m2m_relation *rel, m2m_before_fn before,
                                   m2m_after_fn after, void *arg);

/* ------------------------------------------------------------------------
 * Reads.
 * ---------------------------------------------------------------------- */
typedef struct m2m_query m2m_query;

/* A query of one parent's related rows. */
M2M_API int m2m_query_new(m2m_relation *rel, m2m_value parent,
                          m2m_query **out /* OUT: m2m_query_free() */);
/* Eager loading: the related rows of many parents in a constant number of
 * queries; each row is tagged with its parent (m2m_rows_parent). */
M2M_API int m2m_query_new_many(m2m_relation *rel, const m2m_value *parents, size_t n,
                               m2m_query **out /* OUT: m2m_query_free() */);
M2M_API void m2m_query_free(m2m_query *q);
/* Point a one-parent query at another parent; its filters, columns, order
 * and limits stay. Reading parent after parent through one query makes
 * the builder calls (their checks and copies) once; the SQL text and the
 * prepared statement are reused as for every read of a known shape. A
 * page token (m2m_query_after) is cleared, so the new parent starts at its
 * first page; open rows are not affected. Errors, each kept like a
 * builder error: those of m2m_query_new's parent (M2M_TYPE, M2M_INVALID)
 * and M2M_MISUSE on a query of many parents. */
M2M_API int m2m_query_set_parent(m2m_query *q, m2m_value parent);

/* Builder calls. A bad column or operator makes the call return its code
 * and set m2m_errcode/m2m_errmsg at once; the query also keeps its first
 * error and m2m_query_get/m2m_query_count report it, so calls can be chained
 * unchecked. Filters
 * on related columns form one group and filters on pivot columns another;
 * within a group conditions are joined by AND, or by OR after m2m_query_or().
 * The groups are always bracketed under the parent condition and the scope.
 * Operators: "=", "!=", "<>", "<", "<=", ">", ">=", "like", "not like". A
 * NULL operand is M2M_INVALID (in SQL "= NULL" matches nothing): test for
 * NULL with m2m_query_where_null / m2m_query_where_pivot_null. Each
 * where_X has a where_pivot_X twin for pivot columns. In: negate = 1 is
 * not in; an empty list matches nothing, an empty not-in list every row
 * (NULLs included). Between is inclusive. */
M2M_API int m2m_query_where(m2m_query *q, const char *col, const char *op, m2m_value v);
M2M_API int m2m_query_where_null(m2m_query *q, const char *col, int is_null);
M2M_API int m2m_query_where_in(m2m_query *q, const char *col, const m2m_value *vals,
                               size_t n, int negate);
M2M_API int m2m_query_where_between(m2m_query *q, const char *col, m2m_value lo,
                                    m2m_value hi);
M2M_API int m2m_query_where_not_between(m2m_query *q, const char *col, m2m_value lo,
                                        m2m_value hi);
M2M_API int m2m_query_where_pivot(m2m_query *q, const char *col, const char *op,
                                  m2m_value v);
M2M_API int m2m_query_where_pivot_null(m2m_query *q, const char *col, int is_null);
M2M_API int m2m_query_where_pivot_in(m2m_query *q, const char *col, const m2m_value *vals,
                                     size_t n, int negate);
M2M_API int m2m_query_where_pivot_between(m2m_query *q, const char *col, m2m_value lo,
                                          m2m_value hi);
M2M_API int m2m_query_where_pivot_not_between(m2m_query *q, const char *col, m2m_value lo,
                                              m2m_value hi);
/* The next condition added is joined to the previous one by OR. */
M2M_API int m2m_query_or(m2m_query *q);
/* Condition groups (closures in Eloquent, Q objects in Django): between
 * m2m_query_group() and m2m_query_group_end() conditions on related and
 * pivot columns alike join in call order, by AND or, after m2m_query_or(),
 * by OR; groups nest (32 deep) and are bracketed in SQL, each under the
 * parent condition and the scope. A group inside a group joins its
 * neighbours as a condition does; a group outside any other is AND-ed
 * with the flat groups above, so m2m_query_or() before it is M2M_INVALID
 * (put both sides of the OR inside one group). Also M2M_INVALID: closing
 * no group, an empty group, m2m_query_or() first or last in a group, and
 * get/count/... while a group is open. Both strategies give the same rows:
 * with M2M_TWO_QUERY, a group naming related and pivot columns makes the
 * first statement (the pivot rows) join the related table to test it. */
M2M_API int m2m_query_group(m2m_query *q);
M2M_API int m2m_query_group_end(m2m_query *q);
/* Pivot columns to return; the first call replaces the relation's default
 * set (its pivot_columns). May name timestamps and scope columns. */
M2M_API int m2m_query_with_pivot(m2m_query *q, const char *col);
/* Related columns to return, in call order; without a call all of them
 * (r.*). The first call replaces that set. An unknown column fails get. */
M2M_API int m2m_query_select(m2m_query *q, const char *col);
enum { M2M_ASC = 0, M2M_DESC = 1 };
M2M_API int m2m_query_order_by(m2m_query *q, const char *col, int dir);
M2M_API int m2m_query_order_by_pivot(m2m_query *q, const char *col, int dir);
/* limit < 0: no limit. */
M2M_API int m2m_query_limit(m2m_query *q, int64_t limit, int64_t offset);
/* Per parent (eager loads): at most limit rows of each parent after
 * skipping its first offset, in the query's order, e.g. the 3 newest roles
 * of every user; limit < 0: no limit. One statement with M2M_JOIN (a
 * window over the parents' rows). m2m_query_limit then applies to what is
 * left, and neither applies to m2m_query_count. */
M2M_API int m2m_query_limit_each(m2m_query *q, int64_t limit, int64_t offset);
M2M_API int m2m_query_strategy(m2m_query *q, int strategy);

/* Run the query. Rows come ordered by the order-by columns, then by parent
 * and related id, each by its column's collation, so both strategies return
 * the same sequence (TWO_QUERY sorts by ranks the database computes). A bad
 * column is M2M_INVALID whether or not there are rows. TWO_QUERY's two
 * statements run in one read-only transaction (one snapshot), or inside the
 * caller's m2m_begin() transaction. JOIN streams
 * (on PostgreSQL a result of at most 500 rows is taken whole, which costs
 * less per row; see docs/backends.md); TWO_QUERY holds the rows of the
 * query in memory, and so does every read
 * under a JWT session (it runs inside the transaction that sets the claims).
 * On PostgreSQL one cursor at a time may be open per db: free it before the
 * next call. Rows keep their relation and db open until freed. Limit and
 * offset do not apply to m2m_query_count. */
M2M_API int m2m_query_get(m2m_query *q, m2m_rows **out /* OUT: m2m_rows_free() */);
M2M_API int m2m_query_count(m2m_query *q, int64_t *out /* OUT */);

/* The first row of the query (its order and offset, limit 1), or
 * M2M_NOTFOUND: *out is a cursor already on that row; read it with the
 * m2m_rows_ accessors, then m2m_rows_free(). (Eloquent's firstOrFail.) */
M2M_API int m2m_query_first(m2m_query *q, m2m_rows **out /* OUT: m2m_rows_free() */);
/* The row of related id among the query's rows (filters and scope apply;
 * limit and offset do not), with its pivot columns, as m2m_query_first;
 * M2M_NOTFOUND when that id is
 * not attached (or is filtered out). (findOrFail.) */
M2M_API int m2m_query_find(m2m_query *q, m2m_value id,
                           m2m_rows **out /* OUT: m2m_rows_free() */);
/* Which of ids are among the rows of a one-parent query: out[i] = 1 or 0,
 * for any number of ids, duplicates allowed; filters and scope apply. One
 * statement. (contains / filter(pk__in).exists().) */
M2M_API int m2m_query_has(m2m_query *q, const m2m_value *ids, size_t n,
                          int *out /* OUT: n flags */);
/* Per parent of the query, in the order given to m2m_query_new_many (or
 * its one parent): the number of its rows, 0 for a parent without rows;
 * filters and scope apply, limit and offset do not. One statement.
 * (withCount / annotate(Count).) */
M2M_API int m2m_query_count_each(m2m_query *q, int64_t *counts /* OUT: one a parent */);
/* Per parent as m2m_query_count_each: 1 when it has rows, else 0.
 * (withExists.) */
M2M_API int m2m_query_exists_each(m2m_query *q, int *exists /* OUT: one a parent */);

/* Keyset pagination (Eloquent's cursorPaginate, chunkById): call
 * m2m_query_after(q, NULL) for the first page, with the order and a limit
 * (the page size), then m2m_query_after(q, token) with the
 * m2m_rows_token() of the last row read for the next one, on this query
 * or on a new one of the same relation, parents' form (one or many) and
 * order, in this process or another: the token is an opaque text the
 * caller may store. A page starts right after the token's row in the
 * query's order, which the related key (then parent and related key for
 * many parents) completes, so pages neither repeat nor skip a row however
 * many rows share order values, NULLs included (NULLs sort first
 * ascending and last descending), and rows added or removed elsewhere
 * meanwhile do not shift the pages. The token compares by value: its row
 * need not still exist. A page is one statement with M2M_JOIN (two with
 * M2M_TWO_QUERY, whose first then joins the related table when a related
 * column orders it); both give the same pages. The token restricts get
 * and first; count, the per-parent counts, has and find ignore it.
 * M2M_INVALID: a token that is not one, or was taken from a query with
 * another order, relation or parents' form (at the read), and
 * m2m_query_limit_each with it. NULL or "" clears the token. */
M2M_API int m2m_query_after(m2m_query *q, const char *token);
/* The page token of the current row of a read made after
 * m2m_query_after(); NULL otherwise, or out of memory. Borrowed until
 * the next call on rows. */
M2M_API const char *m2m_rows_token(m2m_rows *rows);

/* Cursor: m2m_rows_next() returns M2M_ROW, M2M_DONE or an error code.
 * Values returned are borrowed until the next m2m_rows_next/free. After
 * M2M_DONE or an error there is no current row: values are M2M_NULL and
 * names NULL. */
M2M_API int m2m_rows_next(m2m_rows *rows);
M2M_API int m2m_rows_ncols(m2m_rows *rows); /* related columns */
M2M_API const char *m2m_rows_name(m2m_rows *rows, int i);
M2M_API m2m_value m2m_rows_value(m2m_rows *rows, int i);
M2M_API m2m_value m2m_rows_get(m2m_rows *rows, const char *col); /* M2M_NULL if absent */
M2M_API int m2m_rows_npivot(m2m_rows *rows);
M2M_API const char *m2m_rows_pivot_name(m2m_rows *rows, int i);
M2M_API m2m_value m2m_rows_pivot_value(m2m_rows *rows, int i);
M2M_API m2m_value m2m_rows_pivot(m2m_rows *rows, const char *col);
M2M_API m2m_value m2m_rows_parent(m2m_rows *rows);
M2M_API void m2m_rows_free(m2m_rows *rows);

/* ------------------------------------------------------------------------
 * JWT-bound relations (PostgreSQL).
 * ---------------------------------------------------------------------- */
typedef struct m2m_jwt_config {
    int version;                       /* 0 */
    const unsigned char *hs256_secret; /* HS256 shared secret, or NULL */
    size_t hs256_secret_len;
    const char *rs256_public_pem; /* RS256 public key (PEM), or NULL */
    const char *role;             /* role for SET LOCAL ROLE when the token has
                                     no "role" claim; "authenticated" */
    int64_t leeway;               /* seconds of clock skew allowed; 0 */
} m2m_jwt_config;

/* Verify token (signature, algorithm, exp, nbf, a string sub) and make db run
 * every following operation as that user: each transaction sets
 * request.jwt.claims and the role as PostgREST does. After verifying, one
 * query checks the roles: M2M_DENIED when the login role is a superuser or
 * has BYPASSRLS, or when the session's role (the token's "role" claim, else
 * cfg->role) is "none", does not exist, is a superuser or has BYPASSRLS, or
 * is not one the login may switch to. exp and nbf are checked again before
 * every later operation (writes, reads, m2m_version): once the token has
 * expired each returns M2M_DENIED and sends nothing, until a new session or
 * m2m_auth_clear(). On failure the session is cleared and M2M_DENIED returned
 * with the reason. M2M_NOTSUP on SQLite and MariaDB (no row-level
 * security). */
M2M_API int m2m_auth_jwt(m2m_db *db, const char *token, const m2m_jwt_config *cfg);
/* Forget the session: back to the connection's own role. */
M2M_API void m2m_auth_clear(m2m_db *db);
/* The verified sub of the current session, or NULL. Borrowed. */
M2M_API const char *m2m_auth_sub(m2m_db *db);

/* Install row-level security for rel's pivot table (rel must have an
 * owner_column): enable and force RLS, policies for INSERT/UPDATE/DELETE
 * requiring owner = sub, SELECT owner-only or for all authenticated users
 * (owner_read_all), grants to role. Idempotent. M2M_NOTSUP on SQLite and
 * MariaDB. */
M2M_API int m2m_rls_install(m2m_relation *rel, const char *role);

#ifdef __cplusplus
}
#endif
#endif /* M2M_H */
