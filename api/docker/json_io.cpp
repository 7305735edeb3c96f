#include "api/docker/json_io.hpp"

#include <rapidjson/error/en.h>

namespace bosun::docker::json {

void fail(const std::string& path, const std::string& why) {
  if (path.empty())
    throw json_error{"document: " + why};
  throw json_error{"field '" + path + "': " + why};
}

void parse(rapidjson::Document& doc, std::string_view text) {
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError())
    throw json_error{"offset " + std::to_string(doc.GetErrorOffset()) + ": "
                     + rapidjson::GetParseError_En(doc.GetParseError())};
}

std::string child(const std::string& path, const char* key) {
  if (path.empty())
    return key;
  return path + "." + key;
}

std::string index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string entry(const std::string& path, const std::string& key) {
  return path + "[" + key + "]";
}

namespace {

const char* type_name(const value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return "number";
  }
  return "unknown";
}

[[noreturn]] void mismatch(const value& v, const std::string& path,
                           const char* wanted) {
  fail(path, std::string("expected ") + wanted + ", got " + type_name(v));
}

} // namespace

const value& expect_object(const value& v, const std::string& path) {
  if (!v.IsObject())
    mismatch(v, path, "object");
  return v;
}

const value& expect_array(const value& v, const std::string& path) {
  if (!v.IsArray())
    mismatch(v, path, "array");
  return v;
}

const value* find(const value& obj, const char* key) {
  if (!obj.IsObject())
    return nullptr;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull())
    return nullptr;
  return &it->value;
}

void read(const value& v, const std::string& path, std::string& out) {
  if (v.IsNull()) {
    out.clear();
    return;
  }
  if (!v.IsString())
    mismatch(v, path, "string");
  out.assign(v.GetString(), v.GetStringLength());
}

void read(const value& v, const std::string& path, bool& out) {
  if (v.IsNull()) {
    out = false;
    return;
  }
  if (!v.IsBool())
    mismatch(v, path, "boolean");
  out = v.GetBool();
}

void read(const value& v, const std::string& path, int64_t& out) {
  if (v.IsNull()) {
    out = 0;
    return;
  }
  if (!v.IsNumber())
    mismatch(v, path, "integer");
  if (!v.IsInt64()) {
    if (v.IsUint64())
      fail(path, "integer out of range");
    fail(path, "expected integer, got non-integer number");
  }
  out = v.GetInt64();
}

void keys(const value& obj, const std::string& path, const char* key,
          std::vector<std::string>& out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd())
    return;
  out.clear();
  if (it->value.IsNull())
    return;
  expect_object(it->value, child(path, key));
  for (auto& m : it->value.GetObject())
    out.emplace_back(m.name.GetString(), m.name.GetStringLength());
}

void string(writer& w, const std::string& v) {
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void put(writer& w, const char* key, const std::string& v) {
  w.Key(key);
  string(w, v);
}

void put(writer& w, const char* key, const char* v) {
  w.Key(key);
  w.String(v);
}

void put(writer& w, const char* key, bool v) {
  w.Key(key);
  w.Bool(v);
}

void put(writer& w, const char* key, int64_t v) {
  w.Key(key);
  w.Int64(v);
}

void put(writer& w, const char* key, const std::vector<std::string>& v) {
  w.Key(key);
  w.StartArray();
  for (auto& s : v)
    string(w, s);
  w.EndArray();
}

void put(writer& w, const char* key,
         const std::map<std::string, std::string>& v) {
  w.Key(key);
  w.StartObject();
  for (auto& [k, s] : v) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    string(w, s);
  }
  w.EndObject();
}

void put_keys(writer& w, const char* key, const std::vector<std::string>& v) {
  w.Key(key);
  w.StartObject();
  for (auto& k : v) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.StartObject();
    w.EndObject();
  }
  w.EndObject();
}

void put_nonempty(writer& w, const char* key, const std::string& v) {
  if (!v.empty())
    put(w, key, v);
}

} // namespace bosun::docker::json
