#pragma once

// The service supervisor's interface: one actor per app service, owning that
// service's container (actors/apps/service_supervisor.hpp).
//
// Commands (each answered when done, or with the engine's error):
//  - service_apply: the service's spec (container create body, restart
//    policy, desired running, optionally a container to adopt). Replies with
//    the container id once it is created and, when it should run, started.
//  - service_start / service_stop / service_restart: the device API's
//    actions. A stop holds until a start (or an apply with running = true).
//  - service_remove: stops and removes the container; the actor then quits
//    with exit_reason::normal (commands queued behind it get
//    supervisor_errc::removed; later ones, request_receiver_down).
//  - get_atom: the current service_status.
// Status: every change is sent as a service_status to the listener given at
// spawn (the app_manager), and `revision` grows with each one.
// The supervisor also listens to the engine (engine_event, engine_status)
// and to its own timers (service_timer); nobody else sends those.
#include "messages/engine.hpp"
#include "messages/engine_types.hpp"
#include "messages/message.hpp"
#include "messages/target.hpp"

#include <caf/actor_clock.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace bosun {

// Errors of category "supervisor" (commands the supervisor cannot carry out;
// engine failures come as the engine's own errors).
enum class supervisor_errc : uint8_t {
  no_spec = 1, // a start/stop/restart before any service_apply
  removed,     // a command queued behind a service_remove
};

