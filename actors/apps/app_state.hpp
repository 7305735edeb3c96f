#pragma once

// The app_manager actor's state, and the parts of the actor that work on it.
// Internal to actors/apps: app_manager.cpp holds the behaviour and the pass
// loop; each part below has a file of its own:
//   app_common.cpp       the helpers they share
//   engine_reads.cpp     reading the engine into the engine view
//   step_executor.cpp    running a batch of planner steps
//   supervisor_network.cpp supervisor0, the device API's bridge
//   supervisor_table.cpp the service supervisors (spawn, adopt, forget,
//                        respawn)
//   device_actions.cpp   the device API's service and app actions, the
//                        exclusive queue, volume cleanup, the API's view
// All run on the actor's thread (self_ptr): none blocks; lock and handover
// files go through the lock keeper (update_locks.hpp).
#include "actors/apps/app_manager.hpp"
#include "actors/apps/bookkeeping.hpp"
#include "actors/apps/engine_view.hpp"
#include "actors/apps/event_lines.hpp"
#include "actors/apps/update_locks.hpp"
#include "actors/root/restart_window.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bosun::appmgr {

constexpr auto engine_timeout = std::chrono::seconds(60);
constexpr auto apply_timeout = std::chrono::minutes(3);
// After a fetch failed (the images actor already retried), the app waits
// this long before the planner's next fetch of that image is executed.
constexpr auto fetch_retry_after = std::chrono::seconds(30);

struct supervised {
  service_supervisor_actor handle;
  std::optional<service_apply> spec; // the last spec applied
  service_status last;
};

// A hand-over in progress: the old container waits for its successor's
// handover-complete file (or the timeout) before it is killed.
struct pending_handover {
  std::string old_container_id;
  std::string lock_dir;
  caf::actor_clock::time_point deadline;
};

struct app_manager_state {
  static inline const char* name = "app_manager";

  app_manager_deps deps;
  app_manager_options opts;
  lock_keeper_actor locks; // owns the lock and handover files

  bool loaded = false;
  std::optional<target_state> target;
  bool force = false;
  apps_bookkeeping books;

  // One per service: key "<app uuid>/<service>".
  std::map<std::string, supervised> supervisors;
  restart_window respawns{5, std::chrono::seconds(60)};

  // The pass loop.
  bool running = false;
  bool again = false;
  uint64_t generation = 0;
  std::chrono::milliseconds backoff{0};
  bool wait_scheduled = false;
  engine_view engine;
  bool engine_up = false;
  apps_status status;
  std::map<std::string, caf::actor_clock::time_point> fetch_retry_at;
  std::set<std::string> fetched; // images this agent pulled
  std::map<uint64_t, pending_handover> handovers;
  uint64_t handover_ids = 0;

  // The device API's app actions run alone: no pass while one runs, and
  // they wait for a running pass to end.
  bool exclusive = false;
  std::vector<std::function<void()>> exclusive_waiting;
  // A pass found the device at its target since this actor started; until
  // then the device API says an apply is in progress.
  bool settled = false;
  // The device API's last view (without env), until something changes;
  // never older than view_max_age.
  std::shared_ptr<const apps_view> view;
  caf::actor_clock::time_point view_at;
  // apps_view_changed's subscribers (monitored), the view last sent to
  // them and when, and whether a send is scheduled.
  std::vector<apps_listener_actor> listeners;
  std::shared_ptr<const apps_view> sent;
  bool notify_scheduled = false;
  std::optional<caf::actor_clock::time_point> notified_at;
  // The app-scoped API keys of supervisor-api services (from api_keys).
  std::map<service_ref, std::string> scoped_keys;
  // Why the running pass could not take an app's update lock ("" if it
  // could): a failed pass then says "Updates are locked, retrying in …".
  std::string lock_failure;

  const engine_snapshot& snap() const {
    return engine.snapshot();
  }
};

using self_ptr = app_manager_actor::stateful_pointer<app_manager_state>;

// -- shared helpers (app_manager.cpp)
// ------------------------------------------

