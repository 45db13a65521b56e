/* SPDX-License-Identifier: MIT */
/* JWT-bound relations on PostgreSQL: token verification (m2m_auth_jwt), the
 * row-level security installed by m2m_rls_install, and what a user may and
 * may not do to the pivot rows of others. Scenario: rooms 1/2, users 7/8/9 and
 * room_members(room_id, user_id, role) with owner column user_id.
 *
 * The test connection (t_db) is a superuser, which bypasses RLS: it seeds the
 * schema and witnesses the database state. The user works on a second
 * connection, logged in as an unprivileged per-test role (LOGIN NOINHERIT,
 * granted the NOLOGIN role its JWT session switches to), as an application
 * would; m2m refuses JWT sessions on a superuser login. JWT sessions exist
 * on PostgreSQL only: every test here but one is TEST_ONLY(pg, ...); that one
 * checks the other backends refuse them. */
#include "fixtures.h"

#ifdef M2M_HAVE_JWT

#include <jwt.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const unsigned char SECRET[] = "m2m-test-secret-0123456789abcdef-0123";
#define SECRET_LEN (sizeof SECRET - 1)
static const unsigned char OTHER_SECRET[] = "another-secret-of-thirty-two-bytes-or-more";

/* A throwaway RSA key pair, for the RS256 tests only. */
static const char RSA_PRIVATE[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCpeECP/nUOFYRA\n"
    "RGhe5UT6wIo4WbRSHyHUs0p9Bf9XrcHJYojuE4SG4TmcoAI9OnDJuCRpPvNr9wkU\n"
    "7epKvYYRhnfb/vHvVWxJ3HJNafOv4q1MvXsYv53pHBYHAKXEJBF39evWF41ZbLak\n"
    "K67vc9JB8PMxyb4+lxMYWHzflHyCOZQkMmHEkCxiM8UuoFW3lIpuC/dOk/lBqZGw\n"
    "5J1B5B/eDsZycvsy947JidYyblpyaa/ftE2v53NKG3I5DPmipYRJypDjLU5SgLBt\n"
    "OGQco+Mfgx9JgaN9r6NHnBwqDx2a4MDSycIo62Kq7d+Kz7eUXIMskQkYaM941q6h\n"
    "vgFZnXOzAgMBAAECggEAFS66ZdqOHQ2OyKMEUgrhnV91p2d8WjYZT3HS91+e3qxm\n"
    "/YS7ItmpBgb0NuHqhbwJSbLM8k7JCboIwOdKvWmFGX8E+lLv61THwqUIWyl0KTbx\n"
    "0cFut9WI/RCNUaDAwjcpQST/A8qmg1f1rag8JyKt/vS0ITQF+zgnozJkTA9OT3nY\n"
    "3cPIpi5PnWNlr4wV1hkPsOYxrDjxNPcyyk/L3T+NvmTPS2bNynYA96x+0/ftJEMV\n"
    "Y0f8KMOLKli6qJ5SL9pkW9JnJ2djc721T4lYTdxNR8WEMRx4+d4yClYtFaLC1tNv\n"
    "S4nUIEHOS9501kMbLXejWYWSLx4wWMEDLKCJC3bQKQKBgQDXhnq7yCwJnq1/rRAL\n"
    "V5LylbhS1HbYwTv/K4HNCZiYFphH1ISEaHqoW+vKDwMRJ6lD96SQzR8wAHLTc0nK\n"
    "zu1JzTea5W342WbwH0+SdELmo1N1VrVgoFnsewX5IZCGKLMADB+HnogHc3HzZXmg\n"
    "or7OjpUH1R7gqzTKfa0jz3oHHQKBgQDJS57tFWoMdbKytc//+G6qq4FttjYqqUVs\n"
    "DjzhFXJ9lRw1gNAKRJJ7Ob8jIp0+Q8vhfl5SLljCsTKK1XDXhsAg3+3nIc4JcfBk\n"
    "yv+LK1WAkk7akPNCkpuQQphNBRp1RSBtAKyClR6uEvLaZ2c7mr5Ga47Hz9hp519J\n"
    "WqvBxy/dDwKBgQCevADxBMDKZP/LpR7H+7vSxsp21tyhT9BsYxK6fHLSsPF/Fdpz\n"
    "2q9cCDdlHiFYJSnZUS73JtvtcqcfbS3QHQ9O58IoZwnT2eqit6zXZKFRVMFHDpGP\n"
    "lQolzYXcswfKh3cudb9TF0OAmVo3tWkbEkINx52joyeWuQGskVtPoKNzUQKBgEBI\n"
    "bwNlgE1kVOHvX/JtouHMDXQ86UVscygTz+tNjxd9w9luPoHY7jJ9+YU965tTyUtE\n"
    "sNhrxpq+PdbKXNPnS3n0KSRTzlmD0nJNxZfrCc4aayYvfg/3g8hpC/wkshNbNQS6\n"
    "X10ARCDxGi8XMId/Xl5cwOccgA8p/WsOkqU6eBWPAoGAJzmwDsyJgW1NCbZjXR7s\n"
    "MwCxu+pNG8v2WD0i50JHJWMU4Gyl4o/3iORpyKqDUJ5f5HJcBQqqt3W6qpTzv5yV\n"
    "kqL9Au5tOIVPuc/aFxcN8zXn+8ZfUOLTYLXapMPjBi+sz8P5sIp7YBfoUu+aD6e8\n"
    "4MimmIo3P5pRuP/oaS4qgls=\n"
    "-----END PRIVATE KEY-----\n";
static const char RSA_PUBLIC[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqXhAj/51DhWEQERoXuVE\n"
    "+sCKOFm0Uh8h1LNKfQX/V63ByWKI7hOEhuE5nKACPTpwybgkaT7za/cJFO3qSr2G\n"
    "EYZ32/7x71VsSdxyTWnzr+KtTL17GL+d6RwWBwClxCQRd/Xr1heNWWy2pCuu73PS\n"
    "QfDzMcm+PpcTGFh835R8gjmUJDJhxJAsYjPFLqBVt5SKbgv3TpP5QamRsOSdQeQf\n"
    "3g7GcnL7MveOyYnWMm5acmmv37RNr+dzShtyOQz5oqWEScqQ4y1OUoCwbThkHKPj\n"
    "H4MfSYGjfa+jR5wcKg8dmuDA0snCKOtiqu3fis+3lFyDLJEJGGjPeNauob4BWZ1z\n"
    "swIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static m2m_jwt_config hs_cfg(void) {
    return (m2m_jwt_config){.hs256_secret = SECRET, .hs256_secret_len = SECRET_LEN};
}

static long long now_s(void) { return (long long)time(NULL); }

/* A token over payload (JSON) signed by libjwt with alg and key; free() it. */
static char *sign(jwt_alg_t alg, const void *key, size_t klen, const char *payload) {
    jwt_t *jwt = NULL;
    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grants_json(jwt, payload), 0);
    assert_int_equal(jwt_set_alg(jwt, alg, key, (int)klen), 0);
    char *tok = jwt_encode_str(jwt);
    assert_non_null(tok);
    jwt_free(jwt);
    return tok;
}

