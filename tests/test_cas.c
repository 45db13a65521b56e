/* SPDX-License-Identifier: MIT */
/* Compare-and-swap sync: m2m_version is an order-independent digest of the
 * set and its pivot values; a sync with a stale if_version fails with
 * M2M_CONFLICT and changes nothing. */
#include "fixtures.h"

#include <ctype.h>
#include <string.h>

/* Versions of the data of cas_version_same_on_every_backend, as the
 * encoding in docs/guide.md gives them (checked with Python's hashlib). */
#define EMPTY_VERSION "545f717147ac7196dd71fbdebb2a8a6bed775b0556cb4a503b6935ff542e852c"
#define ROWS_VERSION  "9b91e7aac4ac1187aea5242ecd2f3bcf2de1045fee93d56364dde22e84402b0b"
#define TEXT_VERSION  "9db9fe944b08c5edc7447cf8a2a46cc47f2e7110458e9fbe67bcb524b5291979"

/* A version is the SHA-256 of the set: 64 lower-case hex digits. */
static void assert_hex16(const char *v) {
    assert_int_equal(M2M_VERSION_LEN, 65);
    assert_int_equal(strlen(v), 64);
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)v[i]) || isupper((unsigned char)v[i]))
            fail_msg("version '%s' is not 64 lower-case hex digits", v);
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

/* A pivot of two text columns and a number of each kind, for values that
 * an ambiguous encoding of rows would confuse. */
static m2m_relation *open_vals(void) {
    t_exec("CREATE TABLE ps(id BIGINT PRIMARY KEY);"
           "CREATE TABLE qs(id BIGINT PRIMARY KEY);"
           "CREATE TABLE pq(p BIGINT NOT NULL REFERENCES ps(id),"
           " q BIGINT NOT NULL REFERENCES qs(id), a TEXT, b TEXT, n BIGINT,"
           " r DOUBLE PRECISION, PRIMARY KEY(p, q));"
           "INSERT INTO ps VALUES (1), (2), (3);"
           "INSERT INTO qs VALUES (1), (2), (3), (10), (11);");
    static const char *const cols[] = {"a", "b", "n", "r", NULL};
    return fx_open(&(m2m_relation_def){.parent_table = "ps",
                                       .related_table = "qs",
                                       .pivot_table = "pq",
                                       .foreign_pivot_key = "p",
                                       .related_pivot_key = "q",
                                       .pivot_columns = cols});
}

static void version_of(m2m_relation *rel, int64_t parent, char *out) {
    T_OK(m2m_version(rel, M2M_INT(parent), out));
    assert_hex16(out);
}

TEST(cas_version_null_differs_from_any_text) {
    m2m_relation *rel = open_vals();
    /* Parent 1 holds NULL, parent 2 the text "\x01", parent 3 "NULL". */
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(1, COL("a", M2M_NULL))), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(ITP(1, COLT("a", "\x01"))), NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(3), FX_ITEMS(ITP(1, COLT("a", "NULL"))), NULL, NULL));
    char v1[M2M_VERSION_LEN], v2[M2M_VERSION_LEN], v3[M2M_VERSION_LEN];
    version_of(rel, 1, v1);
    version_of(rel, 2, v2);
    version_of(rel, 3, v3);
    assert_string_not_equal(v1, v2);
    assert_string_not_equal(v1, v3);
    assert_string_not_equal(v2, v3);
    /* Someone turns the NULL into "\x01": a sync holding the old version
     * must conflict and change nothing. */
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
                          FX_COLS(COLT("a", "\x01")), NULL));
    char *snap = fx_snap("pq");
    m2m_changes *ch = NULL;
    assert_int_equal(
        m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2)), &(m2m_opts){.if_version = v1}, &ch),
        M2M_CONFLICT);
    assert_null(ch);
    assert_int_equal(m2m_errcode(t_db()), M2M_CONFLICT);
    fx_assert_snap("pq", snap);
    assert_string_equal(fx_pivot_rows("pq", "p", "q", "a", 1), "1|\x01");
    m2m_relation_close(rel);
}

