/* SPDX-License-Identifier: MIT */
/* Built only without JWT sessions (libjwt): the calls exist but say so. */
#include "core/db.h"

int m2m_auth_jwt(m2m_db *db, const char *token, const m2m_jwt_config *cfg) {
    (void)token;
    (void)cfg;
    return db ? m2m__set_error(db, M2M_NOTSUP,
                               "m2m_auth_jwt: this m2m is built without JWT support "
                               "(M2M_WITH_JWT, libjwt)")
              : M2M_MISUSE;
}

void m2m_auth_clear(m2m_db *db) { (void)db; }

/* Without JWT there is never a session to expire. */
int m2m__auth_live(m2m_db *db) {
    (void)db;
    return M2M_OK;
}

const char *m2m_auth_sub(m2m_db *db) {
    (void)db;
    return NULL;
}
