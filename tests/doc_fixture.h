/* SPDX-License-Identifier: MIT */
/* Fixtures for the C blocks of README.md and the docs/ pages, which
 * scripts/doc-blocks.sh wraps into programs: the block runs inside main()
 * after DOC_SETUP_<fixture> and before DOC_TEARDOWN_<fixture>. A block
 * names its fixture in an HTML comment before it (<!-- doc: schema -->);
 * guide is the default.
 *   none    nothing: the block opens and closes what it uses
 *   schema  app.db holds the guide's tables and a few rows
 *   guide   schema, plus the names the guide's examples use: db, roles
 *           (users -> roles), members (rooms -> users), rel, q (a query of
 *           room 1's members), room, user, u1, u2, items/n, want/nwant, ok
 *   jwt     docs/jwt.md on PostgreSQL ($M2M_TEST_PG): db (a login that may
 *           switch to "authenticated"), owner_url, bearer_token, reply_401()
 *           (below: compiled with DOC_FIXTURE_JWT)
 * Every program runs in an empty directory of its own. */
#ifndef M2M_DOC_FIXTURE_H
#define M2M_DOC_FIXTURE_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m2m.h>

static const char doc_schema[] =
    "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT, age BIGINT, uuid TEXT UNIQUE);"
    "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT, code TEXT UNIQUE);"
    "CREATE TABLE role_user("
    "  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  role_id BIGINT NOT NULL REFERENCES roles(id),"
    "  granted_by TEXT, assigned_at TEXT,"
    "  PRIMARY KEY(user_id, role_id));"
    "CREATE TABLE rooms(id BIGINT PRIMARY KEY, name TEXT);"
    "CREATE TABLE room_members("
    "  room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  user_id BIGINT NOT NULL REFERENCES users(id),"
    "  role TEXT, joined_at TEXT, rank BIGINT,"
    "  PRIMARY KEY(room_id, user_id));"
    "CREATE TABLE user_roles("
    "  user_uuid TEXT NOT NULL REFERENCES users(uuid),"
    "  role_code TEXT NOT NULL REFERENCES roles(code),"
    "  PRIMARY KEY(user_uuid, role_code));"
    "INSERT INTO users(id, name, age) VALUES (1,'ann',34),(2,'bob',27),(3,'cy',41),"
    "  (4,'dee',30),(5,'eve',22),(6,'fay',38),(7,'gus',29),(8,'hal',45),(9,'ivy',33),"
    "  (10,'jo',25);"
    "UPDATE users SET uuid = '7c9e6679-7425-40de-944b-e07fc1f90ae7' WHERE id = 1;"
    "INSERT INTO roles(id, name, code) VALUES (1,'admin','role-admin'),"
    "  (2,'editor','role-editor'),(3,'viewer','role-viewer'),(4,'billing',NULL),"
    "  (5,'support',NULL);"
    "INSERT INTO rooms VALUES (1,'general'),(2,'random'),(3,'ops');"
    "INSERT INTO room_members VALUES (1,1,'admin','2024-01-01',1),"
    "  (1,2,'member','2024-02-01',2),(1,3,'moderator',NULL,3),"
    "  (1,4,'member',NULL,4),(2,1,'member','2024-03-01',1),(3,4,'admin','2024-04-01',1);"
    "INSERT INTO role_user VALUES (1,1,'root','2024-01-01'),(1,2,'root',NULL),"
    "  (2,1,'ann','2024-02-02');";

static void doc_die(const char *what, m2m_db *db) {
    fprintf(stderr, "doc fixture: %s: %s\n", what, db ? m2m_errmsg(db) : "");
    exit(2);
}

static void doc_make_schema(const char *url) {
    m2m_db *db = NULL;
    if (m2m_open(url, &db) != M2M_OK)
        doc_die("cannot open app.db", NULL);
    if (m2m_exec(db, doc_schema) != M2M_OK)
        doc_die("schema", db);
    m2m_close(db);
}

static m2m_relation *doc_relation(m2m_db *db, const m2m_relation_def *def) {
    m2m_relation *rel = NULL;
    if (m2m_relation_open(db, def, &rel) != M2M_OK)
        doc_die("relation", db);
    return rel;
}

#define DOC_SETUP_none()
#define DOC_TEARDOWN_none()

#define DOC_SETUP_schema() doc_make_schema("sqlite:app.db")
#define DOC_TEARDOWN_schema()

