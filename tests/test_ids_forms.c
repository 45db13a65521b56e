/* SPDX-License-Identifier: MIT */
/* The plain-id forms m2m_attach_ids, m2m_sync_ids and m2m_toggle_ids give
 * the rows and reports the item forms give for the same ids (repeats,
 * shared pivot data, if_version, the inverse relation, a per-row pivot id);
 * bad input changes nothing; M2M_COUNTS reports counts without ids while
 * callbacks still see them. */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS(parent)                                                                     \
    fx_pivot_rows("role_user", "user_id", "role_id", "granted_by, assigned_at", parent)

/* What a report says, as one string (a static ring of two). */
static const char *said(m2m_changes *ch) {
    static char buf[2][256];
    static int at;
    char *b = buf[at++ % 2];
    snprintf(b, sizeof buf[0], "+%s -%s ~%s", FX_ATT(ch), FX_DET(ch), FX_UPD(ch));
    m2m_changes_free(ch);
    return b;
}

typedef int (*items_fn)(m2m_relation *, m2m_value, const m2m_item *, size_t,
                        const m2m_opts *, m2m_changes **);
typedef int (*ids_fn)(m2m_relation *, m2m_value, const m2m_value *, size_t,
                      const m2m_opts *, m2m_changes **);

/* The item form on parent 1 and the plain form on parent 2, from the same
 * rows: the same report (returned) and the same rows after. */
static const char *both(m2m_relation *rel, items_fn fi, ids_fn fv, const m2m_value *ids,
                        size_t n, const m2m_opts *opts) {
    m2m_item items[16];
    for (size_t i = 0; i < n; i++)
        items[i] = (m2m_item){.id = ids[i]};
    m2m_changes *a = NULL, *b = NULL;
    T_OK(fi(rel, M2M_INT(1), items, n, opts, &a));
    T_OK(fv(rel, M2M_INT(2), ids, n, opts, &b));
    assert_int_equal(b->parent.i, 2);
    assert_int_equal(a->op, b->op);
    const char *ra = said(a), *rb = said(b);
    assert_string_equal(ra, rb);
    char r1[256];
    snprintf(r1, sizeof r1, "%s", ROWS(1));
    assert_string_equal(r1, ROWS(2));
    return rb;
}

static void start(void) {
    fx_users_roles();
    t_exec("INSERT INTO role_user VALUES (1, 1, 'x', NULL), (1, 2, 'x', NULL),"
           " (2, 1, 'x', NULL), (2, 2, 'x', NULL)");
}

TEST(ids_forms_match_items) {
    start();
    m2m_relation *rel = fx_rel_roles();
    const m2m_col admin[] = {COLT("granted_by", "admin")};
    const m2m_opts shared = {.pivot = admin, .npivot = 1};
    /* Repeats: one row each, the shared values on the new rows only. */
    assert_string_equal(both(rel, m2m_attach, m2m_attach_ids,
                             FX_VALS(M2M_INT(3), M2M_INT(3), M2M_INT(4), M2M_INT(1)),
                             &shared),
                        "+3,4 - ~");
    assert_string_equal(ROWS(2), "1|x|~,2|x|~,3|admin|~,4|admin|~");
    assert_string_equal(both(rel, m2m_sync, m2m_sync_ids,
                             FX_VALS(M2M_INT(2), M2M_INT(5), M2M_INT(5), M2M_INT(4)),
                             &shared),
                        "+5 -1,3 ~");
    assert_string_equal(ROWS(2), "2|x|~,4|admin|~,5|admin|~");
    /* M2M_UPDATE_EXISTING writes the shared values to the kept rows. */
    const m2m_col root[] = {COLT("granted_by", "root"),
                            COLT("assigned_at", "2026-01-01")};
    const m2m_opts upd = {.flags = M2M_UPDATE_EXISTING, .pivot = root, .npivot = 2};
    assert_string_equal(both(rel, m2m_sync, m2m_sync_ids,
                             FX_VALS(M2M_INT(2), M2M_INT(4), M2M_INT(2)), &upd),
                        "+ -5 ~2,4");
    assert_string_equal(ROWS(2), "2|root|2026-01-01,4|root|2026-01-01");
    assert_string_equal(both(rel, m2m_sync, m2m_sync_ids, FX_VALS(M2M_INT(3)),
                             &(m2m_opts){.flags = M2M_KEEP}),
                        "+3 - ~");
    assert_string_equal(ROWS(2), "2|root|2026-01-01,3|~|~,4|root|2026-01-01");
    assert_string_equal(both(rel, m2m_toggle, m2m_toggle_ids,
                             FX_VALS(M2M_INT(3), M2M_INT(5), M2M_INT(3), M2M_INT(1)),
                             &shared),
                        "+1,5 -3 ~");
    assert_string_equal(ROWS(2),
                        "1|admin|~,2|root|2026-01-01,4|root|2026-01-01,5|admin|~");
    /* No ids: attach and toggle change nothing, sync empties the set. */
    assert_string_equal(both(rel, m2m_attach, m2m_attach_ids, NULL, 0, NULL), "+ - ~");
    assert_string_equal(both(rel, m2m_toggle, m2m_toggle_ids, NULL, 0, NULL), "+ - ~");
    assert_string_equal(both(rel, m2m_sync, m2m_sync_ids, NULL, 0, NULL), "+ -1,2,4,5 ~");
    assert_string_equal(ROWS(2), "");
    assert_int_equal(fx_count("role_user"), 0);
    m2m_relation_close(rel);
}

