# Install rules: headers, libraries, CMake package and pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS eyeballs_core EXPORT eyeballsTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT eyeballsTargets NAMESPACE eyeballs:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/eyeballs)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/eyeballsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/eyeballsConfig.cmake.in
  ${PROJECT_BINARY_DIR}/eyeballsConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/eyeballs)
install(FILES ${PROJECT_BINARY_DIR}/eyeballsConfig.cmake ${PROJECT_BINARY_DIR}/eyeballsConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/eyeballs)
