/* SPDX-License-Identifier: MIT */
/* Parsing of the tool's operands: ids, col=value pivot data, filters and
 * orderings. Pure libc plus m2m.h's types (no library calls), so the fuzz
 * target links it. Errors are written to err (CONF_ERRLEN bytes). */
#ifndef M2M_CLI_ARGS_H
#define M2M_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"

/* Ids with optional per-id pivot data: every id in ids (16 bytes each, no
 * text kept for an integer), and items, the same ids with their data, only
 * once some id carries data of its own (else NULL). Owns every string its
 * values borrow. */
typedef struct args_items {
    m2m_value *ids;
    m2m_item *items;
    size_t n, cap;
    char **strs;
    size_t nstrs, capstrs;
} args_items;

/* Parse one id: a decimal int64, or any non-empty text when text is set. out
 * borrows s. 0 or -1. */
int args_id(const char *s, bool text, m2m_value *out, char *err);

/* Split "col=value,col=value" (s is modified; values borrow it) into a new
 * array *cols of *n entries (free() it). Commas and = inside quotes are kept.
 * 0 or -1. */
int args_cols(char *s, m2m_col **cols, size_t *n, char *err);

/* Add "ID" or, when data is allowed, "ID:col=value,...". Control characters
 * (but tab) and invalid UTF-8 are refused. 0 or -1. */
int args_add(args_items *l, const char *arg, bool text, bool data, char *err);

/* Add one item per non-blank line of f (same syntax as args_add); a NUL byte
 * in a line is refused. 0, or -1 with the line number in err. */
int args_read(args_items *l, FILE *f, bool text, bool data, char *err);

void args_items_free(args_items *l);

/* One --where/--where-pivot condition or an --or marker. */
enum {
    FILT_CMP,
    FILT_NULL,
    FILT_NOTNULL,
    FILT_IN,
    FILT_NOTIN,
    FILT_BETWEEN,
    FILT_NOTBETWEEN,
    FILT_OR
};
typedef struct args_filter {
    int kind;
    bool pivot;
    char col[64]; /* held inline: filters live in a growing array */
    char op[16];
    m2m_value *vals;
    size_t nvals;
    char *mem; /* the expression's copy that col and vals borrow */
} args_filter;

/* Parse "col op value": op is =, !=, <>, <, <=, >, >=, like, not like,
 * "is null", "is not null", "in a,b,c", "not in a,b", "between a and b"
 * (the last four only for pivot filters). 0 or -1 (f is then empty). */
int args_filter_parse(const char *expr, bool pivot, args_filter *f, char *err);
void args_filter_free(args_filter *f);

/* "col" or "col:asc"/"col:desc" (s is modified; *col borrows it). 0 or -1. */
int args_order(char *s, const char **col, int *dir, char *err);

/* A non-negative decimal int64. 0 or -1. */
int args_count(const char *s, int64_t *out, const char *what, char *err);

#endif
