/* SPDX-License-Identifier: MIT */
/* Fuzz target for the m2m tool's parsers: the config file (every section is
 * then checked, merged and turned into a relation definition), and each
 * line of the input as an operand: id with pivot data, filter, ordering.
 * Looks for crashes, leaks and undefined behaviour; the results are not
 * checked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void specs(const char *text, size_t size) {
    char err[CONF_ERRLEN];
    conf_file cf;
    size_t line;
    if (conf_parse(text, size, &cf, &line, err))
        return;
    for (size_t i = 0; i < cf.nspecs; i++) {
        conf_spec merged = {0};
        conf_def def;
        conf_spec_check(&cf.specs[i], err);
        if (conf_spec_merge(&merged, &cf.specs[i]) == 0 &&
            conf_def_make(&merged, &def) == 0)
            conf_def_free(&def);
        conf_spec_free(&merged);
    }
    conf_free(&cf);
}

static void operand(char *line) {
    char err[CONF_ERRLEN];
    args_items items = {0};
    args_filter f;
    m2m_value v;
    const char *col;
    int dir;
    int64_t n;
    args_add(&items, line, false, true, err);
    args_add(&items, line, true, true, err);
    args_items_free(&items);
    args_id(line, false, &v, err);
    if (args_filter_parse(line, true, &f, err) == 0)
        args_filter_free(&f);
    if (args_filter_parse(line, false, &f, err) == 0)
        args_filter_free(&f);
    args_count(line, &n, "n", err);
    args_order(line, &col, &dir, err); /* last: it may cut the line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    specs((const char *)data, size);
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        operand(line);
    }
    free(copy);
    return 0;
}
