/* SPDX-License-Identifier: MIT */
/* The SQLite driver's private declarations, shared by its files. */
#ifndef M2M_SQLITE_H
#define M2M_SQLITE_H

#include "drivers/sqlite/ids.h"

/* The connection (db->conn). */
static inline sqlite3 *conn(m2m_db *db) { return (sqlite3 *)db->conn; }

/* driver.c: map SQLite's extended result code src onto ours and record the
 * message, what naming the action that failed. */
int m2m__sq_error(m2m_db *db, int src, const char *what);

/* catalog.c: dialect.pair_unique, span_ok, deleted_col and columns. */
int m2m__sq_pair_unique(m2m_db *db, const char *table, const char *a, const char *b);
int m2m__sq_span_ok(m2m_db *db, const char *table, const char *fk, const char *rk);
int m2m__sq_deleted_col(m2m_db *db, const char *table, const char *col);
int m2m__sq_columns(m2m_db *db, const char *const *tables, size_t n,
                    void (*on_col)(void *arg, size_t t, const char *name, char kind),
                    void *arg);

#endif /* M2M_SQLITE_H */
