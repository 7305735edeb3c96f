#include "actors/cloud/host_facts.hpp"

#include "actors/host/host_provider.hpp"

#include <algorithm>
#include <sstream>

namespace bosun {

std::optional<memory_use> parse_meminfo(std::string_view text) {
  std::optional<int64_t> total, free_kb;
  int64_t cached = 0, buffers = 0, reclaimable = 0;
  std::istringstream in{std::string(text)};
  std::string key;
  int64_t value = 0;
  std::string unit;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    if (!(l >> key >> value))
      continue;
    if (key == "MemTotal:")
      total = value;
    else if (key == "MemFree:")
      free_kb = value;
    else if (key == "Cached:")
      cached = value;
    else if (key == "Buffers:")
      buffers = value;
    else if (key == "SReclaimable:")
      reclaimable = value;
  }
  if (!total || !free_kb)
    return std::nullopt;
  auto used = *total - *free_kb - cached - buffers - reclaimable;
  return memory_use{std::max<int64_t>(used, 0) / 1024, *total / 1024};
}

std::optional<cpu_times> parse_proc_stat(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string name;
    l >> name;
    if (name != "cpu")
      continue;
    std::vector<uint64_t> f;
    uint64_t v = 0;
    while (l >> v)
      f.push_back(v);
    if (f.size() < 4)
      return std::nullopt;
    cpu_times t;
    for (auto x : f)
      t.total += x;
    // idle and iowait are not busy.
    auto idle = f[3] + (f.size() > 4 ? f[4] : 0);
    t.busy = t.total - idle;
    return t;
  }
  return std::nullopt;
}

int64_t cpu_percent(const cpu_times& before, const cpu_times& after) {
  if (after.total <= before.total || after.busy < before.busy)
    return 0;
  auto total = after.total - before.total;
  auto busy = after.busy - before.busy;
  return static_cast<int64_t>((busy * 100 + total / 2) / total);
}

std::optional<int64_t> bucketed(std::optional<int64_t> reported,
                                std::optional<int64_t> sample, int64_t bucket) {
  if (!sample || !reported || bucket <= 0)
    return sample;
  auto floor_div = [bucket](int64_t v) {
    return v >= 0 ? v / bucket : -((-v + bucket - 1) / bucket);
  };
  return floor_div(*sample) == floor_div(*reported) ? reported : sample;
}

host_facts host_sampler::sample() {
  host_facts h;
  auto addrs = host_->addresses();
  h.ip_address = std::move(addrs.ip_address);
  h.mac_address = std::move(addrs.mac_address);
  auto m = host_->metrics(data_dir_);
  if (m.memory) {
    h.memory_usage = m.memory->used_mib;
    h.memory_total = m.memory->total_mib;
  }
  if (m.cpu) {
    if (last_cpu_)
      h.cpu_usage = cpu_percent(*last_cpu_, *m.cpu);
    last_cpu_ = m.cpu;
  }
  h.storage_total = m.storage_total_mib;
  h.storage_usage = m.storage_used_mib;
  h.cpu_temp = m.cpu_temp;
  return h;
}

} // namespace bosun
