/* SPDX-License-Identifier: MIT */
/* Keyset pages (m2m_query_after, m2m_rows_token): for every order, page
 * size and strategy, one parent and many, the pages read one after the
 * other (each on a new query, from the stored token) are exactly the rows
 * of one unpaged read (the model), ties and NULLs included; a page is one
 * statement; rows added or removed meanwhile do not shift the pages; a bad
 * token is refused and sends nothing. */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ties and NULLs in every order column. */
static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO users VALUES (7, 'ann', NULL), (8, 'gus', 30), (9, 'hal', NULL),"
           " (10, 'bob', 40), (11, 'ivy', 25), (12, 'jo', 30);"
           "INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
           " (1, 1, 'admin', 3), (1, 2, 'member', 1), (1, 3, 'member', 3),"
           " (1, 4, NULL, NULL), (1, 5, 'member', 2), (1, 6, NULL, 3),"
           " (1, 7, 'admin', NULL), (1, 8, 'member', 1), (1, 9, NULL, 2),"
           " (1, 10, 'member', 3), (1, 11, 'admin', NULL), (1, 12, 'member', 2),"
           " (2, 1, 'member', 2), (2, 4, 'admin', NULL), (2, 7, NULL, 2),"
           " (2, 9, 'member', 1), (3, 2, NULL, NULL)");
    return fx_rel_members(NULL, 0);
}

typedef struct ord {
    const char *col;
    int pivot, dir;
} ord;

typedef struct spec {
    const char *name;
    ord o[3];
    size_t n;
} spec;

static const spec specs[] = {
    {"related key only", {{0}}, 0},
    {"name asc", {{"name", 0, M2M_ASC}}, 1},
    {"age desc", {{"age", 0, M2M_DESC}}, 1},
    {"age asc", {{"age", 0, M2M_ASC}}, 1},
    {"rank asc", {{"rank", 1, M2M_ASC}}, 1},
    {"rank desc", {{"rank", 1, M2M_DESC}}, 1},
    {"role desc, age asc", {{"role", 1, M2M_DESC}, {"age", 0, M2M_ASC}}, 2},
    {"age asc, name desc, rank desc",
     {{"age", 0, M2M_ASC}, {"name", 0, M2M_DESC}, {"rank", 1, M2M_DESC}},
     3},
};

static m2m_query *new_query(m2m_relation *rel, const spec *sp, int many, int strategy) {
    static const m2m_value rooms[] = {{.type = M2M_TINT, .i = 1},
                                      {.type = M2M_TINT, .i = 2},
                                      {.type = M2M_TINT, .i = 3}};
    m2m_query *q = NULL;
    if (many)
        T_OK(m2m_query_new_many(rel, rooms, 3, &q));
    else
        T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    for (size_t i = 0; i < sp->n; i++)
        T_OK(sp->o[i].pivot ? m2m_query_order_by_pivot(q, sp->o[i].col, sp->o[i].dir)
                            : m2m_query_order_by(q, sp->o[i].col, sp->o[i].dir));
    T_OK(m2m_query_strategy(q, strategy));
    return q;
}

static void add_id(char *out, size_t size, m2m_rows *rows, int many) {
    char one[64];
    if (many)
        snprintf(one, sizeof one, "%s%lld:%lld", out[0] ? "," : "",
                 (long long)m2m_rows_parent(rows).i,
                 (long long)m2m_rows_get(rows, "id").i);
    else
        snprintf(one, sizeof one, "%s%lld", out[0] ? "," : "",
                 (long long)m2m_rows_get(rows, "id").i);
    strncat(out, one, size - strlen(out) - 1);
}

/* The model: one unpaged read, the same with both strategies. */
static const char *unpaged(m2m_relation *rel, const spec *sp, int many) {
    static char out[2][1024];
    for (int st = M2M_JOIN; st <= M2M_TWO_QUERY; st++) {
        m2m_query *q = new_query(rel, sp, many, st);
        m2m_rows *rows = NULL;
        T_OK(m2m_query_get(q, &rows));
        out[st][0] = '\0';
        while (m2m_rows_next(rows) == M2M_ROW)
            add_id(out[st], sizeof out[st], rows, many);
        m2m_rows_free(rows);
        m2m_query_free(q);
    }
    if (strcmp(out[0], out[1]) != 0)
        fail_msg("%s: strategies differ: %s / %s", sp->name, out[0], out[1]);
    return out[0];
}

/* All pages of size, each read by a new query from the token kept as
 * text. */
