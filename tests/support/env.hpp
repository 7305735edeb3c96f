#pragma once

// The environment `tools/dev test` (or `eval "$(tools/dev env)"`) gives the
// integration and e2e tests: DOCKER_HOST, BOSUN_TEST_REGISTRY,
// BOSUN_TEST_IMAGE, BOSUN_TEST_DOCKERD_PIDFILE, BOSUN_TEST_DOCKERD_CMD.
#include <cstdlib>
#include <doctest/doctest.h>
#include <string>

namespace bosun::test {

// The variable's value; the test fails, naming it, when it is missing.
inline std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0')
    FAIL(std::string{name},
         " is not set: the integration and e2e tests need the private "
         "engine, registry and test image; run them with `tools/dev "
         "test` (or `eval \"$(tools/dev env)\"` first)");
  return v;
}

// What `tools/dev test` built and named in `var` (the .deb, the image); the
// test fails, naming the command that builds it, when it is missing.
inline std::string required_artifact(const char* var, const char* built_by) {
  const char* v = std::getenv(var);
  if (v == nullptr || *v == '\0')
    FAIL(std::string{var}, " is not set: `tools/dev test` sets it (`", built_by,
         "` builds it)");
  return v;
}

} // namespace bosun::test
