/* Read queries (query.c) and their result cursors (rows.c). */
#ifndef M2M_QUERY_H
#define M2M_QUERY_H

#include "internal.h"

enum { F_CMP, F_NULL, F_NOTNULL, F_IN, F_NOTIN, F_BETWEEN };

typedef struct m2m__filter {
    bool pivot; /* on the pivot table, else on the related table */
    bool or ;   /* joined to the previous filter of its group by OR */
    int kind;
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
    char **with; /* pivot columns returned */
    size_t nwith, capwith;
    bool custom_with;
    m2m__order *orders;
    size_t norders, caporders;
    int64_t limit, offset;
    int strategy;
    int err; /* first builder error, reported by get/count */
    char errmsg[256];
};

/* Memory results of the two-query strategy. */
typedef struct m2m__memrows {
    m2m_value *piv; /* pivot rows: fk, rk, with..., hidden order cols */
    size_t npiv_rows, piv_width;
    m2m_value *rel; /* related rows */
    size_t nrel_rows, rel_width;
    char **rel_names;
    size_t *out_p, *out_r; /* output rows: pivot row, related row */
    size_t nout;
} m2m__memrows;

/* A cursor over a relation read: the parent (eager loads only; one
 * parent is params[0]), then nrel related columns, then npiv pivot
 * columns; or over memory rows. */
int m2m__rows_rel(m2m_query *q, m2m__stmt *st, size_t cache_entry, m2m_value *params,
                  size_t n, size_t whole, m2m_rows **out);
int m2m__rows_mem(m2m_query *q, m2m__memrows *mem, m2m_rows **out);
void m2m__memrows_free(m2m__memrows *m);

#endif