/* HS256 with the test secret over a printf-built payload. */
static char *hs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *hs(const char *fmt, ...) {
    char payload[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(payload, sizeof payload, fmt, ap);
    va_end(ap);
    return sign(JWT_ALG_HS256, SECRET, SECRET_LEN, payload);
}

/* A valid token for sub, an hour long. */
static char *tok_for(const char *sub) {
    return hs("{\"sub\":\"%s\",\"exp\":%lld}", sub, now_s() + 3600);
}

static char *b64url(const char *s) {
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(s);
    char *out = malloc(n / 3 * 4 + 5);
    assert_non_null(out);
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)u[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)u[i + 1] << 8;
        if (i + 2 < n)
            v |= u[i + 2];
        out[o++] = al[(v >> 18) & 63];
        out[o++] = al[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = al[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = al[v & 63];
    }
    out[o] = '\0';
    return out;
}

/* A token assembled by hand: base64url(header).base64url(payload).sig. */
static char *craft(const char *header, const char *payload, const char *sig) {
    char *h = b64url(header), *p = b64url(payload);
    size_t n = strlen(h) + strlen(p) + strlen(sig) + 3;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    return out;
}

/* ---- the scenario ---- */

typedef struct scen {
    char role[64];       /* NOLOGIN role the session switches to */
    char login[64];      /* the unprivileged login role of u */
    m2m_db *u;           /* the user's connection */
    m2m_relation *rel;   /* rooms -> users on u, owner user_id */
    m2m_relation *admin; /* the same relation on t_db(), to install RLS */
} scen;

static m2m_relation_def members_def(int read_all) {
    static const char *const cols[] = {"role", NULL};
    return (m2m_relation_def){.parent_table = "rooms",
                              .related_table = "users",
                              .pivot_table = "room_members",
                              .foreign_pivot_key = "room_id",
                              .related_pivot_key = "user_id",
                              .pivot_columns = cols,
                              .owner_column = "user_id",
                              .owner_read_all = read_all};
}

/* A role name unique to this test (roles are cluster-wide): prefix and the
 * test's schema. */
static void role_name(char *out, size_t n, const char *prefix) {
    snprintf(out, n, "%s_%s", prefix, t_rows("SELECT current_schema()"));
}

/* Create role name with LOGIN NOINHERIT and attrs, allowed to see the test
 * schema (its tables stay off limits: it has no grant on them). */
static void make_login(const char *name, const char *attrs) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE ROLE \"%s\" LOGIN NOINHERIT %s;"
             " GRANT USAGE ON SCHEMA \"%s\" TO \"%s\"",
             name, attrs, t_rows("SELECT current_schema()"), name);
    t_exec(sql);
}

static void drop_role(const char *name) {
    char sql[256];
    snprintf(sql, sizeof sql, "DROP OWNED BY \"%s\"; DROP ROLE \"%s\"", name, name);
    t_exec(sql);
}

/* A connection to the test database logged in as login. */
static m2m_db *open_as(const char *login) {
    char url[1200];
    snprintf(url, sizeof url, "%s user=%s", t_url(), login);
    m2m_db *db = NULL;
    int rc = m2m_open(url, &db);
    if (rc != M2M_OK)
        fail_msg("open as %s: %s", login, m2m_errname(rc));
    return db;
}

/* The session role s->role and the unprivileged login s->login that may
 * switch to it, u connected as that login. */
static void scen_login(scen *s) {
    role_name(s->login, sizeof s->login, "l");
    make_login(s->login, "");
    char sql[256];
    snprintf(sql, sizeof sql, "GRANT \"%s\" TO \"%s\"", s->role, s->login);
    t_exec(sql);
    s->u = open_as(s->login);
}

/* Schema and seed; RLS installed for the session role; the user connection
 * opened without a session. */
static void scen_setup(scen *s, int read_all) {
    memset(s, 0, sizeof *s);
    t_exec("CREATE TABLE rooms(id BIGINT PRIMARY KEY, name TEXT NOT NULL);"
           "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT NOT NULL);"
           "CREATE TABLE room_members("
           " room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
           " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
           " role TEXT, PRIMARY KEY(room_id, user_id));"
           "INSERT INTO rooms VALUES (1,'lobby'),(2,'dev');"
           "INSERT INTO users VALUES (7,'ann'),(8,'bob'),(9,'cid');"
           "INSERT INTO room_members VALUES (1,8,'member'),(2,7,'admin');");
    role_name(s->role, sizeof s->role, "r");
    m2m_relation_def def = members_def(read_all);
    s->admin = fx_open(&def);
    T_OK(m2m_rls_install(s->admin, s->role));
    scen_login(s);
    int rc = m2m_relation_open(s->u, &def, &s->rel);
    if (rc != M2M_OK)
        fail_msg("relation_open: %s: %s", m2m_errname(rc), m2m_errmsg(s->u));
}

static void scen_done(scen *s) {
    m2m_relation_close(s->rel);
    m2m_relation_close(s->admin);
    m2m_close(s->u);
    drop_role(s->login);
    drop_role(s->role);
}

static void login(scen *s, const char *sub) {
    char *tok = tok_for(sub);
    m2m_jwt_config cfg = hs_cfg();
    cfg.role = s->role;
    int rc = m2m_auth_jwt(s->u, tok, &cfg);
    free(tok);
    if (rc != M2M_OK)
        fail_msg("auth_jwt(%s): %s: %s", sub, m2m_errname(rc), m2m_errmsg(s->u));
    assert_string_equal(m2m_auth_sub(s->u), sub);
}

#define MEMBERS() t_rows("SELECT room_id, user_id, role FROM room_members ORDER BY 1, 2")
#define SEED      "1|8|member,2|7|admin"

/* Assert call on the user connection returns want, with msg in the message. */
#define U_RC(s, want, call)                                                              \
    do {                                                                                 \
        int u_rc_ = (call);                                                              \
        if (u_rc_ != (want))                                                             \
            fail_msg("%s -> %s, expected %s (%s)", #call, m2m_errname(u_rc_),            \
                     m2m_errname(want), m2m_errmsg((s)->u));                             \
    } while (0)

/* Assert call is denied with needle in the message. */
#define U_DENIED(s, needle, call)                                                        \
    do {                                                                                 \
        U_RC(s, M2M_DENIED, call);                                                       \
        if (!strstr(m2m_errmsg((s)->u), needle))                                         \
            fail_msg("%s: message \"%s\" lacks \"%s\"", #call, m2m_errmsg((s)->u),       \
                     needle);                                                            \
    } while (0)
#define RLS     "row-level security"
#define NO_AUTH "m2m_auth_jwt"

/* The related ids parent's query returns on the user connection. */
static const char *visible(scen *s, int64_t parent) {
    m2m_query *q = NULL;
    m2m_rows *rows = NULL;
    U_RC(s, M2M_OK, m2m_query_new(s->rel, M2M_INT(parent), &q));
    U_RC(s, M2M_OK, m2m_query_get(q, &rows));
    m2m_value ids[16];
    size_t n = 0;
    int rc;
    while ((rc = m2m_rows_next(rows)) == M2M_ROW && n < 16) {
        m2m_value v = m2m_rows_get(rows, "id");
        assert_int_equal(v.type, M2M_TINT);
        ids[n++] = v;
    }
    assert_int_equal(rc, M2M_DONE);
    const char *out = fx_ids(ids, n);
    m2m_rows_free(rows);
    int64_t count = -1;
    U_RC(s, M2M_OK, m2m_query_count(q, &count));
    assert_int_equal(count, (int64_t)n);
    m2m_query_free(q);
    return out;
}

/* ---- SQLite and MariaDB: not supported ---- */

/* Neither has row-level security: sessions, owner-bound relations and
 * m2m_rls_install are refused, saying which backend lacks it and which has
 * it; plain relations work. */
TEST_EXCEPT(pg, auth_without_rls_notsup) {
    char *tok = tok_for("7");
    m2m_jwt_config cfg = hs_cfg();
    assert_int_equal(m2m_auth_jwt(t_db(), tok, &cfg), M2M_NOTSUP);
    assert_non_null(strstr(m2m_errmsg(t_db()), "PostgreSQL"));
    const char *label = strcmp(t_backend, "mariadb") == 0 ? "MariaDB" : "SQLite";
    assert_non_null(strstr(m2m_errmsg(t_db()), label));
    assert_null(m2m_auth_sub(t_db()));
    free(tok);
    /* A relation with an owner column cannot be opened: no session could
     * ever write through it. Without one it works, and RLS is refused. */
    fx_rooms();
    m2m_relation_def def = members_def(0);
    m2m_relation *rel = NULL;
    T_RC(M2M_NOTSUP, m2m_relation_open(t_db(), &def, &rel));
    assert_null(rel);
    assert_non_null(
        strstr(m2m_errmsg(t_db()), "owner_column 'user_id' needs PostgreSQL"));
    def.owner_column = NULL;
    rel = fx_open(&def);
    assert_int_equal(m2m_rls_install(rel, "authenticated"), M2M_NOTSUP);
    assert_non_null(strstr(m2m_errmsg(t_db()), "PostgreSQL"));
    assert_non_null(strstr(m2m_errmsg(t_db()), label));
    assert_int_equal(fx_count("room_members"), 0);
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
    assert_string_equal(t_rows("SELECT room_id, user_id FROM room_members"), "1|2");
    m2m_relation_close(rel);
}

/* ---- token verification, no database work ---- */

