#pragma once

// The telemetry actor: collects the actor telemetry snapshot on request.
//
// Owns: the collection in progress, the requests waiting for the next one,
// and the last snapshot.
// Answers: telemetry_actor (messages/telemetry.hpp): collect_telemetry{root}
// → a telemetry_snapshot whose collection started at most `max_age` before
// the request arrived (the last one if it is that fresh, else a new one).
// How: it asks root for its sample (whose children are the core actors) and
// its children's statuses (restarts, last failure), then asks every child,
// and every child's children (app_manager's service supervisors), each once;
// it asks the engine for its engine_telemetry and the app manager for its
// apps_status, and reads /proc/self. An actor that does not answer within
// `ask_timeout` is reported as such; the snapshot is never held up longer.
// Requests arriving while a walk runs are served together by the next walk,
// and a walk is at most `max_age` fresh, so a flood of /v2/telemetry calls
// costs each other actor about one telemetry message per `max_age`.
// Never: changes anything, or blocks.
#include "actors/telemetry/process_stats.hpp"
#include "messages/telemetry.hpp"

#include <chrono>
#include <functional>

namespace caf {
class actor_system;
} // namespace caf

namespace bosun {

struct telemetry_options {
  std::chrono::milliseconds ask_timeout{1500}; // per actor asked
  size_t max_depth = 3; // root = 0, core actors = 1, supervisors = 2
  // A snapshot whose walk started less than this ago answers new requests
  // at once: however many clients poll, the actors are asked at most about
  // 1/max_age times a second. 0: a walk for every request (or batch).
  std::chrono::milliseconds max_age{100};
  // Where the process figures come from (tests inject their own).
  std::function<process_stats()> process = telemetry::read_process_stats;
  // collected_at's clock, unix ms; empty: the system clock.
  std::function<int64_t()> wall_clock_ms;
};

telemetry_actor spawn_telemetry(caf::actor_system& sys,
                                telemetry_options opts = {});

} // namespace bosun
