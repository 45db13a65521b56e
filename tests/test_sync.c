/* SPDX-License-Identifier: MIT */
/* sync: exact set, M2M_KEEP, pivot data for new rows only (default) versus
 * M2M_UPDATE_EXISTING, per-id data, and the attached/detached/updated report. */
#include "fixtures.h"

#include <stdlib.h>
#include <string.h>

static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
           " (1, 1, 'admin', 1), (1, 2, 'member', 2), (1, 3, 'member', 3),"
           " (2, 1, 'member', 9), (2, 4, 'admin', 9)");
    return fx_rel_members(NULL, 0);
}

#define ROOM(n) fx_pivot_rows("room_members", "room_id", "user_id", "role, rank", n)

TEST(sync_exact_set) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3), IT(4), IT(5)), NULL, &ch));
    assert_int_equal(ch->op, M2M_OP_SYNC);
    assert_int_equal(ch->parent.i, 1);
    assert_string_equal(FX_ATT(ch), "4,5");
    assert_string_equal(FX_DET(ch), "1");
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "2|member|2,3|member|3,4|~|~,5|~|~");
    assert_string_equal(ROOM(2), "1|member|9,4|admin|9");
    /* The same set again changes nothing. */
    char *snap = fx_snap("room_members");
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(5), IT(4), IT(3), IT(2), IT(2)), NULL,
                  &ch));
    assert_int_equal(ch->nattached + ch->ndetached + ch->nupdated, 0);
    m2m_changes_free(ch);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}

TEST(sync_to_empty_set_detaches_all) {
    m2m_relation *rel = seeded();
    const m2m_item none[1] = {IT(1)};
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), none, 0, NULL, &ch));
    assert_string_equal(FX_DET(ch), "1,2,3");
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "");
    assert_string_equal(ROOM(2), "1|member|9,4|admin|9");
    m2m_relation_close(rel);
}

TEST(sync_from_empty_set) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(3), FX_ITEMS(IT(6), IT(1)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "1,6");
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(3), "1|~|~,6|~|~");
    m2m_relation_close(rel);
}

TEST(sync_keep_does_not_detach) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(4), IT(5), IT(1)),
                  &(m2m_opts){.flags = M2M_KEEP}, &ch));
    assert_string_equal(FX_ATT(ch), "4,5");
    assert_int_equal(ch->ndetached, 0);
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin|1,2|member|2,3|member|3,4|~|~,5|~|~");
    m2m_relation_close(rel);
}

TEST(sync_default_pivot_data_only_for_new_rows) {
    m2m_relation *rel = seeded();
    const m2m_opts opts = {.pivot = (const m2m_col[]){COLT("role", "guest")},
                           .npivot = 1};
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1),
                  FX_ITEMS(IT(1), IT(2), ITP(6, COL("rank", M2M_INT(60)))), &opts, &ch));
    assert_string_equal(FX_ATT(ch), "6");
    assert_string_equal(FX_DET(ch), "3");
    /* Kept rows keep their values, so nothing is updated. */
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin|1,2|member|2,6|guest|60");
    /* Per-id data for a kept row is ignored too in the default mode. */
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(ITP(1, COLT("role", "owner")), IT(2), IT(6)),
                  NULL, &ch));
    assert_int_equal(ch->nattached + ch->ndetached + ch->nupdated, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin|1,2|member|2,6|guest|60");
    m2m_relation_close(rel);
}

TEST(sync_update_existing_writes_kept_rows) {
    m2m_relation *rel = seeded();
    /* Shared role 'member': user 1 changes (admin -> member), user 2 already
     * is a member, so only 1 is reported updated. */
    const m2m_opts opts = {.flags = M2M_UPDATE_EXISTING,
                           .pivot = (const m2m_col[]){COLT("role", "member")},
                           .npivot = 1};
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2), IT(5)), &opts, &ch));
    assert_string_equal(FX_ATT(ch), "5");
    assert_string_equal(FX_DET(ch), "3");
    assert_string_equal(FX_UPD(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|member|1,2|member|2,5|member|~");
    assert_string_equal(ROOM(2), "1|member|9,4|admin|9");
    m2m_relation_close(rel);
}

TEST(sync_update_existing_per_id_data) {
    m2m_relation *rel = seeded();
    const m2m_opts opts = {.flags = M2M_UPDATE_EXISTING,
                           .pivot = (const m2m_col[]){COL("rank", M2M_INT(2))},
                           .npivot = 1};
    m2m_changes *ch = NULL;
    /* 1: role same, rank 1 -> 2 (updated). 2: role member -> admin
     * (updated), rank 2 stays. 3: role same and rank 3 -> 3 (not updated). */
    T_OK(m2m_sync(rel, M2M_INT(1),
                  FX_ITEMS(ITP(1, COLT("role", "admin")), ITP(2, COLT("role", "admin")),
                           ITP(3, COLT("role", "member"), COL("rank", M2M_INT(3)))),
                  &opts, &ch));
    assert_int_equal(ch->nattached, 0);
    assert_int_equal(ch->ndetached, 0);
    assert_string_equal(FX_UPD(ch), "1,2");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin|2,2|admin|2,3|member|3");
    /* Setting a value to NULL is a change; NULL to NULL is not. */
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(ITP(1, COL("role", M2M_NULL)), IT(2), IT(3)),
                  &(m2m_opts){.flags = M2M_UPDATE_EXISTING}, &ch));
    assert_string_equal(FX_UPD(ch), "1");
    m2m_changes_free(ch);
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(ITP(1, COL("role", M2M_NULL)), IT(2), IT(3)),
                  &(m2m_opts){.flags = M2M_UPDATE_EXISTING}, &ch));
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|~|2,2|admin|2,3|member|3");
    m2m_relation_close(rel);
}

