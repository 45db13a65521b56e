/* SPDX-License-Identifier: MIT */
/* Relation definitions: local keys other than id, text ids, schema-qualified
 * names, identifier validation before any SQL, the inverse relation, pivot
 * table creation, timestamps and the own pivot id column. */
#include "drivers/driver.h"
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

TEST(define_custom_int_local_keys) {
    /* Pivot keys point at users.uid and roles.rid, not at the ids. */
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, uid BIGINT NOT NULL UNIQUE, name "
           "TEXT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, rid BIGINT NOT NULL UNIQUE, name "
           "TEXT);"
           "CREATE TABLE ur(u BIGINT NOT NULL REFERENCES users(uid),"
           " r BIGINT NOT NULL REFERENCES roles(rid), PRIMARY KEY(u, r));"
           "INSERT INTO users VALUES (1, 100, 'ann'), (2, 200, 'bob');"
           "INSERT INTO roles VALUES (1, 10, 'admin'), (2, 20, 'editor'), (3, 30, "
           "'viewer');");
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                    .parent_key = "uid",
                                                    .related_table = "roles",
                                                    .related_key = "rid",
                                                    .pivot_table = "ur",
                                                    .foreign_pivot_key = "u",
                                                    .related_pivot_key = "r"});
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(100), FX_ITEMS(IT(10), IT(30)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "10,30");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT u, r FROM ur ORDER BY u, r"), "100|10,100|30");
    /* An id (not a local key) is unknown to the foreign key. */
    char *snap = fx_snap("ur");
    T_RC(M2M_CONSTRAINT, m2m_attach(rel, M2M_INT(100), FX_ITEMS(IT(2)), NULL, NULL));
    fx_assert_snap("ur", snap);
    /* Reads join on the local key: related rows 10 and 30 are roles 1 and 3. */
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(100), &q));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    assert_string_equal(fx_rows_str(rows, 0), "1|10|admin,3|30|viewer");
    m2m_query_free(q);
    m2m_relation_close(rel);
}

static m2m_relation *open_uuid_rel(void) {
    t_exec(
        "CREATE TABLE users(id BIGINT PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, name TEXT);"
        "CREATE TABLE roles(id BIGINT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT);"
        "CREATE TABLE user_roles(user_uuid TEXT NOT NULL REFERENCES users(uuid),"
        " role_code TEXT NOT NULL REFERENCES roles(code), granted_by TEXT,"
        " PRIMARY KEY(user_uuid, role_code));"
        "INSERT INTO users VALUES (1, '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'ann'),"
        " (2, '1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'bob');"
        "INSERT INTO roles VALUES (1, 'role-admin', 'admin'), (2, 'role-editor', "
        "'editor'),"
        " (3, 'role-moderator', 'moderator');");
    static const char *const cols[] = {"granted_by", NULL};
    return fx_open(&(m2m_relation_def){.parent_table = "users",
                                       .parent_key = "uuid",
                                       .parent_key_type = M2M_TTEXT,
                                       .related_table = "roles",
                                       .related_key = "code",
                                       .related_key_type = M2M_TTEXT,
                                       .pivot_table = "user_roles",
                                       .foreign_pivot_key = "user_uuid",
                                       .related_pivot_key = "role_code",
                                       .pivot_columns = cols});
}

#define ANN "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define BOB "1b4e28ba-2fa1-11d2-883f-0016d3cca427"

TEST(define_text_uuid_keys_all_operations) {
    m2m_relation *rel = open_uuid_rel();
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(
        rel, M2M_TEXT(ANN), FX_ITEMS(ITT("role-admin"), ITT("role-moderator")),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "super-user-id")},
                    .npivot = 1},
        &ch));
    assert_string_equal(FX_ATT(ch), "role-admin,role-moderator");
    assert_int_equal(ch->parent.type, M2M_TTEXT);
    assert_string_equal(ch->parent.s, ANN);
    m2m_changes_free(ch);
    T_OK(m2m_attach(rel, M2M_TEXT(BOB), FX_ITEMS(ITT("role-editor")), NULL, NULL));
    T_OK(m2m_sync(rel, M2M_TEXT(ANN), FX_ITEMS(ITT("role-editor"), ITT("role-moderator")),
                  NULL, &ch));
    assert_string_equal(FX_ATT(ch), "role-editor");
    assert_string_equal(FX_DET(ch), "role-admin");
    m2m_changes_free(ch);
    T_OK(m2m_toggle(rel, M2M_TEXT(ANN), FX_ITEMS(ITT("role-admin"), ITT("role-editor")),
                    NULL, &ch));
    assert_string_equal(FX_ATT(ch), "role-admin");
    assert_string_equal(FX_DET(ch), "role-editor");
    m2m_changes_free(ch);
    T_OK(m2m_update_pivot(rel, M2M_TEXT(ANN), FX_VALS(M2M_TEXT("role-admin")),
                          FX_COLS(COLT("granted_by", "root")), &ch));
    assert_int_equal(ch->nupdated, 1);
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_uuid, role_code, granted_by FROM user_roles"
                               " ORDER BY user_uuid, role_code"),
                        BOB "|role-editor|~," ANN "|role-admin|root," ANN
                            "|role-moderator|super-user-id");
    T_OK(m2m_detach(rel, M2M_TEXT(ANN), FX_VALS(M2M_TEXT("role-moderator")), NULL, &ch));
    assert_int_equal(ch->ndetached, 1);
    m2m_changes_free(ch);
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_TEXT(ANN), &q));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    assert_string_equal(fx_rows_str(rows, 0), "1|role-admin|admin|root");
    /* The same query re-pointed at another text parent keeps its own copy:
     * the caller's string is gone before the read. */
    char *bob = strdup(BOB);
    T_OK(m2m_query_set_parent(q, M2M_TEXT(bob)));
    free(bob);
    T_OK(m2m_query_get(q, &rows));
    assert_string_equal(fx_rows_str(rows, 0), "2|role-editor|editor|~");
    T_RC(M2M_TYPE, m2m_query_set_parent(q, M2M_INT(1)));
    m2m_query_free(q);
    m2m_relation_close(rel);
}

