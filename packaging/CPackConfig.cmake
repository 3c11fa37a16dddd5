# Debian packages via CPack (`cd build && cpack -G DEB`): qtalk (qtalkd, qtalkctl, libqtalk.so,
# systemd units, sysusers, /etc/qtalk/qtalkd.json as a conffile) and qtalk-dev (headers, static
# library, CMake package, pkg-config). Included last from the top-level CMakeLists.txt; the
# install rules of both packages are in packaging/install.cmake.
set(QTALK_DEB_MAINTAINER "qtalk maintainers <maintainers@users.noreply.r-seed-d9e89e8f.example>"
  CACHE STRING "Maintainer field of the Debian packages")
set(QTALK_DEB_RELEASE 1 CACHE STRING "Debian revision of the packages")
set(QTALK_DEB_VERSION "${PROJECT_VERSION}-${QTALK_DEB_RELEASE}")

include(${CMAKE_CURRENT_LIST_DIR}/install.cmake)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME qtalk)
set(CPACK_PACKAGE_VENDOR "qtalk")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# CPackDeb prepends any non-default summary to every component's description; the default one
# is left out, so each package's own first line (below) becomes its synopsis.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_STRIP_FILES ON)  # executables and libqtalk.so; CMake never strips the static library
set(CPACK_PACKAGE_CONTACT "${QTALK_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR})
# Absolute destinations (/etc, /lib/systemd) must land in the staging tree, not on this machine.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL qtalk dev)  # not "Unspecified": the plain install rules of the tree
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # qtalk_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${QTALK_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${QTALK_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)  # shlibs file + ldconfig trigger for libqtalk.so.0
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_QTALK_PACKAGE_NAME qtalk)
set(CPACK_DEBIAN_QTALK_PACKAGE_SECTION net)
set(CPACK_DEBIAN_QTALK_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_QTALK_PACKAGE_CONTROL_EXTRA
  ${CMAKE_CURRENT_LIST_DIR}/debian/postinst ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
  ${CMAKE_CURRENT_LIST_DIR}/debian/postrm ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles
  ${CMAKE_CURRENT_LIST_DIR}/debian/triggers)
set(CPACK_DEBIAN_QTALK_DESCRIPTION "qmux/rpc IPC hub daemon and library
qtalkd is a hub for qtalk peers: programs register services over qmux
(TCP, unix sockets or WebSocket) and call each other's services through it.
This package contains qtalkd with its systemd units, the qtalkctl admin
tool and the shared library libqtalk.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME qtalk-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "qtalk (= ${QTALK_DEB_VERSION}), libboost1.81-dev, nlohmann-json3-dev (>= 3.10), libspdlog-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION "qmux/rpc IPC library - development files
qtalk implements the qmux multiplexing protocol and qtalk rpc over TCP, unix
sockets, stdio and WebSocket. This package contains the C++20 headers, the
static library, the CMake package (find_package(qtalk)) and qtalk.pc.")

include(CPack)
