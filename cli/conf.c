/* SPDX-License-Identifier: MIT */
/* Relation specs: the config-file parser and the key setter shared with the
 * command line. Everything here is pure libc so the fuzz target can link it. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int conf_fail(char *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, CONF_ERRLEN, fmt, ap);
    va_end(ap);
    return -1;
}

static char *dupn(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static char *dup(const char *s) { return s ? dupn(s, strlen(s)) : NULL; }

/* Replace *slot with a copy of s; the old value is freed only on success. */
static int set_str(char **slot, const char *s, size_t n, char *err) {
    char *p = dupn(s, n);
    if (!p)
        return conf_fail(err, "out of memory");
    free(*slot);
    *slot = p;
    return 0;
}

static void trim(const char **s, size_t *n) {
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

size_t conf_utf8_len(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t len;
    uint32_t cp, min;
    if (!n)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, cp = s[0] & 0x1F, min = 0x80;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3, cp = s[0] & 0x0F, min = 0x800;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, cp = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

size_t conf_text_bad(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7F)
                return i;
            i++;
            continue;
        }
        size_t len = conf_utf8_len(s + i, n - i);
        /* C1 controls (U+0080..U+009F) act as terminal escapes too. */
        if (!len || (c == 0xC2 && (unsigned char)s[i + 1] < 0xA0))
            return i;
        i += len;
    }
    return n;
}

bool conf_ident_ok(const char *s, bool allow_schema) {
    size_t len = 0;
    bool dot = false;
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++, len++) {
        unsigned char c = (unsigned char)*p;
        bool first = p == s || p[-1] == '.';
        if (c == '.') {
            if (!allow_schema || dot || first || !p[1])
                return false;
            dot = true;
            len = 0;
            continue;
        }
        if (!(isalpha(c) || c == '_' || (!first && isdigit(c))) || c >= 0x80)
            return false;
        if (len >= 63)
            return false;
    }
    return true;
}

int conf_value(const char *raw, m2m_value *out, char **buf) {
    size_t n = strlen(raw);
    *buf = NULL;
    if (n >= 2 && (raw[0] == '\'' || raw[0] == '"') && raw[n - 1] == raw[0]) {
        if (!(*buf = dupn(raw + 1, n - 2)))
            return -1;
        *out = M2M_TEXT(*buf);
        return 0;
    }
    if (!strcmp(raw, "NULL") || !strcmp(raw, "null")) {
        *out = M2M_NULL;
        return 0;
    }
    if (n && n < 40 &&
        (isdigit((unsigned char)raw[0]) || raw[0] == '-' || raw[0] == '+')) {
        char *end;
        errno = 0;
        long long i = strtoll(raw, &end, 10);
        if (!*end && errno == 0 && end != raw) {
            *out = M2M_INT(i);
            return 0;
        }
        errno = 0;
        double d = strtod(raw, &end);
        /* Only plain decimals: "1e5", "inf" and "0x10" stay text. */
        if (!*end && errno == 0 && end != raw && !strpbrk(raw, "eExXiInN")) {
            *out = M2M_REAL(d);
            return 0;
        }
    }
    *out = M2M_TEXT(raw);
    return 0;
}

/* Append the comma-separated names in v to a list. */
static int add_names(char ***list, size_t *n, const char *v, char *err) {
    const char *p = v;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        const char *s = p;
        trim(&s, &len);
        if (len) {
            char *name = dupn(s, len);
            char **grown = name ? realloc(*list, (*n + 1) * sizeof **list) : NULL;
            if (!grown) {
                free(name);
                return conf_fail(err, "out of memory");
            }
            *list = grown;
            (*list)[(*n)++] = name;
            if (!conf_ident_ok(name, false))
                return conf_fail(err, "invalid column name '%s'", name);
        }
        if (!c)
            return 0;
        p = c + 1;
    }
}

