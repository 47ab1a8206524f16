# Generates a C++ source defining one function that returns a file's bytes,
# so that an installed binary serves the file without a file tree (e.g.
# docs/openapi.json). Bytes are written as hex so any content embeds as is.
# Invoked with -DIN=<file> -DOUT=<.cc> -DINCLUDE=<header> -DNAMESPACE=<ns> -DFUNCTION=<name>
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR size "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
get_filename_component(name "${IN}" NAME)
set(body "// Generated from ${name} by cmake/embed_file.cmake. Do not edit.\n#include \"${INCLUDE}\"\nnamespace ${NAMESPACE} {\nnamespace {\nconst char kBytes[] = {${bytes}0};\n}  // namespace\nstd::string_view ${FUNCTION}() { return std::string_view(kBytes, ${size}); }\n}  // namespace ${NAMESPACE}\n")
file(WRITE "${OUT}.tmp" "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
