#!/bin/sh
# SPDX-License-Identifier: MIT
# W1 on PostgreSQL at a given round-trip time: the server behind
# bench/delayproxy.c, which holds every chunk DELAY_US microseconds each way.
#   bench/latency.sh BUILD_DIR [DELAY_US [U [RUNS]]]
# (default 250 us each way, i.e. +0.5 ms per round trip, U = 200, 5 runs).
# Run under scripts/with-pg.sh, which sets M2M_TEST_PG (host=DIR port=P ...).
# First measures the round trip of an empty query directly and through the
# proxy, then runs `w1 --runs RUNS pg CONNINFO U` through the proxy.
set -eu
build=$1 delay=${2:-250} users=${3:-200} runs=${4:-5}
: "${M2M_TEST_PG:?run under scripts/with-pg.sh}"
field() { printf '%s\n' "$M2M_TEST_PG" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
host=$(field host) port=$(field port)
dir=$(mktemp -d)
pport=$((port + 1000))
pid=$("$build/delayproxy" "$dir" "$pport" "$host" "$port" "$delay")
trap 'kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
via=$(printf '%s\n' "$M2M_TEST_PG" | sed "s|host=[^ ]*|host=$dir|; s|port=[^ ]*|port=$pport|")
rtt() { # mean ms of 200 empty queries on one connection
    printf 'SELECT 1;\n%.0s' $(seq 1 200) >"$dir/q.sql"
    python3 - "$1" "$dir/q.sql" <<'PY' 2>/dev/null || echo "?"
import subprocess, sys, time
t = time.monotonic()
subprocess.run(["psql", "-qAt", "-d", sys.argv[1], "-f", sys.argv[2]],
               stdout=subprocess.DEVNULL, check=True)
print("%.3f" % ((time.monotonic() - t) * 1000 / 200))
PY
}
echo "delay ${delay} us each way; round trip of SELECT 1 (ms, incl. psql): direct $(rtt "$M2M_TEST_PG"), via proxy $(rtt "$via")"
"$build/w1" --runs "$runs" pg "$via" "$users"
