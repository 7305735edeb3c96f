#pragma once

// tags: owns the device tags (messages/tags.hpp). Loads them from db when
// it starts (answering nothing until then), answers reads from memory, and
// stores every change through db before it answers, reading the stored
// tags back (db assigns a new name's id). Never: talks HTTP, checks tag
// names (the device API's codec does), or touches the engine.
#include "actors/logger.hpp"
#include "messages/db.hpp"
#include "messages/tags.hpp"

#include <caf/actor_system.hpp>
#include <memory>

namespace bosun {

tags_actor spawn_tags(caf::actor_system& sys, db_actor db,
                      std::shared_ptr<const logger> log);

} // namespace bosun
