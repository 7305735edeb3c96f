#pragma once

// The volumes actor: an app's named volumes ("<appId>_<name>").
//
// Owns: nothing but its engine handle; the engine holds the volumes.
// Answers: volumes_actor (messages/volumes.hpp): volume_ensure,
// volume_remove, volume_purge, volume_cleanup, volume_list_app.
// Builds the create body and compares with volume_logic (pure).
// Never: removes a volume because a release stopped naming it (only on
// request: remove, purge, cleanup), or forces a removal: a volume a
// container uses stays, reported as in use.
//
// Networks have their own small actor (actors/volumes/networks.hpp): the
// same shape of work for another kind of engine object.
#include "messages/engine.hpp"
#include "messages/volumes.hpp"

#include <chrono>

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

namespace bosun {

struct volumes_options {
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};
};

volumes_actor spawn_volumes(caf::actor_system& sys, engine_actor engine,
                            volumes_options opts = {});

// Lets sys.render(e) print volumes errors (also the networks actor's) as
// their message.
void add_volumes_error_renderer(caf::actor_system_config& cfg);

} // namespace bosun
