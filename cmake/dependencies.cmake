# All dependencies come from Debian packages; see README "Building".
find_package(Threads REQUIRED)
find_package(fmt REQUIRED) # before anything links restinio::restinio
find_package(restinio REQUIRED)
find_package(RapidJSON REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)

find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
add_library(caf::core UNKNOWN IMPORTED)
set_target_properties(caf::core PROPERTIES
  IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES Threads::Threads)

find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
find_library(SOCI_CORE_LIBRARY soci_core REQUIRED)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3 REQUIRED)
add_library(soci::sqlite3 INTERFACE IMPORTED)
set_target_properties(soci::sqlite3 PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES
    "${SOCI_SQLITE3_LIBRARY};${SOCI_CORE_LIBRARY};SQLite::SQLite3")

# Same defines as restinio in every TU that includes Asio (ODR).
add_library(asio::asio INTERFACE IMPORTED)
set_target_properties(asio::asio PROPERTIES
  INTERFACE_LINK_LIBRARIES Threads::Threads
  INTERFACE_COMPILE_DEFINITIONS
    "ASIO_STANDALONE;ASIO_HAS_STD_CHRONO;ASIO_DISABLE_STD_STRING_VIEW")

find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(http_parser::http_parser UNKNOWN IMPORTED)
set_target_properties(http_parser::http_parser PROPERTIES
  IMPORTED_LOCATION "${HTTP_PARSER_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${HTTP_PARSER_INCLUDE_DIR}")

# sd-bus (Debian libsystemd-dev): the host actor's system D-Bus client
# (docs/host.md says why sd-bus).
find_path(SYSTEMD_INCLUDE_DIR systemd/sd-bus.h REQUIRED)
find_library(SYSTEMD_LIBRARY systemd REQUIRED)
add_library(systemd::sd_bus UNKNOWN IMPORTED)
set_target_properties(systemd::sd_bus PROPERTIES
  IMPORTED_LOCATION "${SYSTEMD_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${SYSTEMD_INCLUDE_DIR}")

add_library(rapidjson INTERFACE)
target_include_directories(rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)

# bosun_library(<name> <dir> [LIBS ...]): a static library of every .cpp under
# <dir> (recursively); header-only until the folder has sources.
function(bosun_library name dir)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${dir}/*.cpp")
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_link_libraries(${name} PUBLIC ${ARG_LIBS} bosun_warnings)
  else()
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE ${ARG_LIBS} bosun_warnings)
  endif()
endfunction()
