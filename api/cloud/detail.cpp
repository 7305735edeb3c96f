#include "api/cloud/detail.hpp"

#include "api/cloud/compose_parse.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <rapidjson/error/en.h>
#include <rapidjson/internal/dtoa.h>

namespace bosun::cloud::detail {

namespace {

// Deeper documents are refused before parsing: the decoders and RapidJSON's
// writer recurse per level, and no legitimate target comes near this.
constexpr size_t max_depth = 64;

bool plain_key(std::string_view key) {
  if (key.empty())
    return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z') || c == '_' || c == '-'))
      return false;
  return true;
}

std::string quote(std::string_view key) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  json_out::str(w, key);
  return json_out::text(sb);
}

bool numeric_text(std::string_view s, bool allow_sign) {
  if (!s.empty() && allow_sign && s[0] == '-')
    s.remove_prefix(1);
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

std::optional<int64_t> to_int64(std::string_view s) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg)
    s.remove_prefix(1);
  uint64_t v = 0;
  for (char c : s) {
    auto d = static_cast<uint64_t>(c - '0');
    if (v
        > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / 10)
      return std::nullopt;
    v = v * 10 + d;
  }
  return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

std::string format_double(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15)
    return std::to_string(static_cast<int64_t>(d));
  char buf[32] = {};
  char* end = rapidjson::internal::dtoa(d, buf);
  return std::string(buf, end);
}

} // namespace

void fail(std::string path, std::string rule) {
  throw failure{std::move(path), std::move(rule)};
}

std::string child(const std::string& path, std::string_view key,
                  bool force_quote) {
  std::string seg
    = (!force_quote && plain_key(key)) ? std::string(key) : quote(key);
  return path.empty() ? seg : path + "." + seg;
}

