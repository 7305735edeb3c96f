#pragma once

// Waits for a condition with a deadline instead of sleeping a fixed time.
// On timeout, the test fails with `what` and the last state the predicate
// saw (set `last` inside the predicate to describe it).
#include <chrono>
#include <doctest/doctest.h>
#include <functional>
#include <string>
#include <thread>

namespace bosun::test {

inline bool eventually(std::chrono::milliseconds deadline,
                       const std::function<bool(std::string& last)>& pred,
                       const std::string& what = "condition") {
  auto until = std::chrono::steady_clock::now() + deadline;
  std::string last;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (pred(last))
      return true;
    if (std::chrono::steady_clock::now() >= until) {
      FAIL_CHECK("timed out after ", deadline.count(), " ms waiting for ", what,
                 "; last seen: ", last);
      return false;
    }
    // Polling interval, not synchronisation: the predicate decides.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

inline bool eventually(std::chrono::milliseconds deadline,
                       const std::function<bool()>& pred,
                       const std::string& what = "condition") {
  return eventually(
    deadline, [&](std::string&) { return pred(); }, what);
}

} // namespace bosun::test
