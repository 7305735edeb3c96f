#include "api/cloud/compose_parse.hpp"

#include <cctype>
#include <limits>
#include <utility>

namespace bosun::cloud {

namespace {

template <class T>
parsed<T> fail(std::string_view rule) {
  parsed<T> r;
  r.error = std::string(rule);
  return r;
}

template <class T>
parsed<T> ok(T value) {
  parsed<T> r;
  r.value = std::move(value);
  return r;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
         || c == '\f';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Decimal digits only, no sign; fails on overflow.
std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty())
    return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c))
      return std::nullopt;
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10)
      return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// "80" or "80-81" → range of valid ports (1..65535).
parsed<port_range> parse_range(std::string_view s) {
  auto dash = s.find('-');
  auto first = parse_u64(s.substr(0, dash));
  std::optional<uint64_t> last = first;
  if (dash != std::string_view::npos)
    last = parse_u64(s.substr(dash + 1));
  if (!first || !last)
    return fail<port_range>("invalid port spec");
  if (*first < 1 || *first > 65535 || *last < 1 || *last > 65535)
    return fail<port_range>("port out of range");
  if (*last < *first)
    return fail<port_range>("invalid port spec");
  return ok(
    port_range{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)});
}

std::string format_range(const port_range& r) {
  auto s = std::to_string(r.first);
  if (r.last != r.first)
    s += "-" + std::to_string(r.last);
  return s;
}

} // namespace

parsed<std::vector<std::string>> shell_split(std::string_view s) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false; // a word has started (possibly empty, from quotes)
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (is_space(c)) {
      if (in_word) {
        out.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= s.size()) {
        word += '\\'; // a trailing backslash stays literal
        in_word = true;
        ++i;
      } else if (s[i + 1] == '\n') {
        i += 2; // line continuation
      } else {
        word += s[i + 1];
        in_word = true;
        i += 2;
      }
    } else if (c == '\'') {
      auto end = s.find('\'', i + 1);
      if (end == std::string_view::npos)
        return fail<std::vector<std::string>>("unterminated quote");
      word.append(s.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (c == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < s.size()) {
          char e = s[i + 1];
          if (e == '\\' || e == '"' || e == '$' || e == '`') {
            word += e;
            i += 2;
            continue;
          }
          if (e == '\n') {
            i += 2;
            continue;
          }
        }
        word += d;
        ++i;
      }
      if (!closed)
        return fail<std::vector<std::string>>("unterminated quote");
      in_word = true;
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word)
    out.push_back(std::move(word));
  return ok(std::move(out));
}

parsed<int64_t> parse_duration_ns(std::string_view s) {
  constexpr auto max = std::numeric_limits<int64_t>::max();
  if (s == "0")
    return ok<int64_t>(0);
  if (s.empty())
    return fail<int64_t>("invalid duration");
  // Sum in unsigned 128-bit-free arithmetic: check against max as we go.
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    // number: digits [. digits]
    size_t start = i;
    while (i < s.size() && is_digit(s[i]))
      ++i;
    std::string_view int_part = s.substr(start, i - start);
    std::string_view frac_part;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t fstart = i;
      while (i < s.size() && is_digit(s[i]))
        ++i;
      frac_part = s.substr(fstart, i - fstart);
    }
    if (int_part.empty() && frac_part.empty())
      return fail<int64_t>("invalid duration");
    // unit
    size_t ustart = i;
    while (i < s.size() && !is_digit(s[i]) && s[i] != '.')
      ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    int64_t scale = 0;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      scale = 1000;
    else if (unit == "ms")
      scale = 1000000;
    else if (unit == "s")
      scale = 1000000000;
    else if (unit == "m")
      scale = 60LL * 1000000000;
    else if (unit == "h")
      scale = 3600LL * 1000000000;
    else
      return fail<int64_t>("invalid duration");
    // integer part × scale
    int64_t value = 0;
    if (!int_part.empty()) {
      auto n = parse_u64(int_part);
      if (!n || *n > static_cast<uint64_t>(max / scale))
        return fail<int64_t>("duration out of range");
      value = static_cast<int64_t>(*n) * scale;
    }
    // fraction × scale, digit by digit (truncated below 1 ns)
    int64_t place = scale;
    for (char c : frac_part) {
      place /= 10;
      if (place == 0)
        break;
      value += (c - '0') * place;
    }
    if (value > max - total)
      return fail<int64_t>("duration out of range");
    total += value;
  }
  return ok(total);
}

