#pragma once

// Small RapidJSON helpers for untrusted input: every accessor checks the type
// before reading, so a hostile body can never trip an assertion.
#include <cstdint>
#include <optional>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <string>
#include <string_view>

namespace bosun::cloud_sim::json {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline std::string to_string(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  v.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

inline const rapidjson::Value* member(const rapidjson::Value& v,
                                      const char* key) {
  if (!v.IsObject())
    return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

inline std::optional<std::string> get_string(const rapidjson::Value& v,
                                             const char* key) {
  auto* m = member(v, key);
  if (m == nullptr || !m->IsString())
    return std::nullopt;
  return std::string(m->GetString(), m->GetStringLength());
}

// Decimal digits only, at most 18 of them.
inline std::optional<int64_t> parse_int(std::string_view s) {
  if (s.empty() || s.size() > 18)
    return std::nullopt;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// An integer, or a string of decimal digits (balena ids come as either).
inline std::optional<int64_t> as_int(const rapidjson::Value& v) {
  if (v.IsInt64())
    return v.GetInt64();
  if (v.IsString())
    return parse_int({v.GetString(), v.GetStringLength()});
  return std::nullopt;
}

inline std::optional<int64_t> get_int(const rapidjson::Value& v,
                                      const char* key) {
  auto* m = member(v, key);
  return m == nullptr ? std::nullopt : as_int(*m);
}

inline void string(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline void key(writer& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Inserts already-valid JSON text.
inline void raw(writer& w, std::string_view text) {
  w.RawValue(text.data(), text.size(), rapidjson::kObjectType);
}

// {"error": message}
inline std::string error(std::string_view message) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  key(w, "error");
  string(w, message);
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

} // namespace bosun::cloud_sim::json
