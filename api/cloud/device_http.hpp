#pragma once

// The device's HTTP calls to the cloud API (reference/state.md): method,
// path, headers and body of each request cloud_sync sends, and what each
// answer means. actors/cloud calls these and never writes a header, a path
// or a JSON body, nor reads a status code, itself; the bodies come from the
// codecs beside this (device_api.hpp, report_codec.hpp, target_codec.hpp).
#include "api/cloud/device_api.hpp"
#include "messages/cloud.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bosun::cloud {

// GET /device/v3/<uuid>/state, with If-None-Match: <etag> when there is one
// (the ETag of the last 200).
cloud_request target_poll(const std::string& uuid, const std::string& etag);

// PATCH /device/v3/state with the report's JSON.
cloud_request state_report(const std::string& uuid, const device_report& patch);

// POST /device/register (provisioning, step 1).
cloud_request device_register(const register_request& r);

// GET /v7/device?$select=id&$filter=uuid eq '<uuid>': the device's id,
// read with decode_device_query_id.
cloud_request device_lookup(const std::string& uuid);

// POST /api-key/device/<id>/device-key: makes `key` the device's key.
cloud_request device_key(int64_t device_id, const std::string& key);

// -- requests ---------------------------------------------------------------

// Authorization: Bearer <key> (the device key, or the provisioning key).
void authorize(cloud_request& req, const std::string& key);

// "Supervisor/19.0.5 (Linux; <os>; prod) bosun/<version>": balena's form
// (the cloud may read it), naming bosun too. Without an OS name the
// parenthesis is left out.
std::string user_agent(std::string_view supervisor_version,
                       std::string_view bosun_version,
                       std::string_view os_version, bool development);

// -- answers ----------------------------------------------------------------
// A status of 0 is no answer at all (the transport failed: r.error).

// A target poll: 200 a new target (the body, with its ETag), 304 the last
// one still holds, anything else a failure.
enum class poll_answer { new_target, unchanged, failed };
poll_answer read_poll(const cloud_reply& r);

// Registration: 201 with the new device's id, 409 the uuid is registered
// already (go on with the key exchange), 201 without an id, or a failure.
enum class register_answer { registered, exists, no_id, failed };
struct registration {
  register_answer answer = register_answer::failed;
  int64_t device_id = 0; // when registered
};
registration read_register(const cloud_reply& r);

// A device lookup: the device's id when 200 names one.
std::optional<int64_t> read_device_lookup(const cloud_reply& r);

// Setting the device key: 200.
bool device_key_set(const cloud_reply& r);

// A state report: any 2xx.
bool report_accepted(const cloud_reply& r);

} // namespace bosun::cloud
