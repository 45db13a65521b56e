/* One operation's transaction. Statements are queued and sent together, so
 * on PostgreSQL a whole operation costs one or two round trips. */
#include "internal.h"

#include <string.h>

m2m__step *m2m__op_add(m2m__op *op, m2m__stmt *st, const m2m_value *params, size_t n,
                       int (*on_row)(void *arg, m2m__cursor *row), void *arg) {
    /* Callers queue a small fixed number of statements per flush. */
    if (op->n == sizeof op->steps / sizeof op->steps[0])
        return NULL;
    m2m__step *s = &op->steps[op->n++];
    *s = (m2m__step){
        .stmt = st, .params = params, .nparams = n, .on_row = on_row, .arg = arg};
    return s;
}

static int add_fixed(m2m__op *op, int which, const m2m_value *params, size_t n) {
    m2m__stmt *st;
    int rc = m2m__fixed(op->db, which, &st);
    if (rc)
        return rc;
    m2m__op_add(op, st, params, n, NULL, NULL);
    return M2M_OK;
}

int m2m__op_begin_read(m2m__op *op, m2m_relation *rel) {
    m2m_db *db = rel->db;
    *op = (m2m__op){.db = db, .rel = rel};
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a result cursor is still open on this connection; free it "
                              "with m2m_rows_free() first");
    /* An expired token's claims are never sent. */
    int rc = m2m__auth_live(db);
    if (rc)
        return rc;
    if ((rc = add_fixed(op, db->in_txn ? M2M__SAVEPOINT : M2M__BEGIN, NULL, 0)))
        return rc;
    op->open = true;
    op->begin_pending = !db->in_txn;
    if (db->auth_claims) {
        op->auth[0] = M2M_TEXT(db->auth_claims);
        op->auth[1] = M2M_TEXT(db->auth_role);
        if ((rc = add_fixed(op, M2M__AUTH, op->auth, 2)))
            return rc;
    }
    return M2M_OK;
}

int m2m__op_begin(m2m__op *op, m2m_relation *rel, m2m_value parent) {
    int rc = m2m__op_begin_read(op, rel);
    if (rc == M2M_OK && rel->db->drv->lock_sql) {
        /* A relation and its inverse write the same rows, keyed by different
         * columns. The side whose parent column sorts first locks its parent
         * under a shared lock of the pivot table; the other side takes that
         * lock exclusively (docs/backends.md, Concurrency). */
        bool canonical = strcmp(rel->fk, rel->rk) <= 0;
        op->lock[0] = M2M_INT(rel->lock_key);
        op->lock[1] = parent;
        rc = add_fixed(op, canonical ? M2M__LOCK : M2M__LOCK_ALL, op->lock,
                       canonical ? 2 : 1);
    }
    return rc;
}

/* Run steps[from..n) and empty the queue. */
static int flush_from(m2m__op *op, size_t from) {
    int rc =
        op->n > from ? op->db->drv->run(op->db, op->steps + from, op->n - from) : M2M_OK;
    op->n = 0;
    op->begin_pending = false;
    return rc;
}

int m2m__op_flush(m2m__op *op) { return flush_from(op, 0); }

int m2m__op_commit(m2m__op *op) {
    if (op->begin_pending && op->db->drv->batch_is_txn) {
        /* Skip the queued BEGIN (steps stay where callers point to them). */
        int rc = flush_from(op, 1);
        op->open = false; /* committed, or rolled back by the server */
        return rc;
    }
    int rc = add_fixed(op, op->db->in_txn ? M2M__RELEASE : M2M__COMMIT, NULL, 0);
    if (rc == M2M_OK)
        rc = m2m__op_flush(op);
    if (rc == M2M_OK)
        op->open = false;
    return rc;
}

void m2m__op_abort(m2m__op *op) {
    if (!op->open)
        return;
    m2m_db *db = op->db;
    /* Keep the error that made us abort; a failing rollback must not hide it. */
    int code = db->errcode;
    char *msg = db->errmsg;
    db->errmsg = NULL;
    op->n = 0;
    if (db->in_txn) {
        add_fixed(op, M2M__ROLLBACK_TO, NULL, 0);
        add_fixed(op, M2M__RELEASE, NULL, 0);
    } else {
        add_fixed(op, M2M__ROLLBACK, NULL, 0);
    }
    m2m__op_flush(op);
    op->open = false;
    m2m__free(db->errmsg);
    db->errmsg = msg;
    db->errcode = code;
}
