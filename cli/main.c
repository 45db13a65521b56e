/* SPDX-License-Identifier: MIT */
/* m2m: manage a many-to-many relation from the shell. This file resolves the
 * relation and the database, types the operands, and dispatches; everything
 * is checked before the database is opened, so a usage error changes
 * nothing. */
#include "cli.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read a whole file into a new NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (*len + 4096 + 1 > cap) {
            size_t nc = cap ? cap * 2 : 8192;
            char *g = nc > (1u << 24) ? NULL : realloc(buf, nc);
            if (!g)
                goto bad;
            buf = g;
            cap = nc;
        }
        size_t got = fread(buf + *len, 1, cap - *len - 1, f);
        *len += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto bad;
    fclose(f);
    buf[*len] = '\0';
    return buf;
bad:
    fclose(f);
    free(buf);
    errno = errno ? errno : ENOMEM;
    return NULL;
}

/* Build the relation spec into *spec from the config section and the
 * command line. */
static int resolve_spec(const cli_opts *o, conf_file *cf, conf_spec *spec) {
    char err[CONF_ERRLEN];
    const char *path = o->config;
    if (!path && access("m2m.conf", F_OK) == 0)
        path = "m2m.conf";
    if (path) {
        size_t len;
        char *text = slurp(path, &len);
        if (!text)
            return out_error(M2M_OK, NULL, "cannot read config '%s': %s", path,
                             strerror(errno));
        size_t line;
        int bad = conf_parse(text, len, cf, &line, err);
        free(text);
        if (bad && line)
            return out_error(M2M_OK, NULL, "%s:%zu: %s", path, line, err);
        if (bad)
            return out_error(M2M_OK, NULL, "%s: %s", path, err);
    }
    const conf_spec *sec = NULL;
    if (o->rel) {
        if (!path)
            return out_error(M2M_OK, NULL,
                             "--rel %s needs a config file (--config FILE or ./m2m.conf)",
                             o->rel);
        if (!(sec = conf_find(cf, o->rel)))
            return out_error(M2M_OK, NULL, "no relation [%s] in %s", o->rel, path);
    } else if (cf->nspecs == 1) {
        sec = &cf->specs[0];
    } else if (cf->nspecs > 1 && !o->spec_given) {
        return out_error(M2M_OK, NULL,
                         "%s defines %zu relations: pick one with --rel NAME", path,
                         cf->nspecs);
    }
    if (!sec && !o->spec_given)
        return out_error(M2M_OK, NULL,
                         "no relation: give --pivot, --parent, --related, --fk and --rk, "
                         "or a config file (see m2m --help)");
    if ((sec && conf_spec_merge(spec, sec)) || conf_spec_merge(spec, &o->spec))
        return out_error(M2M_NOMEM, NULL, "out of memory");
    if (sec && !(spec->name = strdup(sec->name)))
        return out_error(M2M_NOMEM, NULL, "out of memory");
    if (conf_spec_check(spec, err))
        return out_error(M2M_OK, NULL, "%s", err);
    return CLI_OK;
}

/* Add one operand (or stdin for "-") to in->items. */
static int add_operand(cli_input *in, const char *a, bool text, bool data,
                       bool *used_stdin) {
    char err[CONF_ERRLEN];
    if (!strcmp(a, "-")) {
        if (*used_stdin)
            return out_error(M2M_OK, NULL, "- (stdin) may be given only once");
        *used_stdin = true;
        if (args_read(&in->items, stdin, text, data, err))
            return out_error(M2M_OK, NULL, "%s", err);
        return CLI_OK;
    }
    if (args_add(&in->items, a, text, data, err))
        return out_error(M2M_OK, NULL, "%s", err);
    return CLI_OK;
}

/* create: one row per operand after PARENT, "col=value,col=value". */
static int parse_rows(const cli_opts *o, cli_input *in) {
    char err[CONF_ERRLEN];
    size_t n = o->npos - 1;
    in->rows = calloc(n, sizeof *in->rows);
    in->rowmem = calloc(n, sizeof *in->rowmem);
    if (!in->rows || !in->rowmem)
        return out_error(M2M_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *a = o->pos[i + 1];
        m2m_col *cols = NULL;
        size_t ncols = 0;
        if (!strcmp(a, "-"))
            return out_error(M2M_OK, NULL, "create reads no stdin: give each row");
        if (!(in->rowmem[i] = strdup(a)))
            return out_error(M2M_NOMEM, NULL, "out of memory");
        if (args_cols(in->rowmem[i], &cols, &ncols, err))
            return out_error(M2M_OK, NULL, "row %zu: %s", i + 1, err);
        in->rows[in->nrows++] = (m2m_new){.cols = cols, .ncols = ncols};
    }
    return CLI_OK;
}

/* Type the operands for the command; ptext/rtext are the key types as seen
 * from the side the command works on. */