/* Append col=value pairs (comma-separated) to the scope. */
static int add_scope(conf_spec *s, const char *v, char *err) {
    const char *p = v;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        const char *item = p;
        trim(&item, &len);
        if (len) {
            const char *eq = memchr(item, '=', len);
            if (!eq)
                return conf_fail(err, "scope needs col=value, got '%.*s'", (int)len,
                                 item);
            size_t kl = (size_t)(eq - item), vl = len - kl - 1;
            const char *k = item, *val = eq + 1;
            trim(&k, &kl);
            trim(&val, &vl);
            char *kc = dupn(k, kl), *vc = dupn(val, vl);
            char **nc = NULL, **nv = NULL;
            if (kc && vc)
                nc = realloc(s->scope_cols, (s->nscope + 1) * sizeof *nc);
            if (nc) {
                s->scope_cols = nc;
                nv = realloc(s->scope_vals, (s->nscope + 1) * sizeof *nv);
            }
            if (!nv) {
                free(kc);
                free(vc);
                return conf_fail(err, "out of memory");
            }
            s->scope_vals = nv;
            s->scope_cols[s->nscope] = kc;
            s->scope_vals[s->nscope++] = vc;
            if (!conf_ident_ok(kc, false))
                return conf_fail(err, "invalid scope column '%s'", kc);
        }
        if (!c)
            return 0;
        p = c + 1;
    }
}

static int parse_bool(const char *v, int *out, const char *key, char *err) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(v, yes[i]))
            return *out = 1, 0;
        if (!strcmp(v, no[i]))
            return *out = 0, 0;
    }
    return conf_fail(err, "%s must be true or false, got '%s'", key, v);
}

static int parse_type(const char *v, bool *text, const char *key, char *err) {
    if (!strcmp(v, "int") || !strcmp(v, "integer"))
        return *text = false, 0;
    if (!strcmp(v, "text"))
        return *text = true, 0;
    return conf_fail(err, "%s must be int or text, got '%s'", key, v);
}

/* "table" or "table:key" into two slots. */
static int set_table(char **table, char **key, const char *v, char *err) {
    const char *colon = strchr(v, ':');
    if (!colon)
        return set_str(table, v, strlen(v), err);
    if (set_str(table, v, (size_t)(colon - v), err) ||
        set_str(key, colon + 1, strlen(colon + 1), err))
        return -1;
    return 0;
}

int conf_spec_set(conf_spec *s, const char *key, const char *v, char *err) {
    if (!strcmp(key, "pivot"))
        return set_str(&s->pivot, v, strlen(v), err);
    if (!strcmp(key, "parent"))
        return set_table(&s->parent, &s->parent_key, v, err);
    if (!strcmp(key, "related"))
        return set_table(&s->related, &s->related_key, v, err);
    if (!strcmp(key, "parent_key"))
        return set_str(&s->parent_key, v, strlen(v), err);
    if (!strcmp(key, "related_key"))
        return set_str(&s->related_key, v, strlen(v), err);
    if (!strcmp(key, "foreign_pivot_key"))
        return set_str(&s->fk, v, strlen(v), err);
    if (!strcmp(key, "related_pivot_key"))
        return set_str(&s->rk, v, strlen(v), err);
    if (!strcmp(key, "pivot_columns"))
        return add_names(&s->pivot_cols, &s->npivot_cols, v, err);
    if (!strcmp(key, "timestamps"))
        return parse_bool(v, &s->timestamps, key, err);
    if (!strcmp(key, "pivot_id"))
        return set_str(&s->pivot_id, v, strlen(v), err);
    if (!strcmp(key, "owner"))
        return set_str(&s->owner, v, strlen(v), err);
    if (!strcmp(key, "owner_read_all"))
        return parse_bool(v, &s->owner_read_all, key, err);
    if (!strcmp(key, "scope"))
        return add_scope(s, v, err);
    if (!strcmp(key, "key_type")) {
        if (parse_type(v, &s->parent_text, key, err))
            return -1;
        s->related_text = s->parent_text;
        return 0;
    }
    if (!strcmp(key, "parent_key_type"))
        return parse_type(v, &s->parent_text, key, err);
    if (!strcmp(key, "related_key_type"))
        return parse_type(v, &s->related_text, key, err);
    return conf_fail(err, "unknown key '%s'", key);
}

