/* SPDX-License-Identifier: MIT */
/* Bad input for every entry point: NULL handles and pointers (M2M_MISUSE),
 * wrong id types (M2M_TYPE), NULL ids and unknown pivot columns
 * (M2M_INVALID), SQL-looking values (stored verbatim). Every error leaves the
 * pivot table as it was and sets a message. */
#include "fixtures.h"

#include <stdio.h>
#include <string.h>

static m2m_relation *seeded(void) {
    fx_users_roles();
    t_exec("INSERT INTO role_user(user_id, role_id, granted_by) VALUES"
           " (1, 1, 'a'), (1, 2, 'b'), (2, 1, 'c')");
    return fx_rel_roles();
}

static const m2m_item one_item[] = {{.id = {.type = M2M_TINT, .i = 3}}};
static const m2m_value one_id[] = {{.type = M2M_TINT, .i = 1}};
static const m2m_col one_col[] = {
    {.name = "granted_by", .value = {.type = M2M_TTEXT, .s = "z"}}};

TEST(bad_null_handles_misuse) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("role_user");
    m2m_db *db = (m2m_db *)rel;
    m2m_changes *ch = NULL;
    /* Connections. */
    assert_int_equal(m2m_open(NULL, &db), M2M_MISUSE);
    assert_null(db);
    assert_int_equal(m2m_open(t_url(), NULL), M2M_MISUSE);
    assert_int_equal(m2m_close(NULL), M2M_OK);
    assert_int_equal(m2m_exec(NULL, "SELECT 1"), M2M_MISUSE);
    assert_int_equal(m2m_exec(t_db(), NULL), M2M_MISUSE);
    assert_int_equal(m2m_sql(NULL, "SELECT 1", NULL, 0, NULL), M2M_MISUSE);
    assert_int_equal(m2m_sql(t_db(), NULL, NULL, 0, NULL), M2M_MISUSE);
    assert_int_equal(m2m_sql(t_db(), "SELECT $1", NULL, 1, NULL), M2M_MISUSE);
    assert_int_equal(m2m_reconnect(NULL), M2M_MISUSE);
    assert_int_equal(m2m_begin(NULL), M2M_MISUSE);
    m2m_stats_get(NULL, NULL);
    m2m_stats_reset(NULL);
    m2m_trace(NULL, NULL, NULL);
    /* Relations. */
    m2m_relation *r2 = rel;
    const m2m_relation_def def = {.parent_table = "users",
                                  .related_table = "roles",
                                  .pivot_table = "role_user",
                                  .foreign_pivot_key = "user_id",
                                  .related_pivot_key = "role_id"};
    assert_int_equal(m2m_relation_open(NULL, &def, &r2), M2M_MISUSE);
    assert_null(r2);
    assert_int_equal(m2m_relation_open(t_db(), NULL, &r2), M2M_MISUSE);
    assert_int_equal(m2m_relation_open(t_db(), &def, NULL), M2M_MISUSE);
    r2 = rel;
    assert_int_equal(m2m_relation_inverse(NULL, &r2), M2M_MISUSE);
    assert_null(r2);
    assert_int_equal(m2m_relation_inverse(rel, NULL), M2M_MISUSE);
    assert_null(m2m_relation_db(NULL));
    assert_int_equal(m2m_relation_create_pivot(NULL), M2M_MISUSE);
    assert_int_equal(m2m_relation_on_change(NULL, NULL, NULL, NULL), M2M_MISUSE);
    m2m_relation_close(NULL);
    /* Writes: NULL relation, NULL arrays with a count. */
    assert_int_equal(m2m_attach(NULL, M2M_INT(1), one_item, 1, NULL, &ch), M2M_MISUSE);
    assert_int_equal(m2m_attach(rel, M2M_INT(1), NULL, 2, NULL, &ch), M2M_MISUSE);
    assert_int_equal(m2m_detach(NULL, M2M_INT(1), one_id, 1, NULL, &ch), M2M_MISUSE);
    assert_int_equal(m2m_sync(NULL, M2M_INT(1), one_item, 1, NULL, &ch), M2M_MISUSE);
    assert_int_equal(m2m_sync(rel, M2M_INT(1), NULL, 3, NULL, &ch), M2M_MISUSE);
    assert_int_equal(m2m_toggle(NULL, M2M_INT(1), one_item, 1, NULL, &ch), M2M_MISUSE);
    assert_int_equal(m2m_toggle(rel, M2M_INT(1), NULL, 1, NULL, &ch), M2M_MISUSE);
    assert_int_equal(m2m_update_pivot(NULL, M2M_INT(1), one_id, 1, one_col, 1, &ch),
                     M2M_MISUSE);
    assert_int_equal(m2m_update_pivot(rel, M2M_INT(1), NULL, 1, one_col, 1, &ch),
                     M2M_MISUSE);
    assert_int_equal(m2m_update_pivot(rel, M2M_INT(1), one_id, 1, NULL, 1, &ch),
                     M2M_MISUSE);
    /* Pivot data pointers NULL with a count. */
    assert_int_equal(
        m2m_attach(rel, M2M_INT(1), one_item, 1, &(m2m_opts){.npivot = 2}, &ch),
        M2M_MISUSE);
    const m2m_item bad_item[] = {{.id = {.type = M2M_TINT, .i = 3}, .npivot = 1}};
    assert_int_equal(m2m_attach(rel, M2M_INT(1), bad_item, 1, NULL, &ch), M2M_MISUSE);
    assert_null(ch);
    char v[M2M_VERSION_LEN];
    assert_int_equal(m2m_version(NULL, M2M_INT(1), v), M2M_MISUSE);
    assert_int_equal(m2m_version(rel, M2M_INT(1), NULL), M2M_MISUSE);
    m2m_changes_free(NULL);
    /* Queries and cursors. */
    m2m_query *q = (m2m_query *)rel;
    assert_int_equal(m2m_query_new(NULL, M2M_INT(1), &q), M2M_MISUSE);
    assert_null(q);
    assert_int_equal(m2m_query_new(rel, M2M_INT(1), NULL), M2M_MISUSE);
    assert_int_equal(m2m_query_new_many(NULL, one_id, 1, &q), M2M_MISUSE);
    assert_int_equal(m2m_query_new_many(rel, NULL, 2, &q), M2M_MISUSE);
    assert_null(q);
    assert_int_equal(m2m_query_where(NULL, "name", "=", M2M_INT(1)), M2M_MISUSE);
    assert_int_equal(m2m_query_where_pivot(NULL, "granted_by", "=", M2M_INT(1)),
                     M2M_MISUSE);
    assert_int_equal(m2m_query_where_pivot_null(NULL, "granted_by", 1), M2M_MISUSE);
    assert_int_equal(m2m_query_where_pivot_in(NULL, "granted_by", one_id, 1, 0),
                     M2M_MISUSE);
    assert_int_equal(
        m2m_query_where_pivot_between(NULL, "granted_by", M2M_INT(1), M2M_INT(2)),
        M2M_MISUSE);
    assert_int_equal(m2m_query_or(NULL), M2M_MISUSE);
    assert_int_equal(m2m_query_with_pivot(NULL, "granted_by"), M2M_MISUSE);
    assert_int_equal(m2m_query_order_by(NULL, "name", M2M_ASC), M2M_MISUSE);
    assert_int_equal(m2m_query_order_by_pivot(NULL, "granted_by", M2M_ASC), M2M_MISUSE);
    assert_int_equal(m2m_query_limit(NULL, 1, 0), M2M_MISUSE);
    assert_int_equal(m2m_query_strategy(NULL, M2M_JOIN), M2M_MISUSE);
    m2m_rows *rows = (m2m_rows *)rel;
    int64_t n = 5;
    assert_int_equal(m2m_query_get(NULL, &rows), M2M_MISUSE);
    assert_null(rows);
    assert_int_equal(m2m_query_count(NULL, &n), M2M_MISUSE);
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    assert_int_equal(m2m_query_get(q, NULL), M2M_MISUSE);
    assert_int_equal(m2m_query_count(q, NULL), M2M_MISUSE);
    /* The query still works afterwards. */
    T_OK(m2m_query_count(q, &n));
    assert_int_equal(n, 2);
    m2m_query_free(q);
    m2m_query_free(NULL);
    assert_int_equal(m2m_rows_next(NULL), M2M_MISUSE);
    assert_int_equal(m2m_rows_get(NULL, "id").type, M2M_TNULL);
    assert_int_equal(m2m_rows_pivot(NULL, "id").type, M2M_TNULL);
    assert_int_equal(m2m_rows_parent(NULL).type, M2M_TNULL);
    m2m_rows_free(NULL);
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

