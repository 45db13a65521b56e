/* SPDX-License-Identifier: MIT */
/* The write operations: attach, detach, sync, toggle, update pivot, and the
 * version of a set. Each is one transaction of a constant number of
 * statements, whatever the number of ids: the call is validated, planned
 * (write_plan.c) and run (write_run.c), and started over when the database
 * was busy. */
#include "core/plan.h"
#include "core/write.h"
#include "sql/sqlgen.h"

#include <stdio.h>
#include <string.h>

/* The operation gave up on a busy database: say so, and what was busy. */
static int busy_error(m2m_db *db, m2m_relation *rel, int attempts, int64_t began) {
    return m2m__set_error(db, M2M_BUSY,
                          "%s: database busy for %lld ms (%d attempt%s), nothing was "
                          "changed: %s",
                          rel->pivot_table, (long long)((m2m__clock_us() - began) / 1000),
                          attempts, attempts == 1 ? "" : "s", m2m_errmsg(db));
}

/* Checks every write operation makes before any SQL runs. */
static int precheck(m2m_relation *rel, m2m_value parent) {
    if (!rel)
        return M2M_MISUSE;
    m2m_db *db = rel->db;
    m2m__clear_error(db);
    int rc = m2m__check_id(rel, "parent", parent, rel->parent_type);
    if (rc)
        return rc;
    if (rel->owner_column && !db->auth_claims)
        return m2m__set_error(db, M2M_DENIED,
                              "%s: the relation is bound to the JWT owner column '%s'; "
                              "authenticate with m2m_auth_jwt() first",
                              rel->pivot_table, rel->owner_column);
    return m2m__auth_live(db);
}

/* Validate the call and encode its input. *noop: nothing to send (no ids,
 * or a detach, toggle or update of an empty list). */
static int prepare(m2m_relation *rel, m2m__call *k, m2m__input *in, bool *noop) {
    m2m_db *db = rel->db;
    int rc;
    if (k->op == M2M_OP_CREATE) {
        /* The input is made from the keys the INSERT returns. */
        *in = (m2m__input){.rel = rel};
        *noop = k->n == 0;
        rc = m2m__create_prepare(rel, k);
        if (rc == M2M_OK && k->opts && k->opts->version != 0)
            rc = m2m__set_error(db, M2M_INVALID, "%s: unknown m2m_opts version %d",
                                rel->pivot_table, k->opts->version);
        return rc;
    }
    if (k->plain)
        rc = m2m__input_plain(rel, k->ids, k->n, k->opts, in);
    else if (k->items || (k->op != M2M_OP_DETACH && k->op != M2M_OP_UPDATE))
        rc = m2m__input_items(rel, k->items, k->n, k->opts, in);
    else
        rc = m2m__input_ids(rel, k->ids, k->n, in);
    if (rc == M2M_OK && k->op == M2M_OP_UPDATE && k->ncols == 0)
        rc = m2m__set_error(db, M2M_INVALID, "%s: update pivot needs at least one column",
                            rel->pivot_table);
    if (rc == M2M_OK && k->opts && k->opts->version != 0)
        rc = m2m__set_error(db, M2M_INVALID, "%s: unknown m2m_opts version %d",
                            rel->pivot_table, k->opts->version);
    if (rc == M2M_OK)
        rc = m2m__input_encode(in, k->parent, NULL);
    /* An update's columns are valid even when it has nothing to update. */
    if (rc == M2M_OK && k->op == M2M_OP_UPDATE)
        rc = m2m__cols_mask(rel, k->cols, k->ncols, &k->set_mask);
    *noop = in->n == 0 && !k->all && !(k->op == M2M_OP_SYNC && !(k->flags & M2M_KEEP));
    return rc;
}

/* Validate, encode, plan, then run the plan in a transaction. A busy
 * database (SQLite busy or locked, lock timeout, serialization failure,
 * deadlock) makes the whole operation start over after a backoff, when no
 * caller transaction is open, until the busy timeout has passed since it
 * began; on SQLite the busy handler's waits count toward the same
 * deadline. */
