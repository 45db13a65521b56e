/* SPDX-License-Identifier: MIT */
/* Keyset pagination: the page token of a row (its order values and keys,
 * with a fingerprint of the query's order), read back by m2m_query_after,
 * and the condition that resumes after it. */
#include "query/query.h"

#include <string.h>

/* A token is base64url of: version, the fingerprint (4 bytes), the number
 * of values, then each value as a type byte and its data (integers and
 * reals 8 bytes big-endian, text a 4-byte length and its bytes). */
/* At most 255 values (one byte), and 1 MiB of text. */
enum { TOKEN_VERSION = 1, TOKEN_MAX = 1 << 20, TOKEN_MAX_VALUES = 255 };

/* Tokens of one relation, parents' form and order only: another order
 * would resume at the wrong place. */
uint32_t m2m__ks_fingerprint(const m2m_query *q) {
    const m2m_relation *rel = q->rel;
    uint64_t h = M2M__FNV32_BASIS;
    const char *parts[] = {rel->related_table, rel->pivot_table, rel->rk,
                           q->many ? "many" : "one"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        h = m2m__fnv1a(h, M2M__FNV32_PRIME, parts[i], strlen(parts[i]) + 1);
    for (size_t i = 0; i < q->norders; i++) {
        char d[2] = {q->orders[i].pivot ? 'p' : 'r',
                     q->orders[i].dir == M2M_DESC ? 'd' : 'a'};
        h = m2m__fnv1a(h, M2M__FNV32_PRIME, d, 2);
        h = m2m__fnv1a(h, M2M__FNV32_PRIME, q->orders[i].col,
                       strlen(q->orders[i].col) + 1);
    }
    return (uint32_t)h;
}

size_t m2m__ks_nvalues(const m2m_query *q) { return q->norders + (q->many ? 1 : 0) + 1; }

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put_u64(m2m__buf *b, uint64_t u, int n) {
    unsigned char c[8];
    for (int i = 0; i < n; i++)
        c[i] = (unsigned char)(u >> (8 * (n - 1 - i)));
    m2m__buf_addn(b, (const char *)c, (size_t)n);
}

char *m2m__ks_encode(uint32_t fp, const m2m_value *v, size_t n) {
    m2m__buf raw = {0}, out = {0};
    unsigned char head[2] = {TOKEN_VERSION, 0};
    m2m__buf_addn(&raw, (const char *)head, 1);
    put_u64(&raw, fp, 4);
    head[1] = (unsigned char)n;
    m2m__buf_addn(&raw, (const char *)&head[1], 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char t = (unsigned char)v[i].type;
        m2m__buf_addn(&raw, (const char *)&t, 1);
        if (v[i].type == M2M_TINT) {
            put_u64(&raw, (uint64_t)v[i].i, 8);
        } else if (v[i].type == M2M_TREAL) {
            uint64_t u;
            memcpy(&u, &v[i].d, sizeof u);
            put_u64(&raw, u, 8);
        } else if (v[i].type == M2M_TTEXT) {
            size_t len = strlen(v[i].s ? v[i].s : "");
            put_u64(&raw, (uint64_t)len, 4);
            m2m__buf_addn(&raw, v[i].s ? v[i].s : "", len);
        }
    }
    const unsigned char *p = (const unsigned char *)raw.p;
    for (size_t i = 0; !raw.oom && i < raw.len; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16;
        if (i + 1 < raw.len)
            x |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < raw.len)
            x |= p[i + 2];
        char c[4] = {B64[x >> 18 & 63], B64[x >> 12 & 63], B64[x >> 6 & 63], B64[x & 63]};
        m2m__buf_addn(&out, c, i + 2 < raw.len ? 4 : i + 1 < raw.len ? 3 : 2);
    }
    bool oom = raw.oom || out.oom;
    m2m__buf_free(&raw);
    if (oom) {
        m2m__buf_free(&out);
        return NULL;
    }
    return m2m__buf_take(&out);
}

static int b64val(char c) {
    const char *at = c ? strchr(B64, c) : NULL;
    return at ? (int)(at - B64) : -1;
}

