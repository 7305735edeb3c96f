#pragma once

// cloud_sync's transport over bosun's HTTP client (api/client): TLS for
// https endpoints with the system CA store, keep-alive, the request's
// timeout, the proxy the environment names (api/client/proxy.hpp). Also the
// pure helpers that shape cloud requests.
#include "actors/cloud/cloud_sync.hpp"
#include "api/client/proxy.hpp"

#include <asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace bosun {

// "https://api.balena-cloud.com/some/path" → "https://api.balena-cloud.com":
// cloud paths resolve from the root (reference/state.md). std::nullopt when
// the text is not an http(s) URL with a host.
std::optional<std::string> api_base(std::string_view url);

// The User-Agent cloud requests carry (cloud::user_agent), with the
// Supervisor version bosun implements.
std::string cloud_user_agent(std::string_view bosun_version,
                             std::string_view os_version, bool development);

// How long a pooled keep-alive connection to the cloud may idle before it
// is closed. A device polls every 15 minutes by default and reports at most
// every 10 s while something changes: 30 s keeps a burst of reports on one
// connection and closes it well before a load balancer's or NAT box's idle
// limit would (an ALB's default is 60 s; home routers drop idle TCP after
// minutes), so a poll never meets a connection the peer dropped silently
// (cloud_sync does not resend: that would be a failed attempt).
constexpr std::chrono::milliseconds cloud_idle_timeout{30000};

// A transport that sends on `io`'s thread, through the proxy `env` names
// (https_proxy, no_proxy, …); std::nullopt (with `why`) when `api_endpoint`
// is not usable. Idle connections close after `idle_timeout`.
std::optional<cloud_transport> make_http_transport(
  asio::io_context& io, std::string_view api_endpoint, std::string user_agent,
  std::string* why = nullptr, const http::env_lookup& env = http::process_env,
  std::chrono::milliseconds idle_timeout = cloud_idle_timeout);

} // namespace bosun
