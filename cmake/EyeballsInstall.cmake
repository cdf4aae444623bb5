# SPDX-License-Identifier: BSL-1.0
# Install rules: headers, libraries, the CMake package (eyeballsConfig.cmake,
# its version file, eyeballsTargets) and pkg-config files.
#
# Included at the end of the top-level CMakeLists.txt, after the adapters, so
# every target that was built exists here. What gets installed:
#   eyeballs::core            always (with eyeballs.h, the C API)
#   eyeballs::poll            when adapters/poll was built (c-ares found)
#   eyeballs::asio            when adapters/asio was built (asio.hpp found)
#   eyeballs::boost_asio      when Boost ≥ 1.81 was found (the same headers,
#                             adapters/asio/include, over Boost.Asio)
#   eyeballs::libevent        when adapters/libevent was built (libevent found)
#   eyeballs::libuv           when adapters/libuv was built (libuv found)
#   eyeballs::uring           when adapters/uring was built (liburing found)
#   eyeballs::asio_ssl, eyeballs::boost_asio_ssl   async_connect_tls (headers
#                             <eyeballs/asio_ssl.hpp>, <eyeballs/boost_asio_ssl.hpp>),
#                             when eyeballs::tls_client (OpenSSL 3) was built
#   eyeballs::socket_ops      the POSIX socket steps poll, libevent, libuv and uring link
#   eyeballs::quic_client     QUIC attempts (ngtcp2 + GnuTLS) that poll and libevent link
#   eyeballs::tls_client      the OpenSSL 3 handshake poll, libevent, libuv, uring and *_ssl link
#   eyeballs-connect, eyeballs-sim   into bin/, when EYEBALLS_INSTALL_TOOLS
# Everything of the library is install component "dev", the programs are
# component "tools" (cmake --install --component tools; the Debian packages
# of cmake/EyeballsPackage.cmake are made one per component).
# Each adapter's dependencies are read from its link libraries, so the package
# config searches exactly for what was installed (find_dependency(Threads),
# pkg-config modules through PkgConfig IMPORTED_TARGETs), and the .pc files
# require exactly that.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EYEBALLS_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/eyeballs CACHE STRING
  "Where eyeballsConfig.cmake goes, relative to the install prefix")
set(EYEBALLS_INSTALL_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig CACHE STRING
  "Where the eyeballs*.pc files go, relative to the install prefix")
mark_as_advanced(EYEBALLS_INSTALL_CMAKEDIR EYEBALLS_INSTALL_PKGCONFIGDIR)

# ---- What was built --------------------------------------------------------
set(_eyeballs_components core)
set(_eyeballs_targets eyeballs_core)
foreach(_adapter IN ITEMS poll asio boost_asio libevent libuv uring asio_ssl boost_asio_ssl)
  if(TARGET eyeballs_${_adapter})
    list(APPEND _eyeballs_components ${_adapter})
    list(APPEND _eyeballs_targets eyeballs_${_adapter})
  endif()
endforeach()
if(TARGET eyeballs_socket_ops AND (TARGET eyeballs_poll OR TARGET eyeballs_libevent OR TARGET eyeballs_libuv
    OR TARGET eyeballs_uring))
  list(APPEND _eyeballs_targets eyeballs_socket_ops)
endif()
# The QUIC client (adapters/quic) that poll and libevent link.
if(TARGET eyeballs_quic_client AND (TARGET eyeballs_poll OR TARGET eyeballs_libevent))
  list(APPEND _eyeballs_targets eyeballs_quic_client)
endif()
# eyeballs::tls_client (adapters/tls): the OpenSSL handshake the TLS races share.
if(TARGET eyeballs_tls_client)
  list(APPEND _eyeballs_targets eyeballs_tls_client)
