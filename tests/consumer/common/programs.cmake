# SPDX-License-Identifier: BSL-1.0
# The consumer programs, shared by the find_package and add_subdirectory
# projects: c_api_connect (C99, eyeballs::core through eyeballs.h) and one
# <adapter>_connect per adapter in EYEBALLS_CONSUMER_ADAPTERS (C++17,
# eyeballs::<adapter>). Each races [::1]:P (refused) and 127.0.0.1:P
# (listening) on loopback and is a ctest test that passes when IPv4 wins and
# the socket carries a byte.
enable_testing()
set(_consumer_dir ${CMAKE_CURRENT_LIST_DIR})

add_executable(c_api_connect ${_consumer_dir}/c_api_connect.c)
set_target_properties(c_api_connect PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(c_api_connect PRIVATE -Wall -Wextra -Wpedantic -Werror)
target_link_libraries(c_api_connect PRIVATE eyeballs::core)
add_test(NAME c_api_connect COMMAND c_api_connect)

foreach(_adapter IN LISTS EYEBALLS_CONSUMER_ADAPTERS)
  if(NOT TARGET eyeballs::${_adapter})
    message(FATAL_ERROR "eyeballs::${_adapter} is not available")
  endif()
  add_executable(${_adapter}_connect ${_consumer_dir}/${_adapter}_connect.cpp)
  target_compile_features(${_adapter}_connect PRIVATE cxx_std_17)
  target_compile_options(${_adapter}_connect PRIVATE -Wall -Wextra -Wpedantic -Werror)
  target_link_libraries(${_adapter}_connect PRIVATE eyeballs::${_adapter})
  add_test(NAME ${_adapter}_connect COMMAND ${_adapter}_connect)
endforeach()
foreach(_test IN ITEMS c_api ${EYEBALLS_CONSUMER_ADAPTERS})
  set_tests_properties(${_test}_connect PROPERTIES TIMEOUT 60)
endforeach()
# uring_connect exits 77 where io_uring is refused (a sandbox, an old kernel).
if(uring IN_LIST EYEBALLS_CONSUMER_ADAPTERS)
  set_tests_properties(uring_connect PROPERTIES SKIP_RETURN_CODE 77)
endif()