TEST(cas_version_values_do_not_run_into_each_other) {
    m2m_relation *rel = open_vals();
    /* (a="x\x1f", b="y") and (a="x", b="\x1fy"); ("ab", NULL) and ("a", "b"). */
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(ITP(1, COLT("a", "x\x1f"), COLT("b", "y"))),
                    NULL, NULL));
    T_OK(m2m_attach(rel, M2M_INT(2), FX_ITEMS(ITP(1, COLT("a", "x"), COLT("b", "\x1fy"))),
                    NULL, NULL));
    char v1[M2M_VERSION_LEN], v2[M2M_VERSION_LEN];
    version_of(rel, 1, v1);
    version_of(rel, 2, v2);
    assert_string_not_equal(v1, v2);
    /* A sync holding parent 1's version after the move conflicts. */
    T_OK(m2m_update_pivot(rel, M2M_INT(1), FX_VALS(M2M_INT(1)),
                          FX_COLS(COLT("a", "x"), COLT("b", "\x1fy")), NULL));
    char *snap = fx_snap("pq");
    assert_int_equal(
        m2m_sync(rel, M2M_INT(1), FX_ITEMS(IT(2)), &(m2m_opts){.if_version = v1}, NULL),
        M2M_CONFLICT);
    fx_assert_snap("pq", snap);
    /* Ids and values: id 1 with n=1 against id 11 with n NULL. */
    T_OK(m2m_sync(rel, M2M_INT(3), FX_ITEMS(ITP(1, COL("n", M2M_INT(1)))), NULL, NULL));
    version_of(rel, 3, v1);
    T_OK(m2m_sync(rel, M2M_INT(3), FX_ITEMS(IT(11)), NULL, NULL));
    version_of(rel, 3, v2);
    assert_string_not_equal(v1, v2);
    /* Two rows against one: {1, 10} and {11} with nothing else set. */
    T_OK(m2m_sync(rel, M2M_INT(3), FX_ITEMS(IT(1), IT(10)), NULL, NULL));
    version_of(rel, 3, v1);
    assert_string_not_equal(v1, v2);
    m2m_relation_close(rel);
}

/* The same rows give the same version on every backend: these strings are
 * the versions of this data, whichever backend runs the test. */
TEST(cas_version_same_on_every_backend) {
    m2m_relation *rel = open_vals();
    char v[M2M_VERSION_LEN];
    version_of(rel, 1, v);
    assert_string_equal(v, EMPTY_VERSION);
    T_OK(m2m_attach(rel, M2M_INT(1),
                    FX_ITEMS(ITP(1, COLT("a", "caf\xc3\xa9"), COL("b", M2M_NULL),
                                 COL("n", M2M_INT(-7)), COL("r", M2M_REAL(2.5))),
                             ITP(10, COLT("a", ""), COLT("b", "x"), COL("n", M2M_INT(0)),
                                 COL("r", M2M_REAL(-0.125))),
                             IT(2)),
                    NULL, NULL));
    version_of(rel, 1, v);
    assert_string_equal(v, ROWS_VERSION);
    /* The report's version is the same digest. */
    m2m_changes *ch = NULL;
    T_OK(m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(1)),
                    &(m2m_opts){.flags = M2M_WANT_VERSION}, &ch));
    assert_string_equal(ch->version, ROWS_VERSION);
    m2m_changes_free(ch);
    m2m_relation_close(rel);
    /* Text keys. */
    t_exec("CREATE TABLE tp(k TEXT PRIMARY KEY); CREATE TABLE tq(k TEXT PRIMARY KEY);"
           "CREATE TABLE tpq(p TEXT NOT NULL REFERENCES tp(k),"
           " q TEXT NOT NULL REFERENCES tq(k), PRIMARY KEY(p, q));"
           "INSERT INTO tp VALUES ('u'); INSERT INTO tq VALUES ('a'), ('b'), ('B');");
    rel = fx_open(&(m2m_relation_def){.parent_table = "tp",
                                      .parent_key = "k",
                                      .parent_key_type = M2M_TTEXT,
                                      .related_table = "tq",
                                      .related_key = "k",
                                      .related_key_type = M2M_TTEXT,
                                      .pivot_table = "tpq",
                                      .foreign_pivot_key = "p",
                                      .related_pivot_key = "q"});
    T_OK(m2m_attach(rel, M2M_TEXT("u"), FX_ITEMS(ITT("b"), ITT("B"), ITT("a")), NULL,
                    NULL));
    T_OK(m2m_version(rel, M2M_TEXT("u"), v));
    assert_string_equal(v, TEXT_VERSION);
    m2m_relation_close(rel);
}
