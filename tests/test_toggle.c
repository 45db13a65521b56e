/* toggle: attaches the absent ids, detaches the present ones; pivot data goes
 * to the newly attached rows only. */
#include "fixtures.h"

static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO room_members(room_id, user_id, role) VALUES"
           " (1, 1, 'admin'), (1, 2, 'member'), (2, 3, 'member')");
    return fx_rel_members(NULL, 0);
}

#define ROOM(n) fx_pivot_rows("room_members", "room_id", "user_id", "role", n)

TEST(toggle_attaches_absent_detaches_present) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3), IT(4)), NULL, &ch));
    assert_int_equal(ch->op, M2M_OP_TOGGLE);
    assert_int_equal(ch->parent.i, 1);
    assert_string_equal(FX_ATT(ch), "3,4");
    assert_string_equal(FX_DET(ch), "2");
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin,3|~,4|~");
    /* Room 2's member 3 was not toggled. */
    assert_string_equal(ROOM(2), "3|member");
    /* Toggling the same ids again restores the set. */
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3), IT(4)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "2");
    assert_string_equal(FX_DET(ch), "3,4");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin,2|~");
    m2m_relation_close(rel);
}

TEST(toggle_pivot_data_only_on_new_rows) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_toggle(
        rel, M2M_INT(1),
        FX_ITEMS(ITP(1, COLT("role", "owner")), IT(5), ITP(6, COLT("role", "admin"))),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("role", "member")}, .npivot = 1},
        &ch));
    assert_string_equal(FX_ATT(ch), "5,6");
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "2|member,5|member,6|admin");
    m2m_relation_close(rel);
}

TEST(toggle_single_like_button) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_toggle(rel, M2M_INT(3), FX_ITEMS(IT(6)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "6");
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(3), "6|~");
    T_OK(m2m_toggle(rel, M2M_INT(3), FX_ITEMS(IT(6)), NULL, &ch));
    assert_int_equal(ch->nattached, 0);
    assert_string_equal(FX_DET(ch), "6");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(3), "");
    m2m_relation_close(rel);
}

TEST(toggle_duplicate_ids_and_empty) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    /* A duplicated id toggles once, not twice. */
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(5), IT(5), IT(2), IT(2)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "5");
    assert_string_equal(FX_DET(ch), "2");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin,5|~");
    char *snap = fx_snap("room_members");
    T_OK(m2m_toggle(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_int_equal(ch->nattached + ch->ndetached, 0);
    m2m_changes_free(ch);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}

TEST(toggle_unknown_id_changes_nothing) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("room_members");
    /* 1 would be detached, 999 cannot be attached: all or nothing. */
    assert_int_equal(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(999)), NULL, NULL),
                     M2M_CONSTRAINT);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}
