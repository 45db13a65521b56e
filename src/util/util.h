/* SPDX-License-Identifier: MIT */
/* Foundations every module uses: allocation, strings, identifiers, values,
 * the error funnel. Nothing here knows a backend. */
#ifndef M2M_UTIL_H
#define M2M_UTIL_H

#include "m2m.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__GNUC__)
#define M2M__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define M2M__PRINTF(a, b)
#endif

/* ---- alloc.c: allocation through the hooks of m2m_set_allocator ---- */
void *m2m__malloc(size_t n);
void *m2m__calloc(size_t n, size_t size); /* overflow-checked, zeroed */
void *m2m__realloc(void *p, size_t n);
void m2m__free(void *p);
char *m2m__strdup(const char *s);
/* Grow *p (of *cap elements of size) to hold at least need; 0 or M2M_NOMEM. */
int m2m__grow(void **p, size_t *cap, size_t need, size_t size);

/* ---- buf.c: growable string; an allocation failure sticks in oom ---- */
typedef struct m2m__buf {
    char *p;
    size_t len, cap;
    bool oom;
    bool off; /* appends are dropped: a builder run only for its parameters */
} m2m__buf;
void m2m__buf_add(m2m__buf *b, const char *s);
void m2m__buf_addn(m2m__buf *b, const char *s, size_t n);
void m2m__buf_addf(m2m__buf *b, const char *fmt, ...) M2M__PRINTF(2, 3);
/* Append an identifier, double-quoted; "a.b" becomes "a"."b". The identifier
 * must have passed m2m__ident_ok(). */
void m2m__buf_ident(m2m__buf *b, const char *ident);
/* Append a value as a JSON scalar (numbers, escaped strings, null). */
void m2m__buf_json_value(m2m__buf *b, m2m_value v);
/* The decimal text of v written so that it ends just before end (no NUL;
 * at most 20 chars); returns where it starts. Ids, placeholders and
 * statement names are printed on hot paths, where printf cost more than
 * the rest of the work. */
char *m2m__int_text(char *end, int64_t v);
/* Take the string (NUL-terminated) out of b, or NULL on oom. b is reset. */
char *m2m__buf_take(m2m__buf *b);
void m2m__buf_free(m2m__buf *b);

/* ---- ident.c ---- */
/* [A-Za-z_][A-Za-z0-9_]* (max 63 chars), optionally one "schema." prefix. */
bool m2m__ident_ok(const char *s, bool allow_schema);

/* ---- hashing: one hash for every table and key ---- */
/* FNV-1a's parameters. The 32-bit hash is the low 32 bits of the
 * computation in 64 bits from its basis with its prime: the low bits of a
 * product depend only on the low bits of its factors. */
#define M2M__FNV64_BASIS 0xcbf29ce484222325ULL
#define M2M__FNV64_PRIME 0x100000001b3ULL
#define M2M__FNV32_BASIS 2166136261u
#define M2M__FNV32_PRIME 16777619u
/* FNV-1a of n bytes at p, continuing from h. Inline: it hashes every text
 * id of a call. */
static inline uint64_t m2m__fnv1a(uint64_t h, uint64_t prime, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * prime;
    return h;
}

/* ---- valset.c: an open-addressed hash set of values held elsewhere ---- */
/* Value i is vals[i * stride] (borrowed); a slot holds index + 1, 0 when
 * empty. Lookups compare with m2m__value_eq. */
typedef struct m2m__valset {
    const m2m_value *vals;
    size_t stride;
    size_t n; /* values in the set */
    size_t *slot;
    size_t cap; /* a power of two, at least twice the values it holds */
} m2m__valset;
/* An empty set for up to max values at vals[i * stride]; M2M_NOMEM. */
int m2m__valset_alloc(m2m__valset *s, const m2m_value *vals, size_t stride, size_t max);
/* Add value i unless an equal one is in; returns the index of the one in
 * the set (i when it was added). */
size_t m2m__valset_add(m2m__valset *s, size_t i);
/* The index + 1 of the value in the set equal to v, or 0. */
size_t m2m__valset_find(const m2m__valset *s, m2m_value v);
bool m2m__valset_has(const m2m__valset *s, m2m_value v);
/* The set of vals[0 .. n) (stride 1); no allocation when n is 0. */
int m2m__valset_init(m2m__valset *s, const m2m_value *vals, size_t n);
void m2m__valset_free(m2m__valset *s);

/* ---- sort.c ---- */
/* qsort's contract, in place: nothing allocated, O(n log n). */
void m2m__sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* ---- dups.c: the repeats among a call's ids ---- */
/* Of the n values vals[i * stride], which repeat an earlier one: *rep a
 * bitmap of them (bit i of byte i / 8), NULL when none does; *nrep their
 * number. M2M_NOMEM. */
int m2m__dups(const m2m_value *vals, size_t stride, size_t n, unsigned char **rep,
              size_t *nrep);
/* From this many values on m2m__dups sorts rather than hashes (tests lower
 * it to take that path with few ids). */
extern size_t m2m__dups_sort_min;
static inline bool m2m__bit(const unsigned char *bits, size_t i) {
    return bits && bits[i >> 3] >> (i & 7) & 1;
}

/* ---- value.c ---- */
/* Deep copy (text duplicated); M2M_NOMEM on failure. */
int m2m__value_copy(m2m_value *dst, m2m_value src);
void m2m__value_clear(m2m_value *v);
bool m2m__value_eq(m2m_value a, m2m_value b);
uint64_t m2m__value_hash(m2m_value v);
/* Byte-order comparison used by in-memory sorts: NULL < numbers < text. */
int m2m__value_cmp(m2m_value a, m2m_value b);

/* ---- error.c ---- */
/* The one error funnel: records rc and the formatted message on db; returns
 * rc. db may be NULL (then only rc is returned). */
int m2m__set_error(m2m_db *db, int rc, const char *fmt, ...) M2M__PRINTF(3, 4);
void m2m__clear_error(m2m_db *db);
/* An error set aside while a rollback or a diagnosis runs statements that
 * may set errors of their own: save takes it off db (which then has none),
 * restore puts it back over whatever came since, drop forgets it (a newer
 * error replaces it; its msg may be quoted in that one first). */
typedef struct m2m__saved_error {
    int code;
    char *msg; /* NULL when it had none */
} m2m__saved_error;
m2m__saved_error m2m__error_save(m2m_db *db);
void m2m__error_restore(m2m_db *db, m2m__saved_error *s);
void m2m__error_drop(m2m__saved_error *s);

#endif /* M2M_UTIL_H */
