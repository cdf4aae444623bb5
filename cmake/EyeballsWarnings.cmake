# SPDX-License-Identifier: BSL-1.0
# eyeballs_warnings(target): the project's warning set, errors when asked.
function(eyeballs_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion)
  if(EYEBALLS_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
