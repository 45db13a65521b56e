# SPDX-License-Identifier: MIT
# Install rules: libm2m.so.0 with its soname link, libm2m.a, m2m.h, the m2m
# tool and its man page, m2m.pc and the CMake package m2m (targets m2m::m2m
# and m2m::m2m_static). Included by CMakeLists.txt when M2M_INSTALL is on.
include(CMakePackageConfigHelpers)

install(TARGETS m2m_shared m2m_static EXPORT m2mTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/m2m.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
if(TARGET m2m_cli)
  install(TARGETS m2m_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tool)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/m2m.1
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tool)
endif()

# m2m.pc: the modules of the backends built in are Requires.private, so
# `pkg-config --static --libs m2m` names them and the shared case does not.
# libpq and libjwt are the exception: their .pc files name, for static
# linking, libraries that are not on the linker's path on Debian 12 (libpq:
# -lpgcommon -lpgport, which postgresql-server-dev-15 keeps in
# /usr/lib/postgresql/15/lib, -lgssapi_krb5 and -lldap without libkrb5-dev
# and libldap-dev; libjwt: -lb64 without libb64-dev), so they are linked by
# their plain flags (Libs.private), as the shared libraries they are.
set(m2m_pc_shared_only libpq libjwt)
set(m2m_pc_requires "")
set(m2m_pc_libs "")
foreach(dep ${M2M_DEPS})
  string(REGEX REPLACE "=.*" "" prefix "${dep}")
  string(REGEX REPLACE "^[^=]*=" "" module "${dep}")
  if(module IN_LIST m2m_pc_shared_only)
    foreach(flag ${${prefix}_LDFLAGS})
      string(REGEX REPLACE "^-L" "" dir "${flag}")
      if(NOT flag MATCHES "^-L" OR NOT dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
        list(APPEND m2m_pc_libs "${flag}")
      endif()
    endforeach()
  else()
    list(APPEND m2m_pc_requires ${module})
  endif()
endforeach()
list(APPEND m2m_pc_libs -pthread -lm)
list(REMOVE_DUPLICATES m2m_pc_libs)
list(JOIN m2m_pc_requires " " M2M_PC_REQUIRES)
list(JOIN m2m_pc_libs " " M2M_PC_LIBS_PRIVATE)
# The prefix is the one `cmake --install --prefix` (or DESTDIR) really uses:
# the file is written at install time.
set(M2M_PC_PREFIX "@M2M_PC_PREFIX@")
configure_file(${PROJECT_SOURCE_DIR}/cmake/m2m.pc.in ${PROJECT_BINARY_DIR}/m2m.pc.in @ONLY)
install(CODE "
  set(M2M_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/m2m.pc.in\"
                 \"${PROJECT_BINARY_DIR}/m2m.pc\" @ONLY)
" COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/m2m.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# The CMake package.
set(m2m_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/m2m)
install(EXPORT m2mTargets NAMESPACE m2m:: DESTINATION ${m2m_cmakedir} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/m2mConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/m2mConfig.cmake
                              INSTALL_DESTINATION ${m2m_cmakedir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/m2mConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/m2mConfig.cmake
        ${PROJECT_BINARY_DIR}/m2mConfigVersion.cmake
        DESTINATION ${m2m_cmakedir} COMPONENT dev)