TEST_ONLY(pg, auth_args) {
    scen s;
    scen_setup(&s, 0);
    m2m_jwt_config cfg = hs_cfg();
    cfg.role = s.role;
    char *tok = tok_for("7");
    assert_int_equal(m2m_auth_jwt(NULL, tok, &cfg), M2M_MISUSE);
    assert_int_equal(m2m_auth_jwt(s.u, NULL, &cfg), M2M_INVALID);
    assert_non_null(strstr(m2m_errmsg(s.u), "token is NULL"));
    assert_int_equal(m2m_auth_jwt(s.u, tok, NULL), M2M_INVALID);
    assert_non_null(strstr(m2m_errmsg(s.u), "config is NULL"));
    m2m_jwt_config nokey = {0};
    assert_int_equal(m2m_auth_jwt(s.u, tok, &nokey), M2M_INVALID);
    assert_non_null(strstr(m2m_errmsg(s.u), "no key"));
    m2m_jwt_config weak = {.hs256_secret = (const unsigned char *)"short",
                           .hs256_secret_len = 5};
    assert_int_equal(m2m_auth_jwt(s.u, tok, &weak), M2M_INVALID);
    assert_non_null(strstr(m2m_errmsg(s.u), "at least 32 bytes"));
    m2m_jwt_config badrole = hs_cfg();
    badrole.role = "x; DROP TABLE users";
    assert_int_equal(m2m_auth_jwt(s.u, tok, &badrole), M2M_INVALID);
    m2m_jwt_config neg = hs_cfg();
    neg.leeway = -1;
    assert_int_equal(m2m_auth_jwt(s.u, tok, &neg), M2M_INVALID);
    assert_null(m2m_auth_sub(s.u));

    /* A good token sets the session; clear and NULL handles are harmless. */
    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, tok, &cfg));
    assert_string_equal(m2m_auth_sub(s.u), "7");
    m2m_auth_clear(s.u);
    assert_null(m2m_auth_sub(s.u));
    m2m_auth_clear(NULL);
    assert_null(m2m_auth_sub(NULL));
    free(tok);
    scen_done(&s);
}

typedef struct bad_token {
    const char *what;
    char *token;
    const char *msg; /* expected in m2m_errmsg */
} bad_token;

/* Every token here is refused with M2M_DENIED and its reason, a session
 * set before is dropped, and the database is unchanged afterwards: the
 * user's operations are refused before any SQL runs. */
TEST_ONLY(pg, auth_bad_tokens) {
    scen s;
    scen_setup(&s, 1);
    long long now = now_s();
    char *good = tok_for("7");
    char *dot = strchr(good, '.');
    char *sig = strrchr(good, '.') + 1;

    /* Payload swapped for one naming user 8, signature kept. */
    char *p8 = b64url("{\"sub\":\"8\",\"exp\":9999999999}");
    size_t tn = strlen(good) + strlen(p8) + 1;
    char *tampered = malloc(tn);
    assert_non_null(tampered);
    snprintf(tampered, tn, "%.*s.%s.%s", (int)(dot - good), good, p8, sig);
    free(p8);

    /* 100 KiB of padding in an otherwise valid token. */
    size_t padn = 100 * 1024;
    char *big = malloc(padn + 128);
    assert_non_null(big);
    int off = snprintf(big, 128, "{\"sub\":\"7\",\"exp\":%lld,\"pad\":\"", now + 3600);
    memset(big + off, 'x', padn);
    strcpy(big + off + padn, "\"}");
    char *huge = sign(JWT_ALG_HS256, SECRET, SECRET_LEN, big);
    free(big);

    char payload[256];
    snprintf(payload, sizeof payload, "{\"sub\":\"7\",\"exp\":%lld}", now + 3600);
    bad_token cases[] = {
        {"expired", hs("{\"sub\":\"7\",\"exp\":%lld}", now - 10), "expired"},
        {"exp now", hs("{\"sub\":\"7\",\"exp\":%lld}", now), "expired"},
        {"nbf future",
         hs("{\"sub\":\"7\",\"exp\":%lld,\"nbf\":%lld}", now + 3600, now + 600),
         "not valid yet"},
        {"no exp", hs("{\"sub\":\"7\"}"), "missing exp"},
        {"exp text", hs("{\"sub\":\"7\",\"exp\":\"tomorrow\"}"),
         "exp claim is not a number"},
        {"no sub", hs("{\"exp\":%lld}", now + 3600), "missing sub"},
        {"numeric sub", hs("{\"sub\":7,\"exp\":%lld}", now + 3600),
         "sub claim is not a string"},
        {"empty sub", hs("{\"sub\":\"\",\"exp\":%lld}", now + 3600),
         "sub claim is empty"},
        {"wrong secret",
         sign(JWT_ALG_HS256, OTHER_SECRET, sizeof OTHER_SECRET - 1, payload),
         "bad signature"},
        {"tampered", tampered, "bad signature"},
        {"HS512", sign(JWT_ALG_HS512, SECRET, SECRET_LEN, payload),
         "algorithm HS512 is not accepted"},
        {"RS256 without key",
         sign(JWT_ALG_RS256, RSA_PRIVATE, strlen(RSA_PRIVATE), payload),
         "algorithm RS256 is not accepted"},
        {"alg none", craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, ""),
         "algorithm none"},
        {"alg None, signed", craft("{\"alg\":\"None\"}", payload, "c2lnbmF0dXJl"),
         "algorithm none"},
        {"HS256 unsigned", craft("{\"alg\":\"HS256\"}", payload, ""),
         "without a signature"},
        {"no alg", craft("{\"typ\":\"JWT\"}", payload, "c2ln"), "no alg"},
        {"duplicate alg", craft("{\"alg\":\"none\",\"alg\":\"HS256\"}", payload, "c2ln"),
         "header is not a JSON object"},
        {"crit", craft("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", payload, "c2ln"),
         "crit"},
        {"header not JSON", craft("alg=HS256", payload, "c2ln"), "header is not"},
        {"payload not JSON", craft("{\"alg\":\"HS256\"}", "sub=7", "c2ln"),
         "payload is not"},
        {"two segments", strdup("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0"), "malformed"},
        {"four segments", strdup("a.b.c.d"), "more than three"},
        {"not base64url", strdup("eyJh bGc.eyJ.c2ln"), "not base64url"},
        {"empty", strdup(""), "malformed"},
        {"huge", huge, "longer than 8192 bytes"},
    };
    m2m_jwt_config cfg = hs_cfg();
    cfg.role = s.role;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        login(&s, "7");
        int rc = m2m_auth_jwt(s.u, cases[i].token, &cfg);
        if (rc != M2M_DENIED)
            fail_msg("%s: %s, expected M2M_DENIED (%s)", cases[i].what, m2m_errname(rc),
                     m2m_errmsg(s.u));
        if (!strstr(m2m_errmsg(s.u), cases[i].msg) ||
            strncmp(m2m_errmsg(s.u), "jwt: ", 5))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].what, m2m_errmsg(s.u),
                     cases[i].msg);
        assert_null(m2m_auth_sub(s.u));
        /* The failed verification left no session: writes are refused. */
        m2m_changes *ch = NULL;
        U_DENIED(&s, NO_AUTH, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), NULL, &ch));
        assert_null(ch);
        U_DENIED(&s, NO_AUTH,
                 m2m_detach(s.rel, M2M_INT(2), FX_VALS(M2M_INT(7)), NULL, &ch));
        assert_string_equal(MEMBERS(), SEED);
        free(cases[i].token);
    }
    free(good);
    scen_done(&s);
}

/* The leeway accepts a clock a little behind or ahead, no more. */
TEST_ONLY(pg, auth_leeway) {
    scen s;
    scen_setup(&s, 0);
    long long now = now_s();
    m2m_jwt_config cfg = hs_cfg();
    cfg.role = s.role;
    cfg.leeway = 60;
    char *late = hs("{\"sub\":\"7\",\"exp\":%lld}", now - 30);
    char *early = hs("{\"sub\":\"8\",\"exp\":%lld,\"nbf\":%lld}", now + 3600, now + 30);
    char *too_late = hs("{\"sub\":\"7\",\"exp\":%lld}", now - 120);
    char *too_early =
        hs("{\"sub\":\"8\",\"exp\":%lld,\"nbf\":%lld}", now + 3600, now + 120);
    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, late, &cfg));
    assert_string_equal(m2m_auth_sub(s.u), "7");
    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, early, &cfg));
    assert_string_equal(m2m_auth_sub(s.u), "8");
    U_RC(&s, M2M_DENIED, m2m_auth_jwt(s.u, too_late, &cfg));
    assert_null(m2m_auth_sub(s.u));
    U_RC(&s, M2M_DENIED, m2m_auth_jwt(s.u, too_early, &cfg));
    assert_null(m2m_auth_sub(s.u));
    cfg.leeway = 0;
    U_RC(&s, M2M_DENIED, m2m_auth_jwt(s.u, late, &cfg));
    U_RC(&s, M2M_DENIED, m2m_auth_jwt(s.u, early, &cfg));
    free(late);
    free(early);
    free(too_late);
    free(too_early);
    scen_done(&s);
}