static int write_op(m2m_relation *rel, m2m__call *k, m2m_changes **out) {
    if (k->op == M2M_OP_UPDATE && k->ncols && !k->cols)
        return m2m__set_error(rel->db, M2M_MISUSE, "%s: cols is NULL", rel->pivot_table);
    if (k->op == M2M_OP_UPDATE && k->ids_null && k->n)
        return m2m__set_error(rel->db, M2M_MISUSE, "%s: ids is NULL", rel->pivot_table);
    int rc = precheck(rel, k->parent);
    if (rc)
        return rc;
    m2m_db *db = rel->db;
    k->report = out != NULL;
    if (k->opts)
        k->flags = k->opts->flags | (k->opts->if_version ? M2M__IF_VERSION : 0);
    m2m__input in;
    bool noop = false;
    rc = prepare(rel, k, &in, &noop);
    m2m__opctx *c = rc == M2M_OK ? m2m__opctx_new(db) : NULL;
    if (rc == M2M_OK && !c)
        rc = M2M_NOMEM;
    /* An operation run by a callback of another keeps its own deadline. */
    int64_t began = m2m__clock_us(), outer = db->busy_deadline;
    db->busy_deadline = began + (int64_t)db->busy_timeout_ms * 1000;
    m2m__wplan plan;
    for (int attempt = 0; rc == M2M_OK; attempt++) {
        if (noop) {
            rc = m2m__write_noop(c, rel, k, out);
            break;
        }
        /* Every write takes the lock, even a lone DELETE or UPDATE that
         * would be atomic by itself: otherwise it interleaves with the
         * statements of a concurrent sync or toggle of the same parent. */
        m2m__plan_write(rel, k, &in, &plan);
        rc = m2m__opctx_begin(c, rel, k->parent);
        if (rc == M2M_OK)
            rc = m2m__run_write(c, rel, k, &in, &plan, out);
        if (rc == M2M_OK)
            break;
        m2m__opctx_abort(c);
        if (rc != M2M_BUSY || db->in_txn)
            break;
        if (!m2m__backoff(db, attempt, db->busy_deadline)) {
            rc = busy_error(db, rel, attempt + 1, began);
            break;
        }
        m2m__clear_error(db);
        /* toggle re-encoded its input from what it detached */
        rc = k->op == M2M_OP_TOGGLE ? m2m__input_encode(&in, k->parent, NULL) : M2M_OK;
    }
    db->busy_deadline = outer;
    m2m__opctx_free(c);
    m2m__input_free(&in);
    return rc;
}

int m2m__write_call(m2m_relation *rel, m2m__call *k, m2m_changes **out) {
    if (out)
        *out = NULL;
    if (!rel)
        return M2M_MISUSE;
    return M2M__EXPLAINED(rel->db, write_op(rel, k, out));
}

int m2m_attach(m2m_relation *rel, m2m_value parent, const m2m_item *items, size_t n,
               const m2m_opts *opts, m2m_changes **out) {
    m2m__call k = {
        .op = M2M_OP_ATTACH, .parent = parent, .items = items, .n = n, .opts = opts};
    return m2m__write_call(rel, &k, out);
}

int m2m_sync(m2m_relation *rel, m2m_value parent, const m2m_item *items, size_t n,
             const m2m_opts *opts, m2m_changes **out) {
    m2m__call k = {
        .op = M2M_OP_SYNC, .parent = parent, .items = items, .n = n, .opts = opts};
    return m2m__write_call(rel, &k, out);
}

int m2m_toggle(m2m_relation *rel, m2m_value parent, const m2m_item *items, size_t n,
               const m2m_opts *opts, m2m_changes **out) {
    m2m__call k = {
        .op = M2M_OP_TOGGLE, .parent = parent, .items = items, .n = n, .opts = opts};
    return m2m__write_call(rel, &k, out);
}

