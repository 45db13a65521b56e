/* SPDX-License-Identifier: MIT */
/* Backend behaviour: constant statement and round-trip counts whatever the
 * number of ids, streaming a million rows in bounded memory, a connection
 * lost mid-operation, and the mapping of server errors to result codes. */
#include "fixtures.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_pg(void) { return strcmp(t_backend, "pg") == 0; }

/* A sync of 10 and of 10,000 ids costs the same statements, and on
 * PostgreSQL at most two round trips; a repeated shape prepares nothing. */
TEST(pg_sync_cost_independent_of_size) {
    fx_users_roles();
    fx_fill("roles", 6, 10005);
    m2m_relation *rel = fx_rel_roles();
    m2m_db *db = t_db();
    m2m_stats small, big, again;

    m2m_item *ten = fx_range_items(1, 10);
    m2m_stats_reset(db);
    T_OK(m2m_sync(rel, M2M_INT(1), ten, 10, NULL, NULL));
    m2m_stats_get(db, &small);
    assert_int_equal(t_int("SELECT count(*) FROM role_user WHERE user_id = 1", NULL, 0),
                     10);

    m2m_item *many = fx_range_items(1, 10000);
    m2m_stats_reset(db);
    T_OK(m2m_sync(rel, M2M_INT(1), many, 10000, NULL, NULL));
    m2m_stats_get(db, &big);
    assert_int_equal(t_int("SELECT count(*) FROM role_user WHERE user_id = 1", NULL, 0),
                     10000);

    m2m_stats_reset(db);
    T_OK(m2m_sync(rel, M2M_INT(1), ten, 10, NULL, NULL));
    m2m_stats_get(db, &again);
    assert_string_equal(
        t_rows("SELECT min(role_id), max(role_id), count(*) FROM role_user"), "1|10|10");

    assert_true(small.executed > 0);
    assert_int_equal(big.executed, small.executed);
    assert_int_equal(again.executed, small.executed);
    assert_int_equal(again.prepared, 0);
    if (is_pg()) {
        assert_in_range(small.round_trips, 1, 2);
        assert_in_range(big.round_trips, 1, 2);
        assert_in_range(again.round_trips, 1, 2);
    } else if (strcmp(t_backend, "mariadb") == 0) {
        /* One round trip per statement, whatever the number of ids (the
         * first run also prepares). */
        assert_int_equal(big.round_trips, again.round_trips);
    } else {
        assert_int_equal(big.round_trips, 0);
    }

    /* Toggling 10,000 ids costs what toggling 10 does, when both detach
     * some and attach the rest (SQLite skips a DELETE or INSERT with
     * nothing to do). */
    T_OK(m2m_attach(rel, M2M_INT(2), ten, 5, NULL, NULL));
    m2m_stats_reset(db);
    T_OK(m2m_toggle(rel, M2M_INT(2), ten, 10, NULL, NULL));
    m2m_stats_get(db, &small);
    m2m_stats_reset(db);
    T_OK(m2m_toggle(rel, M2M_INT(1), many, 10000, NULL, NULL));
    m2m_stats_get(db, &big);
    assert_int_equal(big.executed, small.executed);
    if (is_pg())
        assert_in_range(big.round_trips, 1, 2);
    assert_string_equal(
        t_rows("SELECT user_id, count(*) FROM role_user GROUP BY 1 ORDER BY 1"),
        "1|9990,2|5");
    free(ten);
    free(many);
    m2m_relation_close(rel);
}

/* Reads parent's rows (limit < 0: all), checking their order; returns the
 * statements executed, with the row count and rows_peak. */
static uint64_t read_ids(m2m_relation *rel, int64_t parent, int64_t limit, int64_t *n,
                         uint64_t *peak) {
    m2m_stats_reset(t_db());
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(parent), &q));
    if (limit >= 0)
        T_OK(m2m_query_limit(q, limit, 0));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    /* Whole or streamed, an open result holds the connection alike. */
    if (is_pg())
        T_RC(M2M_MISUSE, m2m_attach(rel, M2M_INT(parent), FX_ITEMS(IT(1)), NULL, NULL));
    int rc;
    *n = 0;
    while ((rc = m2m_rows_next(rows)) == M2M_ROW) {
        (*n)++;
        assert_int_equal(m2m_rows_get(rows, "id").i, *n);
    }
    assert_int_equal(rc, M2M_DONE);
    m2m_rows_free(rows);
    m2m_query_free(q);
    m2m_stats st;
    m2m_stats_get(t_db(), &st);
    *peak = st.rows_peak;
    return st.executed;
}