/* RS256 with a public key; the public key never works as an HMAC secret. */
TEST_ONLY(pg, auth_rs256) {
    scen s;
    scen_setup(&s, 0);
    char payload[128];
    snprintf(payload, sizeof payload, "{\"sub\":\"alice\",\"exp\":%lld}", now_s() + 600);
    char *rs = sign(JWT_ALG_RS256, RSA_PRIVATE, strlen(RSA_PRIVATE), payload);
    char *confused = sign(JWT_ALG_HS256, RSA_PUBLIC, strlen(RSA_PUBLIC), payload);
    char *hs_ok = sign(JWT_ALG_HS256, SECRET, SECRET_LEN, payload);

    m2m_jwt_config rsa = {.rs256_public_pem = RSA_PUBLIC, .role = s.role};
    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, rs, &rsa));
    assert_string_equal(m2m_auth_sub(s.u), "alice");
    U_RC(&s, M2M_DENIED, m2m_auth_jwt(s.u, confused, &rsa));
    assert_non_null(strstr(m2m_errmsg(s.u), "algorithm HS256 is not accepted"));
    assert_null(m2m_auth_sub(s.u));
    U_RC(&s, M2M_DENIED, m2m_auth_jwt(s.u, hs_ok, &rsa));

    /* Both keys configured: each algorithm is checked with its own key only. */
    m2m_jwt_config both = hs_cfg();
    both.role = s.role;
    both.rs256_public_pem = RSA_PUBLIC;
    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, rs, &both));
    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, hs_ok, &both));
    U_RC(&s, M2M_DENIED, m2m_auth_jwt(s.u, confused, &both));
    assert_non_null(strstr(m2m_errmsg(s.u), "bad signature"));
    assert_null(m2m_auth_sub(s.u));

    /* An RS256 token with its payload replaced. */
    char *p2 = b64url("{\"sub\":\"mallory\",\"exp\":9999999999}");
    char *d1 = strchr(rs, '.'), *d2 = strrchr(rs, '.');
    size_t n = strlen(rs) + strlen(p2) + 1;
    char *forged = malloc(n);
    assert_non_null(forged);
    snprintf(forged, n, "%.*s.%s%s", (int)(d1 - rs), rs, p2, d2);
    U_RC(&s, M2M_DENIED, m2m_auth_jwt(s.u, forged, &rsa));
    assert_non_null(strstr(m2m_errmsg(s.u), "bad signature"));
    free(forged);
    free(p2);
    free(rs);
    free(confused);
    free(hs_ok);
    scen_done(&s);
}

/* ---- policies ---- */

TEST_ONLY(pg, auth_rls_install) {
    fx_rooms();
    char role[64];
    snprintf(role, sizeof role, "r_%s", t_rows("SELECT current_schema()"));
    m2m_value rv = M2M_TEXT(role);
    assert_int_equal(t_int("SELECT count(*) FROM pg_roles WHERE rolname = $1", &rv, 1),
                     0);

    /* Refused before any DDL. */
    m2m_relation *plain = fx_rel_members(NULL, 0);
    T_RC(M2M_INVALID, m2m_rls_install(plain, role));
    assert_non_null(strstr(m2m_errmsg(t_db()), "owner_column"));
    m2m_relation_close(plain);
    m2m_relation_def def = members_def(0);
    m2m_relation *rel = fx_open(&def);
    T_RC(M2M_INVALID, m2m_rls_install(rel, "bad-role"));
    T_RC(M2M_INVALID, m2m_rls_install(rel, "x\"; DROP TABLE users; --"));
    T_RC(M2M_MISUSE, m2m_rls_install(NULL, role));
    assert_int_equal(
        t_int("SELECT count(*) FROM pg_policies WHERE tablename = 'room_members'", NULL,
              0),
        0);
    assert_string_equal(
        t_rows("SELECT relrowsecurity::text, relforcerowsecurity::text FROM pg_class"
               " WHERE oid = 'room_members'::regclass"),
        "false|false");

    /* Installed twice: the same four policies, RLS on and forced, the role
     * created once with exactly the grants it needs. */
    T_OK(m2m_rls_install(rel, role));
    char *first = strdup(t_rows("SELECT policyname, cmd, roles::text, qual, with_check"
                                " FROM pg_policies WHERE tablename = 'room_members'"
                                " ORDER BY policyname"));
    T_OK(m2m_rls_install(rel, role));
    assert_string_equal(t_rows("SELECT policyname, cmd, roles::text, qual, with_check"
                               " FROM pg_policies WHERE tablename = 'room_members'"
                               " ORDER BY policyname"),
                        first);
    free(first);
    assert_string_equal(t_rows("SELECT policyname, cmd FROM pg_policies"
                               " WHERE tablename = 'room_members' ORDER BY 1"),
                        "m2m_room_members_delete|DELETE,m2m_room_members_insert|INSERT,"
                        "m2m_room_members_select|SELECT,m2m_room_members_update|UPDATE");
    assert_int_equal(
        t_int("SELECT count(*) FROM pg_policies WHERE tablename = 'room_members'"
              " AND (coalesce(qual, '') || coalesce(with_check, ''))"
              " LIKE '%user_id%request.jwt.claims%'",
              NULL, 0),
        4);
    assert_string_equal(
        t_rows("SELECT relrowsecurity::text, relforcerowsecurity::text FROM pg_class"
               " WHERE oid = 'room_members'::regclass"),
        "true|true");
    assert_int_equal(
        t_int("SELECT count(*) FROM pg_roles WHERE rolname = $1 AND NOT rolcanlogin", &rv,
              1),
        1);
    assert_string_equal(
        t_rows("SELECT has_table_privilege(r, 'room_members', 'SELECT')::int,"
               " has_table_privilege(r, 'room_members', 'INSERT')::int,"
               " has_table_privilege(r, 'room_members', 'UPDATE')::int,"
               " has_table_privilege(r, 'room_members', 'DELETE')::int,"
               " has_table_privilege(r, 'users', 'SELECT')::int,"
               " has_table_privilege(r, 'rooms', 'SELECT')::int,"
               " has_table_privilege(r, 'users', 'INSERT')::int,"
               " has_table_privilege(r, 'rooms', 'DELETE')::int,"
               " has_schema_privilege(r, current_schema(), 'USAGE')::int"
               " FROM (SELECT 'r_' || current_schema() AS r) x"),
        "1|1|1|1|1|1|0|0|1");

    /* Switching to open reads replaces the select policy, nothing else. */
    m2m_relation_close(rel);
    def = members_def(1);
    rel = fx_open(&def);
    T_OK(m2m_rls_install(rel, role));
    assert_int_equal(
        t_int("SELECT count(*) FROM pg_policies WHERE tablename = 'room_members'", NULL,
              0),
        4);
    assert_string_equal(
        t_rows("SELECT qual FROM pg_policies WHERE tablename = 'room_members'"
               " AND cmd = 'SELECT'"),
        "true");
    m2m_relation_close(rel);
    char sql[256];
    snprintf(sql, sizeof sql, "DROP OWNED BY \"%s\"; DROP ROLE \"%s\"", role, role);
    t_exec(sql);
}

/* A failing install (an owner column that does not exist) changes nothing. */
TEST_ONLY(pg, auth_rls_install_atomic) {
    fx_rooms();
    m2m_relation_def def = members_def(0);
    def.owner_column = "owner";
    m2m_relation *rel = NULL;
    int rc = m2m_relation_open(t_db(), &def, &rel);
    if (rc != M2M_OK) /* the core may already check the column exists */
        return;
    assert_int_not_equal(m2m_rls_install(rel, "authenticated"), M2M_OK);
    assert_non_null(strstr(m2m_errmsg(t_db()), "rls:"));
    assert_int_equal(
        t_int("SELECT count(*) FROM pg_policies WHERE tablename = 'room_members'", NULL,
              0),
        0);
    assert_string_equal(t_rows("SELECT relrowsecurity::text FROM pg_class"
                               " WHERE oid = 'room_members'::regclass"),
                        "false");
    m2m_relation_close(rel);
}

