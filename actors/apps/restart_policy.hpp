#pragma once

// The service supervisor's restart policy: whether an exited (or unhealthy)
// container is started again, and after how long.
//
// Pure: no clock, no actors, no I/O. The caller measures how long the
// container ran and arms the timer; this class only remembers what the
// decisions need across exits.
//
// The rules (bosun's, where compose/Docker leave room):
//  - which exits restart (should_restart):
//      always, unless-stopped  every exit, whatever the code (a `docker kill`
//                              from outside too). unless-stopped differs
//                              only in the user's stop, which the supervisor
//                              honours for every mode ("desired running").
//      on-failure              a non-zero exit code (a kill is 137/143).
//      no                      never.
//    An unhealthy container is restarted under always, unless-stopped and
//    on-failure (it is failing), never under no.
//  - how long to wait (backoff_delay): the first restart after `first_delay`
//    (100 ms: "within 1 s of the exit"), then 2 s, 4 s, 8 s, ... doubling,
//    capped at `max_delay` (5 min): 0.1, 2, 4, 8, 16, 32, 64, 128, 256, 300,
//    300, ... seconds.
//  - when to forget: a run of at least `reset_after` (10 min) puts the next
//    restart back to the first delay, whether the container is still running
//    (on_running) or exits after such a run (on_exit).
//  - crash looping: the last `crash_loop_exits` (3) exits in a row each came
//    less than `stable_after` (10 s) after the container started. Cleared as
//    soon as a run reaches 10 s (on_running, or an exit after a longer run)
//    or on reset().
#include "messages/target.hpp"

#include <chrono>
#include <cstdint>

namespace bosun::apps {

struct restart_policy_options {
  std::chrono::milliseconds first_delay{100};
  // The second restart waits 2 × base_delay, the third 4 × base_delay, ...
  std::chrono::milliseconds base_delay{std::chrono::seconds(1)};
  std::chrono::milliseconds max_delay{std::chrono::minutes(5)};
  std::chrono::milliseconds reset_after{std::chrono::minutes(10)};
  std::chrono::milliseconds stable_after{std::chrono::seconds(10)};
  uint32_t crash_loop_exits = 3;
};

// Does this policy restart a container that exited with `exit_code`?
bool should_restart(restart_mode mode, int64_t exit_code);

// The delay before restart number `attempt` since the last reset (0 = the
// first restart): first_delay, then min(base_delay × 2^attempt, max_delay).
std::chrono::milliseconds backoff_delay(const restart_policy_options& opts,
                                        uint32_t attempt);

struct restart_decision {
  bool restart = false;
  std::chrono::milliseconds delay{0}; // when restart: wait this long first
  const char* reason = "";            // for logs: why (not)
};

class restart_policy {
public:
  explicit restart_policy(restart_mode mode = restart_mode::always,
                          restart_policy_options opts = {});

  // The container exited with `exit_code` after running `ran_for`.
  restart_decision on_exit(int64_t exit_code,
                           std::chrono::milliseconds ran_for);

  // The container's healthcheck turned unhealthy after running `ran_for`;
  // the caller stops it and restarts it after the delay when told so.
  restart_decision on_unhealthy(std::chrono::milliseconds ran_for);

  // The container has been running for `ran_for` and still is: clears
  // crash looping from stable_after on, and the backoff from reset_after on.
  // Returns true when that changed anything.
  bool on_running(std::chrono::milliseconds ran_for);

  // Forget every exit (a new container, a user start).
  void reset();

  void set_mode(restart_mode mode) {
    mode_ = mode;
  }

  restart_mode mode() const {
    return mode_;
  }

  const restart_policy_options& options() const {
    return opts_;
  }

  // Restarts decided since the last reset.
  uint32_t consecutive() const {
    return consecutive_;
  }

  // The delay of the last restart decided since the last reset; 0 if none.
  std::chrono::milliseconds backoff() const {
    return backoff_;
  }

  // Exits in a row that each came before stable_after.
  uint32_t short_runs() const {
    return short_runs_;
  }

  bool crash_looping() const {
    return short_runs_ >= opts_.crash_loop_exits;
  }

private:
  restart_decision decide(bool restart, std::chrono::milliseconds ran_for,
                          const char* reason);

  restart_mode mode_;
  restart_policy_options opts_;
  uint32_t consecutive_ = 0;
  std::chrono::milliseconds backoff_{0};
  uint32_t short_runs_ = 0;
};

} // namespace bosun::apps
