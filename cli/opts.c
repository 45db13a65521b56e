/* SPDX-License-Identifier: MIT */
/* Command-line options of the m2m tool. Options may come before or after the
 * command; each option names the commands it applies to, so a misplaced one
 * is a usage error instead of being silently ignored. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    O_DB,
    O_CONFIG,
    O_REL,
    O_JSON,
    O_HELP,
    O_PIVOT,
    O_PARENT,
    O_RELATED,
    O_FK,
    O_RK,
    O_PIVOT_COL,
    O_TIMESTAMPS,
    O_PIVOT_ID,
    O_OWNER,
    O_SCOPE,
    O_TEXT_IDS,
    O_INVERSE,
    O_DATA,
    O_ALL,
    O_KEEP,
    O_UPDATE_EXISTING,
    O_IF_VERSION,
    O_ALLOW_EMPTY,
    O_COUNTS,
    O_NO_VERSION,
    O_WITH_PIVOT,
    O_SELECT,
    O_WHERE,
    O_WHERE_PIVOT,
    O_OR,
    O_ORDER,
    O_ORDER_PIVOT,
    O_LIMIT,
    O_OFFSET,
    O_STRATEGY,
    O_ROLE,
    O_COUNT
};

#define W_DATA                                                                           \
    (CMD_BIT(CMD_ATTACH) | CMD_BIT(CMD_SYNC) | CMD_BIT(CMD_TOGGLE) | CMD_BIT(CMD_CREATE))
#define W_ALL (W_DATA | CMD_BIT(CMD_DETACH) | CMD_BIT(CMD_UPDATE))
#define R_FILT                                                                           \
    (CMD_BIT(CMD_LIST) | CMD_BIT(CMD_COUNT) | CMD_BIT(CMD_LOAD) | CMD_BIT(CMD_COUNTS) |  \
     CMD_BIT(CMD_EXISTS) | CMD_BIT(CMD_HAS))
#define R_ROWS (CMD_BIT(CMD_LIST) | CMD_BIT(CMD_LOAD))

static const struct {
    const char *name;
    bool value;
    unsigned cmds; /* 0: every command */
} table[O_COUNT] = {
    [O_DB] = {"db", true, 0},
    [O_CONFIG] = {"config", true, 0},
    [O_REL] = {"rel", true, 0},
    [O_JSON] = {"json", false, 0},
    [O_HELP] = {"help", false, 0},
    [O_PIVOT] = {"pivot", true, 0},
    [O_PARENT] = {"parent", true, 0},
    [O_RELATED] = {"related", true, 0},
    [O_FK] = {"fk", true, 0},
    [O_RK] = {"rk", true, 0},
    [O_PIVOT_COL] = {"pivot-col", true, 0},
    [O_TIMESTAMPS] = {"timestamps", false, 0},
    [O_PIVOT_ID] = {"pivot-id", true, 0},
    [O_OWNER] = {"owner", true, 0},
    [O_SCOPE] = {"scope", true, 0},
    [O_TEXT_IDS] = {"text-ids", false, 0},
    [O_INVERSE] = {"inverse", false, 0},
    [O_DATA] = {"data", true, W_DATA},
    [O_ALL] = {"all", false, CMD_BIT(CMD_DETACH)},
    [O_KEEP] = {"keep", false, CMD_BIT(CMD_SYNC)},
    [O_UPDATE_EXISTING] = {"update-existing", false, CMD_BIT(CMD_SYNC)},
    [O_IF_VERSION] = {"if-version", true, CMD_BIT(CMD_SYNC)},
    [O_ALLOW_EMPTY] = {"allow-empty", false, CMD_BIT(CMD_SYNC)},
    [O_COUNTS] = {"counts", false, W_ALL},
    [O_NO_VERSION] = {"no-version", false, W_ALL},
    [O_WITH_PIVOT] = {"with-pivot", true, R_ROWS},
    [O_SELECT] = {"select", true, R_ROWS},
    [O_WHERE] = {"where", true, R_FILT},
    [O_WHERE_PIVOT] = {"where-pivot", true, R_FILT},
    [O_OR] = {"or", false, R_FILT},
    [O_ORDER] = {"order", true, R_ROWS},
    [O_ORDER_PIVOT] = {"order-pivot", true, R_ROWS},
    [O_LIMIT] = {"limit", true, R_ROWS},
    [O_OFFSET] = {"offset", true, R_ROWS},
    [O_STRATEGY] = {"strategy", true, R_FILT},
    [O_ROLE] = {"role", true, CMD_BIT(CMD_RLS)},
};

