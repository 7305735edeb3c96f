#include "tools/cloud-sim/faults.hpp"

#include <array>

namespace bosun::cloud_sim {

namespace {

constexpr std::array<const char*, 6> mode_names
  = {"status", "delay", "drop", "stall", "flap", "hangup"};

} // namespace

const char* name_of(fault_mode m) {
  return mode_names[static_cast<size_t>(m)];
}

std::optional<fault_mode> fault_mode_from_name(std::string_view name) {
  for (size_t i = 0; i < mode_names.size(); ++i)
    if (name == mode_names[i])
      return static_cast<fault_mode>(i);
  return std::nullopt;
}

void fault_table::set(route r, fault f, steady::time_point now) {
  f.since = now;
  f.hits = 0;
  faults_[index_of(r)] = std::move(f);
  ++generation_;
}

void fault_table::clear(route r) {
  faults_[index_of(r)].reset();
  ++generation_;
}

void fault_table::clear_all() {
  for (auto& f : faults_)
    f.reset();
  ++generation_;
}

bool fault_table::stalls(route r) const {
  auto& f = faults_[index_of(r)];
  return f && f->mode == fault_mode::stall;
}

fault_action fault_table::decide(route r, steady::time_point now) {
  auto& slot = faults_[index_of(r)];
  fault_action a;
  if (!slot)
    return a;
  auto& f = *slot;
  switch (f.mode) {
    case fault_mode::status:
      a.kind = action_kind::status;
      a.status = f.status;
      a.body = f.body;
      a.retry_after = f.retry_after;
      break;
    case fault_mode::delay:
      a.kind = action_kind::delay;
      a.delay = f.delay;
      break;
    case fault_mode::drop:
      a.kind = action_kind::drop;
      break;
    case fault_mode::stall:
      a.kind = action_kind::stall;
      break;
    case fault_mode::hangup:
      a.kind = action_kind::hangup;
      a.delay = f.delay;
      break;
    case fault_mode::flap: {
      // Healthy for `up`, then failing for `down`, repeating from when the
      // fault was set.
      auto period = f.up + f.down;
      auto phase = period.count() > 0
                     ? std::chrono::duration_cast<std::chrono::milliseconds>(
                         now - f.since)
                         % period
                     : std::chrono::milliseconds(0);
      if (phase < f.up)
        return a; // healthy: neither a hit nor a use
      a.kind = action_kind::status;
      a.status = f.status;
      a.body = f.body;
      a.retry_after = f.retry_after;
      break;
    }
  }
  ++f.hits;
  if (f.remaining && --*f.remaining == 0) {
    slot.reset();
    ++generation_;
  }
  return a;
}

} // namespace bosun::cloud_sim