TEST(ids_forms_sync_if_version) {
    start();
    m2m_relation *rel = fx_rel_roles();
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    m2m_changes *ch = NULL;
    T_OK(m2m_sync_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(2), M2M_INT(3)),
                      &(m2m_opts){.flags = M2M_WANT_VERSION, .if_version = v}, &ch));
    char now[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), now));
    assert_string_equal(ch->version, now);
    assert_string_not_equal(now, v);
    assert_string_equal(said(ch), "+3 -1 ~");
    assert_string_equal(ROWS(1), "2|x|~,3|~|~");
    /* The old version no longer matches: nothing changes. */
    char *snap = fx_snap("role_user");
    T_RC(M2M_CONFLICT, m2m_sync_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(4)),
                                    &(m2m_opts){.if_version = v}, &ch));
    assert_null(ch);
    assert_non_null(strstr(m2m_errmsg(t_db()), "changed since version"));
    fx_assert_snap("role_user", snap);
    m2m_relation_close(rel);
}

/* roles -> users over the same pivot table. */
TEST(ids_forms_inverse) {
    start();
    m2m_relation *inv = fx_open(&(m2m_relation_def){
        .parent_table = "roles",
        .related_table = "users",
        .pivot_table = "role_user",
        .foreign_pivot_key = "role_id",
        .related_pivot_key = "user_id",
        .pivot_columns = (const char *const[]){"granted_by", "assigned_at", NULL}});
    m2m_changes *ch = NULL;
    T_OK(m2m_attach_ids(
        inv, M2M_INT(3), FX_VALS(M2M_INT(4), M2M_INT(1), M2M_INT(4)),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("granted_by", "inv")}, .npivot = 1},
        &ch));
    assert_string_equal(said(ch), "+1,4 - ~");
    T_OK(m2m_sync_ids(inv, M2M_INT(1), FX_VALS(M2M_INT(2), M2M_INT(5)), NULL, &ch));
    assert_string_equal(said(ch), "+5 -1 ~");
    T_OK(m2m_toggle_ids(inv, M2M_INT(3), FX_VALS(M2M_INT(1), M2M_INT(2)), NULL, &ch));
    assert_string_equal(said(ch), "+2 -1 ~");
    assert_string_equal(t_rows("SELECT user_id, role_id, granted_by FROM role_user "
                               "ORDER BY 1, 2"),
                        "1|2|x,2|1|x,2|2|x,2|3|~,4|3|inv,5|1|~");
    m2m_relation_close(inv);
}

/* A per-row pivot id: plain ids travel as JSON rows, as items do. */
TEST(ids_forms_pivot_id) {
    fx_made();
    m2m_relation *rel =
        fx_open(&(m2m_relation_def){.parent_table = "users",
                                    .related_table = "roles",
                                    .pivot_table = "made",
                                    .foreign_pivot_key = "user_id",
                                    .related_pivot_key = "role_id",
                                    .pivot_columns = (const char *const[]){"note", NULL},
                                    .pivot_id = "pid"});
    const m2m_opts note = {.pivot = (const m2m_col[]){COLT("note", "n")}, .npivot = 1};
    m2m_changes *ch = NULL;
    T_OK(m2m_attach_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(3), M2M_INT(45), M2M_INT(3)),
                        &note, &ch));
    assert_string_equal(said(ch), "+3,45 - ~");
    T_OK(m2m_sync_ids(rel, M2M_INT(12), FX_VALS(M2M_INT(3)), NULL, &ch));
    assert_string_equal(said(ch), "+3 - ~");
    T_OK(m2m_toggle_ids(rel, M2M_INT(12), FX_VALS(M2M_INT(45), M2M_INT(3)), &note, &ch));
    assert_string_equal(said(ch), "+45 -3 ~");
    assert_string_equal(
        t_rows("SELECT pid, user_id, role_id, note FROM made ORDER BY 2, 3"),
        "1_3|1|3|n,1_45|1|45|n,12_45|12|45|n");
    m2m_relation_close(rel);
}

