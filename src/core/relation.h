/* SPDX-License-Identifier: MIT */
/* Relations: the definition, and the statements cached for it. */
#ifndef M2M_RELATION_H
#define M2M_RELATION_H

#include "core/db.h"

/* ---- relations (relation.c) ---- */
/* Bits 61 to 63 of a statement's column mask are not columns. 63 asks
 * for the variant without RETURNING (sql/sqlgen.c), used when no one wants the
 * ids; 62 for the variant whose rows all store the same values, which take
 * the ids as one array and the values as plain parameters. */
enum { M2M__MAX_PIVOT = 61 };
#define M2M__NO_RETURNING (1ULL << 63)
#define M2M__FLAT         (1ULL << 62)
/* Bit 61: the statement's ids take a compact membership test: for IN,
 * integers of a narrow span (drv->dialect.ids_in's M2M__IN_SPAN form); for
 * NOT IN, few ids (M2M__NOT_IN_FEW). */
#define M2M__SPAN (1ULL << 61)

/* The filter-only conditions of a relation (conds.c): at most
 * M2M__MAX_CONDS, M2M__MAX_COND_VALUES values in all (each one
 * parameter of every statement on the pivot). */
enum { M2M__MAX_CONDS = 16, M2M__MAX_COND_VALUES = 64 };
enum { C_CMP, C_NULL, C_NOTNULL, C_IN, C_NOTIN, C_BETWEEN, C_NOTBETWEEN };
typedef struct m2m__cond {
    char *col;
    int kind;
    const char *op;  /* as the definition spells it, from a fixed table */
    const char *sql; /* SQL operator, from the same table */
    m2m_value *vals;
    size_t nvals;
} m2m__cond;

/* A statement built once for a relation and kept prepared: writes are keyed
 * by (op, column mask) so their SQL is never rebuilt; reads by their text. */
typedef struct m2m__cached {
    int op;
    uint64_t mask;
    char *sql;
    char *shape; /* reads: the query shape that built sql (query_read.c) */
    size_t nshape;
    m2m__stmt *stmt;
    int inuse; /* held by an open cursor: reads prepare another copy */
    bool big;  /* reads: a result outgrew the driver's whole_rows (query_read.c) */
} m2m__cached;

struct m2m_relation {
    m2m_db *db;
    char *parent_table, *parent_key, *related_table, *related_key;
    char *pivot_table, *fk, *rk; /* foreign / related pivot keys */
    m2m_type parent_type, related_type;
    /* Writable pivot columns: the extra columns, then the scope columns not
     * among them. Bit i of a column mask refers to cols[i]. */
    char *cols[M2M__MAX_PIVOT];
    size_t ncols;  /* all writable columns */
    size_t nextra; /* of which the declared pivot_columns (default reads) */
    m2m_value scope_vals[M2M__MAX_PIVOT]; /* per cols[i] when scope_mask bit i */
    uint64_t scope_mask;
    m2m__cond conds[M2M__MAX_CONDS];
    size_t nconds, ncondv; /* conditions, and their values in all */
    /* The timestamp columns kept, NULL for one not kept. */
    char *created_at, *updated_at, *pivot_id, *owner_column;
    /* touch: the parent's column set when a write changes the set, and the
     * related table's, for the inverse; NULL when the relation does not
     * touch. */
    char *touch_col, *inv_touch_col;
    bool owner_read_all;
    int strategy;
    int32_t lock_key; /* per pivot table, for the driver's lock_sql */
    int pair_unique;  /* (fk, rk) unique in the pivot: 0 not asked, 1 no, 2 yes */
    int lock_side;    /* m2m__rel_lock_side's answer: 0 not known yet */
    int rk_col; /* drv->dialect.deleted_col of rk: 0 not asked, -1 none, else index + 1 */
    int rk_span;  /* drv->dialect.span_ok of (fk, rk): 0 not asked, 1 no, 2 yes */
    bool checked; /* tables and columns verified (relcheck.c) */
    /* The related table's columns and their kinds ('i', 't', '?'), read
     * from the catalog at the first m2m_create (create.c). */
    char **rcols;
    char *rkinds;
    size_t nrcols;
    bool rcols_known;
    m2m_before_fn before;
    m2m_after_fn after;
    void *cb_arg;
    m2m__cached *cache;
    size_t ncache, capcache;
    size_t nopen; /* queries and cursors open from it */
    bool closing; /* m2m_relation_close called while some were open */
};

