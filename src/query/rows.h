/* SPDX-License-Identifier: MIT */
/* Result cursors handed to users. */
#ifndef M2M_ROWS_H
#define M2M_ROWS_H

#include "core/relation.h"

/* ---- rows.c ---- */
/* A cursor over a statement's rows (RAW layout: every column is related). */
int m2m__rows_raw(m2m_db *db, m2m__stmt *st, bool own_stmt, const m2m_value *params,
                  size_t n, m2m_rows **out);
/* Deep copies of parameter arrays that must outlive the call. */
int m2m__values_dup(const m2m_value *src, size_t n, m2m_value **out);
void m2m__values_free(m2m_value *v, size_t n);

#endif /* M2M_ROWS_H */
