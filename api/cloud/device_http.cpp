#include "api/cloud/device_http.hpp"

#include "api/cloud/report_codec.hpp"

namespace bosun::cloud {
namespace {

cloud_request json_request(const char* method, std::string target,
                           std::string body) {
  cloud_request req;
  req.method = method;
  req.target = std::move(target);
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  return req;
}

} // namespace

cloud_request target_poll(const std::string& uuid, const std::string& etag) {
  cloud_request req;
  req.target = "/device/v3/" + uuid + "/state";
  if (!etag.empty())
    req.headers.emplace_back("If-None-Match", etag);
  return req;
}

cloud_request state_report(const std::string& uuid,
                           const device_report& patch) {
  return json_request("PATCH", "/device/v3/state",
                      encode_state_report(uuid, patch));
}

cloud_request device_register(const register_request& r) {
  return json_request("POST", "/device/register", encode_register(r));
}

cloud_request device_lookup(const std::string& uuid) {
  cloud_request req;
  req.target = "/v7/device?$select=id&$filter=uuid%20eq%20'" + uuid + "'";
  return req;
}

cloud_request device_key(int64_t device_id, const std::string& key) {
  return json_request(
    "POST", "/api-key/device/" + std::to_string(device_id) + "/device-key",
    encode_device_key(key));
}

void authorize(cloud_request& req, const std::string& key) {
  req.headers.emplace_back("Authorization", "Bearer " + key);
}

poll_answer read_poll(const cloud_reply& r) {
  if (r.status == 200)
    return poll_answer::new_target;
  if (r.status == 304)
    return poll_answer::unchanged;
  return poll_answer::failed;
}

registration read_register(const cloud_reply& r) {
  if (r.status == 409)
    return {register_answer::exists, 0};
  if (r.status != 201)
    return {register_answer::failed, 0};
  auto id = decode_registered_id(r.body);
  if (!id)
    return {register_answer::no_id, 0};
  return {register_answer::registered, *id};
}

std::optional<int64_t> read_device_lookup(const cloud_reply& r) {
  if (r.status != 200)
    return std::nullopt;
  return decode_device_query_id(r.body);
}

bool device_key_set(const cloud_reply& r) {
  return r.status == 200;
}

bool report_accepted(const cloud_reply& r) {
  return r.status >= 200 && r.status < 300;
}

std::string user_agent(std::string_view supervisor_version,
                       std::string_view bosun_version,
                       std::string_view os_version, bool development) {
  std::string ua = "Supervisor/";
  ua += supervisor_version;
  if (!os_version.empty()) {
    ua += " (Linux; ";
    ua += os_version;
    ua += development ? "; dev)" : "; prod)";
  }
  ua += " bosun/";
  ua += bosun_version;
  return ua;
}

} // namespace bosun::cloud