TEST(bad_rows_out_of_range) {
    m2m_relation *rel = seeded();
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    assert_int_equal(m2m_rows_value(rows, -1).type, M2M_TNULL);
    assert_int_equal(m2m_rows_value(rows, 99).type, M2M_TNULL);
    assert_null(m2m_rows_name(rows, 99));
    assert_int_equal(m2m_rows_pivot_value(rows, 99).type, M2M_TNULL);
    assert_null(m2m_rows_pivot_name(rows, -1));
    assert_int_equal(m2m_rows_get(rows, NULL).type, M2M_TNULL);
    /* The cursor is still positioned on the first row. */
    assert_int_equal(m2m_rows_get(rows, "id").i, 1);
    m2m_rows_free(rows);
    m2m_query_free(q);
    m2m_relation_close(rel);
}

TEST(bad_error_names) {
    assert_string_equal(m2m_errname(M2M_OK), "M2M_OK");
    assert_string_equal(m2m_errname(M2M_CONFLICT), "M2M_CONFLICT");
    assert_string_equal(m2m_errname(M2M_VETOED), "M2M_VETOED");
    assert_string_equal(m2m_errname(M2M_DONE), "M2M_DONE");
    assert_string_equal(m2m_errstr(M2M_CONSTRAINT), "constraint violation");
    assert_non_null(m2m_errname(4242));
    assert_non_null(m2m_errstr(-1));
    assert_string_not_equal(m2m_errname(4242), "M2M_OK");
    assert_string_equal(m2m_libversion(), M2M_VERSION);
    assert_int_equal(m2m_libversion_number(), M2M_VERSION_NUMBER);
    assert_string_equal(m2m_backend(t_db()), strcmp(t_backend, "pg") == 0 ? "postgresql"
                                             : strcmp(t_backend, "mariadb") == 0
                                                 ? "mariadb"
                                                 : "sqlite");
}

