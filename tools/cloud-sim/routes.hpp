#pragma once

// The device-side routes cloud-sim serves; counters and faults are kept per
// route, under these names.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace bosun::cloud_sim {

enum class route {
  register_device, // POST /device/register
  state_get,       // GET /device/v3/<uuid>/state
  state_patch,     // PATCH /device/v3/state
  log_stream,      // POST /device/v2/<uuid>/log-stream
  v7,              // /v7/device..., /v7/device_config_variable
  device_key,      // POST /api-key/device/<id>/device-key
  other,           // anything else (404)
};

inline constexpr std::size_t route_count = 7;

inline constexpr std::array<std::string_view, route_count> route_names
  = {"register", "state-get",  "state-patch", "log-stream",
     "v7",       "device-key", "other"};

inline std::string_view name_of(route r) {
  return route_names[static_cast<std::size_t>(r)];
}

inline std::optional<route> route_from_name(std::string_view name) {
  for (std::size_t i = 0; i < route_count; ++i)
    if (route_names[i] == name)
      return static_cast<route>(i);
  return std::nullopt;
}

inline std::size_t index_of(route r) {
  return static_cast<std::size_t>(r);
}

} // namespace bosun::cloud_sim
