#pragma once

// The interfaces of the `volumes` actor (an app's named volumes) and the
// `networks` actor (an app's networks). Both are thin owners of one kind of
// engine object: they build the create bodies balena uses, compare what
// exists with the target, and never decide what should exist (the planner
// does).
//
// Names: requests carry the release's short names ("data", "backend");
// replies and lists carry the engine's names ("123_data" = <appId>_<name>,
// "<appUuid>_backend").
//
// volumes:
//  - volume_ensure → volume_ensured: created, or kept when an equal one exists;
//    a different one → volumes_errc::config_differs ("volume 123_data exists
//    with different config (driver local != nfs)"); the planner decides to
//    remove and recreate it (data lost). Volumes are never removed just
//    because a release dropped them.
//  - volume_remove{app id, name}: gone afterwards (absent is fine); in use by
//    a container → volumes_errc::in_use.
//  - volume_purge{app id}: removes every "<appId>_*" volume (containers using
//    them must be gone first) → the names removed; any left → in_use.
//  - volume_cleanup{referenced} → removes every "<digits>_<name>" volume not
//    in `referenced` (for /v2/cleanup-volumes); ones in use are skipped.
//  - volume_list_app{app id} → the app's volumes (a volume_list).
// networks:
//  - network_ensure → network_ensured (created, or kept when equal); a
//    different one → volumes_errc::config_differs.
//  - network_remove{app uuid, name}: every network of that name is removed
//    (absent is fine); in use → volumes_errc::in_use.
//  - network_list_app{app uuid, app id} → the app's supervised networks.
// Engine failures are passed through as engine errors (engine_errc).
//
// The comparisons (volume_matches, network_matches) and the create-body
// builders are pure functions in actors/volumes/volume_logic.hpp.
#include "messages/engine_types.hpp"
#include "messages/message.hpp"
#include "messages/target.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace bosun {

enum class volumes_errc : uint8_t {
  config_differs = 1, // an object of that name exists with another config
  in_use,             // a container still uses it (engine 409)
};

inline const char* to_string(volumes_errc x) {
  switch (x) {
    case volumes_errc::config_differs:
      return "config_differs";
    case volumes_errc::in_use:
      return "in_use";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::volumes_errc, "volumes")

namespace bosun {

// ---------------------------------------------------------------- volumes --

struct volume_ensure {
  int64_t app_id = 0;
  std::string app_uuid;
  target_volume volume;
};

struct volume_ensured {
  std::string name;     // engine name, "<appId>_<name>"
  bool created = false; // false: an equal one existed
};

struct volume_remove {
  int64_t app_id = 0;
  std::string name; // short name
};

struct volume_purge {
  int64_t app_id = 0;
};

struct volume_cleanup {
  string_list referenced; // engine names ("123_data") still wanted
};

// What a purge or cleanup did (engine names).
struct volume_removal {
  string_list removed;
  string_list in_use; // skipped: a container uses it
  string_list failed; // "name: why"
};

struct volume_list_app {
  int64_t app_id = 0;
};

using volumes_actor
  = caf::typed_actor<caf::replies_to<volume_ensure>::with<volume_ensured>,
                     caf::reacts_to<volume_remove>,
                     caf::replies_to<volume_purge>::with<volume_removal>,
                     caf::replies_to<volume_cleanup>::with<volume_removal>,
                     caf::replies_to<volume_list_app>::with<volume_list>>;

// --------------------------------------------------------------- networks --

struct network_ensure {
  std::string app_uuid;
  int64_t app_id = 0;
  target_network network;
};

struct network_ensured {
  std::string name; // engine name, "<appUuid>_<name>"
  std::string id;
  bool created = false; // false: an equal one existed
};

struct network_remove {
  std::string app_uuid;
  std::string name; // short name
};

struct network_list_app {
  std::string app_uuid;
  int64_t app_id = 0;
};

using networks_actor
  = caf::typed_actor<caf::replies_to<network_ensure>::with<network_ensured>,
                     caf::reacts_to<network_remove>,
                     caf::replies_to<network_list_app>::with<network_infos>>;

// The message of a volumes error ("" for other errors).
inline std::string volumes_error_message(const caf::error& e) {
  if (e.category() != caf::atom("volumes"))
    return {};
  const auto& ctx = e.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

} // namespace bosun

BOSUN_MESSAGE(bosun::volume_ensure)
BOSUN_MESSAGE(bosun::volume_ensured)
BOSUN_MESSAGE(bosun::volume_remove)
BOSUN_MESSAGE(bosun::volume_purge)
BOSUN_MESSAGE(bosun::volume_cleanup)
BOSUN_MESSAGE(bosun::volume_removal)
BOSUN_MESSAGE(bosun::volume_list_app)
BOSUN_MESSAGE(bosun::network_ensure)
BOSUN_MESSAGE(bosun::network_ensured)
BOSUN_MESSAGE(bosun::network_remove)
BOSUN_MESSAGE(bosun::network_list_app)
