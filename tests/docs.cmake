# SPDX-License-Identifier: MIT
# Docs that compile and run: every C block of README.md and docs/*.md is
# built against the shared library and run (scripts/doc-blocks.sh, fixtures
# in tests/doc_fixture.h; docs/jwt.md's on the server of M2M_TEST_PG, as
# under scripts/with-pg.sh), and every shell example of docs/cli.md runs
# against the config that page shows (scripts/doc-cli.sh; its PostgreSQL-only
# example runs when M2M_TEST_PG is set, as under scripts/with-pg.sh).
if(TARGET m2m_shared)
  set(DOC_CFLAGS "")
  if(M2M_ASAN)
    string(APPEND DOC_CFLAGS " -fsanitize=address -fno-omit-frame-pointer")
  endif()
  if(M2M_UBSAN)
    string(APPEND DOC_CFLAGS " -fsanitize=undefined -fno-sanitize-recover=undefined")
  endif()
  file(GLOB DOC_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
  # docs/jwt.md's blocks sign their token with libcrypto, and run where the
  # build has JWT sessions (on the server of M2M_TEST_PG).
  list(JOIN M2M_LIBCRYPTO_CFLAGS " " doc_jwt_cflags)
  list(JOIN M2M_LIBCRYPTO_LDFLAGS " " doc_jwt_ldflags)
  if(M2M_WITH_JWT_BUILT)
    set(DOC_PG 1)
  else()
    set(DOC_PG 0)
  endif()
  add_test(NAME doc_blocks
           COMMAND ${CMAKE_COMMAND} -E env CC=${CMAKE_C_COMPILER}
                   "DOC_CFLAGS=${DOC_CFLAGS}"
                   "DOC_LIBS=$<TARGET_FILE:m2m_shared> -Wl,-rpath,$<TARGET_FILE_DIR:m2m_shared>"
                   "DOC_JWT_FLAGS=${doc_jwt_cflags} ${doc_jwt_ldflags}" DOC_PG=${DOC_PG}
                   ${PROJECT_SOURCE_DIR}/scripts/doc-blocks.sh ${CMAKE_BINARY_DIR}/doc-blocks
                   ${PROJECT_SOURCE_DIR}/README.md ${DOC_PAGES})
  set_tests_properties(doc_blocks PROPERTIES TIMEOUT 600)
endif()
if(TARGET m2m_cli)
  add_test(NAME doc_cli
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/doc-cli.sh $<TARGET_FILE:m2m_cli>
                   ${PROJECT_SOURCE_DIR}/docs/cli.md)
  set_tests_properties(doc_cli PROPERTIES TIMEOUT 300)
endif()
# Every public function of m2m.h is mentioned in some doc.
add_test(NAME doc_api COMMAND ${PROJECT_SOURCE_DIR}/scripts/doc-api.sh ${PROJECT_SOURCE_DIR})
# The plans of docs/backends.md are what m2m_explain plans (scripts/doc-plans.sh),
# on every backend built in (under scripts/with-pg.sh and with-mariadb.sh).
if(TARGET explain)
  set(plan_backends sqlite)
  if(M2M_WITH_PG)
    string(APPEND plan_backends +pg)
  endif()
  if(M2M_WITH_MARIADB_BUILT)
    string(APPEND plan_backends +mariadb)
  endif()
  add_test(NAME doc_plans
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/doc-plans.sh $<TARGET_FILE:explain>
                   ${PROJECT_SOURCE_DIR}/docs/backends.md ${plan_backends})
endif()
