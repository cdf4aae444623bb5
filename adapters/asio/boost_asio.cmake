# SPDX-License-Identifier: BSL-1.0
# eyeballs::boost_asio — the Asio adapter over Boost.Asio
# (eyeballs::boost_asio::async_connect, <eyeballs/boost_asio.hpp>). The same
# headers as eyeballs::asio: one implementation (include/eyeballs/asio/detail/
# *.ipp) compiled in each flavour's namespace. Header-only over Boost 1.81 or
# later (Debian: libboost1.81-dev; Boost.Asio and Boost.System are header-only
# there, so Boost::headers is all it links); built when Boost's CMake package
# is found. Included by CMakeLists.txt beside this file.
if(NOT "boost_asio" IN_LIST EYEBALLS_ADAPTERS)
  return()
endif()
set(EYEBALLS_BOOST_MIN_VERSION 1.81 CACHE INTERNAL "The oldest Boost eyeballs::boost_asio takes")
find_package(Boost ${EYEBALLS_BOOST_MIN_VERSION} CONFIG QUIET)
if(NOT TARGET Boost::headers)
  message(STATUS "eyeballs: Boost ${EYEBALLS_BOOST_MIN_VERSION} or later not found; the boost_asio adapter is not built")
  return()
endif()
message(STATUS "eyeballs: Boost ${Boost_VERSION} found; the boost_asio adapter is built")
find_package(Threads REQUIRED)

add_library(eyeballs_boost_asio INTERFACE)
add_library(eyeballs::boost_asio ALIAS eyeballs_boost_asio)
set_target_properties(eyeballs_boost_asio PROPERTIES EXPORT_NAME boost_asio)
target_compile_features(eyeballs_boost_asio INTERFACE cxx_std_17)
target_include_directories(eyeballs_boost_asio INTERFACE
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:include>)
target_link_libraries(eyeballs_boost_asio INTERFACE eyeballs::core Boost::headers Threads::Threads)
# Windows: Boost.Asio needs Winsock and a target version (as eyeballs::asio).
if(WIN32)
  target_link_libraries(eyeballs_boost_asio INTERFACE ws2_32 mswsock)
  target_compile_definitions(eyeballs_boost_asio INTERFACE _WIN32_WINNT=0x0601)
endif()

# eyeballs::boost_asio_ssl — async_connect_tls over Boost.Asio
# (<eyeballs/boost_asio_ssl.hpp>), handing back boost::asio::ssl::stream; its
# own target so that eyeballs::boost_asio users need no OpenSSL.
if(TARGET eyeballs::tls_client)
  find_package(PkgConfig QUIET)
  pkg_check_modules(BOOST_ASIO_OPENSSL QUIET IMPORTED_TARGET openssl>=3)
  add_library(eyeballs_boost_asio_ssl INTERFACE)
  add_library(eyeballs::boost_asio_ssl ALIAS eyeballs_boost_asio_ssl)
  set_target_properties(eyeballs_boost_asio_ssl PROPERTIES EXPORT_NAME boost_asio_ssl)
  target_link_libraries(eyeballs_boost_asio_ssl INTERFACE eyeballs::boost_asio eyeballs::tls_client
    PkgConfig::BOOST_ASIO_OPENSSL)
endif()
