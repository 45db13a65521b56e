/* SPDX-License-Identifier: MIT */
/* The read commands: list, count, load (eager, many parents) and version. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Apply the filters, pivot columns, orderings, limit and strategy. Builder
 * errors are recorded by the query and come back from get/count. */
void cmd_build(const cli_opts *o, m2m_query *q) {
    for (size_t i = 0; i < o->nfilters; i++) {
        const args_filter *f = &o->filters[i];
        switch (f->kind) {
            case FILT_OR:
                m2m_query_or(q);
                break;
            case FILT_CMP:
                if (f->pivot)
                    m2m_query_where_pivot(q, f->col, f->op, f->vals[0]);
                else
                    m2m_query_where(q, f->col, f->op, f->vals[0]);
                break;
            case FILT_NULL:
            case FILT_NOTNULL:
                if (f->pivot)
                    m2m_query_where_pivot_null(q, f->col, f->kind == FILT_NULL);
                else
                    m2m_query_where_null(q, f->col, f->kind == FILT_NULL);
                break;
            case FILT_IN:
            case FILT_NOTIN:
                if (f->pivot)
                    m2m_query_where_pivot_in(q, f->col, f->vals, f->nvals,
                                             f->kind == FILT_NOTIN);
                else
                    m2m_query_where_in(q, f->col, f->vals, f->nvals,
                                       f->kind == FILT_NOTIN);
                break;
            case FILT_BETWEEN:
                if (f->pivot)
                    m2m_query_where_pivot_between(q, f->col, f->vals[0], f->vals[1]);
                else
                    m2m_query_where_between(q, f->col, f->vals[0], f->vals[1]);
                break;
            default:
                if (f->pivot)
                    m2m_query_where_pivot_not_between(q, f->col, f->vals[0], f->vals[1]);
                else
                    m2m_query_where_not_between(q, f->col, f->vals[0], f->vals[1]);
                break;
        }
    }
    for (size_t i = 0; i < o->nwith; i++)
        m2m_query_with_pivot(q, o->with_pivot[i]);
    for (size_t i = 0; i < o->nselect; i++)
        m2m_query_select(q, o->select[i]);
    for (size_t i = 0; i < o->norders; i++) {
        if (o->orders[i].pivot)
            m2m_query_order_by_pivot(q, o->orders[i].col, o->orders[i].dir);
        else
            m2m_query_order_by(q, o->orders[i].col, o->orders[i].dir);
    }
    if (o->has_limit || o->has_offset)
        m2m_query_limit(q, o->has_limit ? o->limit : -1, o->offset);
    if (o->strategy >= 0)
        m2m_query_strategy(q, o->strategy);
}

