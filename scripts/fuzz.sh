#!/bin/sh
# SPDX-License-Identifier: MIT
# Fuzz the m2m tool's config/operand parsers with libFuzzer for a bounded
# time: scripts/fuzz.sh [SECONDS] [WORKDIR]. New inputs go to WORKDIR, never
# to the checked-in corpus (tests/fuzz/corpus), which only seeds the run.
# Needs clang with libFuzzer (Debian: clang-14, libclang-rt-14-dev).
set -eu
secs=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${2:-$root/build-fuzz}
cc=${CLANG:-clang}
mkdir -p "$work/corpus"
"$cc" -std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$root/include" -I"$root/cli" \
    "$root/tests/fuzz/fuzz_conf.c" "$root/cli/conf.c" "$root/cli/args.c" \
    -o "$work/fuzz_conf"
# -max_len covers a config of several sections; leaks fail the run.
exec "$work/fuzz_conf" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
    -detect_leaks=1 "$work/corpus" "$root/tests/fuzz/corpus"
