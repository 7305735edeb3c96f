#pragma once

// One fleet-sim run: a scenario's steps against N whole agents and one
// cloud-sim; writes OUT/result.json (format in docs/FLEET.md) and then the
// report (report.hpp).
#include "tools/fleet-sim/shard.hpp"

#include <cstdint>
#include <string>

namespace bosun::fleet {

struct run_options {
  std::string scenario; // the scenario file
  size_t devices = 0;   // 0: the scenario's
  double scale = 0;     // 0: the scenario's
  uint64_t seed = 1;
  std::string dir;       // data dirs; default a new /tmp/fleet-sim-<pid>
  std::string out;       // result and report; default ./fleet-out
  std::string cloud;     // device API URL of a running cloud-sim, or ""
  std::string admin;     // its admin URL
  std::string cloud_sim; // the binary to start when `cloud` is ""
  int probe_ms = 250;    // how often unconverged agents are asked
  bool keep = false;     // keep the data dirs
  int activity_s = 0;    // at the end: what idle agents do for this long
  bool plots = true;
  // --shard i/n: this process runs slice i of the devices; the shards share
  // the fleet (its id from the seed) and leave it in cloud-sim at the end.
  // They step together: before each step every shard waits at a barrier in
  // cloud-sim until all have finished the one before, and shard 0 alone
  // does what is fleet-wide (the fleet's target, faults).
  shard part;
  // --barrier-timeout-s: how long a shard waits at a barrier for the others
  // beyond the longest the step before may take (a wait's timeout, a
  // sleep); then the run fails.
  double barrier_timeout_s = 600;
  std::string inspect; // --inspect ADDR:PORT, "" = none
};

// 0: every stage converged as the scenario asks; 1: it did not; 2: the run
// could not be set up (the reason on stderr).
int run_scenario(const run_options& o);

} // namespace bosun::fleet
