# SPDX-License-Identifier: BSL-1.0
# Debian packages made by CPack from a build tree:
#
#   cmake --build build && cd build && cpack -G DEB
#
# gives one package per install component (cmake/EyeballsInstall.cmake):
#   libeyeballs-dev   component "dev":   headers, the libraries as built
#                     (static unless BUILD_SHARED_LIBS), the CMake package,
#                     the pkg-config files; Depends on the -dev packages those
#                     files make a consumer look for.
#   eyeballs-tools    component "tools": eyeballs-connect and eyeballs-sim;
#                     Depends computed by dpkg-shlibdeps (package dpkg-dev)
#                     from the shared libraries the programs load.
# Each has /usr/share/doc/<package>/copyright in Debian's machine-readable
# format, naming the Boost Software License 1.0 (License: BSL-1.0).
# Included by the top-level CMakeLists.txt after cmake/EyeballsInstall.cmake,
# whose _eyeballs_components and EYEBALLS_INSTALLED_TOOLS it reads.
# scripts/package-test builds, inspects and uses the packages.

set(EYEBALLS_PACKAGE_MAINTAINER "eyeballs maintainers <maintainers@eyeballs.invalid>" CACHE STRING
  "Maintainer field of the Debian packages (placeholder until the project has an address)")
set(EYEBALLS_PACKAGE_HOMEPAGE "https://eyeballs.invalid/" CACHE STRING
  "Homepage field of the Debian packages (placeholder until the project has a home)")
mark_as_advanced(EYEBALLS_PACKAGE_MAINTAINER EYEBALLS_PACKAGE_HOMEPAGE)

# ---- What libeyeballs-dev depends on -------------------------------------------
# The installed eyeballsConfig.cmake looks for each component's dependencies
# (pkg_check_modules for c-ares and libevent, find_path(asio.hpp), Threads),
# and the .pc files Require the same modules: a user of the package needs
# their development packages, and pkg-config itself where a module is looked
# up through it. Threads comes with libc6-dev, which every compiler pulls in.
set(_eyeballs_deb_depends "")
set(_eyeballs_deb_needs_pkgconfig FALSE)
foreach(_component IN LISTS _eyeballs_components)
  if(_component STREQUAL "core")
    continue()
  elseif(_component STREQUAL "poll")
    # c-ares for DNS, OpenSSL 3 for the TLS race (both through pkg-config).
    list(APPEND _eyeballs_deb_depends "libc-ares-dev" "libssl-dev (>= 3)")
    set(_eyeballs_deb_needs_pkgconfig TRUE)
  elseif(_component STREQUAL "libevent")
    # adapters/libevent asks pkg-config for libevent>=2.1.
    list(APPEND _eyeballs_deb_depends "libevent-dev (>= 2.1)")
    if(TARGET eyeballs_tls_client)
      # TLS races: libevent_openssl (in libevent-dev) and OpenSSL 3.
      list(APPEND _eyeballs_deb_depends "libssl-dev (>= 3)")
    endif()
    set(_eyeballs_deb_needs_pkgconfig TRUE)
  elseif(_component STREQUAL "asio")
    # adapters/asio needs Asio 1.22 or later; Debian's libasio-dev has epoch 1.
    list(APPEND _eyeballs_deb_depends "libasio-dev (>= 1:1.22)")
  elseif(_component STREQUAL "libuv")
    # adapters/libuv asks pkg-config for libuv (1.44 in Debian 12).
    list(APPEND _eyeballs_deb_depends "libuv1-dev (>= 1.44)")
    if(TARGET eyeballs_tls_client)
      # connect_tls: OpenSSL 3 (eyeballs-libuv.pc requires openssl).
      list(APPEND _eyeballs_deb_depends "libssl-dev (>= 3)")
    endif()
    set(_eyeballs_deb_needs_pkgconfig TRUE)
  elseif(_component STREQUAL "uring")
    # adapters/uring asks pkg-config for liburing (2.3 in Debian 12).
    list(APPEND _eyeballs_deb_depends "liburing-dev (>= 2.2)")
    if(TARGET eyeballs_tls_client)
      # connect_tls: OpenSSL 3 (eyeballs-uring.pc requires openssl).
      list(APPEND _eyeballs_deb_depends "libssl-dev (>= 3)")
    endif()
    set(_eyeballs_deb_needs_pkgconfig TRUE)
  elseif(_component STREQUAL "asio_ssl" OR _component STREQUAL "boost_asio_ssl")
    # async_connect_tls: OpenSSL 3 through pkg-config (besides its flavour's own).
    list(APPEND _eyeballs_deb_depends "libssl-dev (>= 3)")
    set(_eyeballs_deb_needs_pkgconfig TRUE)
  elseif(_component STREQUAL "boost_asio")
    list(APPEND _eyeballs_deb_depends "libboost1.81-dev | libboost-dev (>= 1.81)")
  else()
    message(FATAL_ERROR "cmake/EyeballsPackage.cmake: the installed component '${_component}' has no "
      "Debian dependency listed; add the -dev package its CMake and pkg-config files need")
  endif()
