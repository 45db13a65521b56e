/* SPDX-License-Identifier: MIT */
/* explain: what each operation and read sends, as m2m_explain plans it on
 * the database given, for users -> roles over role_user(user_id, role_id,
 * granted_by) with a primary key on the two keys. Nothing is changed but
 * the tables it creates. docs/backends.md shows its output for SQLite and
 * PostgreSQL (scripts/doc-plans.sh keeps the two in step).
 *
 * Run: explain sqlite:plans.db, or explain 'postgresql://...' (it creates
 * its tables in the schema m2m_plans, dropped first). */
#include <m2m.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static m2m_db *db;

static const char *const setup =
    "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
    "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
    "CREATE TABLE role_user(user_id BIGINT NOT NULL REFERENCES users(id),"
    " role_id BIGINT NOT NULL REFERENCES roles(id), granted_by TEXT,"
    " PRIMARY KEY(user_id, role_id));"
    "INSERT INTO users VALUES (1, 'ann'), (2, 'bob');"
    "INSERT INTO roles VALUES (1, 'admin'), (2, 'editor'), (3, 'viewer'), (40, 'guest');";

static int fail(const char *what) {
    fprintf(stderr, "explain: %s: %s\n", what, m2m_errmsg(db));
    return 1;
}

/* Print the plan the call just made under title. */
static int show(const char *title, int rc, m2m_plan *plan) {
    if (rc != M2M_OK)
        return fail(title);
    printf("%s\n", title);
    for (size_t i = 0; i < m2m_plan_count(plan); i++) {
        int f = m2m_plan_flags(plan, i);
        printf("  %d  %s\n", m2m_plan_round(plan, i), m2m_plan_sql(plan, i));
        printf("       -- %s%s%s\n", m2m_plan_why(plan, i),
               f & M2M_PLAN_READ ? " (read before going on)" : "",
               f & M2M_PLAN_IF_FOUND ? " (only when something was found)" : "");
    }
    printf("  = %zu statement%s, %d round trip%s\n\n", m2m_plan_count(plan),
           m2m_plan_count(plan) == 1 ? "" : "s", m2m_plan_rounds(plan),
           m2m_plan_rounds(plan) == 1 ? "" : "s");
    m2m_plan_free(plan);
    return 0;
}

