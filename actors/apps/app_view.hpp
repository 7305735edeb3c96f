#pragma once

// The device API's view of the apps (messages/app_manager.hpp apps_view),
// built from what app_manager knows: the target, the last engine snapshot,
// its supervisors' statuses and its bookkeeping. Pure: no actors, no clock.
#include "actors/apps/current_state.hpp"
#include "messages/app_manager.hpp"
#include "messages/supervisor.hpp"
#include "messages/target.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun {

// A service supervisor as the view sees it.
struct supervised_service {
  service_status status;
  string_list spec_env; // the env its container was created with
};

struct view_inputs {
  const std::optional<target_state>* target = nullptr;
  const engine_snapshot* snap = nullptr;
  std::vector<supervised_service> supervisors;
  const apps_bookkeeping* books = nullptr;
  const std::map<std::string, std::string>* fetch_errors = nullptr;
  bool applying = false;
  bool failed = false;
  bool env = false;
};

apps_view build_apps_view(const view_inputs& in);

// balena's status of a supervised service: its phase, refined by the
// engine's state of its container ("" when unknown).
std::string status_name(service_phase phase, const std::string& engine_status,
                        bool has_container);

// balena's status of a container nobody supervises, from the engine state.
std::string engine_status_name(const std::string& engine_status);

// aborted > downloading > downloaded > applying changes > done.
std::string update_status(const std::vector<service_view>& services,
                          bool aborted);

} // namespace bosun
