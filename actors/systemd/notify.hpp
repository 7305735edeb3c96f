#pragma once

// systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram
// of "KEY=VALUE" lines to the unix socket named by $NOTIFY_SOCKET (a path,
// or "@name" in the abstract namespace). Pure apart from the socket, so the
// parsing rules are unit-tested.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bosun {

class notify_socket {
public:
  // The socket $NOTIFY_SOCKET names; std::nullopt when it is unset (not run
  // by systemd), or with `why` set when it is not a usable address.
  static std::optional<notify_socket>
  from_env(const std::map<std::string, std::string>& env,
           std::string* why = nullptr);

  // Sends one state ("READY=1", "WATCHDOG=1\nSTATUS=..."). Thread-safe;
  // never blocks (a full socket drops the datagram). False on failure.
  bool send(std::string_view state) const;

  const std::string& address() const {
    return address_;
  }

private:
  struct fd_holder;
  std::string address_;
  std::shared_ptr<fd_holder> fd_;
};

// How often to send WATCHDOG=1: half of $WATCHDOG_USEC, when it is set, is
// a positive number and $WATCHDOG_PID is unset or `pid`; else std::nullopt.
std::optional<std::chrono::microseconds>
watchdog_period(const std::map<std::string, std::string>& env, long pid);

} // namespace bosun
