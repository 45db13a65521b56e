/* SPDX-License-Identifier: MIT */
/* The m2m tool's shared state: parsed options, exit codes, the commands and
 * the output helpers. The tool uses only m2m.h from the library. */
#ifndef M2M_CLI_H
#define M2M_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "args.h"
#include "conf.h"

/* Exit codes (docs/cli.md). */
enum {
    CLI_OK = 0,
    CLI_USAGE = 1,
    CLI_NOTFOUND = 2,
    CLI_DENIED = 3,
    CLI_CONSTRAINT = 4,
    CLI_CONFLICT = 5,
    CLI_FAIL = 6,
    CLI_INDOUBT = 7 /* the commit's outcome is unknown: read before retrying */
};

typedef enum cli_cmd {
    CMD_NONE,
    CMD_ATTACH,
    CMD_DETACH,
    CMD_SYNC,
    CMD_TOGGLE,
    CMD_UPDATE,
    CMD_LIST,
    CMD_COUNT,
    CMD_LOAD,
    CMD_VERSION,
    CMD_CREATE_PIVOT,
    CMD_RLS,
    CMD_COUNTS,
    CMD_EXISTS,
    CMD_HAS,
    CMD_CREATE
} cli_cmd;

typedef struct cli_order {
    const char *col;
    int dir;
    bool pivot;
} cli_order;

typedef struct cli_opts {
    cli_cmd cmd;
    const char *cmdname;
    bool help, json, all, keep, update_existing, inverse, allow_empty;
    bool counts, no_version; /* write reports: counts only, no version */
    const char *db, *config, *rel, *if_version, *role;
    int strategy;   /* -1: the relation's default */
    conf_spec spec; /* fields given on the command line */
    bool spec_given;
    char **pos; /* operands after the command (borrowed from argv) */
    size_t npos;
    m2m_col *shared; /* --data col=value */
    size_t nshared;
    char **shared_mem;
    size_t nshared_mem;
    args_filter *filters;
    size_t nfilters;
    const char **with_pivot;
    size_t nwith;
    const char **select; /* related columns returned (--select) */
    size_t nselect;
    cli_order *orders;
    size_t norders;
    int64_t limit, offset;
    bool has_limit, has_offset;
} cli_opts;

/* opts.c: parse argv into o. CLI_OK, or CLI_USAGE after printing why. */
int opts_parse(int argc, char **argv, cli_opts *o);
void opts_free(cli_opts *o);
/* Bit of a command in the option table's "applies to" masks. */
#define CMD_BIT(c) (1u << (c))

/* help.c */
void help_print(cli_cmd cmd);
cli_cmd help_command(const char *name); /* CMD_NONE when unknown */
const char *help_name(cli_cmd cmd);

/* out.c: one place for errors and both output formats. */
extern bool out_json;
/* Print "m2m: what" (plus ": " and the library's message when db is given)
 * on stderr and, with --json, an error document on stdout. Both are escaped
 * (out_escape), so an id cannot forge a line or a terminal escape. Returns
 * the exit code for rc (CLI_USAGE when rc is M2M_OK: a usage error). */
int out_error(int rc, m2m_db *db, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int out_exit_code(int rc);
/* s made printable, C-style, into dst (cap > 0 bytes, always terminated, cut
 * at a whole escape): backslash, \n, \r, \t, \xNN for other control
 * characters (C1 too) and for bytes that are not UTF-8. Returns its length. */
size_t out_escape(char *dst, size_t cap, const char *s);
/* A value for a table cell ("NULL" for NULL). buf holds numbers. */
const char *out_text(m2m_value v, char *buf, size_t cap);
json_t *out_jvalue(m2m_value v); /* new reference, NULL on out of memory */
/* Print doc on stdout as one line and release it. CLI_OK or CLI_FAIL. */
int out_json_doc(json_t *doc);

/* A text table printed as it fills: rows are held OUT_WINDOW at a time and
 * each window is aligned to the widest cell seen so far, so memory does not
 * grow with the number of rows. Cells are escaped. */
#define OUT_WINDOW 1024
typedef struct out_table {
    size_t ncols, ncells, cap;
    char **cells; /* the rows of the window, the header first */
    size_t *width;
    bool oom, ioerr;
} out_table;
void out_table_init(out_table *t, size_t ncols);
/* Append a cell; rows fill left to right. */
void out_table_cell(out_table *t, const char *s);
/* Print the rest and free. CLI_OK, or CLI_FAIL on out of memory or a write
 * error. */
int out_table_print(out_table *t);
void out_table_free(out_table *t);

/* Operands, parsed and typed before the database is opened so that a bad
 * one changes nothing. */
typedef struct cli_input {
    m2m_value parent;
    args_items items; /* ids with their data; the parents for load */
    m2m_col *cols;    /* update-pivot's col=value pairs */
    size_t ncols;
    char *colmem;
    m2m_new *rows; /* create's rows: each operand's col=value pairs */
    size_t nrows;
    char **rowmem; /* the operands' copies the values borrow */
} cli_input;

/* Commands: each returns an exit code and has printed any error. */
int cmd_write(const cli_opts *o, cli_input *in, m2m_relation *rel);
int cmd_read(const cli_opts *o, cli_input *in, m2m_relation *rel);
/* cmd_each.c: counts, exists (many parents) and has (which ids). */
int cmd_each(const cli_opts *o, cli_input *in, m2m_relation *rel);
/* cmd_read.c: the filters, columns, order, limit and strategy of o on q. */
void cmd_build(const cli_opts *o, m2m_query *q);
int cmd_admin(const cli_opts *o, cli_input *in, m2m_relation *rel);

#endif
