#pragma once

// One agent is one call: start_agent builds the whole actor tree (root and
// the core actors under it) for one device. Nothing is process-global, so
// tests run two agents side by side and fleet-sim runs thousands.
#include "actors/logger.hpp"
#include "config/config.hpp"
#include "messages/engine.hpp"
#include "messages/root.hpp"

#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <functional>
#include <memory>
#include <string>
#include <variant>

namespace bosun {

struct agent_deps {
  asio::io_context& io; // the one I/O thread's context (HTTP, engine)
  std::shared_ptr<const logger> log;
  // Spawns the agent's engine (any actor with the engine's interface; again
  // whenever root restarts it). Empty: the real engine actor at cfg.engine.
  // fleet-sim and tests pass a simulated engine (tools/fleet-sim).
  std::function<engine_actor(caf::actor_system&)> engine = {};
};

struct agent {
  root_actor root;
  std::string uuid;    // the device's uuid (config.json, or generated)
  std::string api_key; // the global device API key
};

// Opens the database (refusing one from a newer bosun), settles the device
// identity, and spawns root with its children. Returns a one-line reason when
// the agent cannot start.
std::variant<agent, std::string>
start_agent(caf::actor_system& sys, const config& cfg, agent_deps deps);

} // namespace bosun