/* Eager loads send the parents (and, two-query, the related keys) as one id
 * array. The rows keep their own copy: they are read here after the query
 * and the caller's parent strings are gone, with a parent given twice and
 * one without rows; and so for a single parent. */
TEST(define_text_keys_eager_rows_outlive_query) {
    m2m_relation *rel = open_uuid_rel();
    T_OK(m2m_attach(rel, M2M_TEXT(ANN), FX_ITEMS(ITT("role-admin"), ITT("role-editor")),
                    NULL, NULL));
    T_OK(m2m_attach(rel, M2M_TEXT(BOB), FX_ITEMS(ITT("role-editor")), NULL, NULL));
    for (int strategy = M2M_JOIN; strategy <= M2M_TWO_QUERY; strategy++) {
        char *names[4] = {strdup(BOB), strdup(ANN), strdup("no-such-user"), strdup(BOB)};
        m2m_value *parents = calloc(4, sizeof *parents);
        assert_non_null(parents);
        for (int i = 0; i < 4; i++)
            parents[i] = M2M_TEXT(names[i]);
        m2m_query *q = NULL;
        T_OK(m2m_query_new_many(rel, parents, 4, &q));
        T_OK(m2m_query_strategy(q, strategy));
        m2m_rows *rows = NULL;
        T_OK(m2m_query_get(q, &rows));
        m2m_query_free(q);
        for (int i = 0; i < 4; i++) {
            memset(names[i], 'x', strlen(names[i]));
            free(names[i]);
        }
        free(parents);
        assert_string_equal(fx_rows_str(rows, 1),
                            BOB ":2|role-editor|editor|~," ANN
                                ":1|role-admin|admin|~," ANN ":2|role-editor|editor|~");
        /* One parent is not selected: the rows answer it from their copy
         * of the parameter, which outlives the caller's string too. */
        char *ann = strdup(ANN);
        T_OK(m2m_query_new(rel, M2M_TEXT(ann), &q));
        T_OK(m2m_query_strategy(q, strategy));
        T_OK(m2m_query_get(q, &rows));
        m2m_query_free(q);
        memset(ann, 'x', strlen(ann));
        free(ann);
        assert_int_equal(m2m_rows_ncols(rows), 3);
        assert_string_equal(fx_rows_str(rows, 1),
                            ANN ":1|role-admin|admin|~," ANN ":2|role-editor|editor|~");
    }
    m2m_relation_close(rel);
}

TEST(define_schema_qualified_names) {
    fx_users_roles();
    const char *s = fx_schema();
    char users[160], roles[160], pivot[160];
    snprintf(users, sizeof users, "%s.users", s);
    snprintf(roles, sizeof roles, "%s.roles", s);
    snprintf(pivot, sizeof pivot, "%s.role_user", s);
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = users,
                                                    .related_table = roles,
                                                    .pivot_table = pivot,
                                                    .foreign_pivot_key = "user_id",
                                                    .related_pivot_key = "role_id"});
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "2,3");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_id, role_id FROM role_user ORDER BY 1, 2"),
                        "1|2,1|3");
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "2,3");
    m2m_relation_close(rel);
}

/* A definition with one field replaced must fail with M2M_INVALID, set *out
 * to NULL, name the field or the value in the message, and run no SQL. */
static void expect_invalid(m2m_relation_def def, const char *field, const char *value) {
    m2m_stats_reset(t_db());
    m2m_relation *rel = (m2m_relation *)&def; /* must be overwritten with NULL */
    int rc = m2m_relation_open(t_db(), &def, &rel);
    if (rc != M2M_INVALID)
        fail_msg("%s = '%s': got %s, expected M2M_INVALID", field, value ? value : "NULL",
                 m2m_errname(rc));
    assert_null(rel);
    assert_int_equal(m2m_errcode(t_db()), M2M_INVALID);
    const char *msg = m2m_errmsg(t_db());
    assert_non_null(msg);
    /* "pivot_columns" may be spelled "pivot column" in prose. */
    char prose[64];
    snprintf(prose, sizeof prose, "%s", field);
    for (char *p = prose; *p; p++)
        if (*p == '_')
            *p = ' ';
    size_t len = strlen(prose);
    if (len > 1 && prose[len - 1] == 's')
        prose[len - 1] = '\0';
    if (!strstr(msg, field) && !strstr(msg, prose) &&
        !(value && *value && strstr(msg, value)))
        fail_msg("message for %s = '%s' names neither: \"%s\"", field,
                 value ? value : "NULL", msg);
    assert_int_equal(fx_executed(), 0);
}

