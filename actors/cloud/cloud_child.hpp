#pragma once

// cloud_sync as one of root's children, wired to its outside world: the
// HTTP transport (bosun's client on the agent's io_context through the
// proxy its environment names, unless one is given), randomness (seeded,
// or from std::random_device), the wall clock, the host's facts, and its
// siblings app_manager, api_keys and logs.
#include "actors/cloud/cloud_sync.hpp"
#include "actors/host/host_provider.hpp"
#include "actors/root/root.hpp"
#include "api/client/proxy.hpp"
#include "config/config.hpp"

#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bosun {

// Makes cloud_sync's transport to `api_endpoint`; std::nullopt (with `why`)
// when it cannot.
using cloud_transport_factory = std::function<std::optional<cloud_transport>(
  std::string_view api_endpoint, std::string user_agent, std::string* why)>;

struct cloud_child_args {
  config cfg;             // uuid and deviceApiKey already settled
  std::string api_secret; // the global API key
  std::string os_version; // os-release PRETTY_NAME
  std::string device_type;
  std::shared_ptr<const logger> log;
  // Seeds the random source of every cloud_sync it spawns (poll jitter, new
  // identities); std::nullopt: std::random_device.
  std::optional<uint64_t> seed;
  // Divides cloud_sync's own timings: poll jitter, failure backoff, report
  // spacing and the metrics hold (the config's intervals are the caller's).
  double time_scale = 1;
  std::function<int64_t()> wall_clock_ms;    // empty: the system clock
  std::shared_ptr<const host_provider> host; // null: the real machine
  http::env_lookup proxy_env = http::process_env;
  cloud_transport_factory transport; // empty: make_http_transport
};

child_spec cloud_sync_child(asio::io_context& io, cloud_child_args args);

// `d` divided by `scale` (at least 1 ms when `d` is not zero).
std::chrono::milliseconds scaled_by(std::chrono::milliseconds d, double scale);

} // namespace bosun
