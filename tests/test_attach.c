/* SPDX-License-Identifier: MIT */
/* attach: one id, many, shared and per-id pivot data, duplicate safety (with
 * and without a unique index), duplicates inside one call, and foreign-key
 * rejection that names the id and attaches nothing. */
#include "fixtures.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ROWS(parent)                                                                     \
    fx_pivot_rows("role_user", "user_id", "role_id", "granted_by, assigned_at", parent)

TEST(attach_single_id) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, &ch));
    assert_non_null(ch);
    assert_int_equal(ch->op, M2M_OP_ATTACH);
    assert_int_equal(ch->parent.type, M2M_TINT);
    assert_int_equal(ch->parent.i, 1);
    assert_string_equal(FX_ATT(ch), "2");
    assert_int_equal(ch->ndetached, 0);
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT * FROM role_user"), "1|2|~|~");
    m2m_relation_close(rel);
}

TEST(attach_many_ids) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(3), IT(1), IT(5)), NULL, &ch));
    assert_int_equal(ch->nattached, 3);
    assert_string_equal(FX_ATT(ch), "1,3,5");
    m2m_changes_free(ch);
    assert_string_equal(ROWS(2), "1|~|~,3|~|~,5|~|~");
    assert_string_equal(ROWS(1), "");
    /* Without a report. */
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(4)), NULL, NULL));
    assert_string_equal(ROWS(1), "4|~|~");
    /* An empty list attaches nothing. */
    T_OK(m2m_attach(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    assert_int_equal(fx_count("role_user"), 4);
    m2m_relation_close(rel);
}

TEST(attach_shared_pivot_data) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    const m2m_opts opts = {.pivot = (const m2m_col[]){COLT("granted_by", "admin"),
                                                      COLT("assigned_at", "2024-01-02")},
                           .npivot = 2};
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), &opts, &ch));
    assert_string_equal(FX_ATT(ch), "1,2");
    m2m_changes_free(ch);
    assert_string_equal(ROWS(1), "1|admin|2024-01-02,2|admin|2024-01-02");
    m2m_relation_close(rel);
}

TEST(attach_per_id_pivot_overrides_shared_per_column) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    const m2m_opts opts = {.pivot = (const m2m_col[]){COLT("granted_by", "root"),
                                                      COLT("assigned_at", "2024-01-02")},
                           .npivot = 2};
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(
        rel, M2M_INT(1),
        FX_ITEMS(ITP(1, COLT("granted_by", "alice")),
                 ITP(2, COLT("assigned_at", "2025-05-05")),
                 ITP(3, COLT("granted_by", "bob"), COLT("assigned_at", "2026-06-06")),
                 IT(4)),
        &opts, &ch));
    assert_string_equal(FX_ATT(ch), "1,2,3,4");
    m2m_changes_free(ch);
    assert_string_equal(ROWS(1), "1|alice|2024-01-02,2|root|2025-05-05,3|bob|2026-06-06,"
                                 "4|root|2024-01-02");
    m2m_relation_close(rel);
}

TEST(attach_per_id_pivot_map_form) {
    /* The seeds' room.members().attach({[u1]: {role: 'admin'}, [u2]: ...}). */
    fx_rooms();
    m2m_relation *rel = fx_rel_members(NULL, 0);
    T_OK(
        m2m_attach(rel, M2M_INT(1),
                   FX_ITEMS(ITP(1, COLT("role", "admin")), ITP(2, COLT("role", "member")),
                            ITP(3, COLT("role", "member"), COL("rank", M2M_INT(7)))),
                   NULL, NULL));
    assert_string_equal(
        fx_pivot_rows("room_members", "room_id", "user_id", "role, rank", 1),
        "1|admin|~,2|member|~,3|member|7");
    /* A NULL value is stored as NULL. */
    T_OK(m2m_attach(
        rel, M2M_INT(2), FX_ITEMS(ITP(4, COL("role", M2M_NULL))),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("role", "x")}, .npivot = 1}, NULL));
    assert_string_equal(fx_pivot_rows("room_members", "room_id", "user_id", "role", 2),
                        "4|~");
    m2m_relation_close(rel);
}

