/* SPDX-License-Identifier: MIT */
/* In a SQLite-only build, PostgreSQL URLs and JWT sessions say what is
 * missing (M2M_NOTSUP) instead of failing in some other way. */
#include <m2m.h>

#include <stdio.h>
#include <string.h>

static int expect(int rc, int want, m2m_db *db, const char *needle, const char *what) {
    const char *msg = db ? m2m_errmsg(db) : "";
    if (rc == want && db && m2m_errcode(db) == want && strstr(msg, needle))
        return 1;
    fprintf(stderr, "notsup: %s: %s (%s), expected %s naming '%s'\n", what,
            m2m_errname(rc), msg, m2m_errname(want), needle);
    return 0;
}

int main(void) {
    m2m_db *db = NULL;
    int rc = m2m_open("postgresql://app@127.0.0.1/app", &db);
    int ok = expect(rc, M2M_NOTSUP, db, "PostgreSQL backend", "postgresql:// URL");
    m2m_close(db);
    rc = m2m_open("host=/tmp dbname=app", &db);
    ok &= expect(rc, M2M_NOTSUP, db, "PostgreSQL", "libpq key=value string");
    m2m_close(db);
    db = NULL;
    if (m2m_open("sqlite::memory:", &db) != M2M_OK) {
        fprintf(stderr, "notsup: sqlite::memory: did not open: %s\n", m2m_errmsg(db));
        return 1;
    }
    m2m_jwt_config cfg = {0};
    rc = m2m_auth_jwt(db, "a.b.c", &cfg);
    ok &= expect(rc, M2M_NOTSUP, db, "JWT", "m2m_auth_jwt");
    m2m_close(db);
    if (ok)
        printf("notsup ok\n");
    return ok ? 0 : 1;
}
