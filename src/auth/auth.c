/* SPDX-License-Identifier: MIT */
/* JWT sessions: verify a token with libjwt and keep its claims on the handle,
 * so that the core can hand them to PostgreSQL at the start of every
 * transaction (set_config('request.jwt.claims', ...) and the role), the way
 * PostgREST and Supabase do. Only built with libpq.
 *
 * Token rules (docs/jwt.md): at most M2M__JWT_MAX bytes; three base64url
 * segments; header alg HS256 or RS256 and only an algorithm whose key is
 * configured ("none" never); signature checked by libjwt with the key of that
 * algorithm only; exp required and in the future; nbf, when present, not in
 * the future; sub a non-empty string. The leeway widens both time checks,
 * which every operation of the session repeats (m2m__auth_live).
 *
 * The session must not bypass row-level security: the login role (the
 * connection's session_user) may not be a superuser or have BYPASSRLS, and
 * the role the session switches to must exist, be one the login may switch
 * to, and bypass nothing either. */
#include "core/txn.h"

#include <jansson.h>
#include <jwt.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum {
    /* Tokens are refused above this size before any decoding, so a
     * hostile one costs little; far above real claims. Unmeasured. */
    M2M__JWT_MAX = 8192,
    /* The output size of SHA-256, as RFC 7518 asks (PostgREST's minimum). */
    M2M__HS256_MIN = 32,
    /* Clock skew allowed at most: a day. A bound on a setting, unmeasured. */
    M2M__LEEWAY_MAX = 86400,
};

#define DEFAULT_ROLE "authenticated"

void m2m_auth_clear(m2m_db *db) {
    if (!db)
        return;
    m2m__free(db->auth_claims);
    m2m__free(db->auth_role);
    m2m__free(db->auth_sub);
    db->auth_claims = NULL;
    db->auth_role = NULL;
    db->auth_sub = NULL;
    db->auth_exp = db->auth_nbf = 0;
    db->auth_leeway = 0;
}

/* t (seconds since the epoch) as UTC ISO 8601, or as a number when out of
 * the range gmtime_r handles. */
static void utc_text(double t, char *buf, size_t n) {
    struct tm tm;
    time_t tt = t >= 0 && t <= 253402300799.0 ? (time_t)t : -1; /* to 9999 */
    if (tt < 0 || !gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "%.0f", t);
}

/* The time checks of a token, at now: M2M_OK or M2M_DENIED with a message. */
static int check_times(m2m_db *db, double exp, double nbf, double leeway,
                       const char *what, const char *tail) {
    double now = (double)time(NULL);
    char when[32];
    if (exp <= now - leeway) {
        utc_text(exp, when, sizeof when);
        return m2m__set_error(db, M2M_DENIED, "jwt: %s expired at %s (%.0f s ago)%s",
                              what, when, now - exp, tail);
    }
    if (nbf > now + leeway) {
        utc_text(nbf, when, sizeof when);
        return m2m__set_error(db, M2M_DENIED,
                              "jwt: %s not valid yet (nbf is in the future: %s)%s", what,
                              when, tail);
    }
    return M2M_OK;
}

int m2m__auth_live(m2m_db *db) {
    if (!db->auth_claims)
        return M2M_OK;
    return check_times(db, db->auth_exp, db->auth_nbf, (double)db->auth_leeway,
                       "the session's token",
                       "; nothing was sent: authenticate again with m2m_auth_jwt()");
}

const char *m2m_auth_sub(m2m_db *db) { return db ? db->auth_sub : NULL; }

static bool b64url_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

static int b64url_val(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : 63;
}

/* Decode n base64url characters (no padding, already checked to be in the
 * alphabet) into a new buffer; *outlen gets its length. NULL when n is not a
 * possible length or on out of memory (*oom set). */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *outlen, bool *oom) {
    if (n % 4 == 1)
        return NULL;
    unsigned char *out = m2m__malloc(n / 4 * 3 + 3);
    if (!out) {
        *oom = true;
        return NULL;
    }
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 6) | (uint32_t)b64url_val(s[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xFF);
        }
    }
    *outlen = o;
    return out;
}

/* Parse one base64url segment as a JSON object; duplicate keys are refused
 * so that no two parsers can read different values from one token. */
