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
    size_t max = !v ? 0 : tty && n > SHOW_MAX ? SHOW_MAX : n;
    printf("%-9s %zu", what, n);
    for (size_t i = 0; i < max; i++) {
        out_escape(shown, sizeof shown, out_text(v[i], buf, sizeof buf));
        printf("%s%s", i ? " " : "  ", shown);
    }
    if (v && max < n)
        printf(" ... (%zu more)", n - max);
    putchar('\n');
}

/* A list of the report: its ids, or with --counts its number. */
static json_t *jfield(bool counts, const m2m_value *v, size_t n) {
    return counts ? json_integer((json_int_t)n) : jlist(v, n);
}

static int report(const char *name, const m2m_changes *ch, bool counts) {
    if (out_json) {
        json_t *doc = json_object();
        if (!doc || json_object_set_new(doc, "command", json_string(name)) ||
            json_object_set_new(doc, "parent", out_jvalue(ch->parent)) ||
            json_object_set_new(doc, "attached",
                                jfield(counts, ch->attached, ch->nattached)) ||
            json_object_set_new(doc, "detached",
                                jfield(counts, ch->detached, ch->ndetached)) ||
            json_object_set_new(doc, "updated",
                                jfield(counts, ch->updated, ch->nupdated)) ||
            (ch->version[0] &&
             json_object_set_new(doc, "version", json_string(ch->version)))) {
            json_decref(doc);
            doc = NULL;
        }
        return out_json_doc(doc);
    }
    int op = ch->op;
    bool tty = isatty(STDOUT_FILENO);
    /* --counts: the counts alone (update-pivot's report still has its ids). */
    const m2m_value *at = counts ? NULL : ch->attached;
    const m2m_value *de = counts ? NULL : ch->detached;
    const m2m_value *up = counts ? NULL : ch->updated;
    if (op == M2M_OP_ATTACH || op == M2M_OP_SYNC || op == M2M_OP_TOGGLE ||
        op == M2M_OP_CREATE)
        print_list("attached", at, ch->nattached, tty);
    if (op == M2M_OP_DETACH || op == M2M_OP_SYNC || op == M2M_OP_TOGGLE)
        print_list("detached", de, ch->ndetached, tty);
    if (op == M2M_OP_SYNC || op == M2M_OP_UPDATE)
        print_list("updated", up, ch->nupdated, tty);
    if (ch->version[0])
        printf("%-9s %s\n", "version", ch->version);
    return fflush(stdout) ? CLI_FAIL : CLI_OK;
}

int cmd_write(const cli_opts *o, cli_input *in, m2m_relation *rel) {
    m2m_db *db = m2m_relation_db(rel);
    /* A non-NULL empty list: NULL would mean "all" to m2m_detach. */
    static m2m_value none[1];
    m2m_changes *ch = NULL;
    m2m_opts mo = {0};
    int e, rc;
    mo.flags = (o->no_version ? 0 : M2M_WANT_VERSION) | (o->counts ? M2M_COUNTS : 0) |
               (o->keep ? M2M_KEEP : 0) | (o->update_existing ? M2M_UPDATE_EXISTING : 0);
    mo.pivot = o->shared;
    mo.npivot = o->nshared;
    mo.if_version = o->if_version;
    /* Items only when some id carries data of its own: else the plain ids,
     * 16 bytes each. */
    const m2m_item *items = in->items.items;
    const m2m_value *ids = in->items.ids;
    size_t n = in->items.n;
    switch (o->cmd) {
        case CMD_ATTACH:
            e = items ? m2m_attach(rel, in->parent, items, n, &mo, &ch)
                      : m2m_attach_ids(rel, in->parent, ids, n, &mo, &ch);
            break;
        case CMD_DETACH:
            e = m2m_detach(rel, in->parent,
                           o->all ? NULL
                           : ids  ? ids
                                  : none,
                           n, &mo, &ch);
            break;
        case CMD_SYNC:
            e = items ? m2m_sync(rel, in->parent, items, n, &mo, &ch)
                      : m2m_sync_ids(rel, in->parent, ids, n, &mo, &ch);
            break;
        case CMD_TOGGLE:
            e = items ? m2m_toggle(rel, in->parent, items, n, &mo, &ch)
                      : m2m_toggle_ids(rel, in->parent, ids, n, &mo, &ch);
            break;
        case CMD_CREATE:
            e = m2m_create(rel, in->parent, in->rows, in->nrows, &mo, &ch);
            break;
        default:
            e = m2m_update_pivot(rel, in->parent, ids ? ids : none, n, in->cols,
                                 in->ncols, &ch);
            break;
    }
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
    rc = report(o->cmdname, ch, o->counts);
    m2m_changes_free(ch);
    return rc;
}