endif()
foreach(_target IN LISTS _eyeballs_targets)
  # Shared adapters load libeyeballs_socket_ops.so and libeyeballs.so from
  # their own directory, wherever the tree is installed.
  get_target_property(_type ${_target} TYPE)
  get_target_property(_rpath ${_target} INSTALL_RPATH)
  if(_type STREQUAL "SHARED_LIBRARY" AND NOT _rpath AND NOT APPLE)
    set_target_properties(${_target} PROPERTIES INSTALL_RPATH "$ORIGIN")
  endif()
  get_target_property(_export_name ${_target} EXPORT_NAME)
  if(NOT _export_name)
    string(REGEX REPLACE "^eyeballs_" "" _export_name ${_target})
    set_target_properties(${_target} PROPERTIES EXPORT_NAME ${_export_name})
  endif()
endforeach()
message(STATUS "eyeballs: install will provide ${_eyeballs_components}")

# ---- Dependencies ------------------------------------------------------------
# _eyeballs_link_deps(<target> <out-public> <out-private>): the external link
# dependencies of a target, following our own targets (eyeballs::socket_ops)
# but not eyeballs::core (that is the core component's business). Each is
#   threads                      Threads::Threads
#   boost                        Boost::headers (Boost's CMake package; no .pc)
#   pkg|<PREFIX>|<module specs>  PkgConfig::<PREFIX>, from pkg_check_modules
#   lib|<name>                   a plain library name or path (-l<name>)
# Anything else is an error: this file must learn how consumers find it.
function(_eyeballs_link_deps target out_public out_private)
  set(public "")
  set(private "")
  get_target_property(type ${target} TYPE)
  get_target_property(iface ${target} INTERFACE_LINK_LIBRARIES)
  if(NOT iface)
    set(iface "")
  endif()
  set(impl "")
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(impl ${target} LINK_LIBRARIES)
    if(NOT impl)
      set(impl "")
    endif()
  endif()
  foreach(kind IN ITEMS public private)
    if(kind STREQUAL "public")
      set(items ${iface})
    else()
      set(items ${impl})
    endif()
    foreach(item IN LISTS items)
      if(item MATCHES "^\\$<LINK_ONLY:(.*)>$")
        set(item "${CMAKE_MATCH_1}")
      endif()
      if(item MATCHES "^\\$<BUILD_INTERFACE:" OR item STREQUAL "")
        continue()
      endif()
      if(TARGET ${item})
        get_target_property(aliased ${item} ALIASED_TARGET)
        if(aliased)
          set(item ${aliased})
        endif()
      endif()
      if(item STREQUAL "eyeballs_core")
        continue()
      elseif(item MATCHES "^eyeballs_")
        _eyeballs_link_deps(${item} sub_public sub_private)
        # A static helper's dependencies all reach the final link.
        list(APPEND ${kind} ${sub_public} ${sub_private})
      elseif(item STREQUAL "Threads::Threads")
        list(APPEND ${kind} threads)
      elseif(item STREQUAL "Boost::headers")
        list(APPEND ${kind} boost)
      elseif(item MATCHES "^PkgConfig::(.+)$")
        set(prefix "${CMAKE_MATCH_1}")
        set(args "${__pkg_config_arguments_${prefix}}")
        if(NOT args)
          set(args "${${prefix}_MODULE_NAME}")
        endif()
        list(REMOVE_ITEM args REQUIRED QUIET IMPORTED_TARGET GLOBAL NO_CMAKE_PATH
          NO_CMAKE_ENVIRONMENT_PATH)
        if(NOT args)
          message(FATAL_ERROR "eyeballs install: cannot tell which pkg-config module made ${item} (linked by ${target})")
        endif()
        list(JOIN args " " modules)
        list(APPEND ${kind} "pkg|${prefix}|${modules}")
      elseif(item MATCHES "::" OR TARGET ${item})
        message(FATAL_ERROR "eyeballs install: ${target} links ${item}; teach cmake/EyeballsInstall.cmake how consumers find it")
      else()
        list(APPEND ${kind} "lib|${item}")
      endif()
    endforeach()
  endforeach()
  list(REMOVE_DUPLICATES public)
  list(REMOVE_DUPLICATES private)
  # LINK_LIBRARIES holds the public items too: private is what is left.
  foreach(dep IN LISTS public)
    list(REMOVE_ITEM private "${dep}")
  endforeach()
  set(${out_public} ${public} PARENT_SCOPE)
  set(${out_private} ${private} PARENT_SCOPE)
endfunction()

