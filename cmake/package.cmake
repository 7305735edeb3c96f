# Installation and the Debian package (`tools/dev package`: CPack's DEB
# generator on the Release build). The unit and the package's files are in
# tools/dist/; the container image's in tools/dist/image (`tools/dev image`).
include(GNUInstallDirs)

# The image's HEALTHCHECK: GET /v1/healthy on 127.0.0.1:$LISTEN_PORT, with no
# shell or wget in the image.
add_executable(bosun-healthcheck ${PROJECT_SOURCE_DIR}/tools/dist/image/healthcheck.cpp)
target_link_libraries(bosun-healthcheck PRIVATE bosun_warnings)

install(TARGETS bosun RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/tools/dist/bosun.service
        DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/tools/dist/debian/config.json
        DESTINATION /etc/bosun)
install(FILES ${PROJECT_SOURCE_DIR}/tools/dist/debian/default
        DESTINATION /etc/default RENAME bosun)
install(DIRECTORY DESTINATION /var/lib/bosun
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bosun)
set(CPACK_PACKAGE_VENDOR bosun)
set(CPACK_PACKAGE_CONTACT "bosun maintainers <bosun@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "on-device agent for container apps, a drop-in for the balena Supervisor")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # Depends from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "docker.io | balena-engine, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/tools/dist/debian/postinst
    ${PROJECT_SOURCE_DIR}/tools/dist/debian/prerm
    ${PROJECT_SOURCE_DIR}/tools/dist/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# /etc files are conffiles: an upgrade keeps the admin's edits.
file(WRITE ${CMAKE_BINARY_DIR}/conffiles
     "/etc/bosun/config.json\n/etc/default/bosun\n")
list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/conffiles)
include(CPack)
