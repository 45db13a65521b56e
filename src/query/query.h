/* SPDX-License-Identifier: MIT */
/* Read queries: the builder (query.c), their SQL (query_sql.c), running
 * them (query_read.c, query_two.c, query_each.c) and their result cursors
 * (rows.c). */
#ifndef M2M_QUERY_H
#define M2M_QUERY_H

#include "core/txn.h"
#include "query/rows.h"

/* F_OPEN and F_CLOSE bracket a group (m2m_query_group): its items follow
 * the F_OPEN at one depth more, up to the F_CLOSE of the same depth. */
enum {
    F_CMP,
    F_NULL,
    F_NOTNULL,
    F_IN,
    F_NOTIN,
    F_BETWEEN,
    F_NOTBETWEEN,
    F_OPEN,
    F_CLOSE
};

/* The deepest nesting of groups. */
enum { M2M__MAX_DEPTH = 32 };

typedef struct m2m__filter {
    bool pivot; /* on the pivot table, else on the related table */
    bool or ;   /* joined to the previous filter of its group by OR */
    int kind;
    int depth;      /* 0: outside any group (the flat related and pivot groups) */
    const char *op; /* SQL operator, from a fixed table */
    char *col;
    m2m_value v, v2;
    m2m_value *list;
    size_t nlist;
} m2m__filter;

typedef struct m2m__order {
    bool pivot;
    char *col;
    int dir;
} m2m__order;

struct m2m_query {
    m2m_relation *rel;
    m2m_value *parents; /* owned copies */
    size_t nparents;
    bool many;
    m2m__filter *filters;
    size_t nfilters, capfilters;
    bool next_or;
    int depth;   /* groups open */
    char **with; /* pivot columns returned */
    size_t nwith, capwith;
    bool custom_with;
    char **sel; /* related columns returned; none: all (r.*) */
    size_t nsel, capsel;
    bool find;         /* only the row of related id find_id (m2m_query_find) */
    m2m_value find_id; /* borrowed for the call */
    m2m__order *orders;
    size_t norders, caporders;
    int64_t limit, offset;
    bool each; /* a per-parent limit (m2m_query_limit_each) */
    int64_t each_limit, each_offset;
    int strategy;
    bool keyset;      /* m2m_query_after: rows carry page tokens */
    m2m_value *after; /* the token's values (owned); NULL: the first page */
    size_t nafter;
    uint32_t after_fp; /* the token's fingerprint */
    int err;           /* first builder error, reported by get/count */
    char errmsg[256];
};

/* The SQL text and parameters of a read being built (query_sql.c). */
typedef struct m2m__sqlq {
    m2m__buf b;
    m2m_value *params; /* borrowed values, or JSON texts owned in jsons */
    size_t np, capp;
    char **jsons;
    size_t nj, capj;
    m2m__ids sets[2]; /* key sets bound as id arrays (their values borrowed) */
    int nsets;
} m2m__sqlq;

/* Start with text (else only the parameters are gathered); free. */
void m2m__sqlq_init(m2m__sqlq *s, bool text);
void m2m__sqlq_free(m2m__sqlq *s);
/* alias."col" */
void m2m__q_col(m2m__sqlq *s, const char *alias, const char *col);
/* The parent condition (one parent or the parents' key set) and scope. */
void m2m__q_parent(m2m__sqlq *s, const m2m_query *q);
/* " AND (...)": the filters of the pivot or of the related group. */
void m2m__q_filters(m2m__sqlq *s, const m2m_query *q, bool pivot);
/* The groups of m2m_query_group outside any other, by what their
 * conditions name: related columns only, pivot only, or both (mixed). */
enum { G_RELATED = 1, G_PIVOT = 2, G_MIXED = 4, G_ALL = 7 };
/* " AND (...)" for each such group of the kinds in which. */
void m2m__q_groups(m2m__sqlq *s, const m2m_query *q, int which);
/* Whether some group names both related and pivot columns. */
bool m2m__q_mixed(const m2m_query *q);
/* "alias.col IN <vals>", bound as one id array; vals outlive the run. */
void m2m__q_key_set(m2m__sqlq *s, const m2m_relation *rel, const char *alias,
                    const char *col, const m2m_value *vals, size_t n, m2m_type type);
