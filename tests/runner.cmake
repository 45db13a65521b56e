# SPDX-License-Identifier: MIT
# The test runner's own tests (tests/runner/): a runner built with one test
# of each way a test can end -- pass, failed assertion, crash, abort, hang,
# skip, early exit, a leak under ASan, a test declared for another backend
# -- and a script that checks each is reported for what it is.
add_executable(m2m_runner_selftest ${PROJECT_SOURCE_DIR}/tests/runner.c
               ${PROJECT_SOURCE_DIR}/tests/runner/selftest.c)
target_compile_definitions(m2m_runner_selftest PRIVATE _POSIX_C_SOURCE=200809L)
target_link_libraries(m2m_runner_selftest PRIVATE m2m_static PkgConfig::CMOCKA)
add_test(NAME runner_selftest
         COMMAND ${PROJECT_SOURCE_DIR}/tests/runner/selftest.sh
                 $<TARGET_FILE:m2m_runner_selftest>)
set_tests_properties(runner_selftest PROPERTIES TIMEOUT 120)

# No test may start by returning or skipping on one backend: such a test
# passes without testing; it is declared TEST_ONLY instead.
add_test(NAME test_declarations
         COMMAND ${PROJECT_SOURCE_DIR}/tests/runner/decl-check.sh ${PROJECT_SOURCE_DIR}/tests)
