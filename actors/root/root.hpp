#pragma once

// root: the supervision tree's top. Owns the core actors given to it as
// factories, starts them in order, links to each, and restarts one that
// fails together with every child started after it (rest-for-one: later
// children hold handles of earlier ones, e.g. app_manager of engine and db,
// so they are restarted with fresh handles). When a child fails more than
// `max_restarts` times within `window`, root quits with that child's error:
// main sees root go down and exits non-zero, so systemd or the engine
// restarts the whole agent. Root never talks to the engine, the database or
// HTTP itself.
#include "actors/logger.hpp"
#include "messages/root.hpp"

#include <caf/actor_system.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bosun {

// The current handles of the children started before this one, by name.
using siblings = std::map<std::string, caf::actor>;

struct child_spec {
  std::string name;
  // Spawns a fresh instance; called at start and after each failure.
  std::function<caf::actor(caf::actor_system&, const siblings&)> spawn;
};

struct root_options {
  std::vector<child_spec> children; // started in order, stopped in reverse
  std::size_t max_restarts = 5;
  std::chrono::steady_clock::duration window = std::chrono::seconds(60);
  std::shared_ptr<const logger> log;
};

root_actor spawn_root(caf::actor_system& sys, root_options opts);

} // namespace bosun
