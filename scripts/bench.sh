#!/bin/sh
# SPDX-License-Identifier: MIT
# bench.sh: run workload W1 (shared/bench/W1.md) on SQLite and on a throwaway
# PostgreSQL (scripts/with-pg.sh), m2m against the raw-SQL baselines, and
# write docs/bench/results.txt; then draw docs/bench/w1.svg.
#
# Environment: U (users, 2000), RUNS (repetitions, 5), SCALE=1 to add the
# --scale runs, BUILD (build dir, build-bench), OUT (results file).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
U=${U:-2000}
RUNS=${RUNS:-5}
BUILD=${BUILD:-build-bench}
OUT=${OUT:-docs/bench/results.txt}

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bench_w1 >/dev/null
w1="$BUILD/w1"

mkdir -p "$(dirname "$OUT")"
tmp="$OUT.tmp"
{
    echo "# W1 results, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
    echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')," \
        "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
    echo "# compiler: $(${CC:-cc} --version | head -1); build: Release (-O3)"
    echo "# sqlite $(pkg-config --modversion sqlite3), libpq $(pkg-config --modversion libpq)," \
        "server $(/usr/lib/postgresql/15/bin/postgres --version 2>/dev/null | awk '{print $3}')"
    echo
    "$w1" --runs "$RUNS" sqlite - "$U"
    echo
    env -u M2M_TEST_PG M2M_PG_DEFAULTS=1 scripts/with-pg.sh "$w1" --runs "$RUNS" pg - "$U"
    if [ "${SCALE:-0}" = 1 ]; then
        echo
        "$w1" --scale sqlite -
        echo
        env -u M2M_TEST_PG M2M_PG_DEFAULTS=1 scripts/with-pg.sh "$w1" --scale pg -
    fi
} >"$tmp"
mv "$tmp" "$OUT"
cat "$OUT"
scripts/bench-chart.sh "$OUT" docs/bench/w1.svg