static const char *paged(m2m_relation *rel, const spec *sp, int many, int strategy,
                         int64_t size) {
    static char out[1024];
    char token[1024] = "";
    out[0] = '\0';
    for (int page = 0; page < 64; page++) {
        m2m_query *q = new_query(rel, sp, many, strategy);
        T_OK(m2m_query_limit(q, size, 0));
        T_OK(m2m_query_after(q, page ? token : NULL));
        m2m_rows *rows = NULL;
        m2m_stats_reset(t_db());
        T_OK(m2m_query_get(q, &rows));
        if (strategy == M2M_JOIN)
            assert_int_equal(fx_executed(), 1);
        int64_t n = 0;
        while (m2m_rows_next(rows) == M2M_ROW) {
            add_id(out, sizeof out, rows, many);
            const char *t = m2m_rows_token(rows);
            assert_non_null(t);
            assert_true(strlen(t) < sizeof token);
            strcpy(token, t);
            n++;
        }
        assert_null(m2m_rows_token(rows)); /* no current row */
        m2m_rows_free(rows);
        m2m_query_free(q);
        if (n < size)
            return out;
    }
    fail_msg("%s: pages do not end", sp->name);
    return NULL;
}

TEST(keyset_pages_equal_unpaged_read) {
    m2m_relation *rel = seeded();
    const int64_t sizes[] = {1, 2, 3, 5, 40};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++)
        for (int many = 0; many <= 1; many++) {
            char want[1024];
            snprintf(want, sizeof want, "%s", unpaged(rel, &specs[k], many));
            for (int st = M2M_JOIN; st <= M2M_TWO_QUERY; st++)
                for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
                    const char *got = paged(rel, &specs[k], many, st, sizes[z]);
                    if (strcmp(got, want) != 0)
                        fail_msg("%s (%s, %s, pages of %lld):\npaged:   %s\nunpaged: %s",
                                 specs[k].name, many ? "many" : "one",
                                 st == M2M_JOIN ? "JOIN" : "TWO_QUERY",
                                 (long long)sizes[z], got, want);
                }
        }
    m2m_relation_close(rel);
}

/* A page resumes after the token's row by value: removing that row, or
 * adding rows before it, moves nothing; a row added after it appears. */
TEST(keyset_pages_stable_under_changes) {
    m2m_relation *rel = seeded();
    for (int st = M2M_JOIN; st <= M2M_TWO_QUERY; st++) {
        if (st == M2M_TWO_QUERY) {
            m2m_relation_close(rel);
            t_exec("DROP TABLE room_members; DROP TABLE users; DROP TABLE rooms");
            rel = seeded();
        }
        /* By rank then user, NULLs first: 4, 7, 11, then 2, 8 (rank 1),
         * 5, 9, 12 (2), 1, 3, 6, 10 (3). */
        const spec *sp = &specs[4];
        m2m_query *q = new_query(rel, sp, 0, st);
        T_OK(m2m_query_limit(q, 5, 0));
        T_OK(m2m_query_after(q, NULL));
        m2m_rows *rows = NULL;
        T_OK(m2m_query_get(q, &rows));
        char ids[256] = "", token[512] = "";
        while (m2m_rows_next(rows) == M2M_ROW) {
            add_id(ids, sizeof ids, rows, 0);
            strcpy(token, m2m_rows_token(rows));
        }
        m2m_rows_free(rows);
        m2m_query_free(q);
        assert_string_equal(ids, "4,7,11,2,8"); /* NULL ranks first */
        /* 8 (the token's row) leaves; 6 goes before it; 3 moves after. */
        T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(8)), NULL, NULL));
        T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(6)),
                              FX_COLS(COL("rank", M2M_INT(0))), NULL));
        T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(3)),
                              FX_COLS(COL("rank", M2M_INT(9))), NULL));
        q = new_query(rel, sp, 0, st);
        T_OK(m2m_query_limit(q, 4, 0));
        T_OK(m2m_query_after(q, token));
        T_OK(m2m_query_get(q, &rows));
        ids[0] = '\0';
        while (m2m_rows_next(rows) == M2M_ROW)
            add_id(ids, sizeof ids, rows, 0);
        m2m_rows_free(rows);
        /* The model: the rows after (rank 1, user 8), by plain SQL. */
        assert_string_equal(ids,
                            t_rows("SELECT user_id FROM room_members WHERE room_id = 1"
                                   " AND (rank > 1 OR (rank = 1 AND user_id > 8))"
                                   " ORDER BY rank, user_id LIMIT 4"));
        assert_string_equal(ids, "5,9,12,1");
        /* first: the first row after the token. */
        m2m_rows *one = NULL;
        T_OK(m2m_query_first(q, &one));
        assert_int_equal(m2m_rows_get(one, "id").i, 5);
        m2m_rows_free(one);
        /* count, has and find ignore the token. */
        int64_t n = -1;
        T_OK(m2m_query_count(q, &n));
        assert_int_equal(n, 11);
        T_OK(m2m_query_find(q, M2M_INT(4), &one));
        m2m_rows_free(one);
        m2m_query_free(q);
    }
    m2m_relation_close(rel);
}

