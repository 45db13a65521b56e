/* Compare-and-swap sync: m2m_version is an order-independent digest of the
 * set and its pivot values; a sync with a stale if_version fails with
 * M2M_CONFLICT and changes nothing. */
#include "fixtures.h"

#include <ctype.h>
#include <string.h>

static void assert_hex16(const char *v) {
    assert_int_equal(strlen(v), 16);
    for (int i = 0; i < 16; i++)
        if (!isxdigit((unsigned char)v[i]))
            fail_msg("version '%s' is not 16 hex digits", v);
}

TEST(cas_version_tracks_changes) {
    fx_rooms();
    m2m_relation *rel = fx_rel_members(NULL, 0);
    char empty[M2M_VERSION_LEN], v1[M2M_VERSION_LEN], v2[M2M_VERSION_LEN],
        v3[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), empty));
    assert_hex16(empty);
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    T_OK(m2m_version(rel, M2M_INT(1), v1));
    assert_hex16(v1);
    assert_string_not_equal(v1, empty);
    /* A pivot value change is a change of version. */
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(2)),
                          FX_COLS(COLT("role", "admin")), NULL));
    T_OK(m2m_version(rel, M2M_INT(1), v2));
    assert_string_not_equal(v2, v1);
    /* Reading does not change it; another parent's change does not either. */
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(3)), NULL, NULL));
    T_OK(m2m_version(rel, M2M_INT(1), v3));
    assert_string_equal(v3, v2);
    /* Back to the empty set: back to the empty version. */
    T_OK(m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, NULL));
    T_OK(m2m_version(rel, M2M_INT(1), v3));
    assert_string_equal(v3, empty);
    m2m_relation_close(rel);
}

TEST(cas_version_independent_of_order) {
    fx_rooms();
    m2m_relation *rel = fx_rel_members(NULL, 0);
    T_OK(m2m_attach(rel, M2M_INT(1),
                    FX_ITEMS(ITP(1, COLT("role", "a")), ITP(4, COLT("role", "b")), IT(6)),
                    NULL, NULL));
    /* Same pairs and values, inserted in another order over three calls. */
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(IT(6)), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(ITP(4, COLT("role", "b"))), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(ITP(1, COLT("role", "a"))), NULL, NULL));
    char a[M2M_VERSION_LEN], b[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), a));
    T_OK(m2m_version(rel, M2M_INT(2), b));
    assert_string_equal(a, b);
    /* Swapping values between ids is a different set. */
    T_OK(m2m_update_pivot(rel, M2M_INT(2), FX_VALS(M2M_INT(1)),
                          FX_COLS(COLT("role", "b")), NULL));
    T_OK(m2m_update_pivot(rel, M2M_INT(2), FX_VALS(M2M_INT(4)),
                          FX_COLS(COLT("role", "a")), NULL));
    T_OK(m2m_version(rel, M2M_INT(2), b));
    assert_string_not_equal(a, b);
    m2m_relation_close(rel);
}

TEST(cas_sync_with_current_version_succeeds) {
    fx_rooms();
    m2m_relation *rel = fx_rel_members(NULL, 0);
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    m2m_changes *ch = NULL;
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), &(m2m_opts){.if_version = v},
                  &ch));
    assert_string_equal(FX_ATT(ch), "3");
    assert_string_equal(FX_DET(ch), "1");
    /* The report carries the new version, usable for the next save. */
    char now[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), now));
    assert_string_equal(ch->version, now);
    assert_string_not_equal(now, v);
    T_OK(m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(4)),
                  &(m2m_opts){.if_version = ch->version}, NULL));
    m2m_changes_free(ch);
    assert_string_equal(fx_pivot_rows("room_members", "room_id", "user_id", "", 1), "4");
    m2m_relation_close(rel);
}

TEST(cas_stale_version_conflicts_and_changes_nothing) {
    fx_rooms();
    m2m_relation *rel = fx_rel_members(NULL, 0);
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(2)), NULL, NULL));
    char v[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), v));
    /* Someone else edits the set after we read it. */
    m2m_db *other = t_open();
    m2m_relation *rel2 = NULL;
    static const char *const cols[] = {"role", "joined_at", "rank", NULL};
    T_OK(m2m_relation_open(other,
                           &(m2m_relation_def){.parent_table = "rooms",
                                               .related_table = "users",
                                               .pivot_table = "room_members",
                                               .foreign_pivot_key = "room_id",
                                               .related_pivot_key = "user_id",
                                               .pivot_columns = cols},
                           &rel2));
    T_OK(m2m_update_pivot(rel2, M2M_INT(1), FX_VALS(M2M_INT(2)),
                          FX_COLS(COLT("role", "admin")), NULL));
    m2m_relation_close(rel2);
    m2m_close(other);
    char *snap = fx_snap("room_members");
    m2m_changes *ch = NULL;
    int rc =
        m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(5)), &(m2m_opts){.if_version = v}, &ch);
    assert_int_equal(rc, M2M_CONFLICT);
    assert_null(ch);
    assert_true(strlen(m2m_errmsg(t_db())) > 0);
    fx_assert_snap("room_members", snap);
    /* With M2M_KEEP too. */
    snap = fx_snap("room_members");
    rc = m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(5)),
                  &(m2m_opts){.flags = M2M_KEEP, .if_version = v}, NULL);
    assert_int_equal(rc, M2M_CONFLICT);
    fx_assert_snap("room_members", snap);
    /* A garbage version is never current. */
    rc =
        m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(5)), &(m2m_opts){.if_version = "zz"}, NULL);
    assert_true(rc == M2M_CONFLICT || rc == M2M_INVALID);
    assert_string_equal(fx_pivot_rows("room_members", "room_id", "user_id", "role", 1),
                        "1|~,2|admin");
    m2m_relation_close(rel);
}

TEST(cas_version_of_empty_sets_equal) {
    fx_rooms();
    m2m_relation *rel = fx_rel_members(NULL, 0);
    char a[M2M_VERSION_LEN], b[M2M_VERSION_LEN];
    T_OK(m2m_version(rel, M2M_INT(1), a));
    T_OK(m2m_version(rel, M2M_INT(3), b));
    assert_string_equal(a, b);
    /* A sync on an empty set with the empty version works. */
    T_OK(m2m_sync(rel, M2M_INT(3), FX_ITEMS(IT(2)), &(m2m_opts){.if_version = b}, NULL));
    assert_string_equal(fx_pivot_rows("room_members", "room_id", "user_id", "", 3), "2");
    m2m_relation_close(rel);
}