int conf_spec_check(const conf_spec *s, char *err) {
    const struct {
        const char *what, *val;
        bool schema, required;
    } f[] = {
        {"pivot table", s->pivot, true, true},
        {"parent table", s->parent, true, true},
        {"related table", s->related, true, true},
        {"foreign pivot key", s->fk, false, true},
        {"related pivot key", s->rk, false, true},
        {"parent key", s->parent_key, false, false},
        {"related key", s->related_key, false, false},
        {"pivot id column", s->pivot_id, false, false},
        {"owner column", s->owner, false, false},
    };
    const char *hint =
        s->name ? "set it in the config section" : "give it on the command line";
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!f[i].val) {
            if (f[i].required)
                return conf_fail(err, "relation%s%s has no %s: %s", s->name ? " " : "",
                                 s->name ? s->name : "", f[i].what, hint);
            continue;
        }
        if (!conf_ident_ok(f[i].val, f[i].schema))
            return conf_fail(err, "invalid %s '%s' (use letters, digits and _)",
                             f[i].what, f[i].val);
    }
    for (size_t i = 0; i < s->npivot_cols; i++)
        if (!conf_ident_ok(s->pivot_cols[i], false))
            return conf_fail(err, "invalid pivot column '%s'", s->pivot_cols[i]);
    for (size_t i = 0; i < s->nscope; i++)
        if (!conf_ident_ok(s->scope_cols[i], false))
            return conf_fail(err, "invalid scope column '%s'", s->scope_cols[i]);
    return 0;
}

void conf_spec_free(conf_spec *s) {
    if (!s)
        return;
    char **strs[] = {&s->name,        &s->pivot, &s->parent, &s->parent_key, &s->related,
                     &s->related_key, &s->fk,    &s->rk,     &s->pivot_id,   &s->owner};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    for (size_t i = 0; i < s->npivot_cols; i++)
        free(s->pivot_cols[i]);
    for (size_t i = 0; i < s->nscope; i++) {
        free(s->scope_cols[i]);
        free(s->scope_vals[i]);
    }
    free(s->pivot_cols);
    free(s->scope_cols);
    free(s->scope_vals);
    memset(s, 0, sizeof *s);
}

void conf_free(conf_file *cf) {
    if (!cf)
        return;
    for (size_t i = 0; i < cf->nspecs; i++)
        conf_spec_free(&cf->specs[i]);
    free(cf->specs);
    free(cf->db);
    memset(cf, 0, sizeof *cf);
}

conf_spec *conf_find(conf_file *cf, const char *name) {
    for (size_t i = 0; i < cf->nspecs; i++)
        if (!strcmp(cf->specs[i].name, name))
            return &cf->specs[i];
    return NULL;
}

static int append_list(char ***list, size_t *n, char *const *src, size_t ns) {
    if (!ns)
        return 0;
    char **g = realloc(*list, (*n + ns) * sizeof *g);
    if (!g)
        return -1;
    *list = g;
    for (size_t i = 0; i < ns; i++) {
        if (!(g[*n] = dup(src[i])))
            return -1;
        (*n)++;
    }
    return 0;
}

int conf_spec_merge(conf_spec *d, const conf_spec *s) {
    char **dst[] = {&d->pivot, &d->parent, &d->parent_key, &d->related, &d->related_key,
                    &d->fk,    &d->rk,     &d->pivot_id,   &d->owner};
    const char *src[] = {s->pivot, s->parent, s->parent_key, s->related, s->related_key,
                         s->fk,    s->rk,     s->pivot_id,   s->owner};
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) {
        char *c;
        if (!src[i])
            continue;
        if (!(c = dup(src[i])))
            return -1;
        free(*dst[i]);
        *dst[i] = c;
    }
    d->timestamps |= s->timestamps;
    d->owner_read_all |= s->owner_read_all;
    d->parent_text |= s->parent_text;
    d->related_text |= s->related_text;
    if (append_list(&d->pivot_cols, &d->npivot_cols, s->pivot_cols, s->npivot_cols))
        return -1;
    /* Scope pairs are appended pairwise so the two lists stay the same length. */
    for (size_t i = 0; i < s->nscope; i++) {
        size_t nc = d->nscope, nv = d->nscope;
        if (append_list(&d->scope_cols, &nc, &s->scope_cols[i], 1))
            return -1;
        if (append_list(&d->scope_vals, &nv, &s->scope_vals[i], 1)) {
            free(d->scope_cols[d->nscope]);
            return -1;
        }
        d->nscope++;
    }
    return 0;
}

