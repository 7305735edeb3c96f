#pragma once

// Internal to actors/cloud: cloud_sync's state and the functions its files
// share (cloud_sync.cpp: requests, timers, polling, health;
// provisioning.cpp; reporting.cpp).
#include "actors/cloud/cloud_sync.hpp"
#include "actors/cloud/report_build.hpp"
#include "actors/cloud/schedule.hpp"

#include <array>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <map>
#include <optional>
#include <string>

namespace bosun {

struct cloud_sync_state {
  static inline const char* name = "cloud_sync";

  cloud_sync_deps deps;
  cloud_sync_options opts;
  std::chrono::steady_clock::time_point started;

  // Identity: config.json's, then what provisioning settled.
  std::string uuid;
  std::string device_api_key;
  bool provisioned = false;

  // Requests in flight: id → continuation.
  uint64_t next_id = 0;
  std::map<uint64_t, std::function<void(const cloud_reply&)>> pending;
  std::array<uint64_t, 5> epochs{}; // per cloud_timer_kind

  // Polling.
  cloud_schedule::poll_schedule polls; // when, and how many failed
  bool force = false; // the next poll's target is applied with force
  std::string etag;
  std::chrono::steady_clock::time_point last_poll_ok;
  std::optional<target_state> unhanded; // app_manager has not taken it yet
  // From the target's config (cloud_schedule::settings_of).
  bool instant_updates = true;
  bool hardware_metrics = true;
  bool log_control = true;
  std::optional<log_shipping> shipping_sent; // last told to the logs actor

  // What the device should run (as app_manager holds it) and runs.
  bool target_loaded = false;
  std::optional<target_state> target;
  std::optional<apps_view> view;
  std::optional<std::chrono::steady_clock::time_point> applying_since;
  cloud_report::known_images images;

  // Reports.
  cloud_schedule::report_gate gate;
  bool collecting = false;
  std::optional<device_report> accepted; // the last accepted, merged
  report_apps built;                     // apps section of the last view
  host_facts host;                       // as reported (bucketed)
  std::string api_secret;

  cloud_status stats;
};

using cloud_sync_ptr = cloud_sync_actor::stateful_pointer<cloud_sync_state>;

// cloud_sync.cpp
const logger& log_of(cloud_sync_ptr self);
// Sends a request with the device API key (or `bearer` when given).
void cloud_send(cloud_sync_ptr self, cloud_request req,
                std::function<void(const cloud_reply&)> then,
                const std::string& bearer = {});
void arm(cloud_sync_ptr self, cloud_timer_kind kind,
         std::chrono::milliseconds delay);
void start_polling(cloud_sync_ptr self);
std::string describe(const cloud_reply& r); // "HTTP 500: body" / the error
std::string random_hex(cloud_sync_ptr self, size_t n);
// The target's config changes the link's settings (poll interval, instant
// updates, hardware metrics).
void apply_settings(cloud_sync_ptr self, const target_state& t);

// Tells the logs actor where lines go, when that changed: shipping runs
// while the device is provisioned, not in local mode, and the target's
// SUPERVISOR_LOG_CONTROL is not off.
void update_log_shipping(cloud_sync_ptr self);

// provisioning.cpp
void provision(cloud_sync_ptr self);

// initial_config.cpp: once per apiEndpoint (db initialConfigReported), the
// current config vars the cloud's target lacks and that differ from their
// defaults become device config variables; then `then` runs. A failure is
// retried after bootstrapRetryDelay (through provision()).
void report_initial_config(cloud_sync_ptr self, std::function<void()> then);
// Hands the target's config to device_config.
void configure(cloud_sync_ptr self, const target_state& t, bool force);

// reporting.cpp
// Reads the target app_manager holds, every status_interval until it did.
void status_tick(cloud_sync_ptr self);
// Subscribes to app_manager's view (apps_subscribe): it comes at once and
// after each change, as apps_view_changed, handed to on_view.
void watch_apps(cloud_sync_ptr self);
void on_view(cloud_sync_ptr self, apps_view view);
// The apps section from the view and the target (once both are known),
// then a report when one is due.
void update_apps_section(cloud_sync_ptr self);
void host_tick(cloud_sync_ptr self);
void maybe_report(cloud_sync_ptr self);
// A target was handed over: remember its images for old-release entries.
void remember_images(cloud_sync_ptr self, const target_state& t);

} // namespace bosun
