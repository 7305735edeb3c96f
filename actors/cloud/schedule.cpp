#include "actors/cloud/schedule.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace bosun::cloud_schedule {

duration failure_backoff(uint32_t failures, duration base, duration cap) {
  if (cap <= duration::zero())
    return duration::zero();
  auto d = base;
  for (uint32_t i = 0; i < failures && d < cap; ++i)
    d *= 2;
  return std::min(d, cap);
}

duration next_poll_delay(uint32_t failures, const poll_rules& rules,
                         uint64_t random) {
  if (failures > 0)
    return failure_backoff(failures, rules.backoff_base, rules.interval);
  auto jitter = rules.max_jitter.count() > 0 ? static_cast<int64_t>(
                  random % static_cast<uint64_t>(rules.max_jitter.count()))
                                             : 0;
  return rules.interval + duration{jitter};
}

void poll_schedule::triggered(time_point now) {
  if (in_flight_)
    again_ = true;
  else
    due_ = soonest(now); // replaces the scheduled poll
}

void poll_schedule::started(time_point now) {
  in_flight_ = true;
  last_start_ = now;
  due_.reset();
}

void poll_schedule::finished(time_point now, bool ok, uint64_t random) {
  in_flight_ = false;
  failures_ = ok ? 0 : failures_ + 1;
  if (again_) {
    again_ = false;
    due_ = soonest(now);
  } else {
    due_ = now + next_poll_delay(failures_, rules_, random);
  }
}

report_gate::decision report_gate::decide(time_point now) const {
  decision d;
  if (in_flight_)
    return d; // the answer decides what comes next
  std::optional<time_point> gate;
  for (const auto& start : {last_collect_, last_sent_})
    if (start && (!gate || *start + rules_.spacing > *gate))
      gate = *start + rules_.spacing;
  if (retry_at_ && (!gate || *retry_at_ > *gate))
    gate = retry_at_;
  bool want = changed_ || retry_at_ || silence_due(now);
  if (want) {
    if (!gate || now >= *gate)
      d.collect = true;
    else
      d.wake = gate;
    return d;
  }
  auto quiet = *quiet_since_ + rules_.metrics_hold;
  d.wake = gate && *gate > quiet ? *gate : quiet;
  return d;
}

void report_gate::collecting(time_point now) {
  last_collect_ = now;
  changed_ = false;
}

bool report_gate::should_send(time_point now, bool empty, bool metrics_only) {
  bool held = metrics_only && last_accepted_
              && now < *last_accepted_ + rules_.metrics_hold;
  if (!empty && !held)
    return true;
  // Nothing worth a request: a pending retry has nothing left to say, and
  // a due silence check starts a new quiet period.
  retry_at_.reset();
  failures_ = 0;
  if (silence_due(now))
    quiet_since_ = now;
  return false;
}

void report_gate::accepted(time_point now) {
  in_flight_ = false;
  failures_ = 0;
  retry_at_.reset();
  last_accepted_ = now;
  quiet_since_ = now;
}

void report_gate::failed(time_point now, std::optional<duration> retry_after) {
  in_flight_ = false;
  ++failures_;
  retry_at_ = now
              + (retry_after ? *retry_after
                             : failure_backoff(failures_, rules_.backoff_base,
                                               rules_.backoff_cap));
}

std::optional<duration> parse_retry_after_ms(std::string_view text) {
  auto first = text.find_first_not_of(' ');
  if (first == std::string_view::npos)
    return std::nullopt;
  auto last = text.find_last_not_of(' ');
  auto digits = text.substr(first, last - first + 1);
  if (digits.empty() || digits.size() > 12)
    return std::nullopt;
  int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return duration{n};
}

namespace {

bool falsy(std::string_view v) {
  std::string s(v);
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "false" || s == "0" || s == "no" || s == "off";
}

} // namespace

cloud_settings settings_of(const std::map<std::string, std::string>& config) {
  cloud_settings out;
  if (auto it = config.find("SUPERVISOR_POLL_INTERVAL"); it != config.end())
    if (auto ms = parse_retry_after_ms(it->second); ms && ms->count() > 0)
      out.poll_interval = ms;
  if (auto it = config.find("SUPERVISOR_API_REQUEST_TIMEOUT");
      it != config.end())
    if (auto ms = parse_retry_after_ms(it->second); ms && ms->count() > 0)
      out.api_request_timeout = ms;
  if (auto it = config.find("SUPERVISOR_INSTANT_UPDATE_TRIGGER");
      it != config.end())
    out.instant_updates = !falsy(it->second);
  if (auto it = config.find("SUPERVISOR_HARDWARE_METRICS"); it != config.end())
    out.hardware_metrics = !falsy(it->second);
  if (auto it = config.find("SUPERVISOR_LOG_CONTROL"); it != config.end())
    out.log_control = !falsy(it->second);
  return out;
}

} // namespace bosun::cloud_schedule