static int parse_input(const cli_opts *o, bool ptext, bool rtext, cli_input *in) {
    char err[CONF_ERRLEN];
    bool used_stdin = false;
    int rc;
    if (o->cmd == CMD_LOAD || o->cmd == CMD_COUNTS || o->cmd == CMD_EXISTS) {
        for (size_t i = 0; i < o->npos; i++)
            if ((rc = add_operand(in, o->pos[i], ptext, false, &used_stdin)))
                return rc;
        return CLI_OK;
    }
    if (!o->npos || o->cmd == CMD_RLS)
        return CLI_OK;
    if (args_id(o->pos[0], ptext, &in->parent, err))
        return out_error(M2M_OK, NULL, "parent: %s", err);
    if (o->cmd == CMD_CREATE)
        return parse_rows(o, in);
    bool data = o->cmd == CMD_ATTACH || o->cmd == CMD_SYNC || o->cmd == CMD_TOGGLE;
    size_t collen = 0;
    for (size_t i = 1; i < o->npos; i++) {
        if (o->cmd == CMD_UPDATE && strchr(o->pos[i], '=')) {
            collen += strlen(o->pos[i]) + 1;
            continue;
        }
        if ((rc = add_operand(in, o->pos[i], rtext, data, &used_stdin)))
            return rc;
    }
    /* An empty stdin (an empty grep upstream) would detach the whole set. */
    if (o->cmd == CMD_SYNC && used_stdin && !in->items.n && !o->allow_empty)
        return out_error(M2M_OK, NULL,
                         "sync: stdin gave no ids, which would detach every id of "
                         "parent %s: add --allow-empty to mean it",
                         o->pos[0]);
    if (o->cmd != CMD_UPDATE)
        return CLI_OK;
    if (!collen || (!in->items.n && !used_stdin))
        return out_error(M2M_OK, NULL, "update-pivot needs IDs and col=value pairs");
    /* The pairs are joined so one split types them all. */
    if (!(in->colmem = calloc(collen, 1)))
        return out_error(M2M_NOMEM, NULL, "out of memory");
    for (size_t i = 1; i < o->npos; i++) {
        if (!strchr(o->pos[i], '='))
            continue;
        if (*in->colmem)
            strcat(in->colmem, ",");
        strcat(in->colmem, o->pos[i]);
    }
    if (args_cols(in->colmem, &in->cols, &in->ncols, err))
        return out_error(M2M_OK, NULL, "%s", err);
    return CLI_OK;
}

/* sqlite:PATH must name an existing file: opening would create it. */
static int check_sqlite_path(const char *url) {
    if (strncmp(url, "sqlite:", 7) || !strcmp(url + 7, ":memory:"))
        return CLI_OK;
    if (access(url + 7, F_OK) != 0)
        return out_error(M2M_NOTFOUND, NULL, "no database file '%s' (create it first)",
                         url + 7);
    return CLI_OK;
}

static int run(cli_opts *o) {
    conf_file cf = {0};
    conf_spec spec = {0};
    cli_input in = {0};
    conf_def def = {0};
    m2m_db *db = NULL;
    m2m_relation *rel = NULL, *inv = NULL;
    int rc;
    if ((rc = resolve_spec(o, &cf, &spec)))
        goto done;
    bool ptext = o->inverse ? spec.related_text : spec.parent_text;
    bool rtext = o->inverse ? spec.parent_text : spec.related_text;
    if ((rc = parse_input(o, ptext, rtext, &in)))
        goto done;
    const char *url = o->db ? o->db : getenv("M2M_DB");
    if (!url || !*url)
        url = cf.db;
    if (!url || !*url) {
        rc = out_error(M2M_OK, NULL, "no database: give --db URL or set M2M_DB");
        goto done;
    }
    if ((rc = check_sqlite_path(url)))
        goto done;
    if (conf_def_make(&spec, &def)) {
        rc = out_error(M2M_NOMEM, NULL, "out of memory");
        goto done;
    }
    int e = m2m_open(url, &db);
    if (e != M2M_OK) {
        rc = out_error(e, db, "cannot open the database");
        goto done;
    }
    if ((e = m2m_relation_open(db, &def.def, &rel)) != M2M_OK) {
        rc = out_error(e, db, "bad relation %s%s(pivot %s)", spec.name ? spec.name : "",
                       spec.name ? " " : "", spec.pivot);
        goto done;
    }
    if (o->inverse && (e = m2m_relation_inverse(rel, &inv)) != M2M_OK) {
        rc = out_error(e, db, "cannot make the inverse relation");
        goto done;
    }
    m2m_relation *r = inv ? inv : rel;
    switch (o->cmd) {
        case CMD_LIST:
        case CMD_COUNT:
        case CMD_LOAD:
        case CMD_VERSION:
            rc = cmd_read(o, &in, r);
            break;
        case CMD_CREATE_PIVOT:
        case CMD_RLS:
            rc = cmd_admin(o, &in, r);
            break;
        case CMD_COUNTS:
        case CMD_EXISTS:
        case CMD_HAS:
            rc = cmd_each(o, &in, r);
            break;
        default:
            rc = cmd_write(o, &in, r);
            break;
    }
done:
    m2m_relation_close(inv);
    m2m_relation_close(rel);
    m2m_close(db);
    conf_def_free(&def);
    args_items_free(&in.items);
    free(in.cols);
    free(in.colmem);
    for (size_t i = 0; i < in.nrows; i++)
        free((void *)in.rows[i].cols);
    for (size_t i = 0; in.rowmem && i + 1 < o->npos; i++)
        free(in.rowmem[i]);
    free(in.rows);
    free(in.rowmem);
    conf_spec_free(&spec);
    conf_free(&cf);
    return rc;
}

int main(int argc, char **argv) {
    /* A big write's buffers (the ids' parameter text here and in the client
     * library) grow by doubling. glibc raises its mmap threshold once a big
     * block is freed, after which the grown-out copies stay resident on the
     * heap: a million ids took 3.5 MiB more at their peak. A fixed
     * threshold gives each freed big block back at once. */
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    cli_opts o;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("m2m %s (libm2m %s)\n", M2M_VERSION, m2m_libversion());
            return CLI_OK;
        }
    }
    int rc = opts_parse(argc, argv, &o);
    if (rc == CLI_OK && o.help)
        help_print(o.cmd);
    else if (rc == CLI_OK)
        rc = run(&o);
    opts_free(&o);
    return rc;
}