static int msg_has(const char *msg, const char *needle) {
    return !needle || strstr(msg, needle) != NULL;
}

/* Expect rc == want, the database unchanged and a message mentioning needle. */
#define EXPECT(want, needle, call)                                                       \
    do {                                                                                 \
        char *snap_ = fx_snap("role_user");                                              \
        m2m_changes *ch_ = NULL;                                                         \
        int rc_ = (call);                                                                \
        if (rc_ != (want))                                                               \
            fail_msg("%s -> %s, expected %s (%s)", #call, m2m_errname(rc_),              \
                     m2m_errname(want), m2m_errmsg(t_db()));                             \
        (void)ch_;                                                                       \
        assert_int_equal(m2m_errcode(t_db()), (want));                                   \
        const char *msg_ = m2m_errmsg(t_db());                                           \
        if (!msg_ || !*msg_ || !msg_has(msg_, (needle)))                                 \
            fail_msg("%s: message \"%s\" should name '%s'", #call,                       \
                     msg_ ? msg_ : "(null)", (needle) ? (needle) : "");                  \
        fx_assert_snap("role_user", snap_);                                              \
    } while (0)

TEST(bad_wrong_id_type) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    EXPECT(M2M_TYPE, NULL, m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITT("3")), NULL, &ch));
    EXPECT(M2M_TYPE, NULL,
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3), ITT("4")), NULL, &ch));
    EXPECT(M2M_TYPE, NULL,
           m2m_attach(rel, M2M_INT(1), FX_ITEMS((m2m_item){.id = M2M_REAL(3.0)}), NULL,
                      &ch));
    EXPECT(M2M_TYPE, NULL, m2m_attach(rel, M2M_TEXT("1"), FX_ITEMS(IT(3)), NULL, &ch));
    EXPECT(M2M_TYPE, NULL,
           m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_TEXT("1")), NULL, &ch));
    EXPECT(M2M_TYPE, NULL, m2m_detach(rel, M2M_TEXT("1"), NULL, 0, NULL, &ch));
    EXPECT(M2M_TYPE, NULL,
           m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), ITT("2")), NULL, &ch));
    EXPECT(M2M_TYPE, NULL, m2m_sync(rel, M2M_REAL(1), FX_ITEMS(IT(1)), NULL, &ch));
    EXPECT(M2M_TYPE, NULL, m2m_toggle(rel, M2M_INT(1), FX_ITEMS(ITT("1")), NULL, &ch));
    EXPECT(M2M_TYPE, NULL,
           m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_TEXT("1")), one_col, 1, &ch));
    char v[M2M_VERSION_LEN];
    EXPECT(M2M_TYPE, NULL, m2m_version(rel, M2M_TEXT("1"), v));
    m2m_query *q = NULL;
    int rc = m2m_query_new_many(rel, FX_VALS(M2M_INT(1), M2M_TEXT("2")), &q);
    if (rc == M2M_OK) {
        m2m_rows *rows = NULL;
        rc = m2m_query_get(q, &rows);
        m2m_rows_free(rows);
    }
    assert_int_equal(rc, M2M_TYPE);
    m2m_query_free(q);
    m2m_relation_close(rel);
}

