# What `cmake --install` puts where, beside the binaries and man pages
# (cmake/man_pages.cmake), and the Debian package built from it
# (scripts/package; docs/operations.md "Install from the package"):
#   bin/modelreg, bin/modelreg-agent          stripped in the package
#   share/man/man1/*.1                        from the binaries' own help
#   share/bash-completion/completions/modelreg, share/zsh/vendor-completions/_modelreg,
#   share/fish/vendor_completions.d/modelreg.fish   from `modelreg completion SHELL`
#   lib/systemd/system/modelreg.service, modelreg-agent@.service, modelreg-gc.{service,timer}
#   lib/sysusers.d/modelreg.conf              the users modelreg and modelreg-agent
#   share/polkit-1/rules.d/50-modelreg-agent.rules   lets an agent's --on-swap reload its model server
#   share/doc/modelreg/modelreg.default       example /etc/default/modelreg
include(GNUInstallDirs)
set(COMPLETION_DIR ${CMAKE_BINARY_DIR}/completion)
foreach(shell bash zsh fish)
  add_custom_command(
    OUTPUT ${COMPLETION_DIR}/modelreg.${shell}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${COMPLETION_DIR}
    COMMAND sh -c "\"$1\" completion \"$2\" > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"" ${COMPLETION_DIR}/modelreg.${shell}
            $<TARGET_FILE:modelreg> ${shell}
    DEPENDS modelreg
    COMMENT "Shell completion modelreg.${shell}"
    VERBATIM)
  list(APPEND COMPLETIONS ${COMPLETION_DIR}/modelreg.${shell})
endforeach()
add_custom_target(completions ALL DEPENDS ${COMPLETIONS})
install(FILES ${COMPLETION_DIR}/modelreg.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME modelreg)
install(FILES ${COMPLETION_DIR}/modelreg.zsh DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions RENAME _modelreg)
install(FILES ${COMPLETION_DIR}/modelreg.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)

set(PKG_DIR ${PROJECT_SOURCE_DIR}/packaging)
install(FILES ${PKG_DIR}/systemd/modelreg.service ${PKG_DIR}/systemd/modelreg-agent@.service
              ${PKG_DIR}/systemd/modelreg-gc.service ${PKG_DIR}/systemd/modelreg-gc.timer
        DESTINATION lib/systemd/system)
install(FILES ${PKG_DIR}/sysusers-modelreg.conf DESTINATION lib/sysusers.d RENAME modelreg.conf)
install(FILES ${PKG_DIR}/50-modelreg-agent.rules DESTINATION ${CMAKE_INSTALL_DATADIR}/polkit-1/rules.d)
install(FILES ${PKG_DIR}/modelreg.default DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The package strips whatever build it is made from (Release builds are
# stripped already: CMakeLists.txt).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME modelreg)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "modelreg")
set(CPACK_PACKAGE_CONTACT "modelreg maintainers <modelreg@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "model registry with artifact lineage, approvals and a serving agent")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "modelreg keeps hashed model bundles with the facts that produced them, moves\n versions through an enforced approval workflow into signed releases, and ships\n modelreg-agent, which follows a release, verifies every byte and hot-swaps.")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PKG_DIR}/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# cpack installs what is built; it does not build everything first (scripts/package
# builds the targets it needs, and the package test runs beside other tests).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)
include(CPack)
