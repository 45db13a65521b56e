/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's private declarations, shared by its files. */
#ifndef M2M_PG_H
#define M2M_PG_H

#include "core/db.h"

/* rls.c: dialect.rls_install. */
int m2m__pg_rls_install(m2m_db *db, const m2m__rls *r);

#endif /* M2M_PG_H */
