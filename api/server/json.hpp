#pragma once

// Small JSON helpers for the device API's own answers.
#include <restinio/request_handler.hpp>
#include <string>

namespace bosun {

// A JSON string literal (quotes included) with RFC 8259 escaping.
std::string json_string(const std::string& s);

// {"status":"failed","message":<message>}
inline std::string failed_json(const std::string& message) {
  return R"({"status":"failed","message":)" + json_string(message) + "}";
}

// balena's "truthy": true, 1, "1", "true", "on" (case-insensitive), from the
// query string; false when absent or the query is malformed.
bool query_truthy(const restinio::request_handle_t& req, const char* name);

} // namespace bosun