TEST(ids_forms_bad_input_changes_nothing) {
    start();
    m2m_relation *rel = fx_rel_roles();
    char *snap = fx_snap("role_user");
    m2m_changes *ch = NULL;
    ids_fn fns[] = {m2m_attach_ids, m2m_sync_ids, m2m_toggle_ids};
    for (size_t f = 0; f < 3; f++) {
        T_RC(M2M_MISUSE, fns[f](rel, M2M_INT(1), NULL, 2, NULL, &ch));
        assert_non_null(strstr(m2m_errmsg(t_db()), "role_user: ids is NULL"));
        T_RC(M2M_INVALID,
             fns[f](rel, M2M_INT(1), FX_VALS(M2M_INT(3), M2M_NULL), NULL, &ch));
        assert_non_null(strstr(m2m_errmsg(t_db()), "related id is NULL"));
        T_RC(M2M_TYPE,
             fns[f](rel, M2M_INT(1), FX_VALS(M2M_INT(3), M2M_TEXT("four")), NULL, &ch));
        assert_non_null(strstr(m2m_errmsg(t_db()), "related id four is text"));
        T_RC(M2M_INVALID,
             fns[f](
                 rel, M2M_INT(1), FX_VALS(M2M_INT(3)),
                 &(m2m_opts){.pivot = (const m2m_col[]){COLT("nope", "x")}, .npivot = 1},
                 &ch));
        assert_non_null(strstr(m2m_errmsg(t_db()), "unknown pivot column 'nope'"));
        T_RC(M2M_TYPE, fns[f](rel, M2M_TEXT("1"), FX_VALS(M2M_INT(3)), NULL, &ch));
        /* A related id that does not exist: the foreign key names it. */
        T_RC(M2M_CONSTRAINT,
             fns[f](rel, M2M_INT(1), FX_VALS(M2M_INT(3), M2M_INT(99)), NULL, &ch));
        assert_non_null(strstr(m2m_errmsg(t_db()), "related id 99 does not exist"));
        assert_null(ch);
    }
    fx_assert_snap("role_user", snap);
    assert_int_equal(fx_count("role_user"), 4);
    m2m_relation_close(rel);
}

/* ---- M2M_COUNTS ---- */

static char seen[512];
static int nseen;
static void after_log(void *arg, const m2m_changes *ch) {
    (void)arg;
    nseen++;
    snprintf(seen, sizeof seen, "+%s -%s ~%s", FX_ATT(ch), FX_DET(ch), FX_UPD(ch));
}
static int before_ok(void *arg, const m2m_changes *ch) {
    (void)arg;
    assert_true(ch->nattached == 0 || ch->attached != NULL);
    assert_true(ch->ndetached == 0 || ch->detached != NULL);
    return 0;
}

/* The counts of a report, its lists NULL; the report is freed. */
static const char *counts(m2m_changes *ch) {
    static char b[64];
    assert_null(ch->attached);
    assert_null(ch->detached);
    assert_null(ch->updated);
    snprintf(b, sizeof b, "+%zu -%zu ~%zu", ch->nattached, ch->ndetached, ch->nupdated);
    m2m_changes_free(ch);
    return b;
}

TEST(ids_forms_counts_only) {
    start();
    m2m_relation *rel = fx_rel_roles();
    const m2m_opts c = {.flags = M2M_COUNTS | M2M_WANT_VERSION};
    m2m_changes *ch = NULL;
    T_OK(m2m_attach_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(3), M2M_INT(4), M2M_INT(3)), &c,
                        &ch));
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    assert_string_equal(ch->version, v);
    assert_string_equal(counts(ch), "+2 -0 ~0");
    assert_string_equal(ROWS(1), "1|x|~,2|x|~,3|~|~,4|~|~");
    T_OK(m2m_sync_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(4), M2M_INT(5)), &c, &ch));
    assert_string_equal(counts(ch), "+1 -3 ~0");
    assert_string_equal(ROWS(1), "4|~|~,5|~|~");
    T_OK(m2m_toggle_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(5), M2M_INT(1)), &c, &ch));
    assert_string_equal(counts(ch), "+1 -1 ~0");
    assert_string_equal(ROWS(1), "1|~|~,4|~|~");
    /* The item forms, detach and an update with pivot data too. */
    const m2m_opts cu = {.flags = M2M_COUNTS | M2M_UPDATE_EXISTING,
                         .pivot = (const m2m_col[]){COLT("granted_by", "u")},
                         .npivot = 1};
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2), IT(2)), &cu, &ch));
    assert_string_equal(counts(ch), "+1 -1 ~1");
    assert_string_equal(ROWS(1), "1|u|~,2|u|~");
    /* Values a row already has are no update. */
    T_OK(m2m_sync_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(2), M2M_INT(1)), &cu, &ch));
    assert_string_equal(counts(ch), "+0 -0 ~0");
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), &c, &ch));
    assert_string_equal(counts(ch), "+1 -1 ~0");
    T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(1), M2M_INT(9)), &c, &ch));
    assert_string_equal(counts(ch), "+0 -1 ~0");
    assert_string_equal(ROWS(1), "3|~|~");
    T_OK(m2m_detach(rel, M2M_INT(2), NULL, 0, &c, &ch));
    assert_string_equal(counts(ch), "+0 -2 ~0");
    assert_string_equal(ROWS(2), "");
    /* Nothing to do: counts of zero. */
    T_OK(m2m_attach_ids(rel, M2M_INT(1), NULL, 0, &c, &ch));
    assert_string_equal(counts(ch), "+0 -0 ~0");
    assert_int_equal(fx_count("role_user"), 1);
    m2m_relation_close(rel);
}

