#pragma once

// The service supervisor: one actor per app service.
//
// Owns: that service's container (its id, phase, restart count, last exit,
// health) and its restart policy (actors/apps/restart_policy.hpp).
// Answers: service_supervisor_actor (messages/supervisor.hpp): apply a spec,
// start, stop, restart, remove, get the status.
// Emits: service_status to the listener given at spawn, on every change;
// balena's system lines to the logs actor (supervisor_options::logs), one
// per event: installing/installed, starting/started, killing/killed, exited,
// restarting (with " due to 'unhealthy'" when health was why), and the
// failures of each (actors/apps/event_lines.hpp).
//
// Containers run with the engine restart policy "no": this actor restarts
// them itself, so restarts are counted, backed off, visible in the API, and
// applied to unhealthy containers too. A restart starts the SAME container
// again; a container is created only by an apply without container_id (the
// spec changed) or when the container is gone (removed behind our back).
//
// How it watches: it subscribes itself to the engine's events, and any event
// about its container (die, start, destroy, ...) makes it inspect the
// container; decisions come from that inspection, never from the event
// alone, so late or replayed events cannot cause a second restart. On
// "health_status: unhealthy" it stops the container and restarts it under
// the policy's backoff. While the engine is down it waits; when it is back
// it inspects again and acts (restarting what should run and does not).
//
// Engine operations run one at a time, in the order the commands came; get
// and status updates never wait for them. All waiting is timers on the
// actor's clock (delayed_send), so a crash-looping service blocks nothing
// and the deterministic scheduler's advance_time drives it in tests.
//
// Never: touches the engine except through `engine_actor`, restarts a
// container the user stopped, or recreates a container whose spec did not
// change.
#include "actors/apps/restart_policy.hpp"
#include "messages/engine.hpp"
#include "messages/logs.hpp"
#include "messages/supervisor.hpp"

#include <caf/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

namespace bosun {

struct supervisor_options {
  apps::restart_policy_options policy;
  // Longest wait for one engine request (stop/restart add their timeout).
  std::chrono::milliseconds request_timeout{std::chrono::minutes(2)};
  // Where the service's system lines go; none when null.
  logs_actor logs;
};

struct service_supervisor_state {
  static inline const char* name = "service_supervisor";

  engine_actor engine;
  service_status_listener listener;
  supervisor_options opts;

  std::optional<service_apply> spec; // the last spec applied
  apps::restart_policy policy;
  service_status status;              // what get answers (revision: last sent)
  std::optional<service_status> sent; // the last status sent to the listener

  // Invalidates pending timers: bumped whenever a run starts or ends, or a
  // command changes what should happen next.
  uint64_t epoch = 0;
  // The engine's FinishedAt of the last exit recorded (each exit once).
  std::string seen_finished_at;
  // A restart could not start the container because the engine was away:
  // it is retried when the engine is back, without waiting the backoff.
  bool start_deferred = false;
  // Why the pending restart happens, when it is not an exit ("unhealthy").
  std::string restart_cause;

  // Engine operations, one at a time.
  bool busy = false;
  bool pumping = false;
  bool check_queued = false;
  std::deque<std::function<void()>> ops;
};

using service_supervisor_pointer
  = service_supervisor_actor::stateful_pointer<service_supervisor_state>;

// The behaviour, for `sys.spawn(service_supervisor, ...)` or, from a parent,
// `self->spawn<caf::monitored>(service_supervisor, ...)`. `listener` may be
// invalid (no status messages).
service_supervisor_actor::behavior_type
service_supervisor(service_supervisor_pointer self, engine_actor engine,
                   service_status_listener listener, supervisor_options opts);

service_supervisor_actor
spawn_service_supervisor(caf::actor_system& sys, engine_actor engine,
                         service_status_listener listener,
                         supervisor_options opts = {});

} // namespace bosun
