#include "api/server/host_info.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cstdio>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <set>
#include <string>
#include <vector>

namespace bosun::api {

namespace {

bool numbered(std::string_view name, std::string_view prefix) {
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size())
    return false;
  auto rest = name.substr(prefix.size());
  return std::all_of(rest.begin(), rest.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; });
}

} // namespace

bool reported_interface(std::string_view name) {
  for (auto fixed : {"lo", "supervisor0", "resin-vpn", "resin-dns",
                     "balena-redsocks", "resin-redsocks"})
    if (name == fixed)
      return false;
  for (auto prefix : {"balena", "docker", "rce", "tun"})
    if (numbered(name, prefix))
      return false;
  if (name.size() == 15 && name.rfind("br-", 0) == 0
      && std::all_of(name.begin() + 3, name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         }))
    return false;
  return !name.empty();
}

host_addresses read_host_addresses() {
  host_addresses out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0)
    return out;
  std::vector<std::string> ips;
  std::set<std::string> with_ip;
  std::vector<std::pair<std::string, std::string>> macs; // name, mac
  for (auto* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_name == nullptr
        || !reported_interface(i->ifa_name))
      continue;
    char buf[INET6_ADDRSTRLEN] = {};
    auto family = i->ifa_addr->sa_family;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      if (::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf)) != nullptr) {
        ips.emplace_back(buf);
        with_ip.insert(i->ifa_name);
      }
    } else if (family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      if (a->sin6_scope_id == 0
          && ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf))
               != nullptr) {
        ips.emplace_back(buf);
        with_ip.insert(i->ifa_name);
      }
    } else if (family == AF_PACKET) {
      auto* ll = reinterpret_cast<sockaddr_ll*>(i->ifa_addr);
      if (ll->sll_halen != 6)
        continue;
      char mac[18];
      std::snprintf(mac, sizeof(mac), "%02X:%02X:%02X:%02X:%02X:%02X",
                    ll->sll_addr[0], ll->sll_addr[1], ll->sll_addr[2],
                    ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
      if (std::string(mac) != "00:00:00:00:00:00")
        macs.emplace_back(i->ifa_name, mac);
    }
  }
  ::freeifaddrs(list);
  for (auto& ip : ips)
    out.ip_address += (out.ip_address.empty() ? "" : " ") + ip;
  for (auto& [name, mac] : macs)
    if (with_ip.count(name) != 0)
      out.mac_address += (out.mac_address.empty() ? "" : " ") + mac;
  return out;
}

} // namespace bosun::api
