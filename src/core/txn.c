/* SPDX-License-Identifier: MIT */
/* One operation's transaction. Statements are queued and sent together, so
 * on PostgreSQL a whole operation costs one or two round trips. */
#include "core/txn.h"

#include "core/plan.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A fresh operation; the queue keeps memory it got from an earlier one. */
static void op_init(m2m__op *op, m2m_relation *rel) {
    m2m__step *heap = op->steps != op->inl ? op->steps : NULL;
    size_t cap = heap ? op->cap : 0;
    *op = (m2m__op){.db = rel->db, .rel = rel};
    op->steps = heap ? heap : op->inl;
    op->cap = heap ? cap : sizeof op->inl / sizeof op->inl[0];
}

void m2m__op_release(m2m__op *op) {
    if (op->steps && op->steps != op->inl)
        m2m__free(op->steps);
    op->steps = op->inl;
    op->cap = sizeof op->inl / sizeof op->inl[0];
    op->n = 0;
}

m2m__step *m2m__op_add(m2m__op *op, m2m__stmt *st, const m2m_value *params, size_t n,
                       int (*on_row)(void *arg, m2m__cursor *row), void *arg) {
    if (!op->steps) { /* a zeroed op not begun through op_init */
        op->steps = op->inl;
        op->cap = sizeof op->inl / sizeof op->inl[0];
    }
    if (op->n == op->cap) {
        m2m__step *more = m2m__calloc(op->cap * 2, sizeof *more);
        if (!more)
            return NULL;
        memcpy(more, op->steps, op->n * sizeof *more);
        if (op->steps != op->inl)
            m2m__free(op->steps);
        op->steps = more;
        op->cap *= 2;
    }
    m2m__step *s = &op->steps[op->n++];
    *s = (m2m__step){
        .stmt = st, .params = params, .nparams = n, .on_row = on_row, .arg = arg};
    return s;
}

static int add_fixed(m2m__op *op, int which, const m2m_value *params, size_t n,
                     const char *why) {
    m2m__stmt *st;
    int rc = m2m__fixed(op->db, which, &st);
    if (rc)
        return rc;
    m2m__step *s = m2m__op_add(op, st, params, n, NULL, NULL);
    if (!s)
        return m2m__set_error(op->db, M2M_NOMEM, "out of memory queuing a statement");
    s->why = why;
    return M2M_OK;
}

int m2m__xid_row(void *arg, m2m__cursor *row) {
    m2m_db *db = arg;
    int n = db->drv->stmt.cursor_ncols(row);
    m2m_value v = n > 0 ? db->drv->stmt.cursor_value(row, n - 1) : M2M_NULL;
    db->xid_state = v.type == M2M_TINT ? 2 : 1;
    db->xid = v.i;
    return M2M_OK;
}

typedef struct xstatus {
    m2m_db *db;
    char text[16];
} xstatus;

static int status_row(void *arg, m2m__cursor *row) {
    xstatus *x = arg;
    m2m_value v = x->db->drv->stmt.cursor_value(row, 0);
    if (v.type == M2M_TTEXT)
        snprintf(x->text, sizeof x->text, "%s", v.s);
    return M2M_OK;
}

enum {
    /* Polls of an "in progress" transaction, STATUS_POLL_NS apart (1 s in
     * all) before the commit is reported in doubt; unmeasured. */
    STATUS_POLLS = 100,
    STATUS_POLL_NS = 10000000,
};

/* Ask a fresh connection what became of transaction xid; a transaction
 * whose backend is still going away reads "in progress" for a moment. */
static int ask_status(m2m_db *db, int64_t xid, char *out, size_t n) {
    m2m__stmt *st;
    int rc = m2m__fixed(db, M2M__XID_STATUS, &st);
    m2m_value p = M2M_INT(xid);
    for (int tries = 0; rc == M2M_OK && tries < STATUS_POLLS; tries++) {
        xstatus x = {db, ""};
        m2m__step s = {
            .stmt = st, .params = &p, .nparams = 1, .on_row = status_row, .arg = &x};
        if ((rc = db->drv->stmt.run(db, &s, 1)))
            break;
        snprintf(out, n, "%s", x.text);
        if (strcmp(x.text, "in progress") != 0)
            break;
        struct timespec ts = {0, STATUS_POLL_NS};
        nanosleep(&ts, NULL);
    }
    return rc;
}

int m2m__resolve_commit(m2m_db *db, int rc) {
    if (rc != M2M_CONNECTION || !db->drv->info->caps.in_doubt)
        return rc;
    m2m__saved_error lost = m2m__error_save(db);
    const char *why = lost.msg ? lost.msg : "connection lost";
    int64_t xid = db->xid;
    if (db->lost_early) {
        rc = m2m__set_error(db, M2M_CONNECTION,
                            "%s; the transaction ended before its commit: nothing "
                            "changed",
                            why);
    } else if (db->xid_state == 1) {
        rc = m2m__set_error(db, M2M_CONNECTION,
                            "%s; the transaction had written nothing: nothing changed",
                            why);
    } else if (db->xid_state == 0) {
        rc = m2m__set_error(
            db, M2M_INDOUBT,
            "%s; the connection was lost before the transaction's id was read: the "
            "change may or may not be committed (read the data to know)",
            why);
    } else if ((rc = db->drv->conn.reconnect(db)) != M2M_OK) {
        rc = m2m__set_error(db, M2M_INDOUBT,
                            "%s; cannot reconnect to ask whether transaction %lld "
                            "committed (%s with $1 = %lld tells): %s",
                            why, (long long)xid, db->drv->dialect.xid_status_sql,
                            (long long)xid, db->errmsg ? db->errmsg : "");
    } else {
        char status[16] = "";
        rc = ask_status(db, xid, status, sizeof status);
        if (rc == M2M_OK && strcmp(status, "committed") == 0) {
            m2m__clear_error(db);
        } else if (rc == M2M_OK && strcmp(status, "aborted") == 0) {
            rc = m2m__set_error(db, M2M_CONNECTION,
                                "%s; reconnected: transaction %lld was rolled back, "
                                "nothing changed",
                                why, (long long)xid);
        } else {
            rc = m2m__set_error(db, M2M_INDOUBT,
                                "%s; reconnected, but whether transaction %lld committed "
                                "is unknown (status '%s'%s%s)",
                                why, (long long)xid, status, rc ? ": " : "",
                                rc && db->errmsg ? db->errmsg : "");
        }
    }
    m2m__error_drop(&lost);
    return rc;
}

