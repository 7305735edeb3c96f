#pragma once
// A bound unix datagram socket standing in for systemd's NOTIFY_SOCKET: the
// tests read what bosun tells systemd (READY=1, WATCHDOG=1, STOPPING=1).
#include <algorithm>
#include <chrono>
#include <doctest/doctest.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace bosun::test {

using namespace std::chrono_literals;

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

} // namespace bosun::test
