#pragma once

// api_keys: owns the device API keys (messages/api_keys.hpp). Loads them
// from db when it starts (answering nothing until then), keeps them in a
// key_table, and stores every new or replaced key through db before it
// answers, so a key handed out survives restarts and a replaced key is
// refused at once. Never: talks HTTP, decides what a key may do (the device
// API's auth does), or touches the engine.
#include "actors/logger.hpp"
#include "messages/api_keys.hpp"
#include "messages/db.hpp"
#include "persistence/store.hpp"

#include <caf/actor_system.hpp>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace bosun {

api_keys_actor spawn_api_keys(caf::actor_system& sys, db_actor db,
                              std::shared_ptr<const logger> log);

// The global key stored in `db`, made and stored first when there is none
// (before the actor system runs: the agent logs it and hands it to the
// cloud link). Returns the db error when it cannot be read or stored.
std::variant<std::string, caf::error> settle_global_key(store& db);

// The global key stored in `db` (nullopt when there is none yet), read
// only: `bosun api-key` prints it.
std::variant<std::optional<std::string>, caf::error> read_global_key(store& db);

} // namespace bosun
