/* SPDX-License-Identifier: MIT */
/* The MariaDB driver's connection: URLs, open, close, reconnect, the
 * session's dialect settings, and the mapping of its errors onto m2m
 * codes. */
#include "drivers/mariadb/mariadb.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The session m2m's SQL needs: double-quoted identifiers, || as in
 * standard SQL, backslashes taken literally, strict types; timestamps in
 * UTC. @m2m_tok numbers the connection's write transactions (lock_sql),
 * from a random start: the token a transaction leaves in its lock row
 * tells, after a lost COMMIT reply, whether it committed. */
#define MY_SESSION                                                                       \
    "SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,NO_BACKSLASH_ESCAPES,"          \
    "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO', "             \
    "time_zone = '+00:00', @m2m_tok = %lld"

/* A random start for @m2m_tok in [1, 2^62): tokens of two connections
 * meet only if their starts fall within the transactions one of them
 * runs. */
static long long token_start(void) {
    uint64_t r = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&r, sizeof r, 1, f) != 1)
        r = (uint64_t)m2m__clock_us() * 0x9e3779b97f4a7c15u ^ (uint64_t)(uintptr_t)&r;
    if (f)
        fclose(f);
    return (long long)(r >> 2 | 1);
}

/* The table of per-parent write locks (dialect.lock_sql): a row per pivot
 * (parent '') and per (pivot, parent) written. Every writer of a parent
 * writes its row, so writers of one parent conflict on every server, Galera
 * certification included. A parent is kept as the MD5 of its key, so keys
 * of any length fit (two parents that share a hash only share a lock);
 * tok is the last writer's token (in-doubt commits). */
#define MY_LOCK_TABLE                                                                    \
    "CREATE TABLE IF NOT EXISTS m2m_lock (pivot BIGINT NOT NULL, parent "                \
    "VARBINARY(16) NOT NULL, n BIGINT NOT NULL DEFAULT 0, tok BIGINT NOT NULL DEFAULT "  \
    "0, PRIMARY KEY (pivot, parent), KEY (tok)) ENGINE=InnoDB"

static int my_map(unsigned e) {
    switch (e) {
        case ER_LOCK_DEADLOCK:
        case ER_LOCK_WAIT_TIMEOUT:
            return M2M_BUSY;
        case ER_DUP_ENTRY:
        case ER_DUP_ENTRY_WITH_KEY_NAME:
            return M2M_EXISTS;
        case ER_ROW_IS_REFERENCED_2:
        case ER_NO_REFERENCED_ROW_2:
        case ER_ROW_IS_REFERENCED:
        case ER_NO_REFERENCED_ROW:
        case ER_BAD_NULL_ERROR:
        case ER_NO_DEFAULT_FOR_FIELD: /* a NOT NULL column left out */
        case 4025:                    /* ER_CONSTRAINT_FAILED: CHECK */
            return M2M_CONSTRAINT;
        case CR_SERVER_GONE_ERROR:
        case CR_SERVER_LOST:
        case CR_CONNECTION_ERROR:
        case CR_CONN_HOST_ERROR:
        case ER_CONNECTION_KILLED:
        case ER_SERVER_SHUTDOWN:
            return M2M_CONNECTION;
        case ER_NO_SUCH_TABLE:
        case ER_BAD_FIELD_ERROR:
        case ER_BAD_TABLE_ERROR:
            return M2M_NOTFOUND;
        case ER_TABLEACCESS_DENIED_ERROR:
        case ER_COLUMNACCESS_DENIED_ERROR:
        case ER_DBACCESS_DENIED_ERROR:
        case ER_ACCESS_DENIED_ERROR:
            return M2M_DENIED;
        case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
        case ER_WARN_DATA_OUT_OF_RANGE:
        case ER_TRUNCATED_WRONG_VALUE:
        case WARN_DATA_TRUNCATED:
        case ER_DATA_TOO_LONG:
        case ER_WRONG_VALUE:
        case ER_DATA_OUT_OF_RANGE:
            return M2M_TYPE;
        case ER_STATEMENT_TIMEOUT:
        case ER_QUERY_INTERRUPTED:
            return M2M_TIMEOUT;
        case ER_WRONG_ARGUMENTS:
            return M2M_MISUSE;
        case CR_OUT_OF_MEMORY:
        case ER_OUTOFMEMORY:
            return M2M_NOMEM;
        default:
            return M2M_ERROR;
    }
}

