#include "api/cloud/boot_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bosun::cloud {

namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void put(writer& w, const std::vector<std::string>& list) {
  w.StartArray();
  for (const auto& s : list)
    put(w, s);
  w.EndArray();
}

std::optional<rapidjson::Document>
parse_object(const std::optional<std::string>& text) {
  if (!text)
    return std::nullopt;
  rapidjson::Document d;
  d.Parse(text->data(), text->size());
  if (d.HasParseError() || !d.IsObject())
    return std::nullopt;
  return d;
}

} // namespace

std::string encode_var_list(const std::vector<std::string>& items) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  put(w, items);
  std::string out(sb.GetString(), sb.GetSize());
  return out.substr(1, out.size() - 2);
}

std::optional<std::vector<std::string>> decode_var_list(std::string_view text) {
  std::string doc = "[" + std::string(text) + "]";
  rapidjson::Document d;
  d.Parse(doc.data(), doc.size());
  if (d.HasParseError() || !d.IsArray())
    return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : d.GetArray()) {
    if (!v.IsString())
      return std::nullopt;
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

std::vector<std::string> configfs_ssdt(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  auto d = parse_object(text);
  if (!d)
    return out;
  auto it = d->FindMember("ssdt");
  if (it == d->MemberEnd() || !it->value.IsArray())
    return out;
  for (const auto& v : it->value.GetArray())
    if (v.IsString())
      out.emplace_back(v.GetString(), v.GetStringLength());
  return out;
}

std::string
configfs_with_ssdt(const std::optional<std::string>& text,
                   const std::optional<std::vector<std::string>>& ssdt) {
  rapidjson::Document d;
  if (auto parsed = parse_object(text))
    d = std::move(*parsed);
  else
    d.SetObject();
  auto& a = d.GetAllocator();
  auto it = d.FindMember("ssdt");
  if (!ssdt) {
    if (it != d.MemberEnd())
      d.EraseMember(it); // keeps the other keys' order
  } else {
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& s : *ssdt)
      list.PushBack(rapidjson::Value(
                      s.data(), static_cast<rapidjson::SizeType>(s.size()), a),
                    a);
    if (it != d.MemberEnd())
      it->value = list; // in place, as a JavaScript assignment
    else
      d.AddMember("ssdt", list, a);
  }
  rapidjson::StringBuffer sb;
  writer w(sb);
  d.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

std::string encode_config_object(const std::map<std::string, std::string>& m) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  for (const auto& [k, v] : m) {
    put(w, k);
    put(w, v);
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

std::string encode_boot_options(const boot_options& opts) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  for (const auto& [k, v] : opts) {
    put(w, k);
    std::visit([&w](const auto& x) { put(w, x); }, v);
  }
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

} // namespace bosun::cloud
