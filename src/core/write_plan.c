/* SPDX-License-Identifier: MIT */
/* Which statements a write operation sends, and why. Every choice between
 * statements is made here, from the relation, the driver's facts, the
 * call's options and the shape of its input; write_run.c only runs the
 * plan, and m2m_explain shows it. */
#include "core/write.h"

#include "sql/sqlgen.h"

#include <string.h>

/* The column of rk from which the driver reports a DELETE's rows without
 * RETURNING (drv->dialect.deleted_col), asked once per relation; -1 none. Not
 * under row-level security, where a DELETE is counted against a check. */
static int rk_col(m2m_relation *rel) {
    if (!rel->rk_col) {
        int at =
            rel->db->drv->dialect.deleted_col && !rel->owner_column
                ? rel->db->drv->dialect.deleted_col(rel->db, rel->pivot_table, rel->rk)
                : -1;
        rel->rk_col = at >= 0 ? at + 1 : -1;
    }
    return rel->rk_col - (rel->rk_col > 0);
}

static bool deletes(int kind) {
    return kind == S_DELETE_IN || kind == S_DELETE_ALL || kind == S_DELETE_NOT_IN;
}

typedef struct planner {
    m2m_relation *rel;
    const m2m__call *k;
    const m2m__input *in;
    m2m__wplan *p;
    bool need_detached; /* toggle: its DELETE's ids decide what to insert */
} planner;

static m2m__wstep *put(planner *pl, int what, const char *why) {
    m2m__wplan *p = pl->p;
    /* Plans are short and their length is fixed by the code below. */
    if (p->n == M2M__WSTEPS_MAX)
        return &p->v[M2M__WSTEPS_MAX - 1];
    m2m__wstep *s = &p->v[p->n++];
    *s = (m2m__wstep){.what = what, .list = -1, .count_list = -1, .why = why};
    return s;
}

/* A statement whose rows go to report list (-1 none); count: its row-level
 * security count (taken only where the relation is bound to an owner). */
static m2m__wstep *stmt(planner *pl, int kind, int count, uint64_t mask, int data,
                        int list, const char *why) {
    m2m_relation *rel = pl->rel;
    m2m__wstep *s = put(pl, W_STMT, why);
    s->kind = kind;
    s->count_kind = rel->owner_column ? count : 0;
    s->data = data;
    s->list = list;
    bool want =
        list >= 0 && (pl->p->collect || (pl->need_detached && list == M2M__DETACHED));
    /* Nobody wants the ids: the statement without RETURNING is cheaper (on
     * SQLite RETURNING builds a temporary table). A DELETE whose rows the
     * driver reports by itself needs none either. */
    int hooked = want && deletes(kind) ? rk_col(rel) : -1;
    s->hooked = hooked + 1;
    if (!want)
        s->list = -1;
    if (!want && list >= 0 && pl->p->counted)
        s->count_list = list;
    s->mask = mask | ((list >= 0 && !want) || hooked >= 0 ? M2M__NO_RETURNING : 0);
    return s;
}

static void inserts(planner *pl, const char *why) {
    m2m__wstep *s = put(pl, W_INSERTS, why);
    s->kind = S_INSERT;
    s->list = pl->p->collect ? M2M__ATTACHED : -1;
    s->mask = pl->p->collect ? 0 : M2M__NO_RETURNING;
    s->count_list = pl->p->counted ? M2M__ATTACHED : -1;
    pl->p->inserts = true;
}

/* Can sync or toggle delete and insert in one statement? When the backend
 * lets DELETE and INSERT share one (dml_cte), the rows share their values,
 * and no row-level security count must come between the two. */
static bool one_statement(const planner *pl) {
    const m2m__input *in = pl->in;
    return pl->rel->db->drv->info->caps.dml_cte && !pl->rel->owner_column &&
           !pl->p->counted && in->ngroups == 1 && !in->nskipped &&
           in->groups[0].mask & M2M__FLAT;
}

/* An update whose changed ids go to the report. Without UPDATE ...
 * RETURNING, a read first finds the rows it will change: the parent's lock
 * keeps them so until the UPDATE. */
