/* Built only without libpq: the JWT calls exist but say so. */
#include "internal.h"

int m2m_auth_jwt(m2m_db *db, const char *token, const m2m_jwt_config *cfg) {
    (void)token;
    (void)cfg;
    return db ? m2m__set_error(db, M2M_NOTSUP, "built without PostgreSQL support")
              : M2M_MISUSE;
}

void m2m_auth_clear(m2m_db *db) { (void)db; }

int m2m__auth_live(m2m_db *db) {
    (void)db;
    return M2M_OK;
}

const char *m2m_auth_sub(m2m_db *db) {
    (void)db;
    return NULL;
}

int m2m_rls_install(m2m_relation *rel, const char *role) {
    (void)role;
    return rel ? m2m__set_error(m2m_relation_db(rel), M2M_NOTSUP,
                                "built without PostgreSQL support")
               : M2M_MISUSE;
}
