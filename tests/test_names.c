/* SPDX-License-Identifier: MIT */
/* User names that m2m's own SQL names could capture: the names m2m gives
 * its subqueries, columns and functions are never valid user identifiers,
 * so any table or column the user names works on every path. */
#include "fixtures.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* users and roles 1..5, and a pivot table named table(fk, rk, note, extra),
 * with a unique pair or without. */
static m2m_relation *open_named(const char *table, const char *extra, bool unique) {
    char ddl[1024];
    snprintf(ddl, sizeof ddl,
             "CREATE TABLE users(id BIGINT PRIMARY KEY);"
             "CREATE TABLE roles(id BIGINT PRIMARY KEY);"
             "INSERT INTO users VALUES (1), (2), (3), (4), (5);"
             "INSERT INTO roles VALUES (1), (2), (3), (4), (5);"
             "CREATE TABLE \"%s\"(u BIGINT NOT NULL REFERENCES users(id),"
             " r BIGINT NOT NULL REFERENCES roles(id), note TEXT, \"%s\" TEXT%s);",
             table, extra, unique ? ", PRIMARY KEY(u, r)" : "");
    t_exec(ddl);
    const char *cols[] = {"note", extra, NULL};
    return fx_open(&(m2m_relation_def){.parent_table = "users",
                                       .related_table = "roles",
                                       .pivot_table = table,
                                       .foreign_pivot_key = "u",
                                       .related_pivot_key = "r",
                                       .pivot_columns = cols});
}

static const char *rows_of(const char *table, const char *extra) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT u, r, note, \"%s\" FROM \"%s\" ORDER BY u, r",
             extra, table);
    return t_rows(sql);
}

/* Every write, with and without a report, on a pivot of that name. */
static void every_write_on(const char *table, const char *extra, bool unique) {
    m2m_relation *rel = open_named(table, extra, unique);
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "1,2");
    m2m_changes_free(ch);
    /* Sync that deletes and inserts (one statement on PostgreSQL). */
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "3");
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4)), NULL, NULL));
    /* Toggle, one statement on PostgreSQL too. */
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(4), IT(5)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "5");
    assert_string_equal(FX_DET(ch), "4");
    m2m_changes_free(ch);
    T_OK(m2m_toggle(rel, M2M_INT(2), FX_ITEMS(IT(1)), NULL, NULL));
    /* Sync writing per-item data to kept rows. */
    T_OK(m2m_sync(
        rel, M2M_INT(1),
        FX_ITEMS(ITP(3, COLT("note", "a"), COLT(extra, "x")), ITP(5, COLT("note", "b"))),
        &(m2m_opts){.flags = M2M_UPDATE_EXISTING}, &ch));
    assert_string_equal(FX_UPD(ch), "3,5");
    assert_int_equal(ch->nattached + ch->ndetached, 0);
    m2m_changes_free(ch);
    T_OK(m2m_update_pivot(rel, M2M_INT(2), FX_VALS(M2M_INT(1)), FX_COLS(COLT(extra, "y")),
                          &ch));
    assert_string_equal(FX_UPD(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(rows_of(table, extra), "1|3|a|x,1|5|b|~,2|1|~|y");
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(3)), &(m2m_opts){.if_version = v}, NULL));
    T_OK(m2m_detach(rel, M2M_INT(2), FX_VALS(M2M_INT(1), M2M_INT(4)), NULL, &ch));
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL));
    assert_string_equal(rows_of(table, extra), "");
    m2m_relation_close(rel);
}

/* With a unique pair and without (then inserts test for present rows with
 * a subquery on the pivot, which a subquery of m2m's could capture). */
static void every_write(const char *table, const char *extra) {
    char drop[256];
    snprintf(drop, sizeof drop, "DROP TABLE \"%s\"; DROP TABLE users; DROP TABLE roles",
             table);
    every_write_on(table, extra, false);
    t_exec(drop);
    every_write_on(table, extra, true);
}

TEST(names_pivot_tables_named_like_internal_subqueries) { every_write("d", "value"); }

TEST(names_pivot_table_a_and_column_i) { every_write("a", "i"); }

TEST(names_pivot_column_named_like_internal_key) { every_write("made", "m2m__key"); }

TEST(names_pivot_columns_named_like_internal_aliases) { every_write("t", "m2m__i"); }

TEST(names_user_tables_named_like_internal_functions) {
    t_exec("CREATE TABLE m2m_ids(value BIGINT); INSERT INTO m2m_ids VALUES (1);"
           "CREATE TABLE m2m_has(value BIGINT); CREATE TABLE m2m_lo(value BIGINT);");
    every_write("x", "j");
    /* Reads of many parents take the parents as one id array too. */
    m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                    .related_table = "roles",
                                                    .pivot_table = "x",
                                                    .foreign_pivot_key = "u",
                                                    .related_pivot_key = "r"});
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(3)), NULL, NULL));
    assert_string_equal(
        fx_read_many_both(rel, (const m2m_value[]){M2M_INT(1), M2M_INT(2)}, 2, NULL),
        "1:1,1:2,2:3");
    m2m_relation_close(rel);
    assert_string_equal(t_rows("SELECT value FROM m2m_ids"), "1");
}
