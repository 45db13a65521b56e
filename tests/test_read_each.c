/* SPDX-License-Identifier: MIT */
/* Counts and existence for many parents, which ids are attached, first and
 * find, the in / null / between family on related columns, and the choice
 * of related columns: each checked against a model of the rows (the arrays
 * below, filtered in C), on both strategies, with the statement counts the
 * header promises. */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct muser {
    int64_t id;
    const char *name;
    int64_t age; /* -1: NULL */
} muser;
typedef struct mmember {
    int64_t room, user;
    const char *role; /* NULL: NULL */
    int64_t rank;
} mmember;

static const muser users[] = {{1, "ann", 30}, {2, "bob", 40}, {3, "cid", 25},
                              {4, "dan", 50}, {5, "eve", 35}, {6, "fay", 20},
                              {7, "gus", -1}};
static const mmember members[] = {
    {1, 1, "admin", 3}, {1, 2, "member", 1}, {1, 3, "member", 5}, {1, 4, "moderator", 2},
    {1, 5, NULL, 4},    {1, 7, "member", 6}, {2, 6, "admin", 9},  {2, 1, "member", 7}};
#define NMEMBERS (sizeof members / sizeof members[0])

static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO users VALUES (7, 'gus', NULL);"
           "INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
           " (1, 1, 'admin', 3), (1, 2, 'member', 1), (1, 3, 'member', 5),"
           " (1, 4, 'moderator', 2), (1, 5, NULL, 4), (1, 7, 'member', 6),"
           " (2, 6, 'admin', 9), (2, 1, 'member', 7)");
    return fx_rel_members(NULL, 0);
}

static const muser *user(int64_t id) {
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
        if (users[i].id == id)
            return &users[i];
    return NULL;
}

typedef int (*pred_fn)(const muser *u, const mmember *m);
static int all(const muser *u, const mmember *m) { return (void)u, (void)m, 1; }
static int age_gt_28(const muser *u, const mmember *m) { return (void)m, u->age > 28; }
static int is_member(const muser *u, const mmember *m) {
    return (void)u, m->role && strcmp(m->role, "member") == 0;
}

/* The model's ids of room, in the default order (related id). */
static const char *model_ids(int64_t room, pred_fn pred) {
    static char out[256];
    out[0] = '\0';
    for (int64_t id = 1; id <= 7; id++)
        for (size_t i = 0; i < NMEMBERS; i++)
            if (members[i].room == room && members[i].user == id &&
                pred(user(id), &members[i]))
                snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld",
                         out[0] ? "," : "", (long long)id);
    return out;
}

static int64_t model_count(int64_t room, pred_fn pred) {
    int64_t n = 0;
    for (size_t i = 0; i < NMEMBERS; i++)
        n += members[i].room == room && pred(user(members[i].user), &members[i]);
    return n;
}

static void b_none(m2m_query *q) { (void)q; }
static void b_age_gt_28(m2m_query *q) {
    T_OK(m2m_query_where(q, "age", ">", M2M_INT(28)));
}
static void b_member(m2m_query *q) {
    T_OK(m2m_query_where_pivot(q, "role", "=", M2M_TEXT("member")));
}

static const struct {
    fx_build_fn build;
    pred_fn pred;
} cases[] = {{b_none, all}, {b_age_gt_28, age_gt_28}, {b_member, is_member}};

TEST(each_counts_and_exists_for_many_parents) {
    m2m_relation *rel = seeded();
    /* Zero-count parents (3, and 99 which does not exist) and a repeat. */
    const m2m_value parents[] = {M2M_INT(2), M2M_INT(3), M2M_INT(1), M2M_INT(99),
                                 M2M_INT(2)};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int s = M2M_JOIN; s <= M2M_TWO_QUERY; s++) {
            m2m_query *q = NULL;
            T_OK(m2m_query_new_many(rel, parents, 5, &q));
            T_OK(m2m_query_strategy(q, s));
            cases[c].build(q);
            T_OK(m2m_query_order_by(q, "name", M2M_ASC)); /* no effect, but checked */
            int64_t counts[5];
            int exists[5];
            memset(counts, 0xff, sizeof counts);
            m2m_stats_reset(t_db());
            T_OK(m2m_query_count_each(q, counts));
            assert_int_equal(fx_executed(), 1);
            m2m_stats_reset(t_db());
            T_OK(m2m_query_exists_each(q, exists));
            assert_int_equal(fx_executed(), 1);
            for (int i = 0; i < 5; i++) {
                int64_t want = model_count(parents[i].i, cases[c].pred);
                if (counts[i] != want || exists[i] != (want > 0))
                    fail_msg("case %zu parent %lld: count %lld exists %d, model %lld", c,
                             (long long)parents[i].i, (long long)counts[i], exists[i],
                             (long long)want);
                /* The same as the single-parent count. */
                m2m_query *one = NULL;
                int64_t n = -1;
                T_OK(m2m_query_new(rel, parents[i], &one));
                cases[c].build(one);
                T_OK(m2m_query_count(one, &n));
                m2m_query_free(one);
                assert_int_equal(n, want);
            }
            m2m_query_free(q);
        }
    /* No parents: nothing to run. */
    m2m_query *q = NULL;
    T_OK(m2m_query_new_many(rel, parents, 0, &q));
    m2m_stats_reset(t_db());
    T_OK(m2m_query_count_each(q, NULL));
    assert_int_equal(fx_executed(), 0);
    m2m_query_free(q);
    m2m_relation_close(rel);
}

