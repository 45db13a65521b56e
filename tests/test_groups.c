/* SPDX-License-Identifier: MIT */
/* Condition groups (m2m_query_group / m2m_query_group_end): nested, with
 * OR between related and pivot conditions, each read checked against a
 * model of the rows (the arrays below, filtered in C) on both strategies,
 * for one parent and many, get, count, per-parent counts and has, with the
 * statement counts the header promises; and every misuse refused. */
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
    {1, 5, NULL, 4},    {1, 7, "member", 6}, {2, 6, "admin", 9},  {2, 1, "member", 7},
    {2, 3, NULL, 1},    {3, 2, "member", 2}};
#define NMEMBERS (sizeof members / sizeof members[0])

static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO users VALUES (7, 'gus', NULL);"
           "INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
           " (1, 1, 'admin', 3), (1, 2, 'member', 1), (1, 3, 'member', 5),"
           " (1, 4, 'moderator', 2), (1, 5, NULL, 4), (1, 7, 'member', 6),"
           " (2, 6, 'admin', 9), (2, 1, 'member', 7), (2, 3, NULL, 1),"
           " (3, 2, 'member', 2)");
    return fx_rel_members(NULL, 0);
}

static const muser *user(int64_t id) {
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
        if (users[i].id == id)
            return &users[i];
    return NULL;
}

static int role_is(const mmember *m, const char *r) {
    return m->role && !strcmp(m->role, r);
}

typedef struct expr {
    const char *name;
    void (*build)(m2m_query *q);
    int (*model)(const muser *u, const mmember *m);
    int mixed; /* names related and pivot columns in one group */
} expr;

/* (role = 'member' OR age > 35) */
static void b1(m2m_query *q) {
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_pivot(q, "role", "=", M2M_TEXT("member")));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where(q, "age", ">", M2M_INT(35)));
    T_OK(m2m_query_group_end(q));
}
static int m1(const muser *u, const mmember *m) {
    return role_is(m, "member") || (u->age >= 0 && u->age > 35);
}

/* (rank < 3 OR (age < 30 AND role IS NOT NULL)) */
static void b2(m2m_query *q) {
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_pivot(q, "rank", "<", M2M_INT(3)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where(q, "age", "<", M2M_INT(30)));
    T_OK(m2m_query_where_pivot_null(q, "role", 0));
    T_OK(m2m_query_group_end(q));
    T_OK(m2m_query_group_end(q));
}
static int m2(const muser *u, const mmember *m) {
    return m->rank < 3 || (u->age >= 0 && u->age < 30 && m->role);
}

/* ((age between 28 and 45 AND name <> 'bob') OR role in (admin, moderator)) */
static void b3(m2m_query *q) {
    const m2m_value roles[] = {M2M_TEXT("admin"), M2M_TEXT("moderator")};
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_between(q, "age", M2M_INT(28), M2M_INT(45)));
    T_OK(m2m_query_where(q, "name", "<>", M2M_TEXT("bob")));
    T_OK(m2m_query_group_end(q));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot_in(q, "role", roles, 2, 0));
    T_OK(m2m_query_group_end(q));
}
static int m3(const muser *u, const mmember *m) {
    return (u->age >= 28 && u->age <= 45 && strcmp(u->name, "bob") != 0) ||
           role_is(m, "admin") || role_is(m, "moderator");
}

/* age IS NOT NULL (flat) AND (rank >= 4 OR name = 'ann') AND (role = 'member'
 * OR role IS NULL) AND (name like 'c%' OR age < 45): groups of every kind
 * beside a flat condition, each bracketed. */
static void b4(m2m_query *q) {
    T_OK(m2m_query_where_null(q, "age", 0));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_pivot(q, "rank", ">=", M2M_INT(4)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where(q, "name", "=", M2M_TEXT("ann")));
    T_OK(m2m_query_group_end(q));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_pivot(q, "role", "=", M2M_TEXT("member")));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot_null(q, "role", 1));
    T_OK(m2m_query_group_end(q));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where(q, "name", "like", M2M_TEXT("c%")));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where(q, "age", "<", M2M_INT(45)));
    T_OK(m2m_query_group_end(q));
}
static int m4(const muser *u, const mmember *m) {
    return u->age >= 0 && (m->rank >= 4 || !strcmp(u->name, "ann")) &&
           (role_is(m, "member") || !m->role) &&
           (!strncmp(u->name, "c", 1) || u->age < 45);
}

