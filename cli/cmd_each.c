/* SPDX-License-Identifier: MIT */
/* The per-item reads: counts and exists (one answer per parent, one query
 * for all) and has (which of the ids are attached, one query). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

/* One answer per value: a count (counts) or a flag (exists, has). */
static int print_each(const cli_opts *o, const cli_input *in, const m2m_value *keys,
                      size_t n, const int64_t *counts, const int *flags) {
    const char *key = o->cmd == CMD_HAS ? "id" : "parent";
    const char *what = o->cmd == CMD_COUNTS   ? "count"
                       : o->cmd == CMD_EXISTS ? "exists"
                                              : "attached";
    if (out_json) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < n; i++) {
            json_t *v =
                counts ? json_integer((json_int_t)counts[i]) : json_boolean(flags[i]);
            json_t *row = json_pack("{s:o,s:o}", key, out_jvalue(keys[i]), what, v);
            if (!row || json_array_append_new(list, row)) {
                json_decref(list);
                list = NULL;
            }
        }
        if (!list)
            return out_error(M2M_NOMEM, NULL, "out of memory");
        json_t *doc =
            o->cmd == CMD_HAS
                ? json_pack("{s:s,s:o,s:o}", "command", o->cmdname, "parent",
                            out_jvalue(in->parent), "has", list)
                : json_pack("{s:s,s:o}", "command", o->cmdname, o->cmdname, list);
        return out_json_doc(doc);
    }
    out_table t = {0};
    char buf[64], num[32];
    out_table_init(&t, 2);
    out_table_cell(&t, key);
    out_table_cell(&t, what);
    for (size_t i = 0; i < n; i++) {
        out_table_cell(&t, out_text(keys[i], buf, sizeof buf));
        if (counts)
            snprintf(num, sizeof num, "%lld", (long long)counts[i]);
        out_table_cell(&t, counts ? num : flags[i] ? "yes" : "no");
    }
    return out_table_print(&t);
}

int cmd_each(const cli_opts *o, cli_input *in, m2m_relation *rel) {
    m2m_db *db = m2m_relation_db(rel);
    m2m_query *q = NULL;
    const m2m_value *vals = in->items.ids;
    int64_t *counts = NULL;
    int *flags = NULL;
    static m2m_value none[1]; /* stdin gave nothing: no answers */
    size_t n = in->items.n;
    int e, rc;
    if (o->cmd == CMD_COUNTS)
        counts = calloc(n ? n : 1, sizeof *counts);
    else
        flags = calloc(n ? n : 1, sizeof *flags);
    if (!counts && !flags)
        return out_error(M2M_NOMEM, NULL, "out of memory");
    if (o->cmd == CMD_HAS)
        e = m2m_query_new(rel, in->parent, &q);
    else
        e = m2m_query_new_many(rel, vals ? vals : none, n, &q);
    if (e != M2M_OK) {
        rc = out_error(e, db, "cannot start the query");
        goto done;
    }
    cmd_build(o, q);
    e = o->cmd == CMD_COUNTS   ? m2m_query_count_each(q, counts)
        : o->cmd == CMD_EXISTS ? m2m_query_exists_each(q, flags)
                               : m2m_query_has(q, vals ? vals : none, n, flags);
    if (e != M2M_OK) {
        rc = out_error(e, db, "%s failed", o->cmdname);
        goto done;
    }
    rc = print_each(o, in, vals ? vals : none, n, counts, flags);
done:
    m2m_query_free(q);
    free(counts);
    free(flags);
    return rc;
}