int m2m__my_fail(m2m_db *db, MYSQL_STMT *st) {
    MYSQL *my = conn(db)->my;
    unsigned e = st ? mysql_stmt_errno(st) : mysql_errno(my);
    const char *msg = st ? mysql_stmt_error(st) : mysql_error(my);
    const char *state = st ? mysql_stmt_sqlstate(st) : mysql_sqlstate(my);
    int rc = e ? my_map(e) : M2M_ERROR;
    /* The server's own report of a lost session (killed, shutting down)
     * ended the statement before any later COMMIT; the client's "server
     * gone" proves nothing. */
    if (rc == M2M_CONNECTION && e < 2000)
        db->lost_early = true;
    if (!msg || !*msg)
        msg = "no response from the server";
    /* A deadlock (or a Galera certification failure) rolls back the whole
     * transaction, a lock wait timeout only the statement. */
    if (e == ER_LOCK_DEADLOCK && conn(db)->txn && db->in_txn) {
        conn(db)->txn_lost = true;
        return m2m__set_error(db, rc,
                              "%s (error %u, SQLSTATE %s); the server rolled back the "
                              "whole transaction",
                              msg, e, state ? state : "HY000");
    }
    if (rc == M2M_CONNECTION)
        return m2m__set_error(
            db, rc,
            "connection to the MariaDB server lost: %s (error %u); call "
            "m2m_reconnect()",
            msg, e);
    return m2m__set_error(db, rc, "%s (error %u, SQLSTATE %s)", msg, e,
                          state ? state : "HY000");
}

int m2m__my_check_usable(m2m_db *db) {
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a cursor is still open on this connection; free it "
                              "(m2m_rows_free) before the next call");
    db->lost_early = true; /* if lost now, nothing was sent */
    if (!conn(db)->my)
        return m2m__set_error(db, M2M_CONNECTION,
                              "the connection to the MariaDB server is lost; call "
                              "m2m_reconnect()");
    return M2M_OK;
}

/* A URL's parts, percent-decoded, in one allocation. */
typedef struct my_url {
    char *user, *pw, *host, *db, *socket;
    unsigned port;
    int sync_wait; /* wsrep_sync_wait=N, or -1 */
    char *mem;
} my_url;

static int hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Copy s[0..n) decoded to *out (advanced past its NUL); NULL when empty. */
static char *piece(char **out, const char *s, size_t n) {
    if (!n)
        return NULL;
    char *start = *out, *o = start;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else
            *o++ = s[i];
    }
    *o++ = '\0';
    *out = o;
    return start;
}

/* The options after '?', joined by '&': socket=path, and
 * wsrep_sync_wait=N (0..15: Galera's causal reads, my_connect). */
static int parse_options(m2m_db *db, const char *q, char **o, my_url *u) {
    while (*q) {
        const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
        if (strncmp(q, "socket=", 7) == 0 && end > q + 7)
            u->socket = piece(o, q + 7, (size_t)(end - q - 7));
        else if (strncmp(q, "wsrep_sync_wait=", 16) == 0) {
            char *e;
            long v = strtol(q + 16, &e, 10);
            if (e != end || e == q + 16 || v < 0 || v > 15)
                return m2m__set_error(db, M2M_INVALID,
                                      "a MariaDB URL's wsrep_sync_wait must be 0 to 15");
            u->sync_wait = (int)v;
        } else
            return m2m__set_error(db, M2M_INVALID,
                                  "a MariaDB URL takes the options socket=/path and "
                                  "wsrep_sync_wait=N, joined by '&'");
        q = amp ? amp + 1 : end;
    }
    return M2M_OK;
}

/* scheme://[user[:pw]@][host][:port][/db][?options]; 0 or M2M_INVALID
 * (the message never repeats the URL: it may hold a password). */
