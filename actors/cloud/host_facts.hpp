#pragma once

// What the state report says about the host (reference/state.md "Device
// fields" and "Metrics"): addresses and hardware metrics. host_sampler
// reads them from the system (getifaddrs, /sys, /proc, statvfs); the
// parsers and rules below are pure and unit-tested.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun {

struct host_facts {
  std::string ip_address;               // space-separated
  std::string mac_address;              // upper-case, space-separated
  std::optional<int64_t> cpu_usage;     // percent
  std::optional<int64_t> memory_usage;  // MiB
  std::optional<int64_t> memory_total;  // MiB
  std::optional<int64_t> storage_usage; // MiB, the data directory's fs
  std::optional<int64_t> storage_total; // MiB
  std::optional<int64_t> cpu_temp;      // °C
};

// Interfaces whose addresses are never reported: balenaN, dockerN, rceN,
// tunN, resin-vpn, lo, resin-dns, supervisor0, balena-redsocks,
// resin-redsocks, br-<12 hex>.
bool interface_excluded(std::string_view name);

// /proc/meminfo → {used, total} in MiB, used = total − free − cached −
// buffers − reclaimable.
struct memory_use {
  int64_t used_mib = 0;
  int64_t total_mib = 0;
};
std::optional<memory_use> parse_meminfo(std::string_view text);

// The "cpu" line of /proc/stat.
struct cpu_times {
  uint64_t busy = 0;
  uint64_t total = 0;
};
std::optional<cpu_times> parse_proc_stat(std::string_view text);
// Percent busy between two samples (0 when no time passed).
int64_t cpu_percent(const cpu_times& before, const cpu_times& after);

// One address of an interface, as getifaddrs gives it.
struct interface_address {
  std::string interface;
  std::string address; // textual
  bool ipv6 = false;
  uint32_t scope_id = 0; // IPv6 only
  bool loopback = false;
};
// The addresses balena reports (external IPv4, and IPv6 with scope id 0),
// space-separated in the given order, without duplicates.
std::string report_addresses(const std::vector<interface_address>& all);
// The interfaces those addresses are on, in order, without duplicates.
std::vector<std::string>
reported_interfaces(const std::vector<interface_address>& all);

// A metric as reported: the new sample when it left the bucket of the
// reported value (or nothing was reported yet), else the reported value.
// Buckets: cpu 20, temperature 5, memory 10 (reference/state.md).
std::optional<int64_t> bucketed(std::optional<int64_t> reported,
                                std::optional<int64_t> sample, int64_t bucket);

// Reads the host. `data_dir` picks the file system for storage figures.
class host_sampler {
public:
  explicit host_sampler(std::string data_dir)
      : data_dir_(std::move(data_dir)) {}
  host_facts sample();

private:
  std::string data_dir_;
  std::optional<cpu_times> last_cpu_;
};

} // namespace bosun
