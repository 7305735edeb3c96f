// bosun under systemd's notify protocol: the test owns the datagram socket
// that NOTIFY_SOCKET names and reads what the real binary sends.
#include "tests/support/bosun.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <fstream>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace std::chrono_literals;
using bosun::test::child_process;
using bosun::test::http_request;

namespace {

// A bound unix datagram socket standing in for systemd's.
class notify_listener {
public:
  explicit notify_listener(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof(a.sun_path));
    path_.copy(a.sun_path, path_.size());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  }
  ~notify_listener() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const {
    return path_;
  }
  // The next datagram within `deadline`; empty when none came.
  std::string next(std::chrono::milliseconds deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(deadline.count())) != 1)
      return {};
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string{};
  }
  // Reads until a datagram starting with `state` ("READY=1"); every one
  // read goes to `seen`. False when none came within `deadline`.
  bool wait_for(const std::string& state, std::vector<std::string>& seen,
                std::chrono::milliseconds deadline = 20s) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
      auto m = next(std::max(left, 1ms));
      if (m.empty())
        continue;
      seen.push_back(m);
      if (m.rfind(state, 0) == 0)
        return true;
    }
    return false;
  }

private:
  std::string path_;
  int fd_ = -1;
};

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
