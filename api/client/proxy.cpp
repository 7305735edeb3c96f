#include "api/client/proxy.hpp"

#include "api/client/client.hpp"
#include "api/client/wire.hpp"

#include <algorithm>
#include <asio/ip/address.hpp>
#include <cctype>
#include <cstdlib>

namespace bosun::http {

namespace {

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && wire::iequals(s.substr(s.size() - suffix.size()), suffix);
}

std::string_view trim_dots(std::string_view s) {
  while (!s.empty() && s.front() == '.')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == '.')
    s.remove_suffix(1);
  return s;
}

// 1..65535 from decimal digits only.
std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5)
    return std::nullopt;
  unsigned value = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::optional<asio::ip::address> parse_address(std::string_view s) {
  std::error_code ec;
  auto a = asio::ip::make_address(std::string(s), ec);
  if (ec)
    return std::nullopt;
  // ::ffff:10.1.2.3 is 10.1.2.3 for matching.
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::address(
      asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()));
  return a;
}

// Whether `a` lies in `net`/`bits` (same family only).
bool in_prefix(const asio::ip::address& a, const asio::ip::address& net,
               unsigned bits) {
  if (a.is_v4() != net.is_v4())
    return false;
  auto compare = [bits](const auto& x, const auto& y) {
    if (bits > x.size() * 8)
      return false;
    for (unsigned i = 0; i < bits; ++i) {
      unsigned mask = 0x80U >> (i % 8);
      if ((x[i / 8] & mask) != (y[i / 8] & mask))
        return false;
    }
    return true;
  };
  if (a.is_v4())
    return compare(a.to_v4().to_bytes(), net.to_v4().to_bytes());
  return compare(a.to_v6().to_bytes(), net.to_v6().to_bytes());
}

// One no_proxy entry against a target.
bool entry_matches(std::string_view entry, const endpoint& target,
                   const std::optional<asio::ip::address>& target_ip) {
  std::optional<uint16_t> port;
  std::string_view host = entry;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos)
      return false;
    auto rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !(port = parse_port(rest.substr(1))))
        return false; // unreadable: matches nothing
    }
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    auto colon = host.find(':');
    if (!(port = parse_port(host.substr(colon + 1))))
      return false;
    host = host.substr(0, colon);
  }
  if (port && *port != target.port)
    return false;
  if (host.substr(0, 2) == "*.")
    host.remove_prefix(1);
  auto slash = host.find('/');
  if (slash != std::string_view::npos) {
    auto net = parse_address(host.substr(0, slash));
    auto bits_text = host.substr(slash + 1);
    if (!target_ip || !net || bits_text.empty() || bits_text.size() > 3
        || bits_text.find_first_not_of("0123456789") != std::string_view::npos)
      return false;
    // An IPv4 range given as ::ffff:a.b.c.d/n counts 96 bits more.
    unsigned bits = static_cast<unsigned>(std::stoul(std::string(bits_text)));
    if (net->is_v4() && host.find(':') != std::string_view::npos) {
      if (bits < 96)
        return false;
      bits -= 96;
    }
    return in_prefix(*target_ip, *net, bits);
  }
  if (auto ip = parse_address(host))
    return target_ip && *ip == *target_ip;
  if (target_ip)
    return false; // names never match addresses
  auto name = trim_dots(target.host);
  host = trim_dots(host);
  if (host.empty())
    return false;
  if (wire::iequals(name, host))
    return true;
  return name.size() > host.size() && iends_with(name, host)
         && name[name.size() - host.size() - 1] == '.';
}

// The first variable of `names` that is set and not empty.
std::optional<std::pair<std::string, std::string>>
first_set(const env_lookup& env, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto v = env(name);
    if (v && !v->empty())
      return std::make_pair(std::string(name), std::move(*v));
  }
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size())
      return std::nullopt;
    int hi = hex_value(s[i + 1]);
    int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool framing_safe(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3))
         == std::string_view::npos;
}

} // namespace

std::optional<std::string> process_env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr)
    return std::nullopt;
  return std::string(v);
}

bool is_loopback_host(std::string_view host) {
  auto name = trim_dots(host);
  if (wire::iequals(name, "localhost") || iends_with(name, ".localhost"))
    return true;
  auto ip = parse_address(host);
  return ip && ip->is_loopback();
}

