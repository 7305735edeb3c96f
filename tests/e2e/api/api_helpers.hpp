#pragma once

// Helpers shared by the device API's e2e tests (api_test.cpp,
// drop_in_test.cpp): the engine's view of containers, apps' cleanup, a
// managed device's config.json.
#include "tests/support/bosun.hpp"

#include <doctest/doctest.h>
#include <initializer_list>
#include <rapidjson/document.h>
#include <regex>
#include <sstream>
#include <string>

namespace bosun::test::api {

inline std::string inspect(const std::string& name, const std::string& format) {
  return docker("inspect -f '" + format + "' " + name).out;
}

inline bool running(const std::string& name) {
  return inspect(name, "{{.State.Running}}") == "true";
}

// A variable of a container's environment ("" when absent).
inline std::string env_of(const std::string& container,
                          const std::string& name) {
  auto env = inspect(container, "{{json .Config.Env}}");
  std::smatch m;
  if (std::regex_search(env, m, std::regex("\"" + name + "=([^\"]*)\"")))
    return m[1];
  return {};
}

// Removes the containers and default networks of `apps`.
inline void remove_apps(std::initializer_list<int> apps) {
  for (int app : apps) {
    auto r
      = docker("ps -aq --filter label=io.balena.app-id=" + std::to_string(app));
    std::istringstream in(r.out);
    std::string id;
    while (in >> id)
      docker("rm -f " + id);
    docker("network rm " + std::to_string(app) + "_default");
  }
}

inline rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  REQUIRE_MESSAGE(!d.HasParseError(), body);
  return d;
}

// A managed (not local) device: a cloud that never answers.
inline std::string managed_config() {
  return R"({"apiEndpoint":"http://127.0.0.1:)" + std::to_string(free_port())
         + R"(","uuid":"0123456789abcdef0123456789abcdef"})";
}

} // namespace bosun::test::api
