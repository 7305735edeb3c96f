#pragma once

// The app manager's interface: it holds the target and the current state of
// every app, runs one apply pass at a time and publishes status.
#include "messages/db.hpp" // target_atom
#include "messages/engine.hpp"
#include "messages/images.hpp"
#include "messages/message.hpp"
#include "messages/supervisor.hpp"
#include "messages/target.hpp"
#include "messages/volumes.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace bosun {

// The context of every apps error is one std::string: the message the
// device API shows (balena's wording where it has one).
enum class apps_errc : uint8_t {
  rejected = 1,   // the target was refused (e.g. not in local mode)
  persist_failed, // the target could not be stored; nothing changed
  // Device API actions:
  app_not_found,            // no current app with services of that appId
  service_required,         // multi-container app and no service named
  service_not_found,        // no current service matches
  target_service_not_found, // the service is not in the target release
  updates_locked,           // an update lock is held and force was not set
  not_in_current_state,     // restart/purge of an app that is not on the device
  action_failed,            // the engine or a supervisor failed
};

inline const char* to_string(apps_errc x) {
  switch (x) {
    case apps_errc::rejected:
      return "rejected";
    case apps_errc::persist_failed:
      return "persist_failed";
    case apps_errc::app_not_found:
      return "app_not_found";
    case apps_errc::service_required:
      return "service_required";
    case apps_errc::service_not_found:
      return "service_not_found";
    case apps_errc::target_service_not_found:
      return "target_service_not_found";
    case apps_errc::updates_locked:
      return "updates_locked";
    case apps_errc::not_in_current_state:
      return "not_in_current_state";
    case apps_errc::action_failed:
      return "action_failed";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::apps_errc, "apps")

CAF_ADD_ATOM(bosun, bosun, pass_atom, "pass")
CAF_ADD_ATOM(bosun, bosun, device_atom, "device")

namespace bosun {

// A new target: stored first, then applied (the newest target wins; a pass
// in progress is abandoned at its next step boundary). The reply, the
// target's generation number, comes once the target is stored, not when it
// is applied.
struct apply_target {
  target_state target;
  bool force = false; // override update locks for this apply
};

// One image being downloaded.
struct download_status {
  std::string image;
  int32_t percent = 0;
};

// Whether the device is at its target.
enum class apps_state : uint8_t {
  idle,     // at its target
  applying, // passes run
};

// balena's words: "Idle", "Applying".
inline const char* to_string(apps_state x) {
  return x == apps_state::idle ? "Idle" : "Applying";
}

struct apps_status {
  apps_state state = apps_state::idle;
  uint64_t passes = 0;    // apply passes run since start
  uint32_t failures = 0;  // consecutive failed passes (reset on success)
  std::string last_error; // of the last failed pass
  std::string locked_by;  // service holding an update lock, when locked
  std::vector<service_status> services;
  std::vector<download_status> downloads;
  std::map<std::string, std::string> fetch_errors; // image → why
  // App uuid → the release it runs (bookkeeping).
  std::map<std::string, std::string> commits;
  // The engine view: full reads of the engine (the first, then after a
  // reconnect or an error that contradicted the view), and reads of only
  // what changed.
  uint64_t engine_full_reads = 0;
  uint64_t engine_partial_reads = 0;
  // apps_view_changed: the subscribers, and the views sent to them.
  uint32_t listeners = 0;
  uint64_t views_sent = 0;
};

// -- the device API ------------------------------------------------------

// One service as the device API shows it: a target service (with its
// container when there is one), or a container of the app whose service is
// not in the target.
struct service_view {
  int64_t app_id = 0;
  std::string app_uuid;
  std::string service_name;
  int64_t service_id = 0;
  int64_t image_id = 0;
  int64_t release_id = 0;
  std::string image;           // the image reference of the release
  std::string docker_image_id; // "sha256:…" when the image is on the engine
  std::string container_id;    // "" when there is no container
  std::string created_at;      // the container's creation time (RFC 3339)
  // balena's status (reference/state.md "Statuses"): Installing, Installed,
  // Starting, Running, Stopping, exited, paused, restarting, removing, Dead,
  // Handing over, Awaiting handover; without a container: Downloading,
  // Downloaded.
  std::string status;
  // The image's own status ("Downloading", "Downloaded") and progress.
  std::string image_status;
  std::optional<int32_t> download_progress;
  std::vector<std::string> env; // "K=V", only with apps_view_request::env
  bool in_target = true;
};

struct app_view {
  int64_t app_id = 0;
  std::string uuid;
  std::string name;
  std::string commit;         // the target release's commit
  int64_t release_id = 0;     // the target release's id
  std::string current_commit; // the release it runs ("" when unknown)
  // aborted | downloading | downloaded | applying changes | done
  std::string update_status = "done";
  std::vector<service_view> services; // target services first, by name
};

struct apps_view {
  bool applying = false;      // an apply is in progress ("Applying")
  bool update_failed = false; // the last pass failed
  std::string device_name;    // the target's ("" when none)
  std::vector<app_view> apps; // by appId
};

struct apps_view_request {
  bool env = false; // fill service_view::env (GET /v1/apps/:appId)
};

inline bool operator==(const service_view& a, const service_view& b) {
  return std::tie(a.app_id, a.app_uuid, a.service_name, a.service_id,
                  a.image_id, a.release_id, a.image, a.docker_image_id,
                  a.container_id, a.created_at, a.status, a.image_status,
                  a.download_progress, a.env, a.in_target)
         == std::tie(b.app_id, b.app_uuid, b.service_name, b.service_id,
                     b.image_id, b.release_id, b.image, b.docker_image_id,
                     b.container_id, b.created_at, b.status, b.image_status,
                     b.download_progress, b.env, b.in_target);
}
inline bool operator==(const app_view& a, const app_view& b) {
  return std::tie(a.app_id, a.uuid, a.name, a.commit, a.release_id,
                  a.current_commit, a.update_status, a.services)
         == std::tie(b.app_id, b.uuid, b.name, b.commit, b.release_id,
                     b.current_commit, b.update_status, b.services);
}
inline bool operator==(const apps_view& a, const apps_view& b) {
  return std::tie(a.applying, a.update_failed, a.device_name, a.apps)
         == std::tie(b.applying, b.update_failed, b.device_name, b.apps);
}
inline bool operator!=(const apps_view& a, const apps_view& b) {
  return !(a == b);
}

// The apps view (without env) changed: sent to every subscriber, at most
// one per app_manager_options::notify_interval (the last change is never
// lost, an unchanged view is not sent), and at once to a new subscriber.
// A new target is always followed by one.
struct apps_view_changed {
  apps_view view;
};

using apps_listener_actor = caf::typed_actor<caf::reacts_to<apps_view_changed>>;

// Subscribes `listener` (cloud_sync) to apps_view_changed; dropped when it
// terminates. A subscriber of an app_manager that restarts subscribes again
// (root restarts it too: rest-for-one).
struct apps_subscribe {
  apps_listener_actor listener;
};

// Internal: the coalesced apps_view_changed is due.
struct apps_notify_due {};

// What the agent knows about the device (GET /v2/local/device-info, ...).
struct device_details {
  std::string uuid;
  std::string arch;        // "amd64", "aarch64", ...
  std::string device_type; // slug
  std::string os_version;  // os-release PRETTY_NAME
  std::string device_name; // the target's, else "local"
};

enum class service_action_kind : uint8_t { start, stop, restart };

// POST /v1/apps/:appId/stop|start, /v2/applications/:appId/*-service.
// The service is matched by imageId or name; a single-service app always
// uses its service. stop and restart take the app's update lock (unless
// `force` or the target's lock override); start needs none. A stop is
// remembered (and persisted) until a start or restart of that service.
struct service_action {
  service_action_kind kind = service_action_kind::restart;
  int64_t app_id = 0;
  std::string service_name; // "" = not given
  std::optional<int64_t> image_id;
  bool force = false;
};

struct service_action_done {
  std::string service_name;
  std::string container_id;
};

enum class app_action_kind : uint8_t { restart, purge };

// POST /v1/restart, /v1/purge, /v2/applications/:appId/restart|purge:
// under the app's update lock, every container of the app is removed
// (purge: then its volumes too); the next pass creates them again. Runs
// while no pass does. Answered when the removal is done.
struct app_action {
  app_action_kind kind = app_action_kind::restart;
  int64_t app_id = 0;
  bool force = false;
};

// GET /v2/cleanup-volumes: removes the engine's unused app volumes that no
// target app names. `apps`: the appIds the caller may touch (absent: all);
// volumes of other apps are kept.
struct volumes_cleanup_request {
  std::optional<std::vector<int64_t>> apps;
};

// Internal: the wait between passes is over (see app_manager.cpp).
struct pass_wait_over {};

// Internal: check a hand-over in progress.
struct handover_tick {
  uint64_t id = 0;
};

using app_manager_actor = caf::typed_actor<
  caf::replies_to<apply_target>::with<uint64_t>,
  caf::replies_to<caf::get_atom,
                  target_atom>::with<std::optional<target_state>>,
  caf::replies_to<caf::get_atom>::with<apps_status>,
  // the device API
  caf::replies_to<apps_view_request>::with<apps_view>,
  caf::replies_to<caf::get_atom, device_atom>::with<device_details>,
  caf::replies_to<service_action>::with<service_action_done>,
  caf::replies_to<app_action>::with<void>,
  caf::replies_to<volumes_cleanup_request>::with<volume_removal>,
  caf::reacts_to<apps_subscribe>, // cloud_sync
  // from service supervisors, the images actor and the engine
  caf::reacts_to<service_status>, caf::reacts_to<image_progress>,
  caf::reacts_to<engine_event>, caf::reacts_to<engine_status>,
  // internal: run a pass now (coalesced); poll a hand-over
  caf::reacts_to<pass_atom>, caf::reacts_to<pass_wait_over>,
  caf::reacts_to<handover_tick>, caf::reacts_to<apps_notify_due>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::apply_target)
BOSUN_MESSAGE(bosun::download_status)
BOSUN_MESSAGE(bosun::apps_status)
BOSUN_MESSAGE(bosun::handover_tick)
BOSUN_MESSAGE(bosun::pass_wait_over)
BOSUN_MESSAGE(bosun::service_view)
BOSUN_MESSAGE(bosun::app_view)
BOSUN_MESSAGE(bosun::apps_view)
BOSUN_MESSAGE(bosun::apps_view_request)
BOSUN_MESSAGE(bosun::apps_view_changed)
BOSUN_MESSAGE(bosun::apps_subscribe)
BOSUN_MESSAGE(bosun::apps_notify_due)
BOSUN_MESSAGE(bosun::device_details)
BOSUN_MESSAGE(bosun::service_action)
BOSUN_MESSAGE(bosun::service_action_done)
BOSUN_MESSAGE(bosun::app_action)
BOSUN_MESSAGE(bosun::volumes_cleanup_request)
