#pragma once

// A simulated device's host facts (agent_deps::host): its own os-release,
// machine, hostname, addresses and /proc figures, derived from the device's
// index and seed, so that every agent in fleet-sim reports a different,
// reproducible device. Immutable: any thread may ask.
#include "actors/host/host_provider.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace bosun::sim {

struct sim_host_facts {
  std::string pretty_name = "balenaOS 6.0.0 (simulated)";
  std::string meta_version = "6.0.0";
  std::string machine = "aarch64";
  std::string hostname;
  std::string ip_address;  // as reported: space-separated
  std::string mac_address; // upper-case
  int64_t memory_total_mib = 4096;
  int64_t memory_used_mib = 512;
  int64_t storage_total_mib = 30000;
  int64_t storage_used_mib = 2000;
  int64_t cpu_percent = 10; // busy share of the cpu times
  int64_t cpu_temp = 45;
  double uptime_seconds = 3600;
};

// Device `index`'s facts: hostname "sim<index>", address 10.x.y.z, a MAC,
// memory, load and temperature varied by `seed` and `index`.
sim_host_facts sim_host_for(uint64_t seed, size_t index);

std::shared_ptr<const host_provider> make_sim_host(sim_host_facts facts);

} // namespace bosun::sim
