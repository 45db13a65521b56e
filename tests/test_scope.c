/* SPDX-License-Identifier: MIT */
/* Scoped relations (admins = members with role 'admin'): reads see only the
 * scope, attach writes it, and no write ever touches a row outside the scope
 * or of another parent, whatever the filters. */
#include "fixtures.h"

#include <stdlib.h>
#include <string.h>

static const m2m_col admin_scope[] = {
    {.name = "role", .value = {.type = M2M_TTEXT, .s = "admin"}}};

static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
           " (1, 1, 'admin', 1), (1, 2, 'member', 2), (1, 3, 'admin', 3),"
           " (1, 4, NULL, 4),"
           " (2, 1, 'admin', 5), (2, 2, 'admin', 6), (2, 3, 'member', 7)");
    return fx_rel_members(admin_scope, 1);
}

#define ALL_ROWS()                                                                       \
    t_rows("SELECT room_id, user_id, role, rank FROM room_members ORDER BY 1, 2")
#define ROOM2 "2|1|admin|5,2|2|admin|6,2|3|member|7"

static void b_or(m2m_query *q) {
    /* Would match the member row 2 and room 2's rows without the brackets. */
    T_OK(m2m_query_where_pivot(q, "rank", "=", M2M_INT(2)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot(q, "rank", ">", M2M_INT(2)));
}
static void b_or_role(m2m_query *q) {
    T_OK(m2m_query_where_pivot(q, "role", "=", M2M_TEXT("member")));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot_null(q, "role", 1));
}
static void b_or_related(m2m_query *q) {
    T_OK(m2m_query_where(q, "id", "=", M2M_INT(2)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where(q, "id", ">", M2M_INT(0)));
}

TEST(scope_reads_see_only_scope) {
    m2m_relation *rel = seeded();
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "1,3");
    assert_string_equal(fx_read_both(rel, M2M_INT(2), NULL, 1), "1,2");
    assert_string_equal(fx_read_both(rel, M2M_INT(1), b_or, 1), "3");
    assert_string_equal(fx_read_both(rel, M2M_INT(1), b_or_role, 1), "");
    assert_string_equal(fx_read_both(rel, M2M_INT(1), b_or_related, 1), "1,3");
    const m2m_value rooms[] = {M2M_INT(1), M2M_INT(2)};
    assert_string_equal(fx_read_many_both(rel, rooms, 2, b_or), "1:3,2:1,2:2");
    m2m_query *q = NULL;
    int64_t n = -1;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    T_OK(m2m_query_where_pivot(q, "rank", ">", M2M_INT(0)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot_null(q, "role", 1));
    T_OK(m2m_query_count(q, &n));
    assert_int_equal(n, 2);
    m2m_query_free(q);
    m2m_relation_close(rel);
}

TEST(scope_attach_writes_scope_values) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(5), ITP(6, COL("rank", M2M_INT(60)))),
                    NULL, &ch));
    assert_string_equal(FX_ATT(ch), "5,6");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|1|admin|1,1|2|member|2,1|3|admin|3,1|4|~|4,"
                                    "1|5|admin|~,1|6|admin|60," ROOM2);
    /* Pivot data may not override the scope column. */
    char *snap = fx_snap("room_members");
    int rc =
        m2m_attach(rel, M2M_INT(3), FX_ITEMS(ITP(5, COLT("role", "member"))), NULL, NULL);
    if (rc == M2M_OK)
        assert_string_equal(
            fx_pivot_rows("room_members", "room_id", "user_id", "role", 3), "5|admin");
    else {
        assert_int_equal(rc, M2M_INVALID);
        fx_assert_snap("room_members", snap);
        snap = NULL;
    }
    free(snap);
    m2m_relation_close(rel);
}

TEST(scope_detach_all_stays_inside) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_string_equal(FX_DET(ch), "1,3");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|2|member|2,1|4|~|4," ROOM2);
    m2m_relation_close(rel);
}

TEST(scope_detach_ids_outside_scope_ignored) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    /* 2 is a member and 4 has no role in room 1: outside the scope. */
    T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(2), M2M_INT(4), M2M_INT(3)), NULL,
                    &ch));
    assert_string_equal(FX_DET(ch), "3");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|1|admin|1,1|2|member|2,1|4|~|4," ROOM2);
    m2m_relation_close(rel);
}

TEST(scope_sync_stays_inside) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(5)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "5");
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(),
                        "1|2|member|2,1|3|admin|3,1|4|~|4,1|5|admin|~," ROOM2);
    /* Sync to empty: only the scope's rows go. */
    const m2m_item none[1] = {IT(1)};
    T_OK(m2m_sync(rel, M2M_INT(1), none, 0, NULL, &ch));
    assert_string_equal(FX_DET(ch), "3,5");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|2|member|2,1|4|~|4," ROOM2);
    m2m_relation_close(rel);
}

TEST(scope_sync_update_existing_stays_inside) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(2), FX_ITEMS(IT(1), IT(2)),
                  &(m2m_opts){.flags = M2M_UPDATE_EXISTING,
                              .pivot = (const m2m_col[]){COL("rank", M2M_INT(0))},
                              .npivot = 1},
                  &ch));
    assert_string_equal(FX_UPD(ch), "1,2");
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|1|admin|1,1|2|member|2,1|3|admin|3,1|4|~|4,"
                                    "2|1|admin|0,2|2|admin|0,2|3|member|7");
    m2m_relation_close(rel);
}

