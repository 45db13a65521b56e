/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's type mapping: parameters encoded as text (id
 * arrays as array literals), result values decoded by column type. */
#include "drivers/pg/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs of pg_type.h (stable across server versions). */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701
};

/* Parameters of steps as text (NULL for M2M_TNULL), all converted before
 * anything is sent so that running out of memory cannot leave half a batch
 * queued; the server infers their types. */
/* An element of an array literal: integers as they are, text in double
 * quotes with a backslash before '"' and '\\'. */
static void pg_ids_value(m2m__buf *b, m2m_value v) {
    if (v.type != M2M_TTEXT) {
        m2m__buf_json_value(b, v);
        return;
    }
    m2m__buf_add(b, "\"");
    const char *s = v.s, *run = s;
    for (; *s; s++) {
        if (*s != '"' && *s != '\\')
            continue;
        m2m__buf_addn(b, run, (size_t)(s - run));
        m2m__buf_add(b, "\\");
        run = s;
    }
    m2m__buf_addn(b, run, (size_t)(s - run));
    m2m__buf_add(b, "\"");
}

/* Append the array literal of an M2M__TIDS parameter, NUL-terminated. */
static void pg_ids_literal(m2m__buf *b, const m2m__ids *a) {
    m2m__buf_addn(b, "{", 1);
    for (size_t i = 0; i < a->n; i++) {
        if (i)
            m2m__buf_addn(b, ",", 1);
        pg_ids_value(b, m2m__ids_at(a, i));
    }
    m2m__buf_addn(b, "}", 2);
}

int m2m__pg_params(m2m_db *db, m2m__step *steps, size_t n) {
    pg_conn *c = conn(db);
    size_t total = 0;
    for (size_t k = 0; k < n; k++) {
        if (steps[k].nparams > 65535 || total > SIZE_MAX / 32 - 65536)
            return m2m__set_error(db, M2M_INVALID, "too many parameters");
        total += steps[k].nparams;
    }
    if (total > c->pcap) {
        const char **pv = m2m__realloc(c->pv, total * sizeof *pv);
        if (pv)
            c->pv = pv;
        char *num = pv ? m2m__realloc(c->num, total * 32) : NULL;
        if (num)
            c->num = num;
        if (!pv || !num)
            return m2m__set_error(db, M2M_NOMEM, "out of memory binding %zu parameters",
                                  total);
        c->pcap = total;
    }
    /* Array literals go into one buffer that may move as it grows: note
     * their offsets first, point at them once all are written. */
    c->arrays.len = 0;
    c->arrays.oom = false;
    /* A parameter that is the same id array as the one before it (a
     * sync's DELETE and INSERT, a count and its statement) points at that
     * one's literal, written once. */
    const void *last = NULL;
    size_t last_off = 0;
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t j = 0; j < steps[k].nparams; j++, i++) {
            m2m_value v = steps[k].params[j];
            char *slot = c->num + i * 32;
            c->pv[i] = slot;
            if (v.type == M2M_TINT) {
                slot[31] = '\0';
                c->pv[i] = m2m__int_text(slot + 31, v.i);
            } else if (v.type == M2M_TREAL) {
                snprintf(slot, 32, "%.17g", v.d);
            } else if ((int)v.type == M2M__TIDS) {
                c->pv[i] = NULL;
                if (v.s != last) {
                    last = v.s;
                    last_off = c->arrays.len;
                    pg_ids_literal(&c->arrays, (const m2m__ids *)(const void *)v.s);
                }
                memcpy(slot, &last_off, sizeof last_off);
            } else {
                c->pv[i] = v.type == M2M_TTEXT ? v.s : NULL;
            }
        }
    }
    if (c->arrays.oom)
        return m2m__set_error(db, M2M_NOMEM, "out of memory binding an id array");
    i = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < steps[k].nparams; j++, i++)
            if ((int)steps[k].params[j].type == M2M__TIDS) {
                size_t off;
                memcpy(&off, c->num + i * 32, sizeof off);
                c->pv[i] = c->arrays.p + off;
            }
    return M2M_OK;
}

/* Integers arrive as decimal text; strtoll (locale, base, overflow) cost
 * more than the rest of reading a value when eager loads read many
 * integer keys (callgrind, docs/BENCHMARKS.md). Up to 18
 * digits cannot overflow; anything else goes to strtoll. */
static int64_t pg_int(const char *v) {
    const char *p = v + (*v == '-');
    uint64_t u = 0;
    int n = 0;
    for (; *p >= '0' && *p <= '9'; p++, n++)
        u = u * 10 + (uint64_t)(*p - '0');
    if (*p || n == 0 || n > 18)
        return strtoll(v, NULL, 10);
    return *v == '-' ? -(int64_t)u : (int64_t)u;
}

enum { K_UNSET, K_INT, K_REAL, K_BOOL, K_TEXT };

static unsigned char kind_of(Oid type) {
    switch (type) {
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
            return K_INT;
        case OID_FLOAT4:
        case OID_FLOAT8:
            return K_REAL;
        case OID_BOOL:
            return K_BOOL;
        default:
            return K_TEXT;
    }
}

m2m_value m2m__pg_cursor_value(m2m__cursor *cur, int i) {
    PGresult *res = cur->res;
    if (i < 0 || i >= cur->ncols || cur->row < 0 || cur->row >= cur->nrows)
        return M2M_NULL;
    /* libpq gives NULL as "": only an empty value needs asking. */
    const char *v = PQgetvalue(res, cur->row, i);
    if (!*v && PQgetisnull(res, cur->row, i))
        return M2M_NULL;
    unsigned char k = K_UNSET;
    if ((size_t)i < sizeof cur->kind) {
        k = cur->kind[i];
        if (k == K_UNSET)
            k = cur->kind[i] = kind_of(PQftype(res, i));
    } else {
        k = kind_of(PQftype(res, i));
    }
    switch (k) {
        case K_INT:
            return M2M_INT(pg_int(v));
        case K_REAL:
            return M2M_REAL(strtod(v, NULL));
        case K_BOOL:
            return M2M_INT(v[0] == 't');
        default:
            return M2M_TEXT(v);
    }
}
