#include "api/cloud/device_api.hpp"

#include "api/cloud/detail.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace bosun::cloud {

namespace {

using json_out::string_member;
using json_out::writer;

// Deeply nested input is refused before parsing (the parser recurses).
bool too_deep(std::string_view text) {
  return detail::nested_deeper_than(text, 64);
}

bool parse(rapidjson::Document& d, std::string_view text) {
  if (too_deep(text))
    return false;
  d.Parse(text.data(), text.size());
  return !d.HasParseError();
}

// A non-negative integer, or a numeric string.
std::optional<int64_t> id_of(const rapidjson::Value& v) {
  if (v.IsInt64() && v.GetInt64() >= 0)
    return v.GetInt64();
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
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
  return std::nullopt;
}

} // namespace

std::string encode_register(const register_request& r) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  if (r.application) {
    w.Key("application");
    w.Int64(*r.application);
  }
  string_member(w, "uuid", r.uuid);
  string_member(w, "device_type", r.device_type);
  string_member(w, "api_key", r.api_key);
  string_member(w, "supervisor_version", r.supervisor_version);
  if (!r.os_version.empty())
    string_member(w, "os_version", r.os_version);
  string_member(w, "os_variant", r.os_variant);
  if (!r.mac_address.empty())
    string_member(w, "mac_address", r.mac_address);
  w.EndObject();
  return json_out::text(sb);
}

std::optional<int64_t> decode_registered_id(std::string_view body) {
  rapidjson::Document d;
  if (!parse(d, body) || !d.IsObject())
    return std::nullopt;
  auto it = d.FindMember("id");
  if (it == d.MemberEnd())
    return std::nullopt;
  return id_of(it->value);
}

std::optional<int64_t> decode_device_query_id(std::string_view body) {
  rapidjson::Document d;
  if (!parse(d, body) || !d.IsObject())
    return std::nullopt;
  auto it = d.FindMember("d");
  if (it == d.MemberEnd() || !it->value.IsArray() || it->value.Empty())
    return std::nullopt;
  const auto& first = it->value[0];
  if (!first.IsObject())
    return std::nullopt;
  auto id = first.FindMember("id");
  if (id == first.MemberEnd())
    return std::nullopt;
  return id_of(id->value);
}

std::string encode_device_key(const std::string& key) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  string_member(w, "apiKey", key);
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_config_variable(const std::string& name,
                                   const std::string& value,
                                   int64_t device_id) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  string_member(w, "value", value);
  w.Key("device");
  w.Int64(device_id);
  string_member(w, "name", name);
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

namespace {

// Writes `v` (as parsed), its numbers as `as_written` (the same document
// parsed with kParseNumbersAsStringsFlag) has their text.
void write_as_written(writer& w, const rapidjson::Value& v,
                      const rapidjson::Value& as_written) {
  if (v.IsNumber() && as_written.IsString()) {
    w.RawValue(as_written.GetString(), as_written.GetStringLength(),
               rapidjson::kNumberType);
  } else if (v.IsObject() && as_written.IsObject()
             && v.MemberCount() == as_written.MemberCount()) {
    w.StartObject();
    auto r = as_written.MemberBegin();
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m, ++r) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      write_as_written(w, m->value, r->value);
    }
    w.EndObject();
  } else if (v.IsArray() && as_written.IsArray()
             && v.Size() == as_written.Size()) {
    w.StartArray();
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
      write_as_written(w, v[i], as_written[i]);
    w.EndArray();
  } else {
    v.Accept(w);
  }
}

} // namespace

config_json_result edit_config_json(std::string_view text,
                                    const config_json_edit& edit) {
  config_json_result out;
  rapidjson::Document d;
  bool blank = text.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) {
    d.SetObject();
  } else {
    if (too_deep(text)) {
      out.error = "config.json is nested too deeply";
      return out;
    }
    rapidjson::ParseResult ok = d.Parse(text.data(), text.size());
    if (!ok) {
      out.error = "config.json is not valid JSON at offset "
                  + std::to_string(ok.Offset()) + ": "
                  + rapidjson::GetParseError_En(ok.Code());
      return out;
    }
    if (!d.IsObject()) {
      out.error = "config.json is not a JSON object";
      return out;
    }
  }
  auto& alloc = d.GetAllocator();
  // EraseMember keeps the order of the other keys (RemoveMember does not).
  for (const auto& k : edit.remove)
    for (auto it = d.FindMember(rapidjson::StringRef(k.data(), k.size()));
         it != d.MemberEnd();
         it = d.FindMember(rapidjson::StringRef(k.data(), k.size())))
      d.EraseMember(it);
  for (const auto& [k, v] : edit.set) {
    rapidjson::Value value;
    if (const auto* s = std::get_if<std::string>(&v))
      value.SetString(s->data(), static_cast<rapidjson::SizeType>(s->size()),
                      alloc);
    else if (const auto* b = std::get_if<bool>(&v))
      value.SetBool(*b);
    else
      value.SetInt64(std::get<int64_t>(v));
    auto it = d.FindMember(rapidjson::StringRef(k.data(), k.size()));
    if (it != d.MemberEnd()) {
      it->value = value;
    } else {
      rapidjson::Value name(k.data(),
                            static_cast<rapidjson::SizeType>(k.size()), alloc);
      d.AddMember(name, value, alloc);
    }
  }
  // The numbers of the keys not set are written as they were written, not
  // as the doubles they parse into (a 20-digit integer would come back
  // rounded, as 1e+20): `raw` holds their text.
  rapidjson::Document raw;
  if (!blank)
    raw.Parse<rapidjson::kParseNumbersAsStringsFlag>(text.data(), text.size());
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  auto from
    = blank ? rapidjson::Value::ConstMemberIterator{} : raw.MemberBegin();
  for (auto m = d.MemberBegin(); m != d.MemberEnd(); ++m) {
    std::string key{m->name.GetString(), m->name.GetStringLength()};
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    auto r = from;
    if (!blank && edit.set.count(key) == 0)
      while (r != raw.MemberEnd() && r->name != m->name)
        ++r;
    if (blank || edit.set.count(key) != 0 || r == raw.MemberEnd()) {
      m->value.Accept(w);
      continue;
    }
    write_as_written(w, m->value, r->value);
    from = r + 1;
  }
  w.EndObject();
  out.text = json_out::text(sb);
  return out;
}

} // namespace bosun::cloud
