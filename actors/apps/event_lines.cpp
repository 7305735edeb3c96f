#include "actors/apps/event_lines.hpp"

#include <caf/send.hpp>
#include <utility>

namespace bosun::apps {

std::string service_object(const std::string& service,
                           const std::string& image) {
  if (service.empty() || image.empty())
    return {};
  return service + " " + image;
}

std::string compact_duration(std::chrono::milliseconds d) {
  auto ms = d.count() < 0 ? 0 : d.count();
  if (ms < 1000)
    return std::to_string(ms) + "ms";
  struct unit {
    int64_t ms;
    const char* suffix;
  };
  static constexpr unit units[] = {{365LL * 86400000, "y"},
                                   {86400000, "d"},
                                   {3600000, "h"},
                                   {60000, "m"},
                                   {1000, "s"}};
  for (const auto& u : units)
    if (ms >= u.ms)
      return std::to_string(ms / u.ms) + u.suffix;
  return "0ms"; // not reached
}

system_log updates_locked(std::chrono::milliseconds retry_in,
                          const std::string& reason) {
  return {"Updates are locked, retrying in " + compact_duration(retry_in)
            + ". Reason: " + reason,
          false};
}

system_log purging_data(int64_t app_id) {
  return {"Purging data for app " + std::to_string(app_id), false};
}

system_log purged_data() {
  return {"Purged data", false};
}

system_log purge_failed(const std::string& why) {
  return {"Error purging data: " + why, true};
}

void send_line(const logs_actor& logs, system_log line) {
  if (logs)
    caf::anon_send(logs, std::move(line));
}

} // namespace bosun::apps
