/* SPDX-License-Identifier: MIT */
/* SQL of touching the parent (m2m_relation_def.touch): its updated_at set
 * when a write changes its set. Where DELETE, INSERT and UPDATE may share
 * one statement (caps.dml_cte) the write itself carries the touch, in a
 * WITH whose UPDATE runs only when the write returned a row: no extra
 * statement, no extra round trip. Elsewhere the plan sends S_TOUCH once the
 * write's results say it changed something (write_plan.c). */
#include "sql/sqlgen.h"

#include <string.h>

bool m2m__touch_in_stmt(const m2m_relation *rel) {
    return rel->touch_col && rel->db->drv->info->caps.dml_cte;
}

/* UPDATE parent SET col = now WHERE key = $1 */
static void touch_update(m2m__buf *b, const m2m_relation *rel) {
    m2m__buf_add(b, "UPDATE ");
    m2m__buf_ident(b, rel->parent_table);
    m2m__buf_add(b, " SET ");
    m2m__buf_ident(b, rel->touch_col);
    m2m__buf_addf(b, " = %s WHERE ", rel->db->drv->dialect.now_sql);
    m2m__buf_ident(b, rel->parent_key);
    m2m__buf_add(b, " = $1");
}

void m2m__touch_cte(m2m__buf *b, const m2m_relation *rel, const char *changed) {
    m2m__buf_add(b, ", \"m2m-touch\" AS (");
    touch_update(b, rel);
    m2m__buf_addf(b, " AND (%s))", changed);
}

void m2m__touch_wrap(m2m__buf *b, const m2m_relation *rel) {
    m2m__buf w = {.off = b->off};
    m2m__buf_add(&w, "WITH \"m2m-w\" AS (");
    m2m__buf_addn(&w, b->p ? b->p : "", b->len);
    m2m__buf_add(&w, ")");
    m2m__touch_cte(&w, rel, "EXISTS (SELECT 1 FROM \"m2m-w\")");
    m2m__buf_add(&w, " SELECT * FROM \"m2m-w\"");
    if (b->oom)
        w.oom = true;
    m2m__buf_free(b);
    *b = w;
}

int m2m__b_touch(m2m_relation *rel, uint64_t mask, m2m__buf *b) {
    (void)mask;
    touch_update(b, rel);
    return M2M_OK;
}
