#pragma once

// GET /v2/local/target-state's answer (reference/cli.md), pure: the stored
// target as the balena Supervisor shows it, with the device's name and its
// current configuration, and only the apps the request's key may see.
#include "api/server/auth.hpp"
#include "config/config.hpp"
#include "messages/target.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun::api {

// state.local.config: every var bosun knows with its current value (a
// target's value where the target sets it, see device_config_var), SUPERVISOR_
// OVERRIDE_LOCK from the legacy OVERRIDE_LOCK when only that is given, and
// the target's other vars as it gives them (they change nothing, but a
// client posting the config back keeps them).
std::map<std::string, std::string>
current_config(const std::vector<device_config_var>& known,
               const std::map<std::string, std::string>& target_config);

// The whole answer: `target` (none yet: an empty local one) named
// `device_name` (GET /v2/device/name's), with current_config() and the apps
// in `scope`. Services are a list (cloud::encode_local_target).
std::string encode_local_target_state(
  const std::optional<target_state>& target, const std::string& device_name,
  const std::vector<device_config_var>& known, const auth::scope& scope);

} // namespace bosun::api
