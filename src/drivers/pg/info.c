/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend as the registry knows it, built in or not: its
 * URLs and what it can do. */
#include "drivers/driver.h"

#include <string.h>

/* A libpq key=value connection string: it starts with "keyword =". */
static bool is_conninfo(const char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    const char *k = s;
    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')
        s++;
    if (s == k)
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '=';
}

static bool pg_claims(const char *url) {
    return strncmp(url, "postgresql://", 13) == 0 ||
           strncmp(url, "postgres://", 11) == 0 || is_conninfo(url);
}

const m2m__backend m2m__pg_backend = {
    .name = "postgresql",
    .label = "PostgreSQL",
    .option = "M2M_WITH_POSTGRESQL",
    .library = "libpq",
    .urls = "postgresql://..., postgres://... or a libpq key=value string",
    .file_prefix = NULL,
    .claims = pg_claims,
    .caps =
        {
            .rls = true,
            .single_writer = false,
            .dml_cte = true,
            .batch_is_txn = true,
            .in_doubt = true,
            .names_nocase = false,
            .delete_alias = true,
            .update_returning = true,
            .update_from = true,
            .ddl_local_names = false,
            /* Per row, single-row mode copies the result's description into
             * a result of its own. Taking results whole took 2,000 reads of
             * 20 rows from 174 M to 93 M client instructions
             * (docs/BENCHMARKS.md); the bound of 500 rows held at once was
             * not measured against others. */
            .whole_rows = 500,
        },
};