std::string item(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

bool nested_deeper_than(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit)
        return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

void parse_document(rapidjson::Document& doc, std::string_view text) {
  if (nested_deeper_than(text, max_depth))
    fail("", "document nested deeper than " + std::to_string(max_depth)
               + " levels");
  // Not kParseFullPrecisionFlag: RapidJSON 1.1's full-precision path reads a
  // zero with a large exponent (0e99, 0e-30) as garbage, with undefined
  // behaviour (found by tests/fuzz; docs/fuzz.md). The normal path is exact
  // for the decimals targets carry (up to 15 digits, small exponents).
  constexpr unsigned flags
    = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc.Parse<flags>(text.data(), text.size());
  if (doc.HasParseError())
    fail("", "invalid JSON at offset " + std::to_string(doc.GetErrorOffset())
               + ": " + rapidjson::GetParseError_En(doc.GetParseError()));
}

std::string_view view(const json& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

const json* find(const json& obj, std::string_view key) {
  if (!obj.IsObject())
    return nullptr;
  const json* found = nullptr;
  for (const auto& m : obj.GetObject())
    if (view(m.name) == key)
      found = &m.value; // the last duplicate wins, as in JavaScript
  return found;
}

const json& expect_object(const json& v, const std::string& path) {
  if (!v.IsObject())
    fail(path, "expected an object");
  return v;
}

const json& expect_array(const json& v, const std::string& path) {
  if (!v.IsArray())
    fail(path, "expected an array");
  return v;
}

std::string expect_string(const json& v, const std::string& path) {
  if (!v.IsString())
    fail(path, "expected a string");
  return std::string(view(v));
}

bool expect_bool(const json& v, const std::string& path) {
  if (!v.IsBool())
    fail(path, "expected a boolean");
  return v.GetBool();
}

int64_t expect_id(const json& v, const std::string& path) {
  const char* rule = "expected an integer or numeric string";
  if (v.IsInt64()) {
    if (v.GetInt64() < 0)
      fail(path, "expected a non-negative integer");
    return v.GetInt64();
  }
  if (v.IsString() && numeric_text(view(v), false)) {
    auto n = to_int64(view(v));
    if (!n)
      fail(path, "integer out of range");
    return *n;
  }
  if (v.IsNumber() && !v.IsDouble())
    fail(path, "integer out of range");
  fail(path, rule);
}

int64_t expect_int(const json& v, const std::string& path) {
  if (v.IsInt64())
    return v.GetInt64();
  if (v.IsString() && numeric_text(view(v), true)) {
    auto n = to_int64(view(v));
    if (!n)
      fail(path, "integer out of range");
    return *n;
  }
  if (v.IsNumber() && !v.IsDouble())
    fail(path, "integer out of range");
  fail(path, "expected an integer or numeric string");
}

double expect_double(const json& v, const std::string& path) {
  if (v.IsNumber())
    return v.GetDouble();
  if (v.IsString()) {
    std::string s(view(v));
    char* end = nullptr;
    errno = 0;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0
        && std::isfinite(d))
      return d;
  }
  fail(path, "expected a number");
}

std::string expect_scalar(const json& v, const std::string& path) {
  if (v.IsString())
    return std::string(view(v));
  if (v.IsBool())
    return v.GetBool() ? "true" : "false";
  if (v.IsInt64())
    return std::to_string(v.GetInt64());
  if (v.IsUint64())
    return std::to_string(v.GetUint64());
  if (v.IsNumber())
    return format_double(v.GetDouble());
  fail(path, "expected a string, number or boolean");
}

std::vector<std::string>
expect_string_list(const json& v, const std::string& path, bool allow_single) {
  if (allow_single && v.IsString())
    return {std::string(view(v))};
  if (!v.IsArray())
    fail(path, allow_single ? "expected a string or an array of strings"
                            : "expected an array of strings");
  std::vector<std::string> out;
  size_t i = 0;
  for (const auto& x : v.GetArray()) {
    out.push_back(expect_string(x, item(path, i)));
    ++i;
  }
  return out;
}

std::map<std::string, std::string>
expect_string_map(const json& v, const std::string& path, bool allow_list) {
  std::map<std::string, std::string> out;
  if (allow_list && v.IsArray()) {
    size_t i = 0;
    for (const auto& x : v.GetArray()) {
      auto p = item(path, i++);
      auto s = expect_string(x, p);
      auto eq = s.find('=');
      if (eq == std::string::npos)
        out[s] = "";
      else
        out[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return out;
  }
  if (!v.IsObject())
    fail(path, allow_list ? "expected an object or an array of \"k=v\""
                          : "expected an object");
  for (const auto& m : v.GetObject()) {
    auto k = std::string(view(m.name));
    out[k] = expect_scalar(m.value, child(path, k));
  }
  return out;
}

void decode_environment(std::map<std::string, std::string>& into, const json& v,
                        const std::string& path, context& ctx) {
  const char* rule = "env var name must match ^[A-Za-z_]\\w*$";
  if (v.IsArray()) {
    size_t i = 0;
    for (const auto& x : v.GetArray()) {
      auto p = item(path, i++);
      auto s = expect_string(x, p);
      auto eq = s.find('=');
      auto name = s.substr(0, eq);
      if (!is_env_name(name))
        fail(p, rule);
      if (eq == std::string::npos) {
        ctx.warn(p, "env var without a value, ignored");
        continue;
      }
      into[name] = s.substr(eq + 1);
    }
    return;
  }
  if (!v.IsObject())
    fail(path, "expected an object");
  for (const auto& m : v.GetObject()) {
    auto name = std::string(view(m.name));
    if (!is_env_name(name))
      fail(child(path, name, true), rule);
    auto p = child(path, name);
    if (m.value.IsNull()) {
      ctx.warn(p, "env var without a value, ignored");
      continue;
    }
    into[name] = expect_scalar(m.value, p);
  }
}

void decode_labels(std::map<std::string, std::string>& into, const json& v,
                   const std::string& path) {
  for (auto& [k, val] : expect_string_map(v, path, true)) {
    if (k.empty())
      fail(path, "label names must not be empty");
    into[k] = val;
  }
}

std::string compact_json(const json& v) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  v.Accept(w);
  return json_out::text(sb);
}

} // namespace bosun::cloud::detail
