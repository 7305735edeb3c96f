#pragma once

// A fleet-sim scenario: a small declarative JSON file (tools/fleet-sim/
// scenarios/*.json, format in docs/FLEET.md). It names the releases, how
// devices come to the cloud (registered already, or a registration storm
// with one provisioning key), the simulated engine's times, and a list of
// steps run one after another: start agents, roll a release out to a share
// of the devices, wait for convergence, sleep, cloud faults, kill and
// restart agents, crash-looping services, log floods.
//
// Durations in a scenario are fleet time (`seconds`, divided by --scale to
// get wall time) or wall time (`wall_seconds`); log rates and the fault
// parameters passed on to cloud-sim (a delay's ms) are wall time: the
// network, the CPU and cloud_sync's retry backoff are not scaled.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun::fleet {

struct release {
  std::string name;                  // "A"
  int64_t id = 0;                    // 1, 2, ... in file order
  std::vector<std::string> services; // service names, each with its image
};

struct engine_model {
  int64_t image_bytes = 20'000'000;
  double bandwidth = 2e6; // bytes per fleet second
  int64_t registry_latency_ms = 200;
  int64_t create_ms = 500;
  int64_t start_ms = 1000;
  int64_t stop_ms = 1000;
  int64_t remove_ms = 200;
};

enum class step_kind {
  start,     // start the agents of the first `percent` of devices
  release,   // the first `percent` of devices (a fixed order) get `release`
  wait,      // until the open stages converge (or `timeout_s` passes)
  sleep,     // `seconds`
  fault,     // a cloud-sim fault on `route` for `seconds` (0: until cleared)
  clear,     // clear every cloud-sim fault
  restart,   // kill `percent` of the agents, start them from their data dirs
  behave,    // `percent` of the devices' `service` behaves as `behaviour`
  log_flood, // `percent` of the devices write `lines_per_s` for `seconds`
};

struct step {
  step_kind kind = step_kind::wait;
  double percent = 100;
  std::string stage;   // start/release: the stage's name in the report
  std::string release; // release
  double seconds = 0;  // sleep, fault, log_flood; wait: the timeout
  // Instead of `seconds`: wall time, not scaled (cloud_sync's retry backoff
  // and HTTP timeouts are not scaled, so an outage is best given in wall
  // time); -1: not given.
  double wall_seconds = -1;
  // wait: the share of a stage's devices that must converge for the run
  // to pass (crash-looping devices may never settle).
  double min_converged_percent = 100;
  std::string fault_json;   // fault: the body POSTed to cloud-sim's /faults
  std::string route;        // fault: which route to clear after `seconds`
  std::string service;      // behave, log_flood
  std::string behaviour;    // behave: run, exit_once, crash_loop, unhealthy
  double run_for_s = 10;    // behave: how long a container runs (fleet s)
  int64_t exit_code = 1;    // behave
  double lines_per_s = 100; // log_flood, per device, wall time
};

struct scenario {
  std::string name;
  std::string description;
  size_t devices = 200;
  double scale = 60;
  bool register_storm = false; // false: devices registered already
  std::string initial;         // the fleet's target before any agent starts
  std::vector<release> releases;
  engine_model engine;
  std::vector<step> steps;

  const release* find(const std::string& name) const;
};

// Parses a scenario file's text; nullopt and `err` on a mistake (the
// step's index and field are named).
std::optional<scenario> parse_scenario(const std::string& text,
                                       std::string& err);

const char* name_of(step_kind k);

} // namespace bosun::fleet
