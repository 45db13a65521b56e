/* SPDX-License-Identifier: MIT */
/* The MariaDB backend as the registry knows it, built in or not: its URLs
 * and what it can do. */
#include "drivers/driver.h"

#include <string.h>

static bool my_claims(const char *url) {
    return strncmp(url, "mariadb://", 10) == 0 || strncmp(url, "mysql://", 8) == 0;
}

const m2m__backend m2m__mariadb_backend = {
    .name = "mariadb",
    .label = "MariaDB",
    .option = "M2M_WITH_MARIADB",
    .library = "libmariadb",
    .urls = "mariadb://user:password@host:port/db, mysql://... or "
            "mariadb://user:password@localhost/db?socket=/path",
    .file_prefix = NULL,
    .claims = my_claims,
    .caps =
        {
            /* No row-level security: JWT sessions are refused. */
            .rls = false,
            .single_writer = false,
            /* No data-modifying CTE. */
            .dml_cte = false,
            /* One statement per round trip, each in the open transaction. */
            .batch_is_txn = false,
            .trip_per_statement = true,
            /* A lost COMMIT reply is resolved by the token the transaction
             * left in its lock row (driver.c): committed, or in doubt. */
            .in_doubt = true,
            .names_nocase = true,
            .ddl_local_names = false,
            .delete_alias = false,
            .update_returning = false,
            .update_from = false,
            .whole_rows = 0,
        },
};