/* The names the guide's examples use. */
#define DOC_GUIDE_NAMES(url)                                                             \
    m2m_db *db = NULL;                                                                   \
    if (m2m_open(url, &db) != M2M_OK)                                                    \
        doc_die("cannot open the database", NULL);                                       \
    m2m_relation *roles =                                                                \
        doc_relation(db, &(m2m_relation_def){.parent_table = "users",                    \
                                             .related_table = "roles",                   \
                                             .pivot_table = "role_user",                 \
                                             .foreign_pivot_key = "user_id",             \
                                             .related_pivot_key = "role_id",             \
                                             .pivot_columns = (const char *[]){          \
                                                 "granted_by", "assigned_at", NULL}});   \
    m2m_relation *members =                                                              \
        doc_relation(db, &(m2m_relation_def){.parent_table = "rooms",                    \
                                             .related_table = "users",                   \
                                             .pivot_table = "room_members",              \
                                             .foreign_pivot_key = "room_id",             \
                                             .related_pivot_key = "user_id",             \
                                             .pivot_columns = (const char *[]){          \
                                                 "role", "joined_at", "rank", NULL}});   \
    m2m_relation *rel = NULL;                                                            \
    m2m_query *q = NULL;                                                                 \
    if (m2m_query_new(members, M2M_INT(1), &q) != M2M_OK)                                \
        doc_die("query", db);                                                            \
    int64_t room = 1, user = 4, u1 = 5, u2 = 6;                                          \
    const m2m_item items[] = {{.id = {.type = M2M_TINT, .i = 1}},                        \
                              {.id = {.type = M2M_TINT, .i = 2}},                        \
                              {.id = {.type = M2M_TINT, .i = 3}}};                       \
    size_t n = 3;                                                                        \
    const m2m_item *want = items;                                                        \
    size_t nwant = 2;                                                                    \
    int ok = 1;                                                                          \
    (void)rel, (void)room, (void)user, (void)u1, (void)u2, (void)items, (void)n,         \
        (void)want, (void)nwant, (void)ok

#define DOC_GUIDE_CLOSE()                                                                \
    m2m_query_free(q);                                                                   \
    m2m_relation_close(rel);                                                             \
    m2m_relation_close(members);                                                         \
    m2m_relation_close(roles);                                                           \
    m2m_close(db)

#define DOC_SETUP_guide()                                                                \
    doc_make_schema("sqlite:app.db");                                                    \
    DOC_GUIDE_NAMES("sqlite:app.db")
#define DOC_TEARDOWN_guide() DOC_GUIDE_CLOSE()

/* docs/jwt.md on the PostgreSQL server of $M2M_TEST_PG (scripts/with-pg.sh):
 * the page's schema in a schema of its own, a login role that may switch to
 * "authenticated" (db), the table owner's URL (owner_url) and Ann's token
 * (bearer_token: sub "7", HS256 with the page's secret). The teardown checks
 * what the page says happened: the four policies, Ann's session, Ann in the
 * lobby and none of her denied changes made. scripts/doc-blocks.sh compiles
 * these blocks with DOC_FIXTURE_JWT and libcrypto, and runs them where the
 * build has JWT sessions (DOC_PG=1). */
#ifdef DOC_FIXTURE_JWT
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <time.h>
#include <unistd.h>

static const char doc_jwt_secret[] = "...at least 32 bytes of secret...";
static char doc_jwt_schema[64], doc_jwt_owner[1024], doc_jwt_login[1024],
    doc_jwt_token[512];

static void doc_b64url(char *out, const unsigned char *in, size_t n) {
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = strlen(out);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = abc[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = abc[v & 63];
    }
    out[o] = '\0';
}

/* An HS256 token for sub "7" that expires in ten minutes. */
static void doc_jwt_mint(void) {
    char payload[64];
    snprintf(payload, sizeof payload, "{\"sub\":\"7\",\"exp\":%lld}",
             (long long)time(NULL) + 600);
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    doc_jwt_token[0] = '\0';
    doc_b64url(doc_jwt_token, (const unsigned char *)header, strlen(header));
    strcat(doc_jwt_token, ".");
    doc_b64url(doc_jwt_token, (const unsigned char *)payload, strlen(payload));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!HMAC(EVP_sha256(), doc_jwt_secret, (int)strlen(doc_jwt_secret),
              (const unsigned char *)doc_jwt_token, strlen(doc_jwt_token), mac, &len))
        doc_die("HMAC", NULL);
    strcat(doc_jwt_token, ".");
    doc_b64url(doc_jwt_token, mac, len);
}

/* The first column of the first row of sql, as text ("" when none). */
static void doc_jwt_scalar(m2m_db *db, const char *sql, char *out, size_t cap) {
    m2m_rows *rows = NULL;
    if (m2m_sql(db, sql, NULL, 0, &rows) != M2M_OK)
        doc_die(sql, db);
    out[0] = '\0';
    if (m2m_rows_next(rows) == M2M_ROW) {
        m2m_value v = m2m_rows_get(rows, "v");
        if (v.type == M2M_TTEXT)
            snprintf(out, cap, "%s", v.s);
        else if (v.type == M2M_TINT)
            snprintf(out, cap, "%" PRId64, v.i);
    }
    m2m_rows_free(rows);
}