static int parse_url(m2m_db *db, const char *url, my_url *u) {
    memset(u, 0, sizeof *u);
    u->sync_wait = -1;
    const char *p = strstr(url, "://");
    if (!p)
        return m2m__set_error(db, M2M_INVALID, "a MariaDB URL needs '://'");
    p += 3;
    size_t len = strlen(p);
    if (!(u->mem = m2m__malloc(len + 8)))
        return m2m__set_error(db, M2M_NOMEM, "out of memory opening a MariaDB URL");
    char *o = u->mem;
    const char *q = strchr(p, '?');
    const char *end = q ? q : p + len;
    const char *at = NULL;
    for (const char *s = p; s < end && *s != '/'; s++)
        if (*s == '@')
            at = s;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        u->user = piece(&o, p, (size_t)((colon ? colon : at) - p));
        if (colon)
            u->pw = piece(&o, colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    const char *slash = NULL;
    for (const char *s = p; s < end && !slash; s++)
        if (*s == '/')
            slash = s;
    const char *hend = slash ? slash : end;
    const char *pc = NULL;
    for (const char *s = p; s < hend; s++)
        if (*s == ':')
            pc = s;
    u->host = piece(&o, p, (size_t)((pc ? pc : hend) - p));
    if (pc) {
        char *e;
        long port = strtol(pc + 1, &e, 10);
        if (e != hend || port <= 0 || port > 65535) {
            m2m__free(u->mem);
            return m2m__set_error(db, M2M_INVALID, "a MariaDB URL with a bad port");
        }
        u->port = (unsigned)port;
    }
    if (slash)
        u->db = piece(&o, slash + 1, (size_t)(end - slash - 1));
    if (q && parse_options(db, q + 1, &o, u)) {
        m2m__free(u->mem);
        return db->errcode;
    }
    return M2M_OK;
}

/* The client library's global state, set up once before any connection:
 * mysql_init() would otherwise do it, racing with other threads' first
 * connections. */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;
static void library_init(void) { library_rc = mysql_library_init(0, NULL, NULL); }

/* Connect and set the session up; NULL with the error set on db. An
 * UPDATE counts the rows it matches (CLIENT_FOUND_ROWS), as elsewhere. */
static MYSQL *my_connect(m2m_db *db, const char *url, const char *what) {
    my_url u;
    if (parse_url(db, url, &u))
        return NULL;
    pthread_once(&library_once, library_init);
    MYSQL *my = library_rc ? NULL : mysql_init(NULL);
    if (!my) {
        m2m__free(u.mem);
        m2m__set_error(db, M2M_NOMEM, "out of memory opening a MariaDB connection");
        return NULL;
    }
    unsigned timeout = 10;
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    char session[sizeof MY_SESSION + 24];
    snprintf(session, sizeof session, MY_SESSION, token_start());
    mysql_options(my, MYSQL_INIT_COMMAND, session);
    if (u.sync_wait >= 0) {
        /* Causal reads on Galera: before a statement of the kinds in the
         * mask (1: reads) the node waits until it has applied every
         * transaction the cluster committed before, so a read on any node
         * sees every write acknowledged earlier on any other. */
        char set[64];
        snprintf(set, sizeof set, "SET SESSION wsrep_sync_wait = %d", u.sync_wait);
        mysql_options(my, MYSQL_INIT_COMMAND, set);
    }
    if (!mysql_real_connect(my, u.host, u.user, u.pw, u.db, u.port, u.socket,
                            CLIENT_MULTI_STATEMENTS | CLIENT_FOUND_ROWS)) {
        m2m__set_error(db, M2M_CONNECTION, "cannot %s MariaDB: %s (error %u)", what,
                       mysql_error(my), mysql_errno(my));
        mysql_close(my);
        m2m__free(u.mem);
        return NULL;
    }
    m2m__free(u.mem);
    if (mysql_query(my, MY_LOCK_TABLE)) {
        m2m__set_error(db, M2M_ERROR, "cannot create m2m's lock table m2m_lock: %s",
                       mysql_error(my));
        mysql_close(my);
        return NULL;
    }
    return my;
}

int m2m__my_open(m2m_db *db, const char *url) {
    my_conn *c = m2m__calloc(1, sizeof *c);
    if (!c || !(c->url = m2m__strdup(url))) {
        m2m__free(c);
        return m2m__set_error(db, M2M_NOMEM,
                              "out of memory opening a MariaDB connection");
    }
    if (!(c->my = my_connect(db, url, "connect to"))) {
        m2m__free(c->url);
        m2m__free(c);
        return db->errcode;
    }
    c->gen = 1;
    db->conn = c;
    return M2M_OK;
}

void m2m__my_close(m2m_db *db) {
    my_conn *c = conn(db);
    if (!c)
        return;
    if (c->my)
        mysql_close(c->my);
    m2m__free(c->url);
    m2m__free(c);
    db->conn = NULL;
}

/* A fresh connection replaces the old one only once it is up. Statements
 * of the old one are closed lazily (m2m__my_execute, finalize). */
int m2m__my_reconnect(m2m_db *db) {
    my_conn *c = conn(db);
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a cursor is still open on this connection; free it first");
    MYSQL *my = my_connect(db, c->url, "reconnect to");
    if (!my)
        return db->errcode;
    if (c->my)
        mysql_close(c->my);
    c->my = my;
    c->gen++;
    c->txn = c->txn_lost = false; /* the server ended the old session's */
    return M2M_OK;
}
