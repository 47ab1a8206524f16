# Man pages, generated at build time from the binaries' own help text
# (`modelreg help --man`, `modelreg-agent --man`; core/man_page.h) and
# installed to share/man/man1 by `cmake --install`.
include(GNUInstallDirs)
set(MAN_DIR ${CMAKE_BINARY_DIR}/man)
foreach(pair "modelreg;help;--man" "modelreg-agent;--man")
  list(GET pair 0 prog)
  list(SUBLIST pair 1 -1 man_args)
  add_custom_command(
    OUTPUT ${MAN_DIR}/${prog}.1
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MAN_DIR}
    COMMAND sh -c "\"$@\" > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"" ${MAN_DIR}/${prog}.1
            $<TARGET_FILE:${prog}> ${man_args}
    DEPENDS ${prog}
    COMMENT "Man page ${prog}.1"
    VERBATIM)
  list(APPEND MAN_PAGES ${MAN_DIR}/${prog}.1)
endforeach()
add_custom_target(man_pages ALL DEPENDS ${MAN_PAGES})
install(TARGETS modelreg modelreg-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
