/* SPDX-License-Identifier: MIT */
/* Order and errors of reads under both strategies: a collation that is not
 * byte order (SQLite NOCASE, PostgreSQL ICU), descending order and pivot
 * order columns, any number of order columns, both statements of a
 * two-query read in one transaction, and bad columns reported whatever the
 * data. The model: the order a case-insensitive collation gives, written
 * out; fx_read_both asserts JOIN and TWO_QUERY give the same sequence. */
#include "fixtures.h"

#include <stdio.h>
#include <string.h>

/* A case-insensitive collation on either backend. */
static const char *ci(void) {
    return strcmp(t_backend, "sqlite") == 0    ? "COLLATE NOCASE"
           : strcmp(t_backend, "mariadb") == 0 ? "COLLATE utf8mb4_uca1400_as_cs"
                                               : "COLLATE \"und-x-icu\"";
}

static m2m_relation *seeded_ci(void) {
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE rooms(id BIGINT PRIMARY KEY, name TEXT);"
             "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT %s, age BIGINT);"
             "CREATE TABLE room_members("
             " room_id BIGINT NOT NULL REFERENCES rooms(id),"
             " user_id BIGINT NOT NULL REFERENCES users(id),"
             " role TEXT %s, joined_at TEXT, rank BIGINT,"
             " PRIMARY KEY(room_id, user_id));"
             "INSERT INTO rooms VALUES (1, 'lobby'), (2, 'dev'), (3, 'empty');"
             "INSERT INTO users VALUES (1, 'Bob', 30), (2, 'alice', 30), (3, 'Carl', 30),"
             " (4, 'dave', 30);"
             "INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
             " (1, 1, 'b', 1), (1, 2, 'A', 2), (1, 3, 'c', 3),"
             " (2, 4, 'D', 4), (2, 2, 'e', 5)",
             ci(), ci());
    t_exec(sql);
    return fx_rel_members(NULL, 0);
}

static void b_name_asc(m2m_query *q) { T_OK(m2m_query_order_by(q, "name", M2M_ASC)); }
static void b_name_desc(m2m_query *q) { T_OK(m2m_query_order_by(q, "name", M2M_DESC)); }
static void b_role_asc(m2m_query *q) {
    T_OK(m2m_query_order_by_pivot(q, "role", M2M_ASC));
}
static void b_role_desc(m2m_query *q) {
    T_OK(m2m_query_order_by_pivot(q, "role", M2M_DESC));
}
static void b_age_then_name(m2m_query *q) {
    T_OK(m2m_query_order_by(q, "age", M2M_DESC));
    T_OK(m2m_query_order_by(q, "name", M2M_ASC));
}

TEST(read_order_follows_collation) {
    m2m_relation *rel = seeded_ci();
    const m2m_value one = M2M_INT(1);
    /* alice (2), Bob (1), Carl (3): not byte order (B < C < a). */
    assert_string_equal(fx_read_both(rel, one, b_name_asc, 1), "2,1,3");
    assert_string_equal(fx_read_both(rel, one, b_name_desc, 1), "3,1,2");
    assert_string_equal(fx_read_both(rel, one, b_age_then_name, 1), "2,1,3");
    /* Pivot roles A (2), b (1), c (3). */
    assert_string_equal(fx_read_both(rel, one, b_role_asc, 1), "2,1,3");
    assert_string_equal(fx_read_both(rel, one, b_role_desc, 1), "3,1,2");
    /* Eager: room 2 has 'D' (4) and 'e' (2); names dave and alice, which
     * ties with room 1's alice and goes by parent. */
    const m2m_value rooms[] = {M2M_INT(2), M2M_INT(1), M2M_INT(3)};
    assert_string_equal(fx_read_many_both(rel, rooms, 3, b_role_asc),
                        "1:2,1:1,1:3,2:4,2:2");
    assert_string_equal(fx_read_many_both(rel, rooms, 3, b_name_desc),
                        "2:4,1:3,1:1,1:2,2:2");
    m2m_relation_close(rel);
}

/* Text keys sort by their column's collation too: the parent and related
 * ids break ties. */
TEST(read_order_text_keys_follow_collation) {
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE a(k TEXT %s PRIMARY KEY);"
             "CREATE TABLE b(k TEXT %s PRIMARY KEY, n BIGINT);"
             "CREATE TABLE ab(a_k TEXT %s NOT NULL REFERENCES a(k),"
             " b_k TEXT %s NOT NULL REFERENCES b(k), PRIMARY KEY(a_k, b_k));"
             "INSERT INTO a VALUES ('x'), ('Y');"
             "INSERT INTO b VALUES ('p', 1), ('Q', 1), ('r', 1);"
             "INSERT INTO ab VALUES ('x', 'p'), ('x', 'Q'), ('x', 'r'), ('Y', 'Q'),"
             " ('Y', 'p')",
             ci(), ci(), ci(), ci());
    t_exec(sql);
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "a",
                                                    .parent_key = "k",
                                                    .parent_key_type = M2M_TTEXT,
                                                    .related_table = "b",
                                                    .related_key = "k",
                                                    .related_key_type = M2M_TTEXT,
                                                    .pivot_table = "ab",
                                                    .foreign_pivot_key = "a_k",
                                                    .related_pivot_key = "b_k"});
    const m2m_value parents[] = {M2M_TEXT("Y"), M2M_TEXT("x")};
    for (int s = M2M_JOIN; s <= M2M_TWO_QUERY; s++) {
        m2m_query *q = NULL;
        T_OK(m2m_query_new_many(rel, parents, 2, &q));
        T_OK(m2m_query_strategy(q, s));
        T_OK(m2m_query_order_by(q, "n", M2M_ASC));
        m2m_rows *rows = NULL;
        T_OK(m2m_query_get(q, &rows));
        char got[256] = "";
        while (m2m_rows_next(rows) == M2M_ROW) {
            size_t len = strlen(got);
            snprintf(got + len, sizeof got - len, "%s:%s,", m2m_rows_parent(rows).s,
                     m2m_rows_get(rows, "k").s);
        }
        m2m_rows_free(rows);
        m2m_query_free(q);
        assert_string_equal(got, "x:p,x:Q,x:r,Y:p,Y:Q,");
    }
    m2m_relation_close(rel);
}