static int usage(const char *fmt, const char *a, const char *b) {
    char msg[300];
    snprintf(msg, sizeof msg, fmt, a, b);
    return out_error(M2M_OK, NULL, "%s (see m2m --help)", msg);
}

static int grow(void **p, size_t n, size_t size) {
    void *g = realloc(*p, (n + 1) * size);
    if (!g)
        return -1;
    *p = g;
    return 0;
}

/* Shared pivot data: --data col=value, or --pivot col=value. */
static int add_data(cli_opts *o, const char *v, char *err) {
    char *copy = strdup(v);
    m2m_col *cols = NULL;
    size_t n = 0;
    if (!copy || grow((void **)&o->shared_mem, o->nshared_mem, sizeof(char *))) {
        free(copy);
        return snprintf(err, CONF_ERRLEN, "out of memory"), -1;
    }
    o->shared_mem[o->nshared_mem++] = copy;
    if (args_cols(copy, &cols, &n, err))
        return -1;
    m2m_col *g = realloc(o->shared, (o->nshared + n) * sizeof *g);
    if (!g) {
        free(cols);
        return snprintf(err, CONF_ERRLEN, "out of memory"), -1;
    }
    o->shared = g;
    memcpy(o->shared + o->nshared, cols, n * sizeof *cols);
    o->nshared += n;
    free(cols);
    return 0;
}

static int add_filter(cli_opts *o, const char *v, bool pivot, int kind, char *err) {
    if (grow((void **)&o->filters, o->nfilters, sizeof *o->filters))
        return snprintf(err, CONF_ERRLEN, "out of memory"), -1;
    args_filter *f = &o->filters[o->nfilters];
    if (kind == FILT_OR) {
        memset(f, 0, sizeof *f);
        f->kind = FILT_OR;
    } else if (args_filter_parse(v, pivot, f, err)) {
        return -1;
    }
    o->nfilters++;
    return 0;
}

static int add_order(cli_opts *o, char *v, bool pivot, char *err) {
    if (grow((void **)&o->orders, o->norders, sizeof *o->orders))
        return snprintf(err, CONF_ERRLEN, "out of memory"), -1;
    cli_order *ord = &o->orders[o->norders];
    ord->pivot = pivot;
    if (args_order(v, &ord->col, &ord->dir, err))
        return -1;
    o->norders++;
    return 0;
}

