/* SPDX-License-Identifier: MIT */
/* Validated input of one write operation (input.c). */
#ifndef M2M_INPUT_H
#define M2M_INPUT_H

#include "core/relation.h"

/* Can v be stored in pivot column col: a valid type, and a finite number?
 * M2M_OK, or M2M_INVALID set on db naming where and col. */
int m2m__pivot_value_ok(m2m_db *db, const char *where, const char *col, m2m_value v);

/* Rows that travel together: with M2M__FLAT in mask they share their
 * values and travel as the array of their ids (arr over ids); else as
 * json, a JSON array of objects, one per row, mask the columns any of them
 * names and each object the keys of the columns its row names. An input
 * has at most one group of each kind. */
typedef struct m2m__group {
    uint64_t mask;
    m2m__buf json;
    m2m_value *ids;
    size_t count, cap;
    m2m__ids arr;
} m2m__group;

/* The caller's items are read in place, never copied whole: a repeated
 * id is a bit in rep, and the per-item masks exist only when some item
 * names pivot values of its own. */
typedef struct m2m__input {
    m2m_relation *rel;
    const m2m_item *items; /* item form, or NULL for plain ids */
    const m2m_value *ids;  /* plain-id form */
    size_t nitems;         /* items (or ids) given, repeats included */
    unsigned char *rep;    /* items that repeat an earlier id (bitmap), or NULL */
    uint64_t *masks;       /* per item: columns it names (own, shared, scope),
                              M2M__FLAT when it names none itself; NULL when
                              every item's is row_mask */
    uint64_t row_mask;     /* masks == NULL: the mask of every row */
    uint64_t json_mask;    /* the columns of the JSON rows: every one named */
    size_t n;              /* unique items (or ids) */
    const m2m_col *shared;
    size_t nshared;
    uint64_t shared_mask;
    m2m__group *groups;
    size_t ngroups, capgroups;
    size_t nskipped; /* ids the last encode left out */
    m2m_value *allv; /* every id, gathered by m2m__input_all_ids */
    m2m__ids allarr;
} m2m__input;

int m2m__check_id(m2m_relation *rel, const char *what, m2m_value v, m2m_type want);
int m2m__cols_mask(m2m_relation *rel, const m2m_col *cols, size_t n, uint64_t *mask);
int m2m__input_items(m2m_relation *rel, const m2m_item *items, size_t n,
                     const m2m_opts *opts, m2m__input *in);
/* Plain ids of attach, sync or toggle: rows that store the shared pivot
 * data only, repeats dropped as for items. */
int m2m__input_plain(m2m_relation *rel, const m2m_value *ids, size_t n,
                     const m2m_opts *opts, m2m__input *in);
/* The ids of detach and update pivot, repeats kept. */
int m2m__input_ids(m2m_relation *rel, const m2m_value *ids, size_t n, m2m__input *in);
/* (Re)build the groups, leaving out ids in skip (may be NULL). */
int m2m__input_encode(m2m__input *in, m2m_value parent, const m2m__valset *skip);
void m2m__input_clear_groups(m2m__input *in);
/* The array parameter of every unique id (skip ignored), or NULL on oom. */
const m2m__ids *m2m__input_all_ids(m2m__input *in);
/* The parameter a group's rows travel in: its id array or JSON rows. */
m2m_value m2m__group_param(const m2m__group *g);
/* The values cols give to the columns of mask that the scope does not fix
 * (NULL for those they do not name), in column order; returns their number.
 * With the shared pivot data: what every row of a flat group stores. */
size_t m2m__cols_values(const m2m_relation *rel, const m2m_col *cols, size_t n,
                        uint64_t mask, m2m_value *out);
void m2m__input_free(m2m__input *in);

/* ---- changes.c ---- */
typedef struct m2m__report {
    m2m_changes ch; /* first: m2m_changes_free casts back */
    size_t cap[3];
} m2m__report;
/* Report lists; M2M__TAGGED collects rows (list, id) into the list named
 * by their first column. */
enum { M2M__ATTACHED, M2M__DETACHED, M2M__UPDATED, M2M__TAGGED };
m2m__report *m2m__report_new(int op, m2m_value parent);
m2m__report *m2m__report_copy(const m2m__report *src);
/* M2M_COUNTS: free the report's id lists, keeping their counts. */
void m2m__report_counts_only(m2m__report *r);
/* M2M_COUNTS: steps sent whose affected rows add to a list's count. */
typedef struct m2m__counted {
    size_t step;
    int list;
} m2m__counted;
void m2m__report_count(m2m__report *r, const m2m__step *steps, const m2m__counted *c,
                       size_t n);
/* on_row callbacks: append column 0 to a list; arg is a m2m__collect. */
typedef struct m2m__collect {
    m2m_db *db;
    m2m__report *rep;
    int list;
    bool count_only; /* M2M_COUNTS: count the rows, store no id */
} m2m__collect;
int m2m__collect_row(void *arg, m2m__cursor *row);
/* on_row: store column 0 as an integer; arg is a m2m__intval. */
typedef struct m2m__intval {
    m2m_db *db;
    int64_t v;
    bool seen;
} m2m__intval;
int m2m__int_row(void *arg, m2m__cursor *row);
/* ---- digest.c ---- */
/* Digest of a set (its version), fed row by row; arg is a m2m__digest,
 * initialized {.db = db}. One digest at a time per connection. */
typedef struct m2m__digest {
    m2m_db *db;
    uint64_t count;
} m2m__digest;
int m2m__digest_row(void *arg, m2m__cursor *row);
/* The version of the rows fed: 64 hex digits; M2M_OK or M2M_NOMEM. */
int m2m__digest_hex(const m2m__digest *d, char out[M2M_VERSION_LEN]);

#endif
