#pragma once

// The proxy files of balenaOS (reference/host.md §3): redsocks.conf and
// no_proxy under <boot>/system-proxy. Pure: parse the current text, merge a
// patch, write the new text; host_io does the file I/O.
#include "messages/host.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::redsocks {

// The redsocks.conf text as GET /v1/device/host-config shows it (no
// noProxy): the redsocks block's fields without local_ip/local_port, quotes
// stripped from login and password; dns from a valid dnsu2t block.
// `warnings` gets one line per malformed line ignored.
host_proxy parse(std::string_view text,
                 std::vector<std::string>* warnings = nullptr);

// no_proxy's non-empty lines.
std::vector<std::string> parse_no_proxy(std::string_view text);

// The proxy after a patch: the current fields overlaid by the given ones
// (new keys last); no given key at all gives an empty proxy. dns "false"
// drops the relay, "true" is 8.8.8.8:53.
host_proxy merge(const host_proxy& current,
                 const host_config_patch::proxy_patch& patch);

// Whether `p` is worth a redsocks.conf: some field besides dns.
bool writable(const host_proxy& p);

// The redsocks.conf text for `p` (base, redsocks, and dnsu2t when dns).
std::string write(const host_proxy& p);

} // namespace bosun::redsocks
