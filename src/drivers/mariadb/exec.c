/* SPDX-License-Identifier: MIT */
/* The MariaDB driver's execution: the core's $n placeholders rewritten to
 * ?, statements prepared on first use (per connection), parameters bound,
 * batches run one statement per round trip, scripts. */
#include "drivers/mariadb/mariadb.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Statements sent as text: transaction control and DDL have no parameters
 * and no rows, and some of them cannot be prepared. */
static bool is_plain(const char *sql) {
    static const char *const words[] = {"START",     "BEGIN",   "COMMIT", "ROLLBACK",
                                        "SAVEPOINT", "RELEASE", "SET",    "CREATE",
                                        "DROP",      "ALTER",   "SIGNAL"};
    while (isspace((unsigned char)*sql))
        sql++;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if (strncasecmp(sql, words[i], n) == 0 && !isalnum((unsigned char)sql[n]) &&
            sql[n] != '_')
            return true;
    }
    return false;
}

/* Does sql start a transaction (-1), commit it (1), roll it back (2: not
 * ROLLBACK TO a savepoint) or neither (0)? */
static int txn_word(const char *sql) {
    if (strncasecmp(sql, "START", 5) == 0 || strncasecmp(sql, "BEGIN", 5) == 0)
        return -1;
    if (strncasecmp(sql, "COMMIT", 6) == 0)
        return 1;
    return strncasecmp(sql, "ROLLBACK", 8) == 0 && !strstr(sql, " TO ") ? 2 : 0;
}

/* Copy sql to s->text with each $n outside quotes and comments replaced by
 * ?, noting n - 1 in s->map: a parameter used twice is bound twice. */
