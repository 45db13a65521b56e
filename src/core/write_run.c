/* SPDX-License-Identifier: MIT */
/* Running a write operation's plan (write_plan.c): statements queued and
 * sent in batches through the operation's transaction (txn.c), reports
 * collected, row-level security counts compared, callbacks, version and
 * commit. An explained call (m2m_explain) runs the same code; txn.c then
 * records each batch instead of sending it. */
#include "core/write.h"

#include "core/plan.h"
#include "sql/sqlgen.h"

#include <stdio.h>
#include <string.h>

/* Parameter arrays of the statements queued at once live in an arena; an
 * operation queues at most about a dozen, each of at most 2 + 2 *
 * M2M__MAX_PIVOT values, so the arena is rarely outgrown (then blocks of
 * their own hold the rest). 16 KiB; unmeasured. */
enum { ARENA = 1024 };

/* A row-level security check: the rows a DML statement should change,
 * counted first. */
typedef struct check {
    struct check *next;
    m2m__intval count;
    size_t count_ix, dml_ix; /* their steps in the operation's queue */
} check;

typedef struct chunk {
    struct chunk *next;
    m2m_value v[];
} chunk;

struct m2m__opctx {
    m2m_relation *rel;
    m2m_db *db;
    m2m_value parent;
    m2m__op op;
    m2m__report *rep;
    const m2m__wplan *plan;
    m2m__ids gone; /* toggle: the ids detached, the parameter of its DELETE */
    m2m__collect lists[4];
    check *checks;  /* of the statements queued */
    size_t nchecks; /* their number */
    /* The queued statements that change pivot rows: at most 5 (a DELETE,
     * and an UPDATE and an INSERT for each of the two groups of input,
     * plain ids and rows of JSON: input.c). */
    size_t dml[8];
    size_t ndml;
    m2m__counted cnt[8]; /* M2M_COUNTS: those of them counted */
    size_t ncnt;
    bool changed; /* a statement sent changed a pivot row */
    chunk *extra; /* parameters that did not fit the arena */
    size_t used;
    m2m_value arena[ARENA]; /* last: reset clears only what precedes it */
};

m2m__opctx *m2m__opctx_new(m2m_db *db) {
    m2m__opctx *c = m2m__malloc(sizeof *c);
    if (!c) {
        m2m__set_error(db, M2M_NOMEM, "out of memory");
        return NULL;
    }
    memset(c, 0, offsetof(m2m__opctx, arena));
    return c;
}

