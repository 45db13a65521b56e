/* SPDX-License-Identifier: MIT */
/* Shared fixtures for the relation tests (see fixtures.h). */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fx_made(void) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE made(pid TEXT NOT NULL UNIQUE,"
           " user_id BIGINT NOT NULL REFERENCES users(id),"
           " role_id BIGINT NOT NULL REFERENCES roles(id), note TEXT,"
           " PRIMARY KEY(user_id, role_id));"
           "INSERT INTO users VALUES (1, 'ann'), (12, 'bob');"
           "INSERT INTO roles VALUES (3, 'admin'), (45, 'editor');");
}

void fx_users_roles(void) {
    t_exec("CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT, age BIGINT);"
           "CREATE TABLE roles(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE role_user("
           " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
           " role_id BIGINT NOT NULL REFERENCES roles(id),"
           " granted_by TEXT, assigned_at TEXT,"
           " PRIMARY KEY(user_id, role_id));"
           "INSERT INTO users VALUES (1,'ann',30),(2,'bob',40),(3,'cid',25),"
           " (4,'dan',50),(5,'eve',35);"
           "INSERT INTO roles VALUES (1,'admin'),(2,'editor'),(3,'viewer'),"
           " (4,'owner'),(5,'guest');");
}

m2m_relation *fx_rel_roles(void) {
    static const char *const cols[] = {"granted_by", "assigned_at", NULL};
    return fx_open(&(m2m_relation_def){.parent_table = "users",
                                       .related_table = "roles",
                                       .pivot_table = "role_user",
                                       .foreign_pivot_key = "user_id",
                                       .related_pivot_key = "role_id",
                                       .pivot_columns = cols});
}

void fx_rooms(void) {
    t_exec("CREATE TABLE rooms(id BIGINT PRIMARY KEY, name TEXT);"
           "CREATE TABLE users(id BIGINT PRIMARY KEY, name TEXT, age BIGINT);"
           "CREATE TABLE room_members("
           " room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
           " user_id BIGINT NOT NULL REFERENCES users(id),"
           " role TEXT, joined_at TEXT, rank BIGINT,"
           " PRIMARY KEY(room_id, user_id));"
           "INSERT INTO rooms VALUES (1,'lobby'),(2,'dev'),(3,'ops');"
           "INSERT INTO users VALUES (1,'ann',30),(2,'bob',40),(3,'cid',25),"
           " (4,'dan',50),(5,'eve',35),(6,'fay',20);");
}

m2m_relation *fx_rel_members(const m2m_col *scope, size_t nscope) {
    static const char *const cols[] = {"role", "joined_at", "rank", NULL};
    return fx_open(&(m2m_relation_def){.parent_table = "rooms",
                                       .related_table = "users",
                                       .pivot_table = "room_members",
                                       .foreign_pivot_key = "room_id",
                                       .related_pivot_key = "user_id",
                                       .pivot_columns = cols,
                                       .scope = scope,
                                       .nscope = nscope});
}

m2m_relation *fx_members_seeded(void) {
    fx_rooms();
    t_exec("INSERT INTO room_members(room_id, user_id, role, joined_at, rank) VALUES"
           " (1, 1, 'admin', '2024-01-05', 3), (1, 2, 'member', '2024-02-10', 1),"
           " (1, 3, 'member', NULL, 5), (1, 4, 'moderator', '2024-03-15', 2),"
           " (1, 5, NULL, '2024-01-20', 4),"
           " (2, 6, 'admin', '2023-12-31', 9), (2, 1, 'member', '2024-06-01', 7)");
    return fx_rel_members(NULL, 0);
}

m2m_relation *fx_open(const m2m_relation_def *def) {
    m2m_relation *rel = NULL;
    int rc = m2m_relation_open(t_db(), def, &rel);
    if (rc != M2M_OK)
        fail_msg("m2m_relation_open(%s): %s: %s", def->pivot_table, m2m_errname(rc),
                 m2m_errmsg(t_db()));
    return rel;
}

char *fx_snap(const char *table) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2", table);
    const char *s = t_rows(sql);
    char *copy = malloc(strlen(s) + 1);
    assert_non_null(copy);
    strcpy(copy, s);
    return copy;
}