std::string format_duration_ns(int64_t ns) {
  if (ns == 0)
    return "0s";
  struct unit {
    int64_t scale;
    const char* name;
  };
  static constexpr unit units[] = {{3600LL * 1000000000, "h"},
                                   {60LL * 1000000000, "m"},
                                   {1000000000, "s"},
                                   {1000000, "ms"},
                                   {1000, "us"},
                                   {1, "ns"}};
  for (const auto& u : units)
    if (ns % u.scale == 0)
      return std::to_string(ns / u.scale) + u.name;
  return std::to_string(ns) + "ns";
}

parsed<int64_t> parse_byte_size(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_digit(s[i]))
    ++i;
  if (i == 0)
    return fail<int64_t>("invalid byte size");
  auto digits = s.substr(0, i);
  auto rest = s.substr(i);
  int shift = 0;
  if (!rest.empty()) {
    char u = lower(rest[0]);
    if (u == 'k' || u == 'm' || u == 'g' || u == 'b') {
      shift = u == 'k' ? 10 : u == 'm' ? 20 : u == 'g' ? 30 : 0;
      rest.remove_prefix(1);
    }
    if (!rest.empty() && lower(rest[0]) == 'b')
      rest.remove_prefix(1);
    if (!rest.empty())
      return fail<int64_t>("invalid byte size");
  }
  auto n = parse_u64(digits);
  constexpr auto max
    = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!n || *n > (max >> shift))
    return fail<int64_t>("byte size out of range");
  return ok(static_cast<int64_t>(*n << shift));
}

parsed<service_port> parse_port_spec(std::string_view s) {
  service_port p;
  // protocol
  auto slash = s.rfind('/');
  if (slash != std::string_view::npos) {
    auto proto = s.substr(slash + 1);
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      return fail<service_port>("unsupported protocol");
    p.protocol = std::string(proto);
    s = s.substr(0, slash);
  }
  // bracketed IPv6 host ip
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size()
        || s[close + 1] != ':')
      return fail<service_port>("invalid port spec");
    p.host_ip = std::string(s.substr(1, close - 1));
    if (p.host_ip.empty())
      return fail<service_port>("invalid port spec");
    s = s.substr(close + 2);
    auto colon = s.find(':');
    if (colon == std::string_view::npos)
      return fail<service_port>("invalid port spec");
    auto host = s.substr(0, colon);
    auto cont = parse_range(s.substr(colon + 1));
    if (!cont)
      return fail<service_port>(cont.error);
    p.container = *cont;
    if (!host.empty()) {
      auto h = parse_range(host);
      if (!h)
        return fail<service_port>(h.error);
      p.host = *h;
    }
  } else {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
      auto colon = s.find(':', start);
      parts.push_back(s.substr(start, colon - start));
      if (colon == std::string_view::npos)
        break;
      start = colon + 1;
    }
    if (parts.size() > 3)
      return fail<service_port>("invalid port spec");
    auto cont = parse_range(parts.back());
    if (!cont)
      return fail<service_port>(cont.error);
    p.container = *cont;
    if (parts.size() == 1) {
      p.host = p.container;
    } else {
      if (parts.size() == 3) {
        if (parts[0].empty())
          return fail<service_port>("invalid port spec");
        p.host_ip = std::string(parts[0]);
      }
      auto host = parts[parts.size() - 2];
      if (!host.empty()) {
        auto h = parse_range(host);
        if (!h)
          return fail<service_port>(h.error);
        p.host = *h;
      }
    }
  }
  for (char c : p.host_ip)
    if (!(is_alnum(c) || c == '.' || c == ':' || c == '%'))
      return fail<service_port>("invalid port spec");
  if (p.host.first != 0 && p.host.size() != p.container.size()
      && p.container.size() != 1)
    return fail<service_port>("port ranges differ in size");
  return ok(std::move(p));
}

