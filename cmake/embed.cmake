# Embedding and installing Preflight: the C ABI (bindings/c), the Java binding's test
# (bindings/java), and `cmake --install` of headers, libraries, a CMake package
# (find_package(preflight CONFIG) -> preflight::preflight, preflight::c) and pkg-config files.
# Included once from the top CMakeLists.txt, after the library targets are defined.

enable_language(C)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(PREFLIGHT_TESTS)
  enable_testing()  # before the subdirectory, so that its tests are registered
endif()
add_subdirectory(${PROJECT_SOURCE_DIR}/bindings/c ${PROJECT_BINARY_DIR}/bindings/c)

# Every library of this project that `preflight` links (static, or header-only stages),
# however the stages are split.
function(_preflight_collect_targets target out_var)
  set(seen ${${out_var}})
  get_target_property(libs ${target} INTERFACE_LINK_LIBRARIES)
  get_target_property(type ${target} TYPE)
  set(direct)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(direct ${target} LINK_LIBRARIES)
  endif()
  foreach(lib IN LISTS libs direct)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
    if(TARGET ${lib} AND NOT lib IN_LIST seen)
      get_target_property(imported ${lib} IMPORTED)
      if(NOT imported AND lib MATCHES "^preflight")
        list(APPEND seen ${lib})
        _preflight_collect_targets(${lib} seen)
      endif()
    endif()
  endforeach()
  set(${out_var} ${seen} PARENT_SCOPE)
endfunction()
set(_preflight_static_targets preflight)
_preflight_collect_targets(preflight _preflight_static_targets)

# In the build tree the headers are found from the source root; installed, under include/.
foreach(_t IN LISTS _preflight_static_targets)
  get_target_property(_dirs ${_t} INTERFACE_INCLUDE_DIRECTORIES)
  set(_wrapped "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  foreach(_d IN LISTS _dirs)
    if(_d AND NOT _d MATCHES "^\\$<")
      list(APPEND _wrapped "$<BUILD_INTERFACE:${_d}>")
    elseif(_d)
      list(APPEND _wrapped "${_d}")
    endif()
  endforeach()
  set_property(TARGET ${_t} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${_wrapped}")
endforeach()
# The installed static library keeps its name (libpreflight.a) next to the C ABI's
# libpreflight.so; the component libraries are prefixed already.
set_target_properties(preflight_c PROPERTIES EXPORT_NAME c)

if(SKBUILD)
  # `pip install .`: the wheel gets the Python package (bindings/python) and the command,
  # installed as a script (bin/preflight) so that it runs without a Python start-up.
  install(TARGETS preflight_cli RUNTIME DESTINATION ${SKBUILD_SCRIPTS_DIR})
  return()
endif()

install(TARGETS ${_preflight_static_targets} preflight_c EXPORT preflightTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET preflight_cli)
  install(TARGETS preflight_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/engine
  FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/grammar/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/grammar
  FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/bindings/c/include/preflight/preflight.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/preflight)

set(_preflight_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/preflight)
install(EXPORT preflightTargets NAMESPACE preflight:: DESTINATION ${_preflight_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/preflightConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/preflightConfig.cmake INSTALL_DESTINATION ${_preflight_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/preflightConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/preflightConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/preflightConfigVersion.cmake DESTINATION ${_preflight_cmake_dir})

# Relocatable: the prefix is found from the .pc file's own place.
file(RELATIVE_PATH _preflight_pc_to_prefix /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" _preflight_pc_to_prefix "${_preflight_pc_to_prefix}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/preflight.pc.in ${PROJECT_BINARY_DIR}/cmake/preflight.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/preflight.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(PREFLIGHT_TESTS AND NOT PREFLIGHT_SANITIZE)
  # The embedding examples (examples/embed), outside the source tree, built against a fresh
  # `cmake --install`.
  add_test(NAME install_consumer
    COMMAND bash ${PROJECT_SOURCE_DIR}/cmake/test_install.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
endif()
