#include "actors/cloud/cloud_child.hpp"

#include "actors/cloud/cloud_sync.hpp"
#include "actors/cloud/http_transport.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#ifndef BOSUN_VERSION
#define BOSUN_VERSION "0.0.0"
#endif

namespace bosun {

std::chrono::milliseconds scaled_by(std::chrono::milliseconds d, double scale) {
  if (d.count() == 0 || scale <= 0 || scale == 1)
    return d;
  auto ms = static_cast<int64_t>(static_cast<double>(d.count()) / scale);
  return std::chrono::milliseconds{std::max<int64_t>(ms, 1)};
}

child_spec cloud_sync_child(asio::io_context& io, cloud_child_args args) {
  auto shared = std::make_shared<const cloud_child_args>(std::move(args));
  // Seeds each cloud_sync instance (root restarts it) from one stream, so a
  // seeded agent draws the same jitter run after run. Used on root's thread
  // only (it spawns its children).
  auto seeds = std::make_shared<std::mt19937_64>(
    shared->seed ? *shared->seed : std::random_device{}());
  return core_child(
    &core_actors::cloud_sync,
    [&io, shared, seeds](caf::actor_system& sys,
                         const core_actors& core) -> cloud_sync_actor {
      const auto& a = *shared;
      std::string why;
      auto ua
        = cloud_user_agent(BOSUN_VERSION, a.os_version, a.cfg.development_mode);
      // Idle connections close sooner when time is compressed, so that
      // they do not idle between scaled polls.
      auto transport
        = a.transport
            ? a.transport(a.cfg.api_endpoint, ua, &why)
            : make_http_transport(io, a.cfg.api_endpoint, ua, &why, a.proxy_env,
                                  scaled_by(cloud_idle_timeout, a.time_scale));
      if (!transport) {
        a.log->error("cloud", "apiEndpoint {}: {}", a.cfg.api_endpoint, why);
        return {};
      }
      cloud_sync_options o;
      o.cfg = a.cfg;
      o.api_secret = a.api_secret;
      o.os_version = a.os_version;
      o.device_type = a.device_type;
      o.transport = std::move(*transport);
      auto rng = std::make_shared<std::mt19937_64>(
        a.seed ? (*seeds)() : std::random_device{}());
      o.random = [rng] { return (*rng)(); };
      o.wall_clock_ms = a.wall_clock_ms ? a.wall_clock_ms : [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
      };
      auto sampler = std::make_shared<host_sampler>(
        a.host ? a.host : real_host_provider(), a.cfg.data_dir);
      o.host = [sampler] { return sampler->sample(); };
      o.max_jitter = scaled_by(o.max_jitter, a.time_scale);
      o.backoff_base = scaled_by(o.backoff_base, a.time_scale);
      o.report_spacing = scaled_by(o.report_spacing, a.time_scale);
      o.metrics_hold = scaled_by(o.metrics_hold, a.time_scale);
      o.log = a.log;
      cloud_sync_deps d;
      d.apps = core.app_manager;
      d.api_keys = core.api_keys;
      d.logs = core.logs;
      d.device_config = core.device_config;
      d.db = core.db;
      return spawn_cloud_sync(sys, std::move(d), std::move(o));
    });
}

} // namespace bosun
