#pragma once

// Test-only kill points for the kill -9 matrix (tools/chaos, docs/
// RELIABILITY.md). Built in when BOSUN_CHAOS_HOOKS is defined (the CMake
// option of that name: on in Debug builds, the tests' build; off in
// Release, so a device never carries it). With
//   BOSUN_CHAOS_KILL_AT=<kind>:<nth>:<before|after>
// in its environment, bosun logs one line and raises SIGKILL on itself the
// nth time (1-based) it reaches that point. Without the variable a point
// costs one load of a flag.
//
// Kinds (where each point is):
//   fetch, volume-create, volume-remove, network-create, network-remove,
//   stop, kill, remove, start, replace, metadata, handover, lock-take,
//   lock-release, commit
//                    a planner step (step_executor.cpp): before = the step
//                    is about to run; after = it succeeded (fetch: the
//                    image arrived; start: its container was created if
//                    needed and started; replace: the old container is
//                    gone and the new one created and started)
//   create           the engine request that creates a service's container
//                    (service_supervisor.cpp): after = created, not started
//   db               a write of the apps' bookkeeping (commit record,
//                    stopped services; app_common.cpp): after = stored
//   pull             a progress line of a pull from the engine
//                    (actors/images): after = the nth line arrived, a kill
//                    in the middle of a download
#include "messages/apps.hpp"

#include <memory>
#include <string>

namespace bosun::chaos {

enum class phase { before, after };

#ifdef BOSUN_CHAOS_HOOKS
void reached(const char* kind, phase when);
#else
inline void reached(const char*, phase) {}
#endif

// The kind of a planner step (as above).
const char* kind_of(const step& s);

// A kill point, parsed; std::nullopt-like: ok false when malformed.
struct kill_point {
  bool ok = false;
  std::string kind;
  int nth = 0;
  phase when = phase::before;
};
kill_point parse_kill_point(const std::string& text);

} // namespace bosun::chaos

namespace bosun::appmgr {

struct fan_in;

// The fan-in a step of a batch reports to (step_executor.cpp): `fan` itself,
// or, with the hooks built in, one that passes the step's after point on
// success first. A fetch's after point is its image's arrival instead (the
// step itself ends at once).
#ifdef BOSUN_CHAOS_HOOKS
std::shared_ptr<fan_in> chaos_after(std::shared_ptr<fan_in> fan, const step& s);
#else
inline std::shared_ptr<fan_in> chaos_after(std::shared_ptr<fan_in> fan,
                                           const step&) {
  return fan;
}
#endif

} // namespace bosun::appmgr
