#include "tools/cloud-sim/barriers.hpp"

namespace bosun::cloud_sim {

outcome barrier_table::arrive(const std::string& name, size_t shard,
                              size_t count, const std::string& tag,
                              const std::string& run, int64_t now_ms,
                              std::string& why) {
  if (count == 0 || shard >= count) {
    why = "shard must be below count (shards are numbered from 0)";
    return outcome::invalid;
  }
  auto [it, fresh] = barriers_.try_emplace(name);
  auto& b = it->second;
  if (fresh) {
    b.count = count;
    b.tag = tag;
  }
  if (b.count != count) {
    why = "barrier " + name + " is for " + std::to_string(b.count)
          + " shards, not " + std::to_string(count);
    return outcome::conflict;
  }
  if (b.tag != tag) {
    why = "barrier " + name + ": shard " + std::to_string(shard) + " runs "
          + tag + ", the others " + b.tag
          + " (every shard needs the same scenario file, --devices, --scale "
            "and --seed)";
    return outcome::conflict;
  }
  if (auto a = b.arrived.find(shard); a != b.arrived.end()) {
    if (a->second.run == run)
      return outcome::ok;
    if (b.open()) {
      why = "barrier " + name + " was passed by shard " + std::to_string(shard)
            + " of another run (" + a->second.run
            + "): reset cloud-sim (POST /reset?everything=1) or use "
              "another --seed";
      return outcome::conflict;
    }
  }
  b.arrived[shard] = {run, now_ms};
  if (!b.open() && b.arrived.size() == b.count)
    b.opened_ms = now_ms;
  return outcome::ok;
}

const barrier* barrier_table::find(const std::string& name) const {
  auto it = barriers_.find(name);
  return it == barriers_.end() ? nullptr : &it->second;
}

} // namespace bosun::cloud_sim