TEST(sync_keep_with_update_existing) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(ITP(2, COLT("role", "admin")), IT(6)),
                  &(m2m_opts){.flags = M2M_KEEP | M2M_UPDATE_EXISTING}, &ch));
    assert_string_equal(FX_ATT(ch), "6");
    assert_int_equal(ch->ndetached, 0);
    assert_string_equal(FX_UPD(ch), "2");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin|1,2|admin|2,3|member|3,6|~|~");
    m2m_relation_close(rel);
}

TEST(sync_want_version_matches_m2m_version) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(4)),
                  &(m2m_opts){.flags = M2M_WANT_VERSION}, &ch));
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    assert_int_equal(strlen(ch->version), M2M_VERSION_LEN - 1);
    assert_string_equal(ch->version, v);
    m2m_changes_free(ch);
    m2m_relation_close(rel);
}

TEST(sync_unknown_id_changes_nothing) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("room_members");
    m2m_changes *ch = NULL;
    int rc = m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(31337)), NULL, &ch);
    assert_int_equal(rc, M2M_CONSTRAINT);
    assert_null(ch);
    assert_non_null(strstr(m2m_errmsg(t_db()), "31337"));
    /* Neither the detach of 1 and 3 nor anything else happened. */
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}

/* Which rows a sync removes does not depend on how many ids it is given
 * (PostgreSQL tests up to 64 ids with <> ALL, more with NOT EXISTS), a
 * row whose related key is NULL included: two parents with the same rows,
 * one synced to few ids and one to many of which the extra ones do not
 * exist, end alike, with the same report, both through their affected
 * rows (M2M_COUNTS) and their RETURNING. */
TEST(sync_few_and_many_ids_remove_the_same_rows) {
    t_exec("CREATE TABLE posts(id BIGINT PRIMARY KEY);"
           "CREATE TABLE tags(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE post_tag(post_id BIGINT NOT NULL, tag_id BIGINT);"
           "INSERT INTO posts VALUES (1), (2), (3), (4);");
    fx_fill("tags", 1, 200);
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "posts",
                                                    .related_table = "tags",
                                                    .pivot_table = "post_tag",
                                                    .foreign_pivot_key = "post_id",
                                                    .related_pivot_key = "tag_id"});
    t_exec("INSERT INTO post_tag VALUES (1, NULL), (1, 1), (1, 2), (1, 3),"
           " (2, NULL), (2, 1), (2, 2), (2, 3), (3, NULL), (3, 1), (3, 2), (3, 3),"
           " (4, NULL), (4, 1), (4, 2), (4, 3)");
    /* Few: {2, 5}. Many: the same and 100 ids no row has (101..200). */
    m2m_value *many = fx_range_vals(99, 102);
    many[0] = M2M_INT(2);
    many[1] = M2M_INT(5);
    m2m_changes *a = NULL, *b = NULL;
    T_OK(m2m_sync_ids(rel, M2M_INT(1), many, 2, NULL, &a));
    T_OK(m2m_sync_ids(rel, M2M_INT(2), many, 2, NULL, &b));
    assert_string_equal(FX_DET(a), FX_DET(b));
    m2m_changes_free(a);
    m2m_changes_free(b);
    const m2m_opts counted = {.flags = M2M_COUNTS};
    T_OK(m2m_sync_ids(rel, M2M_INT(3), many, 102, &counted, &a));
    T_OK(m2m_sync_ids(rel, M2M_INT(4), many, 102, NULL, &b));
    assert_int_equal(a->ndetached, b->ndetached);
    assert_int_equal(a->nattached, 101);
    assert_int_equal(b->nattached, 101);
    m2m_changes_free(a);
    m2m_changes_free(b);
    free(many);
    /* Every parent lost 1 and 3, kept 2 and gained 5, and all four agree
     * on the NULL row. */
    const char *q = "SELECT COUNT(*) FROM post_tag WHERE post_id = $1 AND tag_id IS NULL";
    int64_t null_kept = t_int(q, (m2m_value[]){M2M_INT(1)}, 1);
    for (int p = 2; p <= 4; p++)
        assert_int_equal(t_int(q, (m2m_value[]){M2M_INT(p)}, 1), null_kept);
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM post_tag WHERE tag_id IN (1, 3)", NULL, 0), 0);
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM post_tag WHERE tag_id IN (2, 5)", NULL, 0), 8);
    m2m_relation_close(rel);
}
