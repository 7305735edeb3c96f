#pragma once

// The cloud link's interface (actors/cloud/cloud_sync.hpp): registration,
// target polling and state reports for a managed device.
//
//  - update_request: POST /v1/update. Replies true when a poll was started
//    (or queued behind the one in flight), false when it was ignored (the
//    device is not provisioned yet).
//  - health_atom: the cloud part of /v1/healthy (reference/api.md).
//  - get_atom: counters and the last errors, for telemetry and tests.
//
// The state report's data model lives here too, so that api/cloud can
// encode it and actors can diff it without JSON.
#include "messages/app_manager.hpp" // apps_view_changed
#include "messages/message.hpp"
#include "messages/root.hpp" // health_atom, agent_health

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace bosun {

// -- state report v3 (reference/state.md) ------------------------------------

// A device-level value: null, a boolean, an integer or a string.
using report_value = std::variant<std::monostate, bool, int64_t, std::string>;

struct report_service {
  std::string image;
  std::string status;
  std::optional<int64_t> download_progress; // sent only when set
};

struct report_release {
  std::string update_status;
  std::map<std::string, report_service> services; // by service name
};

struct report_app {
  std::optional<std::string> release_uuid; // the commit it runs, when known
  std::map<std::string, report_release> releases; // by commit
};

using report_apps = std::map<std::string, report_app>; // by app uuid

// A whole report (what the device looks like) or a patch (what to send).
struct device_report {
  std::map<std::string, report_value> device; // api_port, ip_address, …
  std::optional<report_apps> apps;            // absent: not sent / unknown
};

inline bool operator==(const report_service& a, const report_service& b) {
  return std::tie(a.image, a.status, a.download_progress)
         == std::tie(b.image, b.status, b.download_progress);
}
inline bool operator!=(const report_service& a, const report_service& b) {
  return !(a == b);
}
inline bool operator==(const report_release& a, const report_release& b) {
  return a.update_status == b.update_status && a.services == b.services;
}
inline bool operator!=(const report_release& a, const report_release& b) {
  return !(a == b);
}
inline bool operator==(const report_app& a, const report_app& b) {
  return a.release_uuid == b.release_uuid && a.releases == b.releases;
}
inline bool operator!=(const report_app& a, const report_app& b) {
  return !(a == b);
}
inline bool operator==(const device_report& a, const device_report& b) {
  return a.device == b.device && a.apps == b.apps;
}
inline bool operator!=(const device_report& a, const device_report& b) {
  return !(a == b);
}

// -- the actor ----------------------------------------------------------------

// POST /v1/update.
struct update_request {
  bool force = false;  // apply even an unchanged target, over update locks
  bool cancel = false; // accepted; bosun cannot abort a running apply yet
};

struct cloud_status {
  bool provisioned = false;
  std::string uuid;
  uint64_t polls = 0;           // target requests answered or failed
  uint64_t poll_failures = 0;   // of those, failed
  uint32_t failure_streak = 0;  // consecutive failed polls
  uint64_t targets_applied = 0; // handed to app_manager
  uint64_t targets_rejected = 0;
  uint64_t reports_sent = 0;   // accepted by the cloud
  uint64_t reports_failed = 0; // refused or not answered
  std::string last_error;      // of the last failed cloud request
  std::string last_rejection;  // why the last cloud target was refused
  std::optional<int64_t> last_poll_ok_ago_ms; // since the last good poll
  // The wait the schedule chose after the last poll (interval + jitter, or
  // the failure backoff); std::nullopt before the first.
  std::optional<int64_t> poll_delay_ms;
};

// Internal: one request to the API endpoint (its path and query, already
// escaped), as api/cloud/device_http.hpp builds it for the transport.
struct cloud_request {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{59000};
};

// Internal: a cloud request's outcome, from the HTTP transport.
struct cloud_reply {
  uint64_t id = 0;
  int status = 0;    // 0: no answer (error says why)
  std::string error; // transport failure, when status is 0
  std::string body;
  std::string etag;
  std::string retry_after; // the header's raw text
};

enum class cloud_timer_kind : uint8_t { provision, poll, report, status, host };

// Internal: the actor's timers; a stale epoch is ignored.
struct cloud_timer {
  cloud_timer_kind kind = cloud_timer_kind::poll;
  uint64_t epoch = 0;
};

using cloud_sync_actor
  = caf::typed_actor<caf::replies_to<update_request>::with<bool>,
                     caf::replies_to<health_atom>::with<agent_health>,
                     caf::replies_to<caf::get_atom>::with<cloud_status>,
                     // from app_manager (apps_subscribe)
                     caf::reacts_to<apps_view_changed>,
                     // internal
                     caf::reacts_to<cloud_reply>, caf::reacts_to<cloud_timer>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::update_request)
BOSUN_MESSAGE(bosun::cloud_status)
BOSUN_MESSAGE(bosun::cloud_reply)
BOSUN_MESSAGE(bosun::cloud_timer)
