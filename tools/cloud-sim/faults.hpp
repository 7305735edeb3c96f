#pragma once

// Fault injection, one fault per route at a time. Pure: the caller passes the
// clock, so the schedule (counts, flapping) is unit-tested without waiting.
#include "tools/cloud-sim/routes.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace bosun::cloud_sim {

using steady = std::chrono::steady_clock;

enum class fault_mode { status, delay, drop, stall, flap, hangup };

struct fault {
  fault_mode mode = fault_mode::status;
  int status = 503;                     // status; flap's down phase
  std::string body;                     // status: response body (JSON text)
  std::string retry_after;              // status/flap: Retry-After header
  std::chrono::milliseconds delay{0};   // delay; hangup: before closing
  std::chrono::milliseconds up{1000};   // flap: healthy phase
  std::chrono::milliseconds down{1000}; // flap: failing phase
  std::optional<uint64_t> remaining;    // requests left; none = until cleared
  steady::time_point since{};           // when it was set (flap's phase 0)
  uint64_t hits = 0;                    // requests it acted on
};

// drop: closed before the request is handled (the cloud never saw it);
// hangup: handled (recorded, applied), then closed without the answer.
enum class action_kind { none, status, delay, drop, stall, hangup };

// What to do with one request.
struct fault_action {
  action_kind kind = action_kind::none;
  int status = 0;
  std::string body;
  std::string retry_after;
  std::chrono::milliseconds delay{0};
};

class fault_table {
public:
  void set(route r, fault f, steady::time_point now);
  void clear(route r);
  void clear_all();
  const std::optional<fault>& get(route r) const {
    return faults_[index_of(r)];
  }
  bool stalls(route r) const;

  // Decides for one request on `r` and consumes one use of a counted fault.
  fault_action decide(route r, steady::time_point now);

  // Bumped on every set/clear, so stalled requests can tell when to resume.
  uint64_t generation() const {
    return generation_;
  }

private:
  std::array<std::optional<fault>, route_count> faults_;
  uint64_t generation_ = 0;
};

const char* name_of(fault_mode m);
std::optional<fault_mode> fault_mode_from_name(std::string_view name);

} // namespace bosun::cloud_sim
