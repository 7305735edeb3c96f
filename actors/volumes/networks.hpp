#pragma once

// The networks actor: an app's networks ("<appUuid>_<name>").
//
// Owns: nothing but its engine handle; the engine holds the networks.
// Answers: networks_actor (messages/volumes.hpp): network_ensure,
// network_remove, network_list_app.
// Builds the create body and compares with volume_logic (pure). Docker lets
// several networks share a name: ensure accepts any equal one, remove removes
// them all.
// Never: removes a network on its own, or disconnects containers from it (a
// network in use stays, reported as in use).
#include "actors/volumes/volumes.hpp"

namespace bosun {

networks_actor spawn_networks(caf::actor_system& sys, engine_actor engine,
                              volumes_options opts = {});

} // namespace bosun