TEST(define_invalid_identifiers_rejected_before_sql) {
    fx_users_roles();
    char *snap = fx_snap("role_user");
    const m2m_relation_def ok = {.parent_table = "users",
                                 .related_table = "roles",
                                 .pivot_table = "role_user",
                                 .foreign_pivot_key = "user_id",
                                 .related_pivot_key = "role_id"};
    char longname[201];
    memset(longname, 'a', 200);
    longname[200] = '\0';
    const char *bad[] = {
        "users; DROP TABLE x", "a b", "",   longname, "x.y.z",     "1abc",
        "role\"user",          "a-b", "a.", ".a",     "ta\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m2m_relation_def d = ok;
        d.parent_table = bad[i];
        expect_invalid(d, "parent_table", bad[i]);
        d = ok;
        d.parent_key = bad[i];
        expect_invalid(d, "parent_key", bad[i]);
        d = ok;
        d.related_table = bad[i];
        expect_invalid(d, "related_table", bad[i]);
        d = ok;
        d.related_key = bad[i];
        expect_invalid(d, "related_key", bad[i]);
        d = ok;
        d.pivot_table = bad[i];
        expect_invalid(d, "pivot_table", bad[i]);
        /* Column names may not be schema-qualified. */
        d = ok;
        d.foreign_pivot_key = bad[i];
        expect_invalid(d, "foreign_pivot_key", bad[i]);
        d = ok;
        d.related_pivot_key = bad[i];
        expect_invalid(d, "related_pivot_key", bad[i]);
        const char *cols[] = {"granted_by", bad[i], NULL};
        d = ok;
        d.pivot_columns = cols;
        expect_invalid(d, "pivot_columns", bad[i]);
        d = ok;
        d.timestamps = 1;
        d.created_at = bad[i];
        expect_invalid(d, "created_at", bad[i]);
        d = ok;
        d.timestamps = 1;
        d.updated_at = bad[i];
        expect_invalid(d, "updated_at", bad[i]);
        d = ok;
        d.pivot_id = bad[i];
        expect_invalid(d, "pivot_id", bad[i]);
        const m2m_col scope[] = {COLT(bad[i], "admin")};
        d = ok;
        d.scope = scope;
        d.nscope = 1;
        expect_invalid(d, "scope", bad[i]);
    }
    /* A qualified column name is not a column name. */
    m2m_relation_def d = ok;
    d.foreign_pivot_key = "role_user.user_id";
    expect_invalid(d, "foreign_pivot_key", "role_user.user_id");
    /* Required fields. */
    d = ok;
    d.parent_table = NULL;
    expect_invalid(d, "parent_table", NULL);
    d = ok;
    d.related_table = NULL;
    expect_invalid(d, "related_table", NULL);
    d = ok;
    d.pivot_table = NULL;
    expect_invalid(d, "pivot_table", NULL);
    d = ok;
    d.foreign_pivot_key = NULL;
    expect_invalid(d, "foreign_pivot_key", NULL);
    d = ok;
    d.related_pivot_key = NULL;
    expect_invalid(d, "related_pivot_key", NULL);
    /* Key types: only int and text. */
    d = ok;
    d.parent_key_type = M2M_TREAL;
    expect_invalid(d, "parent_key_type", NULL);
    d = ok;
    d.related_key_type = (m2m_type)42;
    expect_invalid(d, "related_key_type", NULL);
    /* A scope value must be a value (a NULL text pointer is not). */
    const m2m_col nullscope[] = {
        {.name = "granted_by", .value = {.type = M2M_TTEXT, .s = NULL}}};
    d = ok;
    d.scope = nullscope;
    d.nscope = 1;
    expect_invalid(d, "scope", "granted_by");
    /* The tables were never touched. */
    fx_assert_snap("role_user", snap);
    assert_int_equal(fx_count("users"), 5);
}

TEST(define_valid_identifiers_accepted) {
    /* Identifiers are always quoted, so mixed case must be created quoted
     * (PostgreSQL folds unquoted names to lower case). */
    t_exec("CREATE TABLE \"_Users9\"(id BIGINT PRIMARY KEY);"
           "CREATE TABLE \"R\"(id BIGINT PRIMARY KEY);"
           "CREATE TABLE p_(a_1 BIGINT NOT NULL REFERENCES \"_Users9\"(id),"
           " \"B2\" BIGINT NOT NULL REFERENCES \"R\"(id), PRIMARY KEY(a_1, \"B2\"));"
           "INSERT INTO \"_Users9\" VALUES (1); INSERT INTO \"R\" VALUES (7);");
    char name63[64], ddl[128];
    memset(name63, 'z', 63);
    name63[63] = '\0';
    snprintf(ddl, sizeof ddl, "CREATE TABLE %s(id BIGINT PRIMARY KEY)", name63);
    t_exec(ddl);
    m2m_relation *rel = NULL;
    /* 63 characters is the longest accepted name (PostgreSQL's limit). */
    T_OK(m2m_relation_open(t_db(),
                           &(m2m_relation_def){.parent_table = name63,
                                               .related_table = "R",
                                               .pivot_table = "p_",
                                               .foreign_pivot_key = "a_1",
                                               .related_pivot_key = "B2"},
                           &rel));
    m2m_relation_close(rel);
    rel = fx_open(&(m2m_relation_def){.parent_table = "_Users9",
                                      .related_table = "R",
                                      .pivot_table = "p_",
                                      .foreign_pivot_key = "a_1",
                                      .related_pivot_key = "B2"});
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(7)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "7");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT a_1, \"B2\" FROM p_"), "1|7");
    m2m_relation_close(rel);
}

TEST(define_inverse_same_pairs) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_attach(
        rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "root")}, .npivot = 1},
        NULL));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(2), IT(3)), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(3), FX_ITEMS(IT(2)), NULL, NULL));
    m2m_relation *inv = NULL;
    T_OK(m2m_relation_inverse(rel, &inv));
    assert_non_null(inv);
    assert_ptr_equal(m2m_relation_db(inv), t_db());
    /* Role 2's users, with the pivot columns carried over. */
    assert_string_equal(fx_read_both(inv, M2M_INT(2), NULL, 1), "1,2,3");
    assert_string_equal(fx_read_both(inv, M2M_INT(1), NULL, 0), "1|ann|30|root|~");
    assert_string_equal(fx_read_both(inv, M2M_INT(5), NULL, 1), "");
    /* Every pair seen from the users side is seen from the roles side. */
    const m2m_value roles[] = {M2M_INT(1), M2M_INT(2), M2M_INT(3), M2M_INT(4),
                               M2M_INT(5)};
    assert_string_equal(fx_read_many_both(inv, roles, 5, NULL), "1:1,2:1,2:2,2:3,3:2");
    /* Writes through the inverse write the same pivot table the other way. */
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(inv, M2M_INT(4), FX_ITEMS(IT(1), IT(5)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "1,5");
    m2m_changes_free(ch);
    T_OK(m2m_detach(inv, M2M_INT(2), FX_VALS(M2M_INT(3)), NULL, &ch));
    assert_int_equal(ch->ndetached, 1);
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_id, role_id FROM role_user ORDER BY 1, 2"),
                        "1|1,1|2,1|4,2|2,2|3,5|4");
    /* The inverse of the inverse is the original direction. */
    m2m_relation *back = NULL;
    T_OK(m2m_relation_inverse(inv, &back));
    assert_string_equal(fx_read_both(back, M2M_INT(1), NULL, 1), "1,2,4");
    m2m_relation_close(back);
    m2m_relation_close(inv);
    m2m_relation_close(rel);
}

