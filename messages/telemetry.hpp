#pragma once

// Actor telemetry: what an actor says about itself when asked, and the
// telemetry actor's snapshot of the whole agent (GET /v2/telemetry, /metrics).
//
// How it is collected (pull; nothing is locked or shared per message):
//  - An instrumented actor counts inside its own handlers
//    (actors/telemetry/counters.hpp wraps each handler): messages handled,
//    time spent in handlers (total and max), and the mailbox depth it sees
//    when each message starts. Only that actor touches its counters.
//  - It answers `telemetry_atom` with an actor_sample from its *default*
//    handler, so no typed interface has to change: ask through an untyped
//    handle (caf::actor_cast<caf::actor>). An actor that is not instrumented
//    answers sec::unexpected_message, and shows up as such.
//  - A sample names the actor's children (root: the core actors; app_manager:
//    its service supervisors), so the telemetry actor walks the whole tree
//    from root, asking each actor once per snapshot.
#include "messages/app_manager.hpp"
#include "messages/engine.hpp"
#include "messages/logs.hpp"
#include "messages/message.hpp"
#include "messages/root.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

CAF_ADD_ATOM(bosun, bosun, telemetry_atom, "telemetry")

namespace bosun {

// A supervised actor as its parent names it.
struct actor_child {
  std::string name; // "engine"; a supervisor: "<app uuid>/<service>"
  caf::actor handle;
};

// An actor's own counters, as it answers telemetry_atom. Handling time is
// the time spent inside handlers (an asynchronous reply's wait is not in it).
struct actor_sample {
  std::string kind; // the actor's type, e.g. "engine", "service_supervisor"
  uint64_t handled = 0;
  std::chrono::nanoseconds busy_total{0};
  std::chrono::nanoseconds busy_max{0};
  uint64_t mailbox = 0;     // messages waiting when it answered
  uint64_t mailbox_max = 0; // most seen waiting behind one message
  std::string last_error;   // the actor's own, "" when none
  std::vector<actor_child> children;
};

// One actor in the snapshot.
struct actor_report {
  std::string name;   // "root", "engine", "app_manager/<uuid>/<service>"
  std::string kind;   // from its sample; the child's name when it gave none
  std::string parent; // "" for root
  bool running = true;
  // False when it did not answer (not instrumented, or busy past the
  // collection timeout): then only name, running, restarts and last_error
  // are known, and `error` says why.
  bool sampled = false;
  std::string error;
  actor_sample sample;
  int restarts = 0; // by its supervisor (root for the core actors)
  // The actor's own last error, else the reason of its last failure.
  std::string last_error;
};

// The process, from /proc/self.
struct process_stats {
  bool available = false; // false when /proc could not be read
  uint64_t rss_bytes = 0;
  uint64_t rss_peak_bytes = 0;
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  uint64_t threads = 0;
  double uptime_seconds = 0;
};

struct telemetry_snapshot {
  std::vector<actor_report> actors; // tree order: root first
  // The engine's connection state and counters, when it answered.
  std::optional<engine_telemetry> engine;
  // The app manager's status: each service supervisor's restart count,
  // backoff and crash-loop flag are in `services`.
  std::optional<apps_status> apps;
  // The logs actor's figures: lines, each reader's queue fill and drops,
  // the cloud link and the persistent log, when it answered.
  std::optional<logs_telemetry> logs;
  process_stats process;
  // Every actor of the actor system, the per-request ones included.
  uint64_t actors_running = 0;
  // Wall-clock time of the collection (Unix seconds).
  double collected_at = 0;
  std::chrono::nanoseconds collection_time{0};
};

// Collect a snapshot of the tree under `root`.
struct collect_telemetry {
  root_actor root;
};

// The telemetry actor. A snapshot is collected fresh for each request
// (walk started after the request arrived); requests that arrive while a
// walk runs share the next one, so load on /v2/telemetry cannot multiply
// the work done by the other actors.
using telemetry_actor = caf::typed_actor<
  caf::replies_to<collect_telemetry>::with<telemetry_snapshot>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::actor_child)
BOSUN_MESSAGE(bosun::actor_sample)
BOSUN_MESSAGE(bosun::actor_report)
BOSUN_MESSAGE(bosun::process_stats)
BOSUN_MESSAGE(bosun::telemetry_snapshot)
BOSUN_MESSAGE(bosun::collect_telemetry)
