/* SPDX-License-Identifier: MIT */
/* Eager loading: the related rows of many parents, each tagged with its
 * parent, in a number of statements that does not grow with the parents. */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>

static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
           " (1, 1, 'admin', 3), (1, 2, 'member', 1), (1, 3, 'member', 2),"
           " (2, 6, 'admin', 9), (2, 1, 'member', 7)");
    return fx_rel_members(NULL, 0);
}

static const m2m_value rooms3[] = {
    {.type = M2M_TINT, .i = 1}, {.type = M2M_TINT, .i = 2}, {.type = M2M_TINT, .i = 3}};

TEST(eager_rows_tagged_with_parent) {
    m2m_relation *rel = seeded();
    /* Room 3 has no members; user 1 is in rooms 1 and 2. */
    assert_string_equal(fx_read_many_both(rel, rooms3, 3, NULL), "1:1,1:2,1:3,2:1,2:6");
    /* Parent order of the list does not matter: rows come by parent. */
    const m2m_value rev[] = {M2M_INT(3), M2M_INT(2), M2M_INT(1)};
    assert_string_equal(fx_read_many_both(rel, rev, 3, NULL), "1:1,1:2,1:3,2:1,2:6");
    const m2m_value one[] = {M2M_INT(2)};
    assert_string_equal(fx_read_many_both(rel, one, 1, NULL), "2:1,2:6");
    m2m_relation_close(rel);
}

static void b_admins(m2m_query *q) {
    T_OK(m2m_query_where_pivot(q, "role", "=", M2M_TEXT("admin")));
}
static void b_or(m2m_query *q) {
    T_OK(m2m_query_where_pivot(q, "role", "=", M2M_TEXT("admin")));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot(q, "rank", "<", M2M_INT(2)));
}
static void b_rank_desc(m2m_query *q) {
    T_OK(m2m_query_order_by_pivot(q, "rank", M2M_DESC));
}

TEST(eager_filters_and_order) {
    m2m_relation *rel = seeded();
    assert_string_equal(fx_read_many_both(rel, rooms3, 3, b_admins), "1:1,2:6");
    assert_string_equal(fx_read_many_both(rel, rooms3, 2, b_or), "1:1,1:2,2:6");
    /* Only the listed parents: room 2 is not in {1, 3}. */
    const m2m_value r13[] = {M2M_INT(1), M2M_INT(3)};
    assert_string_equal(fx_read_many_both(rel, r13, 2, b_admins), "1:1");
    /* The order-by column comes first, then parent and related id. */
    assert_string_equal(fx_read_many_both(rel, rooms3, 3, b_rank_desc),
                        "2:6,2:1,1:1,1:3,1:2");
    m2m_relation_close(rel);
}

TEST(eager_pivot_values_per_parent) {
    m2m_relation *rel = seeded();
    m2m_query *q = NULL;
    T_OK(m2m_query_new_many(rel, rooms3, 3, &q));
    T_OK(m2m_query_with_pivot(q, "role"));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    /* User 1's pivot data differs per room. */
    assert_string_equal(fx_rows_str(rows, 1), "1:1|ann|30|admin,1:2|bob|40|member,"
                                              "1:3|cid|25|member,2:1|ann|30|member,"
                                              "2:6|fay|20|admin");
    m2m_query_free(q);
    int64_t n = 0;
    T_OK(m2m_query_new_many(rel, rooms3, 3, &q));
    T_OK(m2m_query_count(q, &n));
    assert_int_equal(n, 5);
    m2m_query_free(q);
    m2m_relation_close(rel);
}

TEST(eager_empty_parent_list) {
    m2m_relation *rel = seeded();
    assert_string_equal(fx_read_many_both(rel, rooms3, 0, NULL), "");
    m2m_relation_close(rel);
}

/* Statements executed to load and read every row for n parents. */
static uint64_t statements_for(m2m_relation *rel, size_t n, int strategy,
                               int64_t *nrows) {
    m2m_value *parents = fx_range_vals(1, n);
    m2m_query *q = NULL;
    T_OK(m2m_query_new_many(rel, parents, n, &q));
    T_OK(m2m_query_strategy(q, strategy));
    m2m_stats_reset(t_db());
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    int rc;
    *nrows = 0;
    while ((rc = m2m_rows_next(rows)) == M2M_ROW)
        (*nrows)++;
    assert_int_equal(rc, M2M_DONE);
    m2m_rows_free(rows);
    uint64_t ex = fx_executed();
    m2m_query_free(q);
    free(parents);
    return ex;
}

TEST(eager_statement_count_constant) {
    t_exec("CREATE TABLE rooms(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE room_members(room_id BIGINT NOT NULL REFERENCES rooms(id),"
           " user_id BIGINT NOT NULL REFERENCES users(id), role TEXT,"
           " PRIMARY KEY(room_id, user_id));");
    fx_fill("rooms", 1, 300);
    fx_fill("users", 1, 10);
    t_exec("INSERT INTO room_members(room_id, user_id, role)"
           " SELECT r.id, u.id, 'member' FROM rooms r, users u WHERE u.id <= 2");
    static const char *const cols[] = {"role", NULL};
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "rooms",
                                                    .related_table = "users",
                                                    .pivot_table = "room_members",
                                                    .foreign_pivot_key = "room_id",
                                                    .related_pivot_key = "user_id",
                                                    .pivot_columns = cols});
    for (int s = M2M_JOIN; s <= M2M_TWO_QUERY; s++) {
        int64_t rows3 = 0, rows300 = 0;
        /* Warm the statement cache first so both runs prepare alike (and,
         * on PostgreSQL, the shape is known to outgrow a whole read). */
        statements_for(rel, 3, s, &rows3);
        statements_for(rel, 300, s, &rows300);
        uint64_t few = statements_for(rel, 3, s, &rows3);
        uint64_t many = statements_for(rel, 300, s, &rows300);
        assert_int_equal(rows3, 6);
        assert_int_equal(rows300, 600);
        assert_true(few >= 1);
        if (few != many)
            fail_msg("%s: %llu statements for 3 parents, %llu for 300",
                     s == M2M_JOIN ? "JOIN" : "TWO_QUERY", (unsigned long long)few,
                     (unsigned long long)many);
    }
    m2m_relation_close(rel);
}