#define EXPLAIN(title, call)                                                             \
    do {                                                                                 \
        m2m_plan *plan_ = NULL;                                                          \
        if (m2m_explain(db, &plan_) != M2M_OK)                                           \
            return fail("m2m_explain");                                                  \
        int rc_ = (call);                                                                \
        if (show(title, rc_, plan_))                                                     \
            return 1;                                                                    \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: explain URL\n");
        return 2;
    }
    if (m2m_open(argv[1], &db) != M2M_OK)
        return fail("open");
    /* PostgreSQL: a schema of its own; SQLite and MariaDB: the URL's
     * database. */
    bool pg = strcmp(m2m_backend(db), "postgresql") == 0;
    if (pg &&
        m2m_exec(db, "DROP SCHEMA IF EXISTS m2m_plans CASCADE; CREATE SCHEMA m2m_plans;"
                     "SET search_path TO m2m_plans") != M2M_OK)
        return fail("schema");
    if (!pg && m2m_exec(db, "DROP TABLE IF EXISTS role_user; DROP TABLE IF EXISTS users;"
                            "DROP TABLE IF EXISTS roles") != M2M_OK)
        return fail("tables");
    if (m2m_exec(db, setup) != M2M_OK)
        return fail("setup");
    static const char *const cols[] = {"granted_by", NULL};
    m2m_relation_def def = {.parent_table = "users",
                            .related_table = "roles",
                            .pivot_table = "role_user",
                            .foreign_pivot_key = "user_id",
                            .related_pivot_key = "role_id",
                            .pivot_columns = cols};
    m2m_relation *rel, *inv;
    if (m2m_relation_open(db, &def, &rel) != M2M_OK)
        return fail("relation");
    m2m_relation_def idef = def;
    idef.parent_table = "roles";
    idef.related_table = "users";
    idef.foreign_pivot_key = "role_id";
    idef.related_pivot_key = "user_id";
    if (m2m_relation_open(db, &idef, &inv) != M2M_OK)
        return fail("inverse relation");

    const m2m_item ids[] = {{.id = M2M_INT(1)}, {.id = M2M_INT(2)}, {.id = M2M_INT(3)}};
    const m2m_value vals[] = {M2M_INT(1), M2M_INT(2)};
    const m2m_col by[] = {{.name = "granted_by", .value = M2M_TEXT("ann")}};
    const m2m_opts shared = {.pivot = by, .npivot = 1};
    const m2m_opts keep = {.flags = M2M_KEEP, .pivot = by, .npivot = 1};
    const m2m_opts update = {.flags = M2M_UPDATE_EXISTING, .pivot = by, .npivot = 1};
    const m2m_opts cas = {.if_version = "(the version read before)"};
    m2m_changes *ch = NULL; /* an explained call reports nothing */
    char version[M2M_VERSION_LEN];

    printf("Each statement: its round trip, its SQL, and why it is sent.\n\n");
    EXPLAIN("attach users 1 -> roles 1, 2, 3, granted_by shared",
            m2m_attach(rel, M2M_INT(1), ids, 3, &shared, NULL));
    EXPLAIN("attach, with a report", m2m_attach(rel, M2M_INT(1), ids, 3, &shared, &ch));
    EXPLAIN("sync", m2m_sync(rel, M2M_INT(1), ids, 3, &shared, NULL));
    EXPLAIN("sync, with a report", m2m_sync(rel, M2M_INT(1), ids, 3, &shared, &ch));
    EXPLAIN("sync, M2M_KEEP", m2m_sync(rel, M2M_INT(1), ids, 3, &keep, NULL));
    EXPLAIN("sync, M2M_UPDATE_EXISTING",
            m2m_sync(rel, M2M_INT(1), ids, 3, &update, NULL));
    EXPLAIN("sync, if_version (compare-and-swap)",
            m2m_sync(rel, M2M_INT(1), ids, 3, &cas, NULL));
    EXPLAIN("toggle", m2m_toggle(rel, M2M_INT(1), ids, 3, NULL, NULL));
    EXPLAIN("toggle, with a report", m2m_toggle(rel, M2M_INT(1), ids, 3, NULL, &ch));
    EXPLAIN("detach", m2m_detach(rel, M2M_INT(1), vals, 2, NULL, NULL));
    EXPLAIN("detach all, with a report", m2m_detach(rel, M2M_INT(1), NULL, 0, NULL, &ch));
    EXPLAIN("update pivot", m2m_update_pivot(rel, M2M_INT(1), vals, 2, by, 1, NULL));
    EXPLAIN("attach through the inverse relation (roles -> users)",
            m2m_attach(inv, M2M_INT(3), ids, 2, NULL, NULL));
    EXPLAIN("version", m2m_version(rel, M2M_INT(1), version));

    m2m_query *q = NULL;
    m2m_rows *rows = NULL;
    int64_t count = 0, counts[2];
    if (m2m_query_new(rel, M2M_INT(1), &q) != M2M_OK ||
        m2m_query_order_by(q, "name", M2M_ASC) != M2M_OK)
        return fail("query");
    EXPLAIN("get, ordered by name (M2M_JOIN)", m2m_query_get(q, &rows));
    m2m_rows_free(rows);
    EXPLAIN("count", m2m_query_count(q, &count));
    if (m2m_query_strategy(q, M2M_TWO_QUERY) != M2M_OK)
        return fail("strategy");
    EXPLAIN("get, ordered by name (M2M_TWO_QUERY)", m2m_query_get(q, &rows));
    m2m_rows_free(rows);
    m2m_query_free(q);
    if (m2m_query_new_many(rel, vals, 2, &q) != M2M_OK)
        return fail("query");
    EXPLAIN("count each of users 1, 2", m2m_query_count_each(q, counts));
    m2m_query_free(q);
    m2m_relation_close(inv);
    m2m_relation_close(rel);
    return m2m_close(db) == M2M_OK ? 0 : 1;
}
