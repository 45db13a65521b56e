/* SPDX-License-Identifier: MIT */
/* The connection handle, busy waits, and what every operation checks first. */
#ifndef M2M_DB_H
#define M2M_DB_H

#include "drivers/driver.h"

/* ---- digest.c ---- */
/* SHA-256 of n bytes at p: M2M_OK, or M2M_NOMEM (nothing set on a db). */
int m2m__sha256(const void *p, size_t n, unsigned char out[32]);

/* ---- busy.c: waiting out a busy database ---- */
/* The documented bound on how long one call waits for a busy database:
 * all its waits and retries together (SQLite's busy_timeout of old). */
enum { M2M__BUSY_TIMEOUT_MS = 5000 };
/* Monotonic clock, microseconds. */
int64_t m2m__clock_us(void);
/* Sleep the attempt-th backoff (1 ms doubling up to 50 ms, jittered), never
 * past deadline_us; false, without sleeping, once the deadline has passed. */
bool m2m__backoff(m2m_db *db, int attempt, int64_t deadline_us);
/* When that sleep would end (m2m__clock_us), without sleeping; -1 once the
 * deadline has passed. For a driver that can be woken sooner. */
int64_t m2m__backoff_until(m2m_db *db, int attempt, int64_t deadline_us);
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
    /* m2m_explain: where the next call's plan goes, and the plan while that
     * call is explained (plan.c). */
    m2m_plan **explain_out;
    m2m_plan *explain;
    int explain_depth; /* calls made by the explained call */
};

/* The SQL of fixed statement st of db, or NULL when st is not one. */
const char *m2m__fixed_sql(m2m_db *db, const m2m__stmt *st);
/* Called by drivers for every statement they execute. */
void m2m__note_exec(m2m_db *db, const char *sql);
/* The start of a public call on db: M2M_MISUSE for NULL, the reason of a
 * handle whose m2m_open failed, else M2M_OK with the last error cleared. */
int m2m__db_call(m2m_db *db);
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

#endif /* M2M_DB_H */