/* The plain-id forms: the same call, the same path, rows without items. */
static int write_ids(int op, m2m_relation *rel, m2m_value parent, const m2m_value *ids,
                     size_t n, const m2m_opts *opts, m2m_changes **out) {
    m2m__call k = {
        .op = op, .parent = parent, .ids = ids, .n = n, .opts = opts, .plain = true};
    return m2m__write_call(rel, &k, out);
}

int m2m_attach_ids(m2m_relation *rel, m2m_value parent, const m2m_value *ids, size_t n,
                   const m2m_opts *opts, m2m_changes **out) {
    return write_ids(M2M_OP_ATTACH, rel, parent, ids, n, opts, out);
}

int m2m_sync_ids(m2m_relation *rel, m2m_value parent, const m2m_value *ids, size_t n,
                 const m2m_opts *opts, m2m_changes **out) {
    return write_ids(M2M_OP_SYNC, rel, parent, ids, n, opts, out);
}

int m2m_toggle_ids(m2m_relation *rel, m2m_value parent, const m2m_value *ids, size_t n,
                   const m2m_opts *opts, m2m_changes **out) {
    return write_ids(M2M_OP_TOGGLE, rel, parent, ids, n, opts, out);
}

int m2m_detach(m2m_relation *rel, m2m_value parent, const m2m_value *ids, size_t n,
               const m2m_opts *opts, m2m_changes **out) {
    m2m__call k = {.op = M2M_OP_DETACH,
                   .parent = parent,
                   .ids = ids,
                   .n = n,
                   .opts = opts,
                   .all = ids == NULL};
    return m2m__write_call(rel, &k, out);
}

int m2m_update_pivot(m2m_relation *rel, m2m_value parent, const m2m_value *ids, size_t n,
                     const m2m_col *cols, size_t ncols, m2m_changes **out) {
    m2m__call k = {.op = M2M_OP_UPDATE,
                   .parent = parent,
                   .ids = ids ? ids : (const m2m_value *)"",
                   .n = n,
                   .cols = cols,
                   .ncols = ncols,
                   .ids_null = !ids};
    return m2m__write_call(rel, &k, out);
}

static int version(m2m_relation *rel, m2m_value parent, char out[M2M_VERSION_LEN]) {
    if (!rel || !out)
        return rel ? m2m__set_error(rel->db, M2M_MISUSE, "m2m_version: out is NULL")
                   : M2M_MISUSE;
    out[0] = '\0';
    m2m_db *db = rel->db;
    int rc = precheck(rel, parent);
    if (rc)
        return rc;
    m2m__stmt *st;
    if ((rc = m2m__rel_stmt(rel, S_VERSION, 0, m2m__builder(S_VERSION), &st)))
        return rc;
    m2m_value p[1 + M2M__MAX_PIVOT + M2M__MAX_COND_VALUES];
    p[0] = parent;
    size_t n = 1 + m2m__scope_params(rel, p + 1);
    n += m2m__cond_params(rel, p + n);
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE, "a result cursor is still open");
    m2m__digest d = {.db = db};
    /* A JWT session reads the version as sync does the one it compares: in
     * a transaction that sets the claims and the role first. */
    m2m__op op = {.db = db, .rel = rel};
    if (db->auth_claims)
        rc = m2m__op_begin_read(&op, rel);
    m2m__step *s = rc ? NULL : m2m__op_add(&op, st, p, n, m2m__digest_row, &d);
    if (rc == M2M_OK && !s)
        rc = m2m__set_error(db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
    if (s) {
        s->why = "read the parent's set for its version";
        s->plan_flags = M2M_PLAN_READ;
    }
    if (rc == M2M_OK)
        rc = db->auth_claims ? m2m__op_commit(&op) : m2m__op_flush(&op);
    if (rc)
        m2m__op_abort(&op);
    m2m__op_release(&op);
    if (rc == M2M_OK && !db->explain)
        rc = m2m__digest_hex(&d, out);
    return rc;
}

int m2m_version(m2m_relation *rel, m2m_value parent, char out[M2M_VERSION_LEN]) {
    if (!rel)
        return M2M_MISUSE;
    return M2M__EXPLAINED(rel->db, version(rel, parent, out));
}
