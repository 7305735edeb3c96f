#include "config/values.hpp"

#include "config/config.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>

namespace bosun::config_values {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

// "host[:port]" or "[v6][:port]" for engine URLs; host must be non-empty.
bool split_host_port(std::string_view s, std::string& host,
                     std::optional<uint16_t>& port) {
  std::string_view port_text;
  bool has_port = false;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1)
      return false;
    host = std::string(s.substr(0, close + 1));
    auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return false;
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    auto colon = s.find(':');
    if (colon != std::string_view::npos) {
      port_text = s.substr(colon + 1);
      has_port = true;
      s = s.substr(0, colon);
    }
    host = std::string(s);
  }
  if (host.empty() || host.find_first_of("/?#@ ") != std::string::npos)
    return false;
  if (has_port) {
    port = parse_port(port_text);
    if (!port)
      return false;
  }
  return true;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

} // namespace

std::optional<uint16_t> parse_port(std::string_view s) {
  auto n = parse_non_negative(s);
  if (!n || *n < 1 || *n > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(*n);
}

std::optional<int64_t> parse_non_negative(std::string_view s) {
  if (!all_digits(s))
    return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "1")
    return true;
  if (s == "false" || s == "0")
    return false;
  return std::nullopt;
}

std::optional<listen_spec> parse_listen(std::string_view s) {
  listen_spec out;
  if (s.empty())
    return std::nullopt;
  std::string_view port_text;
  bool has_port = false;
  if (s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1)
      return std::nullopt;
    out.address = std::string(s.substr(1, close - 1));
    auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return std::nullopt;
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    auto first = s.find(':');
    if (first == std::string_view::npos) {
      out.address = std::string(s);
    } else if (s.find(':', first + 1) != std::string_view::npos) {
      out.address = std::string(s); // a bare IPv6 address, no port
    } else {
      if (first > 0)
        out.address = std::string(s.substr(0, first));
      port_text = s.substr(first + 1);
      has_port = true;
    }
  }
  if (out.address
      && (out.address->empty()
          || out.address->find_first_of("/[] ") != std::string::npos))
    return std::nullopt;
  if (has_port) {
    out.port = parse_port(port_text);
    if (!out.port)
      return std::nullopt;
  }
  return out;
}

std::optional<std::string> normalize_engine(std::string_view s) {
  if (starts_with(s, "unix://")) {
    auto path = s.substr(7);
    if (path.size() < 2 || path.front() != '/')
      return std::nullopt;
    return "unix://" + std::string(path);
  }
  if (!s.empty() && s.front() == '/') {
    if (s.size() < 2)
      return std::nullopt;
    return "unix://" + std::string(s);
  }
  uint16_t default_port = 0;
  if (starts_with(s, "tcp://")) {
    s = s.substr(6);
    default_port = 2375;
  } else if (starts_with(s, "http://")) {
    s = s.substr(7);
    default_port = 80;
  } else {
    return std::nullopt;
  }
  while (!s.empty() && s.back() == '/')
    s.remove_suffix(1);
  std::string host;
  std::optional<uint16_t> port;
  if (!split_host_port(s, host, port))
    return std::nullopt;
  return "http://" + host + ":" + std::to_string(port.value_or(default_port));
}

std::string persistent_log_size_range() {
  return "an integer " + std::to_string(min_persistent_log_size) + "-"
         + std::to_string(max_persistent_log_size) + " (bytes)";
}

bool is_http_url(std::string_view s) {
  std::string_view rest;
  if (starts_with(s, "https://"))
    rest = s.substr(8);
  else if (starts_with(s, "http://"))
    rest = s.substr(7);
  else
    return false;
  auto host_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, host_end);
  if (authority.empty())
    return false;
  for (char c : authority)
    if (std::isspace(static_cast<unsigned char>(c)))
      return false;
  return true;
}

bool is_device_uuid(std::string_view s) {
  if (s.size() < 32)
    return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::string quoted(std::string_view text) {
  constexpr std::size_t max_shown = 60;
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    if (shown == max_shown) {
      out += "...";
      break;
    }
    ++shown;
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

} // namespace bosun::config_values
