// --shard i/n: the shards step together. Before each step, after shard 0
// set the fleet's target and at the end, every shard arrives at a barrier
// in cloud-sim (POST /barriers/<name>, tools/cloud-sim/barriers.hpp) and
// polls it (GET) until all n arrived. cloud-sim answers at once rather
// than holding the request: its admin API and the device API share one io
// thread, and a shard may wait minutes for a slower one's `wait` step.
// While it waits, a shard keeps pumping: its open stages are probed (their
// convergence times stay right), samples are taken, and due actions run
// (shard 0 clears a timed fault on time).
#include "tools/fleet-sim/runner.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace bosun::fleet {

using namespace std::chrono_literals;

namespace {

int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f s", s);
  return buf;
}

std::string list(const std::vector<size_t>& xs) {
  std::string out;
  for (auto x : xs)
    out += (out.empty() ? "" : ", ") + std::to_string(x);
  return out;
}

} // namespace

clock_type::duration runner::longest(const step& st) const {
  switch (st.kind) {
    case step_kind::wait:
      return length(st, 3600);
    case step_kind::sleep:
      return length(st);
    default:
      return {};
  }
}

bool runner::sync(const std::string& key, const std::string& what, size_t step,
                  clock_type::duration allow) {
  if (!sharded())
    return true;
  barrier_record br;
  br.name = std::to_string(fleet_) + "-" + key;
  br.what = what;
  br.step = step;
  br.arrived_s = since_start();
  br.arrived_ms = epoch_ms();
  br.passed_s = -1;
  auto path = "/barriers/" + br.name;
  auto body = R"({"shard":)" + std::to_string(o_.part.index) + R"(,"count":)"
              + std::to_string(o_.part.count) + R"(,"tag":")" + tag_
              + R"(","run":")" + run_id_ + R"("})";
  auto timeout = allow
                 + std::chrono::duration_cast<clock_type::duration>(
                   std::chrono::duration<double>(o_.barrier_timeout_s));
  std::optional<barrier_state> seen;
  std::string refused;
  bool arrived = false;
  clock_type::time_point next_poll{};
  pump_until(clock_type::now() + timeout, false, [&] {
    auto now = clock_type::now();
    if (now < next_poll)
      return false;
    next_poll = now + 100ms; // n shards: 10·n requests a second at most
    std::string out;
    int st = arrived ? cloud_.call("GET", path, "", &out)
                     : cloud_.call("POST", path, body, &out);
    if (st == 200) {
      arrived = true;
      seen = parse_barrier(out);
      if (!seen)
        refused = "unexpected answer " + out;
      return !seen || seen->open;
    }
    if (st == 400 || st == 409 || (st == 404 && !arrived)) {
      refused = std::to_string(st) + " " + error_text(out);
      return true;
    }
    // Unreachable (-1): again until the deadline. 404 after arriving:
    // cloud-sim forgot its barriers (POST /reset?everything): arrive again.
    arrived = arrived && st != 404;
    return false;
  });
  auto prefix = "barrier " + br.name + " (" + what + "): ";
  if (seen && seen->open && refused.empty()) {
    br.ok = true;
    br.passed_s = since_start();
    br.passed_ms = epoch_ms();
    auto [first, last] = std::minmax_element(
      seen->arrived.begin(), seen->arrived.end(),
      [](const auto& a, const auto& b) { return a.second < b.second; });
    if (first != seen->arrived.end()) {
      br.spread_s = static_cast<double>(last->second - first->second) / 1000;
      br.last_shard = last->first;
    }
    res_.barriers.push_back(br);
    event(prefix + "passed after " + secs(br.passed_s - br.arrived_s)
          + "; the shards arrived within " + secs(br.spread_s)
          + ", the last shard " + std::to_string(br.last_shard));
    return true;
  }
  res_.barriers.push_back(br);
  res_.ok = false;
  if (!refused.empty())
    error(prefix + "cloud-sim refused it: " + refused);
  else if (!seen)
    error(prefix + "cloud-sim did not answer within "
          + secs(since_start() - br.arrived_s));
  else
    error(prefix + "shard(s) " + list(seen->missing) + " of "
          + std::to_string(o_.part.count) + " did not arrive within "
          + secs(since_start() - br.arrived_s) + " (--barrier-timeout-s "
          + secs(o_.barrier_timeout_s)
          + " beyond what the step before may take); giving up");
  return false;
}

} // namespace bosun::fleet
