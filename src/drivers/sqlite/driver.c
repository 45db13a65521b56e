/* SPDX-License-Identifier: MIT */
/* The SQLite driver (the embedded default): connection, statements,
 * cursors, error mapping, its dialect and its vtable; catalog probes are in
 * catalog.c, the id array functions in ids.c. */
#include "drivers/sqlite/sqlite.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct m2m__stmt {
    sqlite3_stmt *st;
    const char *sql;
    int *idx; /* sqlite parameter index of $1..$n */
    int nidx;
    m2m__sq_ids ids; /* its id array parameter, bound to "m2m-ids"(?) */
};

struct m2m__cursor {
    m2m__stmt *st;
    m2m_db *db;
    m2m_value cur;    /* scratch for cursor_value */
    sqlite3_value *v; /* a deleted row's value (pre-update hook), or NULL */
};

int m2m__sq_error(m2m_db *db, int src, const char *what) {
    int rc;
    int prim = src & 0xff;
    switch (prim) {
        case SQLITE_CONSTRAINT:
            rc = (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY)
                     ? M2M_EXISTS
                     : M2M_CONSTRAINT;
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            rc = M2M_BUSY;
            break;
        case SQLITE_NOMEM:
            rc = M2M_NOMEM;
            break;
        case SQLITE_IOERR:
        case SQLITE_CORRUPT:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_NOTADB:
            rc = M2M_IOERR;
            break;
        case SQLITE_PERM:
        case SQLITE_AUTH:
        case SQLITE_READONLY:
            rc = M2M_DENIED;
            break;
        case SQLITE_MISMATCH:
            rc = M2M_TYPE;
            break;
        case SQLITE_TOOBIG:
        case SQLITE_RANGE:
            rc = M2M_INVALID;
            break;
        default:
            rc = M2M_ERROR;
    }
    const char *msg = db->conn ? sqlite3_errmsg(conn(db)) : sqlite3_errstr(src);
    if (rc == M2M_ERROR &&
        (strstr(msg, "no such table") || strstr(msg, "no such column") ||
         strstr(msg, "has no column named")))
        rc = M2M_NOTFOUND;
    return m2m__set_error(db, rc, "%s: %s", what, msg);
}

/* Wait for a lock another connection holds, polling with backoff, until the
 * running write's deadline (its waits and retries together stay within the
 * busy timeout), or the busy timeout from the first poll for other calls. */
static int sq_busy(void *arg, int count) {
    m2m_db *db = arg;
    sq_conn *c = db->conn;
    int64_t end = m2m__busy_wait_end(db, count);
    if (!c->room)
        return m2m__backoff(db, count, end);
    /* A writer of this process that ends its transaction wakes us at once;
     * one of another process does not, so the backoff still bounds the
     * wait. */
    int64_t until = m2m__backoff_until(db, count, end);
    if (until < 0)
        return 0;
    m2m__sq_room_wait(c->room, c->seen, until);
    c->seen = m2m__sq_room_gen(c->room);
    return 1;
}

static int on_commit(void *arg) {
    ((sq_conn *)arg)->ended = true;
    return 0; /* the commit goes ahead */
}

static void on_rollback(void *arg) { ((sq_conn *)arg)->ended = true; }

/* Before statements that may want the lock: the generation to wait past. */
static void lock_try(m2m_db *db) {
    sq_conn *c = db->conn;
    if (c->room)
        c->seen = m2m__sq_room_gen(c->room);
}

/* After them: a transaction that ended freed the lock; wake its waiters. */
static void lock_done(m2m_db *db) {
    sq_conn *c = db->conn;
    if (c->ended) {
        c->ended = false;
        m2m__sq_room_release(c->room);
    }
}

/* Is the directory of a plain file path (not ":memory:", not a "file:"
 * URI) missing? Then dir holds it, for the message. */
static bool missing_dir(const char *path, char *dir, size_t size) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path || strncmp(path, "file:", 5) == 0 ||
        (size_t)(slash - path) >= size)
        return false;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    struct stat st;
    return stat(dir, &st) != 0 && errno == ENOENT;
}