void conf_def_free(conf_def *d) {
    if (d->bufs)
        for (size_t i = 0; i < d->def.nscope; i++)
            free(d->bufs[i]);
    free(d->bufs);
    free(d->scope);
    free(d->cols);
    memset(d, 0, sizeof *d);
}

int conf_def_make(const conf_spec *s, conf_def *d) {
    m2m_relation_def *def = &d->def;
    memset(d, 0, sizeof *d);
    def->parent_table = s->parent;
    def->parent_key = s->parent_key;
    def->related_table = s->related;
    def->related_key = s->related_key;
    def->pivot_table = s->pivot;
    def->foreign_pivot_key = s->fk;
    def->related_pivot_key = s->rk;
    def->parent_key_type = s->parent_text ? M2M_TTEXT : M2M_TINT;
    def->related_key_type = s->related_text ? M2M_TTEXT : M2M_TINT;
    def->timestamps = s->timestamps;
    def->pivot_id = s->pivot_id;
    def->owner_column = s->owner;
    def->owner_read_all = s->owner_read_all;
    if (s->npivot_cols) {
        if (!(d->cols = calloc(s->npivot_cols + 1, sizeof *d->cols)))
            goto oom;
        for (size_t i = 0; i < s->npivot_cols; i++)
            d->cols[i] = s->pivot_cols[i];
        def->pivot_columns = d->cols;
    }
    if (s->nscope) {
        d->scope = calloc(s->nscope, sizeof *d->scope);
        d->bufs = calloc(s->nscope, sizeof *d->bufs);
        if (!d->scope || !d->bufs)
            goto oom;
        def->scope = d->scope;
        def->nscope = s->nscope;
        for (size_t i = 0; i < s->nscope; i++) {
            d->scope[i].name = s->scope_cols[i];
            if (conf_value(s->scope_vals[i], &d->scope[i].value, &d->bufs[i]))
                goto oom;
        }
    }
    return 0;
oom:
    conf_def_free(d);
    return -1;
}

/* Fields of a section that a key sets, for finding a key given twice. The
 * list keys (pivot_columns, scope) set none: they may repeat. */
enum {
    F_PIVOT,
    F_PARENT,
    F_PKEY,
    F_RELATED,
    F_RKEY,
    F_FK,
    F_RK,
    F_TS,
    F_PID,
    F_OWNER,
    F_ORA,
    F_PTYPE,
    F_RTYPE,
    F_DB,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {"pivot table",       "parent table",
                                                 "parent key",        "related table",
                                                 "related key",       "foreign pivot key",
                                                 "related pivot key", "timestamps",
                                                 "pivot id",          "owner column",
                                                 "owner_read_all",    "parent key type",
                                                 "related key type",  "db"};

/* The fields key sets: a bit mask (0 for list and unknown keys). */
static unsigned key_fields(const char *key, const char *val) {
    static const struct {
        const char *key;
        unsigned fields;
    } t[] = {
        {"pivot", 1u << F_PIVOT},
        {"parent_key", 1u << F_PKEY},
        {"related_key", 1u << F_RKEY},
        {"foreign_pivot_key", 1u << F_FK},
        {"related_pivot_key", 1u << F_RK},
        {"timestamps", 1u << F_TS},
        {"pivot_id", 1u << F_PID},
        {"owner", 1u << F_OWNER},
        {"owner_read_all", 1u << F_ORA},
        {"key_type", 1u << F_PTYPE | 1u << F_RTYPE},
        {"parent_key_type", 1u << F_PTYPE},
        {"related_key_type", 1u << F_RTYPE},
        {"db", 1u << F_DB},
    };
    bool colon = strchr(val, ':') != NULL;
    if (!strcmp(key, "parent"))
        return 1u << F_PARENT | (colon ? 1u << F_PKEY : 0);
    if (!strcmp(key, "related"))
        return 1u << F_RELATED | (colon ? 1u << F_RKEY : 0);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(key, t[i].key))
            return t[i].fields;
    return 0;
}

/* Where each field of the current section was set: the line and the key. */
typedef struct seen_fields {
    size_t line[F_COUNT];
    char key[F_COUNT][32];
} seen_fields;

