#pragma once

// The RapidJSON writing helpers every api/ codec shares (device API answers,
// telemetry, targets, state reports, provisioning bodies): strings and keys
// written with their length (so any std::string or literal goes in as it
// is, NULs included), null for an empty string where an answer wants it,
// lists and maps of strings, and a buffer's text. Templates on the writer,
// so a codec writing straight into its own output (api/logs) uses them too.
#include <map>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::json_out {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

template <class W>
void key(W& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

template <class W>
void str(W& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// null when empty.
template <class W>
void str_or_null(W& w, std::string_view s) {
  if (s.empty())
    w.Null();
  else
    str(w, s);
}

// "k":"v"
template <class W>
void string_member(W& w, std::string_view k, std::string_view v) {
  key(w, k);
  str(w, v);
}

// ["a","b"]
template <class W>
void string_list(W& w, const std::vector<std::string>& xs) {
  w.StartArray();
  for (const auto& x : xs)
    str(w, x);
  w.EndArray();
}

// {"k":"v",…} in the map's order.
template <class W>
void string_map(W& w, const std::map<std::string, std::string>& m) {
  w.StartObject();
  for (const auto& [k, v] : m) {
    key(w, k);
    str(w, v);
  }
  w.EndObject();
}

inline std::string text(const rapidjson::StringBuffer& sb) {
  return {sb.GetString(), sb.GetSize()};
}

} // namespace bosun::json_out