inline const char* to_string(supervisor_errc x) {
  switch (x) {
    case supervisor_errc::no_spec:
      return "no_spec";
    case supervisor_errc::removed:
      return "removed";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::supervisor_errc, "supervisor")

namespace bosun {

// Where a supervised service is.
enum class service_phase : uint8_t {
  idle,        // no spec applied yet
  installing,  // creating the container
  starting,    // starting it (first start, or a start asked for)
  running,     // the engine says it runs
  stopping,    // stopping it (stop asked, spec changed, unhealthy, remove)
  stopped,     // not running because it should not: stop asked, or the
               // spec says running = false (the container is kept)
  exited,      // exited, and its restart policy says stay down
  backing_off, // exited (or unhealthy); restarts after `backoff`
  restarting,  // starting it again (after the backoff, or an API restart)
  removing,    // removing the container
  removed,     // removed on request; the actor is about to quit
  failed,      // an engine operation failed and nothing more is tried
               // until the next command (see last_error)
};

inline const char* to_string(service_phase x) {
  switch (x) {
    case service_phase::idle:
      return "idle";
    case service_phase::installing:
      return "installing";
    case service_phase::starting:
      return "starting";
    case service_phase::running:
      return "running";
    case service_phase::stopping:
      return "stopping";
    case service_phase::stopped:
      return "stopped";
    case service_phase::exited:
      return "exited";
    case service_phase::backing_off:
      return "backing_off";
    case service_phase::restarting:
      return "restarting";
    case service_phase::removing:
      return "removing";
    case service_phase::removed:
      return "removed";
    case service_phase::failed:
      return "failed";
  }
  return "unknown";
}

// What a supervisor reports about its service. Times are the actor clock's
// (steady; the deterministic scheduler's virtual time in tests); the
// engine's own wall-clock stamp of the last exit is `last_exit_finished_at`.
struct service_status {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string service_name;
  std::string container_id; // empty when there is none (yet)
  service_phase phase = service_phase::idle;
  restart_mode restart = restart_mode::always;
  bool desired_running = true; // false after a stop, or spec running=false
  // Restarts done by this supervisor (policy restarts, API restarts, and
  // starting a container again after it was removed behind our back).
  // Reset when a changed spec replaces the container.
  uint32_t restart_count = 0;
  std::optional<int64_t> last_exit_code; // -1: it failed to start
  std::optional<caf::actor_clock::time_point> last_exit_at;
  std::string last_exit_finished_at; // engine State.FinishedAt, RFC 3339
  std::optional<caf::actor_clock::time_point> started_at; // current run
  // The restart policy's delay for the pending (or last) restart; 0 after
  // 10 min of running. next_restart_at is set while backing_off.
  std::chrono::milliseconds backoff{0};
  std::optional<caf::actor_clock::time_point> next_restart_at;
  uint32_t consecutive_restarts = 0; // since the policy last reset
  // The last 3 exits in a row each came less than 10 s after the start
  // (actors/apps/restart_policy.hpp). Cleared once a run reaches 10 s.
  bool crash_looping = false;
  std::string health;     // "", "starting", "healthy", "unhealthy"
  bool engine_up = false; // as the engine actor last said
  std::string last_error; // rendered; empty when the last operation worked
  uint64_t revision = 0;  // grows with every status sent to the listener
};

// Apply a spec. Without `container_id`, the supervisor creates a new
// container from `container` (stopping and removing the one it had, if any:
// the spec changed). With `container_id`, it adopts that container as
// created from this spec (no recreate; when it is gone, it creates one).
// Either way it starts the container when `running`, and stops it when not.
struct service_apply {
  std::string app_uuid;
  int64_t app_id = 0;
  std::string service_name;
  container_create container; // the create body; restart policy "no"
  restart_mode restart = restart_mode::always;
  bool running = true; // false: a stop through the API, or target says so
  std::optional<std::string> container_id;
  // Networks joined after create, before the first start (the engine takes
  // one network at create): engine network name → endpoint settings.
  std::map<std::string, endpoint_settings> extra_networks;
};

// The API's start: clears a stop, forgets the backoff, starts the container
// (creating it from the spec if it is gone). Replies with the status.
struct service_start {};

// The API's stop: stops the container and keeps it; no restart until a
// start. `timeout_s`: before SIGKILL (absent: the container's StopTimeout).
struct service_stop {
  std::optional<int64_t> timeout_s;
};

// The API's restart (balena's "kill, remove, recreate"): stops and removes
// the container, then creates and starts a new one from the spec, cancelling
// any backoff; counted in restart_count. Clears a stop. (Restarts after an
// exit, the policy's, start the same container again.)
struct service_restart {
  std::optional<int64_t> timeout_s;
};

// Stop and remove the container, then quit normally. `volumes`: also remove
// its anonymous volumes.
struct service_remove {
  std::optional<int64_t> timeout_s;
  bool volumes = false;
};

// The supervisor's own timers (delayed_send to itself).
enum class service_timer_kind : uint8_t {
  restart, // the backoff is over: start the container again
  stable,  // the run reached stable_after: not crash looping
  settled, // the run reached reset_after: backoff back to the first delay
};

struct service_timer {
  service_timer_kind kind = service_timer_kind::restart;
  uint64_t epoch = 0; // stale timers (epoch changed since) are ignored
};

// Receives a supervisor's status changes (the app_manager, tests).
using service_status_listener
  = caf::typed_actor<caf::reacts_to<service_status>>;

using service_supervisor_actor
  = caf::typed_actor<caf::replies_to<service_apply>::with<std::string>,
                     caf::replies_to<service_start>::with<service_status>,
                     caf::replies_to<service_stop>::with<service_status>,
                     caf::replies_to<service_restart>::with<service_status>,
                     caf::replies_to<service_remove>::with<service_status>,
                     caf::replies_to<caf::get_atom>::with<service_status>,
                     // from the engine (engine_listener_actor)
                     caf::reacts_to<engine_event>,
                     caf::reacts_to<engine_status>,
                     // internal
                     caf::reacts_to<service_timer>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::service_status)
BOSUN_MESSAGE(bosun::service_apply)
BOSUN_MESSAGE(bosun::service_start)
BOSUN_MESSAGE(bosun::service_stop)
BOSUN_MESSAGE(bosun::service_restart)
BOSUN_MESSAGE(bosun::service_remove)
BOSUN_MESSAGE(bosun::service_timer)