/* The last of 64 order columns still decides. */
static void b_64_orders(m2m_query *q) {
    for (int i = 0; i < 63; i++)
        T_OK(m2m_query_order_by(q, "age", M2M_ASC));
    T_OK(m2m_query_order_by_pivot(q, "rank", M2M_DESC));
}

TEST(read_order_many_columns) {
    m2m_relation *rel = seeded_ci();
    assert_string_equal(fx_read_both(rel, M2M_INT(1), b_64_orders, 1), "3,2,1");
    m2m_relation_close(rel);
}

/* Bad columns are errors with rows and without: get and count, both
 * strategies, where and order by. */
static void b_bad_where(m2m_query *q) {
    T_OK(m2m_query_where(q, "nope", "=", M2M_INT(1)));
}
static void b_bad_order(m2m_query *q) { T_OK(m2m_query_order_by(q, "nope", M2M_ASC)); }

static void expect_invalid(m2m_relation *rel, m2m_value parent, int many,
                           void (*build)(m2m_query *)) {
    for (int s = M2M_JOIN; s <= M2M_TWO_QUERY; s++) {
        for (int count = 0; count <= 1; count++) {
            m2m_query *q = NULL;
            if (many)
                T_OK(m2m_query_new_many(rel, &parent, 1, &q));
            else
                T_OK(m2m_query_new(rel, parent, &q));
            T_OK(m2m_query_strategy(q, s));
            build(q);
            m2m_rows *rows = NULL;
            int64_t n = -1;
            int rc = count ? m2m_query_count(q, &n) : m2m_query_get(q, &rows);
            m2m_rows_free(rows);
            m2m_query_free(q);
            if (rc != M2M_INVALID)
                fail_msg("%s %s of parent %lld: %s, expected M2M_INVALID",
                         s == M2M_JOIN ? "JOIN" : "TWO_QUERY", count ? "count" : "get",
                         (long long)parent.i, m2m_errname(rc));
            if (!strstr(m2m_errmsg(t_db()), "nope"))
                fail_msg("message does not name the column: %s", m2m_errmsg(t_db()));
        }
    }
}

TEST(read_bad_column_whatever_the_data) {
    m2m_relation *rel = seeded_ci();
    for (int many = 0; many <= 1; many++) {
        expect_invalid(rel, M2M_INT(1), many, b_bad_where);
        expect_invalid(rel, M2M_INT(1), many, b_bad_order);
        expect_invalid(rel, M2M_INT(3), many, b_bad_where); /* no rows */
        expect_invalid(rel, M2M_INT(3), many, b_bad_order);
    }
    m2m_relation_close(rel);
}

/* The statements of a two-query read, as the trace sees them. */
static char trace_buf[8192];
static void trace_fn(void *arg, const char *sql) {
    (void)arg;
    size_t len = strlen(trace_buf);
    snprintf(trace_buf + len, sizeof trace_buf - len, "%.12s;", sql);
}

static const char *two_query_trace(m2m_relation *rel, m2m_value parent) {
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, parent, &q));
    T_OK(m2m_query_strategy(q, M2M_TWO_QUERY));
    T_OK(m2m_query_order_by(q, "name", M2M_ASC));
    trace_buf[0] = '\0';
    m2m_trace(t_db(), trace_fn, NULL);
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    m2m_trace(t_db(), NULL, NULL);
    m2m_query_free(q);
    static char ids[256];
    snprintf(ids, sizeof ids, "%s", fx_rows_str(rows, 0));
    return trace_buf;
}

TEST(read_two_query_one_transaction) {
    m2m_relation *rel = seeded_ci();
    /* Alone: its own read transaction around both SELECTs. */
    const char *tr = two_query_trace(rel, M2M_INT(1));
    if ((strncmp(tr, "BEGIN", 5) != 0 && strncmp(tr, "START TRANSA", 12) != 0) ||
        !strstr(tr, "COMMIT;") || strstr(strstr(tr, "COMMIT;") + 7, "SELECT"))
        fail_msg("two-query read outside a transaction: %s", tr);
    int selects = 0;
    for (const char *p = tr; (p = strstr(p, "SELECT")); p++)
        selects++;
    assert_int_equal(selects, 2);
    /* Also without rows: the second statement still checks its columns. */
    tr = two_query_trace(rel, M2M_INT(3));
    selects = 0;
    for (const char *p = tr; (p = strstr(p, "SELECT")); p++)
        selects++;
    assert_int_equal(selects, 2);
    /* Inside a caller transaction: its own statements only, and the caller's
     * transaction stays open with what it wrote. */
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_attach(rel, M2M_INT(3), FX_ITEMS(IT(4)), NULL, NULL));
    tr = two_query_trace(rel, M2M_INT(3));
    if (strstr(tr, "BEGIN") || strstr(tr, "COMMIT"))
        fail_msg("two-query read inside a caller transaction: %s", tr);
    assert_string_equal(fx_read_both(rel, M2M_INT(3), NULL, 1), "4");
    T_OK(m2m_rollback(t_db()));
    assert_string_equal(fx_read_both(rel, M2M_INT(3), NULL, 1), "");
    m2m_relation_close(rel);
}
