#pragma once

// fleet-sim's side of cloud-sim: its admin API (blocking calls from the
// driver thread, never from an actor), starting a cloud-sim child process
// when no URL is given, and reading its per-route counters.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bosun::fleet {

// cloud-sim's route names (tools/cloud-sim/routes.hpp), in its order.
inline constexpr std::array<const char*, 7> route_names
  = {"register", "state-get",  "state-patch", "log-stream",
     "v7",       "device-key", "other"};

struct route_count {
  uint64_t requests = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t errors = 0; // answered >= 400, or not answered (status 0)
};
using route_counts = std::array<route_count, route_names.size()>;

// Parses GET /counts; nullopt when it is not the expected shape.
std::optional<route_counts> parse_counts(const std::string& body);

// A barrier of the shards as cloud-sim answers POST/GET /barriers/<name>
// (tools/cloud-sim/barriers.hpp): who arrived when (cloud-sim's clock, ms
// since the epoch), who is missing, whether it is open.
struct barrier_state {
  bool open = false;
  std::vector<std::pair<size_t, int64_t>> arrived; // shard, ms
  std::vector<size_t> missing;
};
// nullopt when it is not the expected shape.
std::optional<barrier_state> parse_barrier(const std::string& body);
// {"error":"..."}'s text, else the body as it is.
std::string error_text(const std::string& body);

class cloud {
public:
  // An already running cloud-sim.
  cloud(std::string device_url, std::string admin_url);
  // Starts `binary` on loopback with any free ports; empty `err` on success.
  static std::optional<cloud> start(const std::string& binary,
                                    std::string& err);
  cloud(cloud&& o) noexcept;
  cloud& operator=(cloud&&) = delete;
  cloud(const cloud&) = delete;
  ~cloud(); // stops the child it started (SIGTERM, then reaps it)

  const std::string& url() const {
    return url_;
  }
  // One admin request: the status (-1 when unreachable), the body in `out`.
  int call(const std::string& method, const std::string& target,
           const std::string& body = {}, std::string* out = nullptr) const;
  // The child's CPU seconds (user + system) and RSS; nullopt when
  // cloud-sim is not our child.
  std::optional<std::pair<double, uint64_t>> child_usage() const;

private:
  std::string url_;
  std::string admin_;
  int pid_ = -1;
};

} // namespace bosun::fleet