static void update(planner *pl, int kind, int read_kind, int count, uint64_t mask,
                   int data, size_t group, const char *why) {
    m2m__wstep *s;
    if (!pl->rel->db->drv->info->caps.update_returning && pl->p->collect) {
        s = stmt(pl, read_kind, 0, mask, data, M2M__UPDATED,
                 "find the rows the update will change: the backend has no UPDATE ... "
                 "RETURNING, and the parent's lock keeps them until it runs");
        s->plan_flags = M2M_PLAN_READ;
        s->group = group;
        s = stmt(pl, kind, count, mask | M2M__NO_RETURNING, data, -1, why);
    } else {
        s = stmt(pl, kind, count, mask, data, M2M__UPDATED, why);
    }
    s->group = group;
    s->set_vals = kind == S_UPDATE_SET;
}

static void plan_sync(planner *pl) {
    int flags = pl->k->flags;
    if (flags & M2M__IF_VERSION) {
        stmt(pl, S_VERSION, 0, 0, D_NONE, -1,
             "read the set to compare its version with if_version")
            ->plan_flags = M2M_PLAN_READ;
        put(pl, W_FLUSH, "");
        put(pl, W_IF_VERSION, "");
    }
    if (one_statement(pl) && !(flags & (M2M_KEEP | M2M_UPDATE_EXISTING))) {
        stmt(pl, S_SYNC, 0, pl->in->groups[0].mask, D_GROUP0, M2M__TAGGED,
             "one statement deletes the ids not given and inserts the new ones: "
             "the backend lets DELETE and INSERT share a WITH, and the rows share "
             "their values");
        pl->p->inserts = true;
        return;
    }
    if (!(flags & M2M_KEEP))
        stmt(pl, S_DELETE_NOT_IN, S_COUNT_NOT_IN, 0, D_IDS, M2M__DETACHED,
             "detach the ids not given");
    if (flags & M2M_UPDATE_EXISTING) {
        for (size_t g = 0; g < pl->in->ngroups; g++) {
            uint64_t m = pl->in->groups[g].mask & ~pl->rel->scope_mask;
            if (m & ~M2M__FLAT)
                update(pl, S_UPDATE_FROM, S_SELECT_UPDATE_FROM, S_COUNT_UPDATE_FROM, m,
                       D_GROUP0, g,
                       "M2M_UPDATE_EXISTING: give the ids already attached the pivot "
                       "values given, where they differ");
        }
    }
    inserts(pl, "attach the ids given that are not attached yet");
}

static void plan_toggle(planner *pl) {
    if (one_statement(pl)) {
        stmt(pl, S_TOGGLE, 0, pl->in->groups[0].mask, D_GROUP0, M2M__TAGGED,
             "one statement detaches the ids attached and attaches the others: the "
             "backend lets DELETE and INSERT share a WITH, and the rows share their "
             "values");
        pl->p->inserts = true;
        return;
    }
    pl->need_detached = true;
    /* The ids the DELETE takes decide what to insert. A driver that reports
     * a DELETE's rows without RETURNING (deleted_col: SQLite's pre-update
     * hook) needs nothing else; without it, with one writer at a time
     * (caps.single_writer), a SELECT in the transaction finds exactly the
     * rows the DELETE will take, and costs less than DELETE ... RETURNING,
     * which gathers its rows in a temporary table first. */
    bool select_first = pl->rel->db->drv->info->caps.single_writer && rk_col(pl->rel) < 0;
    if (select_first) {
        stmt(pl, S_SELECT_IN, S_COUNT_IN, 0, D_IDS, M2M__DETACHED,
             "find the given ids that are attached: one writer at a time, so the "
             "DELETE will take exactly these")
            ->plan_flags = M2M_PLAN_READ;
    } else {
        stmt(pl, S_DELETE_IN, S_COUNT_IN, 0, D_IDS, M2M__DETACHED,
             "detach the given ids that are attached; their ids decide what to attach")
            ->plan_flags = M2M_PLAN_READ;
    }
    put(pl, W_FLUSH, "");
    put(pl, W_GONE, "");
    if (select_first)
        stmt(pl, S_DELETE_IN, 0, M2M__NO_RETURNING, D_GONE, -1,
             "detach the ids the SELECT found")
            ->plan_flags = M2M_PLAN_IF_FOUND;
    inserts(pl, "attach the given ids that were not attached");
}

/* The related rows first: their keys, read back, are what to attach. The
 * report's attached list is the INSERT's keys, in the order of rows. */
static void plan_create(planner *pl) {
    put(pl, W_CREATE,
        "insert the new related rows, all in one statement; it returns their keys")
        ->plan_flags = M2M_PLAN_READ;
    put(pl, W_FLUSH, "");
    put(pl, W_CREATED, "");
    inserts(pl, "attach the new rows");
    m2m__wstep *s = &pl->p->v[pl->p->n - 1];
    s->list = -1;
    s->mask = M2M__NO_RETURNING;
}

