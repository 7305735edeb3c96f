#pragma once

// The db actor's typed interface: the only way the agent reads or writes its
// SQLite database (persistence/db.hpp spawns it). Requests are answered in
// order, one at a time, on the actor's own thread; every request may fail
// with a db_errc error whose context is one std::string with the SQLite
// message.
//
//   self->request(db, 5s, caf::get_atom_v, bosun::config_kv_atom_v, "k")
//     .then([](const std::optional<std::string>& v) {...},
//           [](const caf::error& e) {... bosun::db_error_message(e) ...});
#include "messages/message.hpp"
#include "messages/target.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun {

enum class db_errc : uint8_t {
  open_failed = 1,  // the file could not be opened or is not a database
  schema_too_new,   // written by a newer bosun; refused, left untouched
  migration_failed, // a migration failed; rolled back, database unchanged
  query_failed,     // a statement failed
};

inline const char* to_string(db_errc x) {
  switch (x) {
    case db_errc::open_failed:
      return "open_failed";
    case db_errc::schema_too_new:
      return "schema_too_new";
    case db_errc::migration_failed:
      return "migration_failed";
    case db_errc::query_failed:
      return "query_failed";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::db_errc, "db")

// Selects the config key/value table in db requests.
CAF_ADD_ATOM(bosun, bosun, config_kv_atom, "config_kv")
// Selects the stored target state (the last accepted one, cloud or local).
CAF_ADD_ATOM(bosun, bosun, target_atom, "target")
// Selects the device API keys.
CAF_ADD_ATOM(bosun, bosun, api_key_atom, "api_key")
// Selects the device tags (kept locally; the cloud link reports them).
CAF_ADD_ATOM(bosun, bosun, device_tags_atom, "dev_tags")

namespace bosun {

// A device API key (balena's apiSecret row). app_id 0 with an empty
// service_name is the global key; any other is scoped to app `app_id` and
// held by its service `service_name` (BALENA_SUPERVISOR_API_KEY).
struct api_key_record {
  std::string key; // 32 lowercase hex
  int64_t app_id = 0;
  std::string service_name;
};

// A device tag. `id` is stable for a name (assigned when it is first set).
struct device_tag {
  int64_t id = 0;
  std::string name;
  std::string value;
};

inline bool operator==(const api_key_record& a, const api_key_record& b) {
  return a.key == b.key && a.app_id == b.app_id
         && a.service_name == b.service_name;
}

inline bool operator==(const device_tag& a, const device_tag& b) {
  return a.id == b.id && a.name == b.name && a.value == b.value;
}

} // namespace bosun

// Reply types that CAF cannot inspect. Guarded, so that another messages/
// header may declare the same type the same way.
#ifndef BOSUN_MESSAGE_OPTIONAL_STRING
#define BOSUN_MESSAGE_OPTIONAL_STRING
BOSUN_MESSAGE(std::optional<std::string>)
#endif
BOSUN_MESSAGE(std::optional<bosun::target_state>)
BOSUN_MESSAGE(bosun::api_key_record)
BOSUN_MESSAGE(std::vector<bosun::api_key_record>)
BOSUN_MESSAGE(bosun::device_tag)
BOSUN_MESSAGE(std::vector<bosun::device_tag>)

namespace bosun {

using db_actor = caf::typed_actor<
  // The value stored under a key; std::nullopt when there is none.
  caf::replies_to<caf::get_atom, config_kv_atom,
                  std::string>::with<std::optional<std::string>>,
  // Every key and value.
  caf::replies_to<caf::get_atom,
                  config_kv_atom>::with<std::map<std::string, std::string>>,
  // Stores (inserts or replaces) one key.
  caf::replies_to<caf::put_atom, config_kv_atom, std::string,
                  std::string>::with<void>,
  // Stores several keys in one transaction: all or none.
  caf::replies_to<caf::put_atom, config_kv_atom,
                  std::map<std::string, std::string>>::with<void>,
  // Removes a key; removing an absent key is not an error.
  caf::replies_to<caf::delete_atom, config_kv_atom, std::string>::with<void>,
  // The stored target; std::nullopt before the first one. A stored target
  // that no longer decodes is a query_failed error naming why.
  caf::replies_to<caf::get_atom,
                  target_atom>::with<std::optional<target_state>>,
  // Replaces the stored target (synchronous=FULL: on disk when answered).
  caf::replies_to<caf::put_atom, target_atom, target_state>::with<void>,
  // Every API key.
  caf::replies_to<caf::get_atom,
                  api_key_atom>::with<std::vector<api_key_record>>,
  // Stores a key, replacing the key of the same (app_id, service_name): the
  // old key is gone once this is answered.
  caf::replies_to<caf::put_atom, api_key_atom, api_key_record>::with<void>,
  // Every device tag, by name.
  caf::replies_to<caf::get_atom,
                  device_tags_atom>::with<std::vector<device_tag>>,
  // Sets tags (name → value), keeping the others; one transaction.
  caf::replies_to<caf::put_atom, device_tags_atom,
                  std::map<std::string, std::string>>::with<void>>;

} // namespace bosun
