#pragma once

// The admin API (JSON over its own port), as a pure dispatcher over the model
// and the fault table: tests and the fleet simulator create fleets and
// devices, set targets, read what devices sent, and inject faults. The
// RESTinio server in main.cpp only forwards requests here. The routes are
// listed in docs/cloud-sim.md.
#include "tools/cloud-sim/faults.hpp"
#include "tools/cloud-sim/model.hpp"

#include <functional>
#include <string>

namespace bosun::cloud_sim {

struct admin_reply {
  int status = 200;
  std::string body; // JSON
};

class admin_api {
public:
  // `faults_changed` runs after every fault change (stalled requests resume
  // when their stall is cleared).
  admin_api(model& m, fault_table& faults,
            std::function<void()> faults_changed);

  admin_reply handle(const std::string& method, const std::string& path,
                     const std::string& query, const std::string& body,
                     steady::time_point now);

  // Adds the fleets and devices of a state document
  // {"fleets":[...],"devices":[...]}; "" or the first error.
  std::string load_state(const std::string& text);

private:
  model& m_;
  fault_table& faults_;
  std::function<void()> faults_changed_;
};

} // namespace bosun::cloud_sim