endforeach()
if(_eyeballs_deb_needs_pkgconfig)
  list(APPEND _eyeballs_deb_depends "pkgconf | pkg-config")
endif()
list(REMOVE_DUPLICATES _eyeballs_deb_depends)
list(JOIN _eyeballs_deb_depends ", " CPACK_DEBIAN_DEV_PACKAGE_DEPENDS)
list(JOIN _eyeballs_components ", " _eyeballs_deb_components)

# ---- copyright -------------------------------------------------------------------
# Debian's copyright format 1.0: the licence named by its SPDX short name,
# then its text (paragraph breaks written " .").
file(READ ${PROJECT_SOURCE_DIR}/LICENSE _eyeballs_license)
string(STRIP "${_eyeballs_license}" _eyeballs_license)
string(REGEX REPLACE "\n\n" "\n.\n" _eyeballs_license "${_eyeballs_license}")
string(REGEX REPLACE "\n" "\n " _eyeballs_license "${_eyeballs_license}")
file(WRITE ${PROJECT_BINARY_DIR}/debian/copyright
  "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
  "Upstream-Name: eyeballs\n"
  "Source: ${EYEBALLS_PACKAGE_HOMEPAGE}\n"
  "\n"
  "Files: *\n"
  "Copyright: the eyeballs authors\n"
  "License: BSL-1.0\n"
  "\n"
  "License: BSL-1.0\n"
  " ${_eyeballs_license}\n")
# Only in component installs (cpack, cmake --install --component): a plain
# install keeps the licence in share/doc/eyeballs/LICENSE alone.
install(FILES ${PROJECT_BINARY_DIR}/debian/copyright
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/libeyeballs-dev COMPONENT dev EXCLUDE_FROM_ALL)
set(CPACK_COMPONENTS_ALL dev)
if(EYEBALLS_INSTALLED_TOOLS)
  install(FILES ${PROJECT_BINARY_DIR}/debian/copyright
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/eyeballs-tools COMPONENT tools EXCLUDE_FROM_ALL)
  list(APPEND CPACK_COMPONENTS_ALL tools)
endif()

# ---- CPack -----------------------------------------------------------------------
find_program(EYEBALLS_DPKG_DEB dpkg-deb)
mark_as_advanced(EYEBALLS_DPKG_DEB)
if(EYEBALLS_DPKG_DEB)
  set(CPACK_GENERATOR DEB)
else()
  set(CPACK_GENERATOR TGZ)
endif()
set(CPACK_PACKAGE_NAME eyeballs)
set(CPACK_PACKAGE_VENDOR "the eyeballs authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_HOMEPAGE_URL "${EYEBALLS_PACKAGE_HOMEPAGE}")
set(CPACK_PACKAGE_CONTACT "${EYEBALLS_PACKAGE_MAINTAINER}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_COMPONENT_DEV_DISPLAY_NAME "eyeballs library (development files)")
set(CPACK_COMPONENT_TOOLS_DISPLAY_NAME "eyeballs programs")

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${EYEBALLS_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${EYEBALLS_PACKAGE_HOMEPAGE}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libeyeballs-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION "Happy Eyeballs (RFC 8305) connection racing for C++17 - development files
eyeballs races connection attempts the Happy Eyeballs way (RFC 8305 and the
v3 draft): a sans-I/O state machine (eyeballs::core, with a C API) and
adapters that drive it over real sockets (here: ${_eyeballs_deb_components}).
This package holds the headers, the libraries, the CMake package
(find_package(eyeballs)) and the pkg-config files (eyeballs, eyeballs-<adapter>).
Licence: Boost Software License 1.0 (BSL-1.0).")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME eyeballs-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SHLIBDEPS ON)
if(BUILD_SHARED_LIBS)
  # The programs then load libeyeballs*.so, which only libeyeballs-dev holds.
  set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "libeyeballs-dev (= ${PROJECT_VERSION})")
endif()
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "Happy Eyeballs (RFC 8305) programs: eyeballs-connect, eyeballs-sim
Happy Eyeballs (RFC 8305 and the v3 draft) races connection attempts.
eyeballs-connect races real connections to a host and port and names the
winner (with a JSON trace on request); eyeballs-sim plays a race scenario in
virtual time and prints its trace.
Licence: Boost Software License 1.0 (BSL-1.0).")

include(CPack)
