#pragma once

// Named barriers for fleet-sim's shards (docs/FLEET.md, "`--shard i/n`"):
// n processes on n machines arrive at a barrier named after a step of their
// scenario; it opens when all n have arrived, and stays open. Arriving
// answers at once and a shard polls until the barrier is open, so
// cloud-sim's one io thread never waits for a shard. Pure: the caller
// passes the time.
#include "tools/cloud-sim/model.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace bosun::cloud_sim {

struct barrier_arrival {
  std::string run; // the arriving process's own id: a retry is not a rerun
  int64_t ms = 0;  // when it arrived
};

struct barrier {
  size_t count = 0; // shards that must arrive
  std::string tag;  // what the shards run; every arrival must agree
  std::map<size_t, barrier_arrival> arrived; // by shard index
  std::optional<int64_t> opened_ms;          // when the last one arrived
  bool open() const {
    return opened_ms.has_value();
  }
};

class barrier_table {
public:
  // Shard `shard` of `count` arrives at `name` running `tag`. Arriving
  // again with the same `run` changes nothing (a retried request); a new
  // `run` replaces the shard's arrival while the barrier is closed (the
  // process started again) and is a conflict once it is open (an earlier
  // run passed it: the names collide). invalid: shard ≥ count or count 0;
  // conflict: another count or tag than the barrier's. `why` says which.
  outcome arrive(const std::string& name, size_t shard, size_t count,
                 const std::string& tag, const std::string& run, int64_t now_ms,
                 std::string& why);
  const barrier* find(const std::string& name) const;
  const std::map<std::string, barrier>& all() const {
    return barriers_;
  }
  void clear() {
    barriers_.clear();
  }

private:
  std::map<std::string, barrier> barriers_;
};

} // namespace bosun::cloud_sim