/* Record the fields key sets on line; -1 with a message when one is set. */
static int mark_fields(seen_fields *seen, const char *key, const char *val,
                       const char *section, size_t line, char *err) {
    unsigned f = key_fields(key, val);
    for (int i = 0; i < F_COUNT; i++) {
        if (!(f & 1u << i))
            continue;
        if (seen->line[i]) {
            const char *in = section ? " in [" : "", *end = section ? "]" : "";
            if (!strcmp(seen->key[i], key))
                return conf_fail(err, "key '%s' given twice%s%s%s (first on line %zu)",
                                 key, in, section ? section : "", end, seen->line[i]);
            return conf_fail(err, "key '%s' sets the %s that '%s' on line %zu set%s%s%s",
                             key, field_names[i], seen->key[i], seen->line[i], in,
                             section ? section : "", end);
        }
        seen->line[i] = line;
        snprintf(seen->key[i], sizeof seen->key[i], "%s", key);
    }
    return 0;
}

/* Add an empty section named name[0..n). */
static conf_spec *add_section(conf_file *cf, const char *name, size_t n, char *err) {
    conf_spec *grown = realloc(cf->specs, (cf->nspecs + 1) * sizeof *grown);
    if (!grown) {
        conf_fail(err, "out of memory");
        return NULL;
    }
    cf->specs = grown;
    conf_spec *s = &cf->specs[cf->nspecs];
    memset(s, 0, sizeof *s);
    if (!(s->name = dupn(name, n))) {
        conf_fail(err, "out of memory");
        return NULL;
    }
    cf->nspecs++;
    return s;
}

int conf_parse(const char *text, size_t len, conf_file *out, size_t *errline, char *err) {
    conf_spec *cur = NULL;
    size_t lineno = 0;
    char key[64], val[1024];
    seen_fields top = {0}, sec = {0};
    memset(out, 0, sizeof *out);
    *errline = 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        *errline = ++lineno;
        size_t body = n && line[n - 1] == '\r' ? n - 1 : n; /* CRLF files */
        size_t badat = conf_text_bad(line, body);
        if (badat < body) {
            conf_fail(err,
                      "byte 0x%02x at column %zu: the config must be UTF-8 text "
                      "without control characters",
                      (unsigned char)line[badat], badat + 1);
            goto bad;
        }
        trim(&line, &n);
        if (!n || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            const char *name = line + 1;
            size_t nn = n - 1;
            if (line[n - 1] != ']' || n < 3) {
                conf_fail(err, "a section header is [name]");
                goto bad;
            }
            nn--;
            trim(&name, &nn);
            if (nn >= sizeof key || !nn) {
                conf_fail(err, "bad section name");
                goto bad;
            }
            memcpy(key, name, nn);
            key[nn] = '\0';
            if (!conf_ident_ok(key, false)) {
                conf_fail(err, "section name '%s' must be letters, digits and _", key);
                goto bad;
            }
            if (conf_find(out, key)) {
                conf_fail(err, "section [%s] appears twice", key);
                goto bad;
            }
            if (!(cur = add_section(out, name, nn, err)))
                goto bad;
            memset(&sec, 0, sizeof sec);
            continue;
        }
        const char *eq = memchr(line, '=', n);
        if (!eq) {
            conf_fail(err, "expected key = value or [section]");
            goto bad;
        }
        const char *k = line, *v = eq + 1;
        size_t kl = (size_t)(eq - line), vl = n - kl - 1;
        trim(&k, &kl);
        trim(&v, &vl);
        if (!kl || kl >= sizeof key || vl >= sizeof val) {
            conf_fail(err, "key or value too long or empty");
            goto bad;
        }
        memcpy(key, k, kl);
        key[kl] = '\0';
        memcpy(val, v, vl);
        val[vl] = '\0';
        if (!cur) {
            if (strcmp(key, "db")) {
                conf_fail(err, "'%s' outside a [section] (only db may be)", key);
                goto bad;
            }
            if (mark_fields(&top, key, val, NULL, lineno, err) ||
                set_str(&out->db, val, vl, err))
                goto bad;
            continue;
        }
        if (mark_fields(&sec, key, val, cur->name, lineno, err) ||
            conf_spec_set(cur, key, val, err))
            goto bad;
    }
    *errline = 0;
    return 0;
bad:
    conf_free(out);
    return -1;
}
