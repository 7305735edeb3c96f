#pragma once

// cloud_sync: the device's link to its cloud (reference/state.md), spawned
// only on a managed device (apiEndpoint set).
//
// Owns: provisioning (register, key exchange, the config.json rewrite),
// target polling (immediate first poll, interval + jitter, If-None-Match,
// backoff on failures, POST /v1/update), handing new targets to
// app_manager (which stores them before applying), and state reports
// (diffed against the last accepted one, throttled, retried).
// Reads: app_manager's apps view, which app_manager sends when it changed
// (apps_subscribe at start; the source of the apps section), the target
// app_manager holds (once, at start), the host's addresses and metrics
// every host_interval.
// Hands the target's config to device_config (also in local mode: cloud
// config still applies there), and reports the device's current config to
// the cloud once per apiEndpoint before the first poll (host.md §7).
// Answers: update_request, health_atom (the cloud part of /v1/healthy),
// get_atom (cloud_status).
// Never: applies anything itself, stores targets (app_manager does),
// touches JSON (api/cloud) or sockets (the injected transport does).
#include "actors/cloud/host_facts.hpp"
#include "actors/logger.hpp"
#include "config/config.hpp"
#include "messages/api_keys.hpp"
#include "messages/app_manager.hpp"
#include "messages/cloud.hpp"
#include "messages/db.hpp"
#include "messages/device_config.hpp"
#include "messages/logs.hpp"

#include <caf/actor_system.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bosun {

// Sends a request; `done` runs exactly once, on any thread, with the
// answer or the failure (cloud_reply::id is filled in by the caller).
using cloud_transport
  = std::function<void(cloud_request, std::function<void(cloud_reply)>)>;

struct cloud_sync_options {
  // config.json's settings: apiEndpoint, uuid, deviceApiKey, apiKey,
  // applicationId, registered_at, deviceId, the intervals, config_path.
  config cfg;
  std::string api_secret;  // the global API key, until api_keys answers
  std::string os_version;  // os-release PRETTY_NAME
  std::string device_type; // the slug registration sends
  cloud_transport transport;
  std::function<uint64_t()> random;       // jitter, new identities
  std::function<int64_t()> wall_clock_ms; // registered_at
  std::function<host_facts()> host;       // addresses and metrics
  // Retries the first read of app_manager's target (not answered).
  std::chrono::milliseconds status_interval{1000};
  std::chrono::milliseconds host_interval{30000};
  std::chrono::milliseconds backoff_base{15000};
  std::chrono::milliseconds max_jitter{60000};
  std::chrono::milliseconds report_spacing{10000};
  std::chrono::milliseconds metrics_hold{300000};
  std::shared_ptr<const logger> log;
};

struct cloud_sync_deps {
  app_manager_actor apps;
  api_keys_actor api_keys; // optional: the current global key
  logs_actor logs;         // optional: system lines, log shipping settings
  // Optional: the target's config goes there; with db, the current config
  // is reported once per apiEndpoint after provisioning.
  device_config_actor device_config;
  db_actor db;
};

cloud_sync_actor spawn_cloud_sync(caf::actor_system& sys, cloud_sync_deps deps,
                                  cloud_sync_options opts);

} // namespace bosun
