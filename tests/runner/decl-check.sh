#!/bin/sh
# SPDX-License-Identifier: MIT
# decl-check.sh [DIR]: fails for a test in DIR/test_*.c (default: tests/
# beside this script) that starts by returning or skipping on some backend.
# Such a test passes, or skips, without testing anything; a test that does
# not apply to a backend is declared TEST_ONLY(backend, name) (tests/test.h),
# so the runner reports it as not applicable and `make check` sees the rest.
set -u
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
awk '
    /^TEST\(/ { t = FNR; head = $0; cond = 0; next }
    t && FNR == t + 1 {
        if ($0 ~ /t_backend|is_pg\(|is_sqlite\(/) {
            cond = 1
            if ($0 ~ /(return|skip\(|t_skip\().*;/) { bad(); t = 0 }
        } else
            t = 0
        next
    }
    t && FNR == t + 2 {
        if (cond && $0 ~ /^[ \t]*(return|skip\(|t_skip\()/) bad()
        t = 0
    }
    function bad() {
        printf "%s:%d: %s\n    starts by leaving on one backend; declare it\n" \
               "    TEST_ONLY(sqlite|pg, name) instead (tests/test.h)\n", FILENAME, t, head
        found = 1
    }
    END { exit found }
' "$dir"/test_*.c || exit 1
echo "test declarations: no test leaves early on a backend"
