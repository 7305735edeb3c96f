#pragma once

// The device API on RESTinio: routes translate HTTP to typed requests to the
// agent's actors and back; no logic lives here. The server runs on the
// shared io_context's thread; replies may be produced from CAF threads
// (RESTinio dispatches them to the connection's executor).
#include "actors/logger.hpp"
#include "config/config.hpp"
#include "messages/root.hpp"

#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bosun {

struct server_options {
  std::string address = "0.0.0.0";
  uint16_t port = 48484;
  bool local_mode = true; // POST /v2/local/target-state is accepted
  // The device config vars bosun knows, with their values from its own
  // configuration (GET /v2/local/target-state's config).
  std::vector<device_config_var> device_config;
};

struct server_deps {
  caf::actor_system& sys;
  root_actor root;
  std::shared_ptr<const logger> log;
};

class api_server {
public:
  virtual ~api_server() = default;

  // Starts listening; `on_error` is called (on the io thread) when the port
  // cannot be opened. Call on any thread before io.run(), or on the io thread.
  static std::unique_ptr<api_server>
  start(asio::io_context& io, server_options opts, server_deps deps,
        std::function<void(const std::string&)> on_error);

  // Stops accepting and closes connections; `done` runs on the io thread.
  virtual void close(std::function<void()> done) = 0;
};

} // namespace bosun