TEST(each_counts_honour_scope_and_bad_columns) {
    static const m2m_col scope[] = {
        {.name = "role", .value = {.type = M2M_TTEXT, .s = "member"}}};
    m2m_relation *rel = seeded();
    m2m_relation *mem = fx_rel_members(scope, 1);
    const m2m_value parents[] = {M2M_INT(1), M2M_INT(2), M2M_INT(3)};
    m2m_query *q = NULL;
    T_OK(m2m_query_new_many(mem, parents, 3, &q));
    int64_t counts[3];
    T_OK(m2m_query_count_each(q, counts));
    for (int i = 0; i < 3; i++)
        assert_int_equal(counts[i], model_count(parents[i].i, is_member));
    m2m_query_free(q);
    /* A bad related column fails whatever the data. */
    const m2m_value empty[] = {M2M_INT(3)};
    T_OK(m2m_query_new_many(rel, empty, 1, &q));
    T_OK(m2m_query_where(q, "nope", "=", M2M_INT(1)));
    T_RC(M2M_INVALID, m2m_query_count_each(q, counts));
    int ex[1];
    T_RC(M2M_INVALID, m2m_query_exists_each(q, ex));
    m2m_query_free(q);
    T_OK(m2m_query_new_many(rel, empty, 1, &q));
    T_OK(m2m_query_order_by(q, "nope", M2M_ASC));
    T_RC(M2M_INVALID, m2m_query_count_each(q, counts));
    m2m_query_free(q);
    m2m_relation_close(mem);
    m2m_relation_close(rel);
}

TEST(each_has_which_ids_are_attached) {
    m2m_relation *rel = seeded();
    enum { N = 1500 };
    m2m_value *ids = calloc(N, sizeof *ids);
    int *out = calloc(N, sizeof *out);
    assert_non_null(ids);
    assert_non_null(out);
    for (int i = 0; i < N; i++)
        ids[i] = M2M_INT(N - i - 1); /* 1499 .. 0, so 1..7 and others */
    ids[0] = M2M_INT(3);             /* a repeat */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int64_t room = 1; room <= 3; room++) {
            m2m_query *q = NULL;
            T_OK(m2m_query_new(rel, M2M_INT(room), &q));
            cases[c].build(q);
            m2m_stats_reset(t_db());
            T_OK(m2m_query_has(q, ids, N, out));
            assert_int_equal(fx_executed(), 1);
            m2m_query_free(q);
            for (int i = 0; i < N; i++) {
                int want = 0;
                for (size_t k = 0; k < NMEMBERS; k++)
                    want |= members[k].room == room && members[k].user == ids[i].i &&
                            cases[c].pred(user(ids[i].i), &members[k]);
                if (out[i] != want)
                    fail_msg("case %zu room %lld id %lld: %d, model %d", c,
                             (long long)room, (long long)ids[i].i, out[i], want);
            }
        }
    /* Wrong id type, and a query of many parents, are refused. */
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    T_RC(M2M_TYPE, m2m_query_has(q, FX_VALS(M2M_TEXT("1")), out));
    m2m_query_free(q);
    T_OK(m2m_query_new_many(rel, FX_VALS(M2M_INT(1)), &q));
    T_RC(M2M_MISUSE, m2m_query_has(q, ids, 1, out));
    m2m_query_free(q);
    free(ids);
    free(out);
    m2m_relation_close(rel);
}

