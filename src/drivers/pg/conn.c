/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver's connection: open, close, reconnect, and the
 * mapping of its errors (SQLSTATE) onto m2m codes. */
#include "drivers/pg/pg.h"

#include <string.h>

/* libpq prints NOTICEs to stderr by default; a library must stay quiet. */
static void pg_quiet(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

static int pg_map(const char *st, bool conn_bad) {
    if (conn_bad)
        return M2M_CONNECTION;
    if (!st)
        return M2M_ERROR;
    /* 08P01 on a live connection is a parameter count the statement does
     * not take: the caller's mistake, as SQLite's driver reports it. */
    if (strcmp(st, "08P01") == 0)
        return M2M_MISUSE;
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P0", 4) == 0)
        return M2M_CONNECTION;
    static const struct {
        const char *state;
        int rc;
    } map[] = {
        {"23505", M2M_EXISTS},     {"23503", M2M_CONSTRAINT}, {"23502", M2M_CONSTRAINT},
        {"23514", M2M_CONSTRAINT}, {"23P01", M2M_CONSTRAINT}, {"42501", M2M_DENIED},
        {"40001", M2M_BUSY},       {"40P01", M2M_BUSY},       {"55P03", M2M_BUSY},
        {"57014", M2M_TIMEOUT},    {"42P01", M2M_NOTFOUND},   {"42703", M2M_NOTFOUND},
        {"53200", M2M_NOMEM},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(st, map[i].state) == 0)
            return map[i].rc;
    return strncmp(st, "22", 2) == 0 ? M2M_TYPE : M2M_ERROR;
}

static void add_trimmed(m2m__buf *b, const char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    m2m__buf_addn(b, s, n);
}

/* Record the error of res (or of the connection when res has none): mapped
 * code, the server's message, detail and the table/column/constraint named. */
int m2m__pg_fail(m2m_db *db, const PGresult *res) {
    PGconn *pg = conn(db)->pg;
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int rc = pg_map(st, PQstatus(pg) == CONNECTION_BAD);
    /* A lost connection the server itself reported (57P01 ...) ended the
     * batch at that statement, before its commit; libpq's own "server
     * closed the connection" carries no SQLSTATE and proves nothing. */
    if (rc == M2M_CONNECTION && st)
        db->lost_early = true;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg && res)
        msg = PQresultErrorMessage(res);
    if (!msg || !*msg)
        msg = PQerrorMessage(pg);
    if (!*msg)
        msg = "no response from the server";
    m2m__buf b = {0};
    if (rc == M2M_CONNECTION)
        m2m__buf_add(&b, "connection to the PostgreSQL server lost: ");
    add_trimmed(&b, msg);
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (detail)
        m2m__buf_addf(&b, " (%s)", detail);
    static const struct {
        int field;
        const char *label;
    } names[] = {{PG_DIAG_TABLE_NAME, "table"},
                 {PG_DIAG_COLUMN_NAME, "column"},
                 {PG_DIAG_CONSTRAINT_NAME, "constraint"}};
    int shown = 0;
    for (size_t i = 0; res && i < sizeof names / sizeof names[0]; i++) {
        const char *v = PQresultErrorField(res, names[i].field);
        if (v)
            m2m__buf_addf(&b, "%s%s \"%s\"", shown++ ? ", " : " [", names[i].label, v);
    }
    if (shown)
        m2m__buf_add(&b, "]");
    if (st)
        m2m__buf_addf(&b, " (SQLSTATE %s)", st);
    if (rc == M2M_CONNECTION)
        m2m__buf_add(&b, "; call m2m_reconnect()");
    char *text = m2m__buf_take(&b);
    rc = m2m__set_error(db, rc, "%s", text ? text : msg);
    m2m__free(text);
    return rc;
}

int m2m__pg_check_usable(m2m_db *db) {
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a cursor is still open on this connection; free it "
                              "(m2m_rows_free) before the next call");
    db->lost_early = true; /* if lost now, nothing was sent */
    if (PQstatus(conn(db)->pg) != CONNECTION_OK)
        return m2m__set_error(db, M2M_CONNECTION,
                              "the connection to the PostgreSQL server is lost; call "
                              "m2m_reconnect()");
    return M2M_OK;
}

/* Connect with client_encoding forced to UTF8 in the startup packet, so no
 * extra round trip is spent on SET and the URL cannot override it. */
static PGconn *pg_connect(const char *url) {
    const char *const keys[] = {"dbname", "client_encoding", NULL};
    const char *const vals[] = {url, "UTF8", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (pg)
        PQsetNoticeProcessor(pg, pg_quiet, NULL);
    return pg;
}

int m2m__pg_open(m2m_db *db, const char *url) {
    int rc = M2M_OK;
    pg_conn *c = m2m__calloc(1, sizeof *c);
    if (!c || !(c->url = m2m__strdup(url))) {
        rc = m2m__set_error(db, M2M_NOMEM,
                            "out of memory opening a PostgreSQL connection");
        goto exit;
    }
    c->pg = pg_connect(url);
    if (!c->pg) {
        rc = m2m__set_error(db, M2M_NOMEM,
                            "out of memory opening a PostgreSQL connection");
        goto exit;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        m2m__buf b = {0};
        add_trimmed(&b, PQerrorMessage(c->pg));
        char *msg = m2m__buf_take(&b);
        rc = m2m__set_error(db, M2M_CONNECTION, "cannot connect to PostgreSQL: %s",
                            msg ? msg : "connection failed");
        m2m__free(msg);
        goto exit;
    }
    c->gen = 1;
    db->conn = c;
    return M2M_OK;
exit:
    if (c) {
        PQfinish(c->pg);
        m2m__free(c->url);
        m2m__free(c);
    }
    return rc;
}

void m2m__pg_close(m2m_db *db) {
    pg_conn *c = conn(db);
    if (!c)
        return;
    PQfinish(c->pg);
    m2m__free(c->url);
    m2m__free(c->dead);
    m2m__free(c->pv);
    m2m__free(c->num);
    m2m__buf_free(&c->arrays);
    m2m__free(c);
    db->conn = NULL;
}

/* A fresh connection replaces the old one only once it is up, so a failed
 * reconnect can simply be retried. */
int m2m__pg_reconnect(m2m_db *db) {
    pg_conn *c = conn(db);
    if (db->cursor_busy)
        return m2m__set_error(db, M2M_MISUSE,
                              "a cursor is still open on this connection; free it first");
    PGconn *pg = pg_connect(c->url);
    if (!pg)
        return m2m__set_error(db, M2M_NOMEM, "out of memory reconnecting");
    if (PQstatus(pg) != CONNECTION_OK) {
        m2m__buf b = {0};
        add_trimmed(&b, PQerrorMessage(pg));
        char *msg = m2m__buf_take(&b);
        int rc = m2m__set_error(db, M2M_CONNECTION, "cannot reconnect to PostgreSQL: %s",
                                msg ? msg : "connection failed");
        m2m__free(msg);
        PQfinish(pg);
        return rc;
    }
    PQfinish(c->pg);
    c->pg = pg;
    c->gen++;
    c->ndead = 0; /* they died with the old connection */
    return M2M_OK;
}
