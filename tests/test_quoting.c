/* SPDX-License-Identifier: MIT */
/* Names that are SQL keywords: every identifier m2m renders must be quoted,
 * or these statements do not even parse. */
#include "fixtures.h"

#include <string.h>

static m2m_relation *open_keywords(void) {
    t_exec("CREATE TABLE \"order\" (\"select\" INTEGER PRIMARY KEY, \"and\" TEXT);"
           "CREATE TABLE \"group\" (\"where\" INTEGER PRIMARY KEY, \"or\" TEXT);"
           "CREATE TABLE \"table\" (\"from\" INTEGER NOT NULL, \"join\" INTEGER NOT NULL,"
           " \"limit\" TEXT);"
           "INSERT INTO \"order\" VALUES (1, 'o1');"
           "INSERT INTO \"group\" VALUES (1, 'c'), (2, 'a'), (3, 'b'), (4, 'd');");
    m2m_relation *rel = NULL;
    T_OK(m2m_relation_open(
        t_db(),
        &(m2m_relation_def){.parent_table = "order",
                            .parent_key = "select",
                            .related_table = "group",
                            .related_key = "where",
                            .pivot_table = "table",
                            .foreign_pivot_key = "from",
                            .related_pivot_key = "join",
                            .pivot_columns = (const char *const[]){"limit", NULL}},
        &rel));
    return rel;
}

static const char *pivot(void) {
    return t_rows(
        "SELECT \"from\", \"join\", \"limit\" FROM \"table\" ORDER BY \"join\"");
}

TEST(quoting_keyword_names_in_every_write) {
    m2m_relation *rel = open_keywords();
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(1, COLT("limit", "x")), IT(2)), NULL,
                    &ch));
    assert_int_equal(ch->nattached, 2);
    m2m_changes_free(ch);
    assert_string_equal(pivot(), "1|1|x,1|2|~");
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, &ch));
    assert_int_equal(ch->nattached, 1);
    assert_int_equal(ch->ndetached, 1);
    m2m_changes_free(ch);
    assert_string_equal(pivot(), "1|2|~,1|3|~");
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(3), IT(4)), NULL, &ch));
    assert_int_equal(ch->nattached, 1);
    assert_int_equal(ch->ndetached, 1);
    m2m_changes_free(ch);
    assert_string_equal(pivot(), "1|2|~,1|4|~");
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(4)),
                          FX_COLS(COLT("limit", "y")), NULL));
    assert_string_equal(pivot(), "1|2|~,1|4|y");
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    assert_int_equal(strlen(v), M2M_VERSION_LEN - 1);
    T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(2)), NULL, NULL));
    assert_string_equal(pivot(), "1|4|y");
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL));
    assert_string_equal(pivot(), "");
    m2m_relation_close(rel);
}

TEST(quoting_keyword_names_in_reads) {
    m2m_relation *rel = open_keywords();
    T_OK(m2m_attach(rel, M2M_INT(1),
                    FX_ITEMS(ITP(1, COLT("limit", "k")), ITP(2, COLT("limit", "k")),
                             ITP(3, COLT("limit", "z"))),
                    NULL, NULL));
    for (int strategy = 0; strategy < 2; strategy++) {
        m2m_query *q = NULL;
        T_OK(m2m_query_new(rel, M2M_INT(1), &q));
        T_OK(m2m_query_strategy(q, strategy ? M2M_TWO_QUERY : M2M_JOIN));
        T_OK(m2m_query_where_pivot(q, "limit", "=", M2M_TEXT("k")));
        T_OK(m2m_query_order_by(q, "or", M2M_DESC));
        m2m_rows *rows = NULL;
        T_OK(m2m_query_get(q, &rows));
        char got[64] = "";
        while (m2m_rows_next(rows) == M2M_ROW) {
            strcat(got, m2m_rows_get(rows, "or").s);
            strcat(got, m2m_rows_pivot(rows, "limit").s);
        }
        m2m_rows_free(rows);
        assert_string_equal(got, "ckak");
        int64_t n = -1;
        T_OK(m2m_query_count(q, &n));
        assert_int_equal(n, 2);
        m2m_query_free(q);
    }
    m2m_relation_close(rel);
}