/* ---- what user 7 may do ---- */

TEST_ONLY(pg, auth_own_membership) {
    scen s;
    scen_setup(&s, 1);
    m2m_changes *ch = NULL;

    /* Without a session: denied before any SQL. */
    m2m_stats_reset(s.u);
    U_DENIED(&s, NO_AUTH, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), NULL, &ch));
    assert_null(ch);
    m2m_stats st;
    m2m_stats_get(s.u, &st);
    assert_int_equal(st.executed, 0);
    assert_string_equal(MEMBERS(), SEED);

    login(&s, "7");
    /* Joining a room. */
    U_RC(&s, M2M_OK,
         m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(ITP(7, COLT("role", "member"))), NULL,
                    &ch));
    assert_string_equal(FX_ATT(ch), "7");
    m2m_changes_free(ch);
    ch = NULL;
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,2|7|admin");

    /* Adding someone else: denied, nothing changed. */
    U_DENIED(&s, RLS, m2m_attach(s.rel, M2M_INT(2), FX_ITEMS(IT(8)), NULL, &ch));
    assert_null(ch);
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,2|7|admin");
    /* ... also when mixed with oneself: the whole batch fails. */
    U_DENIED(&s, RLS, m2m_attach(s.rel, M2M_INT(2), FX_ITEMS(IT(9), IT(7)), NULL, &ch));
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,2|7|admin");

    /* Removing someone else (visible: reads are open): denied, unchanged. */
    U_DENIED(&s, RLS, m2m_detach(s.rel, M2M_INT(1), FX_VALS(M2M_INT(8)), NULL, &ch));
    assert_null(ch);
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,2|7|admin");
    /* Detach all of room 1 would remove 8 too. */
    U_DENIED(&s, RLS, m2m_detach(s.rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,2|7|admin");

    /* Sync that would detach 8, and one that would attach 9: denied whole. */
    U_DENIED(&s, RLS, m2m_sync(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), NULL, &ch));
    assert_null(ch);
    U_DENIED(&s, RLS, m2m_sync(s.rel, M2M_INT(2), FX_ITEMS(IT(7), IT(9)), NULL, &ch));
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,2|7|admin");
    /* Toggle: 7 would leave room 1 (allowed) and 8 too (not): nothing happens. */
    U_DENIED(&s, RLS, m2m_toggle(s.rel, M2M_INT(1), FX_ITEMS(IT(7), IT(8)), NULL, &ch));
    assert_null(ch);
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,2|7|admin");
    /* Changing 8's pivot data: denied, unchanged. */
    U_DENIED(&s, RLS,
             m2m_update_pivot(s.rel, M2M_INT(1), FX_VALS(M2M_INT(8)),
                              FX_COLS(COLT("role", "admin")), &ch));
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,2|7|admin");

    /* One's own rows: update, keep-sync, toggle out and leave. */
    U_RC(&s, M2M_OK,
         m2m_update_pivot(s.rel, M2M_INT(1), FX_VALS(M2M_INT(7)),
                          FX_COLS(COLT("role", "owner")), &ch));
    assert_string_equal(FX_UPD(ch), "7");
    m2m_changes_free(ch);
    ch = NULL;
    assert_string_equal(MEMBERS(), "1|7|owner,1|8|member,2|7|admin");
    U_RC(&s, M2M_OK, m2m_toggle(s.rel, M2M_INT(2), FX_ITEMS(IT(7)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "7");
    assert_string_equal(FX_ATT(ch), "");
    m2m_changes_free(ch);
    ch = NULL;
    U_RC(&s, M2M_OK,
         m2m_sync(s.rel, M2M_INT(2), FX_ITEMS(IT(7)), &(m2m_opts){.flags = M2M_KEEP},
                  &ch));
    assert_string_equal(FX_ATT(ch), "7");
    m2m_changes_free(ch);
    ch = NULL;
    U_RC(&s, M2M_OK, m2m_detach(s.rel, M2M_INT(1), FX_VALS(M2M_INT(7)), NULL, &ch));
    assert_int_equal(ch->ndetached, 1);
    m2m_changes_free(ch);
    ch = NULL;
    assert_string_equal(MEMBERS(), "1|8|member,2|7|~");

    /* Another user's session on the same connection: 8 may leave room 1. */
    login(&s, "8");
    U_DENIED(&s, RLS, m2m_detach(s.rel, M2M_INT(2), FX_VALS(M2M_INT(7)), NULL, &ch));
    U_RC(&s, M2M_OK, m2m_detach(s.rel, M2M_INT(1), FX_VALS(M2M_INT(8)), NULL, &ch));
    assert_int_equal(ch->ndetached, 1);
    m2m_changes_free(ch);
    ch = NULL;
    assert_string_equal(MEMBERS(), "2|7|~");

    /* After clearing the session: denied again. */
    m2m_auth_clear(s.u);
    U_DENIED(&s, NO_AUTH, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(8)), NULL, &ch));
    assert_string_equal(MEMBERS(), "2|7|~");
    scen_done(&s);
}

/* Sync updating kept rows to values the items share (one statement with the
 * values as parameters): its RLS check counts the same rows, with the same
 * parameters, as the UPDATE it guards. */
TEST_ONLY(pg, auth_sync_update_shared_values) {
    scen s;
    scen_setup(&s, 1);
    login(&s, "7");
    m2m_changes *ch = NULL;
    m2m_opts admin = {.flags = M2M_UPDATE_EXISTING,
                      .pivot = (const m2m_col[]){COLT("role", "admin")},
                      .npivot = 1};
    m2m_opts owner = admin;
    owner.pivot = (const m2m_col[]){COLT("role", "owner")};
    /* Already admin: nothing to update. */
    U_RC(&s, M2M_OK, m2m_sync(s.rel, M2M_INT(2), FX_ITEMS(IT(7)), &admin, &ch));
    assert_string_equal(FX_UPD(ch), "");
    m2m_changes_free(ch);
    ch = NULL;
    U_RC(&s, M2M_OK, m2m_sync(s.rel, M2M_INT(2), FX_ITEMS(IT(7)), &owner, &ch));
    assert_string_equal(FX_UPD(ch), "7");
    assert_string_equal(FX_ATT(ch), "");
    assert_string_equal(FX_DET(ch), "");
    m2m_changes_free(ch);
    ch = NULL;
    assert_string_equal(MEMBERS(), "1|8|member,2|7|owner");
    /* 8's row would change: denied, nothing changed. */
    U_DENIED(&s, RLS, m2m_sync(s.rel, M2M_INT(1), FX_ITEMS(IT(8)), &owner, &ch));
    assert_null(ch);
    assert_string_equal(MEMBERS(), "1|8|member,2|7|owner");
    scen_done(&s);
}

/* Reads: owner-only shows a user their own rows; open reads show all. With
 * owner-only reads another user's row is invisible, so detaching it finds
 * nothing to detach: it succeeds with a count of 0 and changes nothing. */
