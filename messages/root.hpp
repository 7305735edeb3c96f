#pragma once

// The root supervisor's interface: it owns the core actors (engine, db, ...)
// and restarts a failed one (one-for-one, at most 5 in 60 s, then it quits
// with the child's error and the process exits non-zero).
#include "messages/message.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>
#include <string>
#include <vector>

CAF_ADD_ATOM(bosun, bosun, health_atom, "health")
CAF_ADD_ATOM(bosun, bosun, children_atom, "children")
CAF_ADD_ATOM(bosun, bosun, core_atom, "core")

namespace bosun {

// The core actors by typed handle (messages/core.hpp; declared here only,
// since core.hpp includes the headers that include this one).
struct core_actors;

// A core actor as the root sees it.
struct child_status {
  std::string name;
  bool running = false;
  int restarts = 0;
  std::string last_error; // rendered exit reason of the last failure
  caf::actor handle;      // the running instance; invalid while it is not
};

struct agent_health {
  bool healthy = true;
  std::vector<std::string> problems; // why not, one sentence each
};

using root_actor = caf::typed_actor<
  // The current handles of the core actors (messages/core.hpp); an invalid
  // one while that actor is being restarted or when there is none.
  caf::replies_to<caf::get_atom, core_atom>::with<core_actors>,
  caf::replies_to<children_atom>::with<std::vector<child_status>>,
  caf::replies_to<health_atom>::with<agent_health>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::child_status)
BOSUN_MESSAGE(std::vector<bosun::child_status>)
BOSUN_MESSAGE(bosun::agent_health)
