# SPDX-License-Identifier: MIT
# m2m as its users get it (tests/consumers/run.sh): installed into a
# temporary prefix, found through pkg-config, find_package and
# add_subdirectory, linked shared, static and from C++17; and the export
# check. Not in sanitizer builds: consumers would need the sanitizer
# runtime. `make check` also runs it on the .deb files (make deb).
if(M2M_INSTALL AND NOT M2M_ASAN AND NOT M2M_UBSAN)
  add_test(NAME consumers
           COMMAND sh ${PROJECT_SOURCE_DIR}/tests/consumers/run.sh install
                   ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(consumers PROPERTIES TIMEOUT 900)
endif()