TEST(attach_duplicate_safe_reports_only_new) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_attach(
        rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "first")}, .npivot = 1},
        NULL));
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3), IT(1)),
                    &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "second")},
                                .npivot = 1},
                    &ch));
    assert_string_equal(FX_ATT(ch), "3");
    m2m_changes_free(ch);
    /* Already attached rows keep their pivot data. */
    assert_string_equal(ROWS(1), "1|first|~,2|first|~,3|second|~");
    /* Attaching only existing ids changes nothing and reports nothing. */
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, &ch));
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    assert_int_equal(fx_count("role_user"), 3);
    m2m_relation_close(rel);
}

TEST(attach_duplicate_safe_without_unique_index) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE loose(user_id BIGINT NOT NULL REFERENCES users(id),"
           " role_id BIGINT NOT NULL REFERENCES roles(id), note TEXT);"
           "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"
           "INSERT INTO roles VALUES (1, 'a'), (2, 'b'), (3, 'c');");
    static const char *const cols[] = {"note", NULL};
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                    .related_table = "roles",
                                                    .pivot_table = "loose",
                                                    .foreign_pivot_key = "user_id",
                                                    .related_pivot_key = "role_id",
                                                    .pivot_columns = cols});
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "1,2");
    m2m_changes_free(ch);
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3), IT(3)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "3");
    m2m_changes_free(ch);
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(2), IT(2)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "2");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_id, role_id FROM loose ORDER BY 1, 2"),
                        "1|1,1|2,1|3,2|2");
    /* sync and toggle on the same table do not duplicate either. */
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(3), IT(3)), NULL, NULL));
    T_OK(m2m_toggle(rel, M2M_INT(2), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    assert_string_equal(t_rows("SELECT user_id, role_id FROM loose ORDER BY 1, 2"),
                        "1|1,1|3,2|1");
    m2m_relation_close(rel);
}

/* Remembers whether an INSERT into the pivot used NOT EXISTS. */
static void insert_trace(void *arg, const char *sql) {
    if (strncmp(sql, "INSERT", 6) == 0)
        *(int *)arg = strstr(sql, "NOT EXISTS") ? 1 : 0;
}

/* Attach stays duplicate-free whatever unique index the pivot has. A
 * unique index on exactly the two keys lets the insert rely on ON CONFLICT
 * alone; a wider or partial one does not, and NOT EXISTS stays. Per-id
 * pivot data, sync and toggle (whose one PostgreSQL statement keeps its
 * NOT EXISTS) stay exact in every case. MariaDB keeps NOT EXISTS whatever
 * the index (no insert skip that leaves errors alone). index: the unique
 * index's DDL; pivot: the relation's name for piv (NULL: schema.piv). */
static void unique_shape(const char *index, const char *pivot, int not_exists_wanted) {
    static const char *const cols[] = {"note", NULL};
    bool mariadb = strcmp(t_backend, "mariadb") == 0;
    t_exec("DROP TABLE IF EXISTS piv; DROP TABLE IF EXISTS users;"
           " DROP TABLE IF EXISTS roles;"
           "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE piv(user_id BIGINT NOT NULL REFERENCES users(id),"
           " role_id BIGINT NOT NULL REFERENCES roles(id), note TEXT);"
           "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"
           "INSERT INTO roles VALUES (1, 'a'), (2, 'b'), (3, 'c');");
    t_exec(index);
    char qualified[96];
    snprintf(qualified, sizeof qualified, "%s.piv", fx_schema());
    if (!pivot)
        pivot = qualified;
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                    .related_table = "roles",
                                                    .pivot_table = pivot,
                                                    .foreign_pivot_key = "user_id",
                                                    .related_pivot_key = "role_id",
                                                    .pivot_columns = cols});
    int not_exists = -1;
    m2m_trace(t_db(), insert_trace, &not_exists);
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3), IT(1)), NULL, &ch));
    m2m_trace(t_db(), NULL, NULL);
    assert_string_equal(FX_ATT(ch), "3");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_id, role_id FROM piv ORDER BY 1, 2"),
                        "1|1,1|2,1|3");
    if (not_exists != (mariadb ? 1 : not_exists_wanted))
        fail_msg("%s on %s: NOT EXISTS %d", index, pivot, not_exists);
    for (int round = 0; round < 2; round++) {
        T_OK(m2m_attach(rel, M2M_INT(2),
                        FX_ITEMS(ITP(3, COLT("note", "x")), ITP(1, COLT("note", "y"))),
                        NULL, &ch));
        assert_string_equal(FX_ATT(ch), round ? "" : "1,3");
        m2m_changes_free(ch);
    }
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, NULL));
    T_OK(m2m_toggle(rel, M2M_INT(2), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(3)), NULL, NULL));
    assert_string_equal(t_rows("SELECT user_id, role_id, note FROM piv ORDER BY 1, 2"),
                        "1|1|~,1|3|~,2|2|~,2|3|x");
    m2m_relation_close(rel);
}