static int sq_open(m2m_db *db, const char *url) {
    const char *path = url + strlen("sqlite:");
    if (!*path)
        return m2m__set_error(db, M2M_INVALID,
                              "'sqlite:' has no path: write sqlite:app.db (a file) "
                              "or sqlite::memory:");
    sq_conn *c = m2m__calloc(1, sizeof *c);
    if (!c)
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening '%s'", path);
    sqlite3 *h = NULL;
    /* NOMUTEX: an m2m_db is used by one thread at a time (m2m.h), so the
     * connection's own mutex, taken by every sqlite3_* call (each value
     * read, each step), guards nothing: 5% of a filtered read's
     * instructions (W1 P5). Connections of other threads stay apart. */
    int src = sqlite3_open_v2(path, &h,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                  SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                              NULL);
    if (src != SQLITE_OK) {
        char dir[1024];
        int rc;
        if (missing_dir(path, dir, sizeof dir))
            rc = m2m__set_error(db, M2M_IOERR,
                                "cannot open SQLite database '%s': directory '%s' does "
                                "not exist",
                                path, dir);
        else
            rc = m2m__set_error(db, src == SQLITE_NOMEM ? M2M_NOMEM : M2M_IOERR,
                                "cannot open SQLite database '%s': %s", path,
                                h ? sqlite3_errmsg(h) : sqlite3_errstr(src));
        sqlite3_close(h);
        m2m__free(c);
        return rc;
    }
    c->h = h;
    db->conn = c;
    sqlite3_extended_result_codes(h, 1);
    c->room = m2m__sq_room_join(sqlite3_db_filename(h, "main"));
    sqlite3_commit_hook(h, on_commit, c);
    sqlite3_rollback_hook(h, on_rollback, c);
    /* Writers wait for each other instead of failing at once. */
    sqlite3_busy_handler(h, sq_busy, db);
    if ((src = m2m__sq_ids_register(h)) != SQLITE_OK)
        return m2m__sq_error(db, src, "open");
    src = sqlite3_exec(h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return m2m__sq_error(db, src, "open");
    return M2M_OK;
}

static void sq_close(m2m_db *db) {
    sq_conn *c = db->conn;
    sqlite3_close_v2(c->h);
    if (c->ended)
        m2m__sq_room_release(c->room); /* closing rolled back */
    m2m__sq_room_leave(c->room);
    m2m__free(c);
    db->conn = NULL;
}

/* The file stays open; what a reconnect means on PostgreSQL, the end of
 * any open transaction, is done by rolling it back. */
static int sq_reconnect(m2m_db *db) {
    if (sqlite3_get_autocommit(conn(db)))
        return M2M_OK;
    int src = sqlite3_exec(conn(db), "ROLLBACK", NULL, NULL, NULL);
    lock_done(db);
    return src == SQLITE_OK ? M2M_OK : m2m__sq_error(db, src, "reconnect: rollback");
}

static int sq_prepare(m2m_db *db, const char *sql, m2m__stmt **out) {
    *out = NULL;
    m2m__stmt *s = m2m__calloc(1, sizeof *s);
    if (!s)
        return m2m__set_error(db, M2M_NOMEM, "out of memory preparing a statement");
    int src =
        sqlite3_prepare_v3(conn(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
    if (src != SQLITE_OK) {
        m2m__free(s);
        return m2m__sq_error(db, src, "prepare");
    }
    db->stats.prepared++;
    s->sql = sqlite3_sql(s->st);
    /* $N is a named parameter to SQLite; resolve each once. */
    int count = sqlite3_bind_parameter_count(s->st);
    s->idx = m2m__calloc((size_t)count + 1, sizeof *s->idx);
    if (!s->idx) {
        sqlite3_finalize(s->st);
        m2m__free(s);
        return m2m__set_error(db, M2M_NOMEM, "out of memory preparing a statement");
    }
    for (int i = 1; i <= count; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i);
        s->idx[i - 1] = sqlite3_bind_parameter_index(s->st, name);
    }
    s->nidx = count;
    *out = s;
    return M2M_OK;
}

static void sq_finalize(m2m_db *db, m2m__stmt *s) {
    (void)db;
    if (!s)
        return;
    sqlite3_finalize(s->st);
    m2m__free(s->idx);
    m2m__sq_ids_free(&s->ids);
    m2m__free(s);
}

static int sq_bind(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n) {
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    if (n > (size_t)s->nidx)
        return m2m__set_error(db, M2M_MISUSE, "statement takes %d parameters, got %zu",
                              s->nidx, n);
    for (size_t i = 0; i < n; i++) {
        int ix = s->idx[i], src = SQLITE_OK;
        if (ix == 0)
            continue;
        switch ((int)p[i].type) {
            case M2M__TIDS:
                m2m__sq_ids_bind(&s->ids, (const m2m__ids *)(const void *)p[i].s);
                src = sqlite3_bind_pointer(s->st, ix, &s->ids, M2M__SQ_IDS_TYPE, NULL);
                break;
            case M2M_TINT:
                src = sqlite3_bind_int64(s->st, ix, p[i].i);
                break;
            case M2M_TREAL:
                src = sqlite3_bind_double(s->st, ix, p[i].d);
                break;
            case M2M_TTEXT:
                /* Borrowed: the caller keeps params alive until the step ends. */
                src = sqlite3_bind_text(s->st, ix, p[i].s, -1, SQLITE_STATIC);
                break;
            default:
                src = sqlite3_bind_null(s->st, ix);
        }
        if (src != SQLITE_OK)
            return m2m__sq_error(db, src, "bind");
    }
    return M2M_OK;
}

#ifdef M2M_HAVE_PREUPDATE
/* The rows a step's statement deletes, handed to its on_row as they go.
 * Only the statement's own deletes count (depth 0): not those of triggers
 * or foreign-key actions. */
typedef struct deleted {
    m2m__step *sp;
    m2m__cursor *cur;
    int rc;
} deleted;

static void on_delete(void *arg, sqlite3 *db, int op, const char *zdb, const char *table,
                      sqlite3_int64 key1, sqlite3_int64 key2) {
    (void)zdb, (void)table, (void)key1, (void)key2;
    deleted *d = arg;
    if (op != SQLITE_DELETE || d->rc || sqlite3_preupdate_depth(db) != 0)
        return;
    if (sqlite3_preupdate_old(db, d->sp->deleted_col - 1, &d->cur->v) != SQLITE_OK) {
        d->rc = m2m__set_error(d->cur->db, M2M_ERROR, "internal: deleted row unreadable");
        return;
    }
    d->rc = d->sp->on_row(d->sp->arg, d->cur);
    d->cur->v = NULL;
}

/* Step a statement without RETURNING whose deleted rows go to sp->on_row.
 * m2m owns its connection's hook: it is set for this one step only. */
static int sq_step_deleting(m2m_db *db, m2m__step *sp, m2m__cursor *cur) {
    deleted d = {sp, cur, M2M_OK};
    sqlite3_preupdate_hook(conn(db), on_delete, &d);
    int src = sqlite3_step(sp->stmt->st);
    sqlite3_preupdate_hook(conn(db), NULL, NULL);
    int rc = d.rc;
    if (!rc && src == SQLITE_ROW)
        rc = m2m__set_error(db, M2M_ERROR, "internal: rows from a deleting step");
    else if (!rc && src != SQLITE_DONE)
        rc = m2m__sq_error(db, src, "execute");
    sp->changes = sqlite3_changes64(conn(db));
    sqlite3_reset(sp->stmt->st);
    return rc;
}
#endif

static int sq_run_steps(m2m_db *db, m2m__step *steps, size_t n);

static int sq_run(m2m_db *db, m2m__step *steps, size_t n) {
    lock_try(db);
    int rc = sq_run_steps(db, steps, n);
    lock_done(db);
    return rc;
}

static int sq_run_steps(m2m_db *db, m2m__step *steps, size_t n) {
    db->unsent = true;
    for (size_t k = 0; k < n; k++) {
        m2m__step *sp = &steps[k];
        m2m__stmt *s = sp->stmt;
        int rc = sq_bind(db, s, sp->params, sp->nparams);
        if (rc)
            return rc;
        db->unsent = false;
        m2m__note_exec(db, s->sql);
        m2m__cursor cur = {.st = s, .db = db};
        int64_t rows = 0;
        int src;
#ifdef M2M_HAVE_PREUPDATE
        if (sp->deleted_col > 0 && sp->on_row) {
            if ((rc = sq_step_deleting(db, sp, &cur)))
                return rc;
            continue;
        }
#endif
        while ((src = sqlite3_step(s->st)) == SQLITE_ROW) {
            rows++;
            if (sp->on_row && (rc = sp->on_row(sp->arg, &cur)) != M2M_OK) {
                sqlite3_reset(s->st);
                return rc;
            }
        }
        if (src != SQLITE_DONE) {
            rc = m2m__sq_error(db, src, "execute");
            sqlite3_reset(s->st);
            return rc;
        }
        sp->changes = sqlite3_column_count(s->st) ? rows : sqlite3_changes64(conn(db));
        sqlite3_reset(s->st);
    }
    return M2M_OK;
}

static int sq_cursor_open(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n,
                          size_t whole, m2m__cursor **out) {
    (void)whole; /* stepping costs the same either way: always stream */
    *out = NULL;
    int rc = sq_bind(db, s, p, n);
    if (rc)
        return rc;
    m2m__cursor *c = m2m__calloc(1, sizeof *c);
    if (!c)
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a cursor");
    c->st = s;
    c->db = db;
    m2m__note_exec(db, s->sql);
    if (db->stats.rows_peak < 1)
        db->stats.rows_peak = 1;
    *out = c;
    return M2M_OK;
}

static int sq_cursor_next(m2m__cursor *c) {
    int src = sqlite3_step(c->st->st);
    if (src == SQLITE_ROW)
        return M2M_ROW;
    if (src == SQLITE_DONE)
        return M2M_DONE;
    return m2m__sq_error(c->db, src, "read");
}

static int sq_cursor_ncols(m2m__cursor *c) { return sqlite3_column_count(c->st->st); }

static const char *sq_cursor_name(m2m__cursor *c, int i) {
    return sqlite3_column_name(c->st->st, i);
}

/* Every sqlite3_column_* call takes the connection's mutex; one
 * sqlite3_column_value per value takes it once instead of twice (type, then
 * value). Reading the unprotected value is safe: an m2m_db is used by one
 * thread at a time. */
static m2m_value sq_cursor_value(m2m__cursor *c, int i) {
    if (c->v && i != 0)
        return M2M_NULL;
    sqlite3_value *v = c->v ? c->v : sqlite3_column_value(c->st->st, i);
    switch (sqlite3_value_type(v)) {
        case SQLITE_INTEGER:
            return M2M_INT(sqlite3_value_int64(v));
        case SQLITE_FLOAT:
            return M2M_REAL(sqlite3_value_double(v));
        case SQLITE_NULL:
            return M2M_NULL;
        default:
            return M2M_TEXT((const char *)sqlite3_value_text(v));
    }
}

static void sq_cursor_close(m2m__cursor *c) {
    if (!c)
        return;
    sqlite3_reset(c->st->st);
    if (c->db) /* a write run through a cursor (m2m_sql) commits when done */
        lock_done(c->db);
    m2m__free(c);
}

static int sq_exec_script(m2m_db *db, const char *script) {
    char *err = NULL;
    m2m__note_exec(db, script);
    lock_try(db);
    int src = sqlite3_exec(conn(db), script, NULL, NULL, &err);
    lock_done(db);
    sqlite3_free(err);
    return src == SQLITE_OK ? M2M_OK : m2m__sq_error(db, src, "exec");
}

static void sq_input_rows(m2m__buf *b, const char *table, int param,
                          const char *const *cols, size_t ncols) {
    (void)table;
    m2m__buf_add(b, "(SELECT ");
    for (size_t i = 0; i < ncols; i++)
        m2m__buf_addf(b, "%sjson_extract(j.value, '$.%s') AS \"%s\"", i ? ", " : "",
                      cols[i], cols[i]);
    m2m__buf_addf(b, " FROM json_each($%d) AS j)", param);
}

static void sq_input_rows_has(m2m__buf *b, const char *table, int param,
                              const char *const *cols, size_t ncols, size_t from) {
    (void)table;
    m2m__buf_add(b, "(SELECT ");
    for (size_t i = 0; i < ncols; i++)
        m2m__buf_addf(b, "%sjson_extract(j.value, '$.%s') AS \"%s\"", i ? ", " : "",
                      cols[i], cols[i]);
    /* json_type is NULL for a missing key, 'null' for a null value. */
    for (size_t i = from; i < ncols; i++)
        m2m__buf_addf(b, ", json_type(j.value, '$.%s') IS NOT NULL AS \"m2m-has%zu\"",
                      cols[i], i);
    m2m__buf_addf(b, " FROM json_each($%d) AS j)", param);
}

static void sq_ids_from(m2m__buf *b, int param, m2m_type type, const char *alias) {
    (void)type;
    m2m__buf_addf(b, M2M__SQ_IDS_SQL "($%d) AS %s", param, alias);
}

/* IN copies the ids into a temporary b-tree, then seeks the pivot's index
 * once per id: best for few ids spread among the parent's rows. The span
 * form scans the parent's rows between the least and greatest id instead,
 * testing each with m2m_has: for ids close together, about as many rows as
 * ids, and no copy. NOT IN must visit every row of the parent anyway, and
 * tests each the same way. */
static void sq_ids_in(m2m__buf *b, const char *expr, int param, m2m_type type, int form) {
    (void)type;
    if (form == M2M__NOT_IN)
        m2m__buf_addf(b, "NOT m2m_has($%d, %s)", param, expr);
    else if (form == M2M__IN_SPAN)
        m2m__buf_addf(b, "%s BETWEEN m2m_lo($%d) AND m2m_hi($%d) AND m2m_has($%d, %s)",
                      expr, param, param, param, expr);
    else
        m2m__buf_addf(b, "%s IN (SELECT value FROM " M2M__SQ_IDS_SQL "($%d))", expr,
                      param);
}

extern const m2m__backend m2m__sqlite_backend;

const m2m__driver m2m__sqlite_driver = {
    .version = M2M__DRIVER_VERSION,
    .info = &m2m__sqlite_backend,
    .conn =
        {
            .open = sq_open,
            .close = sq_close,
            .reconnect = sq_reconnect,
        },
    .stmt =
        {
            .prepare = sq_prepare,
            .finalize = sq_finalize,
            .run = sq_run,
            .cursor_open = sq_cursor_open,
            .cursor_next = sq_cursor_next,
            .cursor_ncols = sq_cursor_ncols,
            .cursor_name = sq_cursor_name,
            .cursor_value = sq_cursor_value,
            .cursor_close = sq_cursor_close,
            .exec_script = sq_exec_script,
        },
    .dialect =
        {
            .begin_sql = "BEGIN IMMEDIATE",
            /* Deferred: the first SELECT takes the read snapshot (WAL) or
             * the shared lock, held to COMMIT. */
            .read_begin_sql = "BEGIN",
            /* One writer at a time (caps.single_writer): no lock, and a
             * commit is never in doubt. */
            .ids_from = sq_ids_from,
            .ids_in = sq_ids_in,
            .input_rows = sq_input_rows,
            .input_rows_has = sq_input_rows_has,
            /* INSERT ... SELECT ... ON CONFLICT parses as an upsert only
             * after a WHERE, which the builder always writes; RETURNING
             * takes no table alias. */
            .insert_skip = m2m__std_insert_skip,
            .returning = m2m__std_returning,
            .distinct = m2m__std_distinct,
            .order_dir = m2m__std_order_dir,
            .now_sql = "strftime('%Y-%m-%d %H:%M:%f', 'now')",
            .int_key_type = "INTEGER",
            .text_type = "TEXT",
            .timestamp_type = "TEXT",
            .span_ok = m2m__sq_span_ok,
            .pair_unique = m2m__sq_pair_unique,
#ifdef M2M_HAVE_PREUPDATE
            .deleted_col = m2m__sq_deleted_col,
#endif
            .columns = m2m__sq_columns,
        },
};
