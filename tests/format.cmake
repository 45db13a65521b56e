# SPDX-License-Identifier: MIT
# Every tracked C file must match the checked-in .clang-format. Required
# with M2M_BUILD_TESTS=ON (make check); skipped where clang-format is not
# installed otherwise.
if(M2M_BUILD_TESTS STREQUAL "ON")
  find_program(CLANG_FORMAT clang-format REQUIRED)
else()
  find_program(CLANG_FORMAT clang-format)
endif()
# The sources are the same in the sanitizer build: checked once, in the plain one.
if(CLANG_FORMAT AND NOT M2M_ASAN)
  add_test(NAME format COMMAND ${PROJECT_SOURCE_DIR}/scripts/format-check.sh)
endif()
