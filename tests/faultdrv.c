/* SPDX-License-Identifier: MIT */
/* The fault-injection driver (faultdrv.h). */
#include "faultdrv.h"

#include "drivers/sqlite/sqlite.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DBS = 8 };

static struct {
    const m2m__driver *real;
    m2m__driver wrap;
    int kind, persistent, armed;
    long countdown, fired;
    struct {
        m2m_db *db;
        m2m__stmt *busy, *ioerr, *kill;
        bool open; /* a transaction is open on the server (BEGIN seen) */
    } conns[MAX_DBS];
} F;

static bool is_pg(const m2m__driver *d) { return strcmp(d->info->name, "sqlite") != 0; }

static int slot_of(m2m_db *db) {
    for (int i = 0; i < MAX_DBS; i++)
        if (F.conns[i].db == db)
            return i;
    return -1;
}

static bool commit_kind(int kind) {
    return kind == FD_COMMIT_LOST || kind == FD_REPLY_LOST;
}

/* Is this the armed point? Counts one point of kind's class. */
static bool hit(void) {
    if (!F.armed)
        return false;
    if (F.fired && F.persistent) {
        F.fired++;
        return true;
    }
    if (F.fired)
        return false;
    if (--F.countdown == 0) {
        F.fired = 1;
        return true;
    }
    return false;
}

int fd_applies(int kind) {
    extern const char *t_backend;
    return kind == FD_BUSY || kind == FD_IOERR || strcmp(t_backend, "sqlite") != 0;
}

/* The statement that ends the connection's own session on the server. */
static const char *kill_sql(m2m_db *db) {
    return strcmp(db->drv->info->name, "mariadb") == 0
               ? "KILL CONNECTION_ID()"
               : "SELECT pg_terminate_backend(pg_backend_pid())";
}

int fd_code(int kind) {
    extern const char *t_backend;
    switch (kind) {
        case FD_BUSY:
            return M2M_BUSY;
        case FD_IOERR:
            /* SQLSTATE 58030, MariaDB's error 1030: no m2m code */
            return strcmp(t_backend, "sqlite") != 0 ? M2M_ERROR : M2M_IOERR;
        default:
            return M2M_CONNECTION;
    }
}

const char *fd_name(int kind) {
    static const char *const names[] = {"busy", "ioerr", "lost", "commit-lost",
                                        "reply-lost"};
    return kind >= 0 && kind < FD_NKINDS ? names[kind] : "?";
}

void fd_arm(int kind, long k, int persistent) {
    F.kind = kind;
    F.countdown = k;
    F.persistent = persistent;
    F.fired = 0;
    F.armed = 1;
}

long fd_disarm(void) {
    F.armed = 0;
    return F.fired;
}

static int injected(m2m_db *db, int kind, const char *where) {
    return m2m__set_error(db, fd_code(kind), "%s: injected %s fault", where,
                          fd_name(kind));
}

/* ---- the wrapped entry points ---- */

static void fd_close(m2m_db *db) {
    int s = slot_of(db);
    if (s >= 0) {
        F.real->stmt.finalize(db, F.conns[s].busy);
        F.real->stmt.finalize(db, F.conns[s].ioerr);
        F.real->stmt.finalize(db, F.conns[s].kill);
        F.conns[s].db = NULL;
    }
    F.real->conn.close(db);
}

static int fd_reconnect(m2m_db *db) {
    int s = slot_of(db);
    if (s >= 0)
        F.conns[s].open = false;
    if (F.armed && F.persistent && F.fired && F.kind != FD_BUSY && F.kind != FD_IOERR)
        return m2m__set_error(
            db, M2M_CONNECTION,
            "cannot reconnect to the server: injected persistent fault");
    return F.real->conn.reconnect(db);
}

static int fd_prepare(m2m_db *db, const char *sql, m2m__stmt **out) {
    if ((F.kind == FD_BUSY || F.kind == FD_IOERR) && hit()) {
        *out = NULL;
        return injected(db, F.kind, "prepare");
    }
    return F.real->stmt.prepare(db, sql, out);
}

static bool is_rollback(m2m_db *db, m2m__stmt *st) {
    return st == db->fixed[M2M__ROLLBACK] || st == db->fixed[M2M__ROLLBACK_TO];
}

/* Run steps[0..j) as they are and, at j, the fault statement instead. */
static int fail_at(m2m_db *db, m2m__step *steps, size_t j, m2m__stmt *st, int kind) {
    m2m__step *copy = malloc((j + 1) * sizeof *copy);
    if (!copy)
        abort();
    memcpy(copy, steps, j * sizeof *copy);
    copy[j] = (m2m__step){.stmt = st};
    int rc = F.real->stmt.run(db, copy, j + 1);
    for (size_t i = 0; i < j; i++)
        steps[i].changes = copy[i].changes;
    free(copy);
    if (rc == M2M_OK)
        rc = injected(db, kind, "execute (the fault statement succeeded)");
    return rc;
}

/* Run the whole batch, which commits, then lose the connection before its
 * answer could be read (FD_REPLY_LOST: none of its rows were seen). */
static int lose_after(m2m_db *db, m2m__step *steps, size_t n, bool drop_rows) {
    m2m__step *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy)
        abort();
    memcpy(copy, steps, n * sizeof *copy);
    if (drop_rows)
        for (size_t i = 0; i < n; i++) {
            copy[i].on_row = NULL;
            copy[i].deleted_col = 0;
        }
    int rc = F.real->stmt.run(db, copy, n);
    for (size_t i = 0; i < n; i++)
        steps[i].changes = copy[i].changes;
    free(copy);
    if (rc != M2M_OK)
        return rc;
    F.real->stmt.exec_script(db, kill_sql(db));
    db->lost_early = false; /* as if the answer had been lost on the way */
    return m2m__set_error(db, M2M_CONNECTION,
                          "connection to the %s server lost: injected after the commit "
                          "was sent; call m2m_reconnect()",
                          db->drv->info->label);
}

