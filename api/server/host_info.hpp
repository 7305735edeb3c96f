#pragma once

// The device's addresses as balena reports them (GET /v1/device): IPv4 and
// IPv6 addresses (scope id 0) of the real interfaces, and their MACs.
#include "api/server/api_codec.hpp"

#include <string_view>

namespace bosun::api {

// Whether balena reports an interface: not lo, supervisor0, resin-vpn,
// resin-dns, balena-redsocks, resin-redsocks, balenaN, dockerN, rceN, tunN
// or br-<12 hex>.
bool reported_interface(std::string_view name);

// Reads the interfaces now (getifaddrs: a few syscalls, no blocking I/O).
host_addresses read_host_addresses();

} // namespace bosun::api