/* Verify the definition against the database (one catalog query): the
 * tables and every named column exist (else M2M_NOTFOUND), keys hold the
 * declared id types (else M2M_TYPE). A missing pivot table is an error
 * only when pivot_needed; *pivot_exists (may be NULL) tells. Sets
 * rel->checked once all is verified; M2M_OK without it when the driver
 * cannot ask now. */
int m2m__rel_check(m2m_relation *rel, bool pivot_needed, bool *pivot_exists);
/* Which lock a write takes without caps.single_writer (docs/backends.md,
 * Concurrency): M2M__LOCK_PARENT when rel's key leads the pivot's unique
 * index of the two keys (or, when neither or both lead one, when its name
 * sorts first), M2M__LOCK_PIVOT when the other key does, and M2M__LOCK_PIVOT
 * without remembering it when the catalog cannot be asked now. A relation
 * and its inverse always pick different sides. */
enum { M2M__LOCK_PARENT = 1, M2M__LOCK_PIVOT = 2 };
int m2m__rel_lock_side(m2m_relation *rel);

/* ---- filter-only conditions (conds.c) ---- */
/* Check and copy def's conditions into rel (M2M_INVALID naming the
 * column, else M2M_OK); free them. */
int m2m__conds_set(m2m_relation *rel, const m2m_cond *c, size_t n);
void m2m__conds_free(m2m_relation *rel);
/* The conditions on alias, each " AND <cond>" (lead) or joined by " AND "
 * (no lead), their placeholders numbered from *pno on. */
void m2m__conds_sql(m2m__buf *b, const m2m_relation *rel, const char *alias, bool lead,
                    int *pno);
/* Their values in placeholder order (rel->ncondv of them). */
size_t m2m__cond_params(const m2m_relation *rel, m2m_value *out);
/* The conditions as a definition names them (borrowing rel's strings). */
void m2m__conds_def(const m2m_relation *rel, m2m_cond *out);
/* Scope or conditions: some pivot rows of a parent are not the relation's. */
static inline bool m2m__rel_filtered(const m2m_relation *rel) {
    return rel->scope_mask || rel->nconds;
}

/* Index of a writable pivot column, or -1. */
int m2m__rel_col(const m2m_relation *rel, const char *name);
/* The prepared statement for (op, mask), its SQL made by build() on first
 * use. build returns M2M_OK or an error code (set on db). */
typedef int (*m2m__build_fn)(m2m_relation *rel, uint64_t mask, m2m__buf *b);
int m2m__rel_stmt(m2m_relation *rel, int op, uint64_t mask, m2m__build_fn build,
                  m2m__stmt **out);
/* The prepared statement for a read's SQL text (owned by the cache); *entry
 * is the cache entry, to mark while a cursor streams from it. */
int m2m__rel_stmt_sql(m2m_relation *rel, const char *sql, m2m__stmt **out, size_t *entry);
/* The read statement built for a query shape: M2M_NOTFOUND (no error set)
 * when none was; remember the shape of cache entry once it is built. */
int m2m__rel_stmt_shape(m2m_relation *rel, const char *shape, size_t n, m2m__stmt **out,
                        size_t *entry);
void m2m__rel_remember_shape(m2m_relation *rel, size_t entry, const char *shape,
                             size_t n);

#endif /* M2M_RELATION_H */
