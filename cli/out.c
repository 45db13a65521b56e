/* Output of the m2m tool: error lines, aligned tables and JSON documents. */
#include "cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool out_json;

int out_exit_code(int rc) {
    switch (rc) {
        case M2M_OK:
        case M2M_INVALID:
        case M2M_TYPE:
        case M2M_MISUSE:
            return CLI_USAGE;
        case M2M_NOTFOUND:
            return CLI_NOTFOUND;
        case M2M_DENIED:
            return CLI_DENIED;
        case M2M_CONSTRAINT:
        case M2M_EXISTS:
        case M2M_VETOED:
            return CLI_CONSTRAINT;
        case M2M_CONFLICT:
            return CLI_CONFLICT;
        default:
            return CLI_FAIL;
    }
}

int out_error(int rc, m2m_db *db, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *msg = db ? m2m_errmsg(db) : NULL;
    if (msg && !*msg)
        msg = NULL;
    if (!msg && rc != M2M_OK)
        msg = m2m_errstr(rc);
    /* Keep the report on one line even if the backend's text has newlines. */
    fprintf(stderr, "m2m: %s", what);
    if (msg) {
        fputs(": ", stderr);
        for (const char *p = msg; *p; p++)
            fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
    }
    fputc('\n', stderr);
    int code = out_exit_code(rc);
    if (out_json) {
        json_t *doc = json_pack("{s:{s:s, s:s, s:s?, s:i}}", "error", "code",
                                rc == M2M_OK ? "usage" : m2m_errname(rc), "message", what,
                                "detail", msg, "exit", code);
        out_json_doc(doc);
    }
    return code;
}

const char *out_text(m2m_value v, char *buf, size_t cap) {
    return m2m_value_text(v, buf, cap);
}

json_t *out_jvalue(m2m_value v) {
    switch (v.type) {
        case M2M_TINT:
            return json_integer(v.i);
        case M2M_TREAL:
            return json_real(v.d);
        case M2M_TTEXT:
            /* Invalid UTF-8 from the database must not break the document. */
            return json_stringn_nocheck(v.s ? v.s : "", v.s ? strlen(v.s) : 0);
        default:
            return json_null();
    }
}

int out_json_doc(json_t *doc) {
    if (!doc) {
        fputs("m2m: out of memory\n", stderr);
        return CLI_FAIL;
    }
    int rc =
        json_dumpf(doc, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (rc || fputc('\n', stdout) == EOF || fflush(stdout)) {
        fputs("m2m: cannot write the output\n", stderr);
        return CLI_FAIL;
    }
    return CLI_OK;
}

void out_table_init(out_table *t, size_t ncols) {
    memset(t, 0, sizeof *t);
    t->ncols = ncols ? ncols : 1;
}

void out_table_cell(out_table *t, const char *s) {
    size_t used = t->ncells;
    if (t->oom)
        return;
    if (used == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        char **g = realloc(t->cells, nc * sizeof *g);
        if (!g) {
            t->oom = true;
            return;
        }
        t->cells = g;
        t->cap = nc;
    }
    char *c = strdup(s ? s : "");
    if (!c) {
        t->oom = true;
        return;
    }
    t->cells[t->ncells++] = c;
}

void out_table_free(out_table *t) {
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* Width in terminal columns, counting UTF-8 continuation bytes as zero. */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

int out_table_print(out_table *t) {
    int rc = CLI_OK;
    size_t *w = calloc(t->ncols, sizeof *w);
    if (t->oom || !w) {
        fputs("m2m: out of memory\n", stderr);
        rc = CLI_FAIL;
        goto done;
    }
    for (size_t i = 0; i < t->ncells; i++) {
        size_t cw = width(t->cells[i]);
        if (cw > w[i % t->ncols])
            w[i % t->ncols] = cw;
    }
    for (size_t i = 0; i < t->ncells; i++) {
        size_t col = i % t->ncols;
        bool last = col + 1 == t->ncols || i + 1 == t->ncells;
        fputs(t->cells[i], stdout);
        if (!last)
            for (size_t k = width(t->cells[i]); k < w[col] + 2; k++)
                fputc(' ', stdout);
        else
            fputc('\n', stdout);
    }
    if (fflush(stdout)) {
        fputs("m2m: cannot write the output\n", stderr);
        rc = CLI_FAIL;
    }
done:
    free(w);
    out_table_free(t);
    return rc;
}
