/* The m2m_ids table-valued function of the SQLite backend (sqlite_ids.c). */
#ifndef M2M_SQLITE_IDS_H
#define M2M_SQLITE_IDS_H

#include "internal.h"

#include <sqlite3.h>

#define M2M__SQ_IDS_TYPE "m2m_ids"

/* What a statement binds to m2m_ids(?): the ids, and a sorted view of
 * them that lookups build once per binding and later bindings reuse. */
typedef struct m2m__sq_ids {
    const m2m_value *v;
    size_t n;
    const m2m_value **ord;
    size_t cap;
    bool sorted;
} m2m__sq_ids;

/* Make m2m_ids available on a connection. */
int m2m__sq_ids_register(sqlite3 *h);
/* Point a at ids (borrowed) for the next run of its statement. */
void m2m__sq_ids_bind(m2m__sq_ids *a, const m2m__ids *ids);
void m2m__sq_ids_free(m2m__sq_ids *a);

#endif
