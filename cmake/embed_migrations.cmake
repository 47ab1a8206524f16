# Generates a C++ source holding every migrations/NNNN_name.sql, in order.
# Invoked with -DSRC_DIR=... -DOUT=...
file(GLOB files RELATIVE "${SRC_DIR}" "${SRC_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "// Generated from migrations/*.sql by cmake/embed_migrations.cmake. Do not edit.\n#include \"store/migrations.h\"\nnamespace modelreg {\nconst std::vector<Migration>& EmbeddedMigrations() {\n  static const std::vector<Migration> k = {\n")
foreach(f ${files})
  string(SUBSTRING "${f}" 0 4 num)
  math(EXPR ver "${num}")
  file(READ "${SRC_DIR}/${f}" sql)
  set(body "${body}    {${ver}, \"${f}\", R\"mrsql(${sql})mrsql\"},\n")
endforeach()
set(body "${body}  };\n  return k;\n}\n}  // namespace modelreg\n")
file(WRITE "${OUT}.tmp" "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
