/* SPDX-License-Identifier: MIT */
/* Relation specs for the m2m tool: the INI-like config file and the
 * command-line options both fill a conf_spec through conf_spec_set(), so the
 * two spellings cannot drift. Uses only libc and m2m.h's types (no library
 * calls), so the fuzz target links it alone. */
#ifndef M2M_CLI_CONF_H
#define M2M_CLI_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "m2m.h"

#define CONF_ERRLEN 256

/* Write a message to err (CONF_ERRLEN bytes) and return -1. */
int conf_fail(char *err, const char *fmt, ...);

/* One relation. Strings are owned (malloc'd) by the spec. */
typedef struct conf_spec {
    char *name; /* section name, NULL for a spec from the command line */
    char *pivot, *parent, *parent_key, *related, *related_key;
    char *fk, *rk; /* foreign_pivot_key, related_pivot_key */
    char **pivot_cols;
    size_t npivot_cols;
    int timestamps;
    char *pivot_id;
    char *owner;
    int owner_read_all;
    char **scope_cols, **scope_vals;
    size_t nscope;
    bool parent_text, related_text; /* key types */
} conf_spec;

/* A parsed config file: an optional top-level `db = URL` and the sections. */
typedef struct conf_file {
    char *db;
    conf_spec *specs;
    size_t nspecs;
} conf_file;

/* Set one key of spec (config keys: pivot, parent, parent_key, related,
 * related_key, foreign_pivot_key, related_pivot_key, pivot_columns,
 * timestamps, pivot_id, owner, owner_read_all, scope, key_type,
 * parent_key_type, related_key_type). "parent" and "related" accept
 * "table:key". Repeated list keys (pivot_columns, scope) add to the list.
 * Returns 0, or -1 with a message in err (CONF_ERRLEN bytes). */
int conf_spec_set(conf_spec *spec, const char *key, const char *value, char *err);

/* Check required fields and identifiers. 0 or -1 with a message in err. */
int conf_spec_check(const conf_spec *spec, char *err);

/* Parse a config text of len bytes. A key given twice in a section (or two
 * keys setting the same field, such as parent = t:k and parent_key) is an
 * error; the list keys pivot_columns and scope may repeat. Control
 * characters other than tab (NUL included) and invalid UTF-8 are errors. On
 * failure out is empty, *line is the line at fault (0 when none) and err says
 * what is wrong. */
int conf_parse(const char *text, size_t len, conf_file *out, size_t *line, char *err);

/* Length of the valid UTF-8 sequence starting s[0..n), 1 to 4; 0 when s
 * starts an invalid one (overlong, surrogate, above U+10FFFF, cut short). */
size_t conf_utf8_len(const char *s, size_t n);

/* Offset of the first byte of s[0..n) that is not text: a control
 * character other than tab (C0, DEL, C1) or invalid UTF-8. n when all is. */
size_t conf_text_bad(const char *s, size_t n);

/* The named section, or NULL. */
conf_spec *conf_find(conf_file *cf, const char *name);

/* Overlay src on dst: src's strings replace dst's, its lists are appended,
 * its flags are or-ed. 0 or -1 on out of memory (dst is then unchanged or
 * partly merged, and still freeable). */
int conf_spec_merge(conf_spec *dst, const conf_spec *src);

/* A relation definition built from a spec; it borrows the spec's strings,
 * so the spec must outlive it. */
typedef struct conf_def {
    m2m_relation_def def;
    const char **cols;
    m2m_col *scope;
    char **bufs; /* unquoted scope values */
} conf_def;

/* Fill d from spec. 0, or -1 on out of memory (d is then freed). */
int conf_def_make(const conf_spec *spec, conf_def *d);
void conf_def_free(conf_def *d);

/* Type a value written on the command line or in a config: 'x' or "x" is
 * the text x, NULL or null is NULL, an integer is INT, a decimal number REAL,
 * anything else text. out borrows raw, or *buf (malloc'd, the caller frees
 * it) when quotes were removed. 0, or -1 on out of memory. */
int conf_value(const char *raw, m2m_value *out, char **buf);

/* [A-Za-z_][A-Za-z0-9_]* up to 63 chars, optionally with one "schema." prefix. */
bool conf_ident_ok(const char *s, bool allow_schema);

void conf_spec_free(conf_spec *spec);
void conf_free(conf_file *cf);

#endif
