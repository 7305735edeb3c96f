// The device API's JSON bodies, both ways. Over 600 lines: one encoder or
// decoder per route's body (v1, v2, local), in balena's field order.
#include "api/server/api_codec.hpp"

#include "api/json_writer.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <rapidjson/document.h>
#include <restinio/uri_helpers.hpp>
#include <set>

namespace bosun::api {

namespace {

using json_out::key;
using json_out::str;
using json_out::str_or_null;
using json_out::writer;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isspace(c) != 0; });
}

std::string number_text(const rapidjson::Value& v) {
  if (v.IsInt64())
    return std::to_string(v.GetInt64());
  if (v.IsUint64())
    return std::to_string(v.GetUint64());
  double d = v.GetDouble();
  // JavaScript prints integral doubles without a fraction (5.0 → "5").
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15)
    return std::to_string(static_cast<long long>(d));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

void progress(writer& w, const std::optional<int32_t>& p) {
  if (p)
    w.Int(*p);
  else
    w.Null();
}

const app_view* find_app(const apps_view& v, int64_t app_id) {
  for (auto& a : v.apps)
    if (a.app_id == app_id)
      return &a;
  return nullptr;
}

} // namespace

// ------------------------------------------------------------ requests --

std::variant<fields, std::string> decode_fields(std::string_view body,
                                                std::string_view content_type) {
  fields out;
  auto type = lower(content_type);
  if (type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    auto parsed = restinio::try_parse_query<
      restinio::parse_query_traits::x_www_form_urlencoded>(
      restinio::string_view_t{body.data(), body.size()});
    if (!parsed)
      return "Malformed form body: " + parsed.error().description();
    for (const auto& [k, v] : *parsed)
      out[std::string(k)] = field{field::kind::string, std::string(v)};
    return out;
  }
  if (blank(body))
    return out;
  rapidjson::Document d;
  rapidjson::ParseResult ok = d.Parse(body.data(), body.size());
  if (!ok)
    return "Malformed JSON body at offset " + std::to_string(ok.Offset());
  if (!d.IsObject())
    return std::string("The body must be a JSON object");
  for (auto& m : d.GetObject()) {
    field f;
    const auto& v = m.value;
    if (v.IsString()) {
      f.text.assign(v.GetString(), v.GetStringLength());
    } else if (v.IsNumber()) {
      f.type = field::kind::number;
      f.text = number_text(v);
    } else if (v.IsBool()) {
      f.type = field::kind::boolean;
      f.text = v.GetBool() ? "true" : "false";
    } else if (v.IsNull()) {
      f.type = field::kind::null;
    } else {
      f.type = field::kind::other;
    }
    out[std::string(m.name.GetString(), m.name.GetStringLength())]
      = std::move(f);
  }
  return out;
}