TEST(each_first_and_find) {
    m2m_relation *rel = seeded();
    for (int s = M2M_JOIN; s <= M2M_TWO_QUERY; s++) {
        m2m_query *q = NULL;
        m2m_rows *row = NULL;
        T_OK(m2m_query_new(rel, M2M_INT(1), &q));
        T_OK(m2m_query_strategy(q, s));
        T_OK(m2m_query_order_by(q, "name", M2M_DESC));
        T_OK(m2m_query_first(q, &row));
        assert_string_equal(m2m_rows_get(row, "name").s, "gus");
        assert_string_equal(m2m_rows_pivot(row, "role").s, "member");
        m2m_rows_free(row);
        /* The offset still applies; the query's own limit is kept. */
        T_OK(m2m_query_limit(q, 5, 1));
        T_OK(m2m_query_first(q, &row));
        assert_string_equal(m2m_rows_get(row, "name").s, "eve");
        m2m_rows_free(row);
        T_OK(m2m_query_find(q, M2M_INT(3), &row));
        assert_int_equal(m2m_rows_get(row, "id").i, 3);
        assert_string_equal(m2m_rows_get(row, "name").s, "cid");
        assert_int_equal(m2m_rows_pivot(row, "rank").i, 5);
        assert_int_equal(m2m_rows_next(row), M2M_DONE);
        m2m_rows_free(row);
        T_OK(m2m_query_limit(q, -1, 0));
        /* Not attached to room 1: not found, with a message naming it. */
        row = (m2m_rows *)1;
        T_RC(M2M_NOTFOUND, m2m_query_find(q, M2M_INT(6), &row));
        assert_null(row);
        assert_non_null(strstr(m2m_errmsg(t_db()), "related id 6"));
        /* Filtered out: not found either; the query reads as before. */
        T_OK(m2m_query_where(q, "age", ">", M2M_INT(28)));
        T_RC(M2M_NOTFOUND, m2m_query_find(q, M2M_INT(3), &row));
        int64_t n = -1;
        T_OK(m2m_query_count(q, &n));
        assert_int_equal(n, model_count(1, age_gt_28));
        T_OK(m2m_query_find(q, M2M_INT(4), &row));
        assert_string_equal(m2m_rows_get(row, "name").s, "dan");
        m2m_rows_free(row);
        m2m_query_free(q);
        /* Room 3 has no rows. */
        T_OK(m2m_query_new(rel, M2M_INT(3), &q));
        T_OK(m2m_query_strategy(q, s));
        T_RC(M2M_NOTFOUND, m2m_query_first(q, &row));
        assert_null(row);
        m2m_query_free(q);
    }
    m2m_relation_close(rel);
}

/* The in / null / between family on related columns, not between on pivot
 * columns, and an OR across them. */
static const m2m_value some_names[] = {{.type = M2M_TTEXT, .s = "bob"},
                                       {.type = M2M_TTEXT, .s = "gus"},
                                       {.type = M2M_TTEXT, .s = "zed"}};
static int name_in(const muser *u, const mmember *m) {
    return (void)m, !strcmp(u->name, "bob") || !strcmp(u->name, "gus");
}
static int name_not_in(const muser *u, const mmember *m) { return !name_in(u, m); }
static int age_null(const muser *u, const mmember *m) { return (void)m, u->age < 0; }
static int age_not_null(const muser *u, const mmember *m) { return (void)m, u->age >= 0; }
static int age_25_35(const muser *u, const mmember *m) {
    return (void)m, u->age >= 25 && u->age <= 35;
}
static int age_not_25_35(const muser *u, const mmember *m) {
    return (void)m, u->age >= 0 && !(u->age >= 25 && u->age <= 35);
}
static int rank_not_2_5(const muser *u, const mmember *m) {
    return (void)u, m->rank < 2 || m->rank > 5;
}
static int null_or_ann(const muser *u, const mmember *m) {
    return age_null(u, m) || !strcmp(u->name, "ann");
}
static void b_in(m2m_query *q) { T_OK(m2m_query_where_in(q, "name", some_names, 3, 0)); }
static void b_not_in(m2m_query *q) {
    T_OK(m2m_query_where_in(q, "name", some_names, 3, 1));
}
static void b_null(m2m_query *q) { T_OK(m2m_query_where_null(q, "age", 1)); }
static void b_not_null(m2m_query *q) { T_OK(m2m_query_where_null(q, "age", 0)); }
static void b_between(m2m_query *q) {
    T_OK(m2m_query_where_between(q, "age", M2M_INT(25), M2M_INT(35)));
}
static void b_not_between(m2m_query *q) {
    T_OK(m2m_query_where_not_between(q, "age", M2M_INT(25), M2M_INT(35)));
}
static void b_pivot_not_between(m2m_query *q) {
    T_OK(m2m_query_where_pivot_not_between(q, "rank", M2M_INT(2), M2M_INT(5)));
}
static void b_null_or_ann(m2m_query *q) {
    T_OK(m2m_query_where_null(q, "age", 1));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_in(q, "name", (const m2m_value[]){M2M_TEXT("ann")}, 1, 0));
}

