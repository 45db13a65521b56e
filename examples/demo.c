/* SPDX-License-Identifier: MIT */
/* demo: the rooms/members story of a chat application, told with libm2m on an
 * SQLite file. Run: demo PATH.db (scripts/run-demo.sh gives it a fresh one).
 *
 * Rooms have members (users) through the pivot table room_members, whose rows
 * carry the member's role; users like posts through post_likes. Each step
 * prints the call and what the library reported. */
#include <m2m.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const user_names[] = {"", "ann", "bob", "cy", "dee", "eve"};
static const char *const room_names[] = {"", "general", "random", "ops"};

static m2m_db *db;

/* Report a failed call with the library's message; true when rc is M2M_OK. */
static bool ok(int rc, const char *what) {
    if (rc == M2M_OK)
        return true;
    fprintf(stderr, "demo: %s failed: %s: %s\n", what, m2m_errname(rc), m2m_errmsg(db));
    return false;
}

static void step(const char *title) { printf("\n== %s\n", title); }

/* "ann, bob" from user ids; "(none)" for an empty list. */
static void print_users(const char *label, const m2m_value *ids, size_t n) {
    printf("   %-9s", label);
    if (!n)
        printf(" (none)");
    for (size_t i = 0; i < n; i++) {
        int64_t id = ids[i].i;
        printf("%s %s", i ? "," : "", id > 0 && id <= 5 ? user_names[id] : "?");
    }
    putchar('\n');
}

static void print_changes(const m2m_changes *ch) {
    if (ch->op != M2M_OP_DETACH && ch->op != M2M_OP_UPDATE)
        print_users("attached:", ch->attached, ch->nattached);
    if (ch->op == M2M_OP_DETACH || ch->op == M2M_OP_SYNC || ch->op == M2M_OP_TOGGLE)
        print_users("detached:", ch->detached, ch->ndetached);
    if (ch->op == M2M_OP_SYNC || ch->op == M2M_OP_UPDATE)
        print_users("updated:", ch->updated, ch->nupdated);
}

/* Print a query's rows: the related name, then every pivot column. */
static bool print_rows(m2m_query *q, bool show_parent, const char *const *names) {
    m2m_rows *rows = NULL;
    int rc;
    if (!ok(m2m_query_get(q, &rows), "query"))
        return false;
    while ((rc = m2m_rows_next(rows)) == M2M_ROW) {
        m2m_value name = m2m_rows_get(rows, "name");
        printf("   ");
        if (show_parent) {
            int64_t p = m2m_rows_parent(rows).i;
            printf("%-8s ", p > 0 && p <= 3 ? names[p] : "?");
        }
        printf("%-8s", name.type == M2M_TTEXT ? name.s : "?");
        for (int i = 0; i < m2m_rows_npivot(rows); i++) {
            m2m_value v = m2m_rows_pivot_value(rows, i);
            printf("  %s=%s", m2m_rows_pivot_name(rows, i),
                   v.type == M2M_TTEXT   ? v.s
                   : v.type == M2M_TNULL ? "NULL"
                                         : "?");
        }
        putchar('\n');
    }
    m2m_rows_free(rows);
    return ok(rc == M2M_DONE ? M2M_OK : rc, "reading rows");
}

static const char schema[] =
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "INSERT INTO users VALUES (1,'ann'),(2,'bob'),(3,'cy'),(4,'dee'),(5,'eve');"
    "INSERT INTO rooms VALUES (1,'general'),(2,'random'),(3,'ops');"
    "INSERT INTO posts VALUES (1,'hello'),(2,'release');";

