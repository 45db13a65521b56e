/* SPDX-License-Identifier: MIT */
/* The write operations: attach, detach, sync, toggle, update pivot, and the
 * version of a set. Each is one transaction of a constant number of
 * statements, whatever the number of ids. */
#include "core/input.h"
#include "core/txn.h"
#include "sql/sqlgen.h"

#include <stdio.h>
#include <string.h>

enum { ARENA = 1024, M2M__IF_VERSION = 1 << 30 };

/* An RLS check: the rows a DML statement should change, counted first. */
typedef struct check {
    struct check *next;
    m2m__intval count;
    size_t count_ix, dml_ix; /* their steps in the operation's queue */
} check;

/* Parameter arrays beyond the arena's, in blocks of their own. */
typedef struct chunk {
    struct chunk *next;
    m2m_value v[];
} chunk;

/* State of one operation. Parameter arrays live in the arena until the
 * statements that use them have run. */
typedef struct opctx {
    m2m_relation *rel;
    m2m_db *db;
    m2m_value parent;
    m2m__op op;
    m2m__report *rep;
    bool collect;       /* the caller or a callback wants the ids */
    bool need_detached; /* toggle: the detached ids decide what to attach */
    m2m__ids gone;      /* toggle: those ids, the parameter of its DELETE */
    m2m__collect lists[4];
    check *checks;  /* of the statements queued */
    size_t nchecks; /* their number */
    chunk *extra;   /* parameters that did not fit the arena */
    size_t used;
    m2m_value arena[ARENA]; /* last: ctx_init clears only what precedes it */
} opctx;

static m2m_value *arena_take(opctx *c, size_t n) {
    if (c->used + n <= ARENA) {
        m2m_value *p = &c->arena[c->used];
        c->used += n;
        return p;
    }
    chunk *k = m2m__malloc(sizeof *k + n * sizeof(m2m_value));
    if (!k)
        return NULL;
    k->next = c->extra;
    c->extra = k;
    return k->v;
}

/* The queued statements have run: their parameters and checks go. */
static void queue_reset(opctx *c) {
    c->used = 0;
    while (c->extra) {
        chunk *k = c->extra;
        c->extra = k->next;
        m2m__free(k);
    }
    while (c->checks) {
        check *k = c->checks;
        c->checks = k->next;
        m2m__free(k);
    }
    c->nchecks = 0;
}

/* The column index of rk for drv->deleted_col, asked once per relation;
 * -1: a DELETE's rows cannot be reported that way. Not under RLS, where a
 * DELETE is counted against a check. */
static int rk_col(m2m_relation *rel) {
    if (!rel->rk_col) {
        int at = rel->db->drv->deleted_col && !rel->owner_column
                     ? rel->db->drv->deleted_col(rel->db, rel->pivot_table, rel->rk)
                     : -1;
        rel->rk_col = at >= 0 ? at + 1 : -1;
    }
    return rel->rk_col - (rel->rk_col > 0);
}

static bool deletes(int kind) {
    return kind == S_DELETE_IN || kind == S_DELETE_ALL || kind == S_DELETE_NOT_IN;
}

/* May kind's ids take the span form (M2M__SPAN)? For the statements whose
 * $2 they are and which test membership in them, when the driver has the
 * form and the pivot suits it (span_ok, asked once per relation). */
static bool spans(m2m_relation *rel, int kind, uint64_t mask) {
    bool in_ids =
        kind == S_DELETE_IN || kind == S_COUNT_IN || kind == S_UPDATE_SET ||
        ((kind == S_UPDATE_FROM || kind == S_COUNT_UPDATE_FROM) && mask & M2M__FLAT);
    if (!in_ids || !rel->db->drv->span_ok)
        return false;
    if (!rel->rk_span)
        rel->rk_span =
            rel->db->drv->span_ok(rel->db, rel->pivot_table, rel->fk, rel->rk) > 0 ? 2
                                                                                   : 1;
    return rel->rk_span == 2;
}