static m2m_db *doc_jwt_setup(void) {
    const char *pg = getenv("M2M_TEST_PG");
    if (!pg || !*pg)
        doc_die("M2M_TEST_PG is not set: run under scripts/with-pg.sh", NULL);
    snprintf(doc_jwt_schema, sizeof doc_jwt_schema, "doc_jwt_%ld", (long)getpid());
    snprintf(doc_jwt_owner, sizeof doc_jwt_owner, "%s options='-csearch_path=%s'", pg,
             doc_jwt_schema);
    snprintf(doc_jwt_login, sizeof doc_jwt_login,
             "%s user=doc_app_login options='-csearch_path=%s'", pg, doc_jwt_schema);
    char sql[2048];
    snprintf(sql, sizeof sql,
             "DO $$BEGIN CREATE ROLE doc_app_login LOGIN NOINHERIT;"
             "  EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
             "DO $$BEGIN CREATE ROLE authenticated NOLOGIN;"
             "  EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
             "GRANT authenticated TO doc_app_login;"
             "CREATE SCHEMA %s; GRANT USAGE ON SCHEMA %s TO doc_app_login;"
             "SET search_path = %s;"
             "CREATE TABLE rooms (id bigint PRIMARY KEY, name text NOT NULL);"
             "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);"
             "CREATE TABLE room_members ("
             "  room_id bigint NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
             "  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             "  role text, PRIMARY KEY (room_id, user_id));"
             "INSERT INTO rooms VALUES (1, 'lobby'), (2, 'dev');"
             "INSERT INTO users VALUES (7, 'ann'), (8, 'bob');"
             "INSERT INTO room_members VALUES (1, 8, 'member');",
             doc_jwt_schema, doc_jwt_schema, doc_jwt_schema);
    m2m_db *su = NULL;
    if (m2m_open(pg, &su) != M2M_OK || m2m_exec(su, sql) != M2M_OK)
        doc_die("the page's schema", su);
    m2m_close(su);
    doc_jwt_mint();
    m2m_db *db = NULL;
    if (m2m_open(doc_jwt_login, &db) != M2M_OK)
        doc_die("cannot connect as doc_app_login", db);
    return db;
}

static void doc_jwt_teardown(m2m_db *db) {
    int ok = 1;
    const char *sub = m2m_auth_sub(db);
    if (!sub || strcmp(sub, "7") != 0) {
        fprintf(stderr, "doc fixture: the session's sub is %s, want 7\n",
                sub ? sub : "unset");
        ok = 0;
    }
    if (m2m_close(db) != M2M_OK) {
        fprintf(stderr, "doc fixture: closing db: %s\n", m2m_errmsg(db));
        ok = 0;
    }
    m2m_db *su = NULL;
    if (m2m_open(doc_jwt_owner, &su) != M2M_OK)
        doc_die("cannot reconnect as the owner", su);
    char got[256];
    doc_jwt_scalar(su,
                   "SELECT string_agg(room_id || ':' || user_id || ':' || "
                   "coalesce(role, '-'), ',' ORDER BY room_id, user_id) AS v "
                   "FROM room_members",
                   got, sizeof got);
    if (strcmp(got, "1:7:member,1:8:member") != 0) {
        fprintf(stderr,
                "doc fixture: room_members holds %s, want 1:7:member,1:8:member\n", got);
        ok = 0;
    }
    doc_jwt_scalar(su,
                   "SELECT string_agg(policyname, ',' ORDER BY policyname) AS v "
                   "FROM pg_policies WHERE schemaname = current_schema() "
                   "AND tablename = 'room_members'",
                   got, sizeof got);
    if (strcmp(got, "m2m_room_members_delete,m2m_room_members_insert,"
                    "m2m_room_members_select,m2m_room_members_update") != 0) {
        fprintf(stderr, "doc fixture: policies on room_members: '%s'\n", got);
        ok = 0;
    }
    char drop[128];
    snprintf(drop, sizeof drop, "DROP SCHEMA %s CASCADE", doc_jwt_schema);
    if (m2m_exec(su, drop) != M2M_OK)
        doc_die("drop the page's schema", su);
    m2m_close(su);
    if (!ok)
        exit(1);
}

static int reply_401(const char *why) {
    fprintf(stderr, "401: %s\n", why);
    return 1;
}
#define DOC_SETUP_jwt()                                                                  \
    m2m_db *db = doc_jwt_setup();                                                        \
    const char *owner_url = doc_jwt_owner;                                               \
    const char *bearer_token = doc_jwt_token
#define DOC_TEARDOWN_jwt() doc_jwt_teardown(db)
#endif
#endif