/* The bytes of a base64url text, or NULL (*bad: not base64url). */
static unsigned char *unb64(const char *s, size_t n, size_t *len, bool *bad) {
    *bad = n % 4 == 1;
    unsigned char *o = *bad ? NULL : m2m__malloc(n / 4 * 3 + 3);
    size_t k = 0;
    for (size_t i = 0; o && i < n; i += 4) {
        uint32_t x = 0;
        size_t m = n - i < 4 ? n - i : 4;
        for (size_t j = 0; j < 4; j++) {
            int d = j < m ? b64val(s[i + j]) : 0;
            if (d < 0) {
                *bad = true;
                m2m__free(o);
                return NULL;
            }
            x = x << 6 | (uint32_t)d;
        }
        o[k++] = (unsigned char)(x >> 16);
        if (m > 2)
            o[k++] = (unsigned char)(x >> 8);
        if (m > 3)
            o[k++] = (unsigned char)x;
    }
    *len = k;
    return o;
}

static uint64_t get_u64(const unsigned char *p, int n) {
    uint64_t u = 0;
    for (int i = 0; i < n; i++)
        u = u << 8 | p[i];
    return u;
}

/* Decode token: its fingerprint and values (new, m2m__values_free);
 * M2M_INVALID (with why) when it is not a token, M2M_NOMEM. */
int m2m__ks_decode(const char *token, uint32_t *fp, m2m_value **vals, size_t *n,
                   const char **why) {
    size_t tl = 0, len = 0;
    while (tl <= TOKEN_MAX && token[tl])
        tl++;
    bool bad = false;
    *vals = NULL;
    *n = 0;
    *why = "not a page token";
    if (tl > TOKEN_MAX)
        return M2M_INVALID;
    unsigned char *p = unb64(token, tl, &len, &bad);
    if (!p)
        return bad ? M2M_INVALID : M2M_NOMEM;
    int rc = M2M_INVALID;
    size_t at = 6;
    if (len < at || p[0] != TOKEN_VERSION)
        goto done;
    *fp = (uint32_t)get_u64(p + 1, 4);
    size_t cnt = p[5];
    m2m_value *v = m2m__calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) {
        rc = M2M_NOMEM;
        goto done;
    }
    size_t got = 0;
    for (; got < cnt && at < len; got++) {
        int t = p[at++];
        if (t == M2M_TNULL) {
            v[got] = M2M_NULL;
        } else if (t == M2M_TINT || t == M2M_TREAL) {
            if (len - at < 8)
                break;
            uint64_t u = get_u64(p + at, 8);
            at += 8;
            if (t == M2M_TINT) {
                v[got] = M2M_INT((int64_t)u);
            } else {
                double d;
                memcpy(&d, &u, sizeof d);
                v[got] = M2M_REAL(d);
            }
        } else if (t == M2M_TTEXT) {
            if (len - at < 4)
                break;
            size_t tlen = (size_t)get_u64(p + at, 4);
            at += 4;
            if (len - at < tlen || memchr(p + at, 0, tlen))
                break;
            char *s = m2m__malloc(tlen + 1);
            if (!s) {
                rc = M2M_NOMEM;
                break;
            }
            memcpy(s, p + at, tlen);
            s[tlen] = '\0';
            at += tlen;
            v[got] = (m2m_value){.type = M2M_TTEXT, .s = s};
        } else {
            break;
        }
    }
    if (got == cnt && at == len) {
        *vals = v;
        *n = cnt;
        rc = M2M_OK;
    } else {
        m2m__values_free(v, got);
    }
done:
    m2m__free(p);
    return rc;
}

/* The hidden columns of a keyset read: the order values, then the
 * related key (the parent, when many, is the read's first column). */
void m2m__q_keyset_cols(m2m__sqlq *s, const m2m_query *q) {
    for (size_t i = 0; i < q->norders; i++) {
        m2m__buf_add(&s->b, ", ");
        m2m__q_col(s, q->orders[i].pivot ? "p" : "r", q->orders[i].col);
        m2m__buf_addf(&s->b, " AS \"m2m__k%zu\"", i);
    }
    m2m__buf_add(&s->b, ", ");
    m2m__q_col(s, "p", q->rel->rk);
    m2m__buf_add(&s->b, " AS \"m2m__krk\"");
}

