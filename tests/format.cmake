# Every tracked C file must match the checked-in .clang-format.
find_program(CLANG_FORMAT clang-format REQUIRED)
add_test(NAME format COMMAND ${CMAKE_SOURCE_DIR}/scripts/format-check.sh)
