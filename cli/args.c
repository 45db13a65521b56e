/* SPDX-License-Identifier: MIT */
/* Operand parsing for the m2m tool: ids, pivot data, filters, orderings. */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *strip(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Type s in place: quotes are removed here, so conf_value never allocates. */
static m2m_value typed(char *s) {
    size_t n = strlen(s);
    m2m_value v;
    char *buf = NULL;
    if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) {
        s[n - 1] = '\0';
        return M2M_TEXT(s + 1);
    }
    conf_value(s, &v, &buf);
    free(buf);
    return v;
}

/* Next separator sep in s outside quotes, or NULL. */
static char *find_sep(char *s, char sep) {
    char q = 0;
    for (; *s; s++) {
        if (q) {
            if (*s == q)
                q = 0;
        } else if (*s == '\'' || *s == '"') {
            q = *s;
        } else if (*s == sep) {
            return s;
        }
    }
    return NULL;
}

int args_id(const char *s, bool text, m2m_value *out, char *err) {
    if (!*s)
        return conf_fail(err, "empty id");
    if (text) {
        size_t n = strlen(s), badat = conf_text_bad(s, n);
        if (badat < n)
            return conf_fail(err,
                             "byte 0x%02x at column %zu of id '%s': ids must be UTF-8 "
                             "text without control characters",
                             (unsigned char)s[badat], badat + 1, s);
        *out = M2M_TEXT(s);
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || isspace((unsigned char)*s))
        return conf_fail(
            err, "bad id '%s': ids are integers (use --text-ids for text keys)", s);
    *out = M2M_INT(v);
    return 0;
}

int args_cols(char *s, m2m_col **cols, size_t *n, char *err) {
    size_t cap = 0;
    *cols = NULL;
    *n = 0;
    for (char *p = s;;) {
        char *comma = find_sep(p, ',');
        if (comma)
            *comma = '\0';
        char *item = strip(p);
        char *eq = strchr(item, '=');
        if (!eq || eq == item) {
            conf_fail(err, "bad pivot data '%s': write col=value", item);
            goto bad;
        }
        *eq = '\0';
        char *name = strip(item);
        if (!conf_ident_ok(name, false)) {
            conf_fail(err, "bad column name '%s': use letters, digits and _", name);
            goto bad;
        }
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            m2m_col *g = realloc(*cols, nc * sizeof *g);
            if (!g) {
                conf_fail(err, "out of memory");
                goto bad;
            }
            *cols = g;
            cap = nc;
        }
        (*cols)[(*n)++] = (m2m_col){name, typed(strip(eq + 1))};
        if (!comma)
            return 0;
        p = comma + 1;
    }
bad:
    free(*cols);
    *cols = NULL;
    *n = 0;
    return -1;
}

static int keep_str(args_items *l, char *s) {
    if (l->nstrs == l->capstrs) {
        size_t nc = l->capstrs ? l->capstrs * 2 : 16;
        char **g = realloc(l->strs, nc * sizeof *g);
        if (!g)
            return -1;
        l->strs = g;
        l->capstrs = nc;
    }
    l->strs[l->nstrs++] = s;
    return 0;
}

/* The items, made from the ids so far when the first id with data comes. */
static int make_items(args_items *l) {
    m2m_item *g = malloc((l->cap ? l->cap : 1) * sizeof *g);
    if (!g)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        g[i] = (m2m_item){.id = l->ids[i]};
    l->items = g;
    return 0;
}

static int push(args_items *l, m2m_item it, char *err) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        m2m_value *g = realloc(l->ids, nc * sizeof *g);
        if (!g)
            return conf_fail(err, "out of memory");
        l->ids = g;
        if (l->items) {
            m2m_item *gi = realloc(l->items, nc * sizeof *gi);
            if (!gi)
                return conf_fail(err, "out of memory");
            l->items = gi;
        }
        l->cap = nc;
    }
    if (it.npivot && !l->items && make_items(l))
        return conf_fail(err, "out of memory");
    l->ids[l->n] = it.id;
    if (l->items)
        l->items[l->n] = it;
    l->n++;
    return 0;
}