int m2m__op_begin_read(m2m__op *op, m2m_relation *rel) {
    m2m_db *db = rel->db;
    op_init(op, rel);
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a result cursor is still open on this connection; free it "
                              "with m2m_rows_free() first");
    /* An expired token's claims are never sent. */
    int rc = m2m__auth_live(db);
    if (rc)
        return rc;
    if ((rc = add_fixed(op, db->in_txn ? M2M__SAVEPOINT : M2M__BEGIN, NULL, 0,
                        db->in_txn ? "inside the caller's transaction: a savepoint, so "
                                     "that a failure undoes this call only"
                                   : "one transaction: all or nothing")))
        return rc;
    op->open = true;
    op->begin_pending = !db->in_txn;
    if (!db->in_txn)
        db->xid_state = 0;
    if (db->auth_claims) {
        op->auth[0] = M2M_TEXT(db->auth_claims);
        op->auth[1] = M2M_TEXT(db->auth_role);
        if ((rc = add_fixed(op, M2M__AUTH, op->auth, 2,
                            "the JWT session: its claims and role, for row-level "
                            "security")))
            return rc;
    }
    return M2M_OK;
}

int m2m__op_begin(m2m__op *op, m2m_relation *rel, m2m_value parent) {
    int rc = m2m__op_begin_read(op, rel);
    if (rc == M2M_OK && !rel->db->drv->info->caps.single_writer) {
        /* A relation and its inverse write the same rows, keyed by different
         * columns. The side whose key leads the pivot's unique index locks
         * its parent under a shared lock of the pivot table; the other side
         * takes that lock exclusively (docs/backends.md, Concurrency). */
        bool canonical = m2m__rel_lock_side(rel) == M2M__LOCK_PARENT;
        op->lock[0] = M2M_INT(rel->lock_key);
        op->lock[1] = parent;
        rc = add_fixed(op, canonical ? M2M__LOCK : M2M__LOCK_ALL, op->lock,
                       canonical ? 2 : 1,
                       canonical ? "serialize the writers of this parent (and share the "
                                   "pivot with other parents' writers)"
                                 : "serialize with every writer of the pivot: this side "
                                   "of the relation locks the whole pivot");
        if (rc == M2M_OK) {
            /* Its row carries the transaction's id, for an in-doubt commit. */
            op->steps[op->n - 1].on_row = m2m__xid_row;
            op->steps[op->n - 1].arg = rel->db;
        }
    }
    return rc;
}

/* Run steps[from..n) and empty the queue. An explained call records
 * them as one batch of its plan instead. */
static int flush_from(m2m__op *op, size_t from) {
    if (op->db->explain) {
        m2m__plan_batch(op->db, op->rel, op->steps + from, op->n - from);
        op->n = 0;
        op->begin_pending = false;
        return M2M_OK;
    }
    int rc = op->n > from ? op->db->drv->stmt.run(op->db, op->steps + from, op->n - from)
                          : M2M_OK;
    if (op->n > from && !(rc && op->db->unsent))
        op->started = true;
    op->n = 0;
    op->begin_pending = false;
    return rc;
}

int m2m__op_flush(m2m__op *op) { return flush_from(op, 0); }

int m2m__op_commit(m2m__op *op) {
    if (op->begin_pending && op->db->drv->info->caps.batch_is_txn) {
        /* Skip the queued BEGIN (steps stay where callers point to them). */
        int rc = flush_from(op, 1);
        op->open = false; /* committed, or rolled back by the server */
        return m2m__resolve_commit(op->db, rc);
    }
    bool commit = !op->db->in_txn;
    int rc = add_fixed(op, commit ? M2M__COMMIT : M2M__RELEASE, NULL, 0,
                       op->commit_why ? op->commit_why : "end the transaction");
    if (rc == M2M_OK)
        rc = flush_from(op, 0);
    if (rc == M2M_CONNECTION && commit) {
        /* The server rolls back what it did not commit: nothing to abort. */
        op->open = false;
        rc = m2m__resolve_commit(op->db, rc);
    }
    if (rc == M2M_OK)
        op->open = false;
    return rc;
}

void m2m__op_abort(m2m__op *op) {
    if (!op->open || !op->started) {
        /* Nothing reached the server: no savepoint to roll back to (on
         * PostgreSQL a ROLLBACK TO one would abort the caller's work). */
        op->open = false;
        op->n = 0;
        return;
    }
    m2m_db *db = op->db;
    /* Keep the error that made us abort; a failing rollback must not hide it. */
    m2m__saved_error why = m2m__error_save(db);
    op->n = 0;
    if (db->in_txn) {
        add_fixed(op, M2M__ROLLBACK_TO, NULL, 0, NULL);
        add_fixed(op, M2M__RELEASE, NULL, 0, NULL);
    } else {
        add_fixed(op, M2M__ROLLBACK, NULL, 0, NULL);
    }
    m2m__op_flush(op);
    op->open = false;
    m2m__error_restore(db, &why);
}
