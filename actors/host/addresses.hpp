#pragma once

// The device's addresses as balena reports them (GET /v1/device and the
// state report; reference/state.md "Device fields", host.md §9): the one
// interface filter of bosun. The rules are pure; read_host_addresses reads
// the system (getifaddrs and sysfs: a few syscalls, no waiting).
#include "messages/host.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bosun {

// Interfaces whose addresses are never reported: balenaN, dockerN, rceN,
// tunN, resin-vpn, lo, resin-dns, supervisor0, balena-redsocks,
// resin-redsocks, br-<12 hex>.
bool interface_excluded(std::string_view name);

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

// A MAC as reported: from <if>/address when <if>/type is 1 (Ethernet) and
// the interface has no master; upper-case; "" when none or all zeros.
std::string reported_mac(std::string_view address, std::string_view type,
                         bool has_master);

// Reads the addresses now; MACs from `sys_class_net` (/sys/class/net).
host_addresses read_host_addresses(const std::string& sys_class_net
                                   = "/sys/class/net");

} // namespace bosun
