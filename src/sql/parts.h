/* SPDX-License-Identifier: MIT */
/* Pieces of SQL the statement builders share (parts.c): qualified columns,
 * the input rows, the parent's WHERE, RETURNING, the touch, the pivot's
 * head; and the builders of the UPDATE statements (sqlgen_update.c).
 * Internal to src/sql: the rest of the library sees sqlgen.h only. */
#ifndef M2M_SQL_PARTS_H
#define M2M_SQL_PARTS_H

#include "sql/sqlgen.h"

/* Names m2m gives its own subqueries and columns. Each holds a '-', which
 * no identifier of a definition may (m2m__ident_ok), so none can capture a
 * user's table or column, whatever the user names them. */
#define M2M__KEY_ALIAS "\"m2m-key\""
#define M2M__GONE      "\"m2m-gone\""
#define M2M__ADDED     "\"m2m-added\""

/* alias."name" */
void m2m__sql_col(m2m__buf *b, const char *alias, const char *name);
void m2m__sql_input(m2m__buf *b, const m2m_relation *rel, int param,
                    const char *const *cols, size_t n);
void m2m__sql_ids(m2m__buf *b, const m2m_relation *rel, int param, const char *alias);
/* The scope's parameters ($3 on), and the first of the new values after
 * them and the conditions' values. */
int m2m__sql_count_scope(const m2m_relation *rel);
int m2m__sql_first_val(const m2m_relation *rel);
void m2m__sql_where_parent(m2m__buf *b, const m2m_relation *rel, const char *alias,
                           int *pno);
void m2m__sql_returning_rk(m2m__buf *b, const m2m_relation *rel, uint64_t mask);
uint64_t m2m__sql_touch_mask(const m2m_relation *rel, uint64_t mask);
int m2m__sql_touched(const m2m_relation *rel, m2m__buf *b);
void m2m__sql_where_set_as(m2m__buf *b, const m2m_relation *rel, const char *alias,
                           int kind, uint64_t mask);
void m2m__sql_where_set(m2m__buf *b, const m2m_relation *rel, int kind, uint64_t mask);
void m2m__sql_pivot_as_t(m2m__buf *b, const m2m_relation *rel, const char *verb);

/* ---- sqlgen_update.c ---- */
int m2m__b_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b);
int m2m__b_count_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b);
int m2m__b_update_set(m2m_relation *rel, uint64_t mask, m2m__buf *b);
int m2m__b_select_update_from(m2m_relation *rel, uint64_t mask, m2m__buf *b);
int m2m__b_select_update_set(m2m_relation *rel, uint64_t mask, m2m__buf *b);

#endif