int args_add(args_items *l, const char *arg, bool text, bool data, char *err) {
    size_t len = strlen(arg);
    /* An integer id without data borrows nothing: no copy of its text is
     * kept (a million ids from stdin are 16 bytes each). */
    if (!text && !(data && strchr(arg, ':'))) {
        m2m_item it = {0};
        if (conf_text_bad(arg, len) == len && args_id(arg, false, &it.id, err) == 0)
            return push(l, it, err);
    }
    size_t badat = conf_text_bad(arg, len);
    if (badat < len)
        return conf_fail(err,
                         "byte 0x%02x at column %zu of '%s': ids and pivot data must be "
                         "UTF-8 text without control characters",
                         (unsigned char)arg[badat], badat + 1, arg);
    char *s = malloc(len + 1);
    if (!s || keep_str(l, s)) {
        free(s);
        return conf_fail(err, "out of memory");
    }
    memcpy(s, arg, len + 1);
    char *colon = data ? strchr(s, ':') : NULL;
    m2m_item it = {0};
    if (colon)
        *colon = '\0';
    if (args_id(s, text, &it.id, err))
        return -1;
    if (colon) {
        m2m_col *cols;
        if (args_cols(colon + 1, &cols, &it.npivot, err))
            return -1;
        /* The cols array is kept with the strings so one list frees both. */
        if (keep_str(l, (char *)cols)) {
            free(cols);
            return conf_fail(err, "out of memory");
        }
        it.pivot = cols;
    }
    return push(l, it, err);
}

int args_read(args_items *l, FILE *f, bool text, bool data, char *err) {
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int rc = 0;
    errno = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        /* The line would end at the NUL: refuse it rather than cut the id. */
        const char *nul = memchr(line, '\0', (size_t)got);
        if (nul) {
            rc = conf_fail(err, "stdin line %zu: a NUL byte at column %zu", lineno,
                           (size_t)(nul - line) + 1);
            break;
        }
        char *s = strip(line);
        if (!*s)
            continue;
        if (args_add(l, s, text, data, err)) {
            char why[CONF_ERRLEN];
            memcpy(why, err, CONF_ERRLEN);
            rc = conf_fail(err, "stdin line %zu: %s", lineno, why);
            break;
        }
    }
    if (!rc && (ferror(f) || errno == ENOMEM))
        rc = conf_fail(err, "cannot read ids from stdin");
    free(line);
    return rc;
}