TEST(attach_duplicate_safe_by_unique_index_shape) {
    unique_shape("CREATE UNIQUE INDEX ix ON piv(role_id, user_id)", "piv", 0);
    unique_shape("CREATE UNIQUE INDEX ix ON piv(user_id, role_id, note)", "piv", 1);
    unique_shape("CREATE UNIQUE INDEX ix ON piv(role_id, user_id)", NULL, 0);
}

/* MariaDB has no partial indexes. */
TEST_EXCEPT(mariadb, attach_duplicate_safe_by_partial_unique_index) {
    unique_shape("CREATE UNIQUE INDEX ix ON piv(user_id, role_id) WHERE note IS NOT NULL",
                 "piv", 1);
}

/* Inside a caller's transaction PostgreSQL is not asked about the index
 * (a failing catalog query would abort that transaction): the insert keeps
 * NOT EXISTS, the transaction's work commits whole, and a later insert of
 * another column set asks. SQLite asks at once. MariaDB has no insert skip
 * that leaves errors alone (INSERT IGNORE hides them): NOT EXISTS always. */
TEST(attach_in_transaction_keeps_not_exists_until_asked) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    bool pg = strcmp(t_backend, "pg") == 0;
    bool always = strcmp(t_backend, "mariadb") == 0;
    int not_exists = -1;
    m2m_trace(t_db(), insert_trace, &not_exists);
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(2)), NULL, NULL));
    T_OK(m2m_commit(t_db()));
    assert_int_equal(not_exists, pg || always ? 1 : 0);
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(
        rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "x")}, .npivot = 1},
        &ch));
    m2m_trace(t_db(), NULL, NULL);
    assert_int_equal(not_exists, always ? 1 : 0);
    assert_string_equal(FX_ATT(ch), "3");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_id, role_id, granted_by FROM role_user"
                               " ORDER BY 1, 2"),
                        "1|1|~,1|2|~,1|3|x,2|2|~");
    m2m_relation_close(rel);
}

TEST(attach_duplicate_ids_in_one_call) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(2), IT(3), IT(2)), NULL, &ch));
    assert_int_equal(ch->nattached, 2);
    assert_string_equal(FX_ATT(ch), "2,3");
    m2m_changes_free(ch);
    assert_string_equal(ROWS(1), "2|~|~,3|~|~");
    m2m_relation_close(rel);
}

TEST(attach_unknown_related_id_rejected_whole) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    char *snap = fx_snap("role_user");
    m2m_changes *ch = NULL;
    int rc = m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(987654), IT(3)), NULL, &ch);
    assert_int_equal(rc, M2M_CONSTRAINT);
    assert_null(ch);
    assert_int_equal(m2m_errcode(t_db()), M2M_CONSTRAINT);
    const char *msg = m2m_errmsg(t_db());
    if (!strstr(msg, "987654"))
        fail_msg("message does not name the id: \"%s\"", msg);
    /* Nothing of the call is attached: 2 and 3 are absent. */
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

TEST(attach_unknown_parent_rejected) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    char *snap = fx_snap("role_user");
    int rc = m2m_attach(rel, M2M_INT(4242), FX_ITEMS(IT(1), IT(2)), NULL, NULL);
    assert_int_equal(rc, M2M_CONSTRAINT);
    assert_non_null(strstr(m2m_errmsg(t_db()), "4242"));
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

TEST(attach_other_parents_untouched) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_attach(
        rel, M2M_INT(2), FX_ITEMS(IT(1), IT(2)),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "x")}, .npivot = 1},
        NULL));
    m2m_changes *ch = NULL;
    /* Ids attached to parent 2 are new for parent 1. */
    T_OK(m2m_attach(
        rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "y")}, .npivot = 1},
        &ch));
    assert_string_equal(FX_ATT(ch), "1,2");
    m2m_changes_free(ch);
    assert_string_equal(ROWS(2), "1|x|~,2|x|~");
    assert_string_equal(ROWS(1), "1|y|~,2|y|~");
    m2m_relation_close(rel);
}
