#pragma once

// Pure parsers for the string forms compose uses inside a service definition:
// shell-split commands, durations ("1m30s"), byte sizes ("64m"), port specs
// ("127.0.0.1:8080-8081:80-81/udp") and short volume specs ("data:/d:ro"),
// plus their canonical formatters (used by the encoders, so that
// parse(format(x)) == x).
//
// No JSON, no I/O; every function takes hostile input and never throws.
#include "messages/target.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::cloud {

// A parsed value, or `error` (a short rule, e.g. "unterminated quote").
template <class T>
struct parsed {
  std::optional<T> value;
  std::string error;
  explicit operator bool() const {
    return value.has_value();
  }
  const T& operator*() const {
    return *value;
  }
  const T* operator->() const {
    return &*value;
  }
};

// Splits a compose string command into argv the way a POSIX shell would
// tokenise it, without any expansion: whitespace separates words; '...' is
// literal; "..." is literal except \\ \" \$ \` and backslash-newline; a
// backslash outside quotes escapes the next character; `$VAR` stays literal;
// operators (&&, |, ;) are ordinary characters. "" and '' give an empty
// argument. Errors: "unterminated quote".
parsed<std::vector<std::string>> shell_split(std::string_view s);

// A compose / Go duration: a sequence of <decimal><unit> with units ns, us
// (or µs), ms, s, m, h, e.g. "1m30s", "1.5s", "500ms"; "0" alone is 0.
// Returns nanoseconds. Errors: "invalid duration", "duration out of range"
// (negative values are invalid).
parsed<int64_t> parse_duration_ns(std::string_view s);

// The canonical text of a duration: the largest unit (h, m, s, ms, us, ns)
// that divides it exactly, e.g. 90 s → "90s", 1.5 s → "1500ms", 0 → "0s".
std::string format_duration_ns(int64_t ns);

// A byte size as balena reads mem_limit / mem_reservation / shm_size:
// ^\d+[bkmg]?b?$ (case-insensitive), times 1024^k for k, m, g.
// "64m" → 67108864, "1gb" → 1073741824, "512" → 512.
// Errors: "invalid byte size", "byte size out of range".
parsed<int64_t> parse_byte_size(std::string_view s);

// One compose port spec: [[ip:]host[-end]:]cont[-end][/proto].
//  - ip may be bracketed IPv6 ("[::1]:80:80");
//  - a bare container port ("80", "80-81") binds the same host ports (as
//    balena does);
//  - an empty host part ("127.0.0.1::80", ":80") leaves host {0, 0}: the engine
//    picks a port;
//  - ranges must have equal sizes, or the container side be a single port;
//  - proto is tcp (default), udp or sctp; ports are 1..65535.
// Errors: "invalid port spec", "port out of range", "port ranges differ in
// size", "unsupported protocol".
parsed<service_port> parse_port_spec(std::string_view s);

// The canonical spec: "[ip:]host[-end]:cont[-end][/proto]" (IPv6 hosts in
// brackets; "/tcp" omitted).
std::string format_port_spec(const service_port& p);

// A short volume spec "source:target[:mode]" or "target":
//  - "target" alone → anonymous volume (kind volume, empty source);
//  - a source starting with '/', '.' or '~' → kind bind;
//  - otherwise a named volume (name ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$);
//  - mode is kept raw; read_only is set when one of its comma-separated
//    options is "ro".
// The target must be an absolute path. Errors: "invalid volume spec",
// "volume target must be an absolute path", "invalid volume name".
parsed<service_volume> parse_volume_spec(std::string_view s);

// "source:target[:mode]" or "target" (short syntax only).
std::string format_volume_spec(const service_volume& v);

// "capAdd" → "cap_add", "enableIPv6" → "enable_ipv6", "linkLocalIPs" →
// "link_local_ips"; snake_case input is returned unchanged.
std::string camel_to_snake(std::string_view s);

// Name rules shared by the decoders.
// ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ (service, volume, network names; uuids; commits)
bool is_object_name(std::string_view s);
// ^[A-Za-z_]\w*$ (environment variable names)
bool is_env_name(std::string_view s);
// ^[A-Za-z_][A-Za-z0-9_:]*$ (device config variable names)
bool is_config_name(std::string_view s);

} // namespace bosun::cloud