void fx_assert_snap(const char *table, char *snap) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2", table);
    const char *now = t_rows(sql);
    int same = strcmp(now, snap) == 0;
    if (!same)
        fail_msg("%s changed:\nbefore: %s\nafter:  %s", table, snap, now);
    free(snap);
}

const char *fx_pivot_rows(const char *table, const char *fk, const char *rk,
                          const char *cols, int64_t parent) {
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s%s%s FROM %s WHERE %s = %lld ORDER BY %s", rk,
             cols && *cols ? ", " : "", cols ? cols : "", table, fk, (long long)parent,
             rk);
    return t_rows(sql);
}

static char fx_ring[8][4096];
static unsigned fx_ring_i;

static char *fx_next_buf(void) { return fx_ring[fx_ring_i++ % 8]; }

static int fx_cmp(const void *a, const void *b) {
    const m2m_value *x = a, *y = b;
    if (x->type != y->type)
        return (int)x->type - (int)y->type;
    if (x->type == M2M_TINT)
        return x->i < y->i ? -1 : x->i > y->i;
    if (x->type == M2M_TTEXT)
        return strcmp(x->s, y->s);
    if (x->type == M2M_TREAL)
        return x->d < y->d ? -1 : x->d > y->d;
    return 0;
}

static void fx_render(char *out, size_t size, m2m_value v) {
    switch (v.type) {
        case M2M_TINT:
            snprintf(out, size, "%lld", (long long)v.i);
            break;
        case M2M_TREAL:
            snprintf(out, size, "%g", v.d);
            break;
        case M2M_TTEXT:
            snprintf(out, size, "%s", v.s ? v.s : "(null text)");
            break;
        default:
            snprintf(out, size, "~");
    }
}

const char *fx_ids(const m2m_value *v, size_t n) {
    char *out = fx_next_buf();
    out[0] = '\0';
    if (n && !v)
        return "(NULL array)";
    m2m_value *sorted = malloc((n ? n : 1) * sizeof *sorted);
    assert_non_null(sorted);
    if (n)
        memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, fx_cmp);
    size_t len = 0;
    for (size_t i = 0; i < n && len < 4000; i++) {
        char tmp[256];
        fx_render(tmp, sizeof tmp, sorted[i]);
        len += (size_t)snprintf(out + len, 4096 - len, "%s%s", i ? "," : "", tmp);
    }
    free(sorted);
    return out;
}

const char *fx_val(m2m_value v) {
    char *out = fx_next_buf();
    fx_render(out, 4096, v);
    return out;
}

const char *fx_rows_str(m2m_rows *rows, int with_parent) {
    static char out[1 << 16];
    size_t len = 0;
    int rc, r = 0;
    out[0] = '\0';
    while ((rc = m2m_rows_next(rows)) == M2M_ROW) {
        char tmp[512];
        if (r++)
            len += (size_t)snprintf(out + len, sizeof out - len, ",");
        if (with_parent) {
            fx_render(tmp, sizeof tmp, m2m_rows_parent(rows));
            len += (size_t)snprintf(out + len, sizeof out - len, "%s:", tmp);
        }
        int nc = m2m_rows_ncols(rows), np = m2m_rows_npivot(rows);
        for (int i = 0; i < nc; i++) {
            fx_render(tmp, sizeof tmp, m2m_rows_value(rows, i));
            len +=
                (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "|" : "", tmp);
        }
        for (int i = 0; i < np; i++) {
            fx_render(tmp, sizeof tmp, m2m_rows_pivot_value(rows, i));
            len += (size_t)snprintf(out + len, sizeof out - len, "|%s", tmp);
        }
        if (len >= sizeof out - 1)
            fail_msg("fx_rows_str: result too large");
    }
    m2m_rows_free(rows);
    if (rc != M2M_DONE)
        fail_msg("m2m_rows_next: %s: %s", m2m_errname(rc), m2m_errmsg(t_db()));
    return out;
}