/* Items naming pivot columns of their own go as rows of JSON, the others
 * as plain ids: each group has its own UPDATE and INSERT, and every one's
 * affected rows count, whichever columns each row names. */
TEST(ids_forms_counts_many_groups) {
    fx_rooms();
    t_exec("INSERT INTO users VALUES (7,'gus',1),(8,'hal',1),(9,'ida',1),(10,'jo',1);"
           "INSERT INTO room_members VALUES (1, 1, 'a', NULL, 1), (1, 2, 'a', NULL, 1),"
           " (1, 3, 'a', NULL, 1), (1, 6, 'a', NULL, 1)");
    m2m_relation *rel = fx_rel_members(NULL, 0);
    const m2m_item items[] = {
        ITP(1, COLT("role", "r")),
        ITP(2, COL("rank", M2M_INT(2))),
        ITP(3, COLT("role", "r"), COL("rank", M2M_INT(2))),
        ITP(4, COLT("role", "r")),
        ITP(5, COLT("joined_at", "j")),
        ITP(6, COL("rank", M2M_INT(2))),
        ITP(7, COLT("role", "r"), COLT("joined_at", "j")),
        ITP(8, COLT("joined_at", "j"), COL("rank", M2M_INT(2))),
        ITP(9, COLT("role", "r"), COLT("joined_at", "j"), COL("rank", M2M_INT(2))),
        IT(10),
    };
    const size_t n = sizeof items / sizeof items[0];
    const m2m_opts cu = {.flags = M2M_COUNTS | M2M_UPDATE_EXISTING};
    m2m_changes *ch = NULL;
    m2m_stats_reset(t_db());
    T_OK(m2m_sync(rel, M2M_INT(1), items, n, &cu, &ch));
    assert_string_equal(counts(ch), "+6 -0 ~4");
    assert_string_equal(
        fx_pivot_rows("room_members", "room_id", "user_id", "role, joined_at, rank", 1),
        "1|r|~|1,2|a|~|2,3|r|~|2,4|r|~|~,5|~|j|~,6|a|~|2,7|r|j|~,8|~|j|2,"
        "9|r|j|2,10|~|~|~");
    /* The same again changes nothing, and counts so. */
    T_OK(m2m_sync(rel, M2M_INT(1), items, n, &cu, &ch));
    assert_string_equal(counts(ch), "+0 -0 ~0");
    m2m_relation_close(rel);
}

/* A callback gets the ids; the caller's report still has none. */
TEST(ids_forms_counts_callbacks_get_ids) {
    start();
    m2m_relation *rel = fx_rel_roles();
    T_OK(m2m_relation_on_change(rel, before_ok, after_log, NULL));
    const m2m_opts c = {.flags = M2M_COUNTS};
    m2m_changes *ch = NULL;
    nseen = 0;
    T_OK(m2m_sync_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(2), M2M_INT(5), M2M_INT(3)), &c,
                      &ch));
    assert_int_equal(nseen, 1);
    assert_string_equal(seen, "+3,5 -1 ~");
    assert_string_equal(counts(ch), "+2 -1 ~0");
    /* In a caller transaction the after-callback waits for the commit. */
    T_OK(m2m_begin(t_db()));
    T_OK(m2m_toggle_ids(rel, M2M_INT(1), FX_VALS(M2M_INT(5), M2M_INT(4)), &c, &ch));
    assert_string_equal(counts(ch), "+1 -1 ~0");
    assert_int_equal(nseen, 1);
    T_OK(m2m_commit(t_db()));
    assert_int_equal(nseen, 2);
    assert_string_equal(seen, "+4 -5 ~");
    assert_string_equal(ROWS(1), "2|x|~,3|~|~,4|~|~");
    m2m_relation_close(rel);
}