/* a -> b over ab, all keys text. */
static m2m_relation *ab_text(const char *const *pivot_columns) {
    return fx_open(&(m2m_relation_def){.parent_table = "a",
                                       .parent_key = "k",
                                       .parent_key_type = M2M_TTEXT,
                                       .related_table = "b",
                                       .related_key = "k",
                                       .related_key_type = M2M_TTEXT,
                                       .pivot_table = "ab",
                                       .foreign_pivot_key = "a_k",
                                       .related_pivot_key = "b_k",
                                       .pivot_columns = pivot_columns});
}

TEST(bad_int_id_on_text_relation) {
    t_exec("CREATE TABLE a(k TEXT PRIMARY KEY); CREATE TABLE b(k TEXT PRIMARY KEY);"
           "CREATE TABLE ab(a_k TEXT NOT NULL REFERENCES a(k), b_k TEXT NOT NULL "
           "REFERENCES b(k),"
           " PRIMARY KEY(a_k, b_k));"
           "INSERT INTO a VALUES ('x'); INSERT INTO b VALUES ('1'), ('y');");
    m2m_relation *rel = ab_text(NULL);
    assert_int_equal(m2m_attach(rel, M2M_TEXT("x"), FX_ITEMS(IT(1)), NULL, NULL),
                     M2M_TYPE);
    assert_int_equal(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITT("1")), NULL, NULL),
                     M2M_TYPE);
    assert_int_equal(fx_count("ab"), 0);
    /* SQL-looking text ids are ids: unknown, so rejected by the foreign key
     * and named in the message. */
    const char *evil = "y'); DELETE FROM b; --";
    assert_int_equal(m2m_attach(rel, M2M_TEXT("x"), FX_ITEMS(ITT(evil)), NULL, NULL),
                     M2M_CONSTRAINT);
    assert_non_null(strstr(m2m_errmsg(t_db()), evil));
    assert_int_equal(fx_count("b"), 2);
    T_OK(m2m_attach(rel, M2M_TEXT("x"), FX_ITEMS(ITT("y"), ITT("1")), NULL, NULL));
    assert_string_equal(t_rows("SELECT a_k, b_k FROM ab ORDER BY b_k"), "x|1,x|y");
    m2m_relation_close(rel);
}

/* Text ids travel inside one array parameter: characters that mean
 * something in a JSON array or a PostgreSQL array literal stay data. */
