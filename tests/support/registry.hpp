#pragma once

// Images in the test registry for e2e tests that need a pull.
#include "tests/support/env.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <string>

namespace bosun::test {

// The test registry's port, from BOSUN_TEST_REGISTRY ("127.0.0.1:5000";
// tools/dev's BOSUN_REGISTRY_ADDR sets it).
inline int registry_port() {
  auto addr = required_env("BOSUN_TEST_REGISTRY");
  auto colon = addr.rfind(':');
  REQUIRE_MESSAGE(colon != std::string::npos, "registry without port: ", addr);
  return std::stoi(addr.substr(colon + 1));
}

// `repo` (e.g. "bosun/chaos-b:1") in the test registry: the image `base`
// plus one layer made by the shell command `run`, pushed and then removed
// from the engine, so that a service using it needs a pull. Returns its
// full name (registry address included).
inline std::string push_layered_image(const std::string& base,
                                      const std::string& repo,
                                      const std::string& run) {
  auto name = required_env("BOSUN_TEST_REGISTRY") + "/" + repo;
  docker("pull -q " + base);
  auto built = run_command("printf 'FROM " + base + "\\nRUN " + run
                           + "\\n' | DOCKER_BUILDKIT=0 docker build -q -t "
                           + name + " -");
  REQUIRE_MESSAGE(built.status == 0, built.out);
  auto pushed = docker("push -q " + name);
  REQUIRE_MESSAGE(pushed.status == 0, pushed.out);
  docker("rmi -f " + name);
  return name;
}

} // namespace bosun::test
