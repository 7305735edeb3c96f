#pragma once

// Where an agent learns about the machine it runs on: os-release, uname,
// the hostname, the network interfaces and the host's figures from /proc
// (cpu, memory, temperature, uptime) and statvfs. One interface, so that
// fleet-sim gives each simulated device its own facts (agent_deps::host).
// bosun passes real_host_provider(), which reads the machine.
//
// A provider is immutable and its calls may run on any thread (the host
// actor's worker asks for addresses, cloud_sync for metrics); the real one
// makes a few quick reads of procfs, sysfs and /etc, never waits.
#include "actors/cloud/host_facts.hpp"
#include "actors/host/addresses.hpp"

#include <memory>
#include <optional>
#include <string>

namespace bosun {

// The host's figures at one instant; cumulative cpu times (the percent is
// taken between two samples: host_sampler).
struct host_metrics {
  std::optional<cpu_times> cpu;
  std::optional<memory_use> memory;
  std::optional<int64_t> storage_used_mib; // the data directory's fs
  std::optional<int64_t> storage_total_mib;
  std::optional<int64_t> cpu_temp; // °C
};

class host_provider {
public:
  virtual ~host_provider() = default;
  // `key` of <root>/etc/os-release (unquoted), std::nullopt when absent.
  virtual std::optional<std::string>
  os_release(const std::string& root, const std::string& key) const = 0;
  // uname's machine ("x86_64", "aarch64"); "" when unknown.
  virtual std::string machine() const = 0;
  virtual std::string hostname() const = 0;
  // The addresses balena reports (the one interface filter).
  virtual host_addresses addresses() const = 0;
  virtual host_metrics metrics(const std::string& data_dir) const = 0;
  // Seconds since the host booted, std::nullopt when unknown.
  virtual std::optional<double> uptime_seconds() const = 0;
};

// The machine bosun runs on; MACs from `sys_class_net`.
std::shared_ptr<const host_provider>
real_host_provider(std::string sys_class_net = "/sys/class/net");

} // namespace bosun
