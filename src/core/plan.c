/* SPDX-License-Identifier: MIT */
/* Plans of explained calls (m2m_explain): each statement with its SQL, why
 * it is sent, its parameters' count, its batch and flags. */
#include "core/plan.h"

#include "core/relation.h"

#include <string.h>

typedef struct pstep {
    char *sql;
    const char *why;
    size_t nparams;
    int round, flags;
} pstep;

struct m2m_plan {
    pstep *v;
    size_t n, cap;
    int rounds;
    bool oom;
};

int m2m_explain(m2m_db *db, m2m_plan **plan) {
    if (!db || !plan)
        return db ? m2m__set_error(db, M2M_MISUSE, "m2m_explain: plan is NULL")
                  : M2M_MISUSE;
    int rc = m2m__db_usable(db);
    if (rc)
        return rc;
    m2m__clear_error(db);
    *plan = NULL;
    db->explain_out = plan;
    return M2M_OK;
}

bool m2m__explain_begin(m2m_db *db) {
    if (db->explain) {
        db->explain_depth++; /* a call made by the explained one */
        return true;
    }
    if (!db->explain_out)
        return false;
    db->explain = m2m__calloc(1, sizeof *db->explain);
    if (!db->explain)
        db->explain_out = NULL; /* nothing explained: the call fails NOMEM */
    return db->explain != NULL;
}

int m2m__explain_end(m2m_db *db, int rc) {
    m2m_plan *p = db->explain;
    if (!p)
        return rc;
    if (db->explain_depth) {
        db->explain_depth--;
        return rc;
    }
    m2m_plan **out = db->explain_out;
    db->explain = NULL;
    db->explain_out = NULL;
    if (rc == M2M_OK && p->oom)
        rc = m2m__set_error(db, M2M_NOMEM, "m2m_explain: out of memory");
    if (rc == M2M_OK) {
        *out = p;
        return rc;
    }
    m2m_plan_free(p);
    return rc;
}

/* The SQL text of a statement prepared on db: a fixed one or one cached
 * for rel. */
static const char *sql_of(m2m_db *db, m2m_relation *rel, m2m__stmt *st) {
    const char *sql = m2m__fixed_sql(db, st);
    for (size_t i = 0; !sql && rel && i < rel->ncache; i++)
        if (rel->cache[i].stmt == st)
            sql = rel->cache[i].sql;
    return sql ? sql : "?";
}

void m2m__plan_batch(m2m_db *db, m2m_relation *rel, const m2m__step *steps, size_t n) {
    m2m_plan *p = db->explain;
    if (!p || n == 0)
        return;
    bool each = db->drv->info->caps.trip_per_statement;
    p->rounds++;
    for (size_t i = 0; i < n; i++) {
        if (each && i)
            p->rounds++;
        if (m2m__grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v)) {
            p->oom = true;
            return;
        }
        char *sql = m2m__strdup(sql_of(db, rel, steps[i].stmt));
        if (!sql) {
            p->oom = true;
            return;
        }
        p->v[p->n++] = (pstep){.sql = sql,
                               .why = steps[i].why ? steps[i].why : "",
                               .nparams = steps[i].nparams,
                               .round = p->rounds,
                               .flags = steps[i].plan_flags};
    }
}

bool m2m__plan_read(m2m_db *db, m2m_relation *rel, m2m__stmt *st, size_t nparams,
                    const char *why) {
    if (!db->explain)
        return false;
    m2m__step s = {
        .stmt = st, .nparams = nparams, .why = why, .plan_flags = M2M_PLAN_READ};
    m2m__plan_batch(db, rel, &s, 1);
    return true;
}

size_t m2m_plan_count(const m2m_plan *plan) { return plan ? plan->n : 0; }

const char *m2m_plan_sql(const m2m_plan *plan, size_t i) {
    return plan && i < plan->n ? plan->v[i].sql : NULL;
}

const char *m2m_plan_why(const m2m_plan *plan, size_t i) {
    return plan && i < plan->n ? plan->v[i].why : NULL;
}

size_t m2m_plan_nparams(const m2m_plan *plan, size_t i) {
    return plan && i < plan->n ? plan->v[i].nparams : 0;
}

int m2m_plan_round(const m2m_plan *plan, size_t i) {
    return plan && i < plan->n ? plan->v[i].round : 0;
}

int m2m_plan_flags(const m2m_plan *plan, size_t i) {
    return plan && i < plan->n ? plan->v[i].flags : 0;
}

int m2m_plan_rounds(const m2m_plan *plan) { return plan ? plan->rounds : 0; }

void m2m_plan_free(m2m_plan *plan) {
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n; i++)
        m2m__free(plan->v[i].sql);
    m2m__free(plan->v);
    m2m__free(plan);
}
