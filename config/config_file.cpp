#include "config/config_file.hpp"

#include "config/values.hpp"

#include <chrono>
#include <limits>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bosun {

namespace {

namespace cv = config_values;
using json = rapidjson::Value;

// How a rejected value is shown after "got".
std::string describe(const json& v) {
  if (v.IsString())
    return cv::quoted({v.GetString(), v.GetStringLength()});
  if (v.IsObject())
    return "an object";
  if (v.IsArray())
    return "an array";
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

std::string expected(const std::string& what, const json& v) {
  return "expected " + what + ", got " + describe(v);
}

// An integer >= min from a JSON integer or a decimal string.
std::optional<int64_t> integer(const json& v, int64_t min) {
  std::optional<int64_t> n;
  if (v.IsInt64())
    n = v.GetInt64();
  else if (v.IsString())
    n = cv::parse_non_negative({v.GetString(), v.GetStringLength()});
  if (n && *n < min)
    return std::nullopt;
  return n;
}

std::string string_of(const json& v) {
  return {v.GetString(), v.GetStringLength()};
}

// Each returns the reason when `v` is unacceptable. `v` is never null.
using apply_fn = std::optional<std::string> (*)(config&, const json&);

std::optional<std::string> any_string(const json& v, std::string& out) {
  if (!v.IsString())
    return expected("a string", v);
  out = string_of(v);
  return std::nullopt;
}

std::optional<std::string> non_empty_string(const json& v, std::string& out) {
  if (!v.IsString() || v.GetStringLength() == 0)
    return expected("a non-empty string", v);
  out = string_of(v);
  return std::nullopt;
}

// Empty means "none" (e.g. an unmanaged device's apiEndpoint).
std::optional<std::string> url_or_empty(const json& v, std::string& out) {
  if (!v.IsString()
      || (v.GetStringLength() > 0 && !cv::is_http_url(string_of(v))))
    return expected("an http:// or https:// URL", v);
  out = string_of(v);
  return std::nullopt;
}

std::optional<std::string> positive_id(const json& v,
                                       std::optional<int64_t>& out) {
  auto n = integer(v, 1);
  if (!n)
    return expected("a positive integer", v);
  out = n;
  return std::nullopt;
}

std::optional<std::string> milliseconds(const json& v,
                                        std::chrono::milliseconds& out) {
  auto n = integer(v, 1);
  if (!n)
    return expected("a positive integer (milliseconds)", v);
  out = std::chrono::milliseconds{*n};
  return std::nullopt;
}

// balenaOS tools sometimes write booleans as strings.
std::optional<std::string> boolean(const json& v, bool& out) {
  if (v.IsBool()) {
    out = v.GetBool();
    return std::nullopt;
  }
  if (v.IsString()) {
    auto s = string_of(v);
    if (s == "true" || s == "false") {
      out = s == "true";
      return std::nullopt;
    }
  }
  return expected("true or false", v);
}

struct field {
  const char* key;
  apply_fn apply;
};

// The keys bosun reads; reference/state.md "Provisioning".
constexpr field fields[] = {
  {"apiEndpoint",
   [](config& c, const json& v) { return url_or_empty(v, c.api_endpoint); }},
  {"uuid",
   [](config& c, const json& v) -> std::optional<std::string> {
     // Empty: not generated yet.
     if (!v.IsString()
         || (v.GetStringLength() > 0 && !cv::is_device_uuid(string_of(v))))
       return expected("at least 32 hexadecimal characters", v);
     c.uuid = string_of(v);
     return std::nullopt;
   }},
  {"deviceApiKey",
   [](config& c, const json& v) {
     return non_empty_string(v, c.device_api_key);
   }},
  {"apiKey",
   [](config& c, const json& v) {
     return non_empty_string(v, c.provisioning_api_key);
   }},
  {"applicationId",
   [](config& c, const json& v) { return positive_id(v, c.application_id); }},
  {"deviceId",
   [](config& c, const json& v) { return positive_id(v, c.device_id); }},
  {"registered_at",
   [](config& c, const json& v) -> std::optional<std::string> {
     auto n = integer(v, 0);
     if (!n)
       return expected("a timestamp in milliseconds", v);
     c.registered_at = n;
     return std::nullopt;
   }},
  {"listenPort",
   [](config& c, const json& v) -> std::optional<std::string> {
     auto n = integer(v, 1);
     if (!n || *n > 65535)
       return expected("an integer 1-65535", v);
     c.listen_port = static_cast<uint16_t>(*n);
     return std::nullopt;
   }},
  {"apiTimeout",
   [](config& c, const json& v) { return milliseconds(v, c.api_timeout); }},
  {"apiRequestTimeout",
   [](config& c, const json& v) {
     return milliseconds(v, c.api_request_timeout);
   }},
  {"appUpdatePollInterval",
   [](config& c, const json& v) {
     return milliseconds(v, c.app_update_poll_interval);
   }},
  {"bootstrapRetryDelay",
   [](config& c, const json& v) {
     return milliseconds(v, c.bootstrap_retry_delay);
   }},
  {"deltaEndpoint",
   [](config& c, const json& v) { return url_or_empty(v, c.delta_endpoint); }},
  {"logsEndpoint",
   [](config& c, const json& v) { return url_or_empty(v, c.logs_endpoint); }},
  {"hostname",
   [](config& c, const json& v) { return any_string(v, c.hostname); }},
  {"initialDeviceName",
   [](config& c, const json& v) {
     return any_string(v, c.initial_device_name);
   }},
  {"deviceType",
   [](config& c, const json& v) { return any_string(v, c.device_type); }},
  {"persistentLogging",
   [](config& c, const json& v) { return boolean(v, c.persistent_logging); }},
  {"persistentLogSize",
   [](config& c, const json& v) -> std::optional<std::string> {
     auto n = integer(v, static_cast<int64_t>(min_persistent_log_size));
     if (!n || static_cast<uint64_t>(*n) > max_persistent_log_size)
       return expected(cv::persistent_log_size_range(), v);
     c.persistent_log_size = static_cast<uint64_t>(*n);
     return std::nullopt;
   }},
  {"developmentMode",
   [](config& c, const json& v) { return boolean(v, c.development_mode); }},
};

} // namespace

std::optional<config_error>
apply_config_json(config& cfg, const std::string& path, std::string_view text) {
  rapidjson::Document doc;
  rapidjson::ParseResult ok = doc.Parse(text.data(), text.size());
  if (!ok)
    return config_error{path, "",
                        "not valid JSON at offset "
                          + std::to_string(ok.Offset()) + ": "
                          + rapidjson::GetParseError_En(ok.Code())};
  if (!doc.IsObject())
    return config_error{path, "", expected("a JSON object", doc)};
  for (const auto& f : fields) {
    auto it = doc.FindMember(f.key);
    if (it == doc.MemberEnd() || it->value.IsNull())
      continue;
    if (auto why = f.apply(cfg, it->value))
      return config_error{path, f.key, std::move(*why)};
  }
  return std::nullopt;
}

} // namespace bosun
