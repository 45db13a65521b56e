/* SPDX-License-Identifier: MIT */
/* Connections: open/close, caller transactions, raw SQL, counters. */
#include "core/txn.h"
#include "query/rows.h"

#include <stdbool.h>
#include <string.h>

struct m2m__pending {
    m2m__pending *next;
    m2m_after_fn fn;
    void *arg;
    m2m_changes *ch;
};

static const char *const fixed_sql[M2M__NFIXED] = {
    [M2M__COMMIT] = "COMMIT",
    [M2M__ROLLBACK] = "ROLLBACK",
    [M2M__SAVEPOINT] = "SAVEPOINT m2m_op",
    [M2M__RELEASE] = "RELEASE SAVEPOINT m2m_op",
    [M2M__ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT m2m_op",
};

/* The SQL of a fixed statement: standard SQL above, the rest the driver's
 * dialect; NULL when the driver has none. */
static const char *fixed_text(const m2m__driver *drv, int which) {
    switch (which) {
        case M2M__BEGIN:
            return drv->dialect.begin_sql;
        case M2M__AUTH:
            return drv->dialect.auth_sql;
        case M2M__LOCK:
            return drv->dialect.lock_sql;
        case M2M__LOCK_ALL:
            return drv->dialect.lock_all_sql;
        case M2M__READ_BEGIN:
            return drv->dialect.read_begin_sql;
        case M2M__XID:
            return drv->dialect.xid_sql;
        case M2M__XID_STATUS:
            return drv->dialect.xid_status_sql;
        default:
            return fixed_sql[which];
    }
}

_Static_assert((int)M2M__NFIXED <= (int)M2M__NFIXED_MAX, "m2m_db.fixed is too small");

/* Close the connection and its fixed statements; the handle stays. */
static void disconnect(m2m_db *db) {
    for (int i = 0; i < M2M__NFIXED; i++) {
        if (db->fixed[i])
            db->drv->stmt.finalize(db, db->fixed[i]);
        db->fixed[i] = NULL;
    }
    if (db->conn)
        db->drv->conn.close(db);
    db->conn = NULL;
}

int m2m_open(const char *url, m2m_db **out) {
    if (!out)
        return M2M_MISUSE;
    *out = NULL;
    if (!url)
        return M2M_MISUSE;
    m2m_db *db = m2m__calloc(1, sizeof *db);
    if (!db)
        return M2M_NOMEM;
    db->busy_timeout_ms = M2M__BUSY_TIMEOUT_MS;
    int rc = m2m__driver_for(db, url, &db->drv);
    if (rc == M2M_OK)
        rc = db->drv->conn.open(db, url);
    /* Transaction control is prepared up front so that a later rollback
     * never needs memory or a prepare that could fail. */
    for (int i = 0; rc == M2M_OK && i < M2M__NFIXED; i++) {
        m2m__stmt *st;
        if (i != M2M__AUTH && fixed_text(db->drv, i))
            rc = m2m__fixed(db, i, &st);
    }
    if (rc != M2M_OK) {
        /* Like sqlite3_open_v2 and PQconnectdb: the handle stays, holding
         * the reason, until m2m_close. */
        if (db->drv)
            disconnect(db);
        db->unopened = true;
        db->open_err = m2m__strdup(m2m_errmsg(db));
    }
    *out = db;
    return rc;
}

int m2m__db_call(m2m_db *db) {
    if (!db)
        return M2M_MISUSE;
    if (db->unopened)
        return m2m__db_usable(db);
    m2m__clear_error(db);
    return M2M_OK;
}

int m2m__db_usable(m2m_db *db) {
    if (!db->unopened)
        return M2M_OK;
    return m2m__set_error(db, M2M_MISUSE,
                          "the database did not open (%s): m2m_close() it",
                          db->open_err ? db->open_err : m2m_errstr(M2M_NOMEM));
}

static void pending_free(m2m_db *db) {
    while (db->pending) {
        m2m__pending *p = db->pending;
        db->pending = p->next;
        m2m_changes_free(p->ch);
        m2m__free(p);
    }
}

static void db_free(m2m_db *db) {
    if (db->drv)
        disconnect(db);
    pending_free(db);
    m2m_auth_clear(db);
    m2m__digest_free(db);
    m2m__free(db->open_err);
    m2m__free(db->errmsg);
    m2m__free(db);
}

int m2m_close(m2m_db *db) {
    if (!db)
        return M2M_OK;
    if (db->nopen) {
        db->closing = true; /* the last relation or cursor freed frees db */
        return M2M_OK;
    }
    db_free(db);
    return M2M_OK;
}

void m2m__db_ref(m2m_db *db) { db->nopen++; }

void m2m__db_unref(m2m_db *db) {
    if (--db->nopen == 0 && db->closing)
        db_free(db);
}

const char *m2m_backend(m2m_db *db) {
    if (!db || db->unopened)
        return NULL;
    return db->drv->info->name;
}

int m2m_reconnect(m2m_db *db) {
    int rc = m2m__db_call(db);
    if (rc)
        return rc;
    db->in_txn = 0;
    db->xid_state = 0;
    pending_free(db);
    return db->drv->conn.reconnect(db);
}

const char *m2m__fixed_sql(m2m_db *db, const m2m__stmt *st) {
    for (int i = 0; i < M2M__NFIXED; i++)
        if (db->fixed[i] == st)
            return fixed_text(db->drv, i);
    return NULL;
}

int m2m__fixed(m2m_db *db, int which, m2m__stmt **out) {
    if (!db->fixed[which]) {
        const char *sql = fixed_text(db->drv, which);
        if (!sql)
            return m2m__set_error(db, M2M_ERROR, "internal: no fixed statement %d",
                                  which);
        int rc = db->drv->stmt.prepare(db, sql, &db->fixed[which]);
        if (rc)
            return rc;
    }
    *out = db->fixed[which];
    return M2M_OK;
}

void m2m__note_exec(m2m_db *db, const char *sql) {
    db->stats.executed++;
    if (db->trace)
        db->trace(db->trace_arg, sql);
}

static int run_fixed(m2m_db *db, int which) {
    m2m__stmt *st = NULL;
    int rc = m2m__fixed(db, which, &st);
    if (rc)
        return rc;
    m2m__step step = {.stmt = st};
    return db->drv->stmt.run(db, &step, 1);
}

int m2m_begin(m2m_db *db) {
    int rc = m2m__db_call(db);
    if (rc)
        return rc;
    if (db->in_txn)
        return m2m__set_error(db, M2M_MISUSE, "a transaction is already open");
    db->xid_state = 0;
    rc = run_fixed(db, M2M__BEGIN);
    if (rc == M2M_OK)
        db->in_txn = 1;
    return rc;
}

/* Send COMMIT, with the transaction's id first when no operation learnt it,
 * and find out what happened when the connection is lost meanwhile. */
static int send_commit(m2m_db *db) {
    m2m__step steps[2];
    size_t n = 0;
    m2m__stmt *st = NULL; /* set by m2m__fixed; gcc -O3 cannot tell */
    int rc;
    if (db->drv->info->caps.in_doubt && db->xid_state == 0) {
        if ((rc = m2m__fixed(db, M2M__XID, &st)))
            return rc;
        steps[n++] = (m2m__step){.stmt = st, .on_row = m2m__xid_row, .arg = db};
    }
    if ((rc = m2m__fixed(db, M2M__COMMIT, &st)))
        return rc;
    steps[n++] = (m2m__step){.stmt = st};
    return m2m__resolve_commit(db, db->drv->stmt.run(db, steps, n));
}

int m2m_commit(m2m_db *db) {
    int rc = m2m__db_call(db);
    if (rc)
        return rc;
    if (!db->in_txn)
        return m2m__set_error(db, M2M_MISUSE, "no transaction is open");
    rc = send_commit(db);
    db->in_txn = 0;
    db->xid_state = 0;
    if (rc == M2M_CONNECTION || rc == M2M_INDOUBT) {
        /* Nothing is open any more: the server rolled back, or the outcome
         * is told by rc. The callbacks run only for a known commit. */
        pending_free(db);
        return rc;
    }
    if (rc != M2M_OK) {
        /* The server ended the transaction (PostgreSQL) or it is still open
         * (SQLite busy): either way roll back so the handle is usable. */
        m2m__saved_error why = m2m__error_save(db);
        run_fixed(db, M2M__ROLLBACK);
        m2m__set_error(db, rc, "commit: %s; the transaction was rolled back",
                       why.msg ? why.msg : m2m_errstr(rc));
        m2m__error_drop(&why);
        pending_free(db);
        return rc;
    }
    /* After-commit callbacks, in the order the operations ran. */
    m2m__pending *list = NULL;
    while (db->pending) {
        m2m__pending *p = db->pending;
        db->pending = p->next;
        p->next = list;
        list = p;
    }
    while (list) {
        m2m__pending *p = list;
        list = p->next;
        p->fn(p->arg, p->ch);
        m2m_changes_free(p->ch);
        m2m__free(p);
    }
    return M2M_OK;
}

int m2m_rollback(m2m_db *db) {
    int rc = m2m__db_call(db);
    if (rc)
        return rc;
    if (!db->in_txn)
        return m2m__set_error(db, M2M_MISUSE, "no transaction is open");
    db->in_txn = 0;
    db->xid_state = 0;
    pending_free(db);
    return run_fixed(db, M2M__ROLLBACK);
}

m2m__pending *m2m__pending_new(m2m_after_fn fn, void *arg, m2m_changes *ch) {
    m2m__pending *p = ch ? m2m__calloc(1, sizeof *p) : NULL;
    if (!p) {
        m2m_changes_free(ch);
        return NULL;
    }
    *p = (m2m__pending){NULL, fn, arg, ch};
    return p;
}

void m2m__pending_push(m2m_db *db, m2m__pending *p) {
    p->next = db->pending;
    db->pending = p;
}

void m2m__pending_drop(m2m__pending *p) {
    if (p) {
        m2m_changes_free(p->ch);
        m2m__free(p);
    }
}

int m2m_sql(m2m_db *db, const char *sql, const m2m_value *params, size_t nparams,
            m2m_rows **out) {
    if (out)
        *out = NULL;
    int rc = m2m__db_call(db);
    if (rc)
        return rc;
    if (!sql || (nparams && !params))
        return m2m__set_error(db, M2M_MISUSE, "m2m_sql: NULL sql or params");
    m2m__stmt *st = NULL;
    rc = db->drv->stmt.prepare(db, sql, &st);
    if (rc)
        return rc;
    if (out)
        return m2m__rows_raw(db, st, true, params, nparams, out);
    m2m__step step = {.stmt = st, .params = params, .nparams = nparams};
    rc = db->drv->stmt.run(db, &step, 1);
    db->drv->stmt.finalize(db, st);
    return rc;
}

int m2m_exec(m2m_db *db, const char *script) {
    int rc = m2m__db_call(db);
    if (rc)
        return rc;
    if (!script)
        return m2m__set_error(db, M2M_MISUSE, "m2m_exec: NULL script");
    return db->drv->stmt.exec_script(db, script);
}

void m2m_stats_get(m2m_db *db, m2m_stats *out) {
    if (db && out)
        *out = db->stats;
}

void m2m_stats_reset(m2m_db *db) {
    if (db)
        db->stats = (m2m_stats){0};
}

void m2m_trace(m2m_db *db, void (*fn)(void *arg, const char *sql), void *arg) {
    if (!db)
        return;
    db->trace = fn;
    db->trace_arg = arg;
}
