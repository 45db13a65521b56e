/* SPDX-License-Identifier: MIT */
/* Schema commands: create-pivot and rls install. */
#include "cli.h"

#include <stdio.h>

int cmd_admin(const cli_opts *o, cli_input *in, m2m_relation *rel) {
    m2m_db *db = m2m_relation_db(rel);
    int e;
    (void)in;
    if (o->cmd == CMD_CREATE_PIVOT) {
        if ((e = m2m_relation_create_pivot(rel)) != M2M_OK)
            return out_error(e, db,
                             "create-pivot failed (the parent and related tables "
                             "must exist)");
    } else if ((e = m2m_rls_install(rel, o->role)) != M2M_OK) {
        return out_error(e, db, "rls install failed%s",
                         e == M2M_NOTSUP ? " (row-level security needs PostgreSQL)" : "");
    }
    if (out_json)
        return out_json_doc(json_pack("{s:s,s:b}", "command", o->cmdname, "ok", 1));
    printf("%s: done\n", o->cmd == CMD_RLS ? "rls install" : o->cmdname);
    return CLI_OK;
}
