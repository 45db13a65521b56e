/* SPDX-License-Identifier: MIT */
/* Result codes, their names and messages, and the one error funnel. */
#include "core/db.h"

#include <stdio.h>

/* Messages are cut at this length: they name a few identifiers (at most 63
 * bytes each), values and the backend's own message. Unmeasured. */
enum { ERRMSG_MAX = 1024 };

const char *m2m_libversion(void) { return M2M_VERSION; }
int m2m_libversion_number(void) { return M2M_VERSION_NUMBER; }

const char *m2m_errstr(int rc) {
    switch (rc) {
#define XX(name, code, msg)                                                              \
    case code:                                                                           \
        return msg;
        M2M_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown result code";
}

const char *m2m_errname(int rc) {
    switch (rc) {
#define XX(name, code, msg)                                                              \
    case code:                                                                           \
        return "M2M_" #name;
        M2M_ERRNO_MAP(XX)
#undef XX
    }
    return "M2M_UNKNOWN";
}

int m2m__set_error(m2m_db *db, int rc, const char *fmt, ...) {
    if (!db)
        return rc;
    db->errcode = rc;
    m2m__buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    char tmp[ERRMSG_MAX];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    m2m__buf_add(&b, tmp);
    char *msg = m2m__buf_take(&b);
    m2m__free(db->errmsg);
    /* Out of memory while reporting: the static text still says what. */
    db->errmsg = msg;
    return rc;
}

void m2m__clear_error(m2m_db *db) {
    if (!db)
        return;
    db->errcode = M2M_OK;
    m2m__free(db->errmsg);
    db->errmsg = NULL;
}

m2m__saved_error m2m__error_save(m2m_db *db) {
    m2m__saved_error s = {db->errcode, db->errmsg};
    db->errmsg = NULL;
    return s;
}

void m2m__error_restore(m2m_db *db, m2m__saved_error *s) {
    m2m__free(db->errmsg);
    db->errmsg = s->msg;
    db->errcode = s->code;
    s->msg = NULL;
}

void m2m__error_drop(m2m__saved_error *s) {
    m2m__free(s->msg);
    s->msg = NULL;
}

int m2m_errcode(m2m_db *db) { return db ? db->errcode : M2M_MISUSE; }

const char *m2m_errmsg(m2m_db *db) {
    if (!db)
        return "NULL database handle";
    if (db->errmsg)
        return db->errmsg;
    return m2m_errstr(db->errcode);
}
