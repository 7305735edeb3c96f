#include "tools/fleet-sim/sim_host.hpp"

#include <chrono>
#include <cstdio>

namespace bosun::sim {

namespace {

uint64_t mix(uint64_t x) { // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class sim_host final : public host_provider {
public:
  explicit sim_host(sim_host_facts f) : f_(std::move(f)) {}

  std::optional<std::string> os_release(const std::string&,
                                        const std::string& key) const override {
    if (key == "PRETTY_NAME")
      return f_.pretty_name;
    if (key == "META_BALENA_VERSION")
      return f_.meta_version;
    return std::nullopt;
  }

  std::string machine() const override {
    return f_.machine;
  }

  std::string hostname() const override {
    return f_.hostname;
  }

  host_addresses addresses() const override {
    host_addresses a;
    a.ip_address = f_.ip_address;
    a.mac_address = f_.mac_address;
    return a;
  }

  host_metrics metrics(const std::string&) const override {
    host_metrics m;
    m.memory = memory_use{f_.memory_used_mib, f_.memory_total_mib};
    m.storage_total_mib = f_.storage_total_mib;
    m.storage_used_mib = f_.storage_used_mib;
    m.cpu_temp = f_.cpu_temp;
    // Cumulative ticks as /proc/stat counts them: the busy share is fixed.
    auto total = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch())
        .count());
    m.cpu = cpu_times{total / 100 * static_cast<uint64_t>(f_.cpu_percent),
                      total / 100 * 100};
    return m;
  }

  std::optional<double> uptime_seconds() const override {
    return f_.uptime_seconds;
  }

private:
  sim_host_facts f_;
};

} // namespace

sim_host_facts sim_host_for(uint64_t seed, size_t index) {
  auto r = mix(seed * 1000003 + index);
  sim_host_facts f;
  f.hostname = "sim" + std::to_string(index);
  char buf[64];
  auto n = index + 1; // 10.0.0.1 for the first
  std::snprintf(buf, sizeof(buf), "10.%zu.%zu.%zu", (n >> 16) & 0xff,
                (n >> 8) & 0xff, n & 0xff);
  f.ip_address = buf;
  std::snprintf(buf, sizeof(buf), "02:42:%02X:%02X:%02X:%02X",
                static_cast<unsigned>((index >> 24) & 0xff),
                static_cast<unsigned>((index >> 16) & 0xff),
                static_cast<unsigned>((index >> 8) & 0xff),
                static_cast<unsigned>(index & 0xff));
  f.mac_address = buf;
  f.memory_total_mib = 1024 << (r % 3); // 1, 2 or 4 GiB
  f.memory_used_mib = 200 + static_cast<int64_t>((r >> 8) % 400);
  f.cpu_percent = 2 + static_cast<int64_t>((r >> 16) % 30);
  f.cpu_temp = 35 + static_cast<int64_t>((r >> 24) % 30);
  f.uptime_seconds = 600 + static_cast<double>((r >> 32) % 86400);
  return f;
}

std::shared_ptr<const host_provider> make_sim_host(sim_host_facts facts) {
  return std::make_shared<const sim_host>(std::move(facts));
}

} // namespace bosun::sim