/* Ids of a cursor in order, "3,1,2". */
static const char *fx_rows_ids(m2m_rows *rows, int with_parent) {
    static char out[1 << 16];
    size_t len = 0;
    int rc, r = 0;
    out[0] = '\0';
    while ((rc = m2m_rows_next(rows)) == M2M_ROW) {
        char tmp[256], par[256] = "";
        if (with_parent) {
            fx_render(par, sizeof par - 1, m2m_rows_parent(rows));
            strcat(par, ":");
        }
        fx_render(tmp, sizeof tmp, m2m_rows_get(rows, "id"));
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s%s", r++ ? "," : "",
                                par, tmp);
        if (len >= sizeof out - 1)
            fail_msg("fx_rows_ids: result too large");
    }
    m2m_rows_free(rows);
    if (rc != M2M_DONE)
        fail_msg("m2m_rows_next: %s: %s", m2m_errname(rc), m2m_errmsg(t_db()));
    return out;
}

static const char *fx_run(m2m_relation *rel, const m2m_value *parents, size_t n, int many,
                          fx_build_fn build, int strategy, int ids_only) {
    m2m_query *q = NULL;
    if (many)
        T_OK(m2m_query_new_many(rel, parents, n, &q));
    else
        T_OK(m2m_query_new(rel, parents[0], &q));
    assert_non_null(q);
    if (build)
        build(q);
    T_OK(m2m_query_strategy(q, strategy));
    m2m_rows *rows = NULL;
    int rc = m2m_query_get(q, &rows);
    if (rc != M2M_OK) {
        m2m_query_free(q);
        fail_msg("m2m_query_get (%s): %s: %s",
                 strategy == M2M_JOIN ? "JOIN" : "TWO_QUERY", m2m_errname(rc),
                 m2m_errmsg(t_db()));
    }
    const char *s = ids_only ? fx_rows_ids(rows, many) : fx_rows_str(rows, many);
    m2m_query_free(q);
    return s;
}

static const char *fx_both(m2m_relation *rel, const m2m_value *parents, size_t n,
                           int many, fx_build_fn build, int ids_only) {
    static char join[1 << 16];
    snprintf(join, sizeof join, "%s",
             fx_run(rel, parents, n, many, build, M2M_JOIN, ids_only));
    const char *two = fx_run(rel, parents, n, many, build, M2M_TWO_QUERY, ids_only);
    if (strcmp(join, two) != 0)
        fail_msg("strategies differ:\nJOIN:      %s\nTWO_QUERY: %s", join, two);
    return join;
}

const char *fx_read_both(m2m_relation *rel, m2m_value parent, fx_build_fn build,
                         int ids_only) {
    return fx_both(rel, &parent, 1, 0, build, ids_only);
}

const char *fx_read_many_both(m2m_relation *rel, const m2m_value *parents, size_t n,
                              fx_build_fn build) {
    return fx_both(rel, parents, n, 1, build, 1);
}

m2m_item *fx_range_items(int64_t from, size_t n) {
    m2m_item *it = calloc(n ? n : 1, sizeof *it);
    assert_non_null(it);
    for (size_t i = 0; i < n; i++)
        it[i].id = M2M_INT(from + (int64_t)i);
    return it;
}

m2m_value *fx_range_vals(int64_t from, size_t n) {
    m2m_value *v = calloc(n ? n : 1, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = M2M_INT(from + (int64_t)i);
    return v;
}

void fx_fill(const char *table, int64_t from, int64_t to) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s(id, name) WITH RECURSIVE c(x) AS (SELECT %lld UNION ALL "
             "SELECT x + 1 FROM c WHERE x < %lld) SELECT x, 'n' || x FROM c",
             table, (long long)from, (long long)to);
    t_exec(sql);
}

const char *fx_schema(void) {
    static char name[128];
    if (strcmp(t_backend, "sqlite") == 0)
        return "main";
    /* MariaDB's schemas are its databases. */
    snprintf(name, sizeof name, "%s",
             t_rows(strcmp(t_backend, "mariadb") == 0 ? "SELECT DATABASE()"
                                                      : "SELECT current_schema()"));
    return name;
}

uint64_t fx_executed(void) {
    m2m_stats st = {0};
    m2m_stats_get(t_db(), &st);
    return st.executed;
}

int64_t fx_count(const char *table) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    return t_int(sql, NULL, 0);
}
