# SPDX-License-Identifier: BSL-1.0
# Cross-compiles for 64-bit Windows with Debian's mingw-w64 (g++-mingw-w64-x86-64).
# The -posix thread-model compilers give std::thread and std::mutex; libgcc and
# libstdc++ are linked statically so the .exe files run under Wine without the
# compiler's DLLs beside them. ctest runs the test programs through Wine
# (CMAKE_CROSSCOMPILING_EMULATOR); scripts/windows-test drives it all.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(EYEBALLS_MINGW_TRIPLE x86_64-w64-mingw32)

find_program(CMAKE_C_COMPILER NAMES ${EYEBALLS_MINGW_TRIPLE}-gcc-posix ${EYEBALLS_MINGW_TRIPLE}-gcc
  REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${EYEBALLS_MINGW_TRIPLE}-g++-posix ${EYEBALLS_MINGW_TRIPLE}-g++
  REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${EYEBALLS_MINGW_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${EYEBALLS_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++ -static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")

# Debian's wine64 package installs /usr/lib/wine/wine64; the `wine` wrapper
# comes with the `wine` package. Either runs a 64-bit .exe.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(EYEBALLS_WINE NAMES wine wine64 PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
  if(EYEBALLS_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${EYEBALLS_WINE})
  endif()
endif()
