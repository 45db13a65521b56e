# SPDX-License-Identifier: MIT
# ctest entries of the m2m tool, the demo and the parser fuzz target.
# Included by CMakeLists.txt after the m2m_cli and m2m_tests targets exist.

# The CLI driven end to end. Each fails (never skips) when its backend is
# unavailable: cli_pg needs M2M_TEST_PG (scripts/with-pg.sh sets it),
# cli_mariadb M2M_TEST_MARIADB (scripts/with-mariadb.sh).
if(TARGET m2m_cli)
  add_test(NAME cli_sqlite
           COMMAND ${PROJECT_SOURCE_DIR}/tests/cli_test.sh $<TARGET_FILE:m2m_cli> sqlite)
  if(M2M_WITH_PG)
    # A connection lost right after COMMIT, for the tool's exit 7 (in doubt).
    add_executable(m2m_cutproxy ${PROJECT_SOURCE_DIR}/tests/cli/cutproxy.c)
    target_compile_definitions(m2m_cutproxy PRIVATE _POSIX_C_SOURCE=200809L)
    add_test(NAME cli_pg
             COMMAND ${CMAKE_COMMAND} -E env M2M_CUTPROXY=$<TARGET_FILE:m2m_cutproxy>
                     ${PROJECT_SOURCE_DIR}/tests/cli_test.sh $<TARGET_FILE:m2m_cli> pg)
  endif()
  if(M2M_WITH_MARIADB_BUILT)
    add_test(NAME cli_mariadb
             COMMAND ${PROJECT_SOURCE_DIR}/tests/cli_test.sh $<TARGET_FILE:m2m_cli> mariadb)
    set_tests_properties(cli_mariadb PROPERTIES TIMEOUT 300)
  endif()
  set_tests_properties(cli_sqlite PROPERTIES TIMEOUT 300)

  # The exit code of every result code, M2M_INDOUBT (7) included.
  add_executable(cli_exit_codes ${PROJECT_SOURCE_DIR}/tests/cli/exit_codes.c
                 ${PROJECT_SOURCE_DIR}/cli/out.c ${PROJECT_SOURCE_DIR}/cli/conf.c
                 ${PROJECT_SOURCE_DIR}/cli/args.c)
  target_include_directories(cli_exit_codes PRIVATE ${PROJECT_SOURCE_DIR}/cli)
  target_compile_definitions(cli_exit_codes PRIVATE _POSIX_C_SOURCE=200809L)
  target_link_libraries(cli_exit_codes PRIVATE m2m_static PkgConfig::M2M_TOOL_JANSSON)
  add_test(NAME cli_exit_codes COMMAND cli_exit_codes)
endif()

# The demo on a temp SQLite file, checking a few lines of its story.
if(TARGET demo)
  add_test(NAME demo_smoke
           COMMAND ${PROJECT_SOURCE_DIR}/tests/cli_test.sh $<TARGET_FILE:demo> demo)
endif()

# The checked-in fuzz corpus replayed without libFuzzer, in every build
# (so also under the sanitizer build of `make check`).
add_executable(fuzz_conf_replay ${PROJECT_SOURCE_DIR}/tests/fuzz/replay.c
               ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_conf.c
               ${PROJECT_SOURCE_DIR}/cli/conf.c ${PROJECT_SOURCE_DIR}/cli/args.c)
target_include_directories(fuzz_conf_replay PRIVATE ${PROJECT_SOURCE_DIR}/include
                           ${PROJECT_SOURCE_DIR}/cli)
target_compile_definitions(fuzz_conf_replay PRIVATE _POSIX_C_SOURCE=200809L)
add_test(NAME fuzz_replay
         COMMAND fuzz_conf_replay ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus)

# A short libFuzzer run, where clang is installed. scripts/fuzz.sh builds
# its own target with clang's ASan and UBSan, so the sanitizer build of the
# suite does not run it again.
find_program(CLANG NAMES clang clang-14)
if(CLANG AND NOT M2M_ASAN)
  add_test(NAME fuzz_short
           COMMAND ${CMAKE_COMMAND} -E env CLANG=${CLANG}
                   ${PROJECT_SOURCE_DIR}/scripts/fuzz.sh 30 ${PROJECT_BINARY_DIR}/fuzz)
  set_tests_properties(fuzz_short PROPERTIES TIMEOUT 240)
endif()
