/* SPDX-License-Identifier: MIT */
/* toggle: attaches the absent ids, detaches the present ones; pivot data goes
 * to the newly attached rows only. */
#include "fixtures.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static m2m_relation *seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO room_members(room_id, user_id, role) VALUES"
           " (1, 1, 'admin'), (1, 2, 'member'), (2, 3, 'member')");
    return fx_rel_members(NULL, 0);
}

#define ROOM(n) fx_pivot_rows("room_members", "room_id", "user_id", "role", n)

TEST(toggle_attaches_absent_detaches_present) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3), IT(4)), NULL, &ch));
    assert_int_equal(ch->op, M2M_OP_TOGGLE);
    assert_int_equal(ch->parent.i, 1);
    assert_string_equal(FX_ATT(ch), "3,4");
    assert_string_equal(FX_DET(ch), "2");
    assert_int_equal(ch->nupdated, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin,3|~,4|~");
    /* Room 2's member 3 was not toggled. */
    assert_string_equal(ROOM(2), "3|member");
    /* Toggling the same ids again restores the set. */
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3), IT(4)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "2");
    assert_string_equal(FX_DET(ch), "3,4");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin,2|~");
    m2m_relation_close(rel);
}

TEST(toggle_pivot_data_only_on_new_rows) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_toggle(
        rel, M2M_INT(1),
        FX_ITEMS(ITP(1, COLT("role", "owner")), IT(5), ITP(6, COLT("role", "admin"))),
        &(m2m_opts){.pivot = (const m2m_col[]){COLT("role", "member")}, .npivot = 1},
        &ch));
    assert_string_equal(FX_ATT(ch), "5,6");
    assert_string_equal(FX_DET(ch), "1");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "2|member,5|member,6|admin");
    m2m_relation_close(rel);
}

TEST(toggle_single_like_button) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    T_OK(m2m_toggle(rel, M2M_INT(3), FX_ITEMS(IT(6)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "6");
    assert_int_equal(ch->ndetached, 0);
    m2m_changes_free(ch);
    assert_string_equal(ROOM(3), "6|~");
    T_OK(m2m_toggle(rel, M2M_INT(3), FX_ITEMS(IT(6)), NULL, &ch));
    assert_int_equal(ch->nattached, 0);
    assert_string_equal(FX_DET(ch), "6");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(3), "");
    m2m_relation_close(rel);
}

