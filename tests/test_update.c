/* SPDX-License-Identifier: MIT */
/* update pivot: sets columns on existing rows only; count 0 when not attached;
 * other rows and other parents unchanged; unknown columns rejected whole. */
#include "fixtures.h"

#include <string.h>

static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO room_members(room_id, user_id, role, joined_at, rank) VALUES"
           " (1, 1, 'member', '2024-01-01', 1), (1, 2, 'member', '2024-01-02', 2),"
           " (2, 1, 'member', '2024-02-01', 3)");
    return fx_rel_members(NULL, 0);
}

#define ALL_ROWS()                                                                       \
    t_rows("SELECT room_id, user_id, role, joined_at, rank FROM room_members ORDER BY "  \
           "1, 2")

TEST(update_pivot_attached_row) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    /* The seeds' updatePivot(userId, {role: 'moderator', joined_at: ...}). */
    T_OK(m2m_update_pivot(
        rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
        FX_COLS(COLT("role", "moderator"), COLT("joined_at", "2025-03-03")), &ch));
    assert_int_equal(ch->op, M2M_OP_UPDATE);
    assert_int_equal(ch->nupdated, 1);
    assert_string_equal(FX_UPD(ch), "1");
    assert_int_equal(ch->nattached + ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|1|moderator|2025-03-03|1,1|2|member|2024-01-02|2,"
                                    "2|1|member|2024-02-01|3");
    m2m_relation_close(rel);
}

TEST(update_pivot_not_attached_counts_zero) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("room_members");
    m2m_changes *ch = NULL;
    /* User 2 is in room 1 only; user 4 nowhere; room 3 is empty. */
    T_OK(m2m_update_pivot(rel, M2M_INT(2), FX_VALS(M2M_INT(2)),
                          FX_COLS(COLT("role", "admin")), &ch));
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(4)),
                          FX_COLS(COLT("role", "admin")), &ch));
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    T_OK(m2m_update_pivot(rel, M2M_INT(3), FX_VALS(M2M_INT(1)),
                          FX_COLS(COLT("role", "admin")), &ch));
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}

TEST(update_pivot_many_ids_and_null) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(2), M2M_INT(1), M2M_INT(6)),
                          FX_COLS(COL("rank", M2M_INT(10)), COL("joined_at", M2M_NULL)),
                          &ch));
    assert_int_equal(ch->nupdated, 2);
    assert_string_equal(FX_UPD(ch), "1,2");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(),
                        "1|1|member|~|10,1|2|member|~|10,2|1|member|2024-02-01|3");
    m2m_relation_close(rel);
}

TEST(update_pivot_unknown_column_rejected) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("room_members");
    m2m_changes *ch = NULL;
    /* A valid column next to an unknown one: nothing is written. */
    int rc = m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
                              FX_COLS(COLT("role", "admin"), COLT("colour", "red")), &ch);
    assert_int_equal(rc, M2M_INVALID);
    assert_null(ch);
    assert_non_null(strstr(m2m_errmsg(t_db()), "colour"));
    /* A key column is not a pivot data column. */
    rc = m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
                          FX_COLS(COL("user_id", M2M_INT(2))), &ch);
    assert_int_equal(rc, M2M_INVALID);
    rc = m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
                          FX_COLS(COLT("role = 'x'; --", "admin")), &ch);
    assert_int_equal(rc, M2M_INVALID);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}