static int fd_run(m2m_db *db, m2m__step *steps, size_t n) {
    int s = slot_of(db);
    if (s < 0 || !F.armed)
        goto pass;
    bool has_begin = false, ends = false;
    size_t commit_at = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (steps[i].stmt == db->fixed[M2M__BEGIN])
            has_begin = true;
        if (steps[i].stmt == db->fixed[M2M__COMMIT]) {
            commit_at = i;
            ends = true;
        }
        if (steps[i].stmt == db->fixed[M2M__ROLLBACK])
            ends = true;
    }
    if (commit_at == (size_t)-1 && !F.conns[s].open && !has_begin && n)
        commit_at = n - 1; /* commits by itself */
    bool was_open = F.conns[s].open;
    F.conns[s].open = (was_open || has_begin) && !ends;
    if (commit_kind(F.kind)) {
        if (commit_at != (size_t)-1 && hit()) {
            F.conns[s].open = false;
            return lose_after(db, steps, n, F.kind == FD_REPLY_LOST);
        }
        goto run;
    }
    for (size_t j = 0; j < n; j++) {
        if (F.kind != FD_LOST && is_rollback(db, steps[j].stmt))
            continue;
        if (!hit())
            continue;
        m2m__stmt *st = F.kind == FD_BUSY    ? F.conns[s].busy
                        : F.kind == FD_IOERR ? F.conns[s].ioerr
                                             : F.conns[s].kill;
        /* The failed statement is where the server stopped: a BEGIN
         * before it stands, anything after it did not run. */
        bool began = was_open;
        for (size_t i = 0; i < j; i++)
            began = (began || steps[i].stmt == db->fixed[M2M__BEGIN]) &&
                    steps[i].stmt != db->fixed[M2M__COMMIT] &&
                    steps[i].stmt != db->fixed[M2M__ROLLBACK];
        F.conns[s].open = began && F.kind != FD_LOST;
        return fail_at(db, steps, j, st, F.kind);
    }
run:;
    int rc = F.real->stmt.run(db, steps, n);
    if (rc == M2M_CONNECTION)
        F.conns[s].open = false;
    return rc;
pass:
    return F.real->stmt.run(db, steps, n);
}

static int fd_cursor_open(m2m_db *db, m2m__stmt *st, const m2m_value *p, size_t n,
                          size_t whole, m2m__cursor **out) {
    if ((F.kind == FD_BUSY || F.kind == FD_IOERR) && hit()) {
        *out = NULL;
        return injected(db, F.kind, "read");
    }
    return F.real->stmt.cursor_open(db, st, p, n, whole, out);
}

/* The cursor does not know its connection here: the armed one is used. */
static m2m_db *cursor_db;

static int fd_cursor_next(m2m__cursor *c) {
    if ((F.kind == FD_BUSY || F.kind == FD_IOERR) && cursor_db && hit())
        return injected(cursor_db, F.kind, "read");
    return F.real->stmt.cursor_next(c);
}

/* m2m_fault(code): fails its statement with that SQLite result code. */
static void fault_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    sqlite3_result_error(ctx, "injected fault", -1);
    sqlite3_result_error_code(ctx, sqlite3_value_int(argv[0]));
}

int fd_many_ids;

void fd_install(m2m_db *db) {
    if (slot_of(db) >= 0)
        return;
    int s = slot_of(NULL);
    if (s < 0)
        abort();
    if (!F.real) {
        F.real = db->drv;
        F.wrap = *db->drv;
        F.wrap.conn.close = fd_close;
        F.wrap.conn.reconnect = fd_reconnect;
        F.wrap.stmt.prepare = fd_prepare;
        F.wrap.stmt.run = fd_run;
        F.wrap.stmt.cursor_open = fd_cursor_open;
        F.wrap.stmt.cursor_next = fd_cursor_next;
    }
    F.wrap.dialect.not_in_few = fd_many_ids ? 0 : F.real->dialect.not_in_few;
    bool pg = is_pg(db->drv);
    if (!pg) {
        sqlite3_create_function_v2(conn(db), "m2m_fault", 1, SQLITE_UTF8, NULL, fault_fn,
                                   NULL, NULL, NULL);
    }
    F.conns[s].db = db;
    F.conns[s].open = db->in_txn;
    bool mariadb = strcmp(db->drv->info->name, "mariadb") == 0;
    const char *busy = mariadb ? "SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, "
                                 "MESSAGE_TEXT = 'injected fault: deadlock'"
                       : pg    ? "DO $$BEGIN RAISE EXCEPTION 'injected fault: could not "
                                 "serialize access' USING ERRCODE = '40001'; END$$"
                               : "SELECT m2m_fault(5)";
    const char *ioerr = mariadb ? "SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1030, "
                                  "MESSAGE_TEXT = 'injected fault: I/O error'"
                        : pg ? "DO $$BEGIN RAISE EXCEPTION 'injected fault: I/O error' "
                               "USING ERRCODE = '58030'; END$$"
                             : "SELECT m2m_fault(10)";
    if (F.real->stmt.prepare(db, busy, &F.conns[s].busy) ||
        F.real->stmt.prepare(db, ioerr, &F.conns[s].ioerr))
        abort();
    if (pg && F.real->stmt.prepare(db, kill_sql(db), &F.conns[s].kill))
        abort();
    cursor_db = db;
    db->drv = &F.wrap;
}