TEST(define_inverse_keeps_scope_and_timestamps) {
    fx_rooms();
    const m2m_col scope[] = {COLT("role", "admin")};
    m2m_relation *admins = fx_rel_members(scope, 1);
    t_exec("INSERT INTO room_members(room_id, user_id, role) VALUES"
           " (1, 1, 'admin'), (2, 1, 'member'), (3, 1, 'admin'), (1, 2, 'admin')");
    m2m_relation *inv = NULL;
    T_OK(m2m_relation_inverse(admins, &inv));
    /* Rooms where user 1 is admin. */
    assert_string_equal(fx_read_both(inv, M2M_INT(1), NULL, 1), "1,3");
    T_OK(m2m_attach(inv, M2M_INT(2), FX_ITEMS(IT(3)), NULL, NULL));
    assert_string_equal(t_rows("SELECT room_id, role FROM room_members WHERE user_id = 2"
                               " ORDER BY room_id"),
                        "1|admin,3|admin");
    /* Detach all through the scoped inverse leaves user 1's member row. */
    T_OK(m2m_detach(inv, M2M_INT(1), NULL, 0, NULL, NULL));
    assert_string_equal(
        t_rows("SELECT room_id, role FROM room_members WHERE user_id = 1"), "2|member");
    m2m_relation_close(inv);
    m2m_relation_close(admins);
}

static const char *const note_cols[] = {"note", NULL};

static m2m_relation *open_created(int timestamps, const char *pivot_id) {
    return fx_open(&(m2m_relation_def){.parent_table = "users",
                                       .related_table = "roles",
                                       .pivot_table = "made",
                                       .foreign_pivot_key = "user_id",
                                       .related_pivot_key = "role_id",
                                       .pivot_columns = note_cols,
                                       .timestamps = timestamps,
                                       .pivot_id = pivot_id});
}

/* Keys of a narrower type than BIGINT, and text keys of another width:
 * the pivot's key columns fit them (MariaDB's foreign keys need the very
 * type and collation), and the foreign keys still hold. */
TEST(define_create_pivot_narrow_and_text_keys) {
    t_exec("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
           "CREATE TABLE tags(code VARCHAR(40) PRIMARY KEY);"
           "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"
           "INSERT INTO tags VALUES ('red'), ('blue')");
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                    .related_table = "tags",
                                                    .related_key = "code",
                                                    .related_key_type = M2M_TTEXT,
                                                    .pivot_table = "user_tags",
                                                    .foreign_pivot_key = "user_id",
                                                    .related_pivot_key = "tag"});
    T_OK(m2m_relation_create_pivot(rel));
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITT("red"), ITT("blue")), NULL, &ch));
    assert_int_equal(ch->nattached, 2);
    m2m_changes_free(ch);
    T_RC(M2M_CONSTRAINT, m2m_attach(rel, M2M_INT(2), FX_ITEMS(ITT("green")), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "green"));
    T_RC(M2M_CONSTRAINT, m2m_attach(rel, M2M_INT(9), FX_ITEMS(ITT("red")), NULL, NULL));
    assert_string_equal(t_rows("SELECT user_id, tag FROM user_tags ORDER BY 1, 2"),
                        "1|blue,1|red");
    m2m_relation_close(rel);
}

/* A text parent key of 600 characters: MariaDB's lock row keeps its hash,
 * so it fits like any other. */
TEST(define_long_text_parent_key) {
    char key[601];
    memset(key, 'k', 600);
    key[600] = '\0';
    t_exec("CREATE TABLE docs(id VARCHAR(700) PRIMARY KEY);"
           "CREATE TABLE tags(id BIGINT PRIMARY KEY);"
           "INSERT INTO tags VALUES (1), (2);"
           "CREATE TABLE doc_tags(doc_id VARCHAR(700) NOT NULL REFERENCES docs(id),"
           " tag_id BIGINT NOT NULL REFERENCES tags(id), PRIMARY KEY(doc_id, tag_id))");
    m2m_value p = M2M_TEXT(key);
    T_OK(m2m_sql(t_db(), "INSERT INTO docs VALUES ($1)", &p, 1, NULL));
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "docs",
                                                    .related_table = "tags",
                                                    .pivot_table = "doc_tags",
                                                    .foreign_pivot_key = "doc_id",
                                                    .related_pivot_key = "tag_id",
                                                    .parent_key_type = M2M_TTEXT});
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, p, FX_ITEMS(IT(1), IT(2)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "1,2");
    m2m_changes_free(ch);
    T_OK(m2m_toggle(rel, p, FX_ITEMS(IT(2)), NULL, NULL));
    assert_string_equal(t_rows("SELECT LENGTH(doc_id), tag_id FROM doc_tags"), "600|1");
    m2m_relation_close(rel);
}

/* MariaDB: JSON_TABLE would cut a text id longer than its column (768
 * characters, the longest key an index holds) without an error, so such an
 * id is refused before anything is sent. */
