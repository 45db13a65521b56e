/* SPDX-License-Identifier: MIT */
/* The m2m tool's exit code for every result code of m2m.h, so that a code
 * added to m2m.h without a decision here fails. tests/cli_test.sh reaches
 * M2M_INDOUBT (exit 7) end to end on PostgreSQL, through tests/cli/cutproxy.c;
 * the other rare codes (busy, out of memory, ...) only here. */
#include "cli.h"

#include <stdio.h>

static const struct {
    int rc, exit;
} want[] = {
    {M2M_OK, CLI_USAGE}, /* out_error with M2M_OK reports a usage error */
    {M2M_ERROR, CLI_FAIL},
    {M2M_MISUSE, CLI_USAGE},
    {M2M_INVALID, CLI_USAGE},
    {M2M_NOTFOUND, CLI_NOTFOUND},
    {M2M_CONSTRAINT, CLI_CONSTRAINT},
    {M2M_EXISTS, CLI_CONSTRAINT},
    {M2M_DENIED, CLI_DENIED},
    {M2M_BUSY, CLI_FAIL},
    {M2M_IOERR, CLI_FAIL},
    {M2M_NOMEM, CLI_FAIL},
    {M2M_CONNECTION, CLI_FAIL},
    {M2M_CONFLICT, CLI_CONFLICT},
    {M2M_VETOED, CLI_CONSTRAINT},
    {M2M_NOTSUP, CLI_FAIL},
    {M2M_TIMEOUT, CLI_FAIL},
    {M2M_TYPE, CLI_USAGE},
    {M2M_ROW, CLI_FAIL},
    {M2M_DONE, CLI_FAIL},
    {M2M_INDOUBT, CLI_INDOUBT},
};

int main(void) {
    int failures = 0;
    size_t ncodes = 0;
#define XX(name, code, msg) ncodes++;
    M2M_ERRNO_MAP(XX)
#undef XX
    if (ncodes != sizeof want / sizeof want[0]) {
        fprintf(stderr, "cli_exit_codes: m2m.h has %zu result codes, this test %zu\n",
                ncodes, sizeof want / sizeof want[0]);
        failures++;
    }
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int got = out_exit_code(want[i].rc);
        if (got != want[i].exit) {
            fprintf(stderr, "cli_exit_codes: %s gives exit %d, want %d\n",
                    m2m_errname(want[i].rc), got, want[i].exit);
            failures++;
        }
    }
    if (CLI_INDOUBT != 7) {
        fprintf(stderr, "cli_exit_codes: in doubt is exit %d, documented as 7\n",
                CLI_INDOUBT);
        failures++;
    }
    printf("cli_exit_codes: %zu codes, %d failures\n", sizeof want / sizeof want[0],
           failures);
    return failures != 0;
}
