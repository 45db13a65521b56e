/* SPDX-License-Identifier: MIT */
/* Calls of many ids: the caller's items are read in place, and repeated
 * ids are found by sorting (m2m__dups) from m2m__dups_sort_min ids on,
 * by the hash set below it. Lowered here so that a few ids take the
 * sorting path: every operation must give the same rows and reports as
 * the hash set does for the same calls on another parent (the model),
 * and as written out below. */
#include "fixtures.h"
#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS(parent)                                                                     \
    fx_pivot_rows("role_user", "user_id", "role_id", "granted_by, assigned_at", parent)

enum { NROLES = 300 };

static void roles(void) {
    fx_users_roles();
    static char sql[NROLES * 8 + 64];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO roles(id) VALUES (6)");
    for (int i = 7; i <= NROLES; i++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, ",(%d)", i);
    t_exec(sql);
}

/* What a report says, as one string. */
static void report(char *out, size_t cap, m2m_changes *ch) {
    snprintf(out, cap, "+%s -%s ~%s", FX_ATT(ch), FX_DET(ch), FX_UPD(ch));
    m2m_changes_free(ch);
}

/* Every operation on parent p, each report and the rows after it appended
 * to log. Ids repeat within calls; some items carry their own values. */
static void run_ops(m2m_relation *rel, int64_t p, char *log, size_t cap) {
    m2m_item many[NROLES * 2];
    m2m_value vals[NROLES];
    m2m_changes *ch = NULL;
    char r[8192];
    size_t n = 0;
    log[0] = '\0';
#define LOG()                                                                            \
    do {                                                                                 \
        report(r, sizeof r, ch);                                                         \
        strncat(log, r, cap - strlen(log) - 1);                                          \
        strncat(log, " | ", cap - strlen(log) - 1);                                      \
        strncat(log, ROWS(p), cap - strlen(log) - 1);                                    \
        strncat(log, "\n", cap - strlen(log) - 1);                                       \
        ch = NULL;                                                                       \
    } while (0)
    /* attach: repeats, the first occurrence's values win */
    T_OK(m2m_attach(rel, M2M_INT(p),
                    FX_ITEMS(ITP(7, COLT("granted_by", "a")), IT(3), IT(7), IT(9),
                             ITP(3, COLT("granted_by", "b")), IT(12), IT(1)),
                    NULL, &ch));
    LOG();
    /* sync to many flat ids, every one given twice, shared values */
    for (int i = 0; i < 120; i++)
        many[n++] = IT(10 + (i * 7) % 120);
    for (int i = 0; i < 120; i++)
        many[n++] = IT(10 + i);
    const m2m_opts shared = {.pivot = (const m2m_col[]){COLT("assigned_at", "d1")},
                             .npivot = 1};
    T_OK(m2m_sync(rel, M2M_INT(p), many, n, &shared, &ch));
    LOG();
    /* sync, no repeats (read in place), with M2M_UPDATE_EXISTING */
    n = 0;
    for (int i = 0; i < 200; i++)
        many[n++] = IT(NROLES - i);
    T_OK(m2m_sync(rel, M2M_INT(p), many, n,
                  &(m2m_opts){.flags = M2M_UPDATE_EXISTING,
                              .pivot = (const m2m_col[]){COLT("granted_by", "s")},
                              .npivot = 1},
                  &ch));
    LOG();
    /* toggle: repeats, half attached */
    n = 0;
    for (int i = 0; i < 60; i++)
        many[n++] = IT(50 + 3 * i);
    many[n++] = IT(50);
    many[n++] = IT(1);
    T_OK(m2m_toggle(rel, M2M_INT(p), many, n, NULL, &ch));
    LOG();
    /* detach ids, repeated */
    size_t nv = 0;
    for (int i = 0; i < 80; i++)
        vals[nv++] = M2M_INT(100 + i % 40);
    T_OK(m2m_detach(rel, M2M_INT(p), vals, nv, NULL, &ch));
    LOG();
    /* attach with per-item values among repeats, then sync to the same */
    const m2m_col pv[] = {COLT("granted_by", "p")}, late[] = {COLT("granted_by", "late")};
    n = 0;
    for (int i = 0; i < 30; i++)
        many[n++] = (m2m_item){M2M_INT(20 + i), i % 3 ? NULL : pv, i % 3 ? 0 : 1};
    for (int i = 0; i < 30; i++)
        many[n++] = (m2m_item){M2M_INT(20 + i), late, 1};
    T_OK(m2m_attach(rel, M2M_INT(p), many, n, NULL, &ch));
    LOG();
    T_OK(m2m_sync(rel, M2M_INT(p), many, n, NULL, &ch));
    LOG();
#undef LOG
}

