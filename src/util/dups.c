/* SPDX-License-Identifier: MIT */
/* Which of a call's ids repeat an earlier one. A few ids go through the
 * hash set (valset.c, 16 bytes a value); many are sorted instead, 8 bytes
 * a value, and integers without repeats (the usual large call) need no
 * more than their sorted copy, freed before anything is sent. */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

/* From this many ids on, sorting. A million ids took the hash set's
 * 16 MiB table; below this it is at most 1 MiB and cheaper than a sort
 * (calls of tens of ids keep the hash set they had). */
size_t m2m__dups_sort_min = 65536;

static int cmp_int(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Equal values in call order: the first of each run is the first given. */
static int cmp_ptr(const void *a, const void *b) {
    const m2m_value *x = *(const m2m_value *const *)a, *y = *(const m2m_value *const *)b;
    int c = m2m__value_cmp(*x, *y);
    return c ? c : (x > y) - (x < y);
}

static int mark(unsigned char **rep, size_t n, size_t i) {
    if (!*rep && !(*rep = m2m__calloc((n + 7) / 8, 1)))
        return M2M_NOMEM;
    (*rep)[i >> 3] |= (unsigned char)(1u << (i & 7));
    return M2M_OK;
}

static int by_hash(const m2m_value *vals, size_t stride, size_t n, unsigned char **rep,
                   size_t *nrep) {
    m2m__valset s;
    if (m2m__valset_alloc(&s, vals, stride, n))
        return M2M_NOMEM;
    int rc = M2M_OK;
    for (size_t i = 0; i < n && rc == M2M_OK; i++)
        if (m2m__valset_add(&s, i) != i && (rc = mark(rep, n, i)) == M2M_OK)
            (*nrep)++;
    m2m__valset_free(&s);
    return rc;
}

/* Integers: are any repeated? Their sorted copy tells. */
static int ints_repeat(const m2m_value *vals, size_t stride, size_t n, bool *any) {
    int64_t *k = m2m__malloc(n * sizeof *k);
    if (!k)
        return M2M_NOMEM;
    for (size_t i = 0; i < n; i++)
        k[i] = vals[i * stride].i;
    m2m__sort(k, n, sizeof *k, cmp_int);
    *any = false;
    for (size_t i = 1; i < n && !*any; i++)
        *any = k[i] == k[i - 1];
    m2m__free(k);
    return M2M_OK;
}

static int by_sort(const m2m_value *vals, size_t stride, size_t n, unsigned char **rep,
                   size_t *nrep) {
    bool ints = true;
    for (size_t i = 0; i < n && ints; i++)
        ints = vals[i * stride].type == M2M_TINT;
    bool any = true;
    if (ints && ints_repeat(vals, stride, n, &any))
        return M2M_NOMEM;
    if (!any)
        return M2M_OK;
    const m2m_value **p = m2m__malloc(n * sizeof *p);
    if (!p)
        return M2M_NOMEM;
    for (size_t i = 0; i < n; i++)
        p[i] = &vals[i * stride];
    m2m__sort(p, n, sizeof *p, cmp_ptr);
    int rc = M2M_OK;
    for (size_t i = 1; i < n && rc == M2M_OK; i++)
        if (m2m__value_eq(*p[i], *p[i - 1]) &&
            (rc = mark(rep, n, (size_t)(p[i] - vals) / stride)) == M2M_OK)
            (*nrep)++;
    m2m__free(p);
    return rc;
}

int m2m__dups(const m2m_value *vals, size_t stride, size_t n, unsigned char **rep,
              size_t *nrep) {
    *rep = NULL;
    *nrep = 0;
    if (n < 2)
        return M2M_OK;
    int rc = n < m2m__dups_sort_min ? by_hash(vals, stride, n, rep, nrep)
                                    : by_sort(vals, stride, n, rep, nrep);
    if (rc) {
        m2m__free(*rep);
        *rep = NULL;
        *nrep = 0;
    }
    return rc;
}
