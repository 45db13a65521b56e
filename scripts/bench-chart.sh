#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-chart.sh [RESULTS] [SVG]: draw W1 seconds per phase, m2m beside the
# raw-SQL baselines, one panel per backend, from the RESULT lines that
# bench/w1.c prints (docs/bench/results.txt by default). Needs gnuplot, which
# is installed here when missing; the build never needs it.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
in=${1:-docs/bench/results.txt}
out=${2:-docs/bench/w1.svg}

if ! command -v gnuplot >/dev/null 2>&1; then
    echo "bench-chart: installing gnuplot-nox" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        gnuplot-nox >/dev/null || {
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install \
            -y -qq --no-install-recommends gnuplot-nox >/dev/null
    }
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/w1chart.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# RESULT <backend> <U> <phase> <impl> <seconds> <statements> <round trips>
awk -v d="$dir" '$1 == "RESULT" {
        u[$2] = $3; t[$2, $4, $5] = $6; ph[$4] = 1
    }
    END {
        n = split("P1 P2 P3 P4 P5 P6 P7", p, " ")
        for (i = 1; i <= n; i++) {
            printf "%s %s %s\n", p[i], t["sqlite", p[i], "m2m"], t["sqlite", p[i], "raw"] > (d "/sqlite.dat")
            printf "%s %s %s %s\n", p[i], t["pg", p[i], "m2m"], t["pg", p[i], "raw"], \
                t["pg", p[i], "raw-set"] > (d "/pg.dat")
        }
        printf "%s %s\n", u["sqlite"], u["pg"] > (d "/u")
    }' "$in"
read -r usq upg <"$dir/u"

gnuplot <<GP
set terminal svg size 1000,420 dynamic font "sans,11" background rgb "white"
set output "$out"
set multiplot layout 1,2 title "W1: seconds per phase (median; lower is better; log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set grid ytics
set key top right
set ylabel "seconds"
set title "SQLite, U=$usq"
plot "$dir/sqlite.dat" using 2:xtic(1) title "m2m" lc rgb "#1f77b4", \
     "" using 3 title "raw" lc rgb "#aaaaaa"
set title "PostgreSQL, U=$upg"
plot "$dir/pg.dat" using 2:xtic(1) title "m2m" lc rgb "#1f77b4", \
     "" using 3 title "raw (per id)" lc rgb "#aaaaaa", \
     "" using 4 title "raw-set (arrays)" lc rgb "#555555"
unset multiplot
GP
echo "bench-chart: wrote $out"