TEST(each_where_in_null_between_on_related) {
    m2m_relation *rel = seeded();
    const struct {
        fx_build_fn build;
        pred_fn pred;
    } w[] = {{b_in, name_in},
             {b_not_in, name_not_in},
             {b_null, age_null},
             {b_not_null, age_not_null},
             {b_between, age_25_35},
             {b_not_between, age_not_25_35},
             {b_pivot_not_between, rank_not_2_5},
             {b_null_or_ann, null_or_ann}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        for (int64_t room = 1; room <= 3; room++) {
            char want[256];
            snprintf(want, sizeof want, "%s", model_ids(room, w[i].pred));
            const char *got = fx_read_both(rel, M2M_INT(room), w[i].build, 1);
            if (strcmp(got, want) != 0)
                fail_msg("filter %zu room %lld: %s, model %s", i, (long long)room, got,
                         want);
        }
    m2m_relation_close(rel);
}

TEST(each_compare_with_null_rejected) {
    m2m_relation *rel = seeded();
    const char *const ops[] = {"=", "!=", "<>", "<", "like"};
    for (size_t i = 0; i < 5; i++)
        for (int pivot = 0; pivot <= 1; pivot++) {
            m2m_query *q = NULL;
            T_OK(m2m_query_new(rel, M2M_INT(1), &q));
            int rc = pivot ? m2m_query_where_pivot(q, "role", ops[i], M2M_NULL)
                           : m2m_query_where(q, "age", ops[i], M2M_NULL);
            assert_int_equal(rc, M2M_INVALID);
            m2m_rows *rows = NULL;
            int64_t n = -1;
            T_RC(M2M_INVALID, m2m_query_get(q, &rows));
            assert_null(rows);
            assert_non_null(strstr(m2m_errmsg(t_db()), "where_null"));
            T_RC(M2M_INVALID, m2m_query_count(q, &n));
            m2m_query_free(q);
        }
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    T_RC(M2M_INVALID, m2m_query_where_between(q, "age", M2M_NULL, M2M_INT(3)));
    m2m_query_free(q);
    m2m_relation_close(rel);
}

static void b_select_name(m2m_query *q) {
    T_OK(m2m_query_select(q, "name"));
    T_OK(m2m_query_with_pivot(q, "rank"));
    T_OK(m2m_query_order_by(q, "age", M2M_DESC)); /* a column not returned */
}
static void b_select_two(m2m_query *q) {
    T_OK(m2m_query_select(q, "age"));
    T_OK(m2m_query_select(q, "id"));
    T_OK(m2m_query_select(q, "age")); /* once */
    T_OK(m2m_query_with_pivot(q, "role"));
}

TEST(each_select_related_columns) {
    m2m_relation *rel = seeded();
    /* Room 1 by age descending: dan 50, bob 40, eve 35, ann 30, cid 25, then
     * gus (NULL last). */
    assert_string_equal(fx_read_both(rel, M2M_INT(1), b_select_name, 0),
                        "dan|2,bob|1,eve|4,ann|3,cid|5,gus|6");
    assert_string_equal(fx_read_both(rel, M2M_INT(2), b_select_two, 0),
                        "30|1|member,20|6|admin");
    for (int s = M2M_JOIN; s <= M2M_TWO_QUERY; s++) {
        m2m_query *q = NULL;
        m2m_rows *rows = NULL;
        T_OK(m2m_query_new(rel, M2M_INT(2), &q));
        T_OK(m2m_query_strategy(q, s));
        T_OK(m2m_query_select(q, "name"));
        T_OK(m2m_query_get(q, &rows));
        assert_int_equal(m2m_rows_next(rows), M2M_ROW);
        assert_int_equal(m2m_rows_ncols(rows), 1);
        assert_string_equal(m2m_rows_name(rows, 0), "name");
        assert_string_equal(m2m_rows_get(rows, "name").s, "ann");
        assert_int_equal(m2m_rows_get(rows, "id").type, M2M_TNULL);
        m2m_rows_free(rows);
        m2m_query_free(q);
        /* An unknown column, with rows and without. */
        for (int64_t room = 2; room <= 3; room++) {
            T_OK(m2m_query_new(rel, M2M_INT(room), &q));
            T_OK(m2m_query_strategy(q, s));
            T_OK(m2m_query_select(q, "nope"));
            T_RC(M2M_INVALID, m2m_query_get(q, &rows));
            m2m_query_free(q);
        }
        T_OK(m2m_query_new(rel, M2M_INT(2), &q));
        T_RC(M2M_INVALID, m2m_query_select(q, "bad name"));
        m2m_query_free(q);
    }
    m2m_relation_close(rel);
}

/* Per-parent limit: the model keeps each room's rows ranked (rank
 * descending) in (offset, offset + limit], then orders all kept rows as
 * the read does (rank descending, then room, then user). */
static int64_t each_lim, each_off;
static void b_each(m2m_query *q) {
    T_OK(m2m_query_order_by_pivot(q, "rank", M2M_DESC));
    T_OK(m2m_query_limit_each(q, each_lim, each_off));
}

static int by_rank_desc(const void *a, const void *b) {
    const mmember *x = *(const mmember *const *)a, *y = *(const mmember *const *)b;
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    if (x->room != y->room)
        return x->room < y->room ? -1 : 1;
    return x->user < y->user ? -1 : x->user > y->user;
}

static const char *model_each(const int64_t *rooms, size_t nrooms, int64_t lim,
                              int64_t off) {
    const mmember *sorted[NMEMBERS], *kept[NMEMBERS];
    size_t nk = 0;
    for (size_t i = 0; i < NMEMBERS; i++)
        sorted[i] = &members[i];
    qsort(sorted, NMEMBERS, sizeof *sorted, by_rank_desc);
    for (size_t r = 0; r < nrooms; r++) {
        int64_t n = 0;
        for (size_t i = 0; i < NMEMBERS; i++)
            if (sorted[i]->room == rooms[r] && ++n > off && (lim < 0 || n - off <= lim))
                kept[nk++] = sorted[i];
    }
    qsort(kept, nk, sizeof *kept, by_rank_desc);
    static char out[256];
    out[0] = '\0';
    for (size_t i = 0; i < nk; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld:%lld", i ? "," : "",
                 (long long)kept[i]->room, (long long)kept[i]->user);
    return out;
}

TEST(each_per_parent_limit_in_eager_loads) {
    m2m_relation *rel = seeded();
    const m2m_value rooms[] = {M2M_INT(1), M2M_INT(2), M2M_INT(3)};
    const int64_t ids[] = {1, 2, 3};
    const int64_t lims[][2] = {{2, 0}, {1, 1}, {-1, 2}, {0, 0}, {3, 5}, {10, 0}};
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
        each_lim = lims[i][0];
        each_off = lims[i][1];
        char want[256];
        snprintf(want, sizeof want, "%s", model_each(ids, 3, each_lim, each_off));
        const char *got = fx_read_many_both(rel, rooms, 3, b_each);
        if (strcmp(got, want) != 0)
            fail_msg("limit %lld offset %lld: %s, model %s", (long long)each_lim,
                     (long long)each_off, got, want);
    }
    /* One statement with JOIN; with a whole-result limit on top. */
    m2m_query *q = NULL;
    T_OK(m2m_query_new_many(rel, rooms, 3, &q));
    each_lim = 2;
    each_off = 0;
    b_each(q);
    T_OK(m2m_query_limit(q, 2, 1));
    m2m_rows *rows = NULL;
    m2m_stats_reset(t_db());
    T_OK(m2m_query_get(q, &rows));
    /* model 2:6,2:1,1:7,1:3: the second and third */
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    assert_int_equal(m2m_rows_get(rows, "id").i, 1);
    assert_int_equal(m2m_rows_parent(rows).i, 2);
    assert_int_equal(m2m_rows_pivot(rows, "rank").i, 7);
    assert_int_equal(m2m_rows_ncols(rows), 3);
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    assert_int_equal(m2m_rows_get(rows, "id").i, 7);
    assert_int_equal(m2m_rows_next(rows), M2M_DONE);
    m2m_rows_free(rows);
    assert_int_equal(fx_executed(), 1);
    int64_t n = -1;
    T_OK(m2m_query_count(q, &n));
    assert_int_equal(n, (int64_t)NMEMBERS);
    m2m_query_free(q);
    m2m_relation_close(rel);
}