static json_t *segment_object(const char *s, size_t n, bool *oom) {
    size_t len = 0;
    unsigned char *raw = b64url_decode(s, n, &len, oom);
    if (!raw)
        return NULL;
    json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
    m2m__free(raw);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* The claims of a verified token, checked; the session strings are built
 * into the three out pointers (new). */
static int check_claims(m2m_db *db, jwt_t *jwt, const m2m_jwt_config *cfg, char **claims,
                        char **role, char **sub, const char **role_from, double *exp_at,
                        double *nbf_at) {
    int rc = M2M_OK;
    char *grants = jwt_get_grants_json(jwt, NULL);
    json_t *root = grants ? json_loads(grants, 0, NULL) : NULL;
    free(grants);
    if (!root || !json_is_object(root)) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: the payload is not a JSON object");
        goto out;
    }
    json_t *exp = json_object_get(root, "exp");
    json_t *nbf = json_object_get(root, "nbf");
    json_t *jsub = json_object_get(root, "sub");
    if (!exp) {
        rc =
            m2m__set_error(db, M2M_DENIED, "jwt: missing exp claim (tokens must expire)");
        goto out;
    }
    if (!json_is_number(exp)) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: exp claim is not a number");
        goto out;
    }
    if (nbf && !json_is_number(nbf)) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: nbf claim is not a number");
        goto out;
    }
    *exp_at = json_number_value(exp);
    *nbf_at = nbf ? json_number_value(nbf) : 0;
    if ((rc = check_times(db, *exp_at, *nbf_at, (double)cfg->leeway, "token", "")))
        goto out;
    if (!jsub) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: missing sub claim");
        goto out;
    }
    if (!json_is_string(jsub)) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: sub claim is not a string");
        goto out;
    }
    const char *s = json_string_value(jsub);
    if (*s == '\0' || strlen(s) != json_string_length(jsub)) {
        rc = m2m__set_error(db, M2M_DENIED,
                            "jwt: sub claim is empty or holds a NUL character");
        goto out;
    }
    /* A "role" claim chooses the database role, as in PostgREST; one that
     * is not a plain identifier is ignored in favour of the configured one. */
    json_t *jrole = json_object_get(root, "role");
    const char *r = cfg->role ? cfg->role : DEFAULT_ROLE;
    *role_from = cfg->role ? "cfg.role" : "the default role";
    if (json_is_string(jrole) && m2m__ident_ok(json_string_value(jrole), false)) {
        r = json_string_value(jrole);
        *role_from = "the token's role claim";
    }
    char *compact = json_dumps(root, JSON_COMPACT);
    *claims = compact ? m2m__strdup(compact) : NULL;
    free(compact);
    *role = m2m__strdup(r);
    *sub = m2m__strdup(s);
    if (!*claims || !*role || !*sub)
        rc = m2m__set_error(db, M2M_NOMEM, "jwt: out of memory");
out:
    json_decref(root);
    return rc;
}

/* Refuse a session that would bypass row-level security: see the top of
 * the file. One catalog query, as the connection is now. */