TEST_ONLY(pg, auth_reads) {
    scen s;
    scen_setup(&s, 0);
    t_exec("INSERT INTO room_members VALUES (1,7,'member'),(1,9,'member')");
    login(&s, "7");
    assert_string_equal(visible(&s, 1), "7");
    assert_string_equal(visible(&s, 2), "7");
    /* One query re-pointed from room to room reads as a new one does. */
    m2m_query *q = NULL;
    U_RC(&s, M2M_OK, m2m_query_new(s.rel, M2M_INT(2), &q));
    for (int64_t room = 1; room <= 3; room++) {
        U_RC(&s, M2M_OK, m2m_query_set_parent(q, M2M_INT(room)));
        m2m_rows *rows = NULL;
        U_RC(&s, M2M_OK, m2m_query_get(q, &rows));
        assert_string_equal(fx_rows_str(rows, 0), room == 1   ? "7|ann|member"
                                                  : room == 2 ? "7|ann|admin"
                                                              : "");
    }
    m2m_query_free(q);
    m2m_changes *ch = NULL;
    U_RC(&s, M2M_OK, m2m_detach(s.rel, M2M_INT(1), FX_VALS(M2M_INT(8)), NULL, &ch));
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    ch = NULL;
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,1|9|member,2|7|admin");

    /* Open reads for the same relation. */
    m2m_relation_close(s.admin);
    m2m_relation_def def = members_def(1);
    s.admin = fx_open(&def);
    T_OK(m2m_rls_install(s.admin, s.role));
    assert_string_equal(visible(&s, 1), "7,8,9");
    assert_string_equal(visible(&s, 2), "7");

    /* A user who owns no row sees them all but can remove none. */
    login(&s, "nobody");
    assert_string_equal(visible(&s, 1), "7,8,9");
    U_DENIED(&s, RLS, m2m_detach(s.rel, M2M_INT(1), FX_VALS(M2M_INT(7)), NULL, &ch));
    assert_null(ch);
    assert_string_equal(MEMBERS(), "1|7|member,1|8|member,1|9|member,2|7|admin");
    scen_done(&s);
}

/* Filter-only conditions under row-level security: the RLS counts of a
 * write count the same rows as the write, so a row of another user outside
 * the conditions is neither touched nor a reason to deny; the inverse
 * relation carries them. */
TEST_ONLY(pg, auth_where_conditions) {
    scen s;
    scen_setup(&s, 1);
    t_exec("INSERT INTO room_members VALUES (1,7,'member'),(1,9,'banned')");
    static const m2m_value banned[] = {{.type = M2M_TTEXT, .s = "banned"}};
    const m2m_cond where[] = {{"role", "not in", banned, 1}};
    m2m_relation_def def = members_def(1);
    def.where = where;
    def.nwhere = 1;
    m2m_relation *rel = NULL, *inv = NULL;
    U_RC(&s, M2M_OK, m2m_relation_open(s.u, &def, &rel));
    U_RC(&s, M2M_OK, m2m_relation_inverse(rel, &inv));
    m2m_relation_close(s.rel);
    s.rel = rel;
    login(&s, "9");
    assert_string_equal(visible(&s, 1), "7,8");
    /* 9's own row is outside the conditions: nothing to detach. */
    m2m_changes *ch = NULL;
    U_RC(&s, M2M_OK, m2m_detach(inv, M2M_INT(9), NULL, 0, NULL, &ch));
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    ch = NULL;
    login(&s, "7");
    /* Sync of room 1 to {8}: detaching 7 is allowed, 8 stays, 9 is not the
     * relation's (without the conditions 9's row would deny the sync). */
    U_RC(&s, M2M_OK, m2m_sync(s.rel, M2M_INT(1), FX_ITEMS(IT(8)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "7");
    m2m_changes_free(ch);
    ch = NULL;
    assert_string_equal(MEMBERS(), "1|8|member,1|9|banned,2|7|admin");
    /* Through the inverse: 7 leaves every room it is in, 9's row stays. */
    U_RC(&s, M2M_OK, m2m_detach(inv, M2M_INT(7), NULL, 0, NULL, &ch));
    assert_string_equal(FX_DET(ch), "2");
    m2m_changes_free(ch);
    ch = NULL;
    assert_string_equal(MEMBERS(), "1|8|member,1|9|banned");
    /* 8's row is the relation's: detaching all of room 1 is denied whole. */
    U_DENIED(&s, RLS, m2m_detach(s.rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_null(ch);
    assert_string_equal(MEMBERS(), "1|8|member,1|9|banned");
    m2m_relation_close(inv);
    scen_done(&s);
}

/* A "role" claim picks the database role, as PostgREST does; a role claim
 * that is not a plain identifier is ignored for the configured one. */
TEST_ONLY(pg, auth_role_claim) {
    scen s;
    scen_setup(&s, 1);
    m2m_jwt_config cfg = hs_cfg();
    cfg.role = "m2m_no_such_role";
    long long exp = now_s() + 600;
    char *with_role = hs("{\"sub\":\"7\",\"exp\":%lld,\"role\":\"%s\"}", exp, s.role);
    char *bad_role = hs("{\"sub\":\"7\",\"exp\":%lld,\"role\":\"x; RESET ROLE\"}", exp);
    m2m_changes *ch = NULL;

    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, with_role, &cfg));
    U_RC(&s, M2M_OK, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), NULL, &ch));
    m2m_changes_free(ch);
    ch = NULL;
    U_DENIED(&s, RLS, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(9)), NULL, &ch));
    assert_string_equal(MEMBERS(), "1|7|~,1|8|member,2|7|admin");

    /* Falls back to cfg.role, which does not exist: no session. */
    U_DENIED(&s, "does not exist", m2m_auth_jwt(s.u, bad_role, &cfg));
    assert_null(m2m_auth_sub(s.u));
    U_DENIED(&s, NO_AUTH, m2m_attach(s.rel, M2M_INT(2), FX_ITEMS(IT(9)), NULL, &ch));
    assert_null(ch);
    assert_string_equal(MEMBERS(), "1|7|~,1|8|member,2|7|admin");
    free(with_role);
    free(bad_role);
    scen_done(&s);
}

/* A login that bypasses RLS (superuser or BYPASSRLS) would make every
 * policy moot: no JWT session starts on one, whatever the token. */
TEST_ONLY(pg, auth_privileged_login_refused) {
    scen s;
    scen_setup(&s, 0);
    char *tok = tok_for("7");
    m2m_jwt_config cfg = hs_cfg();
    cfg.role = s.role;

    /* The test connection logs in as the superuser postgres. */
    m2m_stats_reset(t_db());
    T_RC(M2M_DENIED, m2m_auth_jwt(t_db(), tok, &cfg));
    assert_non_null(strstr(m2m_errmsg(t_db()), "jwt: the login role \"postgres\""));
    assert_non_null(strstr(m2m_errmsg(t_db()), "superuser"));
    assert_null(m2m_auth_sub(t_db()));
    /* Without a session the owner relation is refused before any SQL. */
    m2m_changes *ch = NULL;
    T_RC(M2M_DENIED, m2m_attach(s.admin, M2M_INT(1), FX_ITEMS(IT(9)), NULL, &ch));
    assert_non_null(strstr(m2m_errmsg(t_db()), "m2m_auth_jwt"));
    assert_null(ch);

    /* A BYPASSRLS login (granted the session role, as an application's). */
    char bypass[64], sql[256];
    role_name(bypass, sizeof bypass, "lb");
    make_login(bypass, "BYPASSRLS");
    snprintf(sql, sizeof sql, "GRANT \"%s\" TO \"%s\"", s.role, bypass);
    t_exec(sql);
    m2m_db *b = open_as(bypass);
    assert_int_equal(m2m_auth_jwt(b, tok, &cfg), M2M_DENIED);
    assert_non_null(strstr(m2m_errmsg(b), "BYPASSRLS"));
    assert_non_null(strstr(m2m_errmsg(b), bypass));
    assert_null(m2m_auth_sub(b));
    m2m_close(b);
    drop_role(bypass);
    assert_string_equal(MEMBERS(), SEED);
    free(tok);
    scen_done(&s);
}

/* The role a session switches to (role claim, else cfg.role) must exist, be
 * one the login may switch to, and not bypass RLS itself; "none" (which
 * would reset to the login role) is refused too. Each refusal leaves no
 * session, and the user's writes stay refused. */
