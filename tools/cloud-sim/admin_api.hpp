#pragma once

// The admin API (JSON over its own port), as a pure dispatcher over the model
// and the fault table: tests and the fleet simulator create fleets and
// devices, set targets, read what devices sent, and inject faults. The
// RESTinio server in main.cpp only forwards requests here. The routes are
// listed in docs/cloud-sim.md. It also holds the shards' barriers
// (barriers.hpp) and counts its own calls by route (GET /admin-calls), so a
// test can tell how often a fleet target was set or a fault posted.
#include "tools/cloud-sim/barriers.hpp"
#include "tools/cloud-sim/faults.hpp"
#include "tools/cloud-sim/model.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace bosun::cloud_sim {

struct admin_reply {
  int status = 200;
  std::string body; // JSON
};

class admin_api {
public:
  // `faults_changed` runs after every fault change (stalled requests resume
  // when their stall is cleared). `wall_ms` is the time barrier arrivals
  // are stamped with (milliseconds since the epoch; tests pass their own).
  admin_api(model& m, fault_table& faults, std::function<void()> faults_changed,
            std::function<int64_t()> wall_ms = system_ms);

  admin_reply handle(const std::string& method, const std::string& path,
                     const std::string& query, const std::string& body,
                     steady::time_point now);

  // Adds the fleets and devices of a state document
  // {"fleets":[...],"devices":[...]}; "" or the first error.
  std::string load_state(const std::string& text);

  static int64_t system_ms();

private:
  // `matched` gets the matched route ("PUT /fleets/*/target"), "" if none.
  admin_reply dispatch(const std::string& method, const std::string& path,
                       const std::string& query, const std::string& body,
                       steady::time_point now, std::string& matched);

  model& m_;
  fault_table& faults_;
  std::function<void()> faults_changed_;
  std::function<int64_t()> wall_ms_;
  barrier_table barriers_;
  std::map<std::string, uint64_t> calls_; // by route, since the last reset
};

} // namespace bosun::cloud_sim
