/* SPDX-License-Identifier: MIT */
/* The id array functions of the SQLite backend (ids.c). */
#ifndef M2M_SQLITE_IDS_H
#define M2M_SQLITE_IDS_H

#include "core/db.h"

#include <sqlite3.h>

#define M2M__SQ_IDS_TYPE "m2m_ids"
/* The table-valued function of the ids, as SQL names it: a '-' no user
 * identifier holds, so no user table can hide it (a table wins over an
 * eponymous virtual table of the same name). */
#define M2M__SQ_IDS_MODULE "m2m-ids"
#define M2M__SQ_IDS_SQL    "\"" M2M__SQ_IDS_MODULE "\""

/* What a statement binds to "m2m-ids"(?) and m2m_has(?, key): the ids, and
 * the lookup view of m2m_has, built on its first call after each binding
 * in buffers later bindings reuse: a bitmap over [lo, hi] when the ids are
 * integers of a narrow span, else the ids sorted for binary search. */
typedef struct m2m__sq_ids {
    const m2m_value *v;
    size_t n, stride; /* id i is v[i * stride] */
    int view;         /* 0 not built, else VIEW_BITS or VIEW_SORTED (ids.c) */
    bool ints;
    int64_t lo, hi; /* ints: the bounds */
    unsigned char *bits;
    size_t bcap;
    const m2m_value **ord;
    size_t cap;
} m2m__sq_ids;

/* Make "m2m-ids", m2m_has, m2m_lo and m2m_hi available on a connection. */
int m2m__sq_ids_register(sqlite3 *h);
/* Point a at ids (borrowed) for the next run of its statement. */
void m2m__sq_ids_bind(m2m__sq_ids *a, const m2m__ids *ids);
void m2m__sq_ids_free(m2m__sq_ids *a);

#endif
