/* SPDX-License-Identifier: MIT */
/* One query re-pointed from parent to parent (m2m_query_set_parent): each
 * read returns what a new query of that parent returns, with both
 * strategies, through the inverse and in a caller transaction, prepares
 * nothing after the first,
 * leaves open rows alone and starts the new parent at its first page; a
 * bad parent is refused and kept, so no read returns another parent's
 * rows. */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Members whose role is not 'moderator' (NULLs excluded), newest rank
 * first, with two pivot columns. */
static void build(m2m_query *q) {
    T_OK(m2m_query_where_pivot(q, "role", "!=", M2M_TEXT("moderator")));
    T_OK(m2m_query_with_pivot(q, "role"));
    T_OK(m2m_query_with_pivot(q, "rank"));
    T_OK(m2m_query_order_by_pivot(q, "rank", M2M_DESC));
}

/* What a new query of parent returns: its rows as "v|v,...". */
static const char *fresh(m2m_relation *rel, int64_t parent, int strategy) {
    static char buf[256];
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(parent), &q));
    build(q);
    T_OK(m2m_query_strategy(q, strategy));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    snprintf(buf, sizeof buf, "%s", fx_rows_str(rows, 0));
    m2m_query_free(q);
    return buf;
}

static const char *read_now(m2m_query *q) {
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    return fx_rows_str(rows, 0);
}

TEST(set_parent_reads_each_parent) {
    m2m_relation *rel = fx_members_seeded();
    static const int64_t order[] = {2, 3, 1, 2, 99, 1};
    for (int s = M2M_JOIN; s <= M2M_TWO_QUERY; s++) {
        m2m_query *q = NULL;
        T_OK(m2m_query_new(rel, M2M_INT(1), &q));
        build(q);
        T_OK(m2m_query_strategy(q, s));
        assert_string_equal(read_now(q),
                            "3|cid|25|member|5,1|ann|30|admin|3,2|bob|40|member|1");
        char want[6][256];
        for (int i = 0; i < 6; i++)
            snprintf(want[i], sizeof want[i], "%s", fresh(rel, order[i], s));
        assert_string_equal(want[0], "6|fay|20|admin|9,1|ann|30|member|7");
        assert_string_equal(want[4], "");
        m2m_stats_reset(t_db());
        for (int i = 0; i < 6; i++) {
            T_OK(m2m_query_set_parent(q, M2M_INT(order[i])));
            char got[256];
            snprintf(got, sizeof got, "%s", read_now(q));
            assert_string_equal(got, want[i]);
        }
        m2m_stats st = {0};
        m2m_stats_get(t_db(), &st);
        assert_int_equal(st.prepared, 0);
        m2m_query_free(q);
    }
    m2m_relation_close(rel);
}

/* Through the inverse: one query for the rooms of user after user. */
TEST(set_parent_inverse) {
    m2m_relation *rel = fx_members_seeded(), *inv = NULL;
    T_OK(m2m_relation_inverse(rel, &inv));
    m2m_query *q = NULL;
    T_OK(m2m_query_new(inv, M2M_INT(6), &q));
    T_OK(m2m_query_with_pivot(q, "role"));
    assert_string_equal(read_now(q), "2|dev|admin");
    T_OK(m2m_query_set_parent(q, M2M_INT(1)));
    assert_string_equal(read_now(q), "1|lobby|admin,2|dev|member");
    T_OK(m2m_query_set_parent(q, M2M_INT(5)));
    assert_string_equal(read_now(q), "1|lobby|~");
    T_OK(m2m_query_set_parent(q, M2M_INT(42)));
    assert_string_equal(read_now(q), "");
    m2m_query_free(q);
    m2m_relation_close(inv);
    m2m_relation_close(rel);
}

/* Inside a caller transaction a re-pointed query reads the transaction's
 * own writes, with both strategies; after the rollback they are gone. */
TEST(set_parent_in_caller_transaction) {
    m2m_relation *rel = fx_members_seeded();
    for (int s = M2M_JOIN; s <= M2M_TWO_QUERY; s++) {
        m2m_query *q = NULL;
        T_OK(m2m_query_new(rel, M2M_INT(1), &q));
        T_OK(m2m_query_with_pivot(q, "role"));
        T_OK(m2m_query_strategy(q, s));
        T_OK(m2m_begin(t_db()));
        T_OK(m2m_attach(rel, M2M_INT(3), FX_ITEMS(ITP(4, COLT("role", "guest"))), NULL,
                        NULL));
        T_OK(m2m_query_set_parent(q, M2M_INT(3)));
        assert_string_equal(read_now(q), "4|dan|50|guest");
        T_OK(m2m_query_set_parent(q, M2M_INT(2)));
        assert_string_equal(read_now(q), "1|ann|30|member,6|fay|20|admin");
        T_OK(m2m_rollback(t_db()));
        T_OK(m2m_query_set_parent(q, M2M_INT(3)));
        assert_string_equal(read_now(q), "");
        assert_int_equal(fx_count("room_members"), 7);
        m2m_query_free(q);
    }
    m2m_relation_close(rel);
}