static int check_roles(m2m_db *db, const char *role, const char *from) {
    if (strcmp(role, "none") == 0)
        return m2m__set_error(db, M2M_DENIED,
                              "jwt: role \"none\" (%s) is refused: it would act as the "
                              "login role itself",
                              from);
    m2m_value p = M2M_TEXT(role);
    m2m_rows *rows = NULL;
    /* PostgreSQL 16 lets a member be refused SET ROLE: ask for SET there. */
    int rc = m2m_sql(
        db,
        "SELECT l.rolname::text, l.rolsuper, l.rolbypassrls, r.oid IS NOT NULL,"
        " coalesce(r.rolsuper, false), coalesce(r.rolbypassrls, false),"
        " coalesce(pg_catalog.pg_has_role(session_user, r.oid,"
        "  CASE WHEN current_setting('server_version_num')::int >= 160000"
        "  THEN 'SET' ELSE 'MEMBER' END), false)"
        " FROM pg_catalog.pg_roles l LEFT JOIN pg_catalog.pg_roles r ON r.rolname = $1"
        " WHERE l.rolname = session_user",
        &p, 1, &rows);
    if (rc == M2M_OK && (rc = m2m_rows_next(rows)) == M2M_DONE)
        rc = m2m__set_error(db, M2M_ERROR, "jwt: the login role is not in pg_roles");
    if (rc != M2M_ROW) {
        m2m_rows_free(rows);
        return rc;
    }
    char login[64];
    m2m_value v = m2m_rows_value(rows, 0);
    snprintf(login, sizeof login, "%s", v.type == M2M_TTEXT ? v.s : "?");
    bool f[6];
    for (int i = 0; i < 6; i++) {
        v = m2m_rows_value(rows, i + 1);
        f[i] = v.type == M2M_TINT && v.i != 0;
    }
    m2m_rows_free(rows);
    const char *bypass = "bypasses row-level security";
    if (f[0] || f[1])
        return m2m__set_error(
            db, M2M_DENIED,
            "jwt: the login role \"%s\" %s, which %s: JWT sessions need a login "
            "without SUPERUSER and BYPASSRLS",
            login, f[0] ? "is a superuser" : "has BYPASSRLS", bypass);
    if (!f[2])
        return m2m__set_error(db, M2M_DENIED, "jwt: role \"%s\" (%s) does not exist",
                              role, from);
    if (f[3] || f[4])
        return m2m__set_error(db, M2M_DENIED, "jwt: role \"%s\" (%s) %s, which %s", role,
                              from, f[3] ? "is a superuser" : "has BYPASSRLS", bypass);
    if (!f[5])
        return m2m__set_error(db, M2M_DENIED,
                              "jwt: the login role \"%s\" cannot switch to role \"%s\" "
                              "(%s): it is not a member (GRANT \"%s\" TO \"%s\")",
                              login, role, from, role, login);
    return M2M_OK;
}

static int check_config(m2m_db *db, const m2m_jwt_config *cfg) {
    if (cfg->version != 0)
        return m2m__set_error(db, M2M_INVALID, "jwt: unknown config version %d",
                              cfg->version);
    if (!cfg->hs256_secret && !cfg->rs256_public_pem)
        return m2m__set_error(
            db, M2M_INVALID, "jwt: no key configured (hs256_secret or rs256_public_pem)");
    if (cfg->hs256_secret &&
        (cfg->hs256_secret_len < M2M__HS256_MIN || cfg->hs256_secret_len > INT_MAX))
        return m2m__set_error(db, M2M_INVALID,
                              "jwt: hs256_secret must be at least %d bytes",
                              (int)M2M__HS256_MIN);
    if (cfg->rs256_public_pem &&
        (!*cfg->rs256_public_pem || strlen(cfg->rs256_public_pem) > INT_MAX))
        return m2m__set_error(db, M2M_INVALID, "jwt: rs256_public_pem is empty");
    if (cfg->role && !m2m__ident_ok(cfg->role, false))
        return m2m__set_error(db, M2M_INVALID,
                              "jwt: role must match [A-Za-z_][A-Za-z0-9_]*");
    if (cfg->leeway < 0 || cfg->leeway > M2M__LEEWAY_MAX)
        return m2m__set_error(db, M2M_INVALID, "jwt: leeway must be 0..%d seconds",
                              (int)M2M__LEEWAY_MAX);
    return M2M_OK;
}

