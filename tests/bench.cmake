# SPDX-License-Identifier: MIT
# Smoke runs of the W1 benchmark (bench/w1.c): compare mode at U = 20 with one
# run, so the benchmark keeps building and m2m's checksums keep matching the
# raw-SQL baselines'. w1 exits non-zero on any difference. No timing is
# asserted. The server entries read $M2M_TEST_PG / $M2M_TEST_MARIADB when
# they run (target "-") and fail, never skip, when it is unset.
if(TARGET bench_w1)
  add_test(NAME bench_smoke_sqlite COMMAND bench_w1 --runs 1 sqlite - 20)
  if(M2M_WITH_PG)
    add_test(NAME bench_smoke_pg COMMAND bench_w1 --runs 1 pg - 20)
  endif()
  if(M2M_WITH_MARIADB_ON)
    add_test(NAME bench_smoke_mariadb COMMAND bench_w1 --runs 1 mariadb - 20)
  endif()
endif()
