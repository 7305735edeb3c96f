#pragma once

// The balena API as a device sees it, as pure functions over the model: a
// parsed request in, a response out. The HTTP server (device_server) does the
// I/O, counters and faults; everything balena-specific is here.
#include "tools/cloud-sim/line_inflater.hpp"
#include "tools/cloud-sim/model.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bosun::cloud_sim {

struct device_request {
  std::string method;
  std::string path;  // percent-decoded, without the query
  std::string query; // raw, after '?'
  std::string authorization;
  std::string if_none_match;
  std::string content_encoding;
  std::string body;
};

struct device_response {
  int status = 200;
  std::string body; // JSON, or empty
  std::vector<std::pair<std::string, std::string>> headers;
};

struct route_match {
  route r = route::other;
  enum v7_call { none, device_get, device_patch, config_variable } v7 = none;
  std::string uuid; // state-get, log-stream, PATCH /v7/device(uuid='...')
  int64_t id = 0;   // device-key, PATCH /v7/device(<id>)
};

route_match classify(const std::string& method, const std::string& path);

// "Bearer <key>" -> key; "" otherwise.
std::string bearer(const std::string& authorization);

// The device a request is about, for per-device counters: the uuid in the
// path, else the device whose key it carries, else the id in the path.
std::string attribute(model& m, const route_match& match,
                      const std::string& authorization);

// Everything but the log stream.
device_response handle(model& m, const route_match& match,
                       const device_request& req, int64_t now_ms);

// One POST /device/v2/<uuid>/log-stream: lines are recorded as the body
// arrives, gunzipped and split.
class log_session {
public:
  log_session(std::string uuid, bool gzip);
  // False when the body is corrupt; then answer finish() at once.
  bool feed(model& m, const char* data, size_t size, int64_t now_ms);
  device_response finish(model& m, int64_t now_ms);
  uint64_t lines() const {
    return lines_;
  }

private:
  void record_line(model& m, std::string_view line, int64_t now_ms);

  std::string uuid_;
  line_inflater inflater_;
  uint64_t lines_ = 0;
  uint64_t invalid_ = 0;
};

// Checks a log-stream's headers: a response to send at once (401, 415), or
// nullopt to accept the stream.
std::optional<device_response>
check_log_stream(model& m, const route_match& match, const device_request& req);

std::string percent_decode(std::string_view s, bool plus_is_space);
std::map<std::string, std::string> parse_query(std::string_view query);
// "uuid eq '<uuid>'" (anywhere in an OData $filter) -> <uuid>.
std::optional<std::string> filter_uuid(std::string_view filter);

} // namespace bosun::cloud_sim