static void assert_msg(const char *needle) {
    if (!strstr(m2m_errmsg(t_db()), needle))
        fail_msg("message \"%s\" lacks \"%s\"", m2m_errmsg(t_db()), needle);
}

/* The token of room 1's first row read by spec sp (one parent). */
static char *token_of(m2m_relation *rel, const spec *sp, int many) {
    m2m_query *q = new_query(rel, sp, many, M2M_JOIN);
    T_OK(m2m_query_after(q, NULL));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_first(q, &rows));
    char *t = strdup(m2m_rows_token(rows));
    m2m_rows_free(rows);
    m2m_query_free(q);
    return t;
}

/* A token the read refuses: M2M_INVALID naming why, nothing sent. */
static void refused_at_read(m2m_relation *rel, const spec *sp, int many,
                            const char *token, const char *needle) {
    m2m_query *q = new_query(rel, sp, many, M2M_JOIN);
    T_OK(m2m_query_after(q, token));
    m2m_rows *rows = NULL;
    m2m_stats_reset(t_db());
    T_RC(M2M_INVALID, m2m_query_get(q, &rows));
    assert_null(rows);
    assert_msg(needle);
    T_RC(M2M_INVALID, m2m_query_first(q, &rows));
    assert_int_equal(fx_executed(), 0);
    m2m_query_free(q);
}

TEST(keyset_bad_tokens_refused) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("room_members");
    const char *garbage[] = {"not a token", "A", "AAAA", "' OR 1=1 --", "AQ\xc3\xa9"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        m2m_query *q = new_query(rel, &specs[1], 0, M2M_JOIN);
        T_RC(M2M_INVALID, m2m_query_after(q, garbage[i]));
        assert_msg("not a page token");
        m2m_rows *rows = NULL;
        m2m_stats_reset(t_db());
        T_RC(M2M_INVALID, m2m_query_get(q, &rows));
        assert_int_equal(fx_executed(), 0);
        m2m_query_free(q);
    }
    /* Truncated: every shorter prefix of a real token. */
    char *t = token_of(rel, &specs[1], 0);
    for (size_t len = 1; len < strlen(t); len++) {
        char cut[512];
        snprintf(cut, sizeof cut, "%.*s", (int)len, t);
        m2m_query *q = new_query(rel, &specs[1], 0, M2M_JOIN);
        int rc = m2m_query_after(q, cut);
        if (rc == M2M_OK) { /* a prefix that decodes must still be refused */
            m2m_rows *rows = NULL;
            T_RC(M2M_INVALID, m2m_query_get(q, &rows));
        } else {
            assert_int_equal(rc, M2M_INVALID);
        }
        m2m_query_free(q);
    }
    /* Another order, another parents' form, another relation. */
    refused_at_read(rel, &specs[2], 0, t, "another order");
    refused_at_read(rel, &specs[1], 1, t, "another order");
    m2m_relation *inv = NULL;
    T_OK(m2m_relation_inverse(rel, &inv));
    m2m_query *q = NULL;
    T_OK(m2m_query_new(inv, M2M_INT(1), &q));
    T_OK(m2m_query_order_by(q, "name", M2M_ASC));
    T_OK(m2m_query_after(q, t));
    m2m_rows *rows = NULL;
    T_RC(M2M_INVALID, m2m_query_get(q, &rows));
    m2m_query_free(q);
    m2m_relation_close(inv);
    /* With a per-parent limit. */
    q = new_query(rel, &specs[1], 1, M2M_JOIN);
    T_OK(m2m_query_limit_each(q, 2, 0));
    T_OK(m2m_query_after(q, NULL));
    T_RC(M2M_INVALID, m2m_query_get(q, &rows));
    assert_msg("m2m_query_limit_each");
    m2m_query_free(q);
    /* "" and NULL: the first page again. */
    q = new_query(rel, &specs[1], 0, M2M_JOIN);
    T_OK(m2m_query_after(q, t));
    T_OK(m2m_query_after(q, ""));
    T_OK(m2m_query_first(q, &rows));
    assert_int_equal(m2m_rows_get(rows, "id").i, 1); /* the two anns: 1, then 7 */
    m2m_rows_free(rows);
    m2m_query_free(q);
    /* No token without m2m_query_after, nor on NULL. */
    q = new_query(rel, &specs[1], 0, M2M_JOIN);
    T_OK(m2m_query_first(q, &rows));
    assert_null(m2m_rows_token(rows));
    m2m_rows_free(rows);
    m2m_query_free(q);
    assert_null(m2m_rows_token(NULL));
    T_RC(M2M_MISUSE, m2m_query_after(NULL, t));
    free(t);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}