int m2m_auth_jwt(m2m_db *db, const char *token, const m2m_jwt_config *cfg) {
    if (!db)
        return M2M_MISUSE;
    m2m_auth_clear(db);
    if (db->drv && !db->drv->info->caps.rls) {
        bool built;
        const m2m__backend *with = m2m__rls_backend(&built);
        return m2m__set_error(db, M2M_NOTSUP,
                              "jwt: JWT-bound sessions need row-level security, which "
                              "%s does not have%s%s%s",
                              db->drv->info->label, with ? " (" : "",
                              with ? with->label : "", with ? " has it)" : "");
    }
    if (!token)
        return m2m__set_error(db, M2M_INVALID, "jwt: token is NULL");
    if (!cfg)
        return m2m__set_error(db, M2M_INVALID, "jwt: config is NULL");
    int rc = check_config(db, cfg);
    if (rc != M2M_OK)
        return rc;

    /* Shape first, before any parsing: bounded size, three segments of the
     * base64url alphabet. */
    size_t len = strnlen(token, M2M__JWT_MAX + 1);
    if (len > M2M__JWT_MAX)
        return m2m__set_error(db, M2M_DENIED, "jwt: token longer than %d bytes",
                              (int)M2M__JWT_MAX);
    const char *dot[2] = {NULL, NULL};
    int ndots = 0;
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (ndots == 2)
                return m2m__set_error(db, M2M_DENIED,
                                      "jwt: malformed token (more than three segments)");
            dot[ndots++] = token + i;
        } else if (!b64url_char(token[i])) {
            return m2m__set_error(db, M2M_DENIED, "jwt: malformed token (not base64url)");
        }
    }
    if (ndots != 2)
        return m2m__set_error(db, M2M_DENIED,
                              "jwt: malformed token (expected header.payload.signature)");

    bool oom = false;
    json_t *header = segment_object(token, (size_t)(dot[0] - token), &oom);
    json_t *payload = NULL;
    jwt_t *jwt = NULL;
    char *claims = NULL, *role = NULL, *sub = NULL;
    if (!header) {
        rc = oom ? m2m__set_error(db, M2M_NOMEM, "jwt: out of memory")
                 : m2m__set_error(db, M2M_DENIED,
                                  "jwt: malformed token (header is not a JSON object)");
        goto out;
    }
    payload = segment_object(dot[0] + 1, (size_t)(dot[1] - dot[0] - 1), &oom);
    if (!payload) {
        rc = oom ? m2m__set_error(db, M2M_NOMEM, "jwt: out of memory")
                 : m2m__set_error(db, M2M_DENIED,
                                  "jwt: malformed token (payload is not a JSON object)");
        goto out;
    }
    /* We understand no extension, so a critical one must be refused. */
    if (json_object_get(header, "crit")) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: unsupported crit header");
        goto out;
    }
    const char *alg = json_string_value(json_object_get(header, "alg"));
    if (!alg) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: malformed token (no alg in header)");
        goto out;
    }
    /* Each key is used only with its own algorithm: the RSA public key is
     * never an HMAC secret, whatever the header says. */
    jwt_alg_t want;
    const unsigned char *key;
    int key_len;
    if (strcmp(alg, "HS256") == 0 && cfg->hs256_secret) {
        want = JWT_ALG_HS256;
        key = cfg->hs256_secret;
        key_len = (int)cfg->hs256_secret_len;
    } else if (strcmp(alg, "RS256") == 0 && cfg->rs256_public_pem) {
        want = JWT_ALG_RS256;
        key = (const unsigned char *)cfg->rs256_public_pem;
        key_len = (int)strlen(cfg->rs256_public_pem);
    } else if (strcasecmp(alg, "none") == 0) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: algorithm none is not accepted");
        goto out;
    } else {
        /* The header is unverified input: show a bounded, printable copy. */
        char shown[17], accepted[16];
        size_t i = 0;
        for (; alg[i] && i < sizeof shown - 1; i++)
            shown[i] = alg[i] > ' ' && alg[i] < 0x7f ? alg[i] : '?';
        shown[i] = '\0';
        snprintf(accepted, sizeof accepted, "%s%s%s", cfg->hs256_secret ? "HS256" : "",
                 cfg->hs256_secret && cfg->rs256_public_pem ? ", " : "",
                 cfg->rs256_public_pem ? "RS256" : "");
        rc = m2m__set_error(db, M2M_DENIED, "jwt: algorithm %s is not accepted (only %s)",
                            shown, accepted);
        goto out;
    }
    if (dot[1][1] == '\0') {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: %s token without a signature", alg);
        goto out;
    }
    if (jwt_decode(&jwt, token, key, key_len) != 0 || !jwt) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: bad signature (%s)", alg);
        goto out;
    }
    if (jwt_get_alg(jwt) != want) {
        rc = m2m__set_error(db, M2M_DENIED, "jwt: algorithm mismatch after decoding (%s)",
                            alg);
        goto out;
    }
    const char *role_from = NULL;
    double exp_at = 0, nbf_at = 0;
    rc = check_claims(db, jwt, cfg, &claims, &role, &sub, &role_from, &exp_at, &nbf_at);
    if (rc != M2M_OK || (rc = check_roles(db, role, role_from)) != M2M_OK)
        goto out;
    db->auth_claims = claims;
    db->auth_role = role;
    db->auth_sub = sub;
    db->auth_exp = exp_at;
    db->auth_nbf = nbf_at;
    db->auth_leeway = cfg->leeway;
    claims = role = sub = NULL;
    m2m__clear_error(db);
out:
    m2m__free(claims);
    m2m__free(role);
    m2m__free(sub);
    jwt_free(jwt);
    json_decref(payload);
    json_decref(header);
    return rc;
}
