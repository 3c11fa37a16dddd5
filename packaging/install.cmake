# What goes into the two Debian packages, component by component: "qtalk" (daemon, tools, shared
# library, systemd units, sysusers, /etc config, docs) and "dev" (headers, static library, CMake
# package, pkg-config). Every rule is EXCLUDE_FROM_ALL, so a plain `cmake --install` (which the
# other CMakeLists serve, in component "Unspecified") never writes to /etc or /lib/systemd.
set(_src ${PROJECT_SOURCE_DIR})
set(_bin ${PROJECT_BINARY_DIR})
# Debian's multiarch library directory, whatever prefix this tree was configured with (GNUInstallDirs
# only picks lib/<triplet> when CMAKE_INSTALL_PREFIX is /usr).
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(_libdir lib/${CMAKE_LIBRARY_ARCHITECTURE})
else()
  set(_libdir ${CMAKE_INSTALL_LIBDIR})
endif()

# qtalk.pc locates the prefix relative to itself, so it is configured again for ${_libdir}.
function(_qtalk_deb_pkgconfig)
  set(CMAKE_INSTALL_LIBDIR ${_libdir})
  file(RELATIVE_PATH QTALK_PC_PREFIX_REL "/root/${_libdir}/pkgconfig" "/root")
  configure_file(${_src}/libqtalk/qtalk.pc.in ${_bin}/packaging/qtalk.pc @ONLY)
endfunction()
_qtalk_deb_pkgconfig()

# --- qtalk ---------------------------------------------------------------------------------
foreach(_tool qtalkd qtalkctl)
  if(TARGET ${_tool})
    install(TARGETS ${_tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT qtalk EXCLUDE_FROM_ALL)
  endif()
endforeach()
# One rule for both libraries, in an export set of its own: an export records where its install
# rules put each file, so the tree's qtalkTargets (lib/ under /usr/local) cannot be reused.
install(TARGETS qtalk qtalk_shared EXPORT qtalkDebTargets
  LIBRARY DESTINATION ${_libdir} COMPONENT qtalk NAMELINK_COMPONENT dev EXCLUDE_FROM_ALL
  ARCHIVE DESTINATION ${_libdir} COMPONENT dev EXCLUDE_FROM_ALL)

# Manual pages, compressed as Debian policy wants (gzip -9n: no name or timestamp inside).
find_program(QTALK_GZIP gzip REQUIRED)
foreach(_page qtalkd.8 qtalkctl.1)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" _section ${_page})
  add_custom_command(OUTPUT ${_bin}/packaging/${_page}.gz
    COMMAND ${QTALK_GZIP} -9n -c ${_src}/docs/man/${_page} > ${_bin}/packaging/${_page}.gz
    DEPENDS ${_src}/docs/man/${_page} VERBATIM)
  list(APPEND _qtalk_man_gz ${_bin}/packaging/${_page}.gz)
  install(FILES ${_bin}/packaging/${_page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_section}
    COMPONENT qtalk EXCLUDE_FROM_ALL)
endforeach()
add_custom_target(qtalk_man_pages ALL DEPENDS ${_qtalk_man_gz})

# Debian 12 keeps system units in /lib (the /usr-merge moratorium); user units and sysusers
# are in /usr/lib everywhere.
install(FILES ${_src}/systemd/qtalkd.service ${_src}/systemd/qtalkd.socket ${_src}/systemd/qtalkd-tcp.socket
  DESTINATION /lib/systemd/system COMPONENT qtalk EXCLUDE_FROM_ALL)
install(FILES ${_src}/systemd/qtalkd-user.service RENAME qtalkd.service
  DESTINATION /usr/lib/systemd/user COMPONENT qtalk EXCLUDE_FROM_ALL)
install(FILES ${_src}/systemd/qtalk.sysusers RENAME qtalk.conf
  DESTINATION /usr/lib/sysusers.d COMPONENT qtalk EXCLUDE_FROM_ALL)
install(FILES ${_src}/config/qtalkd.json DESTINATION /etc/qtalk COMPONENT qtalk EXCLUDE_FROM_ALL)
install(FILES ${_src}/config/README.md RENAME config.md
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/qtalk COMPONENT qtalk EXCLUDE_FROM_ALL)

# --- dev -----------------------------------------------------------------------------------
install(DIRECTORY ${_src}/libqtalk/include/qtalk
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev EXCLUDE_FROM_ALL)
# qtalkConfig.cmake includes qtalkTargets.cmake from its own directory, so it moves along.
install(EXPORT qtalkDebTargets FILE qtalkTargets.cmake NAMESPACE qtalk:: DESTINATION ${_libdir}/cmake/qtalk
  COMPONENT dev EXCLUDE_FROM_ALL)
install(FILES ${_bin}/libqtalk/qtalkConfig.cmake ${_bin}/libqtalk/qtalkConfigVersion.cmake
  DESTINATION ${_libdir}/cmake/qtalk COMPONENT dev EXCLUDE_FROM_ALL)
install(FILES ${_bin}/packaging/qtalk.pc DESTINATION ${_libdir}/pkgconfig COMPONENT dev EXCLUDE_FROM_ALL)

# --- both: Debian policy wants copyright and changelog.Debian.gz in each package's doc dir ----
string(TIMESTAMP QTALK_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)  # honours SOURCE_DATE_EPOCH
configure_file(${_src}/packaging/debian/changelog.in ${_bin}/packaging/changelog.Debian @ONLY)
execute_process(COMMAND gzip -9nf ${_bin}/packaging/changelog.Debian RESULT_VARIABLE _gz)
if(NOT _gz EQUAL 0)
  message(WARNING "packaging: gzip failed; changelog.Debian.gz missing from the packages")
endif()
install(FILES ${_src}/packaging/debian/copyright ${_bin}/packaging/changelog.Debian.gz
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/qtalk COMPONENT qtalk EXCLUDE_FROM_ALL)
install(FILES ${_src}/packaging/debian/copyright ${_bin}/packaging/changelog.Debian.gz
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/qtalk-dev COMPONENT dev EXCLUDE_FROM_ALL)