std::optional<int64_t> check_int(std::string_view s) {
  // ^-?[0-9]+\.?0*$
  size_t i = 0;
  bool negative = !s.empty() && s[0] == '-';
  if (negative)
    ++i;
  size_t digits_start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
    ++i;
  size_t digits_end = i;
  if (digits_end == digits_start)
    return std::nullopt;
  if (i < s.size() && s[i] == '.')
    ++i;
  while (i < s.size() && s[i] == '0')
    ++i;
  if (i != s.size())
    return std::nullopt;
  int64_t value = 0;
  for (size_t k = digits_start; k < digits_end; ++k) {
    int digit = s[k] - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

std::optional<int64_t> check_int(const fields& f, const std::string& name) {
  auto it = f.find(name);
  if (it == f.end())
    return std::nullopt;
  if (it->second.type != field::kind::string
      && it->second.type != field::kind::number)
    return std::nullopt;
  return check_int(it->second.text);
}

bool check_truthy(const fields& f, const std::string& name) {
  auto it = f.find(name);
  if (it == f.end())
    return false;
  const auto& v = it->second;
  switch (v.type) {
    case field::kind::string: {
      auto l = lower(v.text);
      return l == "1" || l == "true" || l == "on";
    }
    case field::kind::number:
      return v.text == "1";
    case field::kind::boolean:
      return v.text == "true";
    case field::kind::null:
    case field::kind::other:
      return false;
  }
  return false;
}

std::optional<std::string> check_string(const fields& f,
                                        const std::string& name) {
  auto it = f.find(name);
  if (it == f.end() || it->second.type != field::kind::string)
    return std::nullopt;
  const auto& t = it->second.text;
  if (t.empty() || t == "null" || t == "undefined")
    return std::nullopt;
  return t;
}

std::variant<std::map<std::string, std::string>, std::string>
decode_tags(std::string_view body, std::string_view content_type) {
  static const std::string invalid
    = "Invalid tags body, must be an object like `{[tagKey: string]: "
      "string}`";
  auto decoded = decode_fields(body, content_type);
  if (std::holds_alternative<std::string>(decoded))
    return invalid;
  std::map<std::string, std::string> out;
  for (auto& [name, f] : std::get<fields>(decoded)) {
    if (f.type != field::kind::string)
      return invalid;
    if (std::any_of(name.begin(), name.end(),
                    [](unsigned char c) { return std::isspace(c) != 0; }))
      return std::string("Tag keys cannot contain whitespace");
    out[name] = f.text;
  }
  return out;
}

// ------------------------------------------------------------- answers --

std::string encode_version() {
  return std::string(R"({"status":"success","version":")") + balena_version
         + "\"}";
}

std::string encode_apps_state(const apps_view& v, const auth::scope& s) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  std::set<std::string> names;
  for (auto& app : v.apps) {
    // Only target apps have a name (balena lists its db's app rows).
    if (app.name.empty() || !s.allows(app.app_id)
        || !names.insert(app.name).second)
      continue;
    key(w, app.name);
    w.StartObject();
    w.Key("appId");
    w.Int64(app.app_id);
    w.Key("appUuid");
    str(w, app.uuid);
    w.Key("commit");
    str(w, app.commit);
    w.Key("updateStatus");
    str(w, app.update_status);
    w.Key("services");
    w.StartObject();
    for (auto& svc : app.services) {
      if (!svc.in_target)
        continue;
      key(w, svc.service_name);
      w.StartObject();
      w.Key("status");
      str(w, svc.status);
      w.Key("image");
      str(w, svc.image);
      w.Key("downloadProgress");
      progress(w, svc.download_progress);
      w.Key("releaseId");
      w.Int64(app.release_id);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  return json_out::text(sb);
}

std::optional<std::string> encode_app_state(const apps_view& v,
                                            int64_t app_id) {
  const auto* app = find_app(v, app_id);
  if (app == nullptr)
    return std::nullopt;
  struct entry {
    std::string status;
    int64_t release_id = 0;
    std::optional<int32_t> progress;
  };
  std::map<int64_t, entry> services;
  // Containers first; two with one imageId are a hand-over.
  for (auto& svc : app->services) {
    if (svc.container_id.empty())
      continue;
    auto [it, fresh] = services.emplace(
      svc.image_id, entry{svc.status, svc.release_id, std::nullopt});
    if (!fresh) {
      it->second.status = "Handing over";
      it->second.release_id = std::min(it->second.release_id, svc.release_id);
    }
  }
  for (auto& svc : app->services)
    if (svc.in_target && svc.container_id.empty())
      services.emplace(svc.image_id, entry{svc.image_status, svc.release_id,
                                           svc.download_progress});
  if (services.empty())
    return std::nullopt;
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  if (!app->current_commit.empty()) {
    w.Key("commit");
    str(w, app->current_commit);
  }
  w.Key("local");
  w.StartObject();
  key(w, std::to_string(app_id));
  w.StartObject();
  w.Key("services");
  w.StartObject();
  for (auto& [image_id, e] : services) {
    key(w, std::to_string(image_id));
    w.StartObject();
    w.Key("status");
    str(w, e.status);
    w.Key("releaseId");
    w.Int64(e.release_id);
    w.Key("download_progress");
    progress(w, e.progress);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_state_status(const apps_view& v, const auth::scope& s) {
  std::vector<const service_view*> containers;
  std::vector<const service_view*> images;
  std::vector<int64_t> app_ids;
  int64_t total = 0;
  int downloads = 0;
  for (auto& app : v.apps) {
    if (!s.allows(app.app_id))
      continue;
    for (auto& svc : app.services)
      if (!svc.container_id.empty()) {
        containers.push_back(&svc);
        app_ids.push_back(app.app_id);
      }
  }
  for (auto& app : v.apps) {
    if (!s.allows(app.app_id))
      continue;
    for (auto& svc : app.services)
      if (svc.in_target) {
        images.push_back(&svc);
        app_ids.push_back(app.app_id);
        if (svc.download_progress) {
          total += *svc.download_progress;
          ++downloads;
        }
      }
  }
  // Like balena, one app only: the first one seen.
  std::optional<int64_t> first;
  if (!app_ids.empty())
    first = app_ids.front();
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("appState");
  w.String(v.applying ? "applying" : "applied");
  w.Key("overallDownloadProgress");
  if (downloads == 0) {
    w.Null();
  } else if (total % downloads == 0) {
    w.Int64(total / downloads);
  } else {
    w.Double(static_cast<double>(total) / downloads);
  }
  w.Key("containers");
  w.StartArray();
  for (auto* c : containers) {
    if (!first || c->app_id != *first)
      continue;
    w.StartObject();
    w.Key("status");
    str(w, c->status);
    w.Key("serviceName");
    str(w, c->service_name);
    w.Key("appId");
    w.Int64(c->app_id);
    w.Key("imageId");
    w.Int64(c->image_id);
    w.Key("serviceId");
    w.Int64(c->service_id);
    w.Key("containerId");
    str(w, c->container_id);
    w.Key("createdAt");
    str_or_null(w, iso_millis(c->created_at));
    w.EndObject();
  }
  w.EndArray();
  w.Key("images");
  w.StartArray();
  for (auto* i : images) {
    if (!first || i->app_id != *first)
      continue;
    w.StartObject();
    w.Key("name");
    str(w, i->image);
    w.Key("appId");
    w.Int64(i->app_id);
    w.Key("serviceName");
    str(w, i->service_name);
    w.Key("imageId");
    w.Int64(i->image_id);
    w.Key("dockerImageId");
    str_or_null(w, i->docker_image_id);
    w.Key("status");
    str(w, i->image_status);
    w.Key("downloadProgress");
    progress(w, i->download_progress);
    w.EndObject();
  }
  w.EndArray();
  if (first)
    if (const auto* app = find_app(v, *first);
        app != nullptr && !app->current_commit.empty()) {
      w.Key("release");
      str(w, app->current_commit);
    }
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_container_ids(const apps_view& v, const auth::scope& s) {
  std::map<std::string, std::string> ids;
  for (auto& app : v.apps)
    if (s.allows(app.app_id))
      for (auto& svc : app.services)
        if (!svc.container_id.empty() && svc.in_target)
          ids[svc.service_name] = svc.container_id;
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("services");
  w.StartObject();
  for (auto& [name, id] : ids) {
    key(w, name);
    str(w, id);
  }
  w.EndObject();
  w.EndObject();
  return json_out::text(sb);
}

std::optional<std::string> encode_container_id(const apps_view& v,
                                               const auth::scope& s,
                                               const std::string& service) {
  for (auto& app : v.apps)
    if (s.allows(app.app_id))
      for (auto& svc : app.services)
        if (!svc.container_id.empty() && svc.in_target
            && svc.service_name == service) {
          rapidjson::StringBuffer sb;
          writer w(sb);
          w.StartObject();
          w.Key("status");
          w.String("success");
          w.Key("containerId");
          str(w, svc.container_id);
          w.EndObject();
          return json_out::text(sb);
        }
  return std::nullopt;
}

bool is_private_env(std::string_view name) {
  return name == "BALENA_SUPERVISOR_API_KEY"
         || name == "RESIN_SUPERVISOR_API_KEY" || name == "BALENA_API_KEY"
         || name == "RESIN_API_KEY";
}

std::variant<std::string, legacy_app_error>
encode_legacy_app(const apps_view& v, int64_t app_id) {
  const auto* app = find_app(v, app_id);
  std::vector<const service_view*> current;
  if (app != nullptr)
    for (auto& svc : app->services)
      if (!svc.container_id.empty())
        current.push_back(&svc);
  if (current.empty())
    return legacy_app_error{"App not found"};
  if (current.size() > 1)
    return legacy_app_error{
      "Some v1 endpoints are only allowed on single-container apps"};
  const auto& svc = *current.front();
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("appId");
  w.Int64(app_id);
  if (!app->current_commit.empty()) {
    w.Key("commit");
    str(w, app->current_commit);
  }
  w.Key("containerId");
  str(w, svc.container_id);
  w.Key("env");
  w.StartObject();
  std::map<std::string, std::string> env;
  for (auto& kv : svc.env) {
    auto eq = kv.find('=');
    auto name = kv.substr(0, eq);
    if (!is_private_env(name))
      env[name] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  for (auto& [k, val] : env) {
    key(w, k);
    str(w, val);
  }
  w.EndObject();
  w.Key("imageId");
  str(w, svc.docker_image_id);
  w.Key("releaseId");
  w.Int64(svc.release_id);
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_legacy_device(const apps_view& v, const device_details& d,
                                 const host_addresses& h, uint16_t api_port) {
  const service_view* first = nullptr;
  const app_view* first_app = nullptr;
  for (auto& app : v.apps)
    if (first_app == nullptr) {
      first_app = &app;
      if (!app.services.empty())
        first = &app.services.front();
    }
  bool downloading = false;
  for (auto& app : v.apps)
    for (auto& svc : app.services)
      downloading = downloading || (svc.in_target && svc.download_progress);
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("api_port");
  w.Uint(api_port);
  w.Key("ip_address");
  str(w, h.ip_address);
  w.Key("os_version");
  str(w, d.os_version);
  w.Key("mac_address");
  str(w, h.mac_address);
  w.Key("supervisor_version");
  w.String(balena_version);
  w.Key("update_pending");
  w.Bool(v.applying);
  w.Key("update_failed");
  w.Bool(v.update_failed);
  w.Key("update_downloaded");
  w.Bool(v.applying && !downloading);
  if (!v.applying && first_app != nullptr
      && !first_app->current_commit.empty()) {
    w.Key("commit");
    str(w, first_app->current_commit);
  }
  if (first != nullptr) {
    w.Key("status");
    str(w, first->status == "Running" ? "Idle" : first->status);
    w.Key("download_progress");
    progress(w, first->download_progress);
  }
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_device_info(const device_details& d) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("info");
  w.StartObject();
  w.Key("arch");
  str(w, d.arch);
  w.Key("deviceType");
  str(w, d.device_type);
  w.EndObject();
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_device_name(const device_details& d) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("deviceName");
  str(w, d.device_name);
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_tags(const std::vector<device_tag>& tags) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("tags");
  w.StartArray();
  for (auto& t : tags) {
    w.StartObject();
    w.Key("id");
    w.Int64(t.id);
    w.Key("name");
    str(w, t.name);
    w.Key("value");
    str(w, t.value);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_container_action(const std::string& container_id) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("containerId");
  str(w, container_id);
  w.EndObject();
  return json_out::text(sb);
}

std::string iso_millis(const std::string& t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (t.size() < 20 || t[10] != 'T' || t.back() != 'Z')
    return t;
  auto seconds_end = t.find_first_of(".Z", 19);
  if (seconds_end != 19)
    return t;
  std::string frac;
  if (t[19] == '.')
    frac = t.substr(20, t.size() - 21);
  if (!std::all_of(frac.begin(), frac.end(),
                   [](unsigned char c) { return std::isdigit(c) != 0; }))
    return t;
  frac.resize(3, '0');
  return t.substr(0, 19) + "." + frac + "Z";
}

} // namespace bosun::api
