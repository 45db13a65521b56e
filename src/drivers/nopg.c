/* SPDX-License-Identifier: MIT */
/* Built only without the PostgreSQL backend: row-level security exists but
 * says so. */
#include "core/relation.h"

int m2m_rls_install(m2m_relation *rel, const char *role) {
    (void)role;
    return rel ? m2m__set_error(
                     m2m_relation_db(rel), M2M_NOTSUP,
                     "m2m_rls_install: this m2m is built without the PostgreSQL "
                     "backend (M2M_WITH_POSTGRESQL)")
               : M2M_MISUSE;
}
