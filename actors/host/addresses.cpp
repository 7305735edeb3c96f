#include "actors/host/addresses.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sstream>

namespace bosun {

namespace {

bool prefix_digits(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix)
    return false;
  auto rest = name.substr(prefix.size());
  return std::all_of(rest.begin(), rest.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool reported(const interface_address& a) {
  if (a.loopback || interface_excluded(a.interface))
    return false;
  return !a.ipv6 || a.scope_id == 0;
}

std::string trimmed_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  auto s = out.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  return s;
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

std::string reported_mac(std::string_view address, std::string_view type,
                         bool has_master) {
  if (type != "1" || has_master || address.empty()
      || address == "00:00:00:00:00:00")
    return {};
  std::string mac(address);
  std::transform(mac.begin(), mac.end(), mac.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  return mac;
}

host_addresses read_host_addresses(const std::string& sys_class_net) {
  host_addresses h;
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
    auto dir = sys_class_net + "/" + itf;
    std::error_code ec;
    auto mac = reported_mac(trimmed_file(dir + "/address"),
                            trimmed_file(dir + "/type"),
                            std::filesystem::exists(dir + "/master", ec));
    if (!mac.empty() && h.mac_address.find(mac) == std::string::npos)
      h.mac_address += (h.mac_address.empty() ? "" : " ") + mac;
  }
  return h;
}

} // namespace bosun
