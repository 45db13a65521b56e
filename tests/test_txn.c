/* SPDX-License-Identifier: MIT */
/* Caller transactions: operations nest as savepoints; rollback restores
 * everything; a failing operation inside rolls back only itself. */
#include "fixtures.h"

static m2m_relation *seeded(void) {
    fx_users_roles();
    t_exec("INSERT INTO role_user(user_id, role_id, granted_by) VALUES"
           " (1, 1, 'a'), (1, 2, 'b'), (2, 3, 'c')");
    return fx_rel_roles();
}

#define ALL_ROWS()                                                                       \
    t_rows("SELECT user_id, role_id, granted_by FROM role_user ORDER BY 1, 2")

TEST(txn_rollback_restores_everything) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("role_user");
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4)), NULL, NULL));
    T_OK(m2m_sync(rel, M2M_INT(2), FX_ITEMS(IT(5)), NULL, NULL));
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(5)), NULL, NULL));
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(2)),
                          FX_COLS(COLT("granted_by", "z")), NULL));
    T_OK(m2m_detach(rel, M2M_INT(3), NULL, 0, NULL, NULL));
    /* Inside the transaction the changes are visible. */
    assert_string_equal(ALL_ROWS(), "1|2|z,1|3|~,1|4|~,1|5|~,2|5|~");
    T_OK(m2m_rollback(t_db()));
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

TEST(txn_commit_keeps_everything) {
    m2m_relation *rel = seeded();
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_detach(rel, M2M_INT(2), NULL, 0, NULL, NULL));
    T_OK(m2m_commit(t_db()));
    assert_string_equal(ALL_ROWS(), "1|1|a,1|2|b,1|3|~");
    /* Visible to another connection. */
    m2m_db *other = t_open();
    m2m_rows *rows = NULL;
    T_OK(m2m_sql(other, "SELECT COUNT(*) FROM role_user", NULL, 0, &rows));
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    assert_int_equal(m2m_rows_value(rows, 0).i, 3);
    m2m_rows_free(rows);
    m2m_close(other);
    m2m_relation_close(rel);
}

TEST(txn_failed_op_rolls_back_only_itself) {
    m2m_relation *rel = seeded();
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    /* Fails on the unknown id 77 after its detach part would have run. */
    assert_int_equal(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(4), IT(77)), NULL, NULL),
                     M2M_CONSTRAINT);
    assert_int_equal(
        m2m_attach(rel, M2M_INT(2), FX_ITEMS(ITP(4, COLT("nope", "x"))), NULL, NULL),
        M2M_INVALID);
    /* The transaction is still usable. */
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(4)), NULL, NULL));
    assert_string_equal(ALL_ROWS(), "1|1|a,1|2|b,1|3|~,2|3|c,2|4|~");
    T_OK(m2m_commit(t_db()));
    assert_string_equal(ALL_ROWS(), "1|1|a,1|2|b,1|3|~,2|3|c,2|4|~");
    m2m_relation_close(rel);
}

TEST(txn_misuse) {
    m2m_relation *rel = seeded();
    /* Out of order: commit/rollback without begin; begin twice. */
    assert_int_equal(m2m_commit(t_db()), M2M_MISUSE);
    assert_int_equal(m2m_rollback(t_db()), M2M_MISUSE);
    T_OK(m2m_begin(t_db()));
    assert_int_equal(m2m_begin(t_db()), M2M_MISUSE);
    T_OK(m2m_attach(rel, M2M_INT(3), FX_ITEMS(IT(1)), NULL, NULL));
    /* The failed nested begin did not end the open transaction. */
    T_OK(m2m_rollback(t_db()));
    assert_string_equal(ALL_ROWS(), "1|1|a,1|2|b,2|3|c");
    assert_int_equal(m2m_begin(NULL), M2M_MISUSE);
    assert_int_equal(m2m_commit(NULL), M2M_MISUSE);
    assert_int_equal(m2m_rollback(NULL), M2M_MISUSE);
    m2m_relation_close(rel);
}

TEST(txn_reads_inside_see_own_writes) {
    m2m_relation *rel = seeded();
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(4), IT(5)), NULL, NULL));
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "4,5");
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(4)), &(m2m_opts){.if_version = v}, NULL));
    T_OK(m2m_rollback(t_db()));
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "1,2");
    m2m_relation_close(rel);
}
