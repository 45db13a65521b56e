/* SPDX-License-Identifier: MIT */
/* Filter-only conditions on a relation (m2m_relation_def.where): every
 * operator checked against a model of the rows (the array below, filtered
 * in C) on every read path and both strategies, and every write touching
 * only the rows that match, never storing the conditions. */
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mrow {
    int64_t room, user;
    const char *role; /* NULL: NULL */
    int64_t rank;     /* -1: NULL */
} mrow;

/* Constant initializers of values (M2M_TEXT is a compound literal). */
#define VT(x)                                                                            \
    { .type = M2M_TTEXT, .s = (x) }
#define VI(x)                                                                            \
    { .type = M2M_TINT, .i = (x) }

static const mrow rows[] = {
    {1, 1, "admin", 3},  {1, 2, "member", 1}, {1, 3, "member", 5},
    {1, 4, "banned", 2}, {1, 5, NULL, 4},     {1, 6, "moderator", -1},
    {2, 1, "member", 7}, {2, 2, "banned", 9}, {2, 3, NULL, -1}};
#define NROWS (sizeof rows / sizeof rows[0])

static void seed(void) {
    fx_rooms();
    t_exec("INSERT INTO room_members(room_id, user_id, role, rank) VALUES"
           " (1, 1, 'admin', 3), (1, 2, 'member', 1), (1, 3, 'member', 5),"
           " (1, 4, 'banned', 2), (1, 5, NULL, 4), (1, 6, 'moderator', NULL),"
           " (2, 1, 'member', 7), (2, 2, 'banned', 9), (2, 3, NULL, NULL)");
}

static m2m_relation_def members_def(const m2m_cond *where, size_t n) {
    static const char *const cols[] = {"role", "joined_at", "rank", NULL};
    return (m2m_relation_def){.parent_table = "rooms",
                              .related_table = "users",
                              .pivot_table = "room_members",
                              .foreign_pivot_key = "room_id",
                              .related_pivot_key = "user_id",
                              .pivot_columns = cols,
                              .where = where,
                              .nwhere = n};
}

static m2m_relation *open_where(const m2m_cond *where, size_t n) {
    m2m_relation_def def = members_def(where, n);
    return fx_open(&def);
}

/* The model of one condition, as SQL evaluates it: a NULL column matches
 * only "null"; like patterns here are a prefix and '%'. */
static int cmp_row(const mrow *r, const char *col, m2m_value v) {
    if (strcmp(col, "role") == 0)
        return strcmp(r->role, v.s);
    return r->rank < v.i ? -1 : r->rank > v.i;
}

static int model_one(const mrow *r, const m2m_cond *c) {
    int is_null = strcmp(c->column, "role") == 0 ? r->role == NULL : r->rank < 0;
    const char *op = c->op;
    if (strcmp(op, "null") == 0)
        return is_null;
    if (strcmp(op, "not null") == 0)
        return !is_null;
    if (is_null)
        return 0;
    const m2m_value *v = c->values;
    if (strcmp(op, "=") == 0)
        return cmp_row(r, c->column, v[0]) == 0;
    if (strcmp(op, "<>") == 0 || strcmp(op, "!=") == 0)
        return cmp_row(r, c->column, v[0]) != 0;
    if (strcmp(op, "<") == 0)
        return cmp_row(r, c->column, v[0]) < 0;
    if (strcmp(op, "<=") == 0)
        return cmp_row(r, c->column, v[0]) <= 0;
    if (strcmp(op, ">") == 0)
        return cmp_row(r, c->column, v[0]) > 0;
    if (strcmp(op, ">=") == 0)
        return cmp_row(r, c->column, v[0]) >= 0;
    if (strcmp(op, "between") == 0 || strcmp(op, "not between") == 0) {
        int in = cmp_row(r, c->column, v[0]) >= 0 && cmp_row(r, c->column, v[1]) <= 0;
        return op[0] == 'b' ? in : !in;
    }
    if (strcmp(op, "in") == 0 || strcmp(op, "not in") == 0) {
        int in = 0;
        for (size_t i = 0; i < c->nvalues; i++)
            in |= cmp_row(r, c->column, v[i]) == 0;
        return op[0] == 'i' ? in : !in;
    }
    if (strcmp(op, "like") == 0 || strcmp(op, "not like") == 0) {
        size_t n = strlen(v[0].s) - 1; /* "m%" */
        int in = strncmp(r->role, v[0].s, n) == 0;
        return op[0] == 'l' ? in : !in;
    }
    fail_msg("model: operator %s", op);
    return 0;
}

