/* SPDX-License-Identifier: MIT */
/* The MariaDB driver's private declarations, shared by its files. */
#ifndef M2M_MARIADB_H
#define M2M_MARIADB_H

#include "core/db.h"

#include <mysql.h>
#include <string.h>

/* The longest text id, in characters: an index key holds 3072 bytes, 768
 * utf8mb4 characters (driver.c, exec.c). */
#define MY_TEXT_ID_MAX  768
#define M2M__MY_STR_(x) #x
#define M2M__MY_STR(x)  M2M__MY_STR_(x)

/* The connection's state (db->conn). */
typedef struct my_conn {
    MYSQL *my;
    char *url;    /* kept for m2m_reconnect */
    uint64_t gen; /* bumped per connection: statements re-prepare lazily */
    /* A transaction is open (START TRANSACTION seen, no COMMIT or
     * ROLLBACK yet), and the server rolled it back whole on a deadlock:
     * its statements fail until the ROLLBACK (exec.c). */
    bool txn, txn_lost;
} my_conn;

struct m2m__stmt {
    char *sql;      /* as the core wrote it, $n placeholders */
    char *text;     /* as sent: ? placeholders */
    int *map;       /* the parameter (0-based) of each ?, in order */
    size_t nmap;    /* the number of ? */
    MYSQL_STMT *st; /* prepared on the connection of generation gen */
    uint64_t gen;
    bool plain; /* transaction control or DDL: sent as text */
};

/* One result column: where its current value is fetched to. */
typedef struct my_col {
    char *buf;
    unsigned long cap, len;
    my_bool isnull, err;
    long long i;
    double d;
    int kind; /* K_INT, K_REAL, K_TEXT, K_NULL */
} my_col;
enum { K_INT = 1, K_REAL, K_TEXT, K_NULL };

struct m2m__cursor {
    m2m_db *db;
    MYSQL_STMT *st;
    MYSQL_RES *meta;
    unsigned ncols;
    MYSQL_BIND *bind;
    my_col *cols;
    bool holding; /* this cursor owns db->cursor_busy */
    bool done;
};

static inline my_conn *conn(m2m_db *db) { return (my_conn *)db->conn; }

/* conn.c */
int m2m__my_open(m2m_db *db, const char *url);
void m2m__my_close(m2m_db *db);
int m2m__my_reconnect(m2m_db *db);
/* Record the error of st (or of the connection when st is NULL). */
int m2m__my_fail(m2m_db *db, MYSQL_STMT *st);
int m2m__my_check_usable(m2m_db *db);

/* exec.c */
int m2m__my_prepare(m2m_db *db, const char *sql, m2m__stmt **out);
void m2m__my_finalize(m2m_db *db, m2m__stmt *s);
int m2m__my_run(m2m_db *db, m2m__step *steps, size_t n);
int m2m__my_exec_script(m2m_db *db, const char *script);
/* Prepare s on the current connection if it is not, bind params and
 * execute it; the result (if any) stays on s->st. */
int m2m__my_execute(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n);

/* cursor.c */
/* Set up cur over the executed statement st's result: stored whole in the
 * client, or (store false) streamed, holding the connection until freed. */
int m2m__my_cursor_init(m2m_db *db, m2m__cursor *cur, MYSQL_STMT *st, bool store);
void m2m__my_cursor_fini(m2m__cursor *cur);
int m2m__my_cursor_open(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n,
                        size_t whole, m2m__cursor **out);
int m2m__my_cursor_next(m2m__cursor *cur);
int m2m__my_cursor_ncols(m2m__cursor *cur);
const char *m2m__my_cursor_name(m2m__cursor *cur, int i);
m2m_value m2m__my_cursor_value(m2m__cursor *cur, int i);
void m2m__my_cursor_close(m2m__cursor *cur);

/* catalog.c */
int m2m__my_columns(m2m_db *db, const char *const *tables, size_t n,
                    void (*on_col)(void *arg, size_t t, const char *name, char kind),
                    void *arg);
int m2m__my_key_lead(m2m_db *db, const char *table, const char *a, const char *b);
int m2m__my_key_type(m2m_db *db, const char *table, const char *col, char *out, size_t n);

#endif /* M2M_MARIADB_H */