TEST_ONLY(pg, auth_session_role_checked) {
    scen s;
    scen_setup(&s, 1);
    char su[64], by[64], other[64], sql[512];
    role_name(su, sizeof su, "su");
    role_name(by, sizeof by, "by");
    role_name(other, sizeof other, "ot");
    snprintf(sql, sizeof sql,
             "CREATE ROLE \"%s\" NOLOGIN SUPERUSER; CREATE ROLE \"%s\" NOLOGIN BYPASSRLS;"
             " CREATE ROLE \"%s\" NOLOGIN; GRANT \"%s\", \"%s\" TO \"%s\"",
             su, by, other, su, by, s.login);
    t_exec(sql);
    static const struct {
        int claim; /* 1: the role claim, 0: cfg.role */
        const char *role, *msg;
    } cases[] = {
        {1, "postgres", "superuser"},
        {1, "none", "none"},
        {1, "m2m_no_such_role", "does not exist"},
        {0, "m2m_no_such_role", "does not exist"},
        {1, "SU", "superuser"},
        {1, "BY", "BYPASSRLS"},
        {0, "BY", "BYPASSRLS"},
        {1, "OT", "cannot switch"},
    };
    long long exp = now_s() + 600;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *role = cases[i].role;
        role = !strcmp(role, "SU")   ? su
               : !strcmp(role, "BY") ? by
               : !strcmp(role, "OT") ? other
                                     : role;
        m2m_jwt_config cfg = hs_cfg();
        char *tok = cases[i].claim
                        ? hs("{\"sub\":\"7\",\"exp\":%lld,\"role\":\"%s\"}", exp, role)
                        : tok_for("7");
        cfg.role = cases[i].claim ? s.role : role;
        login(&s, "7");
        int rc = m2m_auth_jwt(s.u, tok, &cfg);
        if (rc != M2M_DENIED || !strstr(m2m_errmsg(s.u), cases[i].msg) ||
            !strstr(m2m_errmsg(s.u), role))
            fail_msg("role %s: %s \"%s\", expected M2M_DENIED with \"%s\"", role,
                     m2m_errname(rc), m2m_errmsg(s.u), cases[i].msg);
        assert_null(m2m_auth_sub(s.u));
        m2m_changes *ch = NULL;
        U_DENIED(&s, NO_AUTH, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), NULL, &ch));
        assert_null(ch);
        assert_string_equal(MEMBERS(), SEED);
        free(tok);
    }
    /* Inside a caller transaction: a refusal leaves it usable; the session
     * role itself, by claim, is accepted, and RLS applies. */
    U_RC(&s, M2M_OK, m2m_begin(s.u));
    char *bad = hs("{\"sub\":\"7\",\"exp\":%lld,\"role\":\"postgres\"}", exp);
    char *tok = hs("{\"sub\":\"7\",\"exp\":%lld,\"role\":\"%s\"}", exp, s.role);
    m2m_jwt_config cfg = hs_cfg();
    U_DENIED(&s, "superuser", m2m_auth_jwt(s.u, bad, &cfg));
    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, tok, &cfg));
    m2m_changes *ch = NULL;
    U_DENIED(&s, RLS, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(9)), NULL, &ch));
    U_RC(&s, M2M_OK, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "7");
    m2m_changes_free(ch);
    U_RC(&s, M2M_OK, m2m_commit(s.u));
    assert_string_equal(MEMBERS(), "1|7|~,1|8|member,2|7|admin");
    free(bad);
    free(tok);
    drop_role(su);
    drop_role(by);
    drop_role(other);
    scen_done(&s);
}

/* Assert call is denied because the session's token expired, with the
 * moment in the message. */