typedef struct cset {
    const char *name;
    m2m_cond c[3];
    size_t n;
} cset;

static int model(const cset *s, const mrow *r) {
    for (size_t i = 0; i < s->n; i++)
        if (!model_one(r, &s->c[i]))
            return 0;
    return 1;
}

static const m2m_value v_banned[] = {VT("banned")};
static const m2m_value v_adm_mem[] = {VT("admin"), VT("member")};
static const m2m_value v_admin[] = {VT("admin")};
static const m2m_value v_2_5[] = {VI(2), VI(5)};
static const m2m_value v_3[] = {VI(3)};
static const m2m_value v_m[] = {VT("m%")};
static const m2m_value v_member[] = {VT("member")};

#define C(col, op, vals)                                                                 \
    { col, op, vals, sizeof vals / sizeof vals[0] }
#define C0(col, op)                                                                      \
    { col, op, NULL, 0 }
#define MAX_WHERE_PLUS_ONE 17 /* the header's limit is 16 */

static const cset sets[] = {
    {"<>", {C("role", "<>", v_banned)}, 1},
    {"!=", {C("role", "!=", v_banned)}, 1},
    {"=", {C("role", "=", v_member)}, 1},
    {"in", {C("role", "in", v_adm_mem)}, 1},
    {"not in", {C("role", "not in", v_admin)}, 1},
    {"null", {C0("role", "null")}, 1},
    {"not null", {C0("rank", "not null")}, 1},
    {"between", {C("rank", "between", v_2_5)}, 1},
    {"not between", {C("rank", "not between", v_2_5)}, 1},
    {"like", {C("role", "like", v_m)}, 1},
    {"not like", {C("role", "not like", v_m)}, 1},
    {"<", {C("rank", "<", v_3)}, 1},
    {"<=", {C("rank", "<=", v_3)}, 1},
    {">", {C("rank", ">", v_3)}, 1},
    {">=", {C("rank", ">=", v_3)}, 1},
    {"two", {C("role", "<>", v_banned), C0("rank", "not null")}, 2},
    {"three",
     {C("rank", "between", v_2_5), C("role", "not in", v_admin), C0("role", "not null")},
     3},
};

/* The model's related ids of room (parent:id with many), in id order. */
static const char *model_ids(const cset *s, int64_t room, int extra, int with_parent) {
    static char out[512];
    out[0] = '\0';
    for (int64_t id = 1; id <= 6; id++)
        for (size_t i = 0; i < NROWS; i++)
            if (rows[i].room == room && rows[i].user == id && model(s, &rows[i]) &&
                (!extra || rows[i].rank < 0 || rows[i].rank > 2)) {
                if (with_parent)
                    snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld:%lld",
                             out[0] ? "," : "", (long long)room, (long long)id);
                else
                    snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld",
                             out[0] ? "," : "", (long long)id);
            }
    return out;
}

/* The inverse: the rooms of user, in room order. */
static const char *model_rooms(const cset *s, int64_t user) {
    static char out[128];
    out[0] = '\0';
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].user == user && model(s, &rows[i]))
            snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld",
                     out[0] ? "," : "", (long long)rows[i].room);
    return out;
}

/* A pivot filter OR-ed inside its group: the conditions still hold. */
static void b_rank_or_null(m2m_query *q) {
    T_OK(m2m_query_where_pivot(q, "rank", ">", M2M_INT(2)));
    T_OK(m2m_query_or(q));
    T_OK(m2m_query_where_pivot_null(q, "rank", 1));
}

