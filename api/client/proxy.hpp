#pragma once

// HTTP proxies: which one a target goes through (the usual environment
// variables, read through an injected lookup so the rules are pure) and the
// wire pieces of a CONNECT tunnel. The client (client.hpp) connects through
// client_options::proxy; this file only decides and encodes.
//
// The rules, curl's where they agree with a device agent's needs:
// - https targets: https_proxy, then HTTPS_PROXY; http targets: http_proxy,
//   then HTTP_PROXY (curl ignores upper-case HTTP_PROXY, a CGI concern that
//   does not apply here); then all_proxy, ALL_PROXY. The lower-case name wins
//   when both are set (curl). An empty value counts as unset.
// - no_proxy, then NO_PROXY: entries separated by commas or blanks. "*"
//   sends everything direct. "example.com", ".example.com" and
//   "*.example.com" all match example.com and its subdomains. An IP address
//   matches that address only, "10.0.0.0/8" (or an IPv6 prefix) a range;
//   names never match addresses (nothing is resolved to decide). An entry
//   with a port ("host:3000", "[::1]:3000") matches that port only.
// - Unix sockets never use a proxy, and neither do loopback targets
//   (localhost, *.localhost, 127.0.0.0/8, ::1): unlike curl, which sends
//   them to the proxy unless no_proxy names them. The proxy's loopback is
//   not ours, so such a request could never arrive; it also keeps tests that
//   run a cloud simulator on 127.0.0.1 independent of the machine's proxy.
// - A proxy is "http://[user[:password]@]host[:port]" (a value without a
//   scheme means http://; a path is ignored). The port defaults to 1080, as
//   in curl. User and password are percent-decoded and sent as
//   "Proxy-Authorization: Basic". https:// proxies (TLS to the proxy) and
//   SOCKS are not supported: a value naming one is an error, reported on
//   every request rather than silently ignored (going direct could break a
//   network's policy and would hide the mistake).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace bosun::http {

struct endpoint;

struct proxy_server {
  std::string host; // name or address, IPv6 without brackets
  uint16_t port = 1080;
  // The Proxy-Authorization value ("Basic dXNlcjpwYXNz"), empty without
  // credentials.
  std::string authorization;
};

// What a client does about proxies (client_options::proxy).
struct proxy_setting {
  std::optional<proxy_server> server; // std::nullopt: connect directly
  std::string source; // the variable it came from ("https_proxy"), if any
  // Set when that variable is unusable: every request then fails with
  // errc::refused and this text (which never repeats the value: it may hold
  // a password).
  std::string error;
};

// Looks up an environment variable; std::nullopt when unset.
using env_lookup
  = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
std::optional<std::string> process_env(std::string_view name);

// The proxy for `target` under `env`, per the rules above.
proxy_setting proxy_for(const endpoint& target, const env_lookup& env);

// Parses one proxy variable's value; std::nullopt with `why` set when it is
// not usable (`why` never repeats the value).
std::optional<proxy_server> parse_proxy_url(std::string_view value,
                                            std::string* why = nullptr);

// Whether a no_proxy value sends `target` (tcp or tls) direct.
bool no_proxy_matches(std::string_view no_proxy, const endpoint& target);

// localhost, *.localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x.y.z).
bool is_loopback_host(std::string_view host);

// "http://host:port" (IPv6 in brackets), without credentials: how error
// messages name the proxy.
std::string to_string(const proxy_server& p);

// "host:port" of `target` (IPv6 in brackets, the port always present): the
// CONNECT request's target and Host header.
std::string authority(const endpoint& target);

// The CONNECT request that asks `via` for a tunnel to `target`, with
// Proxy-Authorization when `via` has credentials and User-Agent when
// `user_agent` is not empty. std::nullopt when a field holds CR, LF or NUL.
std::optional<std::string> connect_request(const endpoint& target,
                                           const proxy_server& via,
                                           std::string_view user_agent);

// RFC 4648 base64, with padding.
std::string base64(std::string_view bytes);

} // namespace bosun::http