TEST(scope_toggle_stays_inside) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(5)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "5");
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(),
                        "1|2|member|2,1|3|admin|3,1|4|~|4,1|5|admin|~," ROOM2);
    m2m_relation_close(rel);
}

TEST(scope_update_stays_inside) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    /* 2 is outside the scope in room 1: not updated. */
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1), M2M_INT(2), M2M_INT(4)),
                          FX_COLS(COL("rank", M2M_INT(99))), &ch));
    assert_string_equal(FX_UPD(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(),
                        "1|1|admin|99,1|2|member|2,1|3|admin|3,1|4|~|4," ROOM2);
    m2m_relation_close(rel);
}

TEST(scope_version_covers_scope_only) {
    m2m_relation *rel = seeded();
    m2m_relation *all = fx_rel_members(NULL, 0);
    char a[M2M_VERSION_LEN], b[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), a));
    /* A change outside the scope does not change the scope's version. */
    T_OK(m2m_update_pivot(all, M2M_INT(1), FX_VALS(M2M_INT(2)),
                          FX_COLS(COL("rank", M2M_INT(42))), NULL));
    T_OK(m2m_version(rel, M2M_INT(1), b));
    assert_string_equal(a, b);
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1)), &(m2m_opts){.if_version = a}, NULL));
    assert_string_equal(ALL_ROWS(), "1|1|admin|1,1|2|member|42,1|4|~|4," ROOM2);
    m2m_relation_close(all);
    m2m_relation_close(rel);
}

/* A pair present outside the scope: user 2 is a member of room 1, not an
 * admin. With a unique index on the two keys the pair cannot be written
 * inside the scope: every write that would add it fails with M2M_EXISTS
 * naming the id and changes nothing. */
static void assert_exists_names_2(int rc) {
    assert_int_equal(rc, M2M_EXISTS);
    const char *msg = m2m_errmsg(t_db());
    if (!strstr(msg, "related id 2 ") || !strstr(msg, "scope"))
        fail_msg("message does not name id 2 and the scope: %s", msg);
}

TEST(scope_pair_outside_scope_unique_index_exists) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("room_members");
    m2m_changes *ch = NULL;
    assert_exists_names_2(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(5), IT(2)), NULL, &ch));
    assert_null(ch);
    assert_exists_names_2(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, &ch));
    assert_exists_names_2(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, &ch));
    assert_exists_names_2(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, &ch));
    assert_exists_names_2(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, &ch));
    /* Shared pivot data (the flat form) takes the same path. */
    const m2m_opts rank = {.pivot = (const m2m_col[]){COL("rank", M2M_INT(8))},
                           .npivot = 1};
    assert_exists_names_2(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), &rank, &ch));
    /* Per-item pivot data (the JSON rows form) too. */
    assert_exists_names_2(m2m_attach(
        rel, M2M_INT(1), FX_ITEMS(ITP(2, COL("rank", M2M_INT(8))), IT(6)), NULL, &ch));
    assert_null(ch);
    fx_assert_snap("room_members", snap);
    /* In-scope duplicates are still skipped quietly. */
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(3)), NULL, &ch));
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "1,3");
    m2m_relation_close(rel);
}

/* Without a unique index on the two keys the in-scope row is written next
 * to the one outside. */
static m2m_relation *seeded_no_unique(void) {
    fx_rooms();
    t_exec("DROP TABLE room_members;"
           "CREATE TABLE room_members("
           " room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
           " user_id BIGINT NOT NULL REFERENCES users(id),"
           " role TEXT, joined_at TEXT, rank BIGINT);"
           "INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
           " (1, 1, 'admin', 1), (1, 2, 'member', 2), (1, 3, 'admin', 3)");
    return fx_rel_members(admin_scope, 1);
}

#define ROWS_NO_UNIQUE()                                                                 \
    t_rows("SELECT room_id, user_id, role FROM room_members ORDER BY 1, 2, 3")

TEST(scope_pair_outside_scope_no_unique_attach) {
    m2m_relation *rel = seeded_no_unique();
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "2");
    m2m_changes_free(ch);
    assert_string_equal(ROWS_NO_UNIQUE(), "1|1|admin,1|2|admin,1|2|member,1|3|admin");
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "1,2,3");
    /* Now present inside: attaching again adds nothing. */
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(2, COL("rank", M2M_INT(7)))), NULL,
                    &ch));
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROWS_NO_UNIQUE(), "1|1|admin,1|2|admin,1|2|member,1|3|admin");
    m2m_relation_close(rel);
}

TEST(scope_pair_outside_scope_no_unique_sync) {
    m2m_relation *rel = seeded_no_unique();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "2");
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ROWS_NO_UNIQUE(), "1|2|admin,1|2|member,1|3|admin");
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "2,3");
    m2m_relation_close(rel);
}

TEST(scope_pair_outside_scope_no_unique_toggle) {
    m2m_relation *rel = seeded_no_unique();
    m2m_changes *ch = NULL;
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "2");
    assert_string_equal(FX_DET(ch), "3");
    m2m_changes_free(ch);
    assert_string_equal(ROWS_NO_UNIQUE(), "1|1|admin,1|2|admin,1|2|member");
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, &ch));
    assert_int_equal(ch->nattached, 0);
    assert_string_equal(FX_DET(ch), "2");
    m2m_changes_free(ch);
    assert_string_equal(ROWS_NO_UNIQUE(), "1|1|admin,1|2|member");
    m2m_relation_close(rel);
}
