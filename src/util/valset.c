/* SPDX-License-Identifier: MIT */
/* The one hash set of values: duplicate ids of a call, the ids a sync
 * skips, the joins and per-parent counts of reads done in memory. Open
 * addressing with linear probing over indexes into the caller's values. */
#include "util/util.h"

/* The smallest table; it doubles until it is at least twice the values,
 * so that probes stay short. Not measured: it trades memory for probes. */
#define VALSET_MIN_CAP 16

static const m2m_value *at(const m2m__valset *s, size_t i) {
    return &s->vals[i * s->stride];
}

int m2m__valset_alloc(m2m__valset *s, const m2m_value *vals, size_t stride, size_t max) {
    *s = (m2m__valset){.vals = vals, .stride = stride, .cap = VALSET_MIN_CAP};
    while (s->cap < max * 2)
        s->cap *= 2;
    s->slot = m2m__calloc(s->cap, sizeof *s->slot);
    return s->slot ? M2M_OK : M2M_NOMEM;
}

size_t m2m__valset_add(m2m__valset *s, size_t i) {
    size_t h = (size_t)m2m__value_hash(*at(s, i)) & (s->cap - 1);
    for (; s->slot[h]; h = (h + 1) & (s->cap - 1))
        if (m2m__value_eq(*at(s, s->slot[h] - 1), *at(s, i)))
            return s->slot[h] - 1;
    s->slot[h] = i + 1;
    s->n++;
    return i;
}

size_t m2m__valset_find(const m2m__valset *s, m2m_value v) {
    if (!s || !s->n)
        return 0;
    size_t h = (size_t)m2m__value_hash(v) & (s->cap - 1);
    for (; s->slot[h]; h = (h + 1) & (s->cap - 1))
        if (m2m__value_eq(*at(s, s->slot[h] - 1), v))
            return s->slot[h];
    return 0;
}

bool m2m__valset_has(const m2m__valset *s, m2m_value v) {
    return m2m__valset_find(s, v) != 0;
}

int m2m__valset_init(m2m__valset *s, const m2m_value *vals, size_t n) {
    *s = (m2m__valset){.vals = vals, .stride = 1};
    if (!n)
        return M2M_OK;
    if (m2m__valset_alloc(s, vals, 1, n))
        return M2M_NOMEM;
    for (size_t i = 0; i < n; i++)
        m2m__valset_add(s, i);
    return M2M_OK;
}

void m2m__valset_free(m2m__valset *s) {
    m2m__free(s->slot);
    *s = (m2m__valset){0};
}
