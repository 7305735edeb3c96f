#pragma once

// The apps domain: what the device runs now (the planner's view of it) and the
// steps that move it toward the target.
//
// Pure data. `app_manager` builds a `current_state` from the engine (labelled
// containers, networks, volumes, images), its own bookkeeping (commit, locks,
// services stopped through the API, downloads in flight) and the container
// comparison (actors/apps/container_spec.hpp), then calls the planner
// (actors/apps/planner.hpp), which returns `std::vector<step>`. Each step
// carries everything its executor needs and a short `reason` for logs.
//
// Names: networks and volumes are the release's short names ("backend",
// "data"), never the engine's prefixed ones ("<uuid>_backend",
// "<appId>_data"); services by service name.
#include "messages/message.hpp"
#include "messages/target.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace bosun {

// ------------------------------------------------------ current state --

// The engine's container state, plus `stopping` (a kill or stop of this
// container is in flight: bosun's own marker, the engine says "running").
enum class container_status : uint8_t {
  created, // never started ("Installed")
  running,
  paused,
  restarting,
  removing,
  exited,
  dead,
  stopping,
};

// State.Health.Status; `none` when the container has no healthcheck.
enum class container_health : uint8_t { none, starting, healthy, unhealthy };

// How a container compares with the target service of the same name:
// container_spec's compare() (its spec_match) as app_manager hands it to the
// planner, plus no_target for a container whose service is not in the target.
enum class target_match : uint8_t {
  equal,         // same config, same release: nothing to do
  metadata_only, // same config, other release: rename only
  differs,       // recreate, per the service's update strategy
  no_target,     // no target service of that name (or the app left)
};

inline const char* to_string(container_status x) {
  switch (x) {
    case container_status::created:
      return "created";
    case container_status::running:
      return "running";
    case container_status::paused:
      return "paused";
    case container_status::restarting:
      return "restarting";
    case container_status::removing:
      return "removing";
    case container_status::exited:
      return "exited";
    case container_status::dead:
      return "dead";
    case container_status::stopping:
      return "stopping";
  }
  return "unknown";
}

inline const char* to_string(container_health x) {
  switch (x) {
    case container_health::none:
      return "none";
    case container_health::starting:
      return "starting";
    case container_health::healthy:
      return "healthy";
    case container_health::unhealthy:
      return "unhealthy";
  }
  return "unknown";
}

inline const char* to_string(target_match x) {
  switch (x) {
    case target_match::equal:
      return "equal";
    case target_match::metadata_only:
      return "metadata_only";
    case target_match::differs:
      return "differs";
    case target_match::no_target:
      return "no_target";
  }
  return "unknown";
}

// One supervised container of an app.
struct current_container {
  std::string id;
  std::string name; // <service>_<imageId>_<releaseId>_<commit>
  std::string service_name;
  int64_t service_id = 0;
  int64_t image_id = 0;
  int64_t release_id = 0;
  std::string commit;
  container_status status = container_status::running;
  container_health health = container_health::none;
  // Orders containers of one service by creation; larger = newer (e.g. the
  // engine's Created time in ns). Only compared, never read as a time.
  int64_t created = 0;
  target_match match = target_match::equal;
  // bosun stopped it (a stop step, or a stop through the API), as opposed to
  // its process exiting: starting it again is then the planner's job, while
  // an exit is the service supervisor's (restart policy).
  bool stopped_by_agent = false;
  std::vector<std::string> networks; // app networks it is attached to
  std::vector<std::string> volumes;  // app named volumes it mounts
};

// An app network on the engine.
struct current_network {
  std::string name; // short name
  std::string id;   // engine id (two networks may share a name)
  // Equal to the target network of the same name (planner's
  // app_networks(), which includes the implicit "default"); ignored when the
  // target has no network of that name.
  bool config_equal = true;
};

// An app named volume on the engine.
struct current_volume {
  std::string name; // short name
  // Equal to the target volume of the same name (driver, options, labels);
  // ignored when the target has no volume of that name.
  bool config_equal = true;
};

// One app as it is on the device.
struct current_app {
  std::string uuid;
  int64_t app_id = 0;
  // The release the app is on (bookkeeping: updated by update_commit);
  // empty when unknown.
  std::string commit;
  std::vector<current_container> containers;
  std::vector<current_network> networks;
  std::vector<current_volume> volumes;
  bool lock_held = false; // bosun holds this app's update lock
  // Services whose lock directory has a lock file not taken by bosun
  // (updates.lock / resin-updates.lock): a take_lock without force fails.
  std::vector<std::string> user_locks;
  // Services stopped through the API: not started again until a start is
  // asked through the API.
  std::set<std::string> user_stopped;
};

