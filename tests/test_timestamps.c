/* SPDX-License-Identifier: MIT */
/* One timestamp column: a relation keeping only created_at, or only
 * updated_at, fills exactly that one on every write; the other column is
 * never written and may not even exist. */
#include "fixtures.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* users(1, 2), roles(1, 2, 3) and made(user_id, role_id, note, cols). */
static void schema(const char *ts_cols) {
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
             "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
             "CREATE TABLE made(user_id BIGINT NOT NULL REFERENCES users(id),"
             " role_id BIGINT NOT NULL REFERENCES roles(id), note TEXT%s,"
             " PRIMARY KEY(user_id, role_id));"
             "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"
             "INSERT INTO roles VALUES (1, 'admin'), (2, 'editor'), (3, 'viewer');",
             ts_cols);
    t_exec(sql);
}

static const char *const note_cols[] = {"note", NULL};

static m2m_relation *open_ts(int timestamps, const char *created, const char *updated) {
    return fx_open(&(m2m_relation_def){.parent_table = "users",
                                       .related_table = "roles",
                                       .pivot_table = "made",
                                       .foreign_pivot_key = "user_id",
                                       .related_pivot_key = "role_id",
                                       .pivot_columns = note_cols,
                                       .timestamps = timestamps,
                                       .created_at = created,
                                       .updated_at = updated});
}

static void pause_tick(void) {
    /* Timestamps may have one-second resolution. */
    struct timespec ts = {1, 100000000};
    nanosleep(&ts, NULL);
}

TEST(timestamps_created_at_only) {
    /* The pivot has no updated_at column at all: only created_at is named. */
    schema(", made_on TIMESTAMP");
    m2m_relation *rel = open_ts(M2M_CREATED_AT, "made_on", NULL);
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "1,2");
    m2m_changes_free(ch);
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM made WHERE made_on IS NOT NULL", NULL, 0), 2);
    char before[512];
    snprintf(before, sizeof before, "%s",
             t_rows("SELECT role_id, made_on FROM made ORDER BY 1"));
    pause_tick();
    /* Updates and sync's updates leave created_at as it was. */
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
                          FX_COLS(COLT("note", "x")), &ch));
    assert_int_equal(ch->nupdated, 1);
    m2m_changes_free(ch);
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(ITP(2, COLT("note", "y")), IT(3)),
                  &(m2m_opts){.flags = M2M_UPDATE_EXISTING}, &ch));
    assert_string_equal(FX_ATT(ch), "3");
    assert_string_equal(FX_DET(ch), "1");
    assert_string_equal(FX_UPD(ch), "2");
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT role_id, note FROM made ORDER BY 1"), "2|y,3|~");
    /* Row 2 keeps its first created_at; row 3 got one. */
    char *two = strstr(before, ",");
    assert_non_null(two);
    assert_string_equal(t_rows("SELECT role_id, made_on FROM made WHERE role_id = 2"),
                        two + 1);
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM made WHERE made_on IS NOT NULL", NULL, 0), 2);
    /* A read may name it; the column not kept is unknown to the relation. */
    m2m_query *q = NULL;
    T_OK(m2m_query_new(rel, M2M_INT(1), &q));
    T_OK(m2m_query_with_pivot(q, "made_on"));
    T_RC(M2M_INVALID, m2m_query_with_pivot(q, "updated_at"));
    m2m_query_free(q);
    m2m_relation_close(rel);
}

TEST(timestamps_updated_at_only) {
    schema(", changed TIMESTAMP");
    m2m_relation *rel = open_ts(M2M_UPDATED_AT, NULL, "changed");
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM made WHERE changed IS NOT NULL", NULL, 0), 2);
    char before[512];
    snprintf(before, sizeof before, "%s",
             t_rows("SELECT changed FROM made WHERE role_id = 2"));
    pause_tick();
    m2m_changes *ch = NULL;
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
                          FX_COLS(COLT("note", "x")), &ch));
    assert_string_equal(FX_UPD(ch), "1");
    m2m_changes_free(ch);
    /* Row 1 moved, row 2 did not. */
    assert_int_equal(t_int("SELECT COUNT(*) FROM made a JOIN made b ON b.role_id = 2"
                           " WHERE a.role_id = 1 AND a.changed > b.changed",
                           NULL, 0),
                     1);
    assert_string_equal(t_rows("SELECT changed FROM made WHERE role_id = 2"), before);
    m2m_relation_close(rel);
}

TEST(timestamps_inverse_and_create_pivot_keep_the_choice) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
           "INSERT INTO users VALUES (1, 'ann');"
           "INSERT INTO roles VALUES (1, 'admin');");
    m2m_relation *rel = open_ts(M2M_CREATED_AT, NULL, NULL);
    T_OK(m2m_relation_create_pivot(rel));
    /* The table has created_at and no updated_at. */
    assert_int_equal(t_int("SELECT COUNT(*) FROM made WHERE created_at IS NULL", NULL, 0),
                     0);
    m2m_rows *rows = NULL;
    assert_int_not_equal(m2m_sql(t_db(), "SELECT updated_at FROM made", NULL, 0, &rows),
                         M2M_OK);
    m2m_rows_free(rows);
    m2m_relation *inv = NULL;
    T_OK(m2m_relation_inverse(rel, &inv));
    T_OK(m2m_attach(inv, M2M_INT(1), FX_ITEMS(IT(1)), NULL, NULL));
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM made WHERE created_at IS NOT NULL", NULL, 0), 1);
    m2m_relation_close(inv);
    m2m_relation_close(rel);
}

TEST(timestamps_bad_choice_rejected) {
    schema(", created_at TIMESTAMP");
    m2m_relation *rel = NULL;
    m2m_relation_def d = {.parent_table = "users",
                          .related_table = "roles",
                          .pivot_table = "made",
                          .foreign_pivot_key = "user_id",
                          .related_pivot_key = "role_id",
                          .timestamps = 8};
    T_RC(M2M_INVALID, m2m_relation_open(t_db(), &d, &rel));
    assert_null(rel);
    assert_non_null(strstr(m2m_errmsg(t_db()), "timestamps 8"));
    /* Both kept, one missing from the table: named. */
    d.timestamps = M2M_TIMESTAMPS;
    T_RC(M2M_NOTFOUND, m2m_relation_open(t_db(), &d, &rel));
    assert_non_null(strstr(m2m_errmsg(t_db()), "updated_at"));
    /* The one kept may not clash with the keys; the one not kept may. */
    d.timestamps = M2M_CREATED_AT;
    d.created_at = "user_id";
    T_RC(M2M_INVALID, m2m_relation_open(t_db(), &d, &rel));
    d.created_at = NULL;
    d.updated_at = "user_id";
    T_OK(m2m_relation_open(t_db(), &d, &rel));
    m2m_relation_close(rel);
    assert_int_equal(fx_count("made"), 0);
}
