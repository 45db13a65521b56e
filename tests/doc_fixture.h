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
 *   jwt     guide, plus bearer_token and reply_401() for docs/jwt.md; these
 *           blocks are compiled, not run (they need a PostgreSQL login that
 *           may switch roles and a signed token)
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

static int reply_401(const char *why) {
    fprintf(stderr, "401: %s\n", why);
    return 1;
}
#define DOC_SETUP_jwt()                                                                  \
    DOC_SETUP_guide();                                                                   \
    const char *bearer_token = getenv("TOKEN")
#define DOC_TEARDOWN_jwt() DOC_TEARDOWN_guide()

#endif
