#pragma once

// The real bosun binary in a temp data dir, for e2e tests.
#include "tests/support/env.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <cstdlib>
#include <fstream>
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
  explicit running_bosun(std::vector<std::string> extra = {},
                         std::string data_dir = {},
                         const std::string& config_json = "{}")
      : data_dir_(data_dir.empty() ? dir_.path() + "/data" : data_dir),
        proc_(BOSUN_BINARY, args(std::move(extra), config_json)) {}

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

private:
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
