#pragma once

// The logs actor's history reads (GET /v2/logs/history). Reading and
// filtering up to the cap's worth of the persistent log blocks, so each read
// runs on a worker of its own: a detached actor that answers one job
// (api/logs/history.hpp reads the files) and quits. The logs actor owns the
// workers and lets at most `history_slots`' maximum run at once; a read
// beyond it is answered logs_errc::busy at once, so a flood of requests
// never becomes a flood of threads.
#include "messages/logs.hpp"

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace bosun {

// What a worker reads: the files (oldest first), at most max_bytes of the
// newest of them, and the filter.
struct log_history_job {
  std::vector<std::string> files;
  uint64_t max_bytes = 0;
  log_history_query query;
};

using log_history_worker_actor
  = caf::typed_actor<caf::replies_to<log_history_job>::with<log_history_lines>>;

// `detached`: on a thread of its own (false only in tests on the
// deterministic scheduler).
log_history_worker_actor spawn_history_worker(caf::actor_system& sys,
                                              bool detached);

// How many reads run (pure): take() before spawning a worker, give_back()
// when it answered or failed.
class history_slots {
public:
  explicit history_slots(int max) : max_(max) {}
  bool take() {
    if (running_ >= max_)
      return false;
    ++running_;
    return true;
  }
  void give_back() {
    if (running_ > 0)
      --running_;
  }
  int running() const {
    return running_;
  }

private:
  int max_;
  int running_ = 0;
};

} // namespace bosun

BOSUN_MESSAGE(bosun::log_history_job)
