#pragma once

// The host routes' JSON (reference/host.md §3, §4; api.md): host-config in
// and out, VPN status. JSON lives here only; the host actor sees the typed
// messages/host.hpp structs.
#include "api/server/api_codec.hpp"
#include "messages/host.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bosun::api {

struct host_config_decoded {
  host_config_patch patch;
  // The strict parse failed and the lenient one passed: the warning lines
  // ("Malformed host config detected, …" first).
  std::vector<std::string> warnings;
};

// PATCH /v1/device/host-config: balena's strict parse, then its lenient
// one; the 400 text when both fail ("Could not parse host config input to
// a valid format:" and one line per error).
std::variant<host_config_decoded, std::string>
decode_host_config(std::string_view body);

// GET /v1/device/host-config: {"network":{"hostname":…,"proxy":{…}}}.
std::string encode_host_config(const host_settings& c);

// GET /v2/device/vpn.
std::string encode_vpn(const vpn_status& v);

// POST /v2/journal-logs' body (JSON or form fields): all and follow
// truthy, count a positive integer (else ignored), unit, containerId, since
// and until verbatim, format (default "short").
journal_query decode_journal_query(const fields& f);

} // namespace bosun::api