static int64_t count_of(m2m_relation *rel, int64_t room, int strategy) {
    m2m_query *q = NULL;
    int64_t n = -1;
    T_OK(m2m_query_new(rel, M2M_INT(room), &q));
    T_OK(m2m_query_strategy(q, strategy));
    m2m_stats_reset(t_db());
    T_OK(m2m_query_count(q, &n));
    if (strategy == M2M_JOIN)
        assert_int_equal(fx_executed(), 1);
    m2m_query_free(q);
    return n;
}

static void check_set(const cset *s) {
    m2m_relation *rel = open_where(s->c, s->n);
    m2m_relation *inv = NULL;
    T_OK(m2m_relation_inverse(rel, &inv));
    char want[512];
    for (int64_t room = 1; room <= 3; room++) {
        snprintf(want, sizeof want, "%s", model_ids(s, room, 0, 0));
        const char *got = fx_read_both(rel, M2M_INT(room), NULL, 1);
        if (strcmp(got, want) != 0)
            fail_msg("%s: room %lld: got %s, model %s", s->name, (long long)room, got,
                     want);
        assert_string_equal(fx_read_both(rel, M2M_INT(room), b_rank_or_null, 1),
                            model_ids(s, room, 1, 0));
        int64_t n = 0;
        for (size_t i = 0; i < NROWS; i++)
            n += rows[i].room == room && model(s, &rows[i]);
        assert_int_equal(count_of(rel, room, M2M_JOIN), n);
        assert_int_equal(count_of(rel, room, M2M_TWO_QUERY), n);
        /* has, find and first: one statement each. */
        m2m_query *q = NULL;
        T_OK(m2m_query_new(rel, M2M_INT(room), &q));
        const m2m_value ids[] = {M2M_INT(1), M2M_INT(2), M2M_INT(3),
                                 M2M_INT(4), M2M_INT(5), M2M_INT(6)};
        int has[6];
        m2m_stats_reset(t_db());
        T_OK(m2m_query_has(q, ids, 6, has));
        assert_int_equal(fx_executed(), 1);
        for (int64_t id = 1; id <= 6; id++) {
            int in = 0;
            for (size_t i = 0; i < NROWS; i++)
                in |= rows[i].room == room && rows[i].user == id && model(s, &rows[i]);
            if (has[id - 1] != in)
                fail_msg("%s: has(room %lld, %lld) = %d, model %d", s->name,
                         (long long)room, (long long)id, has[id - 1], in);
            m2m_rows *r = NULL;
            int rc = m2m_query_find(q, M2M_INT(id), &r);
            assert_int_equal(rc, in ? M2M_OK : M2M_NOTFOUND);
            if (in)
                assert_int_equal(m2m_rows_get(r, "id").i, id);
            m2m_rows_free(r);
        }
        m2m_rows *r = NULL;
        int rc = m2m_query_first(q, &r);
        assert_int_equal(rc, want[0] ? M2M_OK : M2M_NOTFOUND);
        if (want[0])
            assert_int_equal(m2m_rows_get(r, "id").i, atoll(want));
        m2m_rows_free(r);
        m2m_query_free(q);
    }
    /* Eager loads and per-parent counts of the three rooms. */
    const m2m_value rooms[] = {M2M_INT(1), M2M_INT(2), M2M_INT(3)};
    char many[512] = "";
    for (int64_t room = 1; room <= 3; room++) {
        const char *m = model_ids(s, room, 0, 1);
        if (*m)
            snprintf(many + strlen(many), sizeof many - strlen(many), "%s%s",
                     many[0] ? "," : "", m);
    }
    assert_string_equal(fx_read_many_both(rel, rooms, 3, NULL), many);
    m2m_query *q = NULL;
    T_OK(m2m_query_new_many(rel, rooms, 3, &q));
    int64_t counts[3];
    m2m_stats_reset(t_db());
    T_OK(m2m_query_count_each(q, counts));
    assert_int_equal(fx_executed(), 1);
    for (int64_t room = 1; room <= 3; room++) {
        int64_t n = 0;
        for (size_t i = 0; i < NROWS; i++)
            n += rows[i].room == room && model(s, &rows[i]);
        assert_int_equal(counts[room - 1], n);
    }
    m2m_query_free(q);
    /* The inverse relation carries the conditions. */
    for (int64_t user = 1; user <= 6; user++)
        assert_string_equal(fx_read_both(inv, M2M_INT(user), NULL, 1),
                            model_rooms(s, user));
    m2m_relation_close(inv);
    m2m_relation_close(rel);
}

