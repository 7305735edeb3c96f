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

namespace bosun {

// A core actor as the root sees it.
struct child_status {
  std::string name;
  bool running = false;
  int restarts = 0;
  std::string last_error; // rendered exit reason of the last failure
};

struct agent_health {
  bool healthy = true;
  std::vector<std::string> problems; // why not, one sentence each
};

using root_actor = caf::typed_actor<
  // The current handle of a core actor by name ("engine", "db", ...); an
  // invalid handle when there is no such child or it is being restarted.
  caf::replies_to<caf::get_atom, std::string>::with<caf::actor>,
  caf::replies_to<children_atom>::with<std::vector<child_status>>,
  caf::replies_to<health_atom>::with<agent_health>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::child_status)
BOSUN_MESSAGE(std::vector<bosun::child_status>)
BOSUN_MESSAGE(bosun::agent_health)