/* The unbracketed-OR hazard inside a group: (rank = 2 OR rank > 100 OR
 * age = 40) must never reach another parent's rows. */
static void b5(m2m_query *q) {
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_pivot(q, "rank", "=", M2M_INT(2)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot(q, "rank", ">", M2M_INT(100)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where(q, "age", "=", M2M_INT(40)));
    T_OK(m2m_query_group_end(q));
}
static int m5(const muser *u, const mmember *m) { return m->rank == 2 || u->age == 40; }

/* Three levels: (rank > 1 AND (role IS NULL OR (age > 30 AND rank < 9))) */
static void b6(m2m_query *q) {
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_pivot(q, "rank", ">", M2M_INT(1)));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_pivot_null(q, "role", 1));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where(q, "age", ">", M2M_INT(30)));
    T_OK(m2m_query_where_pivot(q, "rank", "<", M2M_INT(9)));
    T_OK(m2m_query_group_end(q));
    T_OK(m2m_query_group_end(q));
    T_OK(m2m_query_group_end(q));
}
static int m6(const muser *u, const mmember *m) {
    return m->rank > 1 && (!m->role || (u->age > 30 && m->rank < 9));
}

/* Related columns only, and pivot columns only, in groups. */
static void b7(m2m_query *q) {
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_null(q, "age", 1));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where(q, "age", "<=", M2M_INT(25)));
    T_OK(m2m_query_group_end(q));
}
static int m7(const muser *u, const mmember *m) {
    return (void)m, u->age < 0 || u->age <= 25;
}
static void b8(m2m_query *q) {
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where_pivot_between(q, "rank", M2M_INT(2), M2M_INT(4)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot(q, "role", "=", M2M_TEXT("admin")));
    T_OK(m2m_query_group_end(q));
}
static int m8(const muser *u, const mmember *m) {
    return (void)u, (m->rank >= 2 && m->rank <= 4) || role_is(m, "admin");
}

static const expr exprs[] = {{"mixed or", b1, m1, 1},         {"nested", b2, m2, 1},
                             {"groups of groups", b3, m3, 1}, {"every kind", b4, m4, 1},
                             {"or hazard", b5, m5, 1},        {"three levels", b6, m6, 1},
                             {"related only", b7, m7, 0},     {"pivot only", b8, m8, 0}};

/* The model's ids of room ("room:id" with with_parent), by related id. */
static const char *model_ids(const expr *e, int64_t room, int with_parent) {
    static char out[512];
    out[0] = '\0';
    for (int64_t id = 1; id <= 7; id++)
        for (size_t i = 0; i < NMEMBERS; i++)
            if (members[i].room == room && members[i].user == id &&
                e->model(user(id), &members[i]))
                snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s%lld",
                         out[0] ? "," : "",
                         with_parent ? (room == 1   ? "1:"
                                        : room == 2 ? "2:"
                                                    : "3:")
                                     : "",
                         (long long)id);
    return out;
}

static int64_t model_count(const expr *e, int64_t room) {
    int64_t n = 0;
    for (size_t i = 0; i < NMEMBERS; i++)
        n += members[i].room == room && e->model(user(members[i].user), &members[i]);
    return n;
}

static int64_t count_by(m2m_relation *rel, const expr *e, int64_t room, int strategy) {
    m2m_query *q = NULL;
    int64_t n = -1;
    T_OK(m2m_query_new(rel, M2M_INT(room), &q));
    e->build(q);
    T_OK(m2m_query_strategy(q, strategy));
    m2m_stats_reset(t_db());
    T_OK(m2m_query_count(q, &n));
    if (strategy == M2M_JOIN)
        assert_int_equal(fx_executed(), 1);
    m2m_query_free(q);
    return n;
}

