#pragma once

// JSON of the device's provisioning calls (reference/state.md
// "Provisioning") and the config.json edit that records their outcome.
// Every decoder treats its input as hostile: it never asserts or throws.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bosun::cloud {

// POST /device/register body.
struct register_request {
  std::optional<int64_t> application; // applicationId
  std::string uuid;
  std::string device_type;
  std::string api_key; // the device API key the device will use
  std::string supervisor_version;
  std::string os_version;
  std::string os_variant; // "prod" | "dev"
  std::string mac_address;
};

// {"application":…,"uuid":…,"device_type":…,"api_key":…,
//  "supervisor_version":…,"os_version":…,"os_variant":…,"mac_address":…}
// (application omitted when unknown, os_version/mac_address when empty).
std::string encode_register(const register_request& r);

// The device id of a 201 answer ({"id":N,…}); std::nullopt when the body
// has none.
std::optional<int64_t> decode_registered_id(std::string_view body);

// GET /v7/device?$select=id&$filter=… answer ({"d":[{"id":N}]}): the first
// device's id; std::nullopt when `d` is empty or the body is not that shape.
std::optional<int64_t> decode_device_query_id(std::string_view body);

// POST /api-key/device/<id>/device-key body: {"apiKey":"<key>"}.
std::string encode_device_key(const std::string& key);

// POST /v7/device_config_variable's body (the initial config report,
// reference/host.md §7): {"value":"<v>","device":<id>,"name":"<name>"}.
std::string encode_config_variable(const std::string& name,
                                   const std::string& value, int64_t device_id);

// Changes to config.json: keys to set (string or integer) and keys to
// remove. Every other key, and the order of the kept keys, stays as it was.
struct config_json_edit {
  std::map<std::string, std::variant<std::string, int64_t, bool>> set;
  std::vector<std::string> remove;
};

struct config_json_result {
  std::optional<std::string> text; // the new document (compact)
  std::string error;               // why not, when !text
};

// Applies `edit` to the config.json document `text` (which must be a JSON
// object; an empty text counts as {}).
config_json_result edit_config_json(std::string_view text,
                                    const config_json_edit& edit);

} // namespace bosun::cloud
