#pragma once

// Shared pieces of the container-spec tests: a target app and service like
// the ones in reference/state.md, a device context, env/label lookups, and
// the recorded engine data in tests/data/apps_spec (see record.sh there).
#include "actors/apps/container_spec.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace bosun::apps::test {

inline const std::string app_uuid = "d149c5d1551b4286a930d57284a02511";
inline const std::string commit = "217d55237092995e4576367e529ebb03";

inline target_service make_service(std::string name = "web") {
  target_service s;
  s.name = std::move(name);
  s.service_id = 43697;
  s.image_id = 431889;
  s.image = "registry2.balena-cloud.com/v2/8ddb@sha256:09b0";
  return s;
}

inline target_app make_app(const target_service& s) {
  target_app a;
  a.uuid = app_uuid;
  a.app_id = 1011165;
  a.name = "myfleet";
  a.commit = commit;
  a.release_id = 557617;
  a.services = {s};
  return a;
}

inline spec_context make_context() {
  spec_context c;
  c.device_uuid = "7dadabd4edec3067948d5952c2f2f26f";
  c.device_name = "holy-wildflower";
  c.device_type = "raspberrypi4-64";
  c.device_arch = "aarch64";
  c.host_os_version = "balenaOS 5.3.0";
  c.host_os_board_rev = "rev-a";
  c.hostname = "devicehost";
  c.api_endpoint = "https://api.balena-cloud.com";
  c.device_api_key = "devicekey";
  c.listen_port = 48484;
  c.supervisor_api_key = "scopedkey";
  c.engine_socket = "/var/run/balena-engine.sock";
  c.lock_dir_base = "/tmp/balena-supervisor";
  return c;
}

// The spec of one service with the default app and context.
inline container_spec spec_of(const target_service& s,
                              const image_inspect* image = nullptr,
                              const spec_context& ctx = make_context()) {
  return make_container_spec(make_app(s), s, ctx, image);
}

inline std::optional<std::string> env_of(const container_spec& s,
                                         const std::string& key) {
  for (const auto& e : s.create.config.env)
    if (e.compare(0, key.size() + 1, key + "=") == 0)
      return e.substr(key.size() + 1);
  return std::nullopt;
}

inline std::optional<std::string> label_of(const container_spec& s,
                                           const std::string& key) {
  auto i = s.create.config.labels.find(key);
  if (i == s.create.config.labels.end())
    return std::nullopt;
  return i->second;
}

template <class Container, class T>
bool contains(const Container& xs, const T& x) {
  for (const auto& y : xs)
    if (y == x)
      return true;
  return false;
}

inline std::string data_path(const std::string& name) {
  return std::string(BOSUN_TEST_DATA) + "/apps_spec/" + name;
}

inline std::string load(const std::string& name) {
  auto path = data_path(name);
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace bosun::apps::test