TEST(where_reads_every_operator_match_model) {
    seed();
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        check_set(&sets[i]);
}

/* The relation of the write tests: role <> 'banned' and rank not null.
 * Room 1 has 1, 2, 3 inside; 4 (banned), 5 (NULL role), 6 (NULL rank)
 * outside. Room 2 has 1 inside, 2 and 3 outside. */
static const m2m_cond live[] = {C("role", "<>", v_banned), C0("rank", "not null")};

#define ALL_ROWS()                                                                       \
    t_rows("SELECT room_id, user_id, role, rank FROM room_members ORDER BY 1, 2")
#define ROOM1_OUT "1|4|banned|2,1|5|~|4,1|6|moderator|~"
#define ROOM2     "2|1|member|7,2|2|banned|9,2|3|~|~"

static m2m_relation *live_rel(void) {
    seed();
    return open_where(live, 2);
}

TEST(where_detach_touches_only_matching_rows) {
    m2m_relation *rel = live_rel();
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(1), M2M_INT(4), M2M_INT(5)), NULL,
                    &ch));
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|2|member|1,1|3|member|5," ROOM1_OUT "," ROOM2);
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_string_equal(FX_DET(ch), "2,3");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), ROOM1_OUT "," ROOM2);
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "");
    m2m_relation_close(rel);
}

TEST(where_sync_toggle_update_touch_only_matching_rows) {
    m2m_relation *rel = live_rel();
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "1,3");
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), "1|2|member|1," ROOM1_OUT "," ROOM2);
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "2");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), ROOM1_OUT "," ROOM2);
    /* Update: in room 2 only 1 is inside (2 is banned, 3 has no role). */
    T_OK(m2m_update_pivot(rel, M2M_INT(2), FX_VALS(M2M_INT(1), M2M_INT(2), M2M_INT(3)),
                          FX_COLS(COL("rank", M2M_INT(8))), &ch));
    assert_string_equal(FX_UPD(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), ROOM1_OUT ",2|1|member|8,2|2|banned|9,2|3|~|~");
    /* Sync updating kept rows: only those inside. */
    T_OK(m2m_sync(rel, M2M_INT(2), FX_ITEMS(IT(1)),
                  &(m2m_opts){.flags = M2M_UPDATE_EXISTING,
                              .pivot = (const m2m_col[]){COL("rank", M2M_INT(0))},
                              .npivot = 1},
                  &ch));
    assert_string_equal(FX_UPD(ch), "1");
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ALL_ROWS(), ROOM1_OUT ",2|1|member|0,2|2|banned|9,2|3|~|~");
    m2m_relation_close(rel);
}

/* A pair present outside the conditions, with the pivot's primary key on
 * the two keys: attach, sync and toggle fail with M2M_EXISTS naming it
 * and change nothing, whatever form the pivot data takes. */
TEST(where_pair_outside_conditions_unique_exists) {
    m2m_relation *rel = live_rel();
    char *snap = fx_snap("room_members");
    m2m_changes *ch = NULL;
    const m2m_opts rank = {.pivot = (const m2m_col[]){COL("rank", M2M_INT(8))},
                           .npivot = 1};
    int rcs[] = {
        m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(4)), NULL, &ch),
        m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(4)), &rank, &ch),
        m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(4, COLT("role", "x")), IT(2)), NULL,
                   &ch),
        m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(4)), NULL, &ch),
        m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(4)), NULL, &ch),
    };
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++)
        if (rcs[i] != M2M_EXISTS)
            fail_msg("call %zu: %s", i, m2m_errname(rcs[i]));
    assert_null(ch);
    const char *msg = m2m_errmsg(t_db());
    if (!strstr(msg, "related id 4 ") || !strstr(msg, "where"))
        fail_msg("message does not name id 4 and the conditions: %s", msg);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}

/* Attach stores what it is given: the conditions are not written. A row
 * that does not match them is stored and reported attached, but is not
 * the relation's (Eloquent's wherePivot with another operator alike). */
