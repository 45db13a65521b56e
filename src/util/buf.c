/* SPDX-License-Identifier: MIT */
/* Growable strings for SQL text and JSON parameters. */
#include "util/util.h"

#include <stdio.h>
#include <string.h>

static bool buf_reserve(m2m__buf *b, size_t extra) {
    if (b->oom || b->off)
        return false;
    if (extra > SIZE_MAX - b->len - 1 ||
        m2m__grow((void **)&b->p, &b->cap, b->len + extra + 1, 1) != M2M_OK) {
        b->oom = true;
        return false;
    }
    return true;
}

void m2m__buf_addn(m2m__buf *b, const char *s, size_t n) {
    if (!buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void m2m__buf_add(m2m__buf *b, const char *s) {
    if (!b->off)
        m2m__buf_addn(b, s, strlen(s));
}

void m2m__buf_addf(m2m__buf *b, const char *fmt, ...) {
    if (b->off)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void m2m__buf_ident(m2m__buf *b, const char *ident) {
    if (b->off) /* a read of a known shape only collects its parameters */
        return;
    /* Validated identifiers hold no quote characters, so quoting is plain. */
    const char *dot = strchr(ident, '.');
    if (dot) {
        m2m__buf_add(b, "\"");
        m2m__buf_addn(b, ident, (size_t)(dot - ident));
        m2m__buf_add(b, "\".");
        ident = dot + 1;
    }
    m2m__buf_add(b, "\"");
    m2m__buf_add(b, ident);
    m2m__buf_add(b, "\"");
}

char *m2m__int_text(char *end, int64_t v) {
    char *p = end;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    return p;
}

void m2m__buf_json_value(m2m__buf *b, m2m_value v) {
    switch (v.type) {
        case M2M_TINT: {
            char tmp[24], *e = tmp + sizeof tmp, *p = m2m__int_text(e, v.i);
            m2m__buf_addn(b, p, (size_t)(e - p));
            return;
        }
        case M2M_TREAL:
            if (v.d != v.d || v.d - v.d != 0) /* NaN and infinities have no JSON */
                m2m__buf_add(b, "null");
            else
                m2m__buf_addf(b, "%.17g", v.d);
            return;
        case M2M_TTEXT:
            break;
        default:
            m2m__buf_add(b, "null");
            return;
    }
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)v.s;
    m2m__buf_add(b, "\"");
    size_t run = 0; /* copy plain runs in one call: this is a hot loop */
    for (size_t i = 0;; i++) {
        unsigned char c = s[i];
        if (c && c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        m2m__buf_addn(b, (const char *)s + i - run, run);
        run = 0;
        if (!c)
            break;
        char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            esc[2] = 0;
        }
        m2m__buf_add(b, esc);
    }
    m2m__buf_add(b, "\"");
}

char *m2m__buf_take(m2m__buf *b) {
    char *p = NULL;
    if (!b->oom) {
        p = b->p ? b->p : m2m__strdup("");
        b->p = NULL;
    }
    m2m__buf_free(b);
    return p;
}

void m2m__buf_free(m2m__buf *b) {
    m2m__free(b->p);
    *b = (m2m__buf){0};
}