TEST(many_ids_sorted_repeats_match_the_hash_set) {
    roles();
    m2m_relation *rel = fx_rel_roles();
    static char model[1 << 16], sorted[1 << 16];
    size_t was = m2m__dups_sort_min;
    run_ops(rel, 2, model, sizeof model);
    m2m__dups_sort_min = 2;
    run_ops(rel, 1, sorted, sizeof sorted);
    m2m__dups_sort_min = was;
    assert_string_equal(sorted, model);
    /* The first lines written out: repeats are one row, the first
     * occurrence's values win. */
    assert_non_null(strstr(sorted, "+1,3,7,9,12 -"));
    assert_string_equal(ROWS(1), ROWS(2));
    assert_int_equal(t_int("SELECT COUNT(*) FROM role_user WHERE user_id = 1 AND "
                           "role_id = 7 AND granted_by = 'a'",
                           NULL, 0),
                     0); /* synced away */
    /* the last sync kept 20..49, 'p' on every third (first occurrences) */
    assert_int_equal(t_int("SELECT COUNT(*) FROM role_user WHERE user_id = 1", NULL, 0),
                     30);
    assert_int_equal(t_int("SELECT COUNT(*) FROM role_user WHERE user_id = 1 AND "
                           "granted_by = 'p'",
                           NULL, 0),
                     10);
    assert_int_equal(
        t_int("SELECT COUNT(*) FROM role_user WHERE granted_by = 'late'", NULL, 0), 0);
    m2m_relation_close(rel);
}

/* A bad id among many fails the whole call on the sorting path too. */
TEST(many_ids_sorted_bad_id_changes_nothing) {
    roles();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    size_t was = m2m__dups_sort_min;
    m2m__dups_sort_min = 2;
    m2m_item many[100];
    for (int i = 0; i < 100; i++)
        many[i] = IT(i % 50 + 1);
    many[77] = IT(NROLES + 1); /* no such role */
    m2m_changes *ch = NULL;
    assert_int_equal(m2m_sync(rel, M2M_INT(1), many, 100, NULL, &ch), M2M_CONSTRAINT);
    assert_null(ch);
    assert_non_null(strstr(m2m_errmsg(t_db()), "301"));
    m2m__dups_sort_min = was;
    assert_string_equal(ROWS(1), "1|~|~,2|~|~");
    m2m_relation_close(rel);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_row32(const void *a, const void *b) { return memcmp(a, b, 32); }

/* m2m__sort (in place, used for repeats and version digests) orders as
 * qsort does: random, sorted, reversed, all equal and few distinct keys,
 * of 8-byte and 32-byte elements, at sizes around its short runs. It
 * touches no database: run once, under the SQLite backend. */
TEST_ONLY(sqlite, many_ids_in_place_sort_orders_as_qsort) {
    static int64_t a[5000], b[5000];
    static unsigned char r[3000][32], q[3000][32];
    const size_t sizes[] = {0, 1, 2, 3, 12, 13, 14, 100, 1000, 5000};
    uint64_t x = 88172645463325252ULL;
    for (int shape = 0; shape < 5; shape++) {
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            size_t n = sizes[s];
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                a[i] = shape == 0   ? (int64_t)x
                       : shape == 1 ? (int64_t)i
                       : shape == 2 ? (int64_t)(n - i)
                       : shape == 3 ? 7
                                    : (int64_t)(x % 3) - 1;
                memcpy(b, a, sizeof a[0] * (i + 1));
                if (n <= 3000) {
                    memset(r[i], (int)(x & 0xff), 32);
                    memcpy(r[i] + 24, &a[i], 8);
                }
            }
            m2m__sort(a, n, sizeof a[0], cmp_i64);
            if (n)
                qsort(b, n, sizeof b[0], cmp_i64);
            assert_memory_equal(a, b, n * sizeof a[0] + (n == 0));
            if (n <= 3000) {
                memcpy(q, r, n * 32);
                m2m__sort(r, n, 32, cmp_row32);
                if (n)
                    qsort(q, n, 32, cmp_row32);
                assert_memory_equal(r, q, n * 32 + (n == 0));
            }
        }
    }
}
