/* SPDX-License-Identifier: MIT */
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
        case M2M_INDOUBT:
            return CLI_INDOUBT;
        default:
            return CLI_FAIL;
    }
}

size_t out_escape(char *dst, size_t cap, const char *s) {
    size_t o = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char hex[5];
        const char *put = hex;
        size_t k = 1, adv = 1;
        if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
            hex[0] = '\\';
            hex[1] = c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            k = 2;
        } else if (c >= 0x20 && c < 0x7F) {
            put = s + i;
        } else {
            size_t len = c >= 0x80 ? conf_utf8_len(s + i, n - i) : 0;
            if (len && !(c == 0xC2 && (unsigned char)s[i + 1] < 0xA0)) {
                put = s + i;
                k = adv = len;
            } else {
                snprintf(hex, sizeof hex, "\\x%02x", c);
                k = 4;
            }
        }
        if (o + k >= cap)
            break;
        memcpy(dst + o, put, k);
        o += k;
        i += adv;
    }
    dst[o] = '\0';
    return o;
}

/* A new escaped copy of s, trailing white space dropped; NULL on out of
 * memory. */
static char *escaped(const char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    char *cut = malloc(n + 1), *e = malloc(4 * n + 1);
    if (cut && e) {
        memcpy(cut, s, n);
        cut[n] = '\0';
        out_escape(e, 4 * n + 1, cut);
    } else {
        free(e);
        e = NULL;
    }
    free(cut);
    return e;
}

int out_error(int rc, m2m_db *db, const char *fmt, ...) {
    char raw[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    const char *msg = db ? m2m_errmsg(db) : NULL;
    if (msg && !*msg)
        msg = NULL;
    if (!msg && rc != M2M_OK)
        msg = m2m_errstr(rc);
    char *what = escaped(raw), *detail = msg ? escaped(msg) : NULL;
    if (!what || (msg && !detail)) {
        free(what);
        free(detail);
        fputs("m2m: out of memory\n", stderr);
        return CLI_FAIL;
    }
    fprintf(stderr, "m2m: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    int code = out_exit_code(rc);
    if (out_json) {
        json_t *doc = json_pack("{s:{s:s, s:s, s:s?, s:i}}", "error", "code",
                                rc == M2M_OK ? "usage" : m2m_errname(rc), "message", what,
                                "detail", detail, "exit", code);
        out_json_doc(doc);
    }
    free(what);
    free(detail);
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
    if (!(t->width = calloc(t->ncols, sizeof *t->width)))
        t->oom = true;
}

/* Width in terminal columns, counting UTF-8 continuation bytes as zero. */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Print the whole rows held, aligned to the widest cells seen so far, and
 * keep a last partial row. */
static void flush_rows(out_table *t) {
    size_t whole = t->ncells - t->ncells % t->ncols;
    for (size_t i = 0; i < whole; i++) {
        size_t cw = width(t->cells[i]);
        if (cw > t->width[i % t->ncols])
            t->width[i % t->ncols] = cw;
    }
    for (size_t i = 0; i < whole; i++) {
        size_t col = i % t->ncols;
        fputs(t->cells[i], stdout);
        if (col + 1 < t->ncols)
            for (size_t k = width(t->cells[i]); k < t->width[col] + 2; k++)
                fputc(' ', stdout);
        else
            fputc('\n', stdout);
        free(t->cells[i]);
    }
    if (ferror(stdout))
        t->ioerr = true;
    memmove(t->cells, t->cells + whole, (t->ncells - whole) * sizeof *t->cells);
    t->ncells -= whole;
}

void out_table_cell(out_table *t, const char *s) {
    if (t->oom)
        return;
    if (t->ncells == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        char **g = realloc(t->cells, nc * sizeof *g);
        if (!g) {
            t->oom = true;
            return;
        }
        t->cells = g;
        t->cap = nc;
    }
    s = s ? s : "";
    size_t cap = 4 * strlen(s) + 1;
    char *c = malloc(cap);
    if (!c) {
        t->oom = true;
        return;
    }
    out_escape(c, cap, s);
    t->cells[t->ncells++] = c;
    if (t->ncells == OUT_WINDOW * t->ncols)
        flush_rows(t);
}

void out_table_free(out_table *t) {
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->width);
    memset(t, 0, sizeof *t);
}

int out_table_print(out_table *t) {
    int rc = CLI_OK;
    if (t->oom) {
        fputs("m2m: out of memory\n", stderr);
        rc = CLI_FAIL;
        goto done;
    }
    /* A last row cut short (out of cells) is completed with empty cells. */
    while (!t->oom && t->ncells % t->ncols)
        out_table_cell(t, "");
    if (t->oom) {
        fputs("m2m: out of memory\n", stderr);
        rc = CLI_FAIL;
        goto done;
    }
    flush_rows(t);
    if (t->ioerr || fflush(stdout)) {
        fputs("m2m: cannot write the output\n", stderr);
        rc = CLI_FAIL;
    }
done:
    out_table_free(t);
    return rc;
}
