#pragma once

// Builds the planner's view of the device (current_state) from what one apply
// pass read from the engine, the agent's bookkeeping and the target. Pure:
// the comparison of each container with its target service happens here, so
// the planner only sees equal / metadata_only / differs / no_target.
#include "actors/apps/container_spec.hpp"
#include "messages/apps.hpp"
#include "messages/engine_types.hpp"
#include "messages/target.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace bosun {

// What a pass read from the engine.
struct engine_snapshot {
  std::vector<container_inspect> containers; // supervised ones
  std::vector<network_info> networks;
  std::vector<volume_info> volumes;
  // Target image reference → the engine's inspect, for images present.
  std::map<std::string, image_inspect> images;
};

// What the agent remembers itself (persisted), per app uuid.
struct apps_bookkeeping {
  std::map<std::string, std::string> commits;                 // uuid → commit
  std::map<std::string, std::set<std::string>> user_stopped;  // uuid → names
  std::map<std::string, bool> lock_held;                      // uuid → held
  std::map<std::string, std::vector<std::string>> user_locks; // uuid → names
  std::map<std::string, int> downloading; // image → percent
};

// The spec context for one app: `base` plus the container ids of the app's
// services (for network_mode service:X).
apps::spec_context app_spec_context(const apps::spec_context& base,
                                    const engine_snapshot& snap,
                                    const std::string& app_uuid);

// The target app and service a container belongs to, when the target has it.
struct target_ref {
  const target_app* app = nullptr;
  const target_service* service = nullptr;
};
target_ref find_target(const target_state& target,
                       const apps::service_identity& who);

// The container's spec for its target service; the image's inspect fills in
// defaults when the image is present.
apps::container_spec spec_for(const target_app& app, const target_service& svc,
                              const apps::spec_context& ctx,
                              const engine_snapshot& snap);

current_state build_current_state(const engine_snapshot& snap,
                                  const target_state& target,
                                  const apps_bookkeeping& books,
                                  const apps::spec_context& ctx);

} // namespace bosun
