/* SPDX-License-Identifier: MIT */
/* The registry: the only place that lists the backends, and the only place
 * that knows which drivers this build holds. A new backend is a folder of
 * its own (drivers/<name>/: info.c always compiled, the driver when built
 * in) and one line below. */
#include "core/db.h"

#include <string.h>

extern const m2m__backend m2m__sqlite_backend;
extern const m2m__driver m2m__sqlite_driver;
extern const m2m__backend m2m__pg_backend;
#ifdef M2M_HAVE_PG
extern const m2m__driver m2m__pg_driver;
#define M2M__PG_DRIVER (&m2m__pg_driver)
#else
#define M2M__PG_DRIVER NULL
#endif

extern const m2m__backend m2m__mariadb_backend;
#ifdef M2M_HAVE_MARIADB
extern const m2m__driver m2m__mariadb_driver;
#define M2M__MARIADB_DRIVER (&m2m__mariadb_driver)
#else
#define M2M__MARIADB_DRIVER NULL
#endif

/* In the order URLs are matched and messages list them; drv NULL: known,
 * but not built in. */
static const struct {
    const m2m__backend *info;
    const m2m__driver *drv;
} backends[] = {
    {&m2m__sqlite_backend, &m2m__sqlite_driver},
    {&m2m__pg_backend, M2M__PG_DRIVER},
    {&m2m__mariadb_backend, M2M__MARIADB_DRIVER},
};
enum { NBACKENDS = sizeof backends / sizeof backends[0] };

/* The length of url's scheme ("mysql" of "mysql://h/d"), 0 if it has none. */
static size_t scheme_len(const char *url) {
    size_t n = 0;
    if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
        return 0;
    while ((url[n] >= 'a' && url[n] <= 'z') || (url[n] >= 'A' && url[n] <= 'Z') ||
           (url[n] >= '0' && url[n] <= '9') || url[n] == '+' || url[n] == '-' ||
           url[n] == '.')
        n++;
    return url[n] == ':' ? n : 0;
}

/* "m2m opens A, B" for messages; *file: the first backend that opens files. */
static void known_urls(m2m__buf *b, const m2m__backend **file) {
    *file = NULL;
    for (size_t i = 0; i < NBACKENDS; i++) {
        m2m__buf_add(b, i ? ", " : "");
        m2m__buf_add(b, backends[i].info->urls);
        if (!*file && backends[i].info->file_prefix)
            *file = backends[i].info;
    }
}

/* The text after a scheme may hold a password: messages name the scheme
 * only, or the path of a URL without one. */
static int bad_url(m2m_db *db, const char *url) {
    m2m__buf b = {0};
    const m2m__backend *file;
    known_urls(&b, &file);
    const char *urls = b.p && !b.oom ? b.p : "";
    size_t n = scheme_len(url);
    int rc;
    if (!*url)
        rc = m2m__set_error(db, M2M_INVALID, "empty database URL: m2m opens %s", urls);
    else if (n)
        rc = m2m__set_error(db, M2M_INVALID,
                            "unknown database URL scheme '%.*s:': m2m opens %s",
                            (int)(n < 40 ? n : 40), url, urls);
    else if (file)
        rc = m2m__set_error(db, M2M_INVALID,
                            "'%.200s' is not a database URL: for a %s file write "
                            "'%s%.200s'; m2m opens %s",
                            url, file->label, file->file_prefix, url, urls);
    else
        rc = m2m__set_error(db, M2M_INVALID,
                            "'%.200s' is not a database URL: m2m opens %s", url, urls);
    m2m__buf_free(&b);
    return rc;
}

int m2m__driver_for(m2m_db *db, const char *url, const m2m__driver **out) {
    *out = NULL;
    for (size_t i = 0; i < NBACKENDS; i++) {
        const m2m__backend *info = backends[i].info;
        if (!info->claims(url))
            continue;
        const m2m__driver *drv = backends[i].drv;
        if (!drv)
            return m2m__set_error(db, M2M_NOTSUP,
                                  "a %s URL, but this m2m is built without the %s "
                                  "backend (%s, %s)",
                                  info->label, info->label, info->option, info->library);
        if (drv->version != M2M__DRIVER_VERSION || drv->info != info)
            return m2m__set_error(db, M2M_ERROR,
                                  "internal: the %s driver implements interface %d, "
                                  "not %d",
                                  info->label, drv->version, (int)M2M__DRIVER_VERSION);
        *out = drv;
        return M2M_OK;
    }
    return bad_url(db, url);
}

const m2m__backend *m2m__rls_backend(bool *built) {
    for (size_t i = 0; i < NBACKENDS; i++)
        if (backends[i].info->caps.rls) {
            *built = backends[i].drv != NULL;
            return backends[i].info;
        }
    *built = false;
    return NULL;
}
