#!/bin/sh
# SPDX-License-Identifier: MIT
# stress.sh [ROUNDS] [BUILD]: the concurrency tests (tests/test_concurrency.c)
# for ROUNDS rounds per pivot (default 500) on SQLite and on a throwaway
# PostgreSQL server: 20 writers on one parent, every write operation, with
# and without reports, through a relation and its inverse, each round
# checked against a serial order. `make check` runs 20 rounds.
set -u
rounds=${1:-500}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/m2m_tests"
if [ ! -x "$bin" ]; then
    echo "stress: $bin not found; build first (make build)" >&2
    exit 2
fi
# A round takes well under a second; give each test that and a minute.
timeout=$((rounds + 60))
status=0
M2M_STRESS_ROUNDS=$rounds "$bin" --timeout $timeout --backend sqlite concurrency_ || status=1
M2M_STRESS_ROUNDS=$rounds "$here/with-pg.sh" "$bin" --timeout $timeout --backend pg \
    concurrency_ || status=1
exit $status