typedef struct key {
    const char *alias, *col;
    bool desc;
    m2m_value v;
} key;

static void same(m2m__sqlq *s, const key *k) {
    m2m__q_col(s, k->alias, k->col);
    if (k->v.type == M2M_TNULL) {
        m2m__buf_add(&s->b, " IS NULL");
    } else {
        m2m__buf_add(&s->b, " = ");
        m2m__q_param(s, k->v);
    }
}

/* Rows after the token's in the read's order (NULLs first ascending, last
 * descending): for each key, the earlier keys equal and this one after. */
void m2m__q_keyset(m2m__sqlq *s, const m2m_query *q) {
    size_t n = m2m__ks_nvalues(q);
    key *keys = m2m__calloc(n, sizeof *keys);
    if (!keys) {
        s->b.oom = true;
        return;
    }
    for (size_t i = 0; i < q->norders; i++)
        keys[i] = (key){q->orders[i].pivot ? "p" : "r", q->orders[i].col,
                        q->orders[i].dir == M2M_DESC, q->after[i]};
    if (q->many)
        keys[n - 2] = (key){"p", q->rel->fk, false, q->after[n - 2]};
    keys[n - 1] = (key){"p", q->rel->rk, false, q->after[n - 1]};
    m2m__buf_add(&s->b, " AND (");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const key *k = &keys[i];
        if (k->desc && k->v.type == M2M_TNULL)
            continue; /* only NULLs follow a NULL descending: none is after */
        m2m__buf_add(&s->b, first ? "(" : " OR (");
        first = false;
        for (size_t j = 0; j < i; j++) {
            same(s, &keys[j]);
            m2m__buf_add(&s->b, " AND ");
        }
        if (k->desc)
            m2m__buf_add(&s->b, "(");
        m2m__q_col(s, k->alias, k->col);
        if (k->v.type == M2M_TNULL) {
            m2m__buf_add(&s->b, " IS NOT NULL");
        } else {
            m2m__buf_add(&s->b, k->desc ? " < " : " > ");
            m2m__q_param(s, k->v);
            if (k->desc) { /* NULLs follow every value descending */
                m2m__buf_add(&s->b, " OR ");
                m2m__q_col(s, k->alias, k->col);
                m2m__buf_add(&s->b, " IS NULL)");
            }
        }
        m2m__buf_add(&s->b, ")");
    }
    m2m__buf_add(&s->b, ")");
    m2m__free(keys);
}

/* At the read: the token must be one of this query's rows. */
int m2m__ks_check(m2m_query *q) {
    m2m_db *db = q->rel->db;
    if (q->keyset && q->each)
        return m2m__set_error(db, M2M_INVALID,
                              "%s: m2m_query_after (keyset pages) does not combine with "
                              "m2m_query_limit_each",
                              q->rel->pivot_table);
    if (q->keyset && m2m__ks_nvalues(q) > TOKEN_MAX_VALUES)
        return m2m__set_error(db, M2M_INVALID,
                              "%s: m2m_query_after: more than %d order columns",
                              q->rel->pivot_table, TOKEN_MAX_VALUES - 2);
    if (!q->after)
        return M2M_OK;
    size_t n = m2m__ks_nvalues(q);
    if (q->after_fp != m2m__ks_fingerprint(q) || q->nafter != n)
        return m2m__set_error(
            db, M2M_INVALID,
            "%s: m2m_query_after: the page token was taken from a query "
            "with another order, relation or number of parents",
            q->rel->pivot_table);
    m2m_type rk = q->after[n - 1].type, fk = q->many ? q->after[n - 2].type : M2M_TINT;
    if (rk != q->rel->related_type || (q->many && fk != q->rel->parent_type))
        return m2m__set_error(db, M2M_INVALID,
                              "%s: m2m_query_after: the page token's keys are not of the "
                              "relation's key types",
                              q->rel->pivot_table);
    return M2M_OK;
}
