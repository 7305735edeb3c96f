#pragma once

// bosun under systemd (Type=notify, WatchdogSec=): READY=1 once the device
// API answers /ping, WATCHDOG=1 every WATCHDOG_USEC/2 while the root
// supervisor says it and its core actors are healthy (a stuck actor system
// or I/O thread sends none, and systemd restarts bosun), STOPPING=1 on
// SIGTERM/SIGINT (its own signal_set, beside main's). Without $NOTIFY_SOCKET it
// does nothing and starts no timer.
//
//   auto n = service_notifier::start(io, sys, agent.root,
//                                    {address, port}, log, env);
#include "actors/logger.hpp"
#include "messages/root.hpp"

#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace bosun {

struct service_notifier_options {
  std::string api_address; // the device API's listen address
  uint16_t api_port = 0;
};

class service_notifier {
public:
  virtual ~service_notifier() = default;

  // Call before or on the io thread; `env` is the process environment.
  static std::shared_ptr<service_notifier>
  start(asio::io_context& io, caf::actor_system& sys, root_actor root,
        service_notifier_options opts, std::shared_ptr<const logger> log,
        const std::map<std::string, std::string>& env);

  // Sends STOPPING=1 and ends the readiness probe and the watchdog (done on
  // SIGTERM/SIGINT). Call on the io thread.
  virtual void stopping() = 0;
};

} // namespace bosun
