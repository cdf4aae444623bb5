# SPDX-License-Identifier: BSL-1.0
# Checks of the installed programs, run by ctest (tools/CMakeLists.txt):
#
#   cmake -DCHECK=version -DPROGRAM=<path> -DNAME=<name> -DVERSION=<v> -P this
#       <path> --version exits 0 and prints exactly "<name> <v>\n" on stdout.
#   cmake -DCHECK=install -DBUILD_DIR=<build> -DPREFIX=<dir> -DVERSION=<v> -P this
#       cmake --install <build> --component tools --prefix <dir> puts
#       eyeballs-connect and eyeballs-sim in <dir>/bin, and each answers
#       --version there; eyeballs-connect.1 goes to <dir>/share/man/man1.
#   cmake -DCHECK=install-off -DSOURCE_DIR=<src> -DBUILD_DIR=<new build> -DPREFIX=<dir>
#         -DGENERATOR=<g> -DCXX=<c++> -DC=<cc> -P this
#       a tree configured with -DEYEBALLS_INSTALL_TOOLS=OFF installs nothing
#       for the tools component (nothing needs building to see that).
# Any failure is a FATAL_ERROR saying what was wrong.
cmake_minimum_required(VERSION 3.25)

function(check_version program name version)
  execute_process(COMMAND "${program}" --version RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${program} --version exited with ${rc} (stderr: ${err})")
  endif()
  if(NOT out STREQUAL "${name} ${version}\n")
    message(FATAL_ERROR "${program} --version printed '${out}', expected '${name} ${version}' and a newline")
  endif()
  message(STATUS "ok: ${program} --version: ${name} ${version}")
endfunction()

if(CHECK STREQUAL "version")
  check_version("${PROGRAM}" "${NAME}" "${VERSION}")

elseif(CHECK STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --component tools
      --prefix "${PREFIX}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install ${BUILD_DIR} --component tools failed (${rc})")
  endif()
  foreach(tool IN ITEMS eyeballs-connect eyeballs-sim)
    if(NOT EXISTS "${PREFIX}/bin/${tool}" OR IS_DIRECTORY "${PREFIX}/bin/${tool}")
      message(FATAL_ERROR "cmake --install did not put ${tool} in ${PREFIX}/bin")
    endif()
    check_version("${PREFIX}/bin/${tool}" ${tool} "${VERSION}")
  endforeach()
  file(GLOB _pages "${PREFIX}/share/man/man1/eyeballs-connect.1")
  if(NOT _pages)
    message(FATAL_ERROR "cmake --install did not put eyeballs-connect.1 in ${PREFIX}/share/man/man1")
  endif()
  file(REMOVE_RECURSE "${PREFIX}")

elseif(CHECK STREQUAL "install-off")
  file(REMOVE_RECURSE "${BUILD_DIR}" "${PREFIX}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BUILD_DIR}" -G "${GENERATOR}"
      "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_C_COMPILER=${C}"
      -DEYEBALLS_INSTALL=ON -DEYEBALLS_BUILD_TOOLS=ON -DEYEBALLS_INSTALL_TOOLS=OFF
      -DEYEBALLS_BUILD_TESTS=OFF -DEYEBALLS_BUILD_EXAMPLES=OFF -DEYEBALLS_BUILD_BENCH=OFF
      -DEYEBALLS_BUILD_FUZZ=OFF
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring with -DEYEBALLS_INSTALL_TOOLS=OFF failed:\n${out}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --component tools
      --prefix "${PREFIX}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install --component tools failed with the tools off:\n${out}")
  endif()
  foreach(tool IN ITEMS eyeballs-connect eyeballs-sim)
    if(EXISTS "${PREFIX}/bin/${tool}")
      message(FATAL_ERROR "EYEBALLS_INSTALL_TOOLS=OFF, yet cmake --install put ${tool} in ${PREFIX}/bin")
    endif()
  endforeach()
  file(STRINGS "${BUILD_DIR}/cmake_install.cmake" lines REGEX "eyeballs-(connect|sim)")
  file(GLOB_RECURSE sub_installs "${BUILD_DIR}/tools/*cmake_install.cmake")
  foreach(f IN LISTS sub_installs)
    file(STRINGS "${f}" more REGEX "bin/eyeballs-(connect|sim)|/eyeballs-(connect|sim)\"")
    list(APPEND lines ${more})
  endforeach()
  if(lines)
    message(FATAL_ERROR "EYEBALLS_INSTALL_TOOLS=OFF, yet the install script names the tools: ${lines}")
  endif()
  message(STATUS "ok: EYEBALLS_INSTALL_TOOLS=OFF installs no program")
  file(REMOVE_RECURSE "${BUILD_DIR}" "${PREFIX}")

else()
  message(FATAL_ERROR "EyeballsToolChecks.cmake: CHECK must be version, install or install-off (got '${CHECK}')")
endif()