void args_items_free(args_items *l) {
    for (size_t i = 0; i < l->nstrs; i++)
        free(l->strs[i]);
    free(l->strs);
    free(l->ids);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void args_filter_free(args_filter *f) {
    free(f->vals);
    free(f->mem);
    memset(f, 0, sizeof *f);
}

/* Read one word of letters at *p (lower-cased into w), advancing *p. */
static void word(char **p, char *w, size_t cap) {
    size_t n = 0;
    while (isspace((unsigned char)**p))
        (*p)++;
    while (isalpha((unsigned char)**p) && n + 1 < cap)
        w[n++] = (char)tolower((unsigned char)*(*p)++);
    w[n] = '\0';
}

static int add_val(args_filter *f, char *s, char *err) {
    m2m_value *g = realloc(f->vals, (f->nvals + 1) * sizeof *g);
    if (!g)
        return conf_fail(err, "out of memory");
    f->vals = g;
    s = strip(s);
    if (!*s)
        return conf_fail(err, "missing value in condition");
    f->vals[f->nvals++] = typed(s);
    return 0;
}

/* Split s at " and " (any case, outside quotes). */
static char *find_and(char *s) {
    char q = 0;
    for (char *p = s; *p; p++) {
        if (q) {
            if (*p == q)
                q = 0;
        } else if (*p == '\'' || *p == '"') {
            q = *p;
        } else if (p > s && isspace((unsigned char)p[-1]) && !strncasecmp(p, "and", 3) &&
                   isspace((unsigned char)p[3])) {
            return p;
        }
    }
    return NULL;
}

static int parse_filter(args_filter *f, char *err) {
    char *p = strip(f->mem), w[16];
    char *c = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    size_t cl = (size_t)(p - c);
    if (cl >= sizeof f->col)
        return conf_fail(err, "column name too long in condition");
    memcpy(f->col, c, cl);
    f->col[cl] = '\0';
    if (!conf_ident_ok(f->col, false))
        return conf_fail(err,
                         "condition must start with a column name: write 'col op value'");
    while (isspace((unsigned char)*p))
        p++;
    static const char *const sym[] = {"!=", "<>", "<=", ">=", "=", "<", ">"};
    for (size_t i = 0; i < sizeof sym / sizeof sym[0]; i++) {
        size_t n = strlen(sym[i]);
        if (!strncmp(p, sym[i], n)) {
            strcpy(f->op, sym[i]);
            return add_val(f, p + n, err);
        }
    }
    word(&p, w, sizeof w);
    f->kind = FILT_CMP;
    if (!strcmp(w, "like")) {
        strcpy(f->op, "like");
        return add_val(f, p, err);
    }
    if (!strcmp(w, "not")) {
        word(&p, w, sizeof w);
        if (!strcmp(w, "like")) {
            strcpy(f->op, "not like");
            return add_val(f, p, err);
        }
        if (!strcmp(w, "between")) {
            f->kind = FILT_NOTBETWEEN;
            goto between;
        }
        if (strcmp(w, "in"))
            goto badop;
        f->kind = FILT_NOTIN;
    } else if (!strcmp(w, "in")) {
        f->kind = FILT_IN;
    } else if (!strcmp(w, "is")) {
        word(&p, w, sizeof w);
        f->kind = FILT_NULL;
        if (!strcmp(w, "not")) {
            f->kind = FILT_NOTNULL;
            word(&p, w, sizeof w);
        }
        if (strcmp(w, "null") || *strip(p))
            goto badop;
        return 0;
    } else if (!strcmp(w, "between")) {
        f->kind = FILT_BETWEEN;
    between:;
        char *and = find_and(p);
        if (!and)
            return conf_fail(err, "write 'col between LOW and HIGH'");
        and[-1] = '\0';
        return add_val(f, p, err) || add_val(f, and+3, err) ? -1 : 0;
    } else {
        goto badop;
    }
    /* in / not in: "a,b,c" or "(a, b, c)" */
    p = strip(p);
    size_t n = strlen(p);
    if (n >= 2 && p[0] == '(' && p[n - 1] == ')') {
        p[n - 1] = '\0';
        p++;
    }
    for (;;) {
        char *comma = find_sep(p, ',');
        if (comma)
            *comma = '\0';
        if (add_val(f, p, err))
            return -1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
badop:
    return conf_fail(
        err, "unknown operator in condition: use = != <> < <= > >= like, not like, "
             "is [not] null, [not] in, [not] between");
}

int args_filter_parse(const char *expr, bool pivot, args_filter *f, char *err) {
    memset(f, 0, sizeof *f);
    f->pivot = pivot;
    size_t n = strlen(expr);
    if (!(f->mem = malloc(n + 1)))
        return conf_fail(err, "out of memory");
    memcpy(f->mem, expr, n + 1);
    if (parse_filter(f, err))
        goto bad;
    return 0;
bad:
    args_filter_free(f);
    return -1;
}

int args_order(char *s, const char **col, int *dir, char *err) {
    char *colon = strchr(s, ':');
    *dir = M2M_ASC;
    if (colon) {
        *colon = '\0';
        if (!strcasecmp(colon + 1, "desc"))
            *dir = M2M_DESC;
        else if (strcasecmp(colon + 1, "asc"))
            return conf_fail(err, "bad order '%s': write col, col:asc or col:desc", s);
    }
    if (!conf_ident_ok(s, false))
        return conf_fail(err, "bad order column '%s'", s);
    *col = s;
    return 0;
}

int args_count(const char *s, int64_t *out, const char *what, char *err) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < 0 || !isdigit((unsigned char)*s))
        return conf_fail(err, "%s must be a non-negative integer, got '%s'", what, s);
    *out = v;
    return 0;
}
