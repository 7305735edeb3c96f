// The bosun binary, started as a device owner would start it.
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <fstream>

using namespace std::chrono_literals;
using bosun::test::child_process;
using bosun::test::http_request;

namespace {

std::string engine() {
  const char* host = std::getenv("DOCKER_HOST");
  return host != nullptr ? host : "unix:///var/run/docker.sock";
}

struct running_bosun {
  bosun::test::temp_dir dir;
  int port = bosun::test::free_port();
  child_process proc;

  explicit running_bosun(std::vector<std::string> extra = {},
                         const std::string& config_json = "{}")
      : proc(BOSUN_BINARY, args(std::move(extra), config_json), {}) {}

  std::vector<std::string> args(std::vector<std::string> extra,
                                const std::string& config_json) {
    std::ofstream(dir.path() + "/config.json") << config_json;
    std::vector<std::string> a{
      "--data-dir",  dir.path() + "/data",
      "--config",    dir.path() + "/config.json",
      "--engine",    engine(),
      "--listen",    "127.0.0.1:" + std::to_string(port),
      "--log-level", "debug"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  bool wait_ready() {
    return bosun::test::eventually(
      20s,
      [&](std::string& last) {
        if (!proc.running()) {
          last = "bosun exited: " + proc.output();
          return true; // stop waiting; the caller checks running()
        }
        auto r = http_request(port, "GET", "/ping");
        last = "status " + std::to_string(r.status);
        return r.status == 200;
      },
      "bosun to answer /ping");
  }
};

} // namespace

TEST_SUITE("bosun binary") {
  TEST_CASE("answers /ping with OK and stops within 10 s of SIGTERM") {
    running_bosun b;
    REQUIRE(b.wait_ready());
    REQUIRE(b.proc.running());
    auto r = http_request(b.port, "GET", "/ping");
    CHECK(r.status == 200);
    CHECK(r.body == "OK");
    auto healthy = http_request(b.port, "GET", "/v1/healthy");
    CHECK(healthy.status == 200);
    CHECK(healthy.body == "OK");
    auto missing = http_request(b.port, "GET", "/no/such/route");
    CHECK(missing.status == 404);
    b.proc.signal(SIGTERM);
    auto code = b.proc.wait_exit(10s);
    REQUIRE_MESSAGE(code.has_value(), b.proc.output());
    CHECK(*code == 0);
    CHECK(b.proc.output().find("SIGTERM received") != std::string::npos);
  }

  TEST_CASE("a malformed config.json exits non-zero naming the field") {
    bosun::test::temp_dir dir;
    auto path = dir.path() + "/config.json";
    std::ofstream(path)
      << R"({"uuid": "7dadabd4edec3067948d5952c2f2f26f", "listenPort": "not-a-port"})";
    child_process proc(BOSUN_BINARY,
                       {"--config", path, "--data-dir", dir.path() + "/data"});
    auto code = proc.wait_exit(10s);
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    auto out = proc.output();
    CHECK_MESSAGE(out.find(path) != std::string::npos, out);
    CHECK_MESSAGE(out.find("listenPort") != std::string::npos, out);
  }

  TEST_CASE("config.json that is not JSON exits non-zero with the offset") {
    bosun::test::temp_dir dir;
    auto path = dir.path() + "/config.json";
    std::ofstream(path) << "{\"uuid\": ";
    child_process proc(BOSUN_BINARY,
                       {"--config", path, "--data-dir", dir.path() + "/data"});
    auto code = proc.wait_exit(10s);
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK_MESSAGE(proc.output().find("JSON") != std::string::npos,
                  proc.output());
  }

  TEST_CASE("--help and --version print and exit 0") {
    child_process help(BOSUN_BINARY, {"--help"});
    CHECK(help.wait_exit(10s) == 0);
    CHECK(help.output().find("--data-dir") != std::string::npos);
    child_process version(BOSUN_BINARY, {"--version"});
    CHECK(version.wait_exit(10s) == 0);
    CHECK(version.output().find("bosun") != std::string::npos);
  }
}