/* On PostgreSQL a read of at most 500 rows arrives whole (no per-row copy of
 * single-row mode); a read that outgrows it is dropped and streamed, once
 * per shape: later reads of that shape stream at once. A caller's limit of
 * at most 500 always reads whole. SQLite always streams, one statement. */
TEST(pg_small_results_whole_large_stream) {
    t_exec("CREATE TABLE p(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE it(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE piv(p_id BIGINT NOT NULL, it_id BIGINT NOT NULL,"
           " PRIMARY KEY(p_id, it_id));");
    fx_fill("p", 1, 2);
    fx_fill("it", 1, 600);
    t_exec("INSERT INTO piv SELECT 1, id FROM it WHERE id <= 10;"
           "INSERT INTO piv SELECT 2, id FROM it;");
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "p",
                                                    .related_table = "it",
                                                    .pivot_table = "piv",
                                                    .foreign_pivot_key = "p_id",
                                                    .related_pivot_key = "it_id"});
    bool pg = is_pg();
    int64_t n;
    uint64_t peak;
    assert_int_equal(read_ids(rel, 1, -1, &n, &peak), 1);
    assert_int_equal(n, 10);
    assert_int_equal(peak, pg ? 10 : 1);
    assert_int_equal(read_ids(rel, 2, -1, &n, &peak), pg ? 2 : 1);
    assert_int_equal(n, 600);
    assert_int_equal(peak, pg ? 501 : 1);
    assert_int_equal(read_ids(rel, 2, -1, &n, &peak), 1);
    assert_int_equal(n, 600);
    assert_int_equal(peak, 1);
    assert_int_equal(read_ids(rel, 1, -1, &n, &peak), 1);
    assert_int_equal(n, 10);
    assert_int_equal(peak, 1);
    assert_int_equal(read_ids(rel, 2, 500, &n, &peak), 1);
    assert_int_equal(n, 500);
    assert_int_equal(peak, pg ? 500 : 1);
    assert_int_equal(read_ids(rel, 2, 550, &n, &peak), 1);
    assert_int_equal(n, 550);
    assert_int_equal(peak, 1);
    m2m_relation_close(rel);
}

/* A million related rows stream through one cursor holding one row. */
TEST_ONLY(pg, pg_stream_million_rows_bounded_memory) {
    t_exec(
        "CREATE TABLE big_parent(id BIGINT PRIMARY KEY);"
        "CREATE TABLE big_item(id BIGINT PRIMARY KEY, name TEXT);"
        "CREATE TABLE big_pivot(parent_id BIGINT NOT NULL, item_id BIGINT NOT NULL,"
        " PRIMARY KEY(parent_id, item_id));"
        "INSERT INTO big_parent VALUES (1), (2);"
        "INSERT INTO big_item SELECT g, 'item' || g FROM generate_series(1, 1000000) g;"
        "INSERT INTO big_pivot SELECT 1, g FROM generate_series(1, 1000000) g;"
        "INSERT INTO big_pivot VALUES (2, 7);"
        "ANALYZE big_item; ANALYZE big_pivot;");
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "big_parent",
                                                    .related_table = "big_item",
                                                    .pivot_table = "big_pivot",
                                                    .foreign_pivot_key = "parent_id",
                                                    .related_pivot_key = "item_id"});
    m2m_stats_reset(t_db());
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    m2m_rows *rows = NULL;
    T_OK(m2m_query_get(q, &rows));
    int64_t n = 0, prev = 0, sum = 0;
    int rc;
    while ((rc = m2m_rows_next(rows)) == M2M_ROW) {
        m2m_value id = m2m_rows_get(rows, "id");
        assert_int_equal(id.type, M2M_TINT);
        if (id.i <= prev)
            fail_msg("row %lld: id %lld after %lld", (long long)n, (long long)id.i,
                     (long long)prev);
        prev = id.i;
        sum += id.i;
        n++;
    }
    assert_int_equal(rc, M2M_DONE);
    m2m_rows_free(rows);
    assert_int_equal(n, 1000000);
    assert_int_equal(sum, (int64_t)1000000 * 1000001 / 2);
    m2m_stats st;
    m2m_stats_get(t_db(), &st);
    assert_in_range(st.rows_peak, 1, 1000);

    /* Freeing a cursor early leaves the connection ready for the next call. */
    T_OK(m2m_query_get(q, &rows));
    assert_int_equal(m2m_rows_next(rows), M2M_ROW);
    assert_int_equal(m2m_rows_get(rows, "id").i, 1);
    m2m_changes *ch = NULL;
    T_RC(M2M_MISUSE, m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(8)), NULL, &ch));
    m2m_rows_free(rows);
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(8)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "8");
    m2m_changes_free(ch);
    assert_string_equal(
        t_rows("SELECT item_id FROM big_pivot WHERE parent_id = 2 ORDER BY 1"), "7,8");
    m2m_query_free(q);
    m2m_relation_close(rel);
}