TEST(text_ids_with_array_syntax_are_data) {
    t_exec("CREATE TABLE a(k TEXT PRIMARY KEY); CREATE TABLE b(k TEXT PRIMARY KEY);"
           "CREATE TABLE ab(a_k TEXT NOT NULL REFERENCES a(k), b_k TEXT NOT NULL "
           "REFERENCES b(k), note TEXT, PRIMARY KEY(a_k, b_k));"
           "INSERT INTO a VALUES ('x');"
           "INSERT INTO b VALUES ('q\"1'), ('s\\2'), ('c,3'), ('{4}'), ('NULL'),"
           " (' 5 '), (''), ('[6]');");
    m2m_relation *rel = ab_text((const char *[]){"note", NULL});
    const m2m_opts note = {.pivot = (const m2m_col[]){COLT("note", "n")}, .npivot = 1};
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_TEXT("x"),
                    FX_ITEMS(ITT("q\"1"), ITT("s\\2"), ITT("c,3"), ITT("{4}"),
                             ITT("NULL"), ITT(" 5 "), ITT(""), ITT("[6]")),
                    &note, &ch));
    assert_int_equal(ch->nattached, 8);
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT count(*), min(note), max(note) FROM ab"), "8|n|n");
    assert_string_equal(t_rows("SELECT count(*) FROM ab WHERE b_k IN ('q\"1', 's\\2',"
                               " 'c,3', '{4}', 'NULL', ' 5 ', '', '[6]')"),
                        "8");
    T_OK(m2m_sync(rel, M2M_TEXT("x"), FX_ITEMS(ITT("q\"1"), ITT("s\\2"), ITT(" 5 ")),
                  NULL, &ch));
    assert_int_equal(ch->ndetached, 5);
    assert_int_equal(ch->nattached, 0);
    m2m_changes_free(ch);
    T_OK(m2m_toggle(rel, M2M_TEXT("x"), FX_ITEMS(ITT("s\\2"), ITT("")), NULL, &ch));
    assert_int_equal(ch->ndetached, 1);
    assert_int_equal(ch->nattached, 1);
    m2m_changes_free(ch);
    T_OK(m2m_update_pivot(rel, M2M_TEXT("x"), FX_VALS(M2M_TEXT("q\"1"), M2M_TEXT("")),
                          (const m2m_col[]){COLT("note", "u")}, 1, &ch));
    assert_int_equal(ch->nupdated, 2);
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT '<' || b_k || '>', note FROM ab ORDER BY b_k"),
                        "<>|u,< 5 >|n,<q\"1>|u");
    T_OK(m2m_detach(rel, M2M_TEXT("x"), FX_VALS(M2M_TEXT(" 5 "), M2M_TEXT("5")), NULL,
                    &ch));
    assert_int_equal(ch->ndetached, 1);
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT count(*) FROM ab"), "2");
    assert_string_equal(t_rows("SELECT count(*) FROM b"), "8");
    /* Eager loads send the parents (and, two-query, the related keys) as
     * one array too. */
    t_exec("INSERT INTO a VALUES ('{y,\"z\"}'), ('NULL')");
    T_OK(m2m_attach(rel, M2M_TEXT("{y,\"z\"}"), FX_ITEMS(ITT("c,3"), ITT("[6]")), NULL,
                    NULL));
    T_OK(m2m_attach(rel, M2M_TEXT("NULL"), FX_ITEMS(ITT("{4}")), NULL, NULL));
    const m2m_value parents[] = {M2M_TEXT("{y,\"z\"}"), M2M_TEXT("NULL"), M2M_TEXT("x")};
    for (int strategy = M2M_JOIN; strategy <= M2M_TWO_QUERY; strategy++) {
        m2m_query *q = NULL;
        T_OK(m2m_query_new_many(rel, parents, 3, &q));
        T_OK(m2m_query_strategy(q, strategy));
        m2m_rows *rows = NULL;
        T_OK(m2m_query_get(q, &rows));
        char got[256] = "";
        while (m2m_rows_next(rows) == M2M_ROW) {
            size_t len = strlen(got);
            snprintf(got + len, sizeof got - len, "%s%s|%s", len ? "," : "",
                     m2m_rows_parent(rows).s, m2m_rows_get(rows, "k").s);
        }
        m2m_rows_free(rows);
        m2m_query_free(q);
        /* In the database's order of the keys (its collation, not bytes). */
        assert_string_equal(got, t_rows("SELECT a_k, b_k FROM ab ORDER BY a_k, b_k"));
    }
    m2m_relation_close(rel);
}