TEST(where_attach_does_not_write_conditions) {
    m2m_relation *rel = live_rel();
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(
        rel, M2M_INT(3),
        FX_ITEMS(ITP(1, COLT("role", "member"), COL("rank", M2M_INT(1))), IT(2)), NULL,
        &ch));
    assert_string_equal(FX_ATT(ch), "1,2");
    m2m_changes_free(ch);
    assert_string_equal(
        fx_pivot_rows("room_members", "room_id", "user_id", "role, rank", 3),
        "1|member|1,2|~|~");
    assert_string_equal(fx_read_both(rel, M2M_INT(3), NULL, 1), "1");
    /* Present inside: attaching again adds nothing. */
    T_OK(m2m_attach(rel, M2M_INT(3), FX_ITEMS(IT(1)), NULL, &ch));
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    m2m_relation_close(rel);
}

/* Without a unique index the matching row is added next to the other. */
TEST(where_pair_outside_conditions_no_unique_adds_row) {
    seed();
    t_exec("CREATE TABLE m2(room_id BIGINT NOT NULL REFERENCES rooms(id),"
           " user_id BIGINT NOT NULL REFERENCES users(id), role TEXT, joined_at TEXT,"
           " rank BIGINT);"
           "INSERT INTO m2 SELECT room_id, user_id, role, joined_at, rank"
           " FROM room_members");
    m2m_relation_def def = members_def(live, 2);
    def.pivot_table = "m2";
    m2m_relation *rel = fx_open(&def);
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(
        rel, M2M_INT(1),
        FX_ITEMS(ITP(4, COLT("role", "member"), COL("rank", M2M_INT(6))), IT(1)), NULL,
        &ch));
    assert_string_equal(FX_ATT(ch), "4");
    m2m_changes_free(ch);
    assert_string_equal(
        t_rows("SELECT user_id, role, rank FROM m2 WHERE room_id = 1 AND user_id = 4"
               " ORDER BY 2"),
        "4|banned|2,4|member|6");
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "1,2,3,4");
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(4), IT(5)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "4");
    assert_string_equal(FX_ATT(ch), "5");
    m2m_changes_free(ch);
    assert_string_equal(
        t_rows(
            "SELECT user_id, role, rank FROM m2 WHERE room_id = 1 AND user_id IN (4, 5)"
            " ORDER BY 1, 2"),
        "4|banned|2,5|~|4,5|~|~");
    m2m_relation_close(rel);
}

TEST(where_version_covers_matching_rows_only) {
    m2m_relation *rel = live_rel();
    m2m_relation *all = fx_rel_members(NULL, 0);
    char a[M2M_VERSION_LEN], b[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), a));
    T_OK(m2m_update_pivot(all, M2M_INT(1), FX_VALS(M2M_INT(4)),
                          FX_COLS(COL("rank", M2M_INT(42))), NULL));
    T_OK(m2m_version(rel, M2M_INT(1), b));
    assert_string_equal(a, b);
    T_OK(m2m_update_pivot(all, M2M_INT(1), FX_VALS(M2M_INT(1)),
                          FX_COLS(COL("rank", M2M_INT(42))), NULL));
    T_OK(m2m_version(rel, M2M_INT(1), b));
    assert_true(strcmp(a, b) != 0);
    m2m_relation_close(all);
    m2m_relation_close(rel);
}

/* The conditions' values are parameters: the plans show placeholders, and
 * a value that looks like SQL is only data. */
TEST(where_values_are_parameters) {
    seed();
    static const m2m_value evil[] = {VT("x' OR '1'='1"),
                                     VT("member'); DROP TABLE room_members; --")};
    const m2m_cond c[] = {C("role", "in", evil)};
    m2m_relation *rel = open_where(c, 1);
    char *snap = fx_snap("room_members");
    assert_string_equal(fx_read_both(rel, M2M_INT(1), NULL, 1), "");
    m2m_changes *ch = NULL;
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    fx_assert_snap("room_members", snap);
    m2m_plan *plan = NULL;
    T_OK(m2m_explain(t_db(), &plan));
    T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(1)), NULL, NULL));
    int seen = 0;
    for (size_t i = 0; i < m2m_plan_count(plan); i++) {
        const char *sql = m2m_plan_sql(plan, i);
        assert_null(strstr(sql, "DROP"));
        if (strstr(sql, "DELETE") && strstr(sql, "\"role\" IN ($")) {
            seen = 1;
            assert_int_equal(m2m_plan_nparams(plan, i), 4);
        }
    }
    assert_true(seen);
    m2m_plan_free(plan);
    m2m_relation_close(rel);
}