std::string format_port_spec(const service_port& p) {
  std::string s;
  if (!p.host_ip.empty()) {
    if (p.host_ip.find(':') != std::string::npos)
      s += "[" + p.host_ip + "]:";
    else
      s += p.host_ip + ":";
  }
  if (p.host.first != 0)
    s += format_range(p.host);
  s += ":" + format_range(p.container);
  if (p.protocol != "tcp")
    s += "/" + p.protocol;
  return s;
}

parsed<service_volume> parse_volume_spec(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    auto colon = s.find(':', start);
    parts.push_back(s.substr(start, colon - start));
    if (colon == std::string_view::npos)
      break;
    start = colon + 1;
  }
  if (parts.size() > 3)
    return fail<service_volume>("invalid volume spec");
  service_volume v;
  v.kind = mount_kind::volume;
  if (parts.size() == 1) {
    v.target = std::string(parts[0]);
  } else {
    auto source = parts[0];
    v.target = std::string(parts[1]);
    if (source.empty())
      return fail<service_volume>("invalid volume spec");
    if (source[0] == '/' || source[0] == '.' || source[0] == '~') {
      v.kind = mount_kind::bind;
    } else if (!is_object_name(source)) {
      return fail<service_volume>("invalid volume name");
    }
    v.source = std::string(source);
    if (parts.size() == 3) {
      v.mode = std::string(parts[2]);
      if (v.mode.empty())
        return fail<service_volume>("invalid volume spec");
      size_t o = 0;
      while (o <= v.mode.size()) {
        auto comma = v.mode.find(',', o);
        auto opt = std::string_view(v.mode).substr(o, comma - o);
        if (opt == "ro")
          v.read_only = true;
        if (comma == std::string::npos)
          break;
        o = comma + 1;
      }
    }
  }
  if (v.target.empty() || v.target[0] != '/')
    return fail<service_volume>("volume target must be an absolute path");
  return ok(std::move(v));
}

std::string format_volume_spec(const service_volume& v) {
  if (v.source.empty())
    return v.target;
  auto s = v.source + ":" + v.target;
  if (!v.mode.empty())
    s += ":" + v.mode;
  return s;
}

std::string camel_to_snake(std::string_view in) {
  // Acronyms first, so "enableIPv6" does not become "enable_i_pv6".
  std::string s(in);
  auto replace_all = [&s](std::string_view from, std::string_view to) {
    for (auto p = s.find(from); p != std::string::npos;
         p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
  };
  replace_all("IPv6", "Ipv6");
  replace_all("IPv4", "Ipv4");
  replace_all("IPs", "Ips");
  std::string out;
  out.reserve(s.size() + 4);
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0) {
      char prev = s[i - 1];
      bool prev_lower = (prev >= 'a' && prev <= 'z') || is_digit(prev);
      bool prev_upper = prev >= 'A' && prev <= 'Z';
      bool next_lower = i + 1 < s.size() && s[i + 1] >= 'a' && s[i + 1] <= 'z';
      if (prev_lower || (prev_upper && next_lower))
        out += '_';
    }
    out += lower(c);
  }
  return out;
}

bool is_object_name(std::string_view s) {
  if (s.empty() || !is_alnum(s[0]))
    return false;
  for (char c : s)
    if (!(is_alnum(c) || c == '_' || c == '.' || c == '-'))
      return false;
  return true;
}

bool is_env_name(std::string_view s) {
  if (s.empty() || is_digit(s[0]))
    return false;
  for (char c : s)
    if (!(is_alnum(c) || c == '_'))
      return false;
  return true;
}

bool is_config_name(std::string_view s) {
  if (s.empty() || is_digit(s[0]) || s[0] == ':')
    return false;
  for (char c : s)
    if (!(is_alnum(c) || c == '_' || c == ':'))
      return false;
  return true;
}

} // namespace bosun::cloud