static void plan_detach(planner *pl) {
    if (pl->k->all)
        stmt(pl, S_DELETE_ALL, S_COUNT_ALL, 0, D_NONE, M2M__DETACHED,
             "detach every id of the parent");
    else
        stmt(pl, S_DELETE_IN, S_COUNT_IN, 0, D_IDS, M2M__DETACHED,
             "detach the ids given");
}

static void plan_update(planner *pl) {
    update(pl, S_UPDATE_SET, S_SELECT_UPDATE_SET, S_COUNT_IN, pl->k->set_mask, D_IDS, 0,
           "set the pivot values of the ids given");
}

/* Does the last batch hold a statement whose rows go to the report? */
static bool collects_last(const m2m__wplan *p) {
    for (size_t i = p->n; i-- > 0 && p->v[i].what != W_FLUSH;)
        if ((p->v[i].what == W_STMT || p->v[i].what == W_INSERTS) && p->v[i].list >= 0)
            return true;
    return false;
}

/* Does the last batch hold a row-level security count, whose result must
 * be compared before the commit? */
static bool counts_last(const m2m__wplan *p) {
    for (size_t i = p->n; i-- > 0 && p->v[i].what != W_FLUSH;)
        if (p->v[i].what == W_STMT && p->v[i].count_kind)
            return true;
    return false;
}

void m2m__plan_write(m2m_relation *rel, const m2m__call *k, const m2m__input *in,
                     m2m__wplan *p) {
    memset(p, 0, sizeof *p);
    planner pl = {rel, k, in, p, false};
    /* M2M_COUNTS: the statements' affected rows are the counts (a million
     * rows returned would be held by the client library first); not where
     * a touch rides in the statement, whose affected rows are not the
     * pivot's, nor where the ids are needed anyway. One statement that
     * both deletes and inserts cannot count each: the plan splits it. */
    p->counted = k->report && k->flags & M2M_COUNTS && !rel->before && !rel->after &&
                 !m2m__touch_in_stmt(rel) && k->op != M2M_OP_CREATE;
    p->collect = (k->report && !p->counted) || rel->before || rel->after;
    switch (k->op) {
        case M2M_OP_ATTACH:
            inserts(&pl, "attach the ids given that are not attached yet");
            break;
        case M2M_OP_SYNC:
            plan_sync(&pl);
            break;
        case M2M_OP_TOGGLE:
            plan_toggle(&pl);
            break;
        case M2M_OP_DETACH:
            plan_detach(&pl);
            break;
        case M2M_OP_CREATE:
            plan_create(&pl);
            break;
        default:
            plan_update(&pl);
            break;
    }
    /* A touching relation's statements touch the parent themselves where
     * the backend lets them (sqlgen_touch.c); elsewhere the parent is
     * touched once their results show a change. */
    if (rel->touch_col && !m2m__touch_in_stmt(rel)) {
        put(&pl, W_FLUSH, "");
        put(&pl, W_TOUCH,
            "touch the parent: the statements before changed its set (relation's "
            "touch)")
            ->plan_flags = M2M_PLAN_IF_FOUND;
    }
    /* When nothing must look at the last statements' results before the
     * commit (no before-callback, version or row-level security count),
     * COMMIT goes in the same batch: one round trip on PostgreSQL. A
     * failing statement stops the batch before the COMMIT, so the
     * operation still rolls back whole. A report is the exception where a
     * batch runs whole (batch_is_txn): one that runs out of memory while
     * it is built must still find the transaction open; so is the RELEASE
     * of an operation whose after-callback must first be queued (in a
     * caller transaction), which needs memory. */
    m2m_db *db = rel->db;
    if (rel->before)
        p->commit_why = "commit after the before-change callback approved the report";
    else if (k->flags & (M2M_WANT_VERSION | M2M__IF_VERSION))
        p->commit_why = "commit after reading the new version";
    else if (counts_last(p))
        p->commit_why = "commit after row-level security hid no row from the change";
    else if (p->collect && db->drv->info->caps.batch_is_txn && collects_last(p))
        p->commit_why = "commit once the report is built";
    else if (rel->after && db->in_txn)
        p->commit_why = "release the savepoint once the after-commit callback is queued";
    else {
        p->fuse = true;
        p->commit_why = "commit in the same batch: nothing needs the results first";
    }
    put(&pl, W_LAST, "");
}
