/* SPDX-License-Identifier: MIT */
/* Set digests (versions): SHA-256 over an unambiguous encoding of the rows,
 * independent of their order. */
#include "core/input.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* A row's digest: the 32 bytes of SHA-256. */
enum { ROW_LEN = 32 };

/* Kept on the connection: the digest context and the row digests of the
 * set being read, reused from one version to the next. */
struct m2m__digest_state {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
    unsigned char *rows; /* count * ROW_LEN */
    size_t cap;          /* rows */
};

void m2m__digest_free(m2m_db *db) {
    m2m__digest_state *s = db->digest;
    if (!s)
        return;
    EVP_MD_CTX_free(s->ctx);
    EVP_MD_free(s->md);
    m2m__free(s->rows);
    m2m__free(s);
    db->digest = NULL;
}

static int oom(m2m_db *db) {
    return m2m__set_error(db, M2M_NOMEM, "out of memory computing the set's version");
}

static m2m__digest_state *state(m2m_db *db) {
    if (db->digest)
        return db->digest;
    m2m__digest_state *s = m2m__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    db->digest = s;
    if (!(s->md = EVP_MD_fetch(NULL, "SHA256", NULL)) || !(s->ctx = EVP_MD_CTX_new())) {
        m2m__digest_free(db);
        return NULL;
    }
    return s;
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* Every value is its type tag, then a fixed-size number or, for text, its
 * length and bytes: no value or row can be read as another. NULL is a tag
 * alone. -0.0 is 0.0, as the backends compare them. */
static int feed_value(EVP_MD_CTX *ctx, m2m_value v) {
    unsigned char h[9];
    size_t n = 9;
    switch (v.type) {
        case M2M_TINT:
            h[0] = 'i';
            put_u64(h + 1, (uint64_t)v.i);
            break;
        case M2M_TREAL: {
            double d = v.d == 0 ? 0.0 : v.d;
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            h[0] = 'r';
            put_u64(h + 1, bits);
            break;
        }
        case M2M_TTEXT: {
            const char *t = v.s ? v.s : "";
            size_t len = strlen(t);
            h[0] = 't';
            put_u64(h + 1, len);
            return EVP_DigestUpdate(ctx, h, n) && EVP_DigestUpdate(ctx, t, len);
        }
        default:
            h[0] = 'n';
            n = 1;
    }
    return EVP_DigestUpdate(ctx, h, n);
}

int m2m__digest_row(void *arg, m2m__cursor *row) {
    m2m__digest *d = arg;
    m2m_db *db = d->db;
    const m2m__driver *drv = db->drv;
    m2m__digest_state *s = state(db);
    if (!s || m2m__grow((void **)&s->rows, &s->cap, d->count + 1, ROW_LEN))
        return oom(db);
    int n = drv->stmt.cursor_ncols(row);
    unsigned char h[8];
    put_u64(h, (uint64_t)n);
    int ok = EVP_DigestInit_ex2(s->ctx, s->md, NULL) && EVP_DigestUpdate(s->ctx, h, 8);
    for (int i = 0; ok && i < n; i++)
        ok = feed_value(s->ctx, drv->stmt.cursor_value(row, i));
    if (!ok || !EVP_DigestFinal_ex(s->ctx, s->rows + d->count * ROW_LEN, NULL))
        return oom(db);
    d->count++;
    return M2M_OK;
}

static int cmp_row(const void *a, const void *b) { return memcmp(a, b, ROW_LEN); }

/* The digest of the sorted row digests: the same set in any order gives
 * the same bytes, and a collision of sets is one of SHA-256. */
int m2m__digest_hex(const m2m__digest *d, char out[M2M_VERSION_LEN]) {
    static const char tag[] = "m2m set v1";
    m2m_db *db = d->db;
    m2m__digest_state *s = state(db);
    unsigned char h[8], md[ROW_LEN];
    out[0] = '\0';
    if (!s)
        return oom(db);
    if (d->count > 1)
        m2m__sort(s->rows, d->count, ROW_LEN, cmp_row);
    put_u64(h, d->count);
    int ok = EVP_DigestInit_ex2(s->ctx, s->md, NULL) &&
             EVP_DigestUpdate(s->ctx, tag, sizeof tag) &&
             EVP_DigestUpdate(s->ctx, h, 8) &&
             (!d->count || EVP_DigestUpdate(s->ctx, s->rows, d->count * ROW_LEN)) &&
             EVP_DigestFinal_ex(s->ctx, md, NULL);
    /* A huge set's digests are not worth keeping for the next version. */
    if (s->cap > 65536) {
        m2m__free(s->rows);
        s->rows = NULL;
        s->cap = 0;
    }
    if (!ok)
        return oom(db);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < ROW_LEN; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * ROW_LEN] = '\0';
    return M2M_OK;
}

int m2m__sha256(const void *p, size_t n, unsigned char out[32]) {
    return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) ? M2M_OK : M2M_NOMEM;
}