/* The pivot rows of user 1 as seen through db (not the test connection,
 * which may be the one that was cut). */
static const char *pivot_of(m2m_db *db) {
    static char out[256];
    m2m_rows *rows = NULL;
    out[0] = '\0';
    if (m2m_sql(db, "SELECT role_id FROM role_user WHERE user_id = 1 ORDER BY 1", NULL, 0,
                &rows) != M2M_OK)
        fail_msg("read: %s", m2m_errmsg(db));
    size_t len = 0;
    while (m2m_rows_next(rows) == M2M_ROW && len < sizeof out - 24)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
                                (long long)m2m_rows_value(rows, 0).i);
    m2m_rows_free(rows);
    return out;
}

static void terminate(m2m_db *killer, int64_t pid) {
    /* With a timeout the call returns once the backend is gone. */
    int64_t ok = 0;
    m2m_rows *rows = NULL;
    const m2m_value p[] = {M2M_INT(pid)};
    T_OK(m2m_sql(killer, "SELECT pg_terminate_backend($1::int, 5000)::int", p, 1, &rows));
    if (m2m_rows_next(rows) == M2M_ROW)
        ok = m2m_rows_value(rows, 0).i;
    m2m_rows_free(rows);
    assert_int_equal(ok, 1);
}

typedef struct cut_arg {
    m2m_db *killer;
    int64_t pid;
    int calls;
} cut_arg;

/* Runs inside the sync's transaction, after its changes: cut the line. */
static int cut_connection(void *arg, const m2m_changes *planned) {
    cut_arg *a = arg;
    (void)planned;
    a->calls++;
    terminate(a->killer, a->pid);
    return 0;
}

TEST_ONLY(pg, pg_lost_connection_reported_and_reconnect) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    int64_t pid = t_int("SELECT pg_backend_pid()", NULL, 0);
    m2m_db *other = t_open();

    /* Killed while idle: the next call says so, and changes nothing. */
    terminate(other, pid);
    T_RC(M2M_CONNECTION, m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3)), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(t_db()), "connection"));
    assert_non_null(strstr(m2m_errmsg(t_db()), "m2m_reconnect"));
    assert_string_equal(pivot_of(other), "1,2");
    T_RC(M2M_CONNECTION, m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(4)), NULL, NULL));
    T_OK(m2m_reconnect(t_db()));
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, NULL));
    assert_string_equal(pivot_of(other), "2,3");

    /* Killed in the middle of a sync, after its writes, before COMMIT: the
     * server rolls the transaction back. */
    cut_arg a = {.killer = other, .pid = t_int("SELECT pg_backend_pid()", NULL, 0)};
    T_OK(m2m_relation_on_change(rel, cut_connection, NULL, &a));
    m2m_changes *ch = NULL;
    T_RC(M2M_CONNECTION, m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(4), IT(5)), NULL, &ch));
    assert_null(ch);
    assert_int_equal(a.calls, 1);
    assert_string_equal(pivot_of(other), "2,3");
    T_OK(m2m_relation_on_change(rel, NULL, NULL, NULL));
    T_OK(m2m_reconnect(t_db()));
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(4), IT(5)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "4,5");
    assert_string_equal(FX_DET(ch), "2,3");
    m2m_changes_free(ch);
    assert_string_equal(pivot_of(t_db()), "4,5");
    m2m_close(other);
    m2m_relation_close(rel);
}

