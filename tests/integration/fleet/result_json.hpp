#pragma once

// Reading fleet-sim's result.json (and cloud-sim's admin answers) in the
// fleet tests: a missing key reads as null, a missing number as -1.
#include <fstream>
#include <rapidjson/document.h>
#include <sstream>
#include <string>

namespace bosun::test::fleet {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline const rapidjson::Value& at(const rapidjson::Value& v, const char* key) {
  static const rapidjson::Value null;
  if (!v.IsObject())
    return null;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? null : it->value;
}

inline double number(const rapidjson::Value& v, const char* key) {
  const auto& x = at(v, key);
  return x.IsNumber() ? x.GetDouble() : -1;
}

// cloud-sim's /counts: a route's answers with `status`, 0 when none.
inline double statuses(const rapidjson::Value& counts, const char* route,
                       const char* status) {
  const auto& n = at(at(at(counts, route), "statuses"), status);
  return n.IsNumber() ? n.GetDouble() : 0;
}

} // namespace bosun::test::fleet
