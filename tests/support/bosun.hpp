#pragma once

// The real bosun binary in a temp data dir, for e2e tests.
#include "tests/support/env.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace bosun::test {

inline std::string test_engine() {
  const char* host = std::getenv("DOCKER_HOST");
  return host != nullptr ? host : "unix:///var/run/docker.sock";
}

// The global API key as `bosun api-key` prints it from a data dir (the
// key is never logged); "" when the command fails.
inline std::string api_key_from(const std::string& data_dir,
                                const std::string& config_path) {
  child_process p(BOSUN_BINARY,
                  {"api-key", "--data-dir", data_dir, "--config", config_path});
  if (p.wait_exit(std::chrono::seconds(20)) != 0)
    return {};
  auto text = p.output();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

class running_bosun {
public:
  // `data_dir`: reuse a data dir (a restart); empty = a fresh temp dir.
  // `env`: extra environment. The host interface's paths default to the
  // temp dir (host_dir()) and the bus to a socket nobody listens on, so no
  // test reaches the machine's own bus, LED or boot partition.
  explicit running_bosun(std::vector<std::string> extra = {},
                         std::string data_dir = {},
                         const std::string& config_json = "{}",
                         std::map<std::string, std::string> env = {})
      : data_dir_(data_dir.empty() ? dir_.path() + "/data" : data_dir),
        proc_(BOSUN_BINARY, args(std::move(extra), config_json),
              host_env(std::move(env))) {}

  int port() const {
    return port_;
  }
  const std::string& data_dir() const {
    return data_dir_;
  }
  child_process& proc() {
    return proc_;
  }

  bool wait_ready() {
    return eventually(
      std::chrono::seconds(20),
      [&](std::string& last) {
        if (!proc_.running()) {
          last = "bosun exited: " + proc_.output();
          return false;
        }
        auto r = http_request(port_, "GET", "/ping");
        last = "status " + std::to_string(r.status);
        return r.status == 200;
      },
      "bosun to answer /ping");
  }

  http_reply get(const std::string& target) {
    return http_request(port_, "GET", target);
  }
  http_reply post(const std::string& target, const std::string& body) {
    return http_request(port_, "POST", target, body,
                        {"Content-Type: application/json"});
  }
  std::string log() const {
    return proc_.output();
  }
  // The global API key (`bosun api-key` on this data dir).
  std::string api_key() const {
    return api_key_from(data_dir_, dir_.path() + "/config.json");
  }

  // Where the host paths point unless a test gave its own.
  std::string host_dir() const {
    return dir_.path() + "/host";
  }

private:
  std::map<std::string, std::string>
  host_env(std::map<std::string, std::string> env) const {
    auto h = host_dir();
    for (auto d : {"/boot", "/state", "/vpn"})
      std::filesystem::create_directories(h + d);
    std::ofstream(h + "/led") << "0";
    env.emplace("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + h + "/no-bus.sock");
    env.emplace("LED_FILE", h + "/led");
    env.emplace("BOOT_MOUNTPOINT", h + "/boot");
    env.emplace("STATE_MOUNTPOINT", h + "/state");
    env.emplace("VPN_STATUS_PATH", h + "/vpn");
    return env;
  }

  std::vector<std::string> args(std::vector<std::string> extra,
                                const std::string& config_json) {
    std::ofstream(dir_.path() + "/config.json") << config_json;
    std::vector<std::string> a{
      "--data-dir",  data_dir_,
      "--config",    dir_.path() + "/config.json",
      "--engine",    test_engine(),
      "--listen",    "127.0.0.1:" + std::to_string(port_),
      "--log-level", "debug"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  temp_dir dir_;
  int port_ = free_port();
  std::string data_dir_;
  child_process proc_;
};

} // namespace bosun::test