TEST(pg_error_mapping) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    m2m_db *db = t_db();
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));

    /* Unique violation from raw SQL: M2M_EXISTS naming the table. */
    const m2m_value dup[] = {M2M_INT(1), M2M_INT(1)};
    T_RC(M2M_EXISTS,
         m2m_sql(db, "INSERT INTO role_user(user_id, role_id) VALUES ($1, $2)", dup, 2,
                 NULL));
    if (is_pg())
        assert_non_null(strstr(m2m_errmsg(db), "role_user"));

    /* Foreign key: an unknown related id is M2M_CONSTRAINT naming the id, and
     * the whole attach changes nothing. */
    char *snap = fx_snap("role_user");
    T_RC(M2M_CONSTRAINT,
         m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(999)), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(db), "999"));
    fx_assert_snap("role_user", snap);
    snap = fx_snap("role_user");
    T_RC(M2M_CONSTRAINT,
         m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4242)), NULL, NULL));
    assert_non_null(strstr(m2m_errmsg(db), "4242"));
    fx_assert_snap("role_user", snap);

    if (is_pg()) {
        /* NOT NULL, bad input, missing table, statement timeout. */
        T_RC(M2M_CONSTRAINT,
             m2m_sql(db, "INSERT INTO role_user(user_id, role_id) VALUES (1, NULL)", NULL,
                     0, NULL));
        assert_non_null(strstr(m2m_errmsg(db), "role_id"));
        const m2m_value bad[] = {M2M_TEXT("abc")};
        T_RC(M2M_TYPE, m2m_sql(db, "SELECT $1::bigint", bad, 1, NULL));
        assert_non_null(strstr(m2m_errmsg(db), "abc"));
        T_RC(M2M_NOTFOUND, m2m_sql(db, "SELECT * FROM no_such_table", NULL, 0, NULL));
        assert_non_null(strstr(m2m_errmsg(db), "no_such_table"));
        T_OK(m2m_exec(db, "SET statement_timeout = 50"));
        T_RC(M2M_TIMEOUT, m2m_sql(db, "SELECT pg_sleep(2)", NULL, 0, NULL));
        T_OK(m2m_exec(db, "SET statement_timeout = 0"));
        /* A text id against a bigint key is a type error, not a crash. */
        T_RC(M2M_TYPE, m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITT("x")), NULL, NULL));
    }
    /* The connection is still usable and the data as it was. */
    assert_string_equal(t_rows("SELECT user_id, role_id FROM role_user ORDER BY 1, 2"),
                        "1|1");
    m2m_relation_close(rel);
}

/* A pair that a writer outside m2m inserts between toggle's DELETE and its
 * INSERT (here a trigger, inside the toggle's own statement) is an error,
 * and nothing changes: a toggle never reports success for an id it left
 * attached. MariaDB's toggle is the same (no insert_skip), SQLite's runs
 * under its single writer. */
TEST_ONLY(pg, pg_toggle_pair_inserted_meanwhile_is_an_error) {
    fx_users_roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    t_exec("CREATE FUNCTION outside_writer() RETURNS trigger LANGUAGE plpgsql AS $$"
           " BEGIN IF NEW.role_id = 3 THEN"
           "  INSERT INTO role_user(user_id, role_id, granted_by)"
           "  VALUES (NEW.user_id, 3, 'outside'); END IF; RETURN NEW; END $$;"
           "CREATE TRIGGER outside BEFORE INSERT ON role_user FOR EACH ROW"
           " WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION outside_writer()");
    char *snap = fx_snap("role_user");
    m2m_changes *ch = NULL;
    T_RC(M2M_EXISTS,
         m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2), IT(3)), NULL, &ch));
    assert_null(ch);
    assert_non_null(strstr(m2m_errmsg(t_db()), "role_user"));
    fx_assert_snap("role_user", snap);
    /* Without the outside writer the same toggle goes through. */
    t_exec("DROP TRIGGER outside ON role_user");
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2), IT(3)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "2,3");
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT user_id, role_id FROM role_user ORDER BY 1, 2"),
                        "1|2,1|3");
    m2m_relation_close(rel);
}