// Everything the planner knows about the device.
struct current_state {
  std::vector<current_app> apps;
  // Target image references (target_service::image) present on the engine.
  std::set<std::string> images;
  // Image references being pulled → progress 0..100 (-1 when unknown).
  std::map<std::string, int> downloading;
};

inline const current_app* find_app(const current_state& s,
                                   const std::string& uuid) {
  for (const auto& a : s.apps)
    if (a.uuid == uuid)
      return &a;
  return nullptr;
}

// ------------------------------------------------------------- steps --

// The steps of a plan. Every step names its app (uuid and appId) and says
// why it is there (`reason`, a short sentence for logs and status).
namespace steps {

// Pull `image` (for `service`; several services may share one image, the
// plan fetches it once).
struct fetch_image {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string service;
  std::string image;
  int64_t service_id = 0;
  int64_t image_id = 0;
  std::string reason;
};

// Create network "<uuid>_<network.name>".
struct create_network {
  std::string app_uuid;
  int64_t app_id = 0;
  target_network network;
  std::string reason;
};

// Remove the network with this engine id (no container uses it any more).
struct remove_network {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string name;
  std::string id;
  std::string reason;
};

// Create volume "<appId>_<volume.name>".
struct create_volume {
  std::string app_uuid;
  int64_t app_id = 0;
  target_volume volume;
  std::string reason;
};

// Remove volume "<appId>_<name>" (no container uses it any more).
struct remove_volume {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string name;
  std::string reason;
};

// Stop the container, keep it (target running = false). Needs the lock.
struct stop_service {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string service;
  std::string container_id;
  std::string reason;
};

// Stop, then remove the container. Needs the lock.
struct kill_service {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string service;
  std::string container_id;
  std::string reason;
};

// Remove a container that is not running (dead). No lock.
struct remove_service {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string service;
  std::string container_id;
  std::string reason;
};

// Create the service's container if `container_id` is empty (needs the
// lock), then start it unless `create_only` (the target says not running,
// or the service was stopped through the API). With a `container_id`, start
// that existing container (no lock). `app` and `service` let the executor
// build the container spec.
struct start_service {
  target_app app;
  target_service service;
  std::string container_id;
  bool create_only = false;
  std::string reason;
};

// Stop and remove `old_container_id`, then create the service's new
// container, and start it unless `create_only`: a kill and an install with
// nothing to wait for between them, in one step. Needs the lock.
struct replace_service {
  target_app app;
  target_service service;
  std::string old_container_id;
  bool create_only = false;
  std::string reason;
};

// Rename the container for the target release (same config). Needs the lock.
struct update_metadata {
  target_app app;
  target_service service;
  std::string container_id;
  std::string reason;
};

// Hand-over strategy: rename the old container old_<name> (engine restart
// policy cleared), create and start the new one, wait for handover-complete
// or `timeout_ms`, then kill the old one. Needs the lock.
struct handover {
  target_app app;
  target_service service;
  std::string old_container_id;
  int64_t timeout_ms = 60000;
  std::string reason;
};

// Take the app's update lock for these services. Fails (updates are locked)
// when a service holds a user lock file and `force` is false; with `force`
// the user lock files are deleted first.
struct take_lock {
  std::string app_uuid;
  int64_t app_id = 0;
  std::vector<std::string> services; // sorted, unique
  bool force = false;
  std::string reason;
};

// Release the app's update lock (the app reached its target, or left).
struct release_lock {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string reason;
};

// Nothing to do yet: waiting for something outside the planner (a download,
// a dependency's health, a download slot).
struct noop {
  std::string app_uuid; // "" when not about one app
  std::string service;  // "" when not about one service
  std::string reason;
};

// Record that the app now runs release `commit`.
struct update_commit {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string commit;
  std::string reason;
};

} // namespace steps

// One step of a plan; execute with std::visit (a missing case won't
// compile).
using step = std::variant<
  steps::fetch_image, steps::create_network, steps::remove_network,
  steps::create_volume, steps::remove_volume, steps::stop_service,
  steps::kill_service, steps::remove_service, steps::start_service,
  steps::replace_service, steps::update_metadata, steps::handover,
  steps::take_lock, steps::release_lock, steps::noop, steps::update_commit>;

} // namespace bosun

BOSUN_MESSAGE(bosun::current_state)
BOSUN_MESSAGE(bosun::current_app)
BOSUN_MESSAGE(bosun::step)
BOSUN_MESSAGE(std::vector<bosun::step>)
