/* SPDX-License-Identifier: MIT */
/* Shared fixtures for the relation tests: the seeds' schemas (users/roles with
 * granted_by and assigned_at; rooms/users/room_members with role), relation
 * openers, pivot snapshots, and order-independent comparison of id lists.
 * Everything here is backend-neutral: portable DDL through t_exec and reads
 * through m2m.h only. */
#ifndef M2M_TEST_FIXTURES_H
#define M2M_TEST_FIXTURES_H

#include "test.h"

/* An item with no pivot data, and array literals with their length, so a
 * call reads m2m_attach(rel, M2M_INT(1), FX_ITEMS(IT(2), IT(3)), NULL, &ch). */
#define IT(x)  ((m2m_item){.id = M2M_INT(x)})
#define ITT(x) ((m2m_item){.id = M2M_TEXT(x)})
#define ITP(x, ...)                                                                      \
    ((m2m_item){.id = M2M_INT(x),                                                        \
                .pivot = (const m2m_col[]){__VA_ARGS__},                                 \
                .npivot = sizeof((const m2m_col[]){__VA_ARGS__}) / sizeof(m2m_col)})
#define COL(n, v)  ((m2m_col){.name = (n), .value = (v)})
#define COLT(n, s) COL(n, M2M_TEXT(s))
#define FX_ITEMS(...)                                                                    \
    ((const m2m_item[]){__VA_ARGS__}),                                                   \
        (sizeof((const m2m_item[]){__VA_ARGS__}) / sizeof(m2m_item))
#define FX_VALS(...)                                                                     \
    ((const m2m_value[]){__VA_ARGS__}),                                                  \
        (sizeof((const m2m_value[]){__VA_ARGS__}) / sizeof(m2m_value))
#define FX_COLS(...)                                                                     \
    ((const m2m_col[]){__VA_ARGS__}),                                                    \
        (sizeof((const m2m_col[]){__VA_ARGS__}) / sizeof(m2m_col))

/* Assert an m2m call fails with exactly the code want. */
#define T_RC(want, call)                                                                 \
    do {                                                                                 \
        int t_rc2_ = (call);                                                             \
        if (t_rc2_ != (want))                                                            \
            fail_msg("%s -> %s, expected %s (%s)", #call, m2m_errname(t_rc2_),           \
                     m2m_errname(want), m2m_errmsg(t_db()));                             \
    } while (0)

/* users(id, name, age) 1..5, roles(id, name) 1..5, role_user(user_id,
 * role_id, granted_by, assigned_at) with PK and FKs (ON DELETE CASCADE on
 * the user side). */
void fx_users_roles(void);
/* users(id, name) 1 and 12, roles(id, name) 3 and 45, made(pid, user_id,
 * role_id, note): a pivot with its own text id (pid) to fill. */
void fx_made(void);
/* users -> roles over role_user, pivot columns granted_by and assigned_at. */
m2m_relation *fx_rel_roles(void);

/* rooms(id, name) 1..3, users(id, name, age) 1..6, room_members(room_id,
 * user_id, role, joined_at, rank) with PK and FKs. */
void fx_rooms(void);
/* rooms -> users over room_members, pivot columns role, joined_at, rank;
 * scope may be NULL. */
m2m_relation *fx_rel_members(const m2m_col *scope, size_t nscope);

/* fx_rooms with members: room 1 has users 1-5 (roles admin, member,
 * member, moderator, NULL; ranks 3, 1, 5, 2, 4; user 3 joined NULL), room
 * 2 users 6 (admin, rank 9) and 1 (member, 7), room 3 none; the relation
 * of fx_rel_members without scope. */
m2m_relation *fx_members_seeded(void);

/* Open a relation, failing the test on error. */
m2m_relation *fx_open(const m2m_relation_def *def);

/* The whole pivot table as "a|b|c,..." ordered by its first two columns;
 * returned string is new (free it). */
char *fx_snap(const char *table);
/* Assert the pivot table equals a snapshot taken earlier, then free it. */
void fx_assert_snap(const char *table, char *snap);
/* The rows of one parent's pivot rows: "related|cols..." in related order,
 * from SQL on the pivot table (the columns named in cols, comma-separated). */
const char *fx_pivot_rows(const char *table, const char *fk, const char *rk,
                          const char *cols, int64_t parent);

/* Sorted, comma-joined rendering of ids ("1,2,10"; text ids sorted by bytes).
 * Up to 8 results stay valid at once (a ring of buffers). */
const char *fx_ids(const m2m_value *v, size_t n);
#define FX_ATT(ch) fx_ids((ch)->attached, (ch)->nattached)
#define FX_DET(ch) fx_ids((ch)->detached, (ch)->ndetached)
#define FX_UPD(ch) fx_ids((ch)->updated, (ch)->nupdated)

/* Render a value ("~" for NULL); ring of buffers as fx_ids. */
const char *fx_val(m2m_value v);

/* Read a cursor to the end as "v|v|...,..." : related columns, then pivot
 * columns; with_parent prefixes each row with "parent:". Frees rows. */
const char *fx_rows_str(m2m_rows *rows, int with_parent);
/* Run a query built by build() once per strategy (JOIN, TWO_QUERY), assert
 * both give the same sequence and return it ("id" column only when
 * ids_only, else all columns). parents/n: one parent when n == 1 and
 * many == 0, else m2m_query_new_many. */
typedef void (*fx_build_fn)(m2m_query *q);
const char *fx_read_both(m2m_relation *rel, m2m_value parent, fx_build_fn build,
                         int ids_only);
const char *fx_read_many_both(m2m_relation *rel, const m2m_value *parents, size_t n,
                              fx_build_fn build);

/* n items / values with ids from, from+1, ...; new arrays, free() them. */
m2m_item *fx_range_items(int64_t from, size_t n);
m2m_value *fx_range_vals(int64_t from, size_t n);
/* Insert rows (id, 'nameN') for id in [from, to] into table(id, name). */
void fx_fill(const char *table, int64_t from, int64_t to);

/* "main" on SQLite, the current schema on PostgreSQL: for testing
 * schema-qualified names. */
const char *fx_schema(void);

/* Statements executed since the last m2m_stats_reset. */
uint64_t fx_executed(void);

/* Count rows of a table. */
int64_t fx_count(const char *table);

#endif