/* Apply one option; v is its value (NULL for flags). */
static int apply(cli_opts *o, int id, char *v, char *err) {
    static const char *const spec_keys[O_COUNT] = {[O_PARENT] = "parent",
                                                   [O_RELATED] = "related",
                                                   [O_FK] = "foreign_pivot_key",
                                                   [O_RK] = "related_pivot_key",
                                                   [O_PIVOT_COL] = "pivot_columns",
                                                   [O_PIVOT_ID] = "pivot_id",
                                                   [O_OWNER] = "owner",
                                                   [O_SCOPE] = "scope"};
    switch (id) {
        case O_DB:
            o->db = v;
            return 0;
        case O_CONFIG:
            o->config = v;
            return 0;
        case O_REL:
            o->rel = v;
            return 0;
        case O_JSON:
            o->json = out_json = true;
            return 0;
        case O_HELP:
            o->help = true;
            return 0;
        case O_INVERSE:
            o->inverse = true;
            return 0;
        case O_ALL:
            o->all = true;
            return 0;
        case O_KEEP:
            o->keep = true;
            return 0;
        case O_UPDATE_EXISTING:
            o->update_existing = true;
            return 0;
        case O_IF_VERSION:
            o->if_version = v;
            return 0;
        case O_ALLOW_EMPTY:
            o->allow_empty = true;
            return 0;
        case O_COUNTS:
            o->counts = true;
            return 0;
        case O_NO_VERSION:
            o->no_version = true;
            return 0;
        case O_ROLE:
            o->role = v;
            return 0;
        case O_TIMESTAMPS:
            o->spec_given = true;
            o->spec.timestamps = 1;
            return 0;
        case O_TEXT_IDS:
            o->spec_given = true;
            o->spec.parent_text = o->spec.related_text = true;
            return 0;
        case O_PIVOT:
            /* An identifier never holds '=', so col=value is pivot data. */
            if (strchr(v, '='))
                return add_data(o, v, err);
            o->spec_given = true;
            return conf_spec_set(&o->spec, "pivot", v, err);
        case O_DATA:
            return add_data(o, v, err);
        case O_WITH_PIVOT:
            if (!conf_ident_ok(v, false))
                return snprintf(err, CONF_ERRLEN, "bad pivot column '%s'", v), -1;
            if (grow((void **)&o->with_pivot, o->nwith, sizeof *o->with_pivot))
                return snprintf(err, CONF_ERRLEN, "out of memory"), -1;
            o->with_pivot[o->nwith++] = v;
            return 0;
        case O_SELECT:
            if (!conf_ident_ok(v, false))
                return snprintf(err, CONF_ERRLEN, "bad column '%s'", v), -1;
            if (grow((void **)&o->select, o->nselect, sizeof *o->select))
                return snprintf(err, CONF_ERRLEN, "out of memory"), -1;
            o->select[o->nselect++] = v;
            return 0;
        case O_WHERE:
            return add_filter(o, v, false, FILT_CMP, err);
        case O_WHERE_PIVOT:
            return add_filter(o, v, true, FILT_CMP, err);
        case O_OR:
            return add_filter(o, NULL, true, FILT_OR, err);
        case O_ORDER:
            return add_order(o, v, false, err);
        case O_ORDER_PIVOT:
            return add_order(o, v, true, err);
        case O_LIMIT:
            o->has_limit = true;
            return args_count(v, &o->limit, "--limit", err);
        case O_OFFSET:
            o->has_offset = true;
            return args_count(v, &o->offset, "--offset", err);
        case O_STRATEGY:
            if (!strcmp(v, "join"))
                o->strategy = M2M_JOIN;
            else if (!strcmp(v, "two-query"))
                o->strategy = M2M_TWO_QUERY;
            else
                return snprintf(err, CONF_ERRLEN, "--strategy is join or two-query"), -1;
            return 0;
        default:
            o->spec_given = true;
            return conf_spec_set(&o->spec, spec_keys[id], v, err);
    }
}

/* Check the operands' count for the command. */
static int check_arity(cli_opts *o) {
    const char *name = o->cmdname;
    size_t n = o->npos;
    switch (o->cmd) {
        case CMD_ATTACH:
        case CMD_TOGGLE:
        case CMD_SYNC:
            if (n < 2)
                return usage("%s needs PARENT and at least one ID (or - for stdin)", name,
                             NULL);
            return CLI_OK;
        case CMD_DETACH:
            if (n < 1 || (o->all && n > 1) || (!o->all && n < 2))
                return usage("detach needs PARENT and either IDs or --all", NULL, NULL);
            return CLI_OK;
        case CMD_UPDATE:
            if (n < 3)
                return usage("update-pivot needs PARENT, IDs and col=value pairs", NULL,
                             NULL);
            return CLI_OK;
        case CMD_LIST:
        case CMD_COUNT:
        case CMD_VERSION:
            if (n != 1)
                return usage("%s needs exactly one PARENT", name, NULL);
            return CLI_OK;
        case CMD_LOAD:
        case CMD_COUNTS:
        case CMD_EXISTS:
            if (n < 1)
                return usage("%s needs at least one PARENT (or - for stdin)", name, NULL);
            return CLI_OK;
        case CMD_CREATE:
            if (n < 2)
                return usage("create needs PARENT and at least one row col=value,...",
                             NULL, NULL);
            return CLI_OK;
        case CMD_HAS:
            if (n < 2)
                return usage("has needs PARENT and at least one ID (or - for stdin)",
                             NULL, NULL);
            return CLI_OK;
        case CMD_CREATE_PIVOT:
            if (n)
                return usage("create-pivot takes no operands", NULL, NULL);
            return CLI_OK;
        case CMD_RLS:
            if (n != 1 || strcmp(o->pos[0], "install"))
                return usage("write: rls install --role ROLE", NULL, NULL);
            if (!o->role)
                return usage("rls install needs --role ROLE", NULL, NULL);
            return CLI_OK;
        default:
            return CLI_OK;
    }
}

