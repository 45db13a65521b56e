/* SPDX-License-Identifier: MIT */
/* Allocation through replaceable hooks (m2m_set_allocator). */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static void *(*m2m__malloc_fn)(size_t) = malloc;
static void *(*m2m__realloc_fn)(void *, size_t) = realloc;
static void (*m2m__free_fn)(void *) = free;

void m2m_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                       void (*free_fn)(void *)) {
    m2m__malloc_fn = malloc_fn ? malloc_fn : malloc;
    m2m__realloc_fn = realloc_fn ? realloc_fn : realloc;
    m2m__free_fn = free_fn ? free_fn : free;
}

void *m2m__malloc(size_t n) { return m2m__malloc_fn(n ? n : 1); }

void *m2m__calloc(size_t n, size_t size) {
    /* Overflow check: callers pass counts that come from user input. */
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = m2m__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *m2m__realloc(void *p, size_t n) { return m2m__realloc_fn(p, n ? n : 1); }

void m2m__free(void *p) {
    if (p)
        m2m__free_fn(p);
}

char *m2m__strdup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = m2m__malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

int m2m__grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return M2M_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return M2M_NOMEM;
        ncap *= 2;
    }
    if (size && ncap > SIZE_MAX / size)
        return M2M_NOMEM;
    void *np = m2m__realloc(*p, ncap * size);
    if (!np)
        return M2M_NOMEM;
    *p = np;
    *cap = ncap;
    return M2M_OK;
}
