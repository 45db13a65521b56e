/* SPDX-License-Identifier: MIT */
/* The write commands: attach, detach, sync, toggle, update-pivot, create, and the
 * printing of their change reports. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Ids shown per list on a terminal; into a pipe or a file, and in JSON,
 * every id is printed. */
#define SHOW_MAX 20

static json_t *jlist(const m2m_value *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, out_jvalue(v[i]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static void print_list(const char *what, const m2m_value *v, size_t n, bool tty) {
    char buf[64], shown[1024];
    size_t max = tty && n > SHOW_MAX ? SHOW_MAX : n;
    printf("%-9s %zu", what, n);
    for (size_t i = 0; i < max; i++) {
        out_escape(shown, sizeof shown, out_text(v[i], buf, sizeof buf));
        printf("%s%s", i ? " " : "  ", shown);
    }
    if (max < n)
        printf(" ... (%zu more)", n - max);
    putchar('\n');
}

static int report(const char *name, const m2m_changes *ch) {
    if (out_json) {
        json_t *doc = json_object();
        if (!doc || json_object_set_new(doc, "command", json_string(name)) ||
            json_object_set_new(doc, "parent", out_jvalue(ch->parent)) ||
            json_object_set_new(doc, "attached", jlist(ch->attached, ch->nattached)) ||
            json_object_set_new(doc, "detached", jlist(ch->detached, ch->ndetached)) ||
            json_object_set_new(doc, "updated", jlist(ch->updated, ch->nupdated)) ||
            (ch->version[0] &&
             json_object_set_new(doc, "version", json_string(ch->version)))) {
            json_decref(doc);
            doc = NULL;
        }
        return out_json_doc(doc);
    }
    int op = ch->op;
    bool tty = isatty(STDOUT_FILENO);
    if (op == M2M_OP_ATTACH || op == M2M_OP_SYNC || op == M2M_OP_TOGGLE ||
        op == M2M_OP_CREATE)
        print_list("attached", ch->attached, ch->nattached, tty);
    if (op == M2M_OP_DETACH || op == M2M_OP_SYNC || op == M2M_OP_TOGGLE)
        print_list("detached", ch->detached, ch->ndetached, tty);
    if (op == M2M_OP_SYNC || op == M2M_OP_UPDATE)
        print_list("updated", ch->updated, ch->nupdated, tty);
    if (ch->version[0])
        printf("%-9s %s\n", "version", ch->version);
    return fflush(stdout) ? CLI_FAIL : CLI_OK;
}

int cmd_write(const cli_opts *o, cli_input *in, m2m_relation *rel) {
    m2m_db *db = m2m_relation_db(rel);
    /* A non-NULL empty list: NULL would mean "all" to m2m_detach. */
    static m2m_value none[1];
    m2m_value *ids = NULL;
    m2m_changes *ch = NULL;
    m2m_opts mo = {0};
    int e, rc;
    mo.flags = M2M_WANT_VERSION | (o->keep ? M2M_KEEP : 0) |
               (o->update_existing ? M2M_UPDATE_EXISTING : 0);
    mo.pivot = o->shared;
    mo.npivot = o->nshared;
    mo.if_version = o->if_version;
    const m2m_item *items = in->items.items;
    size_t n = in->items.n;
    if ((o->cmd == CMD_DETACH || o->cmd == CMD_UPDATE) && args_ids(&in->items, &ids))
        return out_error(M2M_NOMEM, NULL, "out of memory");
    switch (o->cmd) {
        case CMD_ATTACH:
            e = m2m_attach(rel, in->parent, items, n, &mo, &ch);
            break;
        case CMD_DETACH:
            e = m2m_detach(rel, in->parent,
                           o->all ? NULL
                           : ids  ? ids
                                  : none,
                           n, &mo, &ch);
            break;
        case CMD_SYNC:
            e = m2m_sync(rel, in->parent, items, n, &mo, &ch);
            break;
        case CMD_TOGGLE:
            e = m2m_toggle(rel, in->parent, items, n, &mo, &ch);
            break;
        case CMD_CREATE:
            e = m2m_create(rel, in->parent, in->rows, in->nrows, &mo, &ch);
            break;
        default:
            e = m2m_update_pivot(rel, in->parent, ids ? ids : none, n, in->cols,
                                 in->ncols, &ch);
            break;
    }
    free(ids);
    if (e != M2M_OK) {
        char buf[64];
        const char *hint = e == M2M_CONFLICT ? " (re-read it with m2m version)"
                           : e == M2M_TYPE   ? " (ids of the wrong type: see --text-ids)"
                                             : "";
        return out_error(e, db, "%s on parent %s failed: %s%s", o->cmdname,
                         out_text(in->parent, buf, sizeof buf), m2m_errstr(e), hint);
    }
    if (!ch)
        return out_error(M2M_ERROR, NULL, "%s returned no report", o->cmdname);
    rc = report(o->cmdname, ch);
    m2m_changes_free(ch);
    return rc;
}
