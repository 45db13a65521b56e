/* SPDX-License-Identifier: MIT */
/* Values: copies, canonical text, equality, hashing and ordering. */
#include "util/util.h"

#include <stdio.h>
#include <string.h>

int m2m__value_copy(m2m_value *dst, m2m_value src) {
    *dst = src;
    if (src.type == M2M_TTEXT) {
        dst->s = m2m__strdup(src.s ? src.s : "");
        if (!dst->s) {
            *dst = M2M_NULL;
            return M2M_NOMEM;
        }
    }
    return M2M_OK;
}

void m2m__value_clear(m2m_value *v) {
    if (v->type == M2M_TTEXT)
        m2m__free((void *)v->s);
    *v = M2M_NULL;
}

const char *m2m_value_text(m2m_value v, char *buf, size_t size) {
    switch (v.type) {
        case M2M_TINT:
            snprintf(buf, size, "%lld", (long long)v.i);
            return buf;
        case M2M_TREAL:
            snprintf(buf, size, "%.17g", v.d);
            return buf;
        case M2M_TTEXT:
            return v.s ? v.s : "";
        default:
            return "NULL";
    }
}

bool m2m__value_eq(m2m_value a, m2m_value b) { return m2m__value_cmp(a, b) == 0; }

/* Equal values (m2m__value_cmp) hash alike: numbers by their value as a
 * double, integral ones as that integer, without formatting them. */
uint64_t m2m__value_hash(m2m_value v) {
    uint64_t h = M2M__FNV64_BASIS;
    if (v.type == M2M_TTEXT)
        return m2m__fnv1a(h ^ 2, M2M__FNV64_PRIME, v.s, strlen(v.s));
    if (v.type != M2M_TINT && v.type != M2M_TREAL)
        return h ^ 1;
    double x = v.type == M2M_TINT ? (double)v.i : v.d;
    uint64_t k;
    if (x >= -9.2e18 && x <= 9.2e18 && x == (double)(int64_t)x) {
        k = (uint64_t)(int64_t)x;
    } else {
        memcpy(&k, &x, sizeof k);
    }
    /* splitmix64's finalizer: the low bits index the hash tables. */
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    return k ^ (k >> 31);
}

static int rank(m2m_type t) { return t == M2M_TNULL ? 0 : t == M2M_TTEXT ? 2 : 1; }

int m2m__value_cmp(m2m_value a, m2m_value b) {
    int ra = rank(a.type), rb = rank(b.type);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (ra == 0)
        return 0;
    if (ra == 2) {
        int c = strcmp(a.s, b.s);
        return (c > 0) - (c < 0);
    }
    if (a.type == M2M_TINT && b.type == M2M_TINT)
        return (a.i > b.i) - (a.i < b.i);
    double x = a.type == M2M_TINT ? (double)a.i : a.d;
    double y = b.type == M2M_TINT ? (double)b.i : b.d;
    return (x > y) - (x < y);
}
