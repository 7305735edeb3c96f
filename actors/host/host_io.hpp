#pragma once

// The host actor's worker: a detached actor (its own thread, like db) that
// makes every blocking call of the host interface, so the host actor's
// handlers never wait. It owns the sd-bus connection (docs/host.md says
// why sd-bus, and why a worker) and touches the host's files: breadcrumbs,
// update lock files, the LED, host-config files, the VPN status dir.
//
// Bus errors: a call on a connection that broke closes it and fails with
// host_errc::bus_unavailable (the host actor then reconnects); a call the
// peer refused fails with host_errc::failed and the D-Bus error's message.
#include "actors/host/host_provider.hpp"
#include "messages/host.hpp"

#include <caf/actor_system.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bosun {

struct host_paths {
  std::string dbus_address;
  std::string state_mount; // rollback breadcrumbs
  std::string boot_mount;  // system-proxy/
  std::string host_root;   // "" = bosun sees the host's / itself
  std::string lock_base;   // <base>/services/<appId>/<service>/
  std::string led_file;    // /dev/null when absent at first use
  std::string vpn_status;  // the OpenVPN status dir
  // The addresses (GET /v1/device); never null (spawn_host fills it).
  std::shared_ptr<const host_provider> facts;
};

// (Re)connects to the bus; fails with bus_unavailable and the reason.
struct bus_connect {};
// org.freedesktop.login1.Manager.Reboot(false) / PowerOff(false).
struct logind_power {
  power_action action = power_action::reboot;
};
enum class unit_op : uint8_t { start, stop, restart };
// org.freedesktop.systemd1.Manager.{Start,Stop,Restart}Unit(unit, "fail").
struct unit_call {
  unit_op op = unit_op::start;
  std::string unit;
};
// GetUnit(unit), then the Unit property as strings (ActiveState: one;
// PartOf: the list).
struct unit_property {
  std::string unit;
  std::string property;
};
// org.freedesktop.hostname1.SetStaticHostname(name, false).
struct static_hostname {
  std::string name;
};
// Whether a rollback breadcrumb is in the state partition.
struct breadcrumb_check {};
// Takes every locked app's locks (an app is locked when its lock dir
// exists), or none: fails with updates_locked and balena's sentence.
// Replies the appIds whose locks it took.
struct locks_take {
  bool force = false;
};
struct locks_release {
  std::vector<int64_t> apps;
};
// Writes "1" or "0" to the LED file.
struct led_write {
  bool on = false;
};
struct hostcfg_read {};
// Applies a proxy patch to the files (reference/host.md §3 "Proxy");
// replies whether the proxy units need a restart (always, once written).
struct proxy_write {
  host_config_patch::proxy_patch patch;
};
struct vpn_connected {};
// Sets config.json's hostname (balenaOS's hostname service reacts).
struct config_hostname {
  std::string config_path;
  std::string name;
};

using host_io_actor = caf::typed_actor<
  caf::replies_to<bus_connect>::with<std::string>, // the bus's unique name
  caf::replies_to<logind_power>::with<void>,
  caf::replies_to<unit_call>::with<void>,
  caf::replies_to<unit_property>::with<std::vector<std::string>>,
  caf::replies_to<static_hostname>::with<void>,
  caf::replies_to<breadcrumb_check>::with<bool>,
  caf::replies_to<locks_take>::with<std::vector<int64_t>>,
  caf::replies_to<locks_release>::with<void>,
  caf::replies_to<led_write>::with<void>,
  caf::replies_to<hostcfg_read>::with<host_settings>,
  caf::replies_to<proxy_write>::with<void>,
  caf::replies_to<vpn_connected>::with<bool>,
  caf::replies_to<config_hostname>::with<void>,
  caf::replies_to<caf::get_atom, addrs_atom>::with<host_addresses>>;

// `detached`: on a thread of its own (a device); false: on the scheduler
// (fleet-sim: its calls then block a worker while they run).
host_io_actor spawn_host_io(caf::actor_system& sys, host_paths paths,
                            bool detached = true);

} // namespace bosun

BOSUN_MESSAGE(bosun::bus_connect)
BOSUN_MESSAGE(bosun::logind_power)
BOSUN_MESSAGE(bosun::unit_call)
BOSUN_MESSAGE(bosun::unit_property)
BOSUN_MESSAGE(bosun::static_hostname)
BOSUN_MESSAGE(bosun::breadcrumb_check)
BOSUN_MESSAGE(bosun::locks_take)
BOSUN_MESSAGE(bosun::locks_release)
BOSUN_MESSAGE(bosun::led_write)
BOSUN_MESSAGE(bosun::hostcfg_read)
BOSUN_MESSAGE(bosun::proxy_write)
BOSUN_MESSAGE(bosun::vpn_connected)
BOSUN_MESSAGE(bosun::config_hostname)