static void open_bad(const m2m_cond *c, size_t n, int want, const char *needle) {
    m2m_relation_def def = members_def(c, n);
    m2m_relation *rel = (m2m_relation *)1;
    m2m_stats_reset(t_db());
    int rc = m2m_relation_open(t_db(), &def, &rel);
    if (rc != want)
        fail_msg("open: %s, expected %s (%s)", m2m_errname(rc), m2m_errname(want),
                 m2m_errmsg(t_db()));
    assert_null(rel);
    if (!strstr(m2m_errmsg(t_db()), needle))
        fail_msg("message \"%s\" lacks \"%s\"", m2m_errmsg(t_db()), needle);
}

TEST(where_bad_conditions_refused) {
    seed();
    char *snap = fx_snap("room_members");
    static const m2m_value null1[] = {{.type = M2M_TNULL}};
    static const m2m_value nullt[] = {{.type = M2M_TTEXT, .s = NULL}};
    static const m2m_value badt[] = {{.type = (m2m_type)9, .i = 0}};
    static const m2m_value one[] = {VI(1)};
    const m2m_value nan1[] = {M2M_REAL(NAN)};
    const m2m_cond bad_ident[] = {C0("role; DROP TABLE room_members", "null")};
    const m2m_cond null_col[] = {C0(NULL, "null")};
    const m2m_cond bad_op[] = {C("role", "= 1 OR 1=1 --", v_banned)};
    const m2m_cond null_op[] = {C("role", NULL, v_banned)};
    const m2m_cond in_empty[] = {{"role", "in", v_banned, 0}};
    const m2m_cond between1[] = {C("rank", "between", one)};
    const m2m_cond cmp2[] = {C("rank", ">", v_2_5)};
    const m2m_cond null_vals[] = {C("role", "null", v_banned)};
    const m2m_cond eq_null[] = {C("role", "=", null1)};
    const m2m_cond text_null[] = {C("role", "=", nullt)};
    const m2m_cond bad_type[] = {C("role", "=", badt)};
    const m2m_cond nan[] = {C("rank", "<", nan1)};
    const m2m_cond no_vals[] = {{"role", "=", NULL, 1}};
    const m2m_cond missing[] = {C0("nope", "null")};
    open_bad(bad_ident, 1, M2M_INVALID, "not a valid identifier");
    open_bad(null_col, 1, M2M_INVALID, "(null)");
    open_bad(bad_op, 1, M2M_INVALID, "unknown operator");
    open_bad(null_op, 1, M2M_INVALID, "unknown operator");
    open_bad(in_empty, 1, M2M_INVALID, "one value or more");
    open_bad(between1, 1, M2M_INVALID, "two values");
    open_bad(cmp2, 1, M2M_INVALID, "one value");
    open_bad(null_vals, 1, M2M_INVALID, "no value");
    open_bad(eq_null, 1, M2M_INVALID, "\"null\"");
    open_bad(text_null, 1, M2M_INVALID, "text value is NULL");
    open_bad(bad_type, 1, M2M_INVALID, "no valid type");
    open_bad(nan, 1, M2M_INVALID, "NaN");
    open_bad(no_vals, 1, M2M_MISUSE, "values is NULL");
    open_bad(NULL, 2, M2M_MISUSE, "where is NULL");
    open_bad(missing, 1, M2M_NOTFOUND, "where column 'nope'");
    m2m_cond many[MAX_WHERE_PLUS_ONE];
    for (size_t i = 0; i < MAX_WHERE_PLUS_ONE; i++)
        many[i] = (m2m_cond)C0("role", "not null");
    open_bad(many, MAX_WHERE_PLUS_ONE, M2M_INVALID, "more than 16");
    fx_assert_snap("room_members", snap);
}
