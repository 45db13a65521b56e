/* SPDX-License-Identifier: MIT */
/* One operation's transaction: the queue of statements sent together. */
#ifndef M2M_TXN_H
#define M2M_TXN_H

#include "core/relation.h"

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
    const char *commit_why; /* for plans: why the COMMIT goes where it does */
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

#endif /* M2M_TXN_H */
