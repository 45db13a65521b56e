/* SPDX-License-Identifier: MIT */
/* Items whose pivot data name different sets of columns: one statement for
 * all of them, however many sets there are. A column an item does not name
 * is NULL in a row it attaches (unless the shared pivot data name it), and
 * left as it is in a row it updates. */
#include "fixtures.h"

#include <stdio.h>
#include <string.h>

static m2m_relation *five_cols(void) {
    t_exec("CREATE TABLE p(id BIGINT PRIMARY KEY);"
           "CREATE TABLE r(id BIGINT PRIMARY KEY);"
           "CREATE TABLE pr(p_id BIGINT NOT NULL, r_id BIGINT NOT NULL,"
           " c1 BIGINT, c2 BIGINT, c3 BIGINT, c4 BIGINT, c5 BIGINT,"
           " PRIMARY KEY(p_id, r_id));"
           "INSERT INTO p VALUES (1);");
    char sql[64];
    for (int i = 1; i <= 40; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO r VALUES (%d)", i);
        t_exec(sql);
    }
    static const char *const cols[] = {"c1", "c2", "c3", "c4", "c5", NULL};
    return fx_open(&(m2m_relation_def){.parent_table = "p",
                                       .related_table = "r",
                                       .pivot_table = "pr",
                                       .foreign_pivot_key = "p_id",
                                       .related_pivot_key = "r_id",
                                       .pivot_columns = cols});
}

static const char *const names[] = {"c1", "c2", "c3", "c4", "c5"};

/* Item i (1..n) names column cK, with value 100 * i + K, for each bit K-1
 * of i: up to 31 different column sets. */
static m2m_item *items_of(int n, int base, m2m_col (*cols)[5]) {
    static m2m_item items[64];
    for (int i = 1; i <= n; i++) {
        int k = 0;
        for (int b = 0; b < 5; b++)
            if (i & (1 << b))
                cols[i - 1][k++] = COL(names[b], M2M_INT(base * i + b + 1));
        items[i - 1] =
            (m2m_item){.id = M2M_INT(i), .pivot = cols[i - 1], .npivot = (size_t)k};
    }
    return items;
}

static uint64_t executed(void) {
    m2m_stats st = {0};
    m2m_stats_get(t_db(), &st);
    return st.executed;
}

TEST(colsets_attach_31_sets_one_statement) {
    m2m_relation *rel = five_cols();
    m2m_col cols[31][5];
    /* Two sets first, to compare the number of statements. */
    m2m_item *two = items_of(3, 100, cols);
    m2m_stats_reset(t_db());
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), two, 3, NULL, &ch));
    uint64_t few = executed();
    m2m_changes_free(ch);
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL));
    m2m_item *all = items_of(31, 100, cols);
    m2m_stats_reset(t_db());
    T_OK(m2m_attach(rel, M2M_INT(1), all, 31, NULL, &ch));
    m2m_changes_free(ch);
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL));
    m2m_stats_reset(t_db());
    T_OK(m2m_attach(rel, M2M_INT(1), all, 31, NULL, &ch));
    if (executed() != few)
        fail_msg("31 column sets: %llu statements, 3 sets: %llu",
                 (unsigned long long)executed(), (unsigned long long)few);
    assert_int_equal(ch->nattached, 31);
    m2m_changes_free(ch);
    /* Item 5 named c1 and c3; item 16 only c5; item 31 all five. */
    assert_string_equal(t_rows("SELECT r_id, c1, c2, c3, c4, c5 FROM pr WHERE r_id IN "
                               "(5, 16, 31) ORDER BY 1"),
                        "5|501|~|503|~|~,16|~|~|~|~|1605,31|3101|3102|3103|3104|3105");
    m2m_relation_close(rel);
}

/* sync with M2M_UPDATE_EXISTING: each kept row gets the columns its item
 * names; the others keep their values. */
TEST(colsets_update_existing_keeps_unnamed) {
    m2m_relation *rel = five_cols();
    m2m_col cols[31][5];
    T_OK(m2m_attach(rel, M2M_INT(1), items_of(31, 100, cols), 31, NULL, NULL));
    m2m_changes *ch = NULL;
    /* Now item i names the complement of its bits, with 1000 * i + K. */
    static m2m_item items[31];
    static m2m_col comp[31][5];
    for (int i = 1; i <= 31; i++) {
        int k = 0;
        for (int b = 0; b < 5; b++)
            if (!(i & (1 << b)))
                comp[i - 1][k++] = COL(names[b], M2M_INT(1000 * i + b + 1));
        items[i - 1] =
            (m2m_item){.id = M2M_INT(i), .pivot = comp[i - 1], .npivot = (size_t)k};
    }
    T_OK(m2m_sync(rel, M2M_INT(1), items, 31, &(m2m_opts){.flags = M2M_UPDATE_EXISTING},
                  &ch));
    /* Item 31 names nothing new: it is not updated. */
    assert_int_equal(ch->nupdated, 30);
    assert_int_equal(ch->nattached + ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(t_rows("SELECT r_id, c1, c2, c3, c4, c5 FROM pr WHERE r_id IN "
                               "(5, 16, 31) ORDER BY 1"),
                        "5|501|5002|503|5004|5005,16|16001|16002|16003|16004|1605,31|"
                        "3101|3102|3103|3104|3105");
    m2m_relation_close(rel);
}