static m2m_value *arena_take(m2m__opctx *c, size_t n) {
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
static void queue_reset(m2m__opctx *c) {
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
    c->ndml = 0;
    c->ncnt = 0;
}

/* M2M_COUNTS: the last queued statement's affected rows count to list. */
static void count_to(m2m__opctx *c, int list) {
    if (list >= 0 && c->ncnt < sizeof c->cnt / sizeof c->cnt[0])
        c->cnt[c->ncnt++] = (m2m__counted){c->op.n - 1, list};
}

static void report_drop(m2m__opctx *c) {
    m2m_changes_free(c->rep ? &c->rep->ch : NULL);
    c->rep = NULL;
}

void m2m__opctx_abort(m2m__opctx *c) {
    m2m__op_abort(&c->op);
    m2m__op_release(&c->op);
    queue_reset(c);
    report_drop(c);
}

void m2m__opctx_free(m2m__opctx *c) {
    if (!c)
        return;
    m2m__op_release(&c->op);
    queue_reset(c);
    report_drop(c);
    m2m__free(c);
}

static int nomem(m2m__opctx *c) {
    return m2m__set_error(c->db, M2M_NOMEM, "%s: out of memory", c->rel->pivot_table);
}

static int ctx_init(m2m__opctx *c, m2m_relation *rel, const m2m__call *k) {
    queue_reset(c);
    report_drop(c);
    c->rel = rel;
    c->db = rel->db;
    c->parent = k->parent;
    c->gone = (m2m__ids){0};
    c->changed = false;
    c->rep = m2m__report_new(k->op, k->parent);
    if (!c->rep)
        return nomem(c);
    /* M2M_COUNTS keeps no id, unless a callback reads them, create
     * attaches them or toggle's second pass skips them. */
    bool counts =
        k->flags & M2M_COUNTS && !rel->before && !rel->after && k->op != M2M_OP_CREATE;
    for (int l = 0; l < 4; l++)
        c->lists[l] = (m2m__collect){
            c->db, c->rep, l, counts && !(k->op == M2M_OP_TOGGLE && l == M2M__DETACHED)};
    return M2M_OK;
}

int m2m__opctx_begin(m2m__opctx *c, m2m_relation *rel, m2m_value parent) {
    return m2m__op_begin(&c->op, rel, parent);
}

/* May kind's ids, data, take their compact form (M2M__SPAN)? For the
 * statements whose $2 they are and which test membership in them: the span
 * form for IN, when the driver has it, the pivot suits it (span_ok, asked
 * once per relation) and the ids are narrow; for NOT IN, when they are at
 * most the driver's not_in_few. */
static bool compact(m2m_relation *rel, int kind, uint64_t mask, const m2m_value *data) {
    const m2m__ids *ids = (const m2m__ids *)(const void *)data->s;
    const m2m__dialect *d = &rel->db->drv->dialect;
    if (kind == S_DELETE_NOT_IN || kind == S_COUNT_NOT_IN || kind == S_SYNC)
        return d->not_in_few && ids->n <= d->not_in_few;
    bool in_ids =
        kind == S_DELETE_IN || kind == S_COUNT_IN || kind == S_UPDATE_SET ||
        ((kind == S_UPDATE_FROM || kind == S_COUNT_UPDATE_FROM) && mask & M2M__FLAT);
    if (!in_ids || !d->span_ok)
        return false;
    if (!rel->rk_span)
        rel->rk_span =
            d->span_ok(rel->db, rel->pivot_table, rel->fk, rel->rk) > 0 ? 2 : 1;
    return rel->rk_span == 2 && m2m__ids_narrow(ids);
}

/* Queue statement kind with params [$1 parent, $2 ids or rows?, scope...,
 * vals...]; its rows go to report list (-1: none), or to the driver's
 * deleted-row report (hooked > 0). */
static m2m__step *add(m2m__opctx *c, int kind, uint64_t mask, const m2m_value *data,
                      const m2m_value *vals, size_t nvals, int list, int hooked,
                      const char *why, int *rc) {
    m2m_relation *rel = c->rel;
    if (data && data->type == (m2m_type)M2M__TIDS && compact(rel, kind, mask, data))
        mask |= M2M__SPAN;
    m2m__stmt *st;
    if ((*rc = m2m__rel_stmt(rel, kind, mask, m2m__builder(kind), &st)))
        return NULL;
    m2m_value *p = arena_take(c, 2 + M2M__MAX_PIVOT + rel->ncondv + nvals);
    if (!p) {
        *rc = nomem(c);
        return NULL;
    }
    size_t n = 0;
    p[n++] = c->parent;
    if (data)
        p[n++] = *data;
    /* Inserts of JSON rows carry the scope values inside the rows. */
    if (kind != S_INSERT || mask & M2M__FLAT)
        n += m2m__scope_params(rel, p + n);
    n += m2m__cond_params(rel, p + n);
    for (size_t i = 0; i < nvals; i++)
        p[n++] = vals[i];
    m2m__step *s = m2m__op_add(&c->op, st, p, n, list >= 0 ? m2m__collect_row : NULL,
                               list >= 0 ? &c->lists[list] : NULL);
    if (!s) {
        *rc = nomem(c);
        return NULL;
    }
    s->deleted_col = hooked;
    bool dml = kind == S_INSERT || kind == S_DELETE_IN || kind == S_DELETE_ALL ||
               kind == S_DELETE_NOT_IN || kind == S_UPDATE_FROM || kind == S_UPDATE_SET ||
               kind == S_TOGGLE || kind == S_SYNC;
    if (dml && c->ndml < sizeof c->dml / sizeof c->dml[0])
        c->dml[c->ndml++] = c->op.n - 1;
    if (hooked > 0) {
        s->on_row = m2m__collect_row;
        s->arg = &c->lists[M2M__DETACHED];
    }
    s->why = why;
    *rc = M2M_OK;
    return s;
}

/* Queue a statement of the plan, with its row-level security count first
 * (PostgreSQL skips rows a policy hides from DELETE or UPDATE without an
 * error: count the rows first and compare). */
static int add_step(m2m__opctx *c, const m2m__wstep *w, const m2m_value *data,
                    const m2m_value *vals, size_t nvals) {
    int rc;
    uint64_t mask = w->mask;
    if (w->count_kind) {
        /* A step pointer lasts until the next statement is queued. */
        check *k = m2m__calloc(1, sizeof *k);
        if (!k)
            return nomem(c);
        k->next = c->checks;
        c->checks = k;
        c->nchecks++;
        k->count = (m2m__intval){.db = c->db};
        /* An update from flat values counts the rows they change. */
        bool vals_too = w->count_kind == S_COUNT_UPDATE_FROM;
        m2m__step *cs = add(c, w->count_kind, mask & ~M2M__NO_RETURNING, data,
                            vals_too ? vals : NULL, vals_too ? nvals : 0, -1, 0,
                            "count the rows the change should take, for row-level "
                            "security",
                            &rc);
        if (!cs)
            return rc;
        cs->on_row = m2m__int_row;
        cs->arg = &k->count;
        cs->plan_flags = M2M_PLAN_READ;
        k->count_ix = c->op.n - 1;
        if (!add(c, w->kind, mask, data, vals, nvals, w->list, w->hooked, w->why, &rc))
            return rc;
        k->dml_ix = c->op.n - 1;
        count_to(c, w->count_list);
        return M2M_OK;
    }
    m2m__step *s =
        add(c, w->kind, mask, data, vals, nvals, w->list, w->hooked, w->why, &rc);
    if (s) {
        s->plan_flags = w->plan_flags;
        count_to(c, w->count_list);
    }
    return rc;
}

/* Queue the statement over the rows of group g, whose columns are mask: a
 * flat group binds the values its rows share. */
static int add_group(m2m__opctx *c, const m2m__wstep *w, uint64_t mask, m2m__input *in,
                     size_t g) {
    m2m_value vals[M2M__MAX_PIVOT];
    size_t nv = mask & M2M__FLAT
                    ? m2m__cols_values(c->rel, in->shared, in->nshared, mask, vals)
                    : 0;
    m2m_value data = m2m__group_param(&in->groups[g]);
    m2m__wstep at = *w;
    at.mask = mask;
    return add_step(c, &at, &data, vals, nv);
}

/* Queue a W_STMT step with its $2. */
static int add_stmt(m2m__opctx *c, const m2m__wstep *w, m2m__input *in,
                    const m2m__call *k) {
    if (w->data == D_GROUP0)
        return add_group(c, w, w->mask, in, w->group);
    if (w->data == D_NONE)
        return add_step(c, w, NULL, NULL, 0);
    const m2m__ids *ids = w->data == D_GONE ? &c->gone : m2m__input_all_ids(in);
    if (!ids)
        return nomem(c);
    m2m_value data = m2m__ids_param(ids);
    m2m_value vals[M2M__MAX_PIVOT];
    size_t nv =
        w->set_vals ? m2m__cols_values(c->rel, k->cols, k->ncols, w->mask, vals) : 0;
    return add_step(c, w, &data, vals, nv);
}

/* Send what is queued; then check that row-level security hid nothing
 * from the changes. */
static int flush(m2m__opctx *c) {
    int rc = m2m__op_flush(&c->op);
    if (rc == M2M_OK)
        m2m__report_count(c->rep, c->op.steps, c->cnt, c->ncnt);
    for (size_t i = 0; i < c->ndml && rc == M2M_OK; i++)
        c->changed |= c->op.steps[c->dml[i]].changes > 0;
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

/* Run diagnostic statement kind over params and write the first id it
 * returns into out (at most 100 characters); false when it returns none or
 * fails. Its own errors are dropped: the caller keeps the error it names. */
static bool first_id(m2m__opctx *c, int kind, const m2m_value *params, size_t n,
                     char *out, size_t cap) {
    m2m_db *db = c->db;
    m2m__stmt *st;
    m2m__report *tmp = m2m__report_new(M2M_OP_ATTACH, c->parent);
    bool found = false;
    if (tmp && m2m__rel_stmt(c->rel, kind, 0, m2m__builder(kind), &st) == M2M_OK) {
        m2m__collect col = {db, tmp, M2M__ATTACHED, false};
        m2m__step s = {.stmt = st,
                       .params = params,
                       .nparams = n,
                       .on_row = m2m__collect_row,
                       .arg = &col};
        if (db->drv->stmt.run(db, &s, 1) == M2M_OK && tmp->ch.nattached) {
            char buf[40];
            snprintf(out, cap, "%.100s",
                     m2m_value_text(tmp->ch.attached[0], buf, sizeof buf));
            found = true;
        }
    }
    m2m_changes_free(tmp ? &tmp->ch : NULL);
    m2m__clear_error(db);
    return found;
}

/* Name the id a foreign key rejected: the first related id that does not
 * exist, else the parent. Runs after the rollback. */
static void diagnose_fk(m2m__opctx *c, m2m__input *in, bool created) {
    m2m_db *db = c->db;
    m2m_relation *rel = c->rel;
    m2m__saved_error why = m2m__error_save(db);
    char found[128];
    const m2m__ids *all = m2m__input_all_ids(in);
    m2m_value ids = all ? m2m__ids_param(all) : M2M_NULL;
    /* Rows created by the operation are gone with its rollback. */
    if (all && !created && first_id(c, S_DIAG_RELATED, &ids, 1, found, sizeof found)) {
        m2m__error_drop(&why);
        m2m__set_error(db, M2M_CONSTRAINT,
                       "%s: related id %s does not exist in %s (foreign key %s); nothing "
                       "was attached",
                       rel->pivot_table, found, rel->related_table, rel->rk);
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
        if (db->drv->stmt.run(db, &s, 1) == M2M_OK && !seen.seen) {
            char buf[40];
            m2m__error_drop(&why);
            m2m__set_error(
                db, M2M_CONSTRAINT,
                "%s: parent id %s does not exist in %s (foreign key %s); nothing "
                "was attached",
                rel->pivot_table, m2m_value_text(c->parent, buf, sizeof buf),
                rel->parent_table, rel->fk);
            return;
        }
    }
    m2m__error_restore(db, &why);
}

/* Name the id a unique index rejected in a scoped relation: its pair is
 * present outside the scope. Runs after the rollback. */
static void diagnose_outside(m2m__opctx *c, m2m__input *in) {
    m2m_db *db = c->db;
    m2m_relation *rel = c->rel;
    const m2m__ids *all = m2m__input_all_ids(in);
    m2m_value p[2 + M2M__MAX_PIVOT + M2M__MAX_COND_VALUES];
    char found[128];
    m2m__saved_error why = m2m__error_save(db);
    if (all) {
        p[0] = c->parent;
        p[1] = m2m__ids_param(all);
        size_t n = 2 + m2m__scope_params(rel, p + 2);
        n += m2m__cond_params(rel, p + n);
        if (first_id(c, S_DIAG_OUTSIDE, p, n, found, sizeof found)) {
            m2m__error_drop(&why);
            m2m__set_error(db, M2M_EXISTS,
                           "%s: related id %s is already attached outside the "
                           "relation's scope or where conditions, and a unique index "
                           "on (%s, %s) allows one row per pair; nothing was changed",
                           rel->pivot_table, found, rel->fk, rel->rk);
            return;
        }
    }
    m2m__error_restore(db, &why);
}

/* Queue the statement that reads the set for its version into d. */
static int version_step(m2m__opctx *c, m2m__digest *d, const char *why) {
    *d = (m2m__digest){.db = c->db};
    int rc;
    m2m__step *s = add(c, S_VERSION, 0, NULL, NULL, 0, -1, 0, why, &rc);
    if (!s)
        return rc;
    s->on_row = m2m__digest_row;
    s->arg = d;
    s->plan_flags = M2M_PLAN_READ;
    return M2M_OK;
}

/* The last statements, then callbacks, version, commit and the report. */
static int finish(m2m__opctx *c, const m2m__call *k, m2m__input *in, m2m_changes **out) {
    const m2m__wplan *p = c->plan;
    m2m_relation *rel = c->rel;
    m2m_db *db = c->db;
    bool dry = db->explain != NULL;
    int rc;
    if (p->fuse && c->op.open) {
        c->op.commit_why = p->commit_why;
        rc = m2m__op_commit(&c->op);
        if (rc == M2M_OK)
            m2m__report_count(c->rep, c->op.steps, c->cnt, c->ncnt);
        queue_reset(c);
    } else {
        rc = flush(c);
    }
    if (rc && p->inserts &&
        (rc == M2M_CONSTRAINT || (rc == M2M_EXISTS && m2m__rel_filtered(rel)))) {
        m2m__op_abort(&c->op);
        if (rc == M2M_CONSTRAINT)
            diagnose_fk(c, in, k->op == M2M_OP_CREATE);
        else
            diagnose_outside(c, in);
    }
    if (rc)
        return rc;
    if (!p->fuse) {
        if (rel->before && !dry && rel->before(rel->cb_arg, &c->rep->ch) != 0)
            return m2m__set_error(
                db, M2M_VETOED,
                "%s: the before-change callback vetoed the operation; nothing "
                "was changed",
                rel->pivot_table);
        m2m__digest d;
        if (k->flags & (M2M_WANT_VERSION | M2M__IF_VERSION)) {
            if ((rc = version_step(c, &d, "read the new set for its version")) ||
                (rc = flush(c)) || (rc = m2m__digest_hex(&d, c->rep->ch.version)))
                return rc;
        }
        /* Inside a caller transaction the after-callback waits for
         * m2m_commit; its entry is made now, so that nothing can fail once
         * the operation is part of that transaction. */
        m2m__pending *later = NULL;
        if (rel->after && db->in_txn && !dry) {
            m2m__report *copy = m2m__report_copy(c->rep);
            if (!(later =
                      m2m__pending_new(rel->after, rel->cb_arg, copy ? &copy->ch : NULL)))
                return m2m__set_error(db, M2M_NOMEM,
                                      "%s: out of memory queuing the after-commit "
                                      "callback; nothing was changed",
                                      rel->pivot_table);
        }
        c->op.commit_why = p->commit_why;
        if (c->op.open && (rc = m2m__op_commit(&c->op))) {
            m2m__pending_drop(later);
            return rc;
        }
        if (later)
            m2m__pending_push(db, later);
        else if (rel->after && !dry)
            rel->after(rel->cb_arg, &c->rep->ch);
    } else if (rel->after && !dry) {
        rel->after(rel->cb_arg, &c->rep->ch);
    }
    if (out && !dry) {
        if (k->flags & M2M_COUNTS)
            m2m__report_counts_only(c->rep);
        *out = &c->rep->ch;
        c->rep = NULL;
    }
    return M2M_OK;
}

/* Touch the parent when the statements sent changed a row (an explained
 * call shows the statement). */
static int touch(m2m__opctx *c, const m2m__wstep *w) {
    if (!c->changed && !c->db->explain)
        return M2M_OK;
    m2m__stmt *st;
    int rc = m2m__rel_stmt(c->rel, S_TOUCH, 0, m2m__builder(S_TOUCH), &st);
    if (rc)
        return rc;
    m2m__step *s = m2m__op_add(&c->op, st, &c->parent, 1, NULL, NULL);
    if (!s)
        return nomem(c);
    s->why = w->why;
    s->plan_flags = w->plan_flags;
    return M2M_OK;
}

/* toggle: what the DELETE took must not come back: attach only the rest. */
static int gone(m2m__opctx *c, const m2m__call *k, m2m__input *in) {
    c->gone = (m2m__ids){c->rep->ch.detached, c->rep->ch.ndetached, 1};
    m2m__valset skip;
    if (m2m__valset_init(&skip, c->gone.v, c->gone.n))
        return nomem(c);
    int rc = m2m__input_encode(in, k->parent, &skip);
    m2m__valset_free(&skip);
    return rc;
}

/* Compare the version read by the plan's first batch with if_version. */
static int if_version(m2m__opctx *c, const m2m__call *k, m2m__digest *d) {
    char now[M2M_VERSION_LEN];
    int rc = m2m__digest_hex(d, now);
    if (rc || c->db->explain)
        return rc;
    if (strcmp(now, k->opts->if_version) != 0)
        return m2m__set_error(c->db, M2M_CONFLICT,
                              "%s: the set changed since version %.64s (now %s); "
                              "nothing was changed",
                              c->rel->pivot_table, k->opts->if_version, now);
    return M2M_OK;
}

int m2m__run_write(m2m__opctx *c, m2m_relation *rel, const m2m__call *k, m2m__input *in,
                   const m2m__wplan *p, m2m_changes **out) {
    int rc = ctx_init(c, rel, k);
    c->plan = p;
    m2m__digest d = {.db = rel->db};
    for (size_t i = 0; i < p->n && rc == M2M_OK; i++) {
        const m2m__wstep *w = &p->v[i];
        switch (w->what) {
            case W_STMT:
                if (w->data == D_GONE && c->gone.n == 0 && !c->db->explain)
                    break; /* nothing found: nothing to delete */
                rc = w->kind == S_VERSION ? version_step(c, &d, w->why)
                                          : add_stmt(c, w, in, k);
                break;
            case W_INSERTS:
                for (size_t g = 0; g < in->ngroups && rc == M2M_OK; g++)
                    rc = add_group(c, w, in->groups[g].mask | w->mask, in, g);
                break;
            case W_FLUSH:
                rc = flush(c);
                break;
            case W_IF_VERSION:
                rc = if_version(c, k, &d);
                break;
            case W_GONE:
                rc = gone(c, k, in);
                break;
            case W_CREATE:
                rc = m2m__create_queue(&c->op, rel, k->create, &c->lists[M2M__ATTACHED],
                                       w->why);
                break;
            case W_TOUCH:
                rc = touch(c, w);
                break;
            case W_CREATED:
                rc = m2m__create_input(rel, k, &c->rep->ch, in);
                break;
            case W_LAST:
                rc = finish(c, k, in, out);
                break;
        }
    }
    return rc;
}

int m2m__write_noop(m2m__opctx *c, m2m_relation *rel, const m2m__call *k,
                    m2m_changes **out) {
    int rc = ctx_init(c, rel, k);
    if (rc == M2M_OK && out && !rel->db->explain) {
        *out = &c->rep->ch;
        c->rep = NULL;
    }
    return rc;
}
