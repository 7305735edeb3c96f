#include "actors/cloud/host_facts.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sstream>
#include <sys/statvfs.h>

namespace bosun {

namespace {

bool prefix_digits(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix)
    return false;
  auto rest = name.substr(prefix.size());
  return std::all_of(rest.begin(), rest.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool reported(const interface_address& a) {
  if (a.loopback || interface_excluded(a.interface))
    return false;
  return !a.ipv6 || a.scope_id == 0;
}

} // namespace

bool interface_excluded(std::string_view name) {
  for (auto p : {"balena", "docker", "rce", "tun"})
    if (prefix_digits(name, p))
      return true;
  for (auto n : {"resin-vpn", "lo", "resin-dns", "supervisor0",
                 "balena-redsocks", "resin-redsocks"})
    if (name == n)
      return true;
  if (name.size() == 15 && name.substr(0, 3) == "br-")
    return std::all_of(name.begin() + 3, name.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    });
  return false;
}

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

std::string report_addresses(const std::vector<interface_address>& all) {
  std::vector<std::string> seen;
  std::string out;
  for (const auto& a : all) {
    if (!reported(a) || contains(seen, a.address))
      continue;
    seen.push_back(a.address);
    out += (out.empty() ? "" : " ") + a.address;
  }
  return out;
}

std::vector<std::string>
reported_interfaces(const std::vector<interface_address>& all) {
  std::vector<std::string> out;
  for (const auto& a : all)
    if (reported(a) && !contains(out, a.interface))
      out.push_back(a.interface);
  return out;
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
  std::vector<interface_address> addrs;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (auto* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_name == nullptr)
        continue;
      interface_address a;
      a.interface = i->ifa_name;
      a.loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
      char text[INET6_ADDRSTRLEN] = {};
      if (i->ifa_addr->sa_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
        ::inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
        ::inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
        a.ipv6 = true;
        a.scope_id = sin6->sin6_scope_id;
      } else {
        continue;
      }
      a.address = text;
      addrs.push_back(std::move(a));
    }
    ::freeifaddrs(list);
  }
  h.ip_address = report_addresses(addrs);
  for (const auto& itf : reported_interfaces(addrs)) {
    auto mac = read_file("/sys/class/net/" + itf + "/address");
    while (!mac.empty() && std::isspace(static_cast<unsigned char>(mac.back())))
      mac.pop_back();
    if (mac.empty() || mac == "00:00:00:00:00:00")
      continue;
    std::transform(mac.begin(), mac.end(), mac.begin(), [](char c) {
      return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    if (h.mac_address.find(mac) == std::string::npos)
      h.mac_address += (h.mac_address.empty() ? "" : " ") + mac;
  }

  if (auto mem = parse_meminfo(read_file("/proc/meminfo"))) {
    h.memory_usage = mem->used_mib;
    h.memory_total = mem->total_mib;
  }
  if (auto cpu = parse_proc_stat(read_file("/proc/stat"))) {
    if (last_cpu_)
      h.cpu_usage = cpu_percent(*last_cpu_, *cpu);
    last_cpu_ = cpu;
  }
  struct statvfs fs {};
  if (::statvfs(data_dir_.c_str(), &fs) == 0 && fs.f_frsize > 0) {
    auto mib = [&fs](uint64_t blocks) {
      return static_cast<int64_t>(blocks * fs.f_frsize / (1024UL * 1024UL));
    };
    h.storage_total = mib(fs.f_blocks);
    h.storage_usage = mib(fs.f_blocks - fs.f_bfree);
  }
  auto temp = read_file("/sys/class/thermal/thermal_zone0/temp");
  if (!temp.empty() && std::isdigit(static_cast<unsigned char>(temp[0])))
    h.cpu_temp = std::strtoll(temp.c_str(), nullptr, 10) / 1000;
  return h;
}

} // namespace bosun
