// bosun under systemd's notify protocol: the test owns the datagram socket
// that NOTIFY_SOCKET names and reads what the real binary sends.
#include "tests/support/bosun.hpp"
#include "tests/support/notify_listener.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <fstream>

using namespace std::chrono_literals;
using bosun::test::child_process;
using bosun::test::http_request;
using bosun::test::notify_listener;

namespace {

struct notified_bosun {
  bosun::test::temp_dir dir;
  int port = bosun::test::free_port();
  notify_listener sock{dir.path() + "/notify"};
  std::unique_ptr<child_process> proc;

  explicit notified_bosun(std::map<std::string, std::string> env) {
    std::ofstream(dir.path() + "/config.json") << "{}";
    env["NOTIFY_SOCKET"] = sock.path();
    proc = std::make_unique<child_process>(
      BOSUN_BINARY,
      std::vector<std::string>{"--data-dir", dir.path() + "/data", "--config",
                               dir.path() + "/config.json", "--engine",
                               bosun::test::test_engine(), "--listen",
                               "127.0.0.1:" + std::to_string(port)},
      env);
  }
};

size_t count(const std::vector<std::string>& seen, const std::string& s) {
  return static_cast<size_t>(std::count(seen.begin(), seen.end(), s));
}

} // namespace

TEST_SUITE("systemd notify") {
  TEST_CASE("READY=1 once /ping answers, WATCHDOG=1 every WATCHDOG_USEC/2, "
            "STOPPING=1 on SIGTERM") {
    notified_bosun b(
      std::map<std::string, std::string>{{"WATCHDOG_USEC", "400000"}});
    std::vector<std::string> seen;
    REQUIRE_MESSAGE(b.sock.wait_for("READY=1", seen), b.proc->output());
    // Sent only after bosun's own probe got an answer: /ping answers now.
    CHECK(http_request(b.port, "GET", "/ping").status == 200);
    CHECK(seen.size() == 1); // nothing before READY=1
    CHECK(seen.back().find("STATUS=") != std::string::npos);

    for (int i = 0; i < 3; ++i)
      REQUIRE_MESSAGE(b.sock.wait_for("WATCHDOG=1", seen, 5s),
                      b.proc->output());
    CHECK(count(seen, "WATCHDOG=1") == 3);

    b.proc->signal(SIGTERM);
    REQUIRE_MESSAGE(b.sock.wait_for("STOPPING=1", seen, 10s), b.proc->output());
    auto code = b.proc->wait_exit(10s);
    REQUIRE(code.has_value());
    CHECK(*code == 0);
    // No ping after STOPPING=1.
    CHECK(b.sock.next(500ms).empty());
  }

  TEST_CASE("no WATCHDOG=1 without WATCHDOG_USEC, or when WATCHDOG_PID is "
            "another process") {
    for (auto env : std::vector<std::map<std::string, std::string>>{
           {}, {{"WATCHDOG_USEC", "200000"}, {"WATCHDOG_PID", "1"}}}) {
      notified_bosun b(env);
      std::vector<std::string> seen;
      REQUIRE_MESSAGE(b.sock.wait_for("READY=1", seen), b.proc->output());
      // Several periods of 100 ms pass with nothing.
      CHECK(b.sock.next(1s).empty());
      b.proc->signal(SIGTERM);
      REQUIRE(b.sock.wait_for("STOPPING=1", seen, 10s));
      CHECK(count(seen, "WATCHDOG=1") == 0);
      CHECK(b.proc->wait_exit(10s).has_value());
    }
  }
}
