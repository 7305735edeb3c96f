#pragma once

// JSON (and form) codecs of the device API's v1/v2 routes: request bodies
// into typed fields, the agent's typed answers into balena's JSON shapes
// (reference/api.md, reference/cli.md). Pure: no actors, no HTTP.
#include "api/server/auth.hpp"
#include "messages/app_manager.hpp"
#include "messages/db.hpp"
#include "messages/host.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bosun::api {

// The balena Supervisor version bosun answers as (/v2/version, /v1/device,
// reports). It is the version whose device API and cloud contracts bosun
// implements (reference/api.md describes v19.0.5), so tools that gate
// features on it (the balena CLI needs >= 7.21.4 to push and >= 9.7.0 for
// livepush) see what bosun actually offers.
inline constexpr const char* balena_version = "19.0.5";

// ------------------------------------------------------------ requests --

// One value of a request body, as balena's checks see it: JSON strings and
// form values are strings; numbers and booleans keep their JSON text.
struct field {
  enum class kind { string, number, boolean, null, other } type = kind::string;
  std::string text;
};

using fields = std::map<std::string, field>;

// A JSON object body (an empty body is an empty object), or a form when the
// content type is application/x-www-form-urlencoded. The error message when
// it is neither.
std::variant<fields, std::string> decode_fields(std::string_view body,
                                                std::string_view content_type);

// balena's checkInt: ^-?[0-9]+\.?0*$ (strings, numbers); nullopt otherwise
// or when out of range.
std::optional<int64_t> check_int(std::string_view text);
std::optional<int64_t> check_int(const fields& f, const std::string& name);
// balena's checkTruthy: true, 1, "1", "true", "on" (any case).
bool check_truthy(const fields& f, const std::string& name);
// balena's checkString: a non-empty string other than "null"/"undefined".
std::optional<std::string> check_string(const fields& f,
                                        const std::string& name);

// PATCH /v2/device/tags: a JSON object (or form) of string values whose
// names have no whitespace; else the error message.
std::variant<std::map<std::string, std::string>, std::string>
decode_tags(std::string_view body, std::string_view content_type);

// ------------------------------------------------------------- answers --

std::string encode_version();

// GET /v2/applications/state: target apps in scope, keyed by app name.
std::string encode_apps_state(const apps_view& v, const auth::scope& s);

// GET /v2/applications/:appId/state; nullopt when the app has neither
// containers nor images on the device (→ 409).
std::optional<std::string> encode_app_state(const apps_view& v, int64_t app_id);

// GET /v2/state/status (the first app in scope only, as balena does).
std::string encode_state_status(const apps_view& v, const auth::scope& s);

// GET /v2/containerId: every service in scope → its container.
std::string encode_container_ids(const apps_view& v, const auth::scope& s);
// ... with ?serviceName=: nullopt when no service in scope has that name.
std::optional<std::string> encode_container_id(const apps_view& v,
                                               const auth::scope& s,
                                               const std::string& service);

// GET /v1/apps/:appId. Errors are balena's 400 texts.
struct legacy_app_error {
  std::string message;
};
std::variant<std::string, legacy_app_error>
encode_legacy_app(const apps_view& v, int64_t app_id);

// GET /v1/device.
// host_addresses: messages/host.hpp (the host actor reads them).
std::string encode_legacy_device(const apps_view& v, const device_details& d,
                                 const host_addresses& h, uint16_t api_port);

std::string encode_device_info(const device_details& d);
std::string encode_device_name(const device_details& d);
std::string encode_tags(const std::vector<device_tag>& tags);
std::string encode_container_action(const std::string& container_id);

// balena's private env vars, never shown by GET /v1/apps/:appId.
bool is_private_env(std::string_view name);

// "2019-03-11T16:05:34.506Z" from the engine's RFC 3339 time (any
// fraction, Z or offset kept as given when it cannot be shortened).
std::string iso_millis(const std::string& rfc3339);

} // namespace bosun::api
