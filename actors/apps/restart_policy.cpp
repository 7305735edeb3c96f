#include "actors/apps/restart_policy.hpp"

#include <algorithm>

namespace bosun::apps {

using std::chrono::milliseconds;

bool should_restart(restart_mode mode, int64_t exit_code) {
  switch (mode) {
    case restart_mode::always:
    case restart_mode::unless_stopped:
      return true;
    case restart_mode::on_failure:
      return exit_code != 0;
    case restart_mode::no:
      return false;
  }
  return false;
}

milliseconds backoff_delay(const restart_policy_options& opts,
                           uint32_t attempt) {
  if (attempt == 0)
    return std::min(opts.first_delay, opts.max_delay);
  // Double without overflowing: stop as soon as the cap is reached.
  auto delay = opts.base_delay;
  for (uint32_t i = 0; i < attempt && delay < opts.max_delay; ++i)
    delay *= 2;
  return std::min(delay, opts.max_delay);
}

restart_policy::restart_policy(restart_mode mode, restart_policy_options opts)
    : mode_(mode), opts_(opts) {}

restart_decision restart_policy::decide(bool restart, milliseconds ran_for,
                                        const char* reason) {
  if (ran_for >= opts_.reset_after) {
    consecutive_ = 0;
    backoff_ = milliseconds{0};
  }
  if (ran_for < opts_.stable_after)
    ++short_runs_;
  else
    short_runs_ = 0;
  restart_decision out;
  out.reason = reason;
  if (!restart)
    return out;
  out.restart = true;
  out.delay = backoff_delay(opts_, consecutive_);
  ++consecutive_;
  backoff_ = out.delay;
  return out;
}

restart_decision restart_policy::on_exit(int64_t exit_code,
                                         milliseconds ran_for) {
  auto restart = should_restart(mode_, exit_code);
  const char* reason = "";
  switch (mode_) {
    case restart_mode::always:
      reason = "restart policy always";
      break;
    case restart_mode::unless_stopped:
      reason = "restart policy unless-stopped";
      break;
    case restart_mode::on_failure:
      reason = restart ? "non-zero exit under restart policy on-failure"
                       : "exit code 0 under restart policy on-failure";
      break;
    case restart_mode::no:
      reason = "restart policy no";
      break;
  }
  return decide(restart, ran_for, reason);
}

restart_decision restart_policy::on_unhealthy(milliseconds ran_for) {
  if (mode_ == restart_mode::no)
    return decide(false, ran_for, "unhealthy, restart policy no");
  return decide(true, ran_for, "unhealthy");
}

bool restart_policy::on_running(milliseconds ran_for) {
  bool changed = false;
  if (ran_for >= opts_.stable_after && short_runs_ != 0) {
    short_runs_ = 0;
    changed = true;
  }
  if (ran_for >= opts_.reset_after
      && (consecutive_ != 0 || backoff_ != milliseconds{0})) {
    consecutive_ = 0;
    backoff_ = milliseconds{0};
    changed = true;
  }
  return changed;
}

void restart_policy::reset() {
  consecutive_ = 0;
  backoff_ = milliseconds{0};
  short_runs_ = 0;
}

} // namespace bosun::apps
