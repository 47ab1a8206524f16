# Generates a C++ source holding every file of web/ (flat: no subfolders), so
# that an installed binary serves the UI without a file tree. Bytes are
# written as hex so that any content, including a future image, embeds as is.
# Invoked with -DSRC_DIR=... -DOUT=...
file(GLOB files RELATIVE "${SRC_DIR}" "${SRC_DIR}/*.html" "${SRC_DIR}/*.css" "${SRC_DIR}/*.js"
     "${SRC_DIR}/*.svg" "${SRC_DIR}/*.png")
list(SORT files)
set(body "// Generated from web/* by cmake/embed_web.cmake. Do not edit.\n#include \"api/web_assets.h\"\nnamespace modelreg::api {\nnamespace {\n")
set(table "")
set(i 0)
foreach(f ${files})
  file(READ "${SRC_DIR}/${f}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR size "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  set(body "${body}const char kFile${i}[] = {${bytes}0};\n")
  set(table "${table}    {\"${f}\", std::string_view(kFile${i}, ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
set(body "${body}}  // namespace\nconst std::vector<WebAsset>& EmbeddedWebAssets() {\n  static const std::vector<WebAsset> k = {\n${table}  };\n  return k;\n}\n}  // namespace modelreg::api\n")
file(WRITE "${OUT}.tmp" "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
