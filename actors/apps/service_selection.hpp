#pragma once

// Which service a device-API service action means. Pure: from the engine
// view, the target and the supervisors' statuses.
#include "actors/apps/current_state.hpp"
#include "messages/app_manager.hpp"
#include "messages/supervisor.hpp"

#include <caf/error.hpp>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace bosun::apps {

// A service of an app as it is on the device: it has a container.
struct current_service {
  std::string name;
  std::string container_id;
  int64_t image_id = 0;
};

// The app's services that have a container (the engine's, or the one its
// supervisor runs), by name.
std::vector<current_service>
current_services(const engine_snapshot& snap, const target_state* target,
                 const std::vector<service_status>& supervised, int64_t app_id);

struct service_choice {
  current_service service;
  const target_app* app = nullptr;
  const target_service* target = nullptr;
};

// The service `a` names (by name or image id; the only one of a
// single-service app when it names none), and its target service; or the
// device API's error (balena's wording).
std::variant<service_choice, caf::error>
choose_service(const std::vector<current_service>& current,
               const target_state* target, const service_action& a);

} // namespace bosun::apps