# ---- Headers and libraries ---------------------------------------------------
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT dev FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/eyeballs/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/eyeballs COMPONENT dev)
# Each adapter's headers are in adapters/<adapter>/include; both Asio flavours
# (asio, boost_asio) share adapters/asio/include.
set(_eyeballs_header_dirs "")
foreach(_component IN LISTS _eyeballs_components)
  if(_component MATCHES "^(boost_asio|asio_ssl|boost_asio_ssl)$")
    list(APPEND _eyeballs_header_dirs asio)
  elseif(NOT _component STREQUAL "core")
    list(APPEND _eyeballs_header_dirs ${_component})
  endif()
endforeach()
if(TARGET eyeballs_quic_client AND (TARGET eyeballs_poll OR TARGET eyeballs_libevent))
  list(APPEND _eyeballs_header_dirs quic)  # eyeballs/quic_client.hpp
endif()
if(TARGET eyeballs_tls_client)
  list(APPEND _eyeballs_header_dirs tls)
endif()
list(REMOVE_DUPLICATES _eyeballs_header_dirs)
foreach(_dir IN LISTS _eyeballs_header_dirs)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/adapters/${_dir}/include/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
    FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h" PATTERN "*.ipp")
endforeach()
install(TARGETS ${_eyeballs_targets} EXPORT eyeballsTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT eyeballsTargets NAMESPACE eyeballs:: DESTINATION ${EYEBALLS_INSTALL_CMAKEDIR}
  COMPONENT dev)
# The licence travels with every install (BSL-1.0 asks that source copies keep it).
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)

# ---- Programs ------------------------------------------------------------------
# eyeballs-connect and eyeballs-sim, component "tools". They link the static
# libraries in; built shared, they find libeyeballs*.so in ../lib.
set(EYEBALLS_INSTALLED_TOOLS "")
if(EYEBALLS_INSTALL_TOOLS)
  foreach(_tool IN ITEMS eyeballs-connect eyeballs-sim)
    if(TARGET ${_tool})
      list(APPEND EYEBALLS_INSTALLED_TOOLS ${_tool})
    endif()
  endforeach()
