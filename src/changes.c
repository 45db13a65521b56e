/* Change reports and set digests (versions). */
#include "input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

m2m__report *m2m__report_new(int op, m2m_value parent) {
    m2m__report *r = m2m__calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->ch.op = op;
    if (m2m__value_copy(&r->ch.parent, parent)) {
        m2m__free(r);
        return NULL;
    }
    return r;
}

void m2m_changes_free(m2m_changes *ch) {
    if (!ch)
        return;
    m2m_value *lists[] = {ch->attached, ch->detached, ch->updated};
    size_t counts[] = {ch->nattached, ch->ndetached, ch->nupdated};
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; i < counts[l]; i++)
            m2m__value_clear(&lists[l][i]);
        m2m__free(lists[l]);
    }
    m2m__value_clear(&ch->parent);
    m2m__free(ch);
}

int m2m__collect_row(void *arg, m2m__cursor *row) {
    m2m__collect *c = arg;
    m2m_changes *ch = &c->rep->ch;
    m2m_value **list[] = {&ch->attached, &ch->detached, &ch->updated};
    size_t *count[] = {&ch->nattached, &ch->ndetached, &ch->nupdated};
    int l = c->list, col = 0;
    if (l == M2M__TAGGED) {
        m2m_value tag = c->db->drv->cursor_value(row, 0);
        l = tag.type == M2M_TINT ? (int)tag.i : tag.type == M2M_TTEXT ? atoi(tag.s) : -1;
        if (l != M2M__ATTACHED && l != M2M__DETACHED)
            return m2m__set_error(c->db, M2M_ERROR, "internal: bad report row");
        col = 1;
    }
    m2m_value v = c->db->drv->cursor_value(row, col);
    if (m2m__grow((void **)list[l], &c->rep->cap[l], *count[l] + 1, sizeof(m2m_value)) ||
        m2m__value_copy(&(*list[l])[*count[l]], v))
        return m2m__set_error(c->db, M2M_NOMEM, "out of memory collecting the report");
    (*count[l])++;
    return M2M_OK;
}

int m2m__int_row(void *arg, m2m__cursor *row) {
    m2m__intval *c = arg;
    m2m_value v = c->db->drv->cursor_value(row, 0);
    c->v = v.type == M2M_TINT    ? v.i
           : v.type == M2M_TTEXT ? (int64_t)strtoll(v.s, NULL, 10)
                                 : 0;
    c->seen = true;
    return M2M_OK;
}

/* Each row hashes to 64 bits; the sum of the hashes does not depend on the
 * order rows come in. Values hash by their text, so both backends agree. */
int m2m__digest_row(void *arg, m2m__cursor *row) {
    m2m__digest *d = arg;
    const m2m__driver *drv = d->db->drv;
    int n = drv->cursor_ncols(row);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < n; i++) {
        char buf[40];
        m2m_value v = drv->cursor_value(row, i);
        const char *t = v.type == M2M_TNULL ? "\x01" : m2m_value_text(v, buf, sizeof buf);
        for (const unsigned char *p = (const unsigned char *)t; *p; p++)
            h = (h ^ *p) * 0x100000001b3ULL;
        h = (h ^ 0x1f) * 0x100000001b3ULL;
    }
    /* Finalize (splitmix64) so that sums of similar rows do not cancel. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    d->sum += h;
    d->count++;
    return M2M_OK;
}

void m2m__digest_hex(const m2m__digest *d, char out[M2M_VERSION_LEN]) {
    uint64_t v = d->sum ^ (d->count * 0x9e3779b97f4a7c15ULL);
    snprintf(out, M2M_VERSION_LEN, "%016llx", (unsigned long long)v);
}

m2m__report *m2m__report_copy(const m2m__report *src) {
    m2m__report *r = m2m__report_new(src->ch.op, src->ch.parent);
    if (!r)
        return NULL;
    memcpy(r->ch.version, src->ch.version, sizeof r->ch.version);
    const m2m_value *from[] = {src->ch.attached, src->ch.detached, src->ch.updated};
    size_t counts[] = {src->ch.nattached, src->ch.ndetached, src->ch.nupdated};
    m2m_value **to[] = {&r->ch.attached, &r->ch.detached, &r->ch.updated};
    size_t *nto[] = {&r->ch.nattached, &r->ch.ndetached, &r->ch.nupdated};
    for (int l = 0; l < 3; l++) {
        if (!counts[l])
            continue;
        if (!(*to[l] = m2m__calloc(counts[l], sizeof(m2m_value))))
            goto oom;
        r->cap[l] = counts[l];
        for (size_t i = 0; i < counts[l]; i++, (*nto[l])++)
            if (m2m__value_copy(&(*to[l])[i], from[l][i]))
                goto oom;
    }
    return r;
oom:
    m2m_changes_free(&r->ch);
    return NULL;
}
