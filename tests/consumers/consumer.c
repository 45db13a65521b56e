/* SPDX-License-Identifier: MIT */
/* A program that uses an installed m2m the way its users do: open a SQLite
 * file, attach with pivot data, read back. Built by run.sh through
 * pkg-config, find_package, add_subdirectory and statically. Prints
 * "consumer ok VERSION" and exits 0, or says what failed. */
#include <m2m.h>

#include <stdio.h>
#include <string.h>

static m2m_db *db;

static int check(int rc, const char *what) {
    if (rc != M2M_OK)
        fprintf(stderr, "consumer: %s: %s: %s\n", what, m2m_errname(rc), m2m_errmsg(db));
    return rc == M2M_OK;
}

int main(int argc, char **argv) {
    char url[4096];
    if (argc != 2) {
        fprintf(stderr, "usage: consumer PATH.db\n");
        return 2;
    }
    if (strcmp(m2m_libversion(), M2M_VERSION) != 0) {
        fprintf(stderr, "consumer: header %s, library %s\n", M2M_VERSION,
                m2m_libversion());
        return 1;
    }
    snprintf(url, sizeof url, "sqlite:%s", argv[1]);
    m2m_relation *rel = NULL;
    m2m_rows *rows = NULL;
    m2m_query *q = NULL;
    int ok =
        check(m2m_open(url, &db), "open") &&
        check(m2m_exec(db, "CREATE TABLE rooms(id INTEGER PRIMARY KEY);"
                           "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
                           "INSERT INTO rooms VALUES (1);"
                           "INSERT INTO users VALUES (7, 'ann'), (8, 'bob');"),
              "schema") &&
        check(m2m_relation_open(db,
                                &(m2m_relation_def){
                                    .parent_table = "rooms",
                                    .related_table = "users",
                                    .pivot_table = "room_members",
                                    .foreign_pivot_key = "room_id",
                                    .related_pivot_key = "user_id",
                                    .pivot_columns = (const char *const[]){"role", NULL},
                                },
                                &rel),
              "relation") &&
        check(m2m_relation_create_pivot(rel), "create_pivot") &&
        check(m2m_attach(
                  rel, M2M_INT(1),
                  (m2m_item[]){{M2M_INT(7), (m2m_col[]){{"role", M2M_TEXT("admin")}}, 1},
                               {M2M_INT(8), NULL, 0}},
                  2, NULL, NULL),
              "attach") &&
        check(m2m_query_new(rel, M2M_INT(1), &q), "query") &&
        check(m2m_query_order_by(q, "id", M2M_ASC), "order") &&
        check(m2m_query_get(q, &rows), "get");
    char got[64] = "";
    while (ok && m2m_rows_next(rows) == M2M_ROW) {
        m2m_value role = m2m_rows_pivot(rows, "role");
        size_t len = strlen(got);
        snprintf(got + len, sizeof got - len, "%s%s:%s", len ? "," : "",
                 m2m_rows_get(rows, "name").s, role.type == M2M_TTEXT ? role.s : "-");
    }
    m2m_rows_free(rows);
    m2m_query_free(q);
    m2m_relation_close(rel);
    m2m_close(db);
    if (ok && strcmp(got, "ann:admin,bob:-") != 0) {
        fprintf(stderr, "consumer: read '%s', expected 'ann:admin,bob:-'\n", got);
        ok = 0;
    }
    if (ok)
        printf("consumer ok %s\n", m2m_libversion());
    return ok ? 0 : 1;
}
