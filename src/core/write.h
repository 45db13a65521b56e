/* SPDX-License-Identifier: MIT */
/* The write operations as explicit plans: write_plan.c decides which
 * statements an operation sends and why; write_run.c runs such a plan. */
#ifndef M2M_WRITE_H
#define M2M_WRITE_H

#include "core/input.h"
#include "core/txn.h"

/* m2m_create's rows, and what the call builds from them (create.c). */
typedef struct m2m__create {
    const m2m_new *rows;
    size_t n;
    char *sql;       /* the related table's INSERT ... RETURNING */
    char *json;      /* the rows, its one parameter */
    m2m_value param; /* json as a value */
    m2m_item *items; /* the new keys, each with its row's pivot data */
    char *fake;      /* an explained call's text keys (it gets none back) */
} m2m__create;

/* A call of a write operation, as the caller made it. */
typedef struct m2m__call {
    int op; /* M2M_OP_* */
    m2m_value parent;
    const m2m_item *items;
    const m2m_value *ids;
    size_t n;
    const m2m_opts *opts;
    const m2m_col *cols; /* update pivot */
    size_t ncols;
    bool all;          /* detach all */
    bool plain;        /* attach, sync, toggle: ids without items */
    bool ids_null;     /* update pivot: ids was NULL */
    bool report;       /* the caller asked for the report */
    int flags;         /* opts->flags, and M2M__IF_VERSION for opts->if_version */
    uint64_t set_mask; /* update pivot: the columns it sets */
    m2m__create *create;
} m2m__call;
enum { M2M__IF_VERSION = 1 << 30 };

/* What a plan step does. */
enum {
    W_STMT,       /* a statement of the relation (kind, mask, $2 from data) */
    W_INSERTS,    /* one INSERT per group of the input as it is then */
    W_FLUSH,      /* send what is queued: the next step needs its rows */
    W_IF_VERSION, /* compare the version just read with opts->if_version */
    W_GONE,       /* toggle: what was detached is not attached again */
    W_CREATE,     /* create: insert the related rows, their keys to the report */
    W_CREATED,    /* create: the input to attach, from the keys returned */
    W_TOUCH,      /* touch the parent when the statements sent changed rows */
    W_LAST        /* send the rest, then callbacks, version, commit, report */
};
/* What a statement's $2 is. */
enum { D_NONE, D_IDS, D_GROUP0, D_GONE };

typedef struct m2m__wstep {
    int what;
    int kind;       /* W_STMT: S_* (sql/sqlgen.h) */
    int count_kind; /* W_STMT: under row-level security, counted first by
                       this statement and compared (0: no count) */
    uint64_t mask;  /* W_STMT: the pivot columns it writes */
    int data;       /* W_STMT: D_* */
    size_t group;   /* D_GROUP0: which group */
    bool set_vals;  /* W_STMT: binds the update's new values */
    int list;       /* the report list its rows go to, -1 none */
    int count_list; /* M2M_COUNTS: the list its affected rows count to, -1 */
    int hooked;     /* > 0: the driver reports the ids it deletes, from this
                       column (m2m__step.deleted_col), without RETURNING */
    int plan_flags; /* M2M_PLAN_* */
    const char *why;
} m2m__wstep;

enum { M2M__WSTEPS_MAX = 16 };
typedef struct m2m__wplan {
    m2m__wstep v[M2M__WSTEPS_MAX];
    size_t n;
    bool inserts; /* a foreign key or unique failure is diagnosed */
    bool collect; /* the report is filled: the caller or a callback reads it */
    bool counted; /* M2M_COUNTS: the report's counts are the statements'
                     affected rows, nothing is returned */
    bool fuse;    /* COMMIT goes with the last statements */
    const char *commit_why;
} m2m__wplan;

/* The plan of call k on rel with input in (validated and encoded): every
 * choice among statements is made here, each with its reason. */
void m2m__plan_write(m2m_relation *rel, const m2m__call *k, const m2m__input *in,
                     m2m__wplan *p);

/* State of one operation being run. */
typedef struct m2m__opctx m2m__opctx;
m2m__opctx *m2m__opctx_new(m2m_db *db);
void m2m__opctx_free(m2m__opctx *c);
/* Run plan p of call k inside the operation's transaction (begun by the
 * caller); on success the report, when out is not NULL. On failure the
 * caller aborts with m2m__opctx_abort. */
int m2m__run_write(m2m__opctx *c, m2m_relation *rel, const m2m__call *k, m2m__input *in,
                   const m2m__wplan *p, m2m_changes **out);
/* The report of an operation that sends nothing. */
int m2m__write_noop(m2m__opctx *c, m2m_relation *rel, const m2m__call *k,
                    m2m_changes **out);
/* Validate, plan and run call k (ops.c), started over while busy. */
int m2m__write_call(m2m_relation *rel, m2m__call *k, m2m_changes **out);

/* create.c: check k->create's rows against the related table and build
 * its INSERT; queue it (its keys to the list to); then the input that
 * attaches the keys ch reports (placeholders in an explained call). */
int m2m__create_prepare(m2m_relation *rel, m2m__call *k);
int m2m__create_queue(m2m__op *op, m2m_relation *rel, m2m__create *cr, m2m__collect *to,
                      const char *why);
int m2m__create_input(m2m_relation *rel, const m2m__call *k, const m2m_changes *ch,
                      m2m__input *in);
void m2m__create_free(m2m__create *cr);

/* Begin the operation's transaction, with its per-parent lock. */
int m2m__opctx_begin(m2m__opctx *c, m2m_relation *rel, m2m_value parent);
/* Roll back what the attempt did and forget it (the error stays). */
void m2m__opctx_abort(m2m__opctx *c);

#endif /* M2M_WRITE_H */
