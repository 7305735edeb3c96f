#pragma once

// The device configuration's interface (reference/host.md §6): the target's
// `config` section applied to bosun's own settings and to the boot
// partition's files, and the values it reports.
//
//   self->request(device_config, 30s, apply_device_config{t.config, force})
//     .then([](const device_config_result& r) { ... r.reboot_required ... });
//   self->request(device_config, 5s, caf::get_atom_v, device_config_atom_v)
//     .then([](const device_config_view& v) { ... v.target ... });
#include "messages/message.hpp"

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

CAF_ADD_ATOM(bosun, bosun, device_config_atom, "devcfg")

namespace bosun {

// One boot-config option as a backend sees it: a single value, or a list
// (config.txt's dtparam, dtoverlay, ...; ConfigFS's ssdt).
using boot_value = std::variant<std::string, std::vector<std::string>>;
using boot_options = std::map<std::string, boot_value>;

// Apply a target's config (target_state::config: prefixes stripped).
// `force`: the apply goes through update locks (the reboot it may need).
struct apply_device_config {
  std::map<std::string, std::string> config;
  bool force = false;
};

struct device_config_result {
  // A change needs a reboot: the breadcrumb is set (host.md §1) and the
  // reboot is asked for (device_config's one reboot point).
  bool reboot_required = false;
  // The keys this apply changed, with their new values (SUPERVISOR_*,
  // HOST_FIREWALL_MODE, HOST_DISCOVERABILITY, and each changed backend's
  // HOST_* keys).
  std::map<std::string, std::string> changed;
  // Files written (relative to the boot mount).
  std::vector<std::string> written;
  // What failed (balena's wording); the apply is retried with the next.
  std::vector<std::string> errors;
};

// What the device's configuration is.
struct device_config_view {
  // The effective target (host.md §6.1 getTarget): the stored target's keys
  // (or, before any target, the first-start snapshot of the current
  // values), SUPERVISOR_VPN_CONTROL, then every table key's default.
  std::map<std::string, std::string> target;
  // The current values (host.md §6.1 getCurrent): the table keys as
  // applied, plus every matching backend's values read from its files.
  std::map<std::string, std::string> current;
  // Discoverability and firewall mode as decided (what host applies).
  bool discoverable = true;
  std::string firewall_mode = "off"; // on, off, auto; "" until first set
};

// Internal: device_config's retry timer after a failed apply; a stale epoch
// is ignored.
struct device_config_retry {
  uint64_t epoch = 0;
};

using device_config_actor = caf::typed_actor<
  caf::replies_to<apply_device_config>::with<device_config_result>,
  caf::reacts_to<device_config_retry>,
  caf::replies_to<caf::get_atom, device_config_atom>::with<device_config_view>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::apply_device_config)
BOSUN_MESSAGE(bosun::device_config_result)
BOSUN_MESSAGE(bosun::device_config_view)
BOSUN_MESSAGE(bosun::device_config_retry)