TEST_ONLY(mariadb, define_text_id_longer_than_a_key_refused) {
    char id[801];
    memset(id, 'x', 800);
    id[800] = '\0';
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY);"
           "CREATE TABLE tags(id VARCHAR(255) PRIMARY KEY);"
           "INSERT INTO users VALUES (1); INSERT INTO tags VALUES ('a');"
           "CREATE TABLE user_tags(user_id BIGINT NOT NULL REFERENCES users(id),"
           " tag_id VARCHAR(255) NOT NULL REFERENCES tags(id),"
           " PRIMARY KEY(user_id, tag_id))");
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                    .related_table = "tags",
                                                    .pivot_table = "user_tags",
                                                    .foreign_pivot_key = "user_id",
                                                    .related_pivot_key = "tag_id",
                                                    .related_key_type = M2M_TTEXT});
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITT("a")), NULL, NULL));
    T_RC(M2M_INVALID,
         m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_TEXT("a"), M2M_TEXT(id)), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "longer than 768 characters"));
    assert_string_equal(t_rows("SELECT user_id, tag_id FROM user_tags"), "1|a");

    /* Past m2m__ids_inline_max the ids go ahead of their statement in
     * pieces: the last one too long is still refused before any is sent,
     * by every form, and the connection goes on. */
    enum { N = 9001 };
    static char names[N - 1][8];
    m2m_value *ids = malloc(N * sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i + 1 < N; i++) {
        snprintf(names[i], sizeof names[i], "t%zu", i);
        ids[i] = M2M_TEXT(names[i]);
    }
    ids[N - 1] = M2M_TEXT(id);
    assert_true(N > m2m__ids_inline_max);
    T_RC(M2M_INVALID, m2m_detach(rel, M2M_INT(1), ids, N, NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "longer than 768 characters"));
    T_RC(M2M_INVALID, m2m_sync_ids(rel, M2M_INT(1), ids, N, NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "longer than 768 characters"));
    T_RC(M2M_INVALID, m2m_toggle_ids(rel, M2M_INT(1), ids, N, NULL, NULL));
    assert_string_equal(t_rows("SELECT user_id, tag_id FROM user_tags"), "1|a");
    ids[N - 1] = M2M_TEXT("a");
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(1), ids, N, NULL, &ch));
    assert_string_equal(FX_DET(ch), "a");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_id, tag_id FROM user_tags"), "");
    free(ids);
    m2m_relation_close(rel);
}

TEST(define_create_pivot_usable) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
           "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"
           "INSERT INTO roles VALUES (1, 'admin'), (2, 'editor');");
    m2m_relation *rel = open_created(1, "id");
    T_OK(m2m_relation_create_pivot(rel));
    /* Idempotent: the table exists now. */
    T_OK(m2m_relation_create_pivot(rel));
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(2, COLT("note", "hi")), IT(1)), NULL,
                    &ch));
    assert_string_equal(FX_ATT(ch), "1,2");
    m2m_changes_free(ch);
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(2)), NULL, NULL));
    assert_string_equal(
        t_rows("SELECT user_id, role_id, note, id FROM made ORDER BY 1, 2"),
        "1|1|~|1_1,1|2|hi|1_2,2|2|~|2_2");
    assert_int_equal(t_int("SELECT COUNT(*) FROM made WHERE created_at IS NOT NULL"
                           " AND updated_at IS NOT NULL",
                           NULL, 0),
                     3);
    /* The composite primary key rejects a duplicate pair. */
    int rc =
        m2m_exec(t_db(), "INSERT INTO made(user_id, role_id, id) VALUES (1, 2, 'x')");
    assert_true(rc == M2M_EXISTS || rc == M2M_CONSTRAINT);
    /* The foreign keys reject unknown ids. */
    rc = m2m_exec(t_db(), "INSERT INTO made(user_id, role_id, id) VALUES (1, 9, 'y')");
    assert_int_equal(rc, M2M_CONSTRAINT);
    /* Deleting a parent cascades to its pivot rows. */
    t_exec("DELETE FROM users WHERE id = 1");
    assert_string_equal(t_rows("SELECT user_id, role_id FROM made ORDER BY 1, 2"), "2|2");
    /* Deleting a related row cascades too. */
    t_exec("DELETE FROM roles WHERE id = 2");
    assert_int_equal(fx_count("made"), 0);
    m2m_relation_close(rel);
}

TEST(define_create_pivot_text_keys) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, uuid TEXT NOT NULL UNIQUE);"
           "CREATE TABLE tags(slug TEXT PRIMARY KEY);"
           "INSERT INTO users VALUES (1, 'u-1');"
           "INSERT INTO tags VALUES ('c'), ('go');");
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                    .parent_key = "uuid",
                                                    .parent_key_type = M2M_TTEXT,
                                                    .related_table = "tags",
                                                    .related_key = "slug",
                                                    .related_key_type = M2M_TTEXT,
                                                    .pivot_table = "user_tags",
                                                    .foreign_pivot_key = "user_uuid",
                                                    .related_pivot_key = "tag_slug"});
    T_OK(m2m_relation_create_pivot(rel));
    T_OK(m2m_sync(rel, M2M_TEXT("u-1"), FX_ITEMS(ITT("go"), ITT("c")), NULL, NULL));
    assert_string_equal(t_rows("SELECT user_uuid, tag_slug FROM user_tags ORDER BY 2"),
                        "u-1|c,u-1|go");
    T_RC(M2M_CONSTRAINT,
         m2m_attach(rel, M2M_TEXT("u-1"), FX_ITEMS(ITT("rust")), NULL, NULL));
    assert_int_equal(fx_count("user_tags"), 2);
    m2m_relation_close(rel);
}

TEST(define_create_pivot_all_or_nothing) {
    /* The parent table is dropped after the relation was opened: both
     * backends refuse (SQLite would accept a foreign key to a table that
     * does not exist) and nothing is made. */
    t_exec("CREATE TABLE roles(id BIGINT PRIMARY KEY); INSERT INTO roles VALUES (1);"
           "CREATE TABLE users(id BIGINT PRIMARY KEY);");
    m2m_relation *rel = open_created(0, NULL);
    t_exec("DROP TABLE users");
    T_RC(M2M_NOTFOUND, m2m_relation_create_pivot(rel));
    assert_non_null(strstr(m2m_errmsg(t_db()), "users"));
    m2m_rows *rows = NULL;
    assert_int_not_equal(m2m_sql(t_db(), "SELECT COUNT(*) FROM made", NULL, 0, &rows),
                         M2M_OK);
    m2m_rows_free(rows);
    /* Once the parent exists, the pivot is made and works. */
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY); INSERT INTO users VALUES (1)");
    T_OK(m2m_relation_create_pivot(rel));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    assert_string_equal(t_rows("SELECT user_id, role_id FROM made"), "1|1");
    m2m_relation_close(rel);
}