/* The story proper; returns 0 when every step worked. */
static int story(m2m_relation *members, m2m_relation *likes) {
    m2m_changes *ch = NULL;
    m2m_query *q = NULL;
    m2m_relation *rooms_of = NULL;
    int failed = 1;
    const m2m_col admin[] = {{"role", M2M_TEXT("admin")}};
    const m2m_col member[] = {{"role", M2M_TEXT("member")}};
    const m2m_col moderator[] = {{"role", M2M_TEXT("moderator")}};

    step("1. ann opens #general and is its admin: attach with pivot data");
    printf("   attach(members of general, ann, {role: admin})\n");
    m2m_item ann = {M2M_INT(1), admin, 1};
    if (!ok(m2m_attach(members, M2M_INT(1), &ann, 1, NULL, &ch), "attach"))
        goto done;
    print_changes(ch);
    m2m_changes_free(ch), ch = NULL;

    step("2. bob, cy and dee join, each with their own role: per-id pivot data");
    printf("   attach(general, {bob: member, cy: member, dee: moderator})\n");
    const m2m_item joiners[] = {
        {M2M_INT(2), member, 1}, {M2M_INT(3), member, 1}, {M2M_INT(4), moderator, 1}};
    if (!ok(m2m_attach(members, M2M_INT(1), joiners, 3, NULL, &ch), "attach"))
        goto done;
    print_changes(ch);
    m2m_changes_free(ch), ch = NULL;

    step("3. bob clicks join twice: attach is duplicate-safe");
    printf("   attach(general, bob) again\n");
    m2m_item bob = {M2M_INT(2), member, 1};
    if (!ok(m2m_attach(members, M2M_INT(1), &bob, 1, NULL, &ch), "attach"))
        goto done;
    print_changes(ch);
    m2m_changes_free(ch), ch = NULL;

    step("4. bob is promoted: update the pivot row");
    printf("   update_pivot(general, bob, {role: admin})\n");
    if (!ok(m2m_update_pivot(members, M2M_INT(1), &bob.id, 1, admin, 1, &ch), "update"))
        goto done;
    print_changes(ch);
    m2m_changes_free(ch), ch = NULL;

    step("5. who administers #general? read with a where-pivot filter");
    if (!ok(m2m_query_new(members, M2M_INT(1), &q), "query"))
        goto done;
    m2m_query_where_pivot(q, "role", "=", M2M_TEXT("admin"));
    m2m_query_with_pivot(q, "role");
    m2m_query_order_by(q, "name", M2M_ASC);
    if (!print_rows(q, false, NULL))
        goto done;
    m2m_query_free(q), q = NULL;

    step("6. how many members has #general? count");
    int64_t count = 0;
    if (!ok(m2m_query_new(members, M2M_INT(1), &q), "query") ||
        !ok(m2m_query_count(q, &count), "count"))
        goto done;
    printf("   %" PRId64 " members\n", count);
    m2m_query_free(q), q = NULL;

    step("7. ann likes a post, then changes her mind: toggle");
    m2m_item post = {M2M_INT(1), NULL, 0};
    for (int i = 0; i < 2; i++) {
        printf("   toggle(ann's likes, post 1)\n");
        if (!ok(m2m_toggle(likes, M2M_INT(1), &post, 1, NULL, &ch), "toggle"))
            goto done;
        printf("   liked: %zu, unliked: %zu\n", ch->nattached, ch->ndetached);
        m2m_changes_free(ch), ch = NULL;
    }

    step("8. the settings form of #random is saved with its checkboxes: sync");
    printf("   sync(random, [bob, cy, eve], {role: member})\n");
    const m2m_item form1[] = {
        {M2M_INT(2), NULL, 0}, {M2M_INT(3), NULL, 0}, {M2M_INT(5), NULL, 0}};
    const m2m_opts as_member = {.pivot = member, .npivot = 1};
    if (!ok(m2m_sync(members, M2M_INT(2), form1, 3, &as_member, &ch), "sync"))
        goto done;
    print_changes(ch);
    m2m_changes_free(ch), ch = NULL;
    printf("   sync(random, [bob, eve]): cy's box was unticked\n");
    const m2m_item form2[] = {{M2M_INT(2), NULL, 0}, {M2M_INT(5), NULL, 0}};
    if (!ok(m2m_sync(members, M2M_INT(2), form2, 2, &as_member, &ch), "sync"))
        goto done;
    print_changes(ch);
    m2m_changes_free(ch), ch = NULL;

    step("9. two admins edit #random at once: sync with if_version");
    char seen[M2M_VERSION_LEN];
    if (!ok(m2m_version(members, M2M_INT(2), seen), "version"))
        goto done;
    const m2m_item add_dee = {M2M_INT(4), member, 1};
    const m2m_opts keep = {.flags = M2M_KEEP};
    if (!ok(m2m_sync(members, M2M_INT(2), &add_dee, 1, &keep, &ch), "sync"))
        goto done;
    printf("   the first admin adds dee (sync with keep)\n");
    print_users("attached:", ch->attached, ch->nattached);
    m2m_changes_free(ch), ch = NULL;
    const m2m_opts stale = {.if_version = seen};
    int rc = m2m_sync(members, M2M_INT(2), form2, 2, &stale, &ch);
    printf("   the second admin saves an older form: %s\n",
           rc == M2M_CONFLICT ? "conflict, nothing changed" : m2m_errname(rc));
    if (rc != M2M_CONFLICT) {
        fprintf(stderr, "demo: expected M2M_CONFLICT\n");
        goto done;
    }

    step("10. dee leaves #general: detach");
    const m2m_value dee = M2M_INT(4);
    if (!ok(m2m_detach(members, M2M_INT(1), &dee, 1, NULL, &ch), "detach"))
        goto done;
    print_changes(ch);
    m2m_changes_free(ch), ch = NULL;

    step("11. the room list page: eager-load the members of every room");
    const m2m_value all_rooms[] = {M2M_INT(1), M2M_INT(2), M2M_INT(3)};
    if (!ok(m2m_query_new_many(members, all_rooms, 3, &q), "query"))
        goto done;
    m2m_query_with_pivot(q, "role");
    if (!print_rows(q, true, room_names))
        goto done;
    m2m_query_free(q), q = NULL;

    step("12. bob's profile: the inverse relation, a user's rooms");
    if (!ok(m2m_relation_inverse(members, &rooms_of), "inverse") ||
        !ok(m2m_query_new(rooms_of, M2M_INT(2), &q), "query"))
        goto done;
    m2m_query_with_pivot(q, "role");
    m2m_query_order_by(q, "name", M2M_ASC);
    if (!print_rows(q, false, NULL))
        goto done;
    failed = 0;
done:
    m2m_query_free(q);
    m2m_changes_free(ch);
    m2m_relation_close(rooms_of);
    return failed;
}

