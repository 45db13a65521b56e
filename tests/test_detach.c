/* SPDX-License-Identifier: MIT */
/* detach: one, many, all (NULL list), nothing (empty non-NULL list); the count
 * is ndetached; other parents are never touched. */
#include "fixtures.h"

static m2m_relation *seeded(void) {
    fx_users_roles();
    t_exec("INSERT INTO role_user(user_id, role_id, granted_by) VALUES"
           " (1, 1, 'a'), (1, 2, 'b'), (1, 3, 'c'), (1, 4, 'd'),"
           " (2, 1, 'e'), (2, 2, 'f'), (3, 3, 'g')");
    return fx_rel_roles();
}

#define ALL_ROWS()                                                                       \
    t_rows("SELECT user_id, role_id, granted_by FROM role_user ORDER BY 1, 2")

TEST(detach_one) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(2)), NULL, &ch));
    assert_int_equal(ch->op, M2M_OP_DETACH);
    assert_int_equal(ch->parent.i, 1);
    assert_int_equal(ch->ndetached, 1);
    assert_string_equal(FX_DET(ch), "2");
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|1|a,1|3|c,1|4|d,2|1|e,2|2|f,3|3|g");
    m2m_relation_close(rel);
}

TEST(detach_many_reports_only_present) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    /* 5 is not attached to user 1; 3 is given twice. */
    T_OK(m2m_detach(rel, M2M_INT(1),
                    FX_VALS(M2M_INT(3), M2M_INT(1), M2M_INT(5), M2M_INT(3)), NULL, &ch));
    assert_int_equal(ch->ndetached, 2);
    assert_string_equal(FX_DET(ch), "1,3");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|2|b,1|4|d,2|1|e,2|2|f,3|3|g");
    m2m_relation_close(rel);
}

TEST(detach_all_with_null_list) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_int_equal(ch->ndetached, 4);
    assert_string_equal(FX_DET(ch), "1,2,3,4");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "2|1|e,2|2|f,3|3|g");
    /* Again: nothing left to detach. */
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "2|1|e,2|2|f,3|3|g");
    m2m_relation_close(rel);
}

TEST(detach_empty_list_detaches_nothing) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("role_user");
    const m2m_value none[1] = {M2M_INT(1)};
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(1), none, 0, NULL, &ch));
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

TEST(detach_unknown_parent_and_ids_is_noop) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("role_user");
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(99), NULL, 0, NULL, &ch));
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    T_OK(m2m_detach(rel, M2M_INT(3), FX_VALS(M2M_INT(777), M2M_INT(1)), NULL, &ch));
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

TEST(detach_other_parents_untouched) {
    m2m_relation *rel = seeded();
    /* Role 1 is attached to users 1 and 2; only user 2's row goes. */
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(2), FX_VALS(M2M_INT(1), M2M_INT(3)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    T_OK(m2m_detach(rel, M2M_INT(3), NULL, 0, NULL, NULL));
    assert_string_equal(ALL_ROWS(), "1|1|a,1|2|b,1|3|c,1|4|d,2|2|f");
    m2m_relation_close(rel);
}