int opts_parse(int argc, char **argv, cli_opts *o) {
    bool seen[O_COUNT] = {0};
    bool dashdash = false;
    char err[CONF_ERRLEN];
    memset(o, 0, sizeof *o);
    o->strategy = -1;
    if (!(o->pos = calloc((size_t)argc, sizeof *o->pos)))
        return out_error(M2M_NOMEM, NULL, "out of memory");
    /* --json anywhere applies to errors found before it is reached. */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--json"))
            out_json = true;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (dashdash || a[0] != '-' || !strcmp(a, "-")) {
            if (o->cmd == CMD_NONE && !o->cmdname) {
                o->cmdname = a;
                if (!strcmp(a, "help")) {
                    o->help = true;
                    continue;
                }
                o->cmd = help_command(a);
                if (o->cmd == CMD_NONE)
                    return usage("unknown command '%s'", a, NULL);
                continue;
            }
            if (o->help && o->cmd == CMD_NONE) { /* m2m help COMMAND */
                if ((o->cmd = help_command(a)) == CMD_NONE)
                    return usage("unknown command '%s'", a, NULL);
                continue;
            }
            o->pos[o->npos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            dashdash = true;
            continue;
        }
        if (!strcmp(a, "-h")) {
            o->help = true;
            continue;
        }
        if (strncmp(a, "--", 2))
            return usage("unknown option '%s'", a, NULL);
        char *name = a + 2, *v = strchr(name, '=');
        size_t nl = v ? (size_t)(v - name) : strlen(name);
        int id = -1;
        for (int k = 0; k < O_COUNT; k++)
            if (strlen(table[k].name) == nl && !strncmp(table[k].name, name, nl))
                id = k;
        if (id < 0)
            return usage("unknown option '%s'", a, NULL);
        if (table[id].value) {
            if (v) {
                v++;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                return usage("option --%s needs a value", table[id].name, NULL);
            }
        } else if (v) {
            return usage("option --%s takes no value", table[id].name, NULL);
        }
        seen[id] = true;
        if (apply(o, id, v, err))
            return usage("--%s: %s", table[id].name, err);
    }
    if (o->help)
        return CLI_OK;
    if (o->cmd == CMD_NONE)
        return usage("no command given", NULL, NULL);
    for (int k = 0; k < O_COUNT; k++)
        if (seen[k] && table[k].cmds && !(table[k].cmds & CMD_BIT(o->cmd)))
            return usage("option --%s does not apply to %s", table[k].name, o->cmdname);
    return check_arity(o);
}

void opts_free(cli_opts *o) {
    conf_spec_free(&o->spec);
    for (size_t i = 0; i < o->nfilters; i++)
        args_filter_free(&o->filters[i]);
    for (size_t i = 0; i < o->nshared_mem; i++)
        free(o->shared_mem[i]);
    free(o->shared_mem);
    free(o->shared);
    free(o->filters);
    free(o->with_pivot);
    free(o->select);
    free(o->orders);
    free(o->pos);
    memset(o, 0, sizeof *o);
}