int main(int argc, char **argv) {
    char url[4096];
    m2m_relation *members = NULL, *likes = NULL;
    int failed = 1;
    if (argc != 2) {
        fprintf(stderr, "usage: demo PATH.db (a new SQLite file)\n");
        return 2;
    }
    snprintf(url, sizeof url, "sqlite:%s", argv[1]);
    printf("libm2m %s: rooms and their members, on %s\n", m2m_libversion(), argv[1]);
    if (!ok(m2m_open(url, &db), "open"))
        return 1;
    /* Members carry a role and when they joined; likes carry nothing. */
    const m2m_relation_def members_def = {
        .parent_table = "rooms",
        .related_table = "users",
        .pivot_table = "room_members",
        .foreign_pivot_key = "room_id",
        .related_pivot_key = "user_id",
        .pivot_columns = (const char *const[]){"role", NULL},
        .timestamps = 1,
    };
    const m2m_relation_def likes_def = {
        .parent_table = "users",
        .related_table = "posts",
        .pivot_table = "post_likes",
        .foreign_pivot_key = "user_id",
        .related_pivot_key = "post_id",
    };
    step("0. schema: users, rooms, posts; the pivots made by create_pivot");
    if (!ok(m2m_exec(db, schema), "schema") ||
        !ok(m2m_relation_open(db, &members_def, &members), "relation members") ||
        !ok(m2m_relation_open(db, &likes_def, &likes), "relation likes") ||
        !ok(m2m_relation_create_pivot(members), "create pivot room_members") ||
        !ok(m2m_relation_create_pivot(likes), "create pivot post_likes"))
        goto done;
    printf("   room_members(room_id, user_id, role, created_at, updated_at)\n"
           "   post_likes(user_id, post_id)\n");
    failed = story(members, likes);
    if (!failed)
        printf("\ndone.\n");
done:
    m2m_relation_close(likes);
    m2m_relation_close(members);
    m2m_close(db);
    return failed;
}
