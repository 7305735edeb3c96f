#pragma once

// The planner: a pure function from (current, target, options) to the next
// batch of steps. No I/O, no clock, no actors: everything it needs is in its
// arguments, so it is table-tested (tests/unit/apps_planner).
//
// app_manager runs it in a loop: plan, execute the batch, read the current
// state again, plan again, until a plan is empty (done) or holds only noops
// (waiting for something outside: a download, a dependency's health, ...).
// Executing a plan's steps moves the state toward the target, so the loop
// converges; each pass only emits steps whose preconditions hold now
// (a network is removed once no container uses it, a new container starts
// once its networks, volumes, images and dependencies are ready).
//
// Rules (reference/behaviour.md "Planner", "App update", "Service rules",
// "Update locks"), per app:
//  - in target and current → update; target only → update from nothing;
//    current only → take_lock, kill all, remove networks, remove volumes
//    (never in local mode), release_lock.
//  - dead containers are removed; of several containers of one service the
//    newest is kept and the others killed; services not in the target, and
//    the users of a network or volume that changes or goes away, are killed.
//  - volumes missing from the target are kept; networks missing from it are
//    removed once unused; "default" always exists (app_networks()).
//  - same config, other release → update_metadata (download-then-kill waits
//    for every image of the app first); running → start / stop as the target
//    says; an exited container (its process exited) gets no step: restarts
//    are the service supervisor's; a service stopped through the API is not
//    started again.
//  - config differs → per update strategy (update_strategy.hpp).
//  - a new container starts once every image of the app is present, its
//    networks and volumes exist with the target config, and its dependencies
//    (depends_on, network_mode service:X) run with the target config
//    (and are healthy, for condition service_healthy).
//  - kill / stop / update_metadata / handover / creating a container need the
//    app's update lock: without it, the app's plan starts with take_lock,
//    and the executor runs the app's other steps only once the lock is
//    taken (none of them when it is refused), in the same batch.
//  - nothing left → update_commit (if the release changed), release_lock
//    (if held).
#include "messages/apps.hpp"
#include "messages/target.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace bosun {

struct plan_options {
  bool local_mode = false;    // never remove volumes of an app that left
  bool force = false;         // this apply overrides user update locks
  bool lock_override = false; // SUPERVISOR_OVERRIDE_LOCK
  int64_t handover_timeout_ms = 60000; // when the label does not say
  // At most this many pulls at once, counting current.downloading; 0 = no
  // limit. Further fetches wait for a later pass.
  int max_concurrent_fetches = 3;
};

// The next batch of steps; empty when the device is at the target.
std::vector<step> plan(const current_state& current, const target_state& target,
                       const plan_options& opts);

// --------------------------------------------------------------- helpers --
// Shared with app_manager (to compute current_network::config_equal against
// the same networks the planner creates) and the tests.

// The app's networks as the planner creates them: the release's, plus
// "default" when the release does not define it (ConfigOnly when the app has
// services and every one uses host networking).
std::vector<target_network> app_networks(const target_app& app);

// The app networks the service joins: network_mode (when it names a
// network) and the keys of `networks`; "default" when neither is given;
// none for host, bridge, none, service:X and container:X modes.
std::vector<std::string> service_networks(const target_service& svc);

// The named volumes the service mounts (unprefixed names).
std::vector<std::string> service_volumes(const target_service& svc);

// The services this one waits for: depends_on, plus X of network_mode
// service:X (condition started); one entry per service, the strictest
// condition.
std::vector<service_dependency> service_dependencies(const target_service& svc);

// kill, stop, update_metadata, handover, and start_service creating a new
// container.
bool needs_lock(const step& s);

bool is_noop(const step& s);

// True for an empty plan too: nothing to execute.
bool only_noops(const std::vector<step>& steps);

// One line for logs: "kill web (abc123) of app d149…: <reason>".
std::string describe(const step& s);

} // namespace bosun
