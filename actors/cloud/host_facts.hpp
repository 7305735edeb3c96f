#pragma once

// What the state report says about the host (reference/state.md "Device
// fields" and "Metrics"): addresses and hardware metrics. host_sampler
// takes them from a host_provider (actors/host/host_provider.hpp: the real
// machine, or a simulated device); the parsers and rules below are pure and
// unit-tested.
#include "actors/host/addresses.hpp"

#include <cstdint>
#include <memory>
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

// A metric as reported: the new sample when it left the bucket of the
// reported value (or nothing was reported yet), else the reported value.
// Buckets: cpu 20, temperature 5, memory 10 (reference/state.md).
std::optional<int64_t> bucketed(std::optional<int64_t> reported,
                                std::optional<int64_t> sample, int64_t bucket);

class host_provider;

// Samples the host through `host`; the cpu percent is taken between two
// samples. `data_dir` picks the file system for storage figures.
class host_sampler {
public:
  host_sampler(std::shared_ptr<const host_provider> host, std::string data_dir)
      : host_(std::move(host)), data_dir_(std::move(data_dir)) {}
  host_facts sample();

private:
  std::shared_ptr<const host_provider> host_;
  std::string data_dir_;
  std::optional<cpu_times> last_cpu_;
};

} // namespace bosun
