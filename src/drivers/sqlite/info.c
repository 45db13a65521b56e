/* SPDX-License-Identifier: MIT */
/* The SQLite backend as the registry knows it: its URLs and what it can do. */
#include "drivers/driver.h"

#include <string.h>

static bool sq_claims(const char *url) { return strncmp(url, "sqlite:", 7) == 0; }

const m2m__backend m2m__sqlite_backend = {
    .name = "sqlite",
    .label = "SQLite",
    .option = NULL, /* always built in */
    .library = "libsqlite3",
    .urls = "sqlite:PATH, sqlite::memory:",
    .file_prefix = "sqlite:",
    .claims = sq_claims,
    .caps =
        {
            .rls = false,
            /* BEGIN IMMEDIATE: one writer for the whole file. */
            .single_writer = true,
            .dml_cte = false,
            .batch_is_txn = false,
            .in_doubt = false,
            .names_nocase = true,
            .delete_alias = true,
            .update_returning = true,
            .update_from = true,
            .ddl_local_names = true,
            .whole_rows = 0, /* stepping a statement copies nothing per row */
        },
};
