#pragma once

// The device-config pipeline's decisions (reference/host.md §6.1, §6.2),
// pure: which vars a target keeps, the effective target, which table keys
// change and which backends must rewrite their files. The device_config
// actor reads files and applies what these say.
#include "actors/host/backends/backend.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bosun::boot_config {

enum class var_type { boolean, integer, text };

// One row of host.md §6.2's table.
struct config_key {
  const char* var;
  var_type type;
  const char* default_value;
  bool reboot = false;
};

// The table's keys, balena's order (SUPERVISOR_VPN_CONTROL is separate).
const std::vector<config_key>& config_keys();

// checkTruthy: 1, true, on (any case).
bool truthy(const std::string& v);
// The value is acceptable for its type (host.md §6.1 "Validity").
bool valid(var_type t, const std::string& v);
// The values compare equal for the type (bool by truthiness, int by
// strict parse, text as is).
bool same(var_type t, const std::string& a, const std::string& b);

// formatConfigKeys: BALENA_ (wins) and RESIN_ stripped, unprefixed kept;
// only table keys, SUPERVISOR_VPN_CONTROL, OVERRIDE_LOCK (copied to
// SUPERVISOR_OVERRIDE_LOCK when that is absent) and backend vars survive.
env_map format_config(const env_map& raw, const backend_list& backends);

// getTarget: `stored` plus SUPERVISOR_VPN_CONTROL "true" when absent,
// SUPERVISOR_LOCAL_MODE "true" when absent on an unmanaged device, then
// every table default.
env_map effective_target(env_map stored, bool unmanaged);

// getDefaults: every table key's default and SUPERVISOR_VPN_CONTROL true.
env_map config_defaults();

// The table keys a pass changes.
struct key_changes {
  env_map changes;   // var → the value it takes
  env_map rebooting; // those needing a reboot
  // "Warning: Ignoring invalid device configuration value for ..."
  std::vector<std::string> warnings;
};
key_changes plan_key_changes(const env_map& current, const env_map& target);

// One backend's verdict (bootConfigChangeRequired).
struct backend_change {
  bool change = false;
  boot_options target; // the target's options, required ones added
  boot_options current;
  std::string error; // "Attempt to change blacklisted config value <key>"
};
backend_change plan_backend(const backend& b, const env_map& current,
                            const env_map& target,
                            const std::string& device_type);

} // namespace bosun::boot_config