TEST(bad_null_ids_invalid) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    const m2m_value null_text = {.type = M2M_TTEXT, .s = NULL};
    EXPECT(M2M_INVALID, NULL,
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3), (m2m_item){.id = M2M_NULL}), NULL,
                      &ch));
    EXPECT(M2M_INVALID, NULL, m2m_attach(rel, M2M_NULL, FX_ITEMS(IT(3)), NULL, &ch));
    EXPECT(M2M_INVALID, NULL,
           m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(1), M2M_NULL), NULL, &ch));
    EXPECT(M2M_INVALID, NULL, m2m_detach(rel, M2M_NULL, NULL, 0, NULL, &ch));
    EXPECT(M2M_INVALID, NULL,
           m2m_sync(rel, M2M_INT(1), FX_ITEMS((m2m_item){.id = M2M_NULL}), NULL, &ch));
    EXPECT(M2M_INVALID, NULL, m2m_sync(rel, M2M_NULL, FX_ITEMS(IT(1)), NULL, &ch));
    EXPECT(M2M_INVALID, NULL,
           m2m_toggle(rel, M2M_INT(1), FX_ITEMS((m2m_item){.id = M2M_NULL}), NULL, &ch));
    EXPECT(M2M_INVALID, NULL,
           m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_NULL), one_col, 1, &ch));
    EXPECT(M2M_INVALID, NULL,
           m2m_update_pivot(rel, M2M_NULL, one_id, 1, one_col, 1, &ch));
    char v[M2M_VERSION_LEN];
    EXPECT(M2M_INVALID, NULL, m2m_version(rel, M2M_NULL, v));
    /* A text value whose pointer is NULL is not a value. */
    int rc = m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(3, COL("granted_by", null_text))),
                        NULL, &ch);
    assert_true(rc == M2M_INVALID || rc == M2M_MISUSE);
    assert_string_equal(t_rows("SELECT COUNT(*) FROM role_user"), "3");
    m2m_relation_close(rel);
}

TEST(bad_unknown_pivot_column) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    const m2m_opts shared_bad = {
        .pivot =
            (const m2m_col[]){COLT("granted_by", "x"), COLT("expires_at", "2026-12-31")},
        .npivot = 2};
    EXPECT(M2M_INVALID, "expires_at",
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(3)), &shared_bad, &ch));
    EXPECT(M2M_INVALID, "expires_at",
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(4), ITP(3, COLT("expires_at", "x"))),
                      NULL, &ch));
    EXPECT(M2M_INVALID, "expires_at",
           m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3)), &shared_bad, &ch));
    EXPECT(M2M_INVALID, "expires_at",
           m2m_sync(rel, M2M_INT(1), FX_ITEMS(ITP(1, COLT("expires_at", "x"))),
                    &(m2m_opts){.flags = M2M_UPDATE_EXISTING}, &ch));
    EXPECT(M2M_INVALID, "expires_at",
           m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(5)), &shared_bad, &ch));
    EXPECT(M2M_INVALID, "expires_at",
           m2m_update_pivot(rel, M2M_INT(1), one_id, 1, FX_COLS(COLT("expires_at", "x")),
                            &ch));
    /* The key columns and SQL-looking names are not pivot data columns. */
    EXPECT(M2M_INVALID, NULL,
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(3, COL("role_id", M2M_INT(4)))), NULL,
                      &ch));
    EXPECT(M2M_INVALID, NULL,
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(3, COL("user_id", M2M_INT(2)))), NULL,
                      &ch));
    EXPECT(M2M_INVALID, NULL,
           m2m_attach(rel, M2M_INT(1),
                      FX_ITEMS(ITP(3, COLT("granted_by) VALUES (1); --", "x"))), NULL,
                      &ch));
    EXPECT(M2M_INVALID, NULL,
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(3, COLT(NULL, "x"))), NULL, &ch));
    /* A column of the table that is not declared in pivot_columns. */
    t_exec("ALTER TABLE role_user ADD COLUMN secret TEXT");
    EXPECT(M2M_INVALID, "secret",
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(3, COLT("secret", "x"))), NULL, &ch));
    m2m_relation_close(rel);
}

