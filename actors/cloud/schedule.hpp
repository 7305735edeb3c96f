#pragma once

// When the cloud link talks to the cloud (reference/state.md "Polling" and
// "When a report is sent"). Pure: time is passed in, randomness too.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace bosun::cloud_schedule {

using duration = std::chrono::milliseconds;
using time_point = std::chrono::steady_clock::time_point;

// The wait after `failures` (≥ 1) consecutive failures: base·2^failures,
// capped at `cap` (the poll interval): 30 s, 60 s, 120 s, … with the
// default 15 s base.
duration failure_backoff(uint32_t failures, duration base, duration cap);

struct poll_rules {
  duration interval{900000};    // appUpdatePollInterval
  duration max_jitter{60000};   // a success adds [0, max_jitter)
  duration backoff_base{15000}; // failure_backoff's base
};

// The wait before the next target poll: after a success (failures == 0)
// the interval plus a jitter drawn from `random`; after failures,
// failure_backoff capped at the interval.
duration next_poll_delay(uint32_t failures, const poll_rules& rules,
                         uint64_t random);

// The target polls' timeline (reference/state.md "Polling", /v1/update):
// one poll at a time; after an answered poll (good or not) the next periodic
// one comes next_poll_delay() later; a trigger replaces the next scheduled
// poll: it goes at once, but never within `min_gap` of the previous poll's
// start; a trigger while a poll is out polls again after its answer (the
// cloud may have answered from before the change it announces), with the
// same gap.
//
// Use: start(now) for the first poll or triggered(now) on /v1/update; poll
// when due() has come (started(now)), report the outcome with finished().
class poll_schedule {
public:
  explicit poll_schedule(poll_rules rules = {}) : rules_(rules) {}

  // The first poll, at `at`.
  void start(time_point at) {
    due_ = at;
  }
  void triggered(time_point now);
  void started(time_point now);
  // The poll was answered: `ok` (200, 304) or not (any other status, a
  // network error, a timeout); `random` draws the jitter.
  void finished(time_point now, bool ok, uint64_t random);

  // When the next poll goes; none while one is out (or before start()).
  std::optional<time_point> due() const {
    return in_flight_ ? std::nullopt : due_;
  }
  bool in_flight() const {
    return in_flight_;
  }
  uint32_t failures() const {
    return failures_;
  }
  // The target's SUPERVISOR_POLL_INTERVAL; applies from the next answer.
  void set_interval(duration interval) {
    rules_.interval = interval;
  }

  static constexpr duration min_gap{1000};

private:
  time_point soonest(time_point now) const {
    return last_start_ && *last_start_ + min_gap > now ? *last_start_ + min_gap
                                                       : now;
  }

  poll_rules rules_;
  bool in_flight_ = false;
  bool again_ = false; // triggered while in flight
  uint32_t failures_ = 0;
  std::optional<time_point> last_start_;
  std::optional<time_point> due_;
};

struct report_rules {
  duration spacing{10000};       // at most one collection per 10 s
  duration metrics_hold{300000}; // metrics-only diffs wait this long
  duration backoff_base{15000};  // failure_backoff's base
  duration backoff_cap{900000};  // the poll interval
};

// The state report's throttle: at most one collect-and-send per `spacing`,
// counted from the start of the previous collection and of the previous
// request, whatever became of it (answered, refused, timed out, closed, 5xx),
// one request in flight, retries after failure_backoff (or the cloud's
// Retry-After), metrics-only changes held back for `metrics_hold` since the
// last accepted report, and a check after `metrics_hold` of silence.
//
// Use: on every change call changed(); then (and when a wake time passes)
// ask decide(now). When it says collect: collecting(now), build the report
// and its diff, and ask should_send(now, …); if true, send it (sent(now)) and
// report the outcome with accepted() or failed().
class report_gate {
public:
  explicit report_gate(report_rules rules = {}) : rules_(rules) {}

  struct decision {
    bool collect = false;
    std::optional<time_point> wake; // look again then (when not collecting)
  };

  // Something may now differ from the last accepted report.
  void changed() {
    changed_ = true;
  }
  decision decide(time_point now) const;
  void collecting(time_point now);
  // Whether the diff just built should go out. `empty`: nothing differs;
  // `metrics_only`: only metric keys differ.
  bool should_send(time_point now, bool empty, bool metrics_only);
  // The request goes out now (possibly a while after collecting(): the
  // global key is asked for in between).
  void sent(time_point now) {
    in_flight_ = true;
    last_sent_ = now;
  }
  void accepted(time_point now);
  // A failed send; `retry_after` (the cloud's header) replaces the backoff.
  void failed(time_point now, std::optional<duration> retry_after);

  // The poll interval changed (the target's SUPERVISOR_POLL_INTERVAL).
  void set_backoff_cap(duration cap) {
    rules_.backoff_cap = cap;
  }

  bool in_flight() const {
    return in_flight_;
  }
  uint32_t failures() const {
    return failures_;
  }
  std::optional<time_point> retry_at() const {
    return retry_at_;
  }

private:
  bool silence_due(time_point now) const {
    return !quiet_since_ || now >= *quiet_since_ + rules_.metrics_hold;
  }

  report_rules rules_;
  bool changed_ = true; // the first report describes everything
  bool in_flight_ = false;
  uint32_t failures_ = 0;
  std::optional<time_point> last_collect_;
  std::optional<time_point> last_sent_;
  std::optional<time_point> last_accepted_;
  // The last accepted report, or the last silence check that found nothing
  // to send: the 300 s silence timer counts from here.
  std::optional<time_point> quiet_since_;
  std::optional<time_point> retry_at_;
};

// Retry-After as balena reads it: an integer, taken as milliseconds (a
// quirk: the header means seconds). std::nullopt when absent or not an
// integer.
std::optional<duration> parse_retry_after_ms(std::string_view text);

// The cloud link's settings a target's config may carry (prefixes already
// stripped): SUPERVISOR_POLL_INTERVAL and SUPERVISOR_API_REQUEST_TIMEOUT
// (ms, positive integers),
// SUPERVISOR_INSTANT_UPDATE_TRIGGER, SUPERVISOR_HARDWARE_METRICS and
// SUPERVISOR_LOG_CONTROL (false/0/no/off turn them off). Absent or
// unreadable values keep the defaults.
struct cloud_settings {
  std::optional<duration> poll_interval;
  std::optional<duration> api_request_timeout;
  bool instant_updates = true;
  bool hardware_metrics = true;
  bool log_control = true; // ship logs to the cloud
};
cloud_settings settings_of(const std::map<std::string, std::string>& config);

} // namespace bosun::cloud_schedule
