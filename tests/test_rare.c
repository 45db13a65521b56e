/* SPDX-License-Identifier: MIT */
/* Rare paths that once crashed or misreported: reading a finished cursor,
 * reconnecting with a caller transaction open. */
#include "fixtures.h"

#include <string.h>

/* After M2M_DONE a cursor has no row: names and values are absent, no
 * crash. */
TEST(rare_rows_after_done) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
    for (int many = 0; many < 2; many++) {
        m2m_query *q = NULL;
        if (many)
            T_OK(m2m_query_new_many(rel, FX_VALS(M2M_INT(1), M2M_INT(2)), &q));
        else
            T_OK(m2m_query_new(rel, M2M_INT(1), &q));
        m2m_rows *rows = NULL;
        T_OK(m2m_query_get(q, &rows));
        assert_int_equal(m2m_rows_next(rows), M2M_ROW);
        assert_int_equal(m2m_rows_get(rows, "id").i, 2);
        assert_int_equal(m2m_rows_next(rows), M2M_DONE);
        assert_int_equal(m2m_rows_get(rows, "id").type, M2M_TNULL);
        assert_null(m2m_rows_name(rows, 0));
        assert_int_equal(m2m_rows_value(rows, 0).type, M2M_TNULL);
        assert_int_equal(m2m_rows_parent(rows).type, M2M_TNULL);
        assert_int_equal(m2m_rows_next(rows), M2M_DONE);
        m2m_rows_free(rows);
        m2m_query_free(q);
    }
    m2m_relation_close(rel);
}

/* m2m_reconnect ends an open caller transaction on every backend: its
 * changes are gone and a new one can begin. */
TEST(rare_reconnect_ends_caller_txn) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    char *snap = fx_snap("role_user");
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, NULL));
    T_OK(m2m_reconnect(t_db()));
    T_RC(M2M_MISUSE, m2m_commit(t_db()));
    fx_assert_snap("role_user", snap);
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_commit(t_db()));
    assert_string_equal(fx_pivot_rows("role_user", "user_id", "role_id", "granted_by", 1),
                        "3|~");
    m2m_relation_close(rel);
}
