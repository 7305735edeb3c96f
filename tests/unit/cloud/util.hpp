#pragma once

// Helpers for the target codec tests.
#include "api/cloud/target_codec.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <sstream>
#include <string>

namespace bosun::cloud::test {

inline std::string load(const std::string& name) {
  std::ifstream in(std::string(BOSUN_TEST_DATA) + "/cloud/" + name,
                   std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing test data " << name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline const char* app_uuid = "d149c5d1551b4286a930d57284a02511";
inline const char* commit = "217d55237092995e4576367e529ebb03";

// The path prefix of a service in v3_with()'s document.
inline std::string svc_path(const std::string& service = "web") {
  return std::string("apps.") + app_uuid + ".releases." + commit + ".services."
         + service;
}

// A v3 document with one app and one release whose services, volumes and
// networks are the given JSON object bodies (without braces).
inline std::string v3_release(const std::string& services,
                              const std::string& volumes = "",
                              const std::string& networks = "",
                              const std::string& config = "") {
  return std::string(R"({"7dadabd4edec3067948d5952c2f2f26f":{"name":"dev",)")
         + R"("config":{)" + config + R"(},"apps":{")" + app_uuid
         + R"(":{"id":1,"name":"a","releases":{")" + commit
         + R"(":{"id":2,"services":{)" + services + R"(},"volumes":{)" + volumes
         + R"(},"networks":{)" + networks + "}}}}}}}";
}

// A document whose only service "web" has this composition (object body).
inline std::string v3_composition(const std::string& composition,
                                  const std::string& volumes = "",
                                  const std::string& networks = "") {
  return v3_release(
    R"("web":{"id":3,"image_id":4,"image":"img","composition":{)" + composition
      + "}}",
    volumes, networks);
}

// Decodes and returns the only service (fails the test if rejected).
inline target_service only_service(const std::string& doc) {
  auto r = decode_target_v3(doc);
  REQUIRE_MESSAGE(r, r.error.to_string());
  REQUIRE(r->target.apps.size() == 1);
  REQUIRE(r->target.apps[0].services.size() >= 1);
  return r->target.apps[0].services[0];
}

// The decode error of a document ("" if accepted).
inline std::string error_of(const target_result& r) {
  return r ? std::string() : r.error.to_string();
}

} // namespace bosun::cloud::test
