/* SPDX-License-Identifier: MIT */
/* Standard SQL pieces that dialects share (driver.h). */
#include "drivers/driver.h"

size_t m2m__ids_inline_max = 8192;

void m2m__std_insert_skip(m2m__buf *b, const char *key) {
    (void)key;
    m2m__buf_add(b, " ON CONFLICT DO NOTHING");
}

void m2m__std_returning(m2m__buf *b, const char *col) {
    m2m__buf_add(b, " RETURNING ");
    m2m__buf_ident(b, col);
}

void m2m__std_distinct(m2m__buf *b, const char *a, const char *c, bool not_distinct) {
    m2m__buf_addf(b, "%s IS %sDISTINCT FROM %s", a, not_distinct ? "NOT " : "", c);
}

void m2m__std_order_dir(m2m__buf *b, bool desc) {
    m2m__buf_add(b, desc ? " DESC NULLS LAST" : " ASC NULLS FIRST");
}
