#pragma once

// The host actor (reference/host.md): the only owner of the system D-Bus
// connection and of the host's files (breadcrumbs, LED, hostname, proxy
// files, VPN status). It answers messages/host.hpp's requests and decides;
// its worker host_io (actors/host/host_io.hpp) makes every blocking call on
// its own thread, so no handler here waits.
//
// The bus: connected at start; a failed connection or a call on a broken
// one makes the bus "down" with a reason, requests that need it fail with
// host_errc::bus_unavailable (the device API answers 503 with the reason),
// and the actor reconnects after 1 s, doubling to 60 s. Telemetry shows
// the bus state as the actor's last error. A host without a bus
// (host_options::no_bus) never connects.
//
// Never does: JSON, HTTP, SQL; never talks to the engine.
#include "actors/host/host_provider.hpp"
#include "actors/logger.hpp"
#include "messages/app_manager.hpp"
#include "messages/host.hpp"
#include "messages/logs.hpp"

#include <caf/actor_system.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace bosun {

struct host_options {
  std::string dbus_address;
  // Set: this host has no system D-Bus, for this reason (fleet-sim: a
  // simulated device). The bus is reported unavailable with it, once, and
  // never connected to or retried; requests that need the bus fail with
  // bus_unavailable and the reason.
  std::optional<std::string> no_bus;
  // The worker (host_io) and journal runs on threads of their own (a
  // device), or on the scheduler's workers (fleet-sim; their calls then
  // block a worker while they run).
  bool detached = true;
  std::string state_mount;
  std::string boot_mount;
  std::string host_root; // "" = bosun runs on the host itself
  std::string lock_base; // update lock dirs: <base>/services/<appId>/…
  std::string led_file;
  std::string vpn_status;
  // config.json (written for a hostname change when it exists).
  std::string config_path;
  bool config_file_found = false;
  std::string uuid; // an empty hostname means its first 7 characters
  // The LED pattern (balena: 200 ms on/off for 15 s).
  std::chrono::milliseconds blink_step{200};
  std::chrono::milliseconds blink_for{15000};
  // Between the reply to a reboot/shutdown and the logind call.
  std::chrono::milliseconds power_delay{1000};
  // POST /v2/journal-logs: the binary and how many may run at once.
  std::string journalctl = "journalctl";
  int max_journal_runs = 4;
  std::shared_ptr<const logger> log;
  // The machine's facts (addresses); null: real_host_provider().
  std::shared_ptr<const host_provider> facts;
};

struct host_deps {
  logs_actor logs;               // system lines ("Rebooting", ...)
  app_manager_actor app_manager; // the target's lock override
};

host_actor spawn_host(caf::actor_system& sys, host_options opts,
                      host_deps deps);

} // namespace bosun
