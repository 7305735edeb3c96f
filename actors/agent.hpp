#pragma once

// One agent is one call: start_agent builds the whole actor tree (root and
// the core actors under it) for one device. Nothing is process-global, so
// tests run two agents side by side and fleet-sim runs thousands.
#include "actors/cloud/cloud_child.hpp"
#include "actors/host/host_provider.hpp"
#include "actors/logger.hpp"
#include "config/config.hpp"
#include "messages/engine.hpp"
#include "messages/root.hpp"
#include "persistence/store.hpp"

#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace bosun {

// Everything an agent takes from the outside world. bosun passes the real
// ones (the defaults); fleet-sim passes a simulated device's.
struct agent_deps {
  asio::io_context& io; // the one I/O thread's context (HTTP, engine)
  std::shared_ptr<const logger> log;
  // Spawns the agent's engine (any actor with the engine's interface; again
  // whenever root restarts it). Empty: the real engine actor at cfg.engine.
  // fleet-sim and tests pass a simulated engine (tools/fleet-sim).
  std::function<engine_actor(caf::actor_system&)> engine = {};
  // Randomness: cloud_sync's poll jitter and the identities the agent makes
  // (uuid, device API key). std::nullopt: std::random_device, as a device
  // needs; a seed makes a simulated device's draws the same every run.
  std::optional<uint64_t> seed = std::nullopt;
  // Divides the agent's own timings that are not in the config (cloud_sync's
  // poll jitter, failure backoff, report spacing, metrics hold): fleet-sim's
  // --scale. The config's intervals (appUpdatePollInterval) are the caller's.
  double time_scale = 1;
  // The wall clock, unix ms: cloud_sync's registered_at, the timestamps of
  // the agent's own log lines, telemetry's collected_at. Empty: the system
  // clock. fleet-sim passes fleet time (its start + elapsed × --scale).
  // The actors' timers run on CAF's clock, scaled by time_scale instead.
  std::function<int64_t()> wall_clock_ms = {};
  // os-release, uname, hostname, interfaces, /proc figures. Null: the real
  // machine (real_host_provider()).
  std::shared_ptr<const host_provider> host = nullptr;
  // HTTP: where proxy settings come from (cloud requests and the log
  // stream), and cloud_sync's transport (empty: bosun's HTTP client on io).
  http::env_lookup proxy_env = http::process_env;
  cloud_transport_factory cloud_transport = {};
  // Every line of the agent's log names it: "[<first 7 of its uuid>] "
  // (fleet-sim: thousands of agents share one stderr).
  bool log_prefix = false;
  // Where the agent's blocking actors run (db, the host actor's worker
  // host_io, device_config's worker device_config_io, the logs' history
  // reads, journal runs): on threads of their own (a device: their waits on
  // disk and D-Bus never hold up another actor), or, false, as ordinary
  // actors on the scheduler's workers (fleet-sim: three threads per agent
  // would not fit 10,000 agents in one process; its SQLite is on tmpfs and
  // its host simulated, so their calls are short). The actors that own
  // these workers (host, device_config, logs) never block and always run
  // on the scheduler.
  bool blocking_detached = true;
  // The system D-Bus: std::nullopt, the one at cfg.dbus_address (a device);
  // a reason, none (fleet-sim: "simulated device"): the host actor reports
  // the bus unavailable with it and never connects or retries.
  std::optional<std::string> no_bus = std::nullopt;
  // SQLite's journal (store::options::journal): WAL on a device (fewer
  // fsyncs, readers welcome; three open files), rollback in fleet-sim (one
  // open file per agent at rest). synchronous=FULL either way.
  store::options::journal_kind db_journal = store::options::journal_kind::wal;
};

struct agent {
  root_actor root;
  std::string uuid;    // the device's uuid (config.json, or generated)
  std::string api_key; // the global device API key
};

// Opens the database (refusing one from a newer bosun), settles the device
// identity, and spawns root with its children. Returns a one-line reason when
// the agent cannot start.
std::variant<agent, std::string>
start_agent(caf::actor_system& sys, const config& cfg, agent_deps deps);

} // namespace bosun
