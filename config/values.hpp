#pragma once

// Parsers for single configuration values, shared by the config.json,
// environment and command-line layers. Pure functions; each returns
// std::nullopt when the text is not acceptable, and the caller words the
// error (it knows where the value came from).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bosun::config_values {

// A TCP port: decimal digits only, 1-65535.
std::optional<uint16_t> parse_port(std::string_view);

// Decimal digits only (no sign, no spaces), fitting in int64_t.
std::optional<int64_t> parse_non_negative(std::string_view);

// true|false|1|0.
std::optional<bool> parse_bool(std::string_view);

// "<address>[:<port>]", "[<ipv6>][:<port>]", a bare IPv6 address, or
// ":<port>". Fields absent from the text are left unset (the lower layer's
// value stays).
struct listen_spec {
  std::optional<std::string> address;
  std::optional<uint16_t> port;
};
std::optional<listen_spec> parse_listen(std::string_view);

// Engine location: "unix:///abs/path" or "/abs/path" -> "unix:///abs/path";
// "tcp://host[:port]" or "http://host[:port]" -> "http://host:port" (port
// 2375 for tcp, 80 for http when absent).
std::optional<std::string> normalize_engine(std::string_view);

// "an integer 65536-1073741824 (bytes)": what persistentLogSize takes.
std::string persistent_log_size_range();

// "http://..." or "https://..." with a host.
bool is_http_url(std::string_view);

// At least 32 characters, all hexadecimal.
bool is_device_uuid(std::string_view);

// `text` in double quotes, with quotes and control characters escaped, cut
// to about 60 characters: for "got ..." in error messages.
std::string quoted(std::string_view text);

} // namespace bosun::config_values
