/* SPDX-License-Identifier: MIT */
/* SQL of the write operations (sqlgen.c). Each builder makes the text for
 * one (statement, column mask) once; the relation caches it prepared. */
#ifndef M2M_SQLGEN_H
#define M2M_SQLGEN_H

#include "core/relation.h"

/* Statement kinds, the op keys of the relation's statement cache. Parameter
 * layouts: $1 parent, $2 the ids array or (S_INSERT and S_UPDATE_FROM
 * without M2M__FLAT) the JSON rows, when used; then the scope values in
 * column order (not in an S_INSERT of JSON rows, whose rows carry them);
 * then the values of the relation's conditions (m2m__cond_params); then
 * the new values of the mask's other columns in column order
 * (S_UPDATE_SET, and the flat S_INSERT and S_UPDATE_FROM). */
enum {
    S_INSERT = 1,    /* mask: columns stored; RETURNING rk */
    S_DELETE_IN,     /* rows of the given ids */
    S_DELETE_ALL,    /* all rows of the parent (no $2) */
    S_DELETE_NOT_IN, /* rows not among the given ids */
    S_COUNT_IN,      /* counts of the same rows, for RLS checks */
    S_COUNT_ALL,
    S_COUNT_NOT_IN,
    S_UPDATE_FROM, /* mask: kept rows get the given values if they differ */
    S_COUNT_UPDATE_FROM,
    S_UPDATE_SET,         /* mask: rows of the given ids get the values */
    S_TOGGLE,             /* mask as S_INSERT (flat): delete and insert in one */
    S_VERSION,            /* the parent's rows for the digest (no $2) */
    S_DIAG_RELATED,       /* $1 ids array: the first id missing from related */
    S_DIAG_PARENT,        /* $1 parent: does it exist */
    S_SELECT_IN,          /* the ids of the given rows that exist */
    S_SYNC,               /* mask as S_TOGGLE: delete the rows not given, insert */
    S_DIAG_OUTSIDE,       /* the first id whose pair is present outside the scope */
    S_SELECT_UPDATE_FROM, /* the ids of the rows S_UPDATE_FROM changes */
    S_SELECT_UPDATE_SET,  /* the ids of the rows S_UPDATE_SET changes */
    S_TOUCH               /* $1 parent: set its touch column (sqlgen_touch.c) */
};

m2m__build_fn m2m__builder(int kind);

/* sqlgen_touch.c. Does each write statement touch the parent itself (a
 * touching relation on a backend with caps.dml_cte)? Then a statement
 * that returns its rows is wrapped so that it does, when it returned one;
 * a WITH of its own gets the touch as its last part, run when changed (an
 * SQL condition) holds. */
bool m2m__touch_in_stmt(const m2m_relation *rel);
void m2m__touch_wrap(m2m__buf *b, const m2m_relation *rel);
void m2m__touch_cte(m2m__buf *b, const m2m_relation *rel, const char *changed);
int m2m__b_touch(m2m_relation *rel, uint64_t mask, m2m__buf *b);

/* Number of scope values (they follow $1, $2). */
size_t m2m__scope_params(const m2m_relation *rel, m2m_value *out);

#endif