static int rewrite(m2m__stmt *s, const char *sql) {
    size_t len = strlen(sql), cap = 0;
    s->text = m2m__malloc(len + 1);
    if (!s->text)
        return M2M_NOMEM;
    char *o = s->text;
    const char *p = sql;
    while (*p) {
        char c = *p;
        if (c == '\'' || c == '"' || c == '`') {
            const char *q = p + 1;
            while (*q && !(*q == c && q[1] != c)) {
                if (*q == c) /* doubled quote */
                    q++;
                q++;
            }
            if (*q)
                q++;
            memcpy(o, p, (size_t)(q - p));
            o += q - p;
            p = q;
        } else if (c == '-' && p[1] == '-') {
            const char *q = strchr(p, '\n');
            q = q ? q : p + strlen(p);
            memcpy(o, p, (size_t)(q - p));
            o += q - p;
            p = q;
        } else if (c == '/' && p[1] == '*') {
            const char *q = strstr(p + 2, "*/");
            q = q ? q + 2 : p + strlen(p);
            memcpy(o, p, (size_t)(q - p));
            o += q - p;
            p = q;
        } else if (c == '$' && p[1] >= '1' && p[1] <= '9') {
            long n = strtol(p + 1, (char **)&p, 10);
            if (n > 65535)
                return M2M_INVALID;
            if (m2m__grow((void **)&s->map, &cap, s->nmap + 1, sizeof *s->map))
                return M2M_NOMEM;
            s->map[s->nmap++] = (int)n - 1;
            *o++ = '?';
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return M2M_OK;
}

int m2m__my_prepare(m2m_db *db, const char *sql, m2m__stmt **out) {
    *out = NULL;
    m2m__stmt *s = m2m__calloc(1, sizeof *s);
    int rc = s && (s->sql = m2m__strdup(sql)) ? rewrite(s, sql) : M2M_NOMEM;
    if (rc) {
        if (s) {
            m2m__free(s->sql);
            m2m__free(s->text);
            m2m__free(s->map);
            m2m__free(s);
        }
        return rc == M2M_NOMEM
                   ? m2m__set_error(db, rc, "out of memory preparing a statement")
                   : m2m__set_error(db, rc, "a statement with too many parameters");
    }
    s->plain = s->nmap == 0 && is_plain(sql);
    db->stats.prepared++;
    *out = s;
    return M2M_OK;
}

void m2m__my_finalize(m2m_db *db, m2m__stmt *s) {
    (void)db;
    if (!s)
        return;
    if (s->st)
        mysql_stmt_close(s->st);
    m2m__free(s->sql);
    m2m__free(s->text);
    m2m__free(s->map);
    m2m__free(s);
}

/* An id array of more than m2m__ids_inline_max ids goes ahead of the
 * execution as long data (COM_STMT_SEND_LONG_DATA, which the server does
 * not answer), in pieces of about PIECE bytes: neither m2m nor the client
 * library then holds its whole JSON text, which a million ids make 7 MiB,
 * and the library's request twice that. Smaller arrays travel in the
 * request. */
enum { PIECE = 64 * 1024 };

static bool long_ids(const m2m_value *v) {
    return (int)v->type == M2M__TIDS &&
           ((const m2m__ids *)(const void *)v->s)->n > m2m__ids_inline_max;
}

/* Send what b holds as placeholder k's next piece of long data; b empties. */
static int send_piece(m2m_db *db, MYSQL_STMT *st, unsigned k, m2m__buf *b) {
    int rc = M2M_OK;
    if (b->oom)
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory sending an id array");
    else if (mysql_stmt_send_long_data(st, k, b->p, b->len))
        rc = m2m__my_fail(db, st);
    b->len = 0;
    return rc;
}

/* The JSON array of an id parameter into b: whole and NUL-terminated, or,
 * with st, sent as placeholder k's long data piece by piece. */
static int ids_json(m2m_db *db, m2m__buf *b, const m2m__ids *a, MYSQL_STMT *st,
                    unsigned k) {
    m2m__buf_addn(b, "[", 1);
    for (size_t i = 0; i < a->n; i++) {
        if (i)
            m2m__buf_addn(b, ",", 1);
        m2m__buf_json_value(b, m2m__ids_at(a, i));
        int rc = st && b->len >= PIECE ? send_piece(db, st, k, b) : M2M_OK;
        if (rc)
            return rc;
    }
    m2m__buf_addn(b, "]", st ? 1 : 2);
    return st ? send_piece(db, st, k, b) : M2M_OK;
}

/* Send placeholder k's array as long data. On an error the server may hold
 * part of it: the statement is reset, which drops that. */
static int send_long_ids(m2m_db *db, m2m__stmt *s, unsigned k, const m2m__ids *a) {
    m2m__buf b = {0};
    int rc = ids_json(db, &b, a, s->st, k);
    m2m__buf_free(&b);
    if (rc && rc != M2M_CONNECTION)
        mysql_stmt_reset(s->st);
    return rc;
}

/* The first text id longer than MY_TEXT_ID_MAX characters, or NULL. */
static const char *long_text_id(const m2m__ids *a) {
    for (size_t i = 0; i < a->n; i++) {
        m2m_value v = m2m__ids_at(a, i);
        if (v.type != M2M_TTEXT)
            continue;
        size_t chars = 0;
        for (const unsigned char *p = (const unsigned char *)v.s; *p; p++)
            chars += (*p & 0xc0) != 0x80;
        if (chars > MY_TEXT_ID_MAX)
            return v.s;
    }
    return NULL;
}

/* Prepare s on this connection (one round trip) unless it is. */
static int ensure_prepared(m2m_db *db, m2m__stmt *s) {
    my_conn *c = conn(db);
    if (s->st && s->gen == c->gen)
        return M2M_OK;
    if (s->st)
        mysql_stmt_close(s->st);
    s->st = mysql_stmt_init(c->my);
    if (!s->st)
        return m2m__set_error(db, M2M_NOMEM, "out of memory preparing a statement");
    my_bool yes = 1;
    mysql_stmt_attr_set(s->st, STMT_ATTR_UPDATE_MAX_LENGTH, &yes);
    db->stats.round_trips++;
    if (mysql_stmt_prepare(s->st, s->text, (unsigned long)strlen(s->text))) {
        int rc = m2m__my_fail(db, s->st);
        mysql_stmt_close(s->st);
        s->st = NULL;
        return rc;
    }
    s->gen = c->gen;
    return M2M_OK;
}

int m2m__my_execute(m2m_db *db, m2m__stmt *s, const m2m_value *p, size_t n) {
    my_conn *c = conn(db);
    for (size_t k = 0; k < s->nmap; k++)
        if ((size_t)s->map[k] >= n)
            return m2m__set_error(db, M2M_MISUSE,
                                  "the statement takes parameter $%d, %zu given",
                                  s->map[k] + 1, n);
    int ends = s->plain ? txn_word(s->text) : 0;
    if (c->txn_lost && ends != 2 && ends != -1)
        return m2m__set_error(db, M2M_BUSY,
                              "the server rolled back this transaction on a deadlock "
                              "(error 1213): roll it back and run it again");
    db->unsent = false;
    if (s->plain) {
        m2m__note_exec(db, s->sql);
        db->stats.round_trips++;
        /* Whatever COMMIT or ROLLBACK answers, no transaction is open
         * after it. */
        if (ends > 0)
            c->txn = c->txn_lost = false;
        if (mysql_real_query(c->my, s->text, (unsigned long)strlen(s->text)))
            return m2m__my_fail(db, NULL);
        if (ends < 0)
            c->txn = true;
        MYSQL_RES *res = mysql_store_result(c->my);
        if (res)
            mysql_free_result(res);
        return M2M_OK;
    }
    int rc = ensure_prepared(db, s);
    if (rc)
        return rc;
    MYSQL_BIND stackb[16];
    m2m__buf stackj[4];
    MYSQL_BIND *bind = s->nmap <= 16 ? stackb : m2m__calloc(s->nmap, sizeof *bind);
    m2m__buf *json = n <= 4 ? stackj : m2m__calloc(n, sizeof *json);
    if (!bind || !json) {
        if (bind != stackb)
            m2m__free(bind);
        if (json != stackj)
            m2m__free(json);
        return m2m__set_error(db, M2M_NOMEM, "out of memory binding %zu parameters", n);
    }
    memset(bind, 0, s->nmap * sizeof *bind);
    memset(json, 0, n * sizeof *json);
    for (size_t k = 0; k < s->nmap; k++) {
        const m2m_value *v = &p[s->map[k]];
        MYSQL_BIND *b = &bind[k];
        switch ((int)v->type) {
            case M2M_TINT:
                b->buffer_type = MYSQL_TYPE_LONGLONG;
                b->buffer = (void *)&v->i;
                break;
            case M2M_TREAL:
                b->buffer_type = MYSQL_TYPE_DOUBLE;
                b->buffer = (void *)&v->d;
                break;
            case M2M_TTEXT:
                b->buffer_type = MYSQL_TYPE_STRING;
                b->buffer = (void *)v->s;
                b->buffer_length = (unsigned long)strlen(v->s);
                break;
            case M2M__TIDS: {
                const m2m__ids *a = (const m2m__ids *)(const void *)v->s;
                const char *id = long_text_id(a);
                if (id && !rc)
                    rc =
                        m2m__set_error(db, M2M_INVALID,
                                       "text id '%.40s...' is longer than %d characters, "
                                       "the longest key MariaDB indexes",
                                       id, MY_TEXT_ID_MAX);
                b->buffer_type = MYSQL_TYPE_STRING;
                if (long_ids(v))
                    break; /* sent below, before the execution */
                m2m__buf *j = &json[s->map[k]];
                if (!j->p)
                    ids_json(db, j, a, NULL, 0);
                b->buffer = j->p;
                b->buffer_length = j->p ? (unsigned long)strlen(j->p) : 0;
                break;
            }
            default:
                b->buffer_type = MYSQL_TYPE_NULL;
        }
    }
    bool oom = false;
    for (size_t i = 0; i < n; i++)
        oom |= json[i].oom;
    if (!rc && oom)
        rc = m2m__set_error(db, M2M_NOMEM, "out of memory binding an id array");
    else if (!rc && s->nmap && mysql_stmt_bind_param(s->st, bind))
        rc = m2m__my_fail(db, s->st);
    for (size_t k = 0; k < s->nmap && !rc; k++)
        if (long_ids(&p[s->map[k]]))
            rc = send_long_ids(db, s, (unsigned)k,
                               (const m2m__ids *)(const void *)p[s->map[k]].s);
    if (!rc) {
        m2m__note_exec(db, s->sql);
        db->stats.round_trips++;
        if (mysql_stmt_execute(s->st))
            rc = m2m__my_fail(db, s->st);
    }
    for (size_t i = 0; i < n; i++)
        m2m__buf_free(&json[i]);
    if (bind != stackb)
        m2m__free(bind);
    if (json != stackj)
        m2m__free(json);
    return rc;
}

static bool is_commit(const m2m__stmt *s) {
    return s->plain && strncasecmp(s->text, "COMMIT", 6) == 0;
}

int m2m__my_run(m2m_db *db, m2m__step *steps, size_t n) {
    db->unsent = true;
    int rc = m2m__my_check_usable(db);
    for (size_t k = 0; k < n && !rc; k++) {
        m2m__step *sp = &steps[k];
        m2m__stmt *s = sp->stmt;
        rc = m2m__my_execute(db, s, sp->params, sp->nparams);
        /* Lost before the COMMIT was sent: nothing of this transaction
         * committed (the server rolls back a lost session's transaction).
         * Lost at the COMMIT: it may have. */
        if (rc == M2M_CONNECTION)
            db->lost_early = !is_commit(s);
        if (rc)
            break;
        if (s->plain || mysql_stmt_field_count(s->st) == 0) {
            sp->changes = s->plain ? 0 : (int64_t)mysql_stmt_affected_rows(s->st);
            continue;
        }
        m2m__cursor cur;
        rc = m2m__my_cursor_init(db, &cur, s->st, true);
        if (rc)
            break;
        int64_t rows = 0;
        while ((rc = m2m__my_cursor_next(&cur)) == M2M_ROW) {
            rows++;
            if (sp->on_row && (rc = sp->on_row(sp->arg, &cur)) != M2M_OK)
                break;
        }
        if (rc == M2M_DONE)
            rc = M2M_OK;
        sp->changes = rows;
        m2m__my_cursor_fini(&cur);
    }
    return rc;
}

int m2m__my_exec_script(m2m_db *db, const char *script) {
    int rc = m2m__my_check_usable(db);
    if (rc)
        return rc;
    MYSQL *my = conn(db)->my;
    m2m__note_exec(db, script);
    db->stats.round_trips++;
    if (mysql_real_query(my, script, (unsigned long)strlen(script)))
        return m2m__my_fail(db, NULL);
    for (;;) {
        MYSQL_RES *res = mysql_store_result(my);
        if (res)
            mysql_free_result(res);
        int next = mysql_next_result(my);
        if (next < 0)
            break;
        if (next > 0)
            return m2m__my_fail(db, NULL);
    }
    return M2M_OK;
}