/* Rows already open keep reading the parent they were opened for; count
 * follows the query. */
TEST(set_parent_leaves_open_rows) {
    m2m_relation *rel = fx_members_seeded();
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(2), &q));
    T_OK(m2m_query_with_pivot(q, "rank"));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    assert_int_equal(m2m_rows_get(rows, "id").i, 1);
    T_OK(m2m_query_set_parent(q, M2M_INT(1)));
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    assert_int_equal(m2m_rows_get(rows, "id").i, 6);
    assert_string_equal(fx_val(m2m_rows_parent(rows)), "2");
    assert_int_equal(m2m_rows_next(rows), M2M_DONE);
    m2m_rows_free(rows);
    int64_t n = -1;
    T_OK(m2m_query_count(q, &n));
    assert_int_equal(n, 5);
    m2m_query_free(q);
    m2m_relation_close(rel);
}

/* The one row of q's next page (limit 1): its id; the query moves on to
 * the page after it. */
static int64_t next_page(m2m_query *q) {
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    int64_t id = m2m_rows_get(rows, "id").i;
    char *token = strdup(m2m_rows_token(rows));
    assert_int_equal(m2m_rows_next(rows), M2M_DONE);
    m2m_rows_free(rows);
    T_OK(m2m_query_after(q, token));
    free(token);
    return id;
}

/* A page token belongs to one parent: the next parent starts at its first
 * page, and its own tokens page on. */
TEST(set_parent_starts_at_first_page) {
    m2m_relation *rel = fx_members_seeded();
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    T_OK(m2m_query_order_by(q, "id", M2M_DESC));
    T_OK(m2m_query_limit(q, 1, 0));
    T_OK(m2m_query_after(q, NULL));
    assert_int_equal(next_page(q), 5);
    assert_int_equal(next_page(q), 4);
    T_OK(m2m_query_set_parent(q, M2M_INT(2)));
    assert_int_equal(next_page(q), 6);
    assert_int_equal(next_page(q), 1);
    m2m_query_free(q);
    m2m_relation_close(rel);
}

/* Refused: a parent of the wrong type or NULL, a query of many parents, no
 * query. The error stays with the query: get and count report it rather
 * than read the previous parent. Nothing is written. */
TEST(set_parent_bad_input) {
    m2m_relation *rel = fx_members_seeded();
    char *snap = fx_snap("room_members");
    T_RC(M2M_MISUSE, m2m_query_set_parent(NULL, M2M_INT(1)));
    const m2m_value bad[] = {M2M_TEXT("2"), M2M_NULL, M2M_TEXT("1; DROP TABLE users")};
    const int want[] = {M2M_TYPE, M2M_INVALID, M2M_TYPE};
    for (int i = 0; i < 3; i++) {
        m2m_query *q = NULL;
        T_OK(m2m_query_new(rel, M2M_INT(1), &q));
        assert_string_equal(read_now(q),
                            "1|ann|30|admin|2024-01-05|3,2|bob|40|member|2024-02-10|1,"
                            "3|cid|25|member|~|5,4|dan|50|moderator|2024-03-15|2,"
                            "5|eve|35|~|2024-01-20|4");
        T_RC(want[i], m2m_query_set_parent(q, bad[i]));
        assert_non_null(strstr(m2m_errmsg(t_db()), "parent"));
        m2m_rows *rows = (m2m_rows *)q; /* must be reset to NULL */
        T_RC(want[i], m2m_query_get(q, &rows));
        assert_null(rows);
        int64_t n = -1;
        T_RC(want[i], m2m_query_count(q, &n));
        /* A good parent after a bad one: the first error stays. */
        T_RC(M2M_OK, m2m_query_set_parent(q, M2M_INT(2)));
        T_RC(want[i], m2m_query_get(q, &rows));
        m2m_query_free(q);
    }
    m2m_query *q = NULL;
    T_OK(m2m_query_new_many(rel, (m2m_value[]){M2M_INT(1), M2M_INT(2)}, 2, &q));
    T_RC(M2M_MISUSE, m2m_query_set_parent(q, M2M_INT(1)));
    assert_non_null(strstr(m2m_errmsg(t_db()), "many parents"));
    m2m_rows *rows = NULL;
    T_RC(M2M_MISUSE, m2m_query_get(q, &rows));
    assert_null(rows);
    m2m_query_free(q);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}