TEST(toggle_duplicate_ids_and_empty) {
    m2m_relation *rel = seeded();
    m2m_changes *ch = NULL;
    /* A duplicated id toggles once, not twice. */
    T_OK(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(5), IT(5), IT(2), IT(2)), NULL, &ch));
    assert_string_equal(FX_ATT(ch), "5");
    assert_string_equal(FX_DET(ch), "2");
    m2m_changes_free(ch);
    assert_string_equal(ROOM(1), "1|admin,5|~");
    char *snap = fx_snap("room_members");
    T_OK(m2m_toggle(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    assert_int_equal(ch->nattached + ch->ndetached, 0);
    m2m_changes_free(ch);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}

TEST(toggle_unknown_id_changes_nothing) {
    m2m_relation *rel = seeded();
    char *snap = fx_snap("room_members");
    /* 1 would be detached, 999 cannot be attached: all or nothing. */
    assert_int_equal(m2m_toggle(rel, M2M_INT(1), FX_ITEMS(IT(1), IT(999)), NULL, NULL),
                     M2M_CONSTRAINT);
    fx_assert_snap("room_members", snap);
    m2m_relation_close(rel);
}

static void delete_trace(void *arg, const char *sql) {
    if (strncmp(sql, "DELETE", 6) == 0 && strstr(sql, "RETURNING"))
        ++*(int *)arg;
}

/* On SQLite toggle learns the rows its DELETE takes from the pre-update
 * hook, by the column's index in the table. Each shape here puts that index
 * elsewhere: keys declared after other columns, a WITHOUT ROWID table whose
 * primary key reverses them, a generated column before them. A trigger
 * deletes a row of another table and another row of the pivot: neither is
 * the toggle's own delete, so neither is reported. */
TEST(toggle_reports_deleted_rows_of_any_table_shape) {
    int pg = strcmp(t_backend, "pg") == 0;
    bool mariadb = strcmp(t_backend, "mariadb") == 0, sqlite = !pg && !mariadb;
    (void)sqlite; /* read where SQLite has its pre-update hook */
    const char *gen = pg ? "g BIGINT GENERATED ALWAYS AS (role_id * 2) STORED,"
                         : "g INTEGER GENERATED ALWAYS AS (role_id * 2) VIRTUAL,";
    char with_gen[512];
    snprintf(
        with_gen, sizeof with_gen,
        "CREATE TABLE piv(note TEXT, %s role_id BIGINT NOT NULL REFERENCES roles(id),"
        " user_id BIGINT NOT NULL REFERENCES users(id), PRIMARY KEY(user_id, role_id))",
        gen);
    const char *shapes[] = {
        "CREATE TABLE piv(user_id BIGINT NOT NULL REFERENCES users(id),"
        " role_id BIGINT NOT NULL REFERENCES roles(id), note TEXT,"
        " PRIMARY KEY(user_id, role_id))",
        pg || mariadb
            ? "CREATE TABLE piv(note TEXT, x INT, role_id BIGINT NOT NULL REFERENCES "
              "roles(id),"
              " user_id BIGINT NOT NULL REFERENCES users(id), PRIMARY KEY(role_id, "
              "user_id))"
            : "CREATE TABLE piv(note TEXT, x INT, role_id BIGINT NOT NULL REFERENCES "
              "roles(id),"
              " user_id BIGINT NOT NULL REFERENCES users(id), PRIMARY KEY(role_id, "
              "user_id))"
              " WITHOUT ROWID",
        with_gen,
    };
    static const char *const cols[] = {"note", NULL};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        t_exec(
            "DROP TABLE IF EXISTS piv; DROP TABLE IF EXISTS users;"
            " DROP TABLE IF EXISTS roles; DROP TABLE IF EXISTS audit;"
            "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
            "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
            "CREATE TABLE audit(id BIGINT PRIMARY KEY);"
            "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"
            "INSERT INTO roles VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (9, 'z');"
            "INSERT INTO audit VALUES (1), (2)");
        t_exec(shapes[i]);
        if (pg)
            t_exec("CREATE FUNCTION piv_gone() RETURNS trigger LANGUAGE plpgsql AS $$"
                   " BEGIN IF old.role_id = 2 THEN DELETE FROM audit WHERE id = 1;"
                   " DELETE FROM piv WHERE user_id = old.user_id AND role_id = 9;"
                   " END IF; RETURN old; END $$;"
                   "CREATE TRIGGER piv_gone AFTER DELETE ON piv FOR EACH ROW"
                   " EXECUTE FUNCTION piv_gone()");
        else if (mariadb)
            t_exec("CREATE TRIGGER piv_gone AFTER DELETE ON piv FOR EACH ROW"
                   " BEGIN IF old.role_id = 2 THEN DELETE FROM audit WHERE id = 1;"
                   " END IF; END");
        else
            t_exec("CREATE TRIGGER piv_gone AFTER DELETE ON piv WHEN old.role_id = 2"
                   " BEGIN DELETE FROM audit WHERE id = 1;"
                   " DELETE FROM piv WHERE user_id = old.user_id AND role_id = 9; END");
        /* A MariaDB trigger may not write the table that fired it (error
         * 1442): there the row the trigger would delete is never there. */
        t_exec(mariadb ? "INSERT INTO piv(user_id, role_id, note) VALUES"
                         " (1, 1, 'p'), (1, 2, 'q'), (2, 2, 's')"
                       : "INSERT INTO piv(user_id, role_id, note) VALUES"
                         " (1, 1, 'p'), (1, 2, 'q'), (1, 9, 'r'), (2, 2, 's')");
        m2m_relation *rel = fx_open(&(m2m_relation_def){.parent_table = "users",
                                                        .related_table = "roles",
                                                        .pivot_table = "piv",
                                                        .foreign_pivot_key = "user_id",
                                                        .related_pivot_key = "role_id",
                                                        .pivot_columns = cols});
        m2m_changes *ch = NULL;
        m2m_stats_reset(t_db());
        T_OK(m2m_toggle(
            rel, M2M_INT(1), FX_ITEMS(IT(3), IT(2), IT(4), IT(1)),
            &(m2m_opts){.pivot = (const m2m_col[]){COLT("note", "new")}, .npivot = 1},
            &ch));
        if (strcmp(FX_DET(ch), "1,2") != 0 || strcmp(FX_ATT(ch), "3,4") != 0)
            fail_msg("shape %zu: detached %s, attached %s", i, FX_DET(ch), FX_ATT(ch));
        m2m_changes_free(ch);
#ifdef M2M_HAVE_PREUPDATE
        /* BEGIN, DELETE, INSERT, COMMIT; with a generated column the
         * present ids are SELECTed first. */
        if (sqlite)
            assert_int_equal(fx_executed(), i == 2 ? 5 : 4);
#endif
        assert_string_equal(
            t_rows("SELECT user_id, role_id, note FROM piv ORDER BY 1, 2"),
            "1|3|new,1|4|new,2|2|s");
        assert_string_equal(t_rows("SELECT id FROM audit"), "2");
        /* Nothing present: all attached, nothing reported detached. */
        T_OK(m2m_toggle(rel, M2M_INT(2), FX_ITEMS(IT(1)), NULL, &ch));
        assert_string_equal(FX_ATT(ch), "1");
        assert_int_equal(ch->ndetached, 0);
        m2m_changes_free(ch);
        assert_string_equal(
            t_rows("SELECT role_id FROM piv WHERE user_id = 2 ORDER BY 1"), "1,2");
        /* Detach and sync with a report delete the same way: no RETURNING
         * where the hook reports the rows. */
        int returning = 0;
        m2m_trace(t_db(), delete_trace, &returning);
        T_OK(m2m_detach(rel, M2M_INT(1), FX_VALS(M2M_INT(3), M2M_INT(9)), NULL, &ch));
        assert_string_equal(FX_DET(ch), "3");
        m2m_changes_free(ch);
        T_OK(m2m_sync(rel, M2M_INT(2), FX_ITEMS(IT(1), IT(3)), NULL, &ch));
        assert_string_equal(FX_DET(ch), "2");
        assert_string_equal(FX_ATT(ch), "3");
        m2m_changes_free(ch);
        m2m_trace(t_db(), NULL, NULL);
        assert_string_equal(t_rows("SELECT user_id, role_id FROM piv ORDER BY 1, 2"),
                            "1|4,2|1,2|3");
#ifdef M2M_HAVE_PREUPDATE
        if (sqlite && returning != (i == 2 ? 2 : 0))
            fail_msg("shape %zu: %d DELETEs with RETURNING", i, returning);
#endif
        m2m_relation_close(rel);
        if (pg)
            t_exec("DROP TABLE piv; DROP FUNCTION piv_gone()");
    }
}
