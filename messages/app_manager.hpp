#pragma once

// The app manager's interface: it holds the target and the current state of
// every app, runs one apply pass at a time and publishes status.
#include "messages/db.hpp" // target_atom
#include "messages/engine.hpp"
#include "messages/images.hpp"
#include "messages/message.hpp"
#include "messages/supervisor.hpp"
#include "messages/target.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun {

enum class apps_errc : uint8_t {
  rejected = 1,   // the target was refused (e.g. not in local mode)
  persist_failed, // the target could not be stored; nothing changed
};

inline const char* to_string(apps_errc x) {
  switch (x) {
    case apps_errc::rejected:
      return "rejected";
    case apps_errc::persist_failed:
      return "persist_failed";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::apps_errc, "apps")

CAF_ADD_ATOM(bosun, bosun, pass_atom, "pass")

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

struct apps_status {
  // "Idle" when the device is at its target, "Applying" while passes run.
  std::string state = "Idle";
  uint64_t passes = 0;    // apply passes run since start
  uint32_t failures = 0;  // consecutive failed passes (reset on success)
  std::string last_error; // of the last failed pass
  std::string locked_by;  // service holding an update lock, when locked
  std::vector<service_status> services;
  std::vector<download_status> downloads;
  std::map<std::string, std::string> fetch_errors; // image → why
  // App uuid → the release it runs (bookkeeping).
  std::map<std::string, std::string> commits;
};

// Internal: check a hand-over in progress.
struct handover_tick {
  uint64_t id = 0;
};

using app_manager_actor = caf::typed_actor<
  caf::replies_to<apply_target>::with<uint64_t>,
  caf::replies_to<caf::get_atom,
                  target_atom>::with<std::optional<target_state>>,
  caf::replies_to<caf::get_atom>::with<apps_status>,
  // from service supervisors, the images actor and the engine
  caf::reacts_to<service_status>, caf::reacts_to<image_progress>,
  caf::reacts_to<engine_event>, caf::reacts_to<engine_status>,
  // internal: run a pass now (coalesced); poll a hand-over
  caf::reacts_to<pass_atom>, caf::reacts_to<handover_tick>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::apply_target)
BOSUN_MESSAGE(bosun::download_status)
BOSUN_MESSAGE(bosun::apps_status)
BOSUN_MESSAGE(bosun::handover_tick)