TEST(define_timestamps_filled_and_touched) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE made(user_id BIGINT NOT NULL REFERENCES users(id),"
           " role_id BIGINT NOT NULL REFERENCES roles(id), note TEXT,"
           " created_at TIMESTAMP, updated_at TIMESTAMP, PRIMARY KEY(user_id, role_id));"
           "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"
           "INSERT INTO roles VALUES (1, 'admin'), (2, 'editor');");
    m2m_relation *rel = open_created(1, NULL);
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(1)), NULL, NULL));
    assert_int_equal(t_int("SELECT COUNT(*) FROM made WHERE created_at IS NOT NULL"
                           " AND updated_at IS NOT NULL",
                           NULL, 0),
                     3);
    char before[4096];
    snprintf(
        before, sizeof before, "%s",
        t_rows(
            "SELECT user_id, role_id, created_at, updated_at FROM made ORDER BY 1, 2"));
    /* Timestamps may have one-second resolution. */
    struct timespec ts = {1, 100000000};
    nanosleep(&ts, NULL);
    m2m_changes *ch = NULL;
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(2)),
                          FX_COLS(COLT("note", "x")), &ch));
    assert_int_equal(ch->nupdated, 1);
    m2m_changes_free(ch);
    /* Row (1,2): created_at kept, updated_at moved; the others untouched. */
    char after_other[4096];
    snprintf(after_other, sizeof after_other, "%s",
             t_rows("SELECT user_id, role_id, created_at, updated_at FROM made"
                    " WHERE NOT (user_id = 1 AND role_id = 2) ORDER BY 1, 2"));
    char want_other[4096] = "";
    {
        /* Rows (1,1) and (2,1) as they were: the first and third of before. */
        char *dup = strdup(before);
        char *r1 = strtok(dup, ",");
        strtok(NULL, ",");
        char *r3 = strtok(NULL, ",");
        snprintf(want_other, sizeof want_other, "%s,%s", r1, r3);
        free(dup);
    }
    assert_string_equal(after_other, want_other);
    assert_int_equal(t_int("SELECT COUNT(*) FROM made m WHERE user_id = 1 AND role_id = 2"
                           " AND updated_at > created_at",
                           NULL, 0),
                     1);
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM made WHERE updated_at = created_at", NULL, 0), 2);
    /* Reads may name the timestamps as pivot columns. */
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(2), &q));
    T_OK(m2m_query_with_pivot(q, "created_at"));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    assert_int_equal(m2m_rows_npivot(rows), 1);
    assert_int_not_equal(m2m_rows_pivot(rows, "created_at").type, M2M_TNULL);
    assert_int_equal(m2m_rows_next(rows), M2M_DONE);
    m2m_rows_free(rows);
    m2m_query_free(q);
    m2m_relation_close(rel);
}

TEST(define_pivot_id_filled) {
    fx_made();
    m2m_relation *rel = open_created(0, "pid");
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(45)), NULL, NULL));
    T_OK(m2m_sync(rel, M2M_INT(12), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_toggle(rel, M2M_INT(12), FX_ITEMS(IT(45)), NULL, NULL));
    assert_string_equal(t_rows("SELECT pid, user_id, role_id FROM made ORDER BY 2, 3"),
                        "1_3|1|3,1_45|1|45,12_3|12|3,12_45|12|45");
    m2m_relation_close(rel);
}

TEST(define_clashing_columns_rejected_before_sql) {
    fx_users_roles();
    char *snap = fx_snap("role_user");
    const m2m_relation_def ok = {.parent_table = "users",
                                 .related_table = "roles",
                                 .pivot_table = "role_user",
                                 .foreign_pivot_key = "user_id",
                                 .related_pivot_key = "role_id"};
    m2m_relation_def d = ok;
    d.timestamps = 1;
    d.created_at = d.updated_at = "granted_by";
    expect_invalid(d, "updated_at", "granted_by");
    d = ok;
    d.timestamps = 1;
    d.updated_at = "created_at"; /* the default name of created_at */
    expect_invalid(d, "updated_at", "created_at");
    d = ok;
    d.pivot_id = "user_id";
    expect_invalid(d, "pivot_id", "user_id");
    d = ok;
    d.pivot_id = "role_id";
    expect_invalid(d, "pivot_id", "role_id");
    d = ok;
    d.timestamps = 1;
    d.created_at = "user_id";
    expect_invalid(d, "created_at", "user_id");
    d = ok;
    d.timestamps = 1;
    d.updated_at = "role_id";
    expect_invalid(d, "updated_at", "role_id");
    d = ok;
    d.timestamps = 1;
    d.pivot_id = "updated_at";
    expect_invalid(d, "pivot_id", "updated_at");
    /* A pivot column listed twice. */
    const char *twice[] = {"granted_by", "assigned_at", "granted_by", NULL};
    d = ok;
    d.pivot_columns = twice;
    expect_invalid(d, "pivot_columns", "granted_by");
    /* Scope values of no valid type, or numbers the backends store apart. */
    const m2m_col badtype[] = {{.name = "granted_by", .value = {.type = (m2m_type)9}}};
    d = ok;
    d.scope = badtype;
    d.nscope = 1;
    expect_invalid(d, "scope", "granted_by");
    const double odd[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        const m2m_col sc[] = {COL("granted_by", M2M_REAL(odd[i]))};
        d = ok;
        d.scope = sc;
        d.nscope = 1;
        expect_invalid(d, "scope", "granted_by");
    }
    fx_assert_snap("role_user", snap);
}

