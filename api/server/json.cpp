#include "api/server/json.hpp"

#include "api/server/route_util.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace bosun {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

bool query_truthy(const restinio::request_handle_t& req, const char* name) {
  // Never restinio::parse_query: it throws on a query it cannot parse.
  auto value = query_param(req, name);
  if (!value)
    return false;
  std::string v = std::move(*value);
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return v == "true" || v == "1" || v == "on";
}

} // namespace bosun