TEST(groups_match_model_both_strategies) {
    m2m_relation *rel = seeded();
    for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++) {
        const expr *e = &exprs[k];
        char many[512] = "";
        for (int64_t room = 1; room <= 3; room++) {
            char want[512];
            snprintf(want, sizeof want, "%s", model_ids(e, room, 0));
            const char *got = fx_read_both(rel, M2M_INT(room), e->build, 1);
            if (strcmp(got, want) != 0)
                fail_msg("%s: room %lld: got %s, model %s", e->name, (long long)room, got,
                         want);
            assert_int_equal(count_by(rel, e, room, M2M_JOIN), model_count(e, room));
            assert_int_equal(count_by(rel, e, room, M2M_TWO_QUERY), model_count(e, room));
            const char *m = model_ids(e, room, 1);
            if (*m)
                snprintf(many + strlen(many), sizeof many - strlen(many), "%s%s",
                         many[0] ? "," : "", m);
            /* has: one statement. */
            m2m_query *q = NULL;
            T_OK(m2m_query_new(rel, M2M_INT(room), &q));
            e->build(q);
            const m2m_value ids[] = {M2M_INT(1), M2M_INT(2), M2M_INT(3), M2M_INT(4),
                                     M2M_INT(5), M2M_INT(6), M2M_INT(7)};
            int has[7];
            m2m_stats_reset(t_db());
            T_OK(m2m_query_has(q, ids, 7, has));
            assert_int_equal(fx_executed(), 1);
            for (int64_t id = 1; id <= 7; id++) {
                int in = 0;
                for (size_t i = 0; i < NMEMBERS; i++)
                    in |= members[i].room == room && members[i].user == id &&
                          e->model(user(id), &members[i]);
                if (has[id - 1] != in)
                    fail_msg("%s: has(room %lld, %lld) = %d, model %d", e->name,
                             (long long)room, (long long)id, has[id - 1], in);
            }
            m2m_query_free(q);
        }
        const m2m_value rooms[] = {M2M_INT(1), M2M_INT(2), M2M_INT(3)};
        const char *got = fx_read_many_both(rel, rooms, 3, e->build);
        if (strcmp(got, many) != 0)
            fail_msg("%s: many: got %s, model %s", e->name, got, many);
        m2m_query *q = NULL;
        T_OK(m2m_query_new_many(rel, rooms, 3, &q));
        e->build(q);
        int64_t counts[3];
        m2m_stats_reset(t_db());
        T_OK(m2m_query_count_each(q, counts));
        assert_int_equal(fx_executed(), 1);
        for (int64_t room = 1; room <= 3; room++)
            assert_int_equal(counts[room - 1], model_count(e, room));
        m2m_query_free(q);
    }
    m2m_relation_close(rel);
}

/* The plans: every group bracketed; TWO_QUERY reads the pivot rows joined
 * to the related table only for a group that names both. */
TEST(groups_plans_bracket_and_join_when_mixed) {
    m2m_relation *rel = seeded();
    for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++) {
        const expr *e = &exprs[k];
        for (int strategy = M2M_JOIN; strategy <= M2M_TWO_QUERY; strategy++) {
            m2m_query *q = NULL;
            T_OK(m2m_query_new(rel, M2M_INT(1), &q));
            e->build(q);
            T_OK(m2m_query_strategy(q, strategy));
            m2m_plan *plan = NULL;
            m2m_rows *rows = NULL;
            T_OK(m2m_explain(t_db(), &plan));
            T_OK(m2m_query_get(q, &rows));
            m2m_rows_free(rows);
            size_t n = m2m_plan_count(plan);
            const char *first = NULL;
            int bracketed = 0;
            for (size_t i = 0; i < n; i++) {
                const char *sql = m2m_plan_sql(plan, i);
                if (strstr(sql, "SELECT") && !first)
                    first = sql;
                bracketed |= strstr(sql, "SELECT") && strstr(sql, " AND (");
            }
            assert_non_null(first);
            if (!bracketed)
                fail_msg("%s: no bracketed group: %s", e->name, first);
            if (strategy == M2M_TWO_QUERY) {
                int joins = strstr(first, " JOIN ") != NULL;
                if (joins != e->mixed)
                    fail_msg("%s: first statement %s the related table: %s", e->name,
                             joins ? "joins" : "does not join", first);
            }
            m2m_plan_free(plan);
            m2m_query_free(q);
        }
    }
    m2m_relation_close(rel);
}

static void assert_msg(const char *needle) {
    if (!strstr(m2m_errmsg(t_db()), needle))
        fail_msg("message \"%s\" lacks \"%s\"", m2m_errmsg(t_db()), needle);
}

/* Each misuse: the call's code and message at once, and the query's reads
 * report it (nothing is sent). */