/* Queue statement kind with params [$1 parent, $2 ids or rows?, scope...,
 * vals...]
 * and, when list >= 0, collect its rows into that report list. */
static int add(opctx *c, int kind, uint64_t mask, const m2m_value *data,
               const m2m_value *vals, size_t nvals, int list, m2m__step **out) {
    m2m_relation *rel = c->rel;
    bool want = list >= 0 && (c->collect || (c->need_detached && list == M2M__DETACHED));
    /* Nobody wants the ids: the statement without RETURNING is cheaper
     * (on SQLite RETURNING builds a temporary table). A DELETE whose rows
     * the driver reports by itself (deleted_col) needs none either. */
    int hooked = want && deletes(kind) ? rk_col(rel) : -1;
    if ((list >= 0 && !want) || hooked >= 0)
        mask |= M2M__NO_RETURNING;
    if (data && data->type == (m2m_type)M2M__TIDS && spans(rel, kind, mask) &&
        m2m__ids_narrow((const m2m__ids *)(const void *)data->s))
        mask |= M2M__SPAN;
    m2m__stmt *st;
    int rc = m2m__rel_stmt(rel, kind, mask, m2m__builder(kind), &st);
    if (rc)
        return rc;
    m2m_value *p = arena_take(c, 2 + M2M__MAX_PIVOT + nvals);
    if (!p)
        return m2m__set_error(c->db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
    size_t n = 0;
    p[n++] = c->parent;
    if (data)
        p[n++] = *data;
    /* Inserts of JSON rows carry the scope values inside the rows. */
    if (kind != S_INSERT || mask & M2M__FLAT)
        n += m2m__scope_params(rel, p + n);
    for (size_t i = 0; i < nvals; i++)
        p[n++] = vals[i];
    m2m__step *s = m2m__op_add(&c->op, st, p, n, want ? m2m__collect_row : NULL,
                               want ? &c->lists[list] : NULL);
    if (!s)
        return m2m__set_error(c->db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
    s->deleted_col = hooked + 1;
    if (out)
        *out = s;
    return M2M_OK;
}

/* Under row-level security PostgreSQL skips rows a policy hides from DELETE
 * or UPDATE without an error; count the rows first and compare. */
static int add_checked(opctx *c, int count_kind, int kind, uint64_t mask,
                       const m2m_value *data, const m2m_value *vals, size_t nvals,
                       int list) {
    if (c->rel->owner_column) {
        /* A step pointer lasts until the next statement is queued. */
        check *k = m2m__calloc(1, sizeof *k);
        if (!k)
            return m2m__set_error(c->db, M2M_NOMEM, "%s: out of memory",
                                  c->rel->pivot_table);
        k->next = c->checks;
        c->checks = k;
        c->nchecks++;
        k->count = (m2m__intval){.db = c->db};
        m2m__step *cs = NULL;
        int rc = add(c, count_kind, mask, data, NULL, 0, -1, &cs);
        if (rc)
            return rc;
        cs->on_row = m2m__int_row;
        cs->arg = &k->count;
        k->count_ix = c->op.n - 1;
        rc = add(c, kind, mask, data, vals, nvals, list, NULL);
        k->dml_ix = c->op.n - 1;
        return rc;
    }
    return add(c, kind, mask, data, vals, nvals, list, NULL);
}

/* Queue kind over every id of the input (count_kind checks it under RLS). */
static int add_all_ids(opctx *c, int count_kind, int kind, uint64_t mask, m2m__input *in,
                       const m2m_value *vals, size_t nvals, int list) {
    const m2m__ids *all = m2m__input_all_ids(in);
    if (!all)
        return m2m__set_error(c->db, M2M_NOMEM, "%s: out of memory", c->rel->pivot_table);
    m2m_value data = m2m__ids_param(all);
    return add_checked(c, count_kind, kind, mask, &data, vals, nvals, list);
}

/* Queue kind over the rows of group g, a flat group with the values its
 * rows share; count_kind 0: no RLS check. */
static int add_group(opctx *c, int count_kind, int kind, m2m__input *in, size_t g,
                     uint64_t mask, int list) {
    m2m_value vals[M2M__MAX_PIVOT];
    size_t nv = mask & M2M__FLAT
                    ? m2m__cols_values(c->rel, in->shared, in->nshared, mask, vals)
                    : 0;
    m2m_value data = m2m__group_param(&in->groups[g]);
    return count_kind ? add_checked(c, count_kind, kind, mask, &data, vals, nv, list)
                      : add(c, kind, mask, &data, vals, nv, list, NULL);
}

/* Run what is queued; then check that RLS hid nothing from the DML. */
static int flush(opctx *c) {
    int rc = m2m__op_flush(&c->op);
    for (check *k = c->checks; k && rc == M2M_OK; k = k->next) {
        int64_t seen = k->count.v, changed = c->op.steps[k->dml_ix].changes;
        if (changed < seen)
            rc = m2m__set_error(
                c->db, M2M_DENIED,
                "%s: row-level security denied the change: %lld row(s) "
                "match but only %lld may be changed by this user (sub %s); "
                "nothing was changed",
                c->rel->pivot_table, (long long)seen, (long long)changed,
                c->db->auth_sub ? c->db->auth_sub : "?");
    }
    queue_reset(c);
    return rc;
}

/* Run the last statements of an operation. When nothing must look at
 * their results before the commit (no before-callback, version or RLS
 * check), COMMIT goes in the same batch: one round trip on PostgreSQL. A
 * failing statement stops the batch before the COMMIT, so the operation
 * still rolls back whole. A report is the exception on PostgreSQL, which
 * runs a batch whole: one that runs out of memory while it is built must
 * still find the transaction open, so COMMIT waits for it; so does the
 * RELEASE of an operation whose after-callback must first be queued (in a
 * caller transaction), which needs memory. */
static int flush_last(opctx *c, int flags) {
    bool fuse = !c->rel->before && !(flags & (M2M_WANT_VERSION | M2M__IF_VERSION)) &&
                c->nchecks == 0 && !(c->collect && c->db->drv->batch_is_txn) &&
                !(c->rel->after && c->db->in_txn);
    if (!fuse || !c->op.open)
        return flush(c);
    int rc = m2m__op_commit(&c->op);
    queue_reset(c);
    return rc;
}

static int ctx_init(opctx *c, m2m_relation *rel, int op, m2m_value parent, bool collect) {
    memset(c, 0, offsetof(opctx, arena));
    c->rel = rel;
    c->db = rel->db;
    c->parent = parent;
    c->collect = collect || rel->before || rel->after;
    c->rep = m2m__report_new(op, parent);
    if (!c->rep)
        return m2m__set_error(c->db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
    for (int l = 0; l < 4; l++)
        c->lists[l] = (m2m__collect){c->db, c->rep, l};
    return M2M_OK;
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

/* Run diagnostic statement kind over params and write the first id it
 * returns into out (at most 100 characters); false when it returns none or
 * fails. Its own errors are dropped: the caller keeps the error it names. */
static bool first_id(opctx *c, int kind, const m2m_value *params, size_t n, char *out,
                     size_t cap) {
    m2m_db *db = c->db;
    m2m__stmt *st;
    m2m__report *tmp = m2m__report_new(M2M_OP_ATTACH, c->parent);
    bool found = false;
    if (tmp && m2m__rel_stmt(c->rel, kind, 0, m2m__builder(kind), &st) == M2M_OK) {
        m2m__collect col = {db, tmp, M2M__ATTACHED};
        m2m__step s = {.stmt = st,
                       .params = params,
                       .nparams = n,
                       .on_row = m2m__collect_row,
                       .arg = &col};
        if (db->drv->run(db, &s, 1) == M2M_OK && tmp->ch.nattached) {
            char buf[40];
            snprintf(out, cap, "%.100s",
                     m2m_value_text(tmp->ch.attached[0], buf, sizeof buf));
            found = true;
        }
    }
    m2m_changes_free(tmp ? &tmp->ch : NULL);
    m2m__free(db->errmsg);
    db->errmsg = NULL;
    return found;
}

/* Name the id a foreign key rejected: the first related id that does not
 * exist, else the parent. Runs after the rollback. */
static void diagnose_fk(opctx *c, m2m__input *in) {
    m2m_db *db = c->db;
    m2m_relation *rel = c->rel;
    int code = db->errcode;
    char *msg = db->errmsg;
    db->errmsg = NULL;
    char found[128];
    const m2m__ids *all = m2m__input_all_ids(in);
    m2m_value ids = all ? m2m__ids_param(all) : M2M_NULL;
    if (all && first_id(c, S_DIAG_RELATED, &ids, 1, found, sizeof found)) {
        m2m__set_error(db, M2M_CONSTRAINT,
                       "%s: related id %s does not exist in %s (foreign key %s); nothing "
                       "was attached",
                       rel->pivot_table, found, rel->related_table, rel->rk);
        m2m__free(msg);
        return;
    }
    m2m__stmt *st;
    m2m__intval seen = {.db = db};
    if (m2m__rel_stmt(rel, S_DIAG_PARENT, 0, m2m__builder(S_DIAG_PARENT), &st) ==
        M2M_OK) {
        m2m__step s = {.stmt = st,
                       .params = &c->parent,
                       .nparams = 1,
                       .on_row = m2m__int_row,
                       .arg = &seen};
        if (db->drv->run(db, &s, 1) == M2M_OK && !seen.seen) {
            char buf[40];
            m2m__set_error(
                db, M2M_CONSTRAINT,
                "%s: parent id %s does not exist in %s (foreign key %s); nothing "
                "was attached",
                rel->pivot_table, m2m_value_text(c->parent, buf, sizeof buf),
                rel->parent_table, rel->fk);
            m2m__free(msg);
            return;
        }
    }
    m2m__free(db->errmsg);
    db->errmsg = msg;
    db->errcode = code;
}

/* Name the id a unique index rejected in a scoped relation: its pair is
 * present outside the scope. Runs after the rollback. */
static void diagnose_outside(opctx *c, m2m__input *in) {
    m2m_db *db = c->db;
    m2m_relation *rel = c->rel;
    const m2m__ids *all = m2m__input_all_ids(in);
    m2m_value p[2 + M2M__MAX_PIVOT];
    char found[128];
    char *msg = db->errmsg;
    db->errmsg = NULL;
    if (all) {
        p[0] = c->parent;
        p[1] = m2m__ids_param(all);
        size_t n = 2 + m2m__scope_params(rel, p + 2);
        if (first_id(c, S_DIAG_OUTSIDE, p, n, found, sizeof found)) {
            m2m__free(msg);
            m2m__set_error(db, M2M_EXISTS,
                           "%s: related id %s is already attached outside the "
                           "relation's scope, and a unique index on (%s, %s) allows one "
                           "row per pair; nothing was changed",
                           rel->pivot_table, found, rel->fk, rel->rk);
            return;
        }
    }
    db->errmsg = msg;
    db->errcode = M2M_EXISTS;
}

static int version_step(opctx *c, m2m__digest *d) {
    *d = (m2m__digest){.db = c->db};
    m2m__step *s;
    int rc = add(c, S_VERSION, 0, NULL, NULL, 0, -1, &s);
    if (rc)
        return rc;
    s->on_row = m2m__digest_row;
    s->arg = d;
    return M2M_OK;
}

/* Callbacks, version, commit, and the report to the caller. */
static int finish(opctx *c, int flags, m2m_changes **out) {
    m2m_relation *rel = c->rel;
    m2m_db *db = c->db;
    int rc;
    if (rel->before && rel->before(rel->cb_arg, &c->rep->ch) != 0)
        return m2m__set_error(
            db, M2M_VETOED,
            "%s: the before-change callback vetoed the operation; nothing "
            "was changed",
            rel->pivot_table);
    m2m__digest d;
    if (flags & (M2M_WANT_VERSION | M2M__IF_VERSION)) {
        if ((rc = version_step(c, &d)) || (rc = flush(c)) ||
            (rc = m2m__digest_hex(&d, c->rep->ch.version)))
            return rc;
    }
    /* Inside a caller transaction the after-callback waits for m2m_commit;
     * its entry is made now, so that nothing can fail once the operation
     * is part of that transaction. */
    m2m__pending *later = NULL;
    if (rel->after && db->in_txn) {
        m2m__report *copy = m2m__report_copy(c->rep);
        if (!(later = m2m__pending_new(rel->after, rel->cb_arg, copy ? &copy->ch : NULL)))
            return m2m__set_error(db, M2M_NOMEM,
                                  "%s: out of memory queuing the after-commit callback; "
                                  "nothing was changed",
                                  rel->pivot_table);
    }
    if (c->op.open && (rc = m2m__op_commit(&c->op))) {
        m2m__pending_drop(later);
        return rc;
    }
    if (later)
        m2m__pending_push(db, later);
    else if (rel->after)
        rel->after(rel->cb_arg, &c->rep->ch);
    if (out) {
        *out = &c->rep->ch;
        c->rep = NULL;
    }
    return M2M_OK;
}

typedef struct call {
    int op;
    m2m_value parent;
    const m2m_item *items;
    const m2m_value *ids;
    size_t n;
    const m2m_opts *opts;
    const m2m_col *cols; /* update pivot */
    size_t ncols;
    bool all; /* detach all */
} call;

static int run_insert_groups(opctx *c, m2m__input *in) {
    for (size_t g = 0; g < in->ngroups; g++) {
        int rc = add_group(c, 0, S_INSERT, in, g, in->groups[g].mask, M2M__ATTACHED);
        if (rc)
            return rc;
    }
    return M2M_OK;
}

/* Send the last statements of an operation that inserts, then finish; a
 * foreign key failure is named once the operation is rolled back. */
static int finish_inserts(opctx *c, int flags, m2m__input *in) {
    int rc = flush_last(c, flags);
    if (rc == M2M_CONSTRAINT) {
        m2m__op_abort(&c->op);
        diagnose_fk(c, in);
    } else if (rc == M2M_EXISTS && c->rel->scope_mask) {
        m2m__op_abort(&c->op);
        diagnose_outside(c, in);
    }
    return rc ? rc : finish(c, flags, NULL);
}

static int body_attach(opctx *c, const call *k, m2m__input *in) {
    int flags = k->opts ? k->opts->flags : 0;
    int rc = run_insert_groups(c, in);
    return rc ? rc : finish_inserts(c, flags, in);
}

/* Can sync or toggle delete and insert in one statement? When the backend
 * lets DELETE and INSERT share one (dml_cte), the rows share their values,
 * and no RLS check must count between the two. */
static bool one_statement(const opctx *c, const m2m__input *in) {
    return c->db->drv->dml_cte && !c->rel->owner_column && in->ngroups == 1 &&
           !in->nskipped && in->groups[0].mask & M2M__FLAT;
}

static int body_sync(opctx *c, const call *k, m2m__input *in) {
    int flags = k->opts ? k->opts->flags : 0;
    int rc;
    if (k->opts && k->opts->if_version) {
        m2m__digest d;
        char now[M2M_VERSION_LEN];
        if ((rc = version_step(c, &d)) || (rc = flush(c)) ||
            (rc = m2m__digest_hex(&d, now)))
            return rc;
        if (strcmp(now, k->opts->if_version) != 0)
            return m2m__set_error(
                c->db, M2M_CONFLICT,
                "%s: the set changed since version %.64s (now %s); nothing "
                "was changed",
                c->rel->pivot_table, k->opts->if_version, now);
    }
    flags |= k->opts && k->opts->if_version ? M2M__IF_VERSION : 0;
    if (one_statement(c, in) && !(flags & (M2M_KEEP | M2M_UPDATE_EXISTING))) {
        rc = add_group(c, 0, S_SYNC, in, 0, in->groups[0].mask, M2M__TAGGED);
        return rc ? rc : finish_inserts(c, flags, in);
    }
    if (!(flags & M2M_KEEP) && (rc = add_all_ids(c, S_COUNT_NOT_IN, S_DELETE_NOT_IN, 0,
                                                 in, NULL, 0, M2M__DETACHED)))
        return rc;
    if (flags & M2M_UPDATE_EXISTING) {
        for (size_t g = 0; g < in->ngroups; g++) {
            uint64_t m = in->groups[g].mask & ~c->rel->scope_mask;
            if ((m & ~M2M__FLAT) && (rc = add_group(c, S_COUNT_UPDATE_FROM, S_UPDATE_FROM,
                                                    in, g, m, M2M__UPDATED)))
                return rc;
        }
    }
    if ((rc = run_insert_groups(c, in)))
        return rc;
    return finish_inserts(c, flags, in);
}

static int body_toggle(opctx *c, const call *k, m2m__input *in) {
    if (one_statement(c, in)) {
        int rc = add_group(c, 0, S_TOGGLE, in, 0, in->groups[0].mask, M2M__TAGGED);
        return rc ? rc : finish_inserts(c, k->opts ? k->opts->flags : 0, in);
    }
    c->need_detached = true;
    /* The ids the DELETE takes decide what to insert. A driver that reports
     * a DELETE's rows without RETURNING (deleted_col: SQLite's pre-update
     * hook) needs nothing else; without it, with one writer at a time (no
     * lock_sql: SQLite), a SELECT in the transaction finds exactly the rows
     * the DELETE will take, and costs less than DELETE ... RETURNING, which
     * gathers its rows in a temporary table first. */
    bool select_first = !c->db->drv->lock_sql && rk_col(c->rel) < 0;
    int rc = add_all_ids(c, S_COUNT_IN, select_first ? S_SELECT_IN : S_DELETE_IN, 0, in,
                         NULL, 0, M2M__DETACHED);
    if (rc == M2M_OK)
        rc = flush(c);
    if (rc)
        return rc;
    c->gone = (m2m__ids){c->rep->ch.detached, c->rep->ch.ndetached};
    if (select_first && c->gone.n) {
        m2m_value data = m2m__ids_param(&c->gone);
        rc = add(c, S_DELETE_IN, M2M__NO_RETURNING, &data, NULL, 0, -1, NULL);
        if (rc)
            return rc;
    }
    /* What was just detached must not come back: attach only the rest. */
    m2m__valset gone;
    if (m2m__valset_init(&gone, c->gone.v, c->gone.n))
        return m2m__set_error(c->db, M2M_NOMEM, "out of memory");
    rc = m2m__input_encode(in, c->parent, &gone);
    m2m__valset_free(&gone);
    if (rc == M2M_OK)
        rc = run_insert_groups(c, in);
    return rc ? rc : finish_inserts(c, k->opts ? k->opts->flags : 0, in);
}

static int body_detach(opctx *c, const call *k, m2m__input *in) {
    int rc =
        k->all
            ? add_checked(c, S_COUNT_ALL, S_DELETE_ALL, 0, NULL, NULL, 0, M2M__DETACHED)
            : add_all_ids(c, S_COUNT_IN, S_DELETE_IN, 0, in, NULL, 0, M2M__DETACHED);
    int flags = k->opts ? k->opts->flags : 0;
    if (rc == M2M_OK)
        rc = flush_last(c, flags);
    return rc ? rc : finish(c, flags, NULL);
}

static int body_update(opctx *c, const call *k, m2m__input *in) {
    uint64_t mask;
    int rc = m2m__cols_mask(c->rel, k->cols, k->ncols, &mask);
    if (rc)
        return rc;
    m2m_value vals[M2M__MAX_PIVOT];
    size_t nv = m2m__cols_values(c->rel, k->cols, k->ncols, mask, vals);
    rc = add_all_ids(c, S_COUNT_IN, S_UPDATE_SET, mask, in, vals, nv, M2M__UPDATED);
    if (rc == M2M_OK)
        rc = flush_last(c, 0);
    return rc ? rc : finish(c, 0, NULL);
}

typedef int (*body_fn)(opctx *c, const call *k, m2m__input *in);

/* The operation gave up on a busy database: say so, and what was busy. */
static int busy_error(m2m_db *db, m2m_relation *rel, int attempts, int64_t began) {
    return m2m__set_error(db, M2M_BUSY,
                          "%s: database busy for %lld ms (%d attempt%s), nothing was "
                          "changed: %s",
                          rel->pivot_table, (long long)((m2m__clock_us() - began) / 1000),
                          attempts, attempts == 1 ? "" : "s", m2m_errmsg(db));
}

/* Validate, encode, then run body in a transaction. A busy database (SQLite
 * busy or locked, lock timeout, serialization failure, deadlock) makes the
 * whole operation start over after a backoff, when no caller transaction is
 * open, until the busy timeout has passed since it began; on SQLite the
 * busy handler's waits count toward the same deadline. */
static int run_op(m2m_relation *rel, const call *k, body_fn body, m2m_changes **out) {
    if (out)
        *out = NULL;
    int rc = precheck(rel, k->parent);
    if (rc)
        return rc;
    m2m_db *db = rel->db;
    m2m__input in;
    if (k->items || (k->op != M2M_OP_DETACH && k->op != M2M_OP_UPDATE))
        rc = m2m__input_items(rel, k->items, k->n, k->opts, &in);
    else
        rc = m2m__input_ids(rel, k->ids, k->n, &in);
    if (rc == M2M_OK && k->op == M2M_OP_UPDATE && k->ncols == 0)
        rc = m2m__set_error(db, M2M_INVALID, "%s: update pivot needs at least one column",
                            rel->pivot_table);
    if (rc == M2M_OK && k->opts && k->opts->version != 0)
        rc = m2m__set_error(db, M2M_INVALID, "%s: unknown m2m_opts version %d",
                            rel->pivot_table, k->opts->version);
    if (rc == M2M_OK)
        rc = m2m__input_encode(&in, k->parent, NULL);
    /* Nothing to do (no ids, or a detach/toggle/update of an empty list)
     * still validates the pivot columns of an update. */
    bool noop = in.n == 0 && !k->all &&
                !(k->op == M2M_OP_SYNC && !(k->opts && k->opts->flags & M2M_KEEP));
    if (rc == M2M_OK && noop && k->op == M2M_OP_UPDATE) {
        uint64_t m;
        rc = m2m__cols_mask(rel, k->cols, k->ncols, &m);
    }
    opctx *c = NULL;
    if (rc == M2M_OK && !(c = m2m__malloc(sizeof *c)))
        rc = m2m__set_error(db, M2M_NOMEM, "%s: out of memory", rel->pivot_table);
    if (c)
        memset(c, 0, offsetof(opctx, arena));
    /* An operation run by a callback of another keeps its own deadline. */
    int64_t began = m2m__clock_us(), outer = db->busy_deadline;
    db->busy_deadline = began + (int64_t)db->busy_timeout_ms * 1000;
    for (int attempt = 0; rc == M2M_OK; attempt++) {
        if ((rc = ctx_init(c, rel, k->op, k->parent, out != NULL)))
            break;
        if (noop) {
            if (out) {
                *out = &c->rep->ch;
                c->rep = NULL;
            }
            break;
        }
        /* Every write takes the lock, even a lone DELETE or UPDATE that
         * would be atomic by itself: otherwise it interleaves with the
         * statements of a concurrent sync or toggle of the same parent. */
        rc = m2m__op_begin(&c->op, rel, k->parent);
        if (rc == M2M_OK)
            rc = body(c, k, &in);
        if (rc == M2M_OK) {
            if (out && c->rep) {
                *out = &c->rep->ch;
                c->rep = NULL;
            }
            break;
        }
        m2m__op_abort(&c->op);
        m2m__op_release(&c->op);
        queue_reset(c);
        m2m_changes_free(c->rep ? &c->rep->ch : NULL);
        c->rep = NULL;
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
    if (c) {
        m2m__op_release(&c->op);
        queue_reset(c);
        m2m_changes_free(c->rep ? &c->rep->ch : NULL);
    }
    m2m__free(c);
    m2m__input_free(&in);
    return rc;
}

int m2m_attach(m2m_relation *rel, m2m_value parent, const m2m_item *items, size_t n,
               const m2m_opts *opts, m2m_changes **out) {
    call k = {
        .op = M2M_OP_ATTACH, .parent = parent, .items = items, .n = n, .opts = opts};
    return run_op(rel, &k, body_attach, out);
}

int m2m_sync(m2m_relation *rel, m2m_value parent, const m2m_item *items, size_t n,
             const m2m_opts *opts, m2m_changes **out) {
    call k = {.op = M2M_OP_SYNC, .parent = parent, .items = items, .n = n, .opts = opts};
    return run_op(rel, &k, body_sync, out);
}

int m2m_toggle(m2m_relation *rel, m2m_value parent, const m2m_item *items, size_t n,
               const m2m_opts *opts, m2m_changes **out) {
    call k = {
        .op = M2M_OP_TOGGLE, .parent = parent, .items = items, .n = n, .opts = opts};
    return run_op(rel, &k, body_toggle, out);
}

int m2m_detach(m2m_relation *rel, m2m_value parent, const m2m_value *ids, size_t n,
               const m2m_opts *opts, m2m_changes **out) {
    call k = {.op = M2M_OP_DETACH,
              .parent = parent,
              .ids = ids,
              .n = n,
              .opts = opts,
              .all = ids == NULL};
    return run_op(rel, &k, body_detach, out);
}

int m2m_update_pivot(m2m_relation *rel, m2m_value parent, const m2m_value *ids, size_t n,
                     const m2m_col *cols, size_t ncols, m2m_changes **out) {
    if (rel && ncols && !cols)
        return m2m__set_error(rel->db, M2M_MISUSE, "%s: cols is NULL", rel->pivot_table);
    if (rel && !ids && n)
        return m2m__set_error(rel->db, M2M_MISUSE, "%s: ids is NULL", rel->pivot_table);
    call k = {.op = M2M_OP_UPDATE,
              .parent = parent,
              .ids = ids ? ids : (const m2m_value *)"",
              .n = n,
              .cols = cols,
              .ncols = ncols};
    return run_op(rel, &k, body_update, out);
}

int m2m_version(m2m_relation *rel, m2m_value parent, char out[M2M_VERSION_LEN]) {
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
    m2m_value p[1 + M2M__MAX_PIVOT];
    p[0] = parent;
    size_t n = 1 + m2m__scope_params(rel, p + 1);
    m2m__digest d = {.db = db};
    m2m__step s = {
        .stmt = st, .params = p, .nparams = n, .on_row = m2m__digest_row, .arg = &d};
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE, "a result cursor is still open");
    /* A JWT session reads the version as sync does the one it compares: in
     * a transaction that sets the claims and the role first. */
    m2m__op op = {0};
    if (db->auth_claims && (rc = m2m__op_begin_read(&op, rel)) == M2M_OK &&
        !m2m__op_add(&op, st, p, n, m2m__digest_row, &d))
        rc = m2m__set_error(db, M2M_ERROR, "internal: too many statements queued");
    if (rc == M2M_OK)
        rc = db->auth_claims ? m2m__op_commit(&op) : db->drv->run(db, &s, 1);
    if (rc) {
        m2m__op_abort(&op);
        return rc;
    }
    return m2m__digest_hex(&d, out);
}
