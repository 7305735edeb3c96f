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
#include "messages/core.hpp"
#include "messages/root.hpp"

#include <caf/actor_system.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bosun {

struct child_spec {
  std::string name;
  // Spawns a fresh instance; called at start and after each failure. It
  // reads the handles of the children started before it from `core` (the
  // later ones are invalid), and publishes its own there when it is a core
  // actor (core_child). Returns the instance, or an invalid handle when it
  // cannot start (the function logged why).
  std::function<caf::actor(caf::actor_system&, core_actors& core)> spawn;
  // Invalidates its handle in `core` (it stopped or failed).
  std::function<void(core_actors& core)> retire = [](core_actors&) {};
};

// A core actor as a child: `spawn` makes the typed handle published at
// `slot` (e.g. &core_actors::app_manager).
template <class Handle, class Spawn>
child_spec core_child(Handle core_actors::*slot, Spawn spawn) {
  return {core_actors::name_of(slot),
          [slot, spawn](caf::actor_system& sys, core_actors& core) {
            Handle h = spawn(sys, static_cast<const core_actors&>(core));
            core.*slot = h;
            return caf::actor_cast<caf::actor>(h);
          },
          [slot](core_actors& core) { core.*slot = Handle{}; }};
}

struct root_options {
  std::vector<child_spec> children; // started in order, stopped in reverse
  std::size_t max_restarts = 5;
  std::chrono::steady_clock::duration window = std::chrono::seconds(60);
  std::shared_ptr<const logger> log;
};

root_actor spawn_root(caf::actor_system& sys, root_options opts);

} // namespace bosun
