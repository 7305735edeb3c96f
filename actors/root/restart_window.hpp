#pragma once

// Decides whether a supervisor may restart a child once more: at most
// `max_restarts` within any `window` (one-for-one, like OTP's intensity and
// period). Pure: the caller passes the time.
#include <chrono>
#include <cstddef>
#include <deque>

namespace bosun {

class restart_window {
public:
  using clock = std::chrono::steady_clock;

  explicit restart_window(std::size_t max_restarts = 5,
                          clock::duration window = std::chrono::seconds(60))
      : max_(max_restarts), window_(window) {}

  // Records a restart at `now` and returns true, or returns false (recording
  // nothing) when that would exceed the limit: the supervisor escalates.
  bool allow(clock::time_point now) {
    while (!times_.empty() && now - times_.front() >= window_)
      times_.pop_front();
    if (times_.size() >= max_)
      return false;
    times_.push_back(now);
    return true;
  }

  std::size_t recent() const {
    return times_.size();
  }

private:
  std::size_t max_;
  clock::duration window_;
  std::deque<clock::time_point> times_;
};

} // namespace bosun