#define U_EXPIRED(s, call)                                                               \
    do {                                                                                 \
        U_DENIED(s, "jwt: the session's token expired at 20", call);                     \
        if (!strstr(m2m_errmsg((s)->u), "nothing was sent"))                             \
            fail_msg("%s: \"%s\"", #call, m2m_errmsg((s)->u));                           \
    } while (0)

/* Wait until time(NULL) reaches t (at most about two seconds here). */
static void wait_until(long long t) {
    while (now_s() < t) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* A session ends with its token: once exp has passed every operation of
 * the session (writes and reads through the relation, its inverse and a
 * relation without owner column, the version, inside a caller transaction
 * too) is refused before anything is sent, and the database is unchanged.
 * The leeway applies to every operation as it does to m2m_auth_jwt; a new
 * token starts a new session. */
TEST_ONLY(pg, auth_session_expires) {
    scen s;
    scen_setup(&s, 1);
    m2m_relation *inv = NULL, *plain = NULL;
    U_RC(&s, M2M_OK, m2m_relation_inverse(s.rel, &inv));
    m2m_relation_def pdef = members_def(1);
    pdef.owner_column = NULL;
    U_RC(&s, M2M_OK, m2m_relation_open(s.u, &pdef, &plain));

    long long exp = now_s() + 2;
    m2m_jwt_config cfg = hs_cfg();
    cfg.role = s.role;
    char *tok = hs("{\"sub\":\"7\",\"exp\":%lld}", exp);
    U_RC(&s, M2M_OK, m2m_auth_jwt(s.u, tok, &cfg));
    /* Another connection, leeway 60 s: its token expires as well but stays
     * within the leeway. */
    scen s2 = s;
    s2.u = open_as(s.login);
    m2m_relation *rel2 = NULL;
    m2m_relation_def def = members_def(1);
    U_RC(&s2, M2M_OK, m2m_relation_open(s2.u, &def, &rel2));
    char *tok9 = hs("{\"sub\":\"9\",\"exp\":%lld}", exp);
    m2m_jwt_config lcfg = cfg;
    lcfg.leeway = 60;
    U_RC(&s2, M2M_OK, m2m_auth_jwt(s2.u, tok9, &lcfg));

    /* Valid: the session works, and a caller transaction is opened. */
    m2m_changes *ch = NULL;
    U_RC(&s, M2M_OK, m2m_attach(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "7");
    m2m_changes_free(ch);
    ch = NULL;
    char v[M2M_VERSION_LEN];
    U_RC(&s, M2M_OK, m2m_version(s.rel, M2M_INT(1), v));
    U_RC(&s, M2M_OK, m2m_begin(s.u));
    wait_until(exp);

    const char *after = "1|7|~,1|8|member,2|7|admin";
    assert_string_equal(MEMBERS(), after);
    m2m_stats_reset(s.u);
    /* In the caller transaction, then outside it. */
    U_EXPIRED(&s, m2m_attach(s.rel, M2M_INT(2), FX_ITEMS(IT(7)), NULL, &ch));
    U_EXPIRED(&s, m2m_version(s.rel, M2M_INT(1), v));
    m2m_stats st;
    m2m_stats_get(s.u, &st);
    assert_int_equal(st.executed, 0);
    U_RC(&s, M2M_OK, m2m_rollback(s.u));
    m2m_stats_reset(s.u);
    for (int r = 0; r < 3; r++) {
        m2m_relation *rel = r == 0 ? s.rel : r == 1 ? inv : plain;
        m2m_value p = M2M_INT(r == 1 ? 7 : 1), id = M2M_INT(r == 1 ? 2 : 7);
        m2m_item it = {.id = id};
        U_EXPIRED(&s, m2m_attach(rel, p, &it, 1, NULL, &ch));
        U_EXPIRED(&s, m2m_attach(rel, p, &it, 0, NULL, &ch));
        U_EXPIRED(&s, m2m_sync(rel, p, &it, 1, NULL, &ch));
        U_EXPIRED(&s, m2m_sync(rel, p, NULL, 0, NULL, &ch));
        U_EXPIRED(&s, m2m_toggle(rel, p, &it, 1, NULL, &ch));
        U_EXPIRED(&s, m2m_detach(rel, p, &id, 1, NULL, &ch));
        U_EXPIRED(&s, m2m_detach(rel, p, NULL, 0, NULL, &ch));
        U_EXPIRED(&s, m2m_update_pivot(rel, p, &id, 1, FX_COLS(COLT("role", "x")), &ch));
        assert_null(ch);
        U_EXPIRED(&s, m2m_version(rel, p, v));
        m2m_query *q = NULL;
        m2m_rows *rows = NULL;
        int64_t count = -1;
        U_RC(&s, M2M_OK, m2m_query_new(rel, p, &q));
        U_EXPIRED(&s, m2m_query_get(q, &rows));
        assert_null(rows);
        U_EXPIRED(&s, m2m_query_count(q, &count));
        m2m_query_free(q);
    }
    m2m_stats_get(s.u, &st);
    assert_int_equal(st.executed, 0);
    assert_string_equal(m2m_auth_sub(s.u), "7");
    assert_string_equal(MEMBERS(), after);

    /* Within the leeway on the other connection: still a session. */
    U_RC(&s2, M2M_OK, m2m_attach(rel2, M2M_INT(2), FX_ITEMS(IT(9)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "9");
    m2m_changes_free(ch);
    ch = NULL;
    after = "1|7|~,1|8|member,2|7|admin,2|9|~";
    assert_string_equal(MEMBERS(), after);

    /* A fresh token: a new session, that works. */
    login(&s, "7");
    U_RC(&s, M2M_OK, m2m_detach(inv, M2M_INT(7), FX_VALS(M2M_INT(1)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(MEMBERS(), "1|8|member,2|7|admin,2|9|~");
    free(tok);
    free(tok9);
    m2m_relation_close(rel2);
    m2m_close(s2.u);
    m2m_relation_close(inv);
    m2m_relation_close(plain);
    scen_done(&s);
}

/* m2m_version in a session reads what sync compares: the rows the user may
 * see, as the session's role. The version-then-if_version flow works on the
 * relation, on its inverse and inside a caller transaction; rows the user
 * cannot see do not change the user's version. */
TEST_ONLY(pg, auth_version_in_session) {
    scen s;
    scen_setup(&s, 0); /* owner-only reads */
    t_exec("INSERT INTO room_members VALUES (1,7,'member')");
    char v[M2M_VERSION_LEN], v2[M2M_VERSION_LEN];
    m2m_changes *ch = NULL;

    /* No session: refused before any SQL, like every other operation. */
    m2m_stats_reset(s.u);
    U_DENIED(&s, NO_AUTH, m2m_version(s.rel, M2M_INT(1), v));
    m2m_stats st;
    m2m_stats_get(s.u, &st);
    assert_int_equal(st.executed, 0);

    login(&s, "7");
    m2m_stats_reset(s.u);
    U_RC(&s, M2M_OK, m2m_version(s.rel, M2M_INT(1), v));
    assert_int_equal(strlen(v), M2M_VERSION_LEN - 1);
    m2m_stats_get(s.u, &st);
    assert_int_equal(st.round_trips, 1); /* claims, role and digest together */
    /* A row user 7 cannot see leaves 7's version as it is. */
    t_exec("INSERT INTO room_members VALUES (1,9,'member')");
    U_RC(&s, M2M_OK, m2m_version(s.rel, M2M_INT(1), v2));
    assert_string_equal(v2, v);
    /* Compare-and-swap with it: accepted, and the reported version is the
     * one m2m_version reads next. */
    U_RC(&s, M2M_OK,
         m2m_sync(s.rel, M2M_INT(1), FX_ITEMS(ITP(7, COLT("role", "owner"))),
                  &(m2m_opts){.flags = M2M_UPDATE_EXISTING, .if_version = v}, &ch));
    assert_string_equal(FX_UPD(ch), "7");
    U_RC(&s, M2M_OK, m2m_version(s.rel, M2M_INT(1), v2));
    assert_string_equal(ch->version, v2);
    assert_string_not_equal(v2, v);
    m2m_changes_free(ch);
    ch = NULL;
    /* The stale version: a conflict, nothing changed. */
    U_RC(&s, M2M_CONFLICT,
         m2m_sync(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), &(m2m_opts){.if_version = v}, &ch));
    assert_null(ch);
    assert_string_equal(MEMBERS(), "1|7|owner,1|8|member,1|9|member,2|7|admin");

    /* Through the inverse relation: user 7's rooms. */
    m2m_relation *inv = NULL;
    U_RC(&s, M2M_OK, m2m_relation_inverse(s.rel, &inv));
    U_RC(&s, M2M_OK, m2m_version(inv, M2M_INT(7), v));
    U_RC(&s, M2M_OK,
         m2m_sync(inv, M2M_INT(7), FX_ITEMS(IT(2)),
                  &(m2m_opts){.flags = M2M_WANT_VERSION, .if_version = v}, &ch));
    assert_string_equal(FX_DET(ch), "1");
    U_RC(&s, M2M_OK, m2m_version(inv, M2M_INT(7), v2));
    assert_string_equal(ch->version, v2);
    m2m_changes_free(ch);
    ch = NULL;
    U_RC(&s, M2M_CONFLICT,
         m2m_sync(inv, M2M_INT(7), FX_ITEMS(IT(1)), &(m2m_opts){.if_version = v}, &ch));
    assert_string_equal(MEMBERS(), "1|8|member,1|9|member,2|7|admin");

    /* Inside a caller transaction: read, compare-and-swap, a stale one
     * refused without ending the transaction, commit. */
    U_RC(&s, M2M_OK, m2m_begin(s.u));
    U_RC(&s, M2M_OK, m2m_version(s.rel, M2M_INT(1), v));
    U_RC(&s, M2M_OK,
         m2m_sync(s.rel, M2M_INT(1), FX_ITEMS(IT(7)),
                  &(m2m_opts){.flags = M2M_WANT_VERSION, .if_version = v}, &ch));
    assert_string_equal(FX_ATT(ch), "7");
    U_RC(&s, M2M_OK, m2m_version(s.rel, M2M_INT(1), v2));
    assert_string_equal(ch->version, v2);
    m2m_changes_free(ch);
    ch = NULL;
    U_RC(&s, M2M_CONFLICT,
         m2m_sync(s.rel, M2M_INT(1), FX_ITEMS(IT(7)), &(m2m_opts){.if_version = v}, &ch));
    U_RC(&s, M2M_OK, m2m_version(inv, M2M_INT(7), v));
    U_RC(&s, M2M_OK, m2m_toggle(inv, M2M_INT(7), FX_ITEMS(IT(2)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "2");
    m2m_changes_free(ch);
    ch = NULL;
    U_RC(&s, M2M_OK, m2m_commit(s.u));
    assert_string_equal(MEMBERS(), "1|7|~,1|8|member,1|9|member");
    m2m_relation_close(inv);
    scen_done(&s);
}

/* A text owner column and schema-qualified names: the owner is compared as
 * text, and grants and policies land on the qualified tables. */
TEST_ONLY(pg, auth_text_owner) {
    t_exec(
        "CREATE TABLE tags(id BIGINT PRIMARY KEY);"
        "CREATE TABLE accounts(handle TEXT PRIMARY KEY);"
        "CREATE TABLE account_tags(tag_id BIGINT NOT NULL REFERENCES tags(id),"
        " handle TEXT NOT NULL REFERENCES accounts(handle), PRIMARY KEY(tag_id, handle));"
        "INSERT INTO tags VALUES (1), (2);"
        "INSERT INTO accounts VALUES ('ann'), ('bob');"
        "INSERT INTO account_tags VALUES (1, 'bob');");
    char schema[48], parent[128], related[128], pivot[128], role[64];
    snprintf(schema, sizeof schema, "%s", t_rows("SELECT current_schema()"));
    snprintf(parent, sizeof parent, "%s.tags", schema);
    snprintf(related, sizeof related, "%s.accounts", schema);
    snprintf(pivot, sizeof pivot, "%s.account_tags", schema);
    snprintf(role, sizeof role, "r_%s", schema);
    m2m_relation_def def = {.parent_table = parent,
                            .related_table = related,
                            .related_key = "handle",
                            .related_key_type = M2M_TTEXT,
                            .pivot_table = pivot,
                            .foreign_pivot_key = "tag_id",
                            .related_pivot_key = "handle",
                            .owner_column = "handle"};
    m2m_relation *admin = fx_open(&def);
    T_OK(m2m_rls_install(admin, role));
    assert_string_equal(
        t_rows("SELECT policyname FROM pg_policies WHERE tablename ="
               " 'account_tags' AND schemaname = current_schema() ORDER BY 1"),
        "m2m_account_tags_delete,m2m_account_tags_insert,"
        "m2m_account_tags_select,m2m_account_tags_update");

    scen s = {0};
    snprintf(s.role, sizeof s.role, "%s", role);
    scen_login(&s);
    T_OK(m2m_relation_open(s.u, &def, &s.rel));
    login(&s, "ann");
    m2m_changes *ch = NULL;
    U_RC(&s, M2M_OK, m2m_attach(s.rel, M2M_INT(2), FX_ITEMS(ITT("ann")), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "ann");
    m2m_changes_free(ch);
    ch = NULL;
    U_DENIED(&s, RLS, m2m_attach(s.rel, M2M_INT(2), FX_ITEMS(ITT("bob")), NULL, &ch));
    /* bob's row is invisible to ann (owner-only reads): nothing to detach. */
    U_RC(&s, M2M_OK, m2m_detach(s.rel, M2M_INT(1), FX_VALS(M2M_TEXT("bob")), NULL, &ch));
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT tag_id, handle FROM account_tags ORDER BY 1, 2"),
                        "1|bob,2|ann");
    s.admin = admin;
    scen_done(&s);
}

#else
typedef int m2m_test_auth_needs_pg; /* ISO C forbids an empty file */
#endif