TEST(define_nan_and_infinite_pivot_values_rejected) {
    fx_rooms();
    m2m_relation *rel = fx_rel_members(NULL, 0);
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(1, COL("role", M2M_REAL(1.5)))), NULL,
                    NULL));
    const double odd[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        char *snap = fx_snap("room_members");
        m2m_changes *ch = NULL;
        const m2m_col c[] = {COL("role", M2M_REAL(odd[i]))};
        T_RC(M2M_INVALID, m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(2, c[0])), NULL, &ch));
        assert_null(ch);
        assert_non_null(strstr(m2m_errmsg(t_db()), "role"));
        T_RC(M2M_INVALID, m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)),
                                     &(m2m_opts){.pivot = c, .npivot = 1}, NULL));
        assert_non_null(strstr(m2m_errmsg(t_db()), "role"));
        T_RC(M2M_INVALID, m2m_sync(rel, M2M_INT(1), FX_ITEMS(ITP(1, c[0])),
                                   &(m2m_opts){.flags = M2M_UPDATE_EXISTING}, NULL));
        T_RC(M2M_INVALID,
             m2m_toggle(rel, M2M_INT(1), FX_ITEMS(ITP(3, c[0])), NULL, NULL));
        T_RC(M2M_INVALID,
             m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)), c, 1, &ch));
        assert_null(ch);
        assert_int_equal(m2m_errcode(t_db()), M2M_INVALID);
        assert_non_null(strstr(m2m_errmsg(t_db()), "role"));
        fx_assert_snap("room_members", snap);
    }
    assert_string_equal(fx_pivot_rows("room_members", "room_id", "user_id", "role", 1),
                        "1|1.5");
    m2m_relation_close(rel);
}

TEST(define_same_failure_same_code) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    /* A parent id of no valid type is named as such, not as "NULL". */
    char *snap = fx_snap("role_user");
    m2m_value bad = {.type = (m2m_type)7};
    T_RC(M2M_TYPE, m2m_attach(rel, bad, FX_ITEMS(IT(1)), NULL, NULL));
    const char *msg = m2m_errmsg(t_db());
    assert_null(strstr(msg, "NULL"));
    assert_non_null(strstr(msg, "parent id"));
    assert_non_null(strstr(msg, "7"));
    T_RC(M2M_TYPE, m2m_detach(rel, M2M_INT(1), (const m2m_value[]){bad}, 1, NULL, NULL));
    msg = m2m_errmsg(t_db());
    assert_null(strstr(msg, "NULL"));
    assert_non_null(strstr(msg, "related id"));
    T_RC(M2M_TYPE, m2m_attach(rel, M2M_REAL(1.5), FX_ITEMS(IT(1)), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "1.5"));
    /* A pivot column dropped after the relation was opened. */
    t_exec("ALTER TABLE role_user DROP COLUMN assigned_at");
    fx_assert_snap("role_user", snap);
    snap = fx_snap("role_user");
    T_RC(M2M_NOTFOUND,
         m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(1, COLT("assigned_at", "now"))), NULL,
                    NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "assigned_at"));
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

/* m2m_relation_open must fail with want, naming name in its message. */
static void expect_open_fails(m2m_relation_def def, int want, const char *name) {
    m2m_relation *rel = (m2m_relation *)&def;
    int rc = m2m_relation_open(t_db(), &def, &rel);
    if (rc != want)
        fail_msg("'%s': got %s (%s), expected %s", name, m2m_errname(rc),
                 m2m_errmsg(t_db()), m2m_errname(want));
    assert_null(rel);
    assert_int_equal(m2m_errcode(t_db()), want);
    if (!strstr(m2m_errmsg(t_db()), name))
        fail_msg("message does not name '%s': %s", name, m2m_errmsg(t_db()));
}

TEST(define_checked_against_the_database) {
    fx_users_roles();
    t_exec("CREATE TABLE tags(slug TEXT PRIMARY KEY);"
           "CREATE TABLE user_tags(user_id BIGINT NOT NULL, tag BIGINT NOT NULL);");
    char *snap = fx_snap("role_user");
    static const char *const cols[] = {"granted_by", "assigned_at", NULL};
    const m2m_relation_def ok = {.parent_table = "users",
                                 .related_table = "roles",
                                 .pivot_table = "role_user",
                                 .foreign_pivot_key = "user_id",
                                 .related_pivot_key = "role_id",
                                 .pivot_columns = cols};
    /* A good definition costs one catalog query; its inverse none. */
    m2m_stats_reset(t_db());
    m2m_relation *rel = fx_open(&ok), *inv = NULL;
    assert_int_equal(fx_executed(), 1);
    m2m_stats_reset(t_db());
    T_OK(m2m_relation_inverse(rel, &inv));
    assert_int_equal(fx_executed(), 0);
    m2m_relation_close(inv);
    m2m_relation_close(rel);
    m2m_relation_def d = ok;
    d.parent_table = "userz";
    expect_open_fails(d, M2M_NOTFOUND, "userz");
    d = ok;
    d.related_table = "rolez";
    expect_open_fails(d, M2M_NOTFOUND, "rolez");
    d = ok;
    d.parent_key = "uid";
    expect_open_fails(d, M2M_NOTFOUND, "uid");
    d = ok;
    d.related_key = "rid";
    expect_open_fails(d, M2M_NOTFOUND, "rid");
    d = ok;
    d.foreign_pivot_key = "usr_id";
    expect_open_fails(d, M2M_NOTFOUND, "usr_id");
    d = ok;
    d.related_pivot_key = "rol_id";
    expect_open_fails(d, M2M_NOTFOUND, "rol_id");
    const char *typo[] = {"granted_by", "asigned_at", NULL};
    d = ok;
    d.pivot_columns = typo;
    expect_open_fails(d, M2M_NOTFOUND, "asigned_at");
    const m2m_col scope[] = {COLT("kind", "x")};
    d = ok;
    d.scope = scope;
    d.nscope = 1;
    expect_open_fails(d, M2M_NOTFOUND, "kind");
    d = ok;
    d.timestamps = 1;
    expect_open_fails(d, M2M_NOTFOUND, "created_at");
    d = ok;
    d.pivot_id = "pid";
    expect_open_fails(d, M2M_NOTFOUND, "pid");
    d = ok;
    d.owner_column = "owner";
    expect_open_fails(d, M2M_NOTFOUND, "owner");
    /* Key types: integer ids on a text key, text ids on integer keys. */
    d = ok;
    d.parent_key_type = M2M_TTEXT;
    expect_open_fails(d, M2M_TYPE, "id");
    d = ok;
    d.related_table = "tags";
    d.related_key = "slug";
    expect_open_fails(d, M2M_TYPE, "slug");
    d.related_key_type = M2M_TTEXT;
    d.pivot_table = "user_tags";
    d.related_pivot_key = "tag";
    d.pivot_columns = NULL;
    expect_open_fails(d, M2M_TYPE, "tag");
    fx_assert_snap("role_user", snap);
}

