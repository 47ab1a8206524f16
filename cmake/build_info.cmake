# mr_build_info: core/build_info.h defined by a file written at build time
# with the git commit of the source tree (cmake/write_build_info.cmake runs on
# every build and rewrites the file only when the commit changed). No network.
set(BUILD_INFO_CC ${CMAKE_BINARY_DIR}/generated/build_info.cc)
add_custom_target(mr_build_info_gen
  COMMAND ${CMAKE_COMMAND} -DSRC_DIR=${PROJECT_SOURCE_DIR} -DOUT=${BUILD_INFO_CC}
          -DVERSION=${PROJECT_VERSION} -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
          -P ${PROJECT_SOURCE_DIR}/cmake/write_build_info.cmake
  BYPRODUCTS ${BUILD_INFO_CC}
  COMMENT "Recording the git commit")
add_library(mr_build_info STATIC ${BUILD_INFO_CC})
add_dependencies(mr_build_info mr_build_info_gen)
target_include_directories(mr_build_info PRIVATE ${PROJECT_SOURCE_DIR}/registry)