/* One row as a JSON object: parent (load), related columns, then pivot. */
static json_t *row_json(m2m_rows *rows, bool many) {
    json_t *obj = json_object(), *piv = json_object();
    bool bad = !obj || !piv;
    if (!bad && many)
        bad = json_object_set_new(obj, "parent", out_jvalue(m2m_rows_parent(rows)));
    for (int i = 0; !bad && i < m2m_rows_ncols(rows); i++)
        bad = json_object_set_new(obj, m2m_rows_name(rows, i),
                                  out_jvalue(m2m_rows_value(rows, i)));
    for (int i = 0; !bad && i < m2m_rows_npivot(rows); i++)
        bad = json_object_set_new(piv, m2m_rows_pivot_name(rows, i),
                                  out_jvalue(m2m_rows_pivot_value(rows, i)));
    if (!bad) {
        bad = json_object_set_new(obj, "pivot", piv);
        piv = NULL;
    }
    json_decref(piv);
    if (bad) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static void row_cells(out_table *t, m2m_rows *rows, bool many) {
    char buf[64];
    if (many)
        out_table_cell(t, out_text(m2m_rows_parent(rows), buf, sizeof buf));
    for (int i = 0; i < m2m_rows_ncols(rows); i++)
        out_table_cell(t, out_text(m2m_rows_value(rows, i), buf, sizeof buf));
    for (int i = 0; i < m2m_rows_npivot(rows); i++)
        out_table_cell(t, out_text(m2m_rows_pivot_value(rows, i), buf, sizeof buf));
}

static void header_cells(out_table *t, m2m_rows *rows, bool many) {
    char name[128];
    out_table_init(t, (size_t)(many + m2m_rows_ncols(rows) + m2m_rows_npivot(rows)));
    if (many)
        out_table_cell(t, "parent");
    for (int i = 0; i < m2m_rows_ncols(rows); i++)
        out_table_cell(t, m2m_rows_name(rows, i));
    for (int i = 0; i < m2m_rows_npivot(rows); i++) {
        snprintf(name, sizeof name, "pivot.%s", m2m_rows_pivot_name(rows, i));
        out_table_cell(t, name);
    }
}

/* Stream rows: JSON rows are written as they come (the document is closed
 * even when the cursor fails midway); a table is aligned a window of rows at
 * a time (out_table). */
static int print_rows(const cli_opts *o, const cli_input *in, m2m_rows *rows,
                      m2m_db *db) {
    bool many = o->cmd == CMD_LOAD;
    out_table t = {0};
    size_t n = 0;
    int e;
    char buf[64];
    if (out_json) {
        json_t *p = many ? json_null() : out_jvalue(in->parent);
        char *ps = p ? json_dumps(p, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
        json_decref(p);
        if (!ps)
            return out_error(M2M_NOMEM, NULL, "out of memory");
        printf("{\"command\":\"%s\"%s%s,\"rows\":[", o->cmdname,
               many ? "" : ",\"parent\":", many ? "" : ps);
        free(ps);
    }
    while ((e = m2m_rows_next(rows)) == M2M_ROW) {
        if (out_json) {
            json_t *r = row_json(rows, many);
            char *s =
                r ? json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
                  : NULL;
            json_decref(r);
            if (!s) {
                e = M2M_NOMEM;
                break;
            }
            printf("%s%s", n ? "," : "", s);
            free(s);
        } else {
            if (!n)
                header_cells(&t, rows, many);
            row_cells(&t, rows, many);
        }
        n++;
    }
    if (e != M2M_DONE) {
        const char *msg = e == M2M_NOMEM ? "out of memory" : m2m_errmsg(db);
        if (out_json) {
            json_t *err =
                json_pack("{s:s,s:s}", "code", m2m_errname(e), "message", msg ? msg : "");
            char *s = err ? json_dumps(err, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
            printf("],\"count\":%zu,\"error\":%s}\n", n, s ? s : "null");
            free(s);
            json_decref(err);
            out_json = false; /* the document is complete: stderr only now */
        }
        out_table_free(&t);
        return out_error(e, e == M2M_NOMEM ? NULL : db, "reading rows failed after %zu",
                         n);
    }
    if (out_json) {
        printf("],\"count\":%zu}\n", n);
        return fflush(stdout) ? CLI_FAIL : CLI_OK;
    }
    if (!n) {
        char shown[256];
        out_escape(shown, sizeof shown,
                   many ? "" : out_text(in->parent, buf, sizeof buf));
        printf("(no rows for %s %s)\n", many ? "these parents" : "parent", shown);
        return CLI_OK;
    }
    return out_table_print(&t);
}

static int version(const cli_input *in, m2m_relation *rel) {
    char v[M2M_VERSION_LEN], buf[64];
    int e = m2m_version(rel, in->parent, v);
    if (e != M2M_OK)
        return out_error(e, m2m_relation_db(rel), "version of parent %s failed",
                         out_text(in->parent, buf, sizeof buf));
    if (out_json)
        return out_json_doc(json_pack("{s:s,s:o,s:s}", "command", "version", "parent",
                                      out_jvalue(in->parent), "version", v));
    printf("%s\n", v);
    return CLI_OK;
}

int cmd_read(const cli_opts *o, cli_input *in, m2m_relation *rel) {
    m2m_db *db = m2m_relation_db(rel);
    m2m_query *q = NULL;
    m2m_rows *rows = NULL;
    char buf[64];
    int e, rc;
    if (o->cmd == CMD_VERSION)
        return version(in, rel);
    if (o->cmd == CMD_LOAD) {
        static m2m_value none[1]; /* stdin gave no parents: an empty load */
        const m2m_value *parents = in->items.ids;
        e = m2m_query_new_many(rel, parents ? parents : none, in->items.n, &q);
    } else {
        e = m2m_query_new(rel, in->parent, &q);
    }
    if (e != M2M_OK) {
        rc = out_error(e, db, "cannot start the query");
        goto done;
    }
    cmd_build(o, q);
    if (o->cmd == CMD_COUNT) {
        int64_t count = 0;
        if ((e = m2m_query_count(q, &count)) != M2M_OK) {
            rc = out_error(e, db, "count failed");
            goto done;
        }
        if (out_json)
            rc = out_json_doc(json_pack("{s:s,s:o,s:I}", "command", "count", "parent",
                                        out_jvalue(in->parent), "count",
                                        (json_int_t)count));
        else
            rc = printf("%lld\n", (long long)count) < 0 ? CLI_FAIL : CLI_OK;
        goto done;
    }
    if ((e = m2m_query_get(q, &rows)) != M2M_OK) {
        rc = out_error(e, db, "%s failed%s%s", o->cmdname,
                       o->cmd == CMD_LIST ? " for parent " : "",
                       o->cmd == CMD_LIST ? out_text(in->parent, buf, sizeof buf) : "");
        goto done;
    }
    rc = print_rows(o, in, rows, db);
done:
    m2m_rows_free(rows);
    m2m_query_free(q);
    return rc;
}