// Something the device API's view shows changed: the cached view is
// dropped and the subscribers will be told (coalesced).
void view_changed(self_ptr self);
// The view without env: cached until something changes, and never older
// than view_max_age.
std::shared_ptr<const apps_view> cached_view(self_ptr self);
// apps_view_changed: a new subscriber gets the view at once; the scheduled
// send is due; a subscriber went down.
void on_subscribe(self_ptr self, apps_subscribe& s);
void on_notify_due(self_ptr self);
void on_listener_down(self_ptr self, const caf::down_msg& dm);
std::string key_of(const std::string& uuid, const std::string& service);
const logger& log_of(self_ptr self);
std::string render(self_ptr self, const caf::error& e);
// A system line for the logs actor (balena's wording, event_lines.hpp).
void tell(self_ptr self, system_log line);
void tell(self_ptr self, const char* what, const std::string& object,
          const std::string& error = {});
// How balena names the service of a container in the view.
std::string container_object(self_ptr self, const std::string& id);
bool lock_override(self_ptr self);
apps::spec_context spec_base(self_ptr self);
void request_pass(self_ptr self);
void persist_kv(self_ptr self, const std::string& key,
                const std::string& value);
// An engine error that contradicts the view (the view said the object was
// there, or was not): the next pass reads everything again.
void check_contradiction(self_ptr self, const caf::error& e);

// Fan-in of asynchronous work: `finish` runs once every part is done, with
// the errors collected.
struct fan_in {
  int pending = 1; // released by seal()
  std::vector<std::string> errors;
  std::function<void(std::vector<std::string>)> finish;

  void add() {
    ++pending;
  }
  void done(std::optional<std::string> err = std::nullopt) {
    if (err)
      errors.push_back(std::move(*err));
    if (--pending == 0)
      finish(std::move(errors));
  }
  void seal() {
    done();
  }
};
using fan_in_ptr = std::shared_ptr<fan_in>;
fan_in_ptr make_fan_in(std::function<void(std::vector<std::string>)> finish);
std::string join(const std::vector<std::string>& xs);

// -- engine_reads.cpp
// ------------------------------------------------------------

// Brings the engine view up to date (what changed since the last pass, or
// everything), then the app-scoped API keys; `k` gets the errors.
void refresh_view(self_ptr self,
                  const std::function<void(std::vector<std::string>)>& k);

// -- step_executor.cpp
// -----------------------------------------------------------

// Runs the batch's steps at once, except that its take_lock steps run
// first and an app's other steps only once its lock was taken; `k` gets
// the errors when all are done.
void execute(self_ptr self, const std::vector<step>& batch,
             std::function<void(std::vector<std::string>)> k);
// Stops (and removes) a container no supervisor manages.
void engine_kill(self_ptr self, const std::string& id, bool remove,
                 const std::function<void(std::optional<std::string>)>& k);
// A download failed (an attempt, or the whole fetch).
void fetch_failed(self_ptr self, const std::string& image,
                  const std::string& why);
// Removes the images this agent pulled that nothing uses any more.
void cleanup_images(self_ptr self);
// A handover's old container may go: its successor said so, or it timed out.
void on_handover_tick(self_ptr self, const handover_tick& t);

// -- supervisor_network.cpp
// ------------------------------------------------------

// Makes supervisor0 when a target service needs it and it is missing.
void ensure_supervisor_network(
  self_ptr self, const std::function<void(std::vector<std::string>)>& k);

// -- supervisor_table.cpp
// --------------------------------------------------------

supervised& supervisor_for(self_ptr self, const std::string& uuid,
                           const std::string& service);
// The supervisor that manages container `id`, if any.
supervised* managing(self_ptr self, const std::string& id);
void forget_supervisor(self_ptr self, supervised* s);
// Supervisors for containers that already match their target service.
void adopt(self_ptr self, const current_state& cs);
// A linked actor went down: a supervisor is respawned (or the failure
// escalates); anything else stops this actor.
void on_exit(self_ptr self, caf::exit_msg& dm);
service_apply make_apply(const target_app& app, const target_service& svc,
                         const apps::container_spec& spec, bool running,
                         const std::string& container_id);

// -- device_actions.cpp
// ----------------------------------------------------------

caf::result<service_action_done> on_service_action(self_ptr self,
                                                   const service_action& a);
caf::result<void> on_app_action(self_ptr self, const app_action& a);
caf::result<volume_removal> on_cleanup(self_ptr self,
                                       const volumes_cleanup_request& req);
// Starts the oldest app action waiting for the pass loop to be idle.
bool run_exclusive_waiting(self_ptr self);
apps_view make_view(self_ptr self, bool env);
device_details make_device_facts(self_ptr self);

} // namespace bosun::appmgr