/* The cached statement of the text built in s. */
int m2m__q_prepare(m2m_query *q, m2m__sqlq *s, m2m__stmt **st);
/* A read's error: an unknown column reported by the database is
 * M2M_INVALID, a bad argument of the query. */
int m2m__q_read_rc(m2m_query *q, int rc);

/* " FROM related r JOIN pivot p ON ... WHERE <parent, filters>" */
void m2m__q_join_from_where(m2m__sqlq *s, const m2m_query *q);
/* The related columns returned: "r.*" or the selected ones, as alias.c. */
void m2m__q_select(m2m__sqlq *s, const m2m_query *q, const char *alias);
/* The JOIN read of get in the read's order, per-parent limited or not;
 * then, with probe > 0, "LIMIT probe" in the text, else the caller's limit
 * and offset as parameters, if any. */
void m2m__q_get_sql(m2m__sqlq *s, const m2m_query *q, size_t probe);
/* The JOIN read of count. */
void m2m__q_count_sql(m2m__sqlq *s, const m2m_query *q);
/* Checks every read makes first (errors recorded by the builder, an open
 * cursor, a JWT-bound relation without a session). */
int m2m__q_check_ready(m2m_query *q);
/* Queue the transaction of a read: a JWT session's claims always; with
 * several statements a read-only transaction of one snapshot, unless the
 * caller's is open. Nothing is sent yet. */
int m2m__q_read_begin(m2m_query *q, m2m__op *op, bool several);
/* Run what is queued and end the read's transaction (abort on error). */
int m2m__q_read_end(m2m__op *op, int rc);

/* ---- keyset pages (keyset.c) ---- */
/* The fingerprint of the query's relation, parents' form and order, and
 * the number of values of its tokens (order values, the parent when many,
 * the related key). */
uint32_t m2m__ks_fingerprint(const m2m_query *q);
size_t m2m__ks_nvalues(const m2m_query *q);
/* The token of a row's values (new text), NULL when out of memory. */
char *m2m__ks_encode(uint32_t fp, const m2m_value *v, size_t n);
/* A token's fingerprint and values (new); M2M_INVALID with why. */
int m2m__ks_decode(const char *token, uint32_t *fp, m2m_value **vals, size_t *n,
                   const char **why);
/* The hidden columns of a keyset read: ", <order values>, p.rk". */
void m2m__q_keyset_cols(m2m__sqlq *s, const m2m_query *q);
/* " AND (...)": the rows after the token's, in the read's order. */
void m2m__q_keyset(m2m__sqlq *s, const m2m_query *q);
/* Checked at the read: the token belongs to this query. */
int m2m__ks_check(m2m_query *q);
/* The placeholder of a new parameter v. */
void m2m__q_param(m2m__sqlq *s, m2m_value v);

/* The two-query read (query_two.c): the rows of get, or only their count. */
int m2m__query_two(m2m_query *q, bool count_only, int64_t *count, m2m_rows **out);

/* Memory results of the two-query strategy. */
typedef struct m2m__memrows {
    m2m_value *piv; /* pivot rows: fk, rk, with..., then rank columns */
    size_t npiv_rows, piv_width;
    m2m_value *rel; /* related rows: their columns, then rank columns */
    size_t nrel_rows, rel_width;
    size_t rel_ncols; /* the related columns returned (rel_names) */
    char **rel_names;
    size_t *out_p, *out_r; /* output rows: pivot row, related row */
    size_t nout;
} m2m__memrows;

/* A cursor over a relation read: the parent (eager loads only; one
 * parent is params[0]), then nrel related columns, then npiv pivot
 * columns; or over memory rows. */
int m2m__rows_rel(m2m_query *q, m2m__stmt *st, size_t cache_entry, m2m_value *params,
                  size_t n, size_t whole, m2m_rows **out);
/* Trailing columns of a per-parent limited read that are not returned:
 * the order columns, the related key and the row number. */
int m2m__rows_hidden(const m2m_query *q);
int m2m__rows_mem(m2m_query *q, m2m__memrows *mem, m2m_rows **out);
void m2m__memrows_free(m2m__memrows *m);

#endif
