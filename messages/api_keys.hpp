#pragma once

// The api_keys actor's interface: it owns the device API keys (balena's
// apiSecret: the global key, and one key per service labelled
// io.balena.features.supervisor-api, scoped to that service's app), keeps
// them in memory for every request's lookup and stores them through db.
//
//  - get_atom, api_key_atom, key → the key's record (app_id 0 = global), or
//    none when the key is unknown.
//  - scoped_keys_request{services} → scoped_keys: the key of each (app id,
//    service), made and stored first when it has none.
//  - regen_atom, key → the key that replaces it (same app and service);
//    the old key is refused from the moment this is answered. An unknown key
//    → api_keys_errc::unknown_key.
//  - get_atom, global_key_atom → the global key (the cloud's api_secret).
// Every change is stored before it is answered; a db failure is the reply.
#include "messages/db.hpp"
#include "messages/message.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bosun {

enum class api_keys_errc : uint8_t {
  unknown_key = 1, // regenerate: the key is not (or no longer) valid
};

inline const char* to_string(api_keys_errc x) {
  switch (x) {
    case api_keys_errc::unknown_key:
      return "unknown_key";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::api_keys_errc, "api_keys")

CAF_ADD_ATOM(bosun, bosun, regen_atom, "regen")
CAF_ADD_ATOM(bosun, bosun, global_key_atom, "global_key")

namespace bosun {

// (app id, service name).
using service_ref = std::pair<int64_t, std::string>;

struct scoped_keys_request {
  std::vector<service_ref> services;
};

struct scoped_keys {
  std::map<service_ref, std::string> keys;
};

using api_keys_actor = caf::typed_actor<
  caf::replies_to<caf::get_atom, api_key_atom,
                  std::string>::with<std::optional<api_key_record>>,
  caf::replies_to<scoped_keys_request>::with<scoped_keys>,
  caf::replies_to<regen_atom, std::string>::with<std::string>,
  caf::replies_to<caf::get_atom, global_key_atom>::with<std::string>>;

} // namespace bosun

BOSUN_MESSAGE(std::optional<bosun::api_key_record>)
BOSUN_MESSAGE(bosun::scoped_keys_request)
BOSUN_MESSAGE(bosun::scoped_keys)
