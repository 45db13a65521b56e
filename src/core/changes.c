/* SPDX-License-Identifier: MIT */
/* Change reports. */
#include "core/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

m2m__report *m2m__report_new(int op, m2m_value parent) {
    m2m__report *r = m2m__calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->ch.op = op;
    if (m2m__value_copy(&r->ch.parent, parent)) {
        m2m__free(r);
        return NULL;
    }
    return r;
}

/* Free the three id lists, leaving their counts. */
static void free_lists(m2m_changes *ch) {
    m2m_value **lists[] = {&ch->attached, &ch->detached, &ch->updated};
    size_t counts[] = {ch->nattached, ch->ndetached, ch->nupdated};
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; *lists[l] && i < counts[l]; i++)
            m2m__value_clear(&(*lists[l])[i]);
        m2m__free(*lists[l]);
        *lists[l] = NULL;
    }
}

void m2m_changes_free(m2m_changes *ch) {
    if (!ch)
        return;
    free_lists(ch);
    m2m__value_clear(&ch->parent);
    m2m__free(ch);
}

int m2m__collect_row(void *arg, m2m__cursor *row) {
    m2m__collect *c = arg;
    m2m_changes *ch = &c->rep->ch;
    m2m_value **list[] = {&ch->attached, &ch->detached, &ch->updated};
    size_t *count[] = {&ch->nattached, &ch->ndetached, &ch->nupdated};
    int l = c->list, col = 0;
    if (l == M2M__TAGGED) {
        m2m_value tag = c->db->drv->stmt.cursor_value(row, 0);
        l = tag.type == M2M_TINT ? (int)tag.i : tag.type == M2M_TTEXT ? atoi(tag.s) : -1;
        if (l != M2M__ATTACHED && l != M2M__DETACHED)
            return m2m__set_error(c->db, M2M_ERROR, "internal: bad report row");
        col = 1;
    }
    if (c->count_only) {
        (*count[l])++;
        return M2M_OK;
    }
    m2m_value v = c->db->drv->stmt.cursor_value(row, col);
    if (m2m__grow((void **)list[l], &c->rep->cap[l], *count[l] + 1, sizeof(m2m_value)) ||
        m2m__value_copy(&(*list[l])[*count[l]], v))
        return m2m__set_error(c->db, M2M_NOMEM, "out of memory collecting the report");
    (*count[l])++;
    return M2M_OK;
}

int m2m__int_row(void *arg, m2m__cursor *row) {
    m2m__intval *c = arg;
    m2m_value v = c->db->drv->stmt.cursor_value(row, 0);
    c->v = v.type == M2M_TINT    ? v.i
           : v.type == M2M_TTEXT ? (int64_t)strtoll(v.s, NULL, 10)
                                 : 0;
    c->seen = true;
    return M2M_OK;
}

m2m__report *m2m__report_copy(const m2m__report *src) {
    m2m__report *r = m2m__report_new(src->ch.op, src->ch.parent);
    if (!r)
        return NULL;
    memcpy(r->ch.version, src->ch.version, sizeof r->ch.version);
    const m2m_value *from[] = {src->ch.attached, src->ch.detached, src->ch.updated};
    size_t counts[] = {src->ch.nattached, src->ch.ndetached, src->ch.nupdated};
    m2m_value **to[] = {&r->ch.attached, &r->ch.detached, &r->ch.updated};
    size_t *nto[] = {&r->ch.nattached, &r->ch.ndetached, &r->ch.nupdated};
    for (int l = 0; l < 3; l++) {
        if (!counts[l] || !from[l])
            continue;
        if (!(*to[l] = m2m__calloc(counts[l], sizeof(m2m_value))))
            goto oom;
        r->cap[l] = counts[l];
        for (size_t i = 0; i < counts[l]; i++, (*nto[l])++)
            if (m2m__value_copy(&(*to[l])[i], from[l][i]))
                goto oom;
    }
    return r;
oom:
    m2m_changes_free(&r->ch);
    return NULL;
}

void m2m__report_counts_only(m2m__report *r) {
    free_lists(&r->ch);
    memset(r->cap, 0, sizeof r->cap);
}

void m2m__report_count(m2m__report *r, const m2m__step *steps, const m2m__counted *c,
                       size_t n) {
    size_t *count[] = {&r->ch.nattached, &r->ch.ndetached, &r->ch.nupdated};
    for (size_t i = 0; i < n; i++) {
        int64_t rows = steps[c[i].step].changes;
        *count[c[i].list] += rows > 0 ? (size_t)rows : 0;
    }
}
