/* SPDX-License-Identifier: MIT */
/* m2m_rls_install: what the core checks before the driver installs
 * row-level security (the DDL is the driver's dialect.rls_install). */
#include "core/relation.h"

int m2m_rls_install(m2m_relation *rel, const char *role) {
    if (!rel || !rel->db)
        return M2M_MISUSE;
    m2m_db *db = rel->db;
    if (!db->drv->info->caps.rls) {
        bool built;
        const m2m__backend *with = m2m__rls_backend(&built);
        if (with && !built)
            return m2m__set_error(db, M2M_NOTSUP,
                                  "m2m_rls_install: this m2m is built without the %s "
                                  "backend (%s)",
                                  with->label, with->option);
        return m2m__set_error(
            db, M2M_NOTSUP, "rls: %s has no row-level security (%s has it; pivot %s)",
            db->drv->info->label, with ? with->label : "no backend", rel->pivot_table);
    }
    if (!rel->owner_column)
        return m2m__set_error(db, M2M_INVALID, "rls: relation on %s has no owner_column",
                              rel->pivot_table);
    if (!role)
        role = "authenticated";
    if (!m2m__ident_ok(role, false))
        return m2m__set_error(db, M2M_INVALID,
                              "rls: role must match [A-Za-z_][A-Za-z0-9_]* (max 63)");
    m2m__rls r = {
        .pivot = rel->pivot_table,
        .parent = rel->parent_table,
        .related = rel->related_table,
        .owner_column = rel->owner_column,
        .owner_read_all = rel->owner_read_all,
        .role = role,
    };
    return db->drv->dialect.rls_install(db, &r);
}