static void bad(m2m_relation *rel, int (*steps)(m2m_query *q), int want,
                const char *needle) {
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    int rc = steps(q);
    if (rc != want)
        fail_msg("builder: %s, expected %s (%s)", m2m_errname(rc), m2m_errname(want),
                 m2m_errmsg(t_db()));
    assert_msg(needle);
    m2m_stats_reset(t_db());
    m2m_rows *rows = NULL;
    int64_t n = -1;
    int has = -1;
    const m2m_value one[] = {M2M_INT(1)};
    T_RC(want, m2m_query_get(q, &rows));
    assert_null(rows);
    assert_msg(needle);
    T_RC(want, m2m_query_count(q, &n));
    T_RC(want, m2m_query_has(q, one, 1, &has));
    T_RC(want, m2m_query_first(q, &rows));
    assert_null(rows);
    assert_int_equal(fx_executed(), 0);
    m2m_query_free(q);
}

static int s_end_none(m2m_query *q) { return m2m_query_group_end(q); }
static int s_empty(m2m_query *q) {
    T_OK(m2m_query_group(q));
    return m2m_query_group_end(q);
}
static int s_or_first(m2m_query *q) {
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_or(q));
    return m2m_query_where(q, "age", ">", M2M_INT(1));
}
static int s_or_last(m2m_query *q) {
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where(q, "age", ">", M2M_INT(1)));
    T_OK(m2m_query_or(q));
    return m2m_query_group_end(q);
}
static int s_or_top_group(m2m_query *q) {
    T_OK(m2m_query_where(q, "age", ">", M2M_INT(1)));
    T_OK(m2m_query_or(q));
    return m2m_query_group(q);
}
static int s_too_deep(m2m_query *q) {
    for (int i = 0; i < 32; i++)
        T_OK(m2m_query_group(q));
    return m2m_query_group(q);
}
static int s_bad_col(m2m_query *q) {
    T_OK(m2m_query_group(q));
    return m2m_query_where(q, "age) OR (1=1", ">", M2M_INT(1));
}
static int s_unknown_pivot(m2m_query *q) {
    T_OK(m2m_query_group(q));
    return m2m_query_where_pivot(q, "secret", "=", M2M_TEXT("x' OR '1'='1"));
}
static int s_bad_value(m2m_query *q) {
    T_OK(m2m_query_group(q));
    return m2m_query_where(q, "age", "=", (m2m_value){.type = (m2m_type)7});
}

TEST(groups_misuse_refused) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("room_members");
    bad(rel, s_end_none, M2M_INVALID, "without an open group");
    bad(rel, s_empty, M2M_INVALID, "empty condition group");
    bad(rel, s_or_first, M2M_INVALID, "nothing before it");
    bad(rel, s_or_last, M2M_INVALID, "nothing after it");
    bad(rel, s_or_top_group, M2M_INVALID, "open a group around both");
    bad(rel, s_too_deep, M2M_INVALID, "deeper than 32");
    bad(rel, s_bad_col, M2M_INVALID, "not a valid identifier");
    bad(rel, s_unknown_pivot, M2M_INVALID, "unknown pivot column 'secret'");
    bad(rel, s_bad_value, M2M_INVALID, "bad filter value");
    /* A group left open: every read refuses, naming it. */
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_group(q));
    T_OK(m2m_query_where(q, "age", ">", M2M_INT(1)));
    T_OK(m2m_query_group_end(q));
    m2m_rows *rows = NULL;
    int64_t n = -1, counts[1];
    m2m_stats_reset(t_db());
    T_RC(M2M_INVALID, m2m_query_get(q, &rows));
    assert_msg("1 condition group opened");
    T_RC(M2M_INVALID, m2m_query_count(q, &n));
    T_RC(M2M_INVALID, m2m_query_count_each(q, counts));
    T_RC(M2M_INVALID, m2m_query_find(q, M2M_INT(1), &rows));
    assert_int_equal(fx_executed(), 0);
    /* Closing it makes the query whole. */
    T_OK(m2m_query_group_end(q));
    T_OK(m2m_query_count(q, &n));
    assert_int_equal(n, 5); /* room 1 but 7, whose age is NULL */
    m2m_query_free(q);
    T_RC(M2M_MISUSE, m2m_query_group(NULL));
    T_RC(M2M_MISUSE, m2m_query_group_end(NULL));
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}