TEST(define_missing_pivot_allowed_until_used) {
    fx_users_roles();
    m2m_relation *rel = open_created(0, NULL);
    /* The pivot does not exist yet: every use says so. */
    T_RC(M2M_NOTFOUND, m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "made"));
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    int64_t n = -1;
    T_RC(M2M_NOTFOUND, m2m_query_count(q, &n));
    assert_non_null(strstr(m2m_errmsg(t_db()), "made"));
    m2m_query_free(q);
    char v[M2M_VERSION_LEN];
    T_RC(M2M_NOTFOUND, m2m_version(rel, M2M_INT(1), v));
    /* Once created, the relation works. */
    T_OK(m2m_relation_create_pivot(rel));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(2, COLT("note", "n"))), NULL, NULL));
    assert_string_equal(t_rows("SELECT user_id, role_id, note FROM made"), "1|2|n");
    m2m_relation_close(rel);
    /* A pivot made by someone else without a declared column is found out
     * at first use. */
    static const char *const note[] = {"note", NULL};
    rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                      .related_table = "roles",
                                      .pivot_table = "made2",
                                      .foreign_pivot_key = "user_id",
                                      .related_pivot_key = "role_id",
                                      .pivot_columns = note});
    t_exec("CREATE TABLE made2(user_id BIGINT, role_id BIGINT)");
    T_RC(M2M_NOTFOUND, m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "note"));
    assert_int_equal(fx_count("made2"), 0);
    m2m_relation_close(rel);
}

/* The names of the indexes on table other than its primary key's. */
static const char *index_names(const char *table) {
    char sql[512];
    if (strcmp(m2m_backend(t_db()), "sqlite") == 0)
        snprintf(sql, sizeof sql,
                 "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '%s'"
                 " AND sql IS NOT NULL ORDER BY name",
                 table);
    else if (strcmp(m2m_backend(t_db()), "mariadb") == 0)
        snprintf(sql, sizeof sql,
                 "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS"
                 " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s'"
                 " AND INDEX_NAME <> 'PRIMARY' ORDER BY 1",
                 table);
    else
        snprintf(
            sql, sizeof sql,
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = '\"%s\"'::regclass AND NOT i.indisprimary"
            " ORDER BY 1",
            table);
    return t_rows(sql);
}

static void create_pivot_named(const char *table, const char *rk) {
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                    .related_table = "roles",
                                                    .pivot_table = table,
                                                    .foreign_pivot_key = "user_id",
                                                    .related_pivot_key = rk});
    T_OK(m2m_relation_create_pivot(rel));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
    m2m_relation_close(rel);
}

TEST(define_create_pivot_index_names_unique_and_valid) {
    fx_users_roles();
    /* "a_b" + "c_d" and "a_b_c" + "d" once made one index name. */
    create_pivot_named("a_b", "c_d");
    create_pivot_named("a_b_c", "d");
    char first[256];
    snprintf(first, sizeof first, "%s", index_names("a_b"));
    const char *second = index_names("a_b_c");
    assert_int_equal(strchr(first, ',') == NULL, 1);
    assert_true(strlen(first) > 0 && strlen(second) > 0 && !strchr(second, ','));
    assert_string_not_equal(first, second);
    /* Names of 63 bytes differing only at their end. */
    char t1[64], t2[64], rk[64];
    memset(t1, 'p', 63);
    t1[63] = '\0';
    memcpy(t2, t1, 64);
    t2[62] = 'q';
    memset(rk, 'r', 63);
    rk[63] = '\0';
    create_pivot_named(t1, rk);
    create_pivot_named(t2, rk);
    snprintf(first, sizeof first, "%s", index_names(t1));
    second = index_names(t2);
    assert_true(strlen(first) > 0 && strlen(first) <= 63 && !strchr(first, ','));
    assert_true(strlen(second) > 0 && strlen(second) <= 63 && !strchr(second, ','));
    assert_string_not_equal(first, second);
    /* An existing pivot is left as it is: no second index. */
    create_pivot_named("a_b", "c_d");
    assert_int_equal(strchr(index_names("a_b"), ',') == NULL, 1);
    /* Schema-qualified names: the index goes with its table. */
    char users[160], roles[160], pivot[160];
    snprintf(users, sizeof users, "%s.users", fx_schema());
    snprintf(roles, sizeof roles, "%s.roles", fx_schema());
    snprintf(pivot, sizeof pivot, "%s.sq", fx_schema());
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = users,
                                                    .related_table = roles,
                                                    .pivot_table = pivot,
                                                    .foreign_pivot_key = "user_id",
                                                    .related_pivot_key = "role_id"});
    T_OK(m2m_relation_create_pivot(rel));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    assert_string_equal(t_rows("SELECT user_id, role_id FROM sq"), "1|3");
    T_RC(M2M_CONSTRAINT, m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(9)), NULL, NULL));
    assert_true(strlen(index_names("sq")) > 0);
    m2m_relation_close(rel);
}