bool no_proxy_matches(std::string_view no_proxy, const endpoint& target) {
  auto target_ip = parse_address(target.host);
  std::size_t pos = 0;
  while (pos < no_proxy.size()) {
    auto end = no_proxy.find_first_of(", \t", pos);
    if (end == std::string_view::npos)
      end = no_proxy.size();
    auto entry = no_proxy.substr(pos, end - pos);
    pos = end + 1;
    if (entry.empty())
      continue;
    if (entry == "*" || entry_matches(entry, target, target_ip))
      return true;
  }
  return false;
}

std::optional<proxy_server> parse_proxy_url(std::string_view value,
                                            std::string* why) {
  auto fail = [why](std::string text) -> std::optional<proxy_server> {
    if (why)
      *why = std::move(text);
    return std::nullopt;
  };
  std::string_view rest = value;
  auto sep = rest.find("://");
  if (sep != std::string_view::npos) {
    std::string scheme;
    for (char c : rest.substr(0, sep))
      scheme += lower(c);
    if (scheme == "https")
      return fail("https:// proxies (TLS to the proxy) are not supported; "
                  "use an http:// proxy");
    if (scheme != "http")
      return fail("unsupported proxy scheme '" + scheme
                  + "' (only http:// proxies are supported)");
    rest.remove_prefix(sep + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  proxy_server p;
  auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    auto userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(
      colon == std::string_view::npos ? "" : userinfo.substr(colon + 1));
    if (!user || !password)
      return fail("invalid percent-encoding in the proxy credentials");
    if (!user->empty() || !password->empty())
      p.authorization = "Basic " + base64(*user + ":" + *password);
  }
  std::string_view port;
  std::string problem;
  if (!wire::split_host_port(rest, p.host, port, &problem))
    return fail("the proxy URL: " + problem);
  if (!port.empty()) {
    auto n = parse_port(port);
    if (!n)
      return fail("the proxy URL has an invalid port");
    p.port = *n;
  }
  return p;
}

proxy_setting proxy_for(const endpoint& target, const env_lookup& env) {
  proxy_setting out;
  if (target.type == endpoint::kind::unix_socket
      || is_loopback_host(target.host))
    return out;
  auto var = target.type == endpoint::kind::tls
               ? first_set(
                 env, {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
               : first_set(
                 env, {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"});
  if (!var)
    return out;
  auto no_proxy = first_set(env, {"no_proxy", "NO_PROXY"});
  if (no_proxy && no_proxy_matches(no_proxy->second, target))
    return out;
  out.source = var->first;
  std::string why;
  out.server = parse_proxy_url(var->second, &why);
  if (!out.server)
    out.error = out.source + " is unusable: " + why;
  return out;
}

std::string to_string(const proxy_server& p) {
  auto host
    = p.host.find(':') == std::string::npos ? p.host : "[" + p.host + "]";
  return "http://" + host + ":" + std::to_string(p.port);
}

std::string authority(const endpoint& target) {
  auto host = target.host.find(':') == std::string::npos
                ? target.host
                : "[" + target.host + "]";
  return host + ":" + std::to_string(target.port);
}

std::optional<std::string> connect_request(const endpoint& target,
                                           const proxy_server& via,
                                           std::string_view user_agent) {
  auto where = authority(target);
  if (!framing_safe(where) || where.find_first_of(" \t") != std::string::npos
      || !framing_safe(via.authorization) || !framing_safe(user_agent))
    return std::nullopt;
  std::string out = "CONNECT " + where + " HTTP/1.1\r\nHost: " + where + "\r\n";
  if (!user_agent.empty())
    out.append("User-Agent: ").append(user_agent).append("\r\n");
  if (!via.authorization.empty())
    out += "Proxy-Authorization: " + via.authorization + "\r\n";
  out += "\r\n";
  return out;
}

std::string base64(std::string_view bytes) {
  constexpr std::string_view alphabet
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned n = byte(i) << 16;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    unsigned n = byte(i) << 16 | byte(i + 1) << 8;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += '=';
  }
  return out;
}

} // namespace bosun::http