TEST(bad_sql_looking_values_stored_verbatim) {
    m2m_relation *rel = seeded();
    const char *evil[] = {"'); DROP TABLE users; --",
                          "\"; DELETE FROM roles; --",
                          "x' OR '1'='1",
                          "$1",
                          "?",
                          "\\'",
                          "null",
                          "",
                          "caf\xc3\xa9 \xe2\x9c\x93",
                          "%_",
                          "line\nbreak"};
    size_t n = sizeof evil / sizeof evil[0];
    /* Each value written to one row in turn, read back byte for byte. */
    T_OK(m2m_attach(rel, M2M_INT(3), FX_ITEMS(IT(1)), NULL, NULL));
    for (size_t i = 0; i < n; i++) {
        m2m_changes *ch = NULL;
        T_OK(m2m_update_pivot(rel, M2M_INT(3), FX_VALS(M2M_INT(1)),
                              FX_COLS(COLT("granted_by", evil[i])), &ch));
        assert_int_equal(ch->nupdated, 1);
        m2m_changes_free(ch);
        m2m_rows *rows = NULL;
        T_OK(m2m_sql(t_db(), "SELECT granted_by FROM role_user WHERE user_id = 3", NULL,
                     0, &rows));
        assert_int_equal(m2m_rows_next(rows), M2M_ROW);
        m2m_value v = m2m_rows_value(rows, 0);
        assert_int_equal(v.type, M2M_TTEXT);
        assert_string_equal(v.s, evil[i]);
        m2m_rows_free(rows);
    }
    T_OK(m2m_attach(rel, M2M_INT(4), FX_ITEMS(IT(2)),
                    &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", evil[0]),
                                                           COLT("assigned_at", evil[1])},
                                .npivot = 2},
                    NULL));
    T_OK(m2m_sync(rel, M2M_INT(5), FX_ITEMS(ITP(3, COLT("granted_by", evil[2]))), NULL,
                  NULL));
    assert_string_equal(
        t_rows("SELECT user_id, role_id, granted_by, assigned_at FROM role_user"
               " WHERE user_id >= 4 ORDER BY 1"),
        "4|2|'); DROP TABLE users; --|\"; DELETE FROM roles; --,"
        "5|3|x' OR '1'='1|~");
    assert_int_equal(fx_count("users"), 5);
    assert_int_equal(fx_count("roles"), 5);
    m2m_relation_close(rel);
}

TEST(bad_unknown_ids_and_parents) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    EXPECT(M2M_CONSTRAINT, "404",
           m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(404)), NULL, &ch));
    EXPECT(M2M_CONSTRAINT, "404",
           m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(404)), NULL, &ch));
    EXPECT(M2M_CONSTRAINT, "404",
           m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(404)), NULL, &ch));
    EXPECT(M2M_CONSTRAINT, "808",
           m2m_attach(rel, M2M_INT(808), FX_ITEMS(IT(1)), NULL, &ch));
    /* Ids beyond 32 bits are carried whole. */
    EXPECT(
        M2M_CONSTRAINT, "9007199254740993",
        m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(INT64_C(9007199254740993))), NULL, &ch));
    m2m_relation_close(rel);
}

TEST(bad_large_ids_roundtrip) {
    t_exec("CREATE TABLE a(id BIGINT PRIMARY KEY); CREATE TABLE b(id BIGINT PRIMARY KEY);"
           "CREATE TABLE ab(a_id BIGINT NOT NULL REFERENCES a(id),"
           " b_id BIGINT NOT NULL REFERENCES b(id), PRIMARY KEY(a_id, b_id));"
           "INSERT INTO a VALUES (-1), (9223372036854775807);"
           "INSERT INTO b VALUES (-9223372036854775807), (9007199254740993), (0);");
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "a",
                                                    .related_table = "b",
                                                    .pivot_table = "ab",
                                                    .foreign_pivot_key = "a_id",
                                                    .related_pivot_key = "b_id"});
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(
        rel, M2M_INT(INT64_MAX),
        FX_ITEMS(IT(INT64_C(-9223372036854775807)), IT(INT64_C(9007199254740993)), IT(0)),
        NULL, &ch));
    assert_string_equal(FX_ATT(ch), "-9223372036854775807,0,9007199254740993");
    assert_int_equal(ch->parent.i, INT64_MAX);
    m2m_changes_free(ch);
    assert_string_equal(fx_read_both(rel, M2M_INT(INT64_MAX), NULL, 1),
                        "-9223372036854775807,0,9007199254740993");
    T_OK(m2m_sync(rel, M2M_INT(-1), FX_ITEMS(IT(0)), NULL, NULL));
    assert_string_equal(t_rows("SELECT a_id, b_id FROM ab ORDER BY 1, 2"),
                        "-1|0,9223372036854775807|-9223372036854775807,"
                        "9223372036854775807|0,9223372036854775807|9007199254740993");
    m2m_relation_close(rel);
}