endif()
if(EYEBALLS_INSTALLED_TOOLS)
  if(NOT APPLE)
    file(RELATIVE_PATH _rel "/prefix/${CMAKE_INSTALL_BINDIR}" "/prefix/${CMAKE_INSTALL_LIBDIR}")
    set_target_properties(${EYEBALLS_INSTALLED_TOOLS} PROPERTIES INSTALL_RPATH "$ORIGIN/${_rel}")
  endif()
  install(TARGETS ${EYEBALLS_INSTALLED_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  if(eyeballs-connect IN_LIST EYEBALLS_INSTALLED_TOOLS)
    # Its manual page (every option of --help: tests/integration/connect_docs_test.py).
    install(FILES ${PROJECT_SOURCE_DIR}/docs/eyeballs-connect.1
      DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
  endif()
  message(STATUS "eyeballs: install will put ${EYEBALLS_INSTALLED_TOOLS} in ${CMAKE_INSTALL_BINDIR}/")
endif()

# ---- CMake package -------------------------------------------------------------
# The config file gets, per component, the code that finds its dependencies.
set(EYEBALLS_CONFIG_COMPONENTS "${_eyeballs_components}")
set(EYEBALLS_CONFIG_DEPENDENCIES "")
foreach(_component IN LISTS _eyeballs_components)
  _eyeballs_link_deps(eyeballs_${_component} _public _private)
  set(_code "")
  foreach(_dep IN LISTS _public _private)
    if(_dep STREQUAL "threads")
      string(APPEND _code "  _eyeballs_need_threads(${_component})\n")
    elseif(_dep STREQUAL "boost")
      string(APPEND _code "  _eyeballs_need_boost(${_component} ${EYEBALLS_BOOST_MIN_VERSION})\n")
    elseif(_dep MATCHES "^pkg\\|([^|]+)\\|(.*)$")
      string(APPEND _code "  _eyeballs_need_pkg(${_component} ${CMAKE_MATCH_1} \"${CMAKE_MATCH_2}\")\n")
    endif()
  endforeach()
  if(_component STREQUAL "asio")
    # The adapter's Asio include directory is a build-tree setting; consumers
    # look for asio.hpp themselves (hint: where this build found it).
    string(APPEND _code "  _eyeballs_need_asio_headers(asio \"${EYEBALLS_ASIO_INCLUDE_DIR}\")\n")
  endif()
  if(_code)
    string(APPEND EYEBALLS_CONFIG_DEPENDENCIES
      "if(\"${_component}\" IN_LIST _eyeballs_wanted)\n${_code}endif()\n")
  endif()
endforeach()

write_basic_package_version_file(${PROJECT_BINARY_DIR}/eyeballsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/eyeballsConfig.cmake.in
  ${PROJECT_BINARY_DIR}/eyeballsConfig.cmake
  INSTALL_DESTINATION ${EYEBALLS_INSTALL_CMAKEDIR})
install(FILES ${PROJECT_BINARY_DIR}/eyeballsConfig.cmake
  ${PROJECT_BINARY_DIR}/eyeballsConfigVersion.cmake
  DESTINATION ${EYEBALLS_INSTALL_CMAKEDIR} COMPONENT dev)

# ---- pkg-config ------------------------------------------------------------------
# eyeballs.pc for the core (and the C API); eyeballs-<adapter>.pc per adapter,
# requiring eyeballs and the adapter's own pkg-config dependencies. Static
# libraries have no shared twin, so everything their link needs goes into
# Requires/Libs (no --static needed); shared ones keep private deps private.
# The files are relocatable: prefix is found from the .pc file's own place.
if(IS_ABSOLUTE "${EYEBALLS_INSTALL_PKGCONFIGDIR}")
  set(EYEBALLS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _rel "/prefix/${EYEBALLS_INSTALL_PKGCONFIGDIR}" "/prefix")
  string(REGEX REPLACE "/$" "" _rel "${_rel}")
  set(EYEBALLS_PC_PREFIX "\${pcfiledir}/${_rel}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(EYEBALLS_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(EYEBALLS_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(EYEBALLS_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(EYEBALLS_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()

# The C++ runtime a C program needs to link the static core.
set(_eyeballs_cxx_runtime "")
foreach(_lib IN LISTS CMAKE_CXX_IMPLICIT_LINK_LIBRARIES)
  if(NOT _lib IN_LIST CMAKE_C_IMPLICIT_LINK_LIBRARIES AND NOT _lib IN_LIST _eyeballs_cxx_runtime)
    list(APPEND _eyeballs_cxx_runtime ${_lib})
  endif()
endforeach()

function(_eyeballs_pc_lib_name target out)
  get_target_property(name ${target} OUTPUT_NAME)
  if(NOT name)
    set(name ${target})
  endif()
  set(${out} ${name} PARENT_SCOPE)
endfunction()

# _eyeballs_write_pc(<component>): writes and installs the component's .pc.
function(_eyeballs_write_pc component)
  set(target eyeballs_${component})
  get_target_property(type ${target} TYPE)
  _eyeballs_link_deps(${target} public private)
  set(requires "")
  set(requires_private "")
  set(libs "")
  set(libs_private "")
  if(component STREQUAL "core")
    set(EYEBALLS_PC_NAME "eyeballs")
    set(EYEBALLS_PC_DESCRIPTION "${PROJECT_DESCRIPTION}: the core (C++17 RaceMachine, C API)")
  else()
    # eyeballs-poll, ..., eyeballs-boost-asio (pkg-config names use dashes).
    string(REPLACE "_" "-" EYEBALLS_PC_NAME "eyeballs-${component}")
    set(EYEBALLS_PC_DESCRIPTION "${PROJECT_DESCRIPTION}: the ${component} adapter")
    list(APPEND requires "eyeballs = ${PROJECT_VERSION}")
  endif()
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    _eyeballs_pc_lib_name(${target} name)
    list(APPEND libs "-L\${libdir}" "-l${name}")
    get_target_property(linked ${target} LINK_LIBRARIES)
    if(linked AND (linked MATCHES "eyeballs::socket_ops" OR linked MATCHES "eyeballs_socket_ops"))
      _eyeballs_pc_lib_name(eyeballs_socket_ops helper)
      list(APPEND libs "-l${helper}")
    endif()
  endif()
  # eyeballs::tls_client is a library of its own (linked by poll, libevent and,
  # through their interface, asio_ssl and boost_asio_ssl).
  get_target_property(linked_iface ${target} INTERFACE_LINK_LIBRARIES)
  get_target_property(linked_impl ${target} LINK_LIBRARIES)
  if(type STREQUAL "INTERFACE_LIBRARY")
    set(linked_impl "")
  endif()
  if("${linked_iface};${linked_impl}" MATCHES "eyeballs(::|_)tls_client")
    _eyeballs_pc_lib_name(eyeballs_tls_client helper)
    list(APPEND libs "-L\${libdir}" "-l${helper}")
  endif()
  # So is eyeballs::quic_client (ngtcp2 + GnuTLS, linked by poll and libevent
  # when built); its pkg-config modules come through _eyeballs_link_deps.
  if("${linked_iface};${linked_impl}" MATCHES "eyeballs(::|_)quic_client")
    _eyeballs_pc_lib_name(eyeballs_quic_client helper)
    list(APPEND libs "-L\${libdir}" "-l${helper}")
  endif()
  # async_connect_tls builds on its flavour's adapter: eyeballs-asio-ssl
  # requires eyeballs-asio.
  if(component MATCHES "^(.+)_ssl$")
    string(REPLACE "_" "-" base "eyeballs-${CMAKE_MATCH_1}")
    list(APPEND requires "${base} = ${PROJECT_VERSION}")
  endif()
  if(type STREQUAL "STATIC_LIBRARY")
    # No shared twin: whatever its link needs is required outright.
    set(private_requires requires)
    set(private_libs libs)
  else()
    set(private_requires requires_private)
    set(private_libs libs_private)
  endif()
  if(component STREQUAL "core")
    foreach(lib IN LISTS _eyeballs_cxx_runtime)
      list(APPEND ${private_libs} "-l${lib}")
    endforeach()
  endif()
  foreach(kind IN ITEMS public private)
    foreach(dep IN LISTS ${kind})
      if(kind STREQUAL "public")
        set(req requires)
        set(lib libs)
      else()
        set(req ${private_requires})
        set(lib ${private_libs})
      endif()
      if(dep STREQUAL "threads")
        list(APPEND ${lib} "-pthread")
      elseif(dep STREQUAL "boost")
        # Boost has no .pc file: its headers are expected on the include path
        # (Debian: /usr/include).
      elseif(dep MATCHES "^pkg\\|[^|]+\\|(.*)$")
        # "libevent>=2.1" -> "libevent >= 2.1", the spelling pkg-config wants.
        string(REGEX REPLACE " *([<>=!]+) *" " \\1 " module "${CMAKE_MATCH_1}")
        list(APPEND ${req} "${module}")
      elseif(dep MATCHES "^lib\\|(.*)$")
        set(item "${CMAKE_MATCH_1}")
        if(item MATCHES "^-")
          list(APPEND ${lib} "${item}")
        else()
          list(APPEND ${lib} "-l${item}")
        endif()
      endif()
    endforeach()
  endforeach()
  foreach(var IN ITEMS requires requires_private libs libs_private)
    list(REMOVE_DUPLICATES ${var})
  endforeach()
  list(JOIN requires ", " EYEBALLS_PC_REQUIRES)
  list(JOIN requires_private ", " EYEBALLS_PC_REQUIRES_PRIVATE)
  list(JOIN libs " " EYEBALLS_PC_LIBS)
  list(JOIN libs_private " " EYEBALLS_PC_LIBS_PRIVATE)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/eyeballs.pc.in
    ${PROJECT_BINARY_DIR}/pkgconfig/${EYEBALLS_PC_NAME}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${EYEBALLS_PC_NAME}.pc
    DESTINATION ${EYEBALLS_INSTALL_PKGCONFIGDIR} COMPONENT dev)
endfunction()

foreach(_component IN LISTS _eyeballs_components)
  _eyeballs_write_pc(${_component})
endforeach()
