/* SPDX-License-Identifier: MIT */
/* The SQLite driver's private declarations, shared by its files. */
#ifndef M2M_SQLITE_H
#define M2M_SQLITE_H

#include "drivers/sqlite/ids.h"

/* wake.c: the writers of one file in this process, who wake each other
 * when one ends a transaction. */
typedef struct sq_room sq_room;
sq_room *m2m__sq_room_join(const char *path); /* NULL: no file, or no memory */
void m2m__sq_room_leave(sq_room *r);
uint64_t m2m__sq_room_gen(sq_room *r);
void m2m__sq_room_release(sq_room *r);
/* Wait until the room's generation is no longer gen, or until until_us
 * (m2m__clock_us); true when woken. */
bool m2m__sq_room_wait(sq_room *r, uint64_t gen, int64_t until_us);

/* The connection (db->conn). */
typedef struct sq_conn {
    sqlite3 *h;
    sq_room *room;
    uint64_t seen; /* the room's generation when the lock was last tried */
    bool ended;    /* a transaction ended since the room last heard of it */
} sq_conn;
static inline sqlite3 *conn(m2m_db *db) { return ((sq_conn *)db->conn)->h; }

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
