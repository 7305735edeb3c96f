#include "tools/cloud-sim/device_api.hpp"

#include "tools/cloud-sim/json.hpp"

#include <cctype>
#include <set>

namespace bosun::cloud_sim {

namespace {

device_response reply(int status, std::string body = {}) {
  device_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

device_response error(int status, std::string_view message) {
  return reply(status, json::error(message));
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && s.substr(s.size() - suffix.size()) == suffix;
}

// A single path segment: no '/', not empty.
bool segment(std::string_view s) {
  return !s.empty() && s.find('/') == std::string_view::npos;
}

// Who may touch a device through /v7 and /api-key: the device itself, or
// its fleet's provisioning key.
bool may_manage(model& m, const device& d, const std::string& key) {
  if (key.empty())
    return false;
  if (d.api_key == key)
    return true;
  const fleet* f = m.fleet_for_key(key);
  return f != nullptr && f->id == d.fleet;
}

std::optional<rapidjson::Document> parse_object(const std::string& body) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str(), body.size()).HasParseError() || !doc.IsObject())
    return std::nullopt;
  return doc;
}

device_response do_register(model& m, const device_request& req,
                            int64_t now_ms) {
  const fleet* f = m.fleet_for_key(bearer(req.authorization));
  if (f == nullptr)
    return error(401, "unknown provisioning key");
  auto doc = parse_object(req.body);
  if (!doc)
    return error(400, "body is not a JSON object");
  auto uuid = json::get_string(*doc, "uuid");
  if (!uuid || uuid->empty())
    return error(400, "uuid missing");
  auto app = json::get_int(*doc, "application");
  if (json::member(*doc, "application") != nullptr && app != f->id)
    return error(403, "the provisioning key is not for that application");
  if (m.find_device(*uuid) != nullptr)
    return error(409, "a device with that uuid exists");
  device d;
  d.uuid = *uuid;
  d.api_key = json::get_string(*doc, "api_key").value_or("");
  d.fleet = f->id;
  d.device_type = json::get_string(*doc, "device_type").value_or("");
  int64_t id = 0;
  if (m.add_device(std::move(d), &id) != outcome::ok)
    return error(409, "that api_key belongs to another device");
  m.add_record(record_kind::registration, now_ms, *uuid, "", req.body);
  rapidjson::StringBuffer sb;
  json::writer w(sb);
  w.StartObject();
  w.Key("id");
  w.Int64(id);
  w.Key("uuid");
  json::string(w, *uuid);
  w.Key("api_key");
  json::string(w, m.find_device(*uuid)->api_key);
  w.Key("device_type");
  json::string(w, m.find_device(*uuid)->device_type);
  w.EndObject();
  return reply(201, sb.GetString());
}

device_response state_get(model& m, const route_match& match,
                          const device_request& req) {
  device* d = m.device_for_key(bearer(req.authorization));
  if (d == nullptr || d->uuid != match.uuid)
    return error(401, "Unauthorized");
  const std::string& etag = m.target_etag(*d);
  device_response r;
  r.headers.emplace_back("ETag", etag);
  // If-None-Match may list several validators, or be "*".
  std::string_view inm = req.if_none_match;
  while (!inm.empty()) {
    auto comma = inm.find(',');
    auto item = inm.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item == etag || item == "*") {
      r.status = 304;
      return r;
    }
    if (comma == std::string_view::npos)
      break;
    inm.remove_prefix(comma + 1);
  }
  r.body = m.target_body(*d);
  return r;
}

device_response state_patch(model& m, const device_request& req,
                            int64_t now_ms) {
  device* d = m.device_for_key(bearer(req.authorization));
  if (d == nullptr)
    return error(401, "Unauthorized");
  auto doc = parse_object(req.body);
  if (!doc)
    return error(400, "body is not a JSON object");
  for (auto& entry : doc->GetObject()) {
    if (std::string_view(entry.name.GetString()) != d->uuid)
      return error(403, "report for another device");
    if (!entry.value.IsObject())
      return error(400, "a device's report must be an object");
  }
  auto it = doc->FindMember(d->uuid);
  if (it != doc->MemberEnd())
    for (auto& field : it->value.GetObject())
      d->reported[field.name.GetString()] = json::to_string(field.value);
  ++d->reports;
  d->last_report_ms = now_ms;
  m.add_record(record_kind::report, now_ms, d->uuid, "", json::to_string(*doc));
  return reply(200);
}

void write_device(json::writer& w, const device& d,
                  const std::set<std::string>& select) {
  auto want
    = [&](const char* f) { return select.empty() || select.count(f) != 0; };
  w.StartObject();
  if (want("id")) {
    w.Key("id");
    w.Int64(d.id);
  }
  if (want("uuid")) {
    w.Key("uuid");
    json::string(w, d.uuid);
  }
  if (want("device_name")) {
    w.Key("device_name");
    json::string(w, d.name);
  }
  if (want("belongs_to__application")) {
    w.Key("belongs_to__application");
    w.StartObject();
    w.Key("__id");
    w.Int64(d.fleet);
    w.EndObject();
  }
  w.EndObject();
}

device_response v7_device_get(model& m, const device_request& req) {
  if (req.authorization.empty())
    return error(401, "Unauthorized");
  auto key = bearer(req.authorization);
  auto q = parse_query(req.query);
  std::set<std::string> select;
  if (auto it = q.find("$select"); it != q.end()) {
    std::string_view s = it->second;
    while (!s.empty()) {
      auto comma = s.find(',');
      auto item = s.substr(0, comma);
      if (!item.empty())
        select.emplace(item);
      if (comma == std::string_view::npos)
        break;
      s.remove_prefix(comma + 1);
    }
  }
  std::optional<std::string> uuid;
  if (auto it = q.find("$filter"); it != q.end()) {
    uuid = filter_uuid(it->second);
    if (!uuid)
      return error(400, "unsupported $filter (only uuid eq '<uuid>')");
  }
  // An unknown key is a guest: it sees no device, as in balena.
  std::vector<const device*> seen;
  if (uuid) {
    if (const device* d = m.find_device(*uuid); d && may_manage(m, *d, key))
      seen.push_back(d);
  } else if (const device* d = m.device_for_key(key)) {
    seen.push_back(d);
  } else if (const fleet* f = m.fleet_for_key(key)) {
    for (auto& [id, dev] : m.devices())
      if (dev.fleet == f->id)
        seen.push_back(&dev);
  }
  rapidjson::StringBuffer sb;
  json::writer w(sb);
  w.StartObject();
  w.Key("d");
  w.StartArray();
  for (auto* d : seen)
    write_device(w, *d, select);
  w.EndArray();
  w.EndObject();
  return reply(200, sb.GetString());
}

device_response v7_device_patch(model& m, const route_match& match,
                                const device_request& req, int64_t now_ms) {
  auto key = bearer(req.authorization);
  device* d
    = match.uuid.empty() ? m.device_by_id(match.id) : m.find_device(match.uuid);
  if (key.empty() || (d != nullptr && !may_manage(m, *d, key)))
    return error(401, "Unauthorized");
  if (d == nullptr)
    return error(404, "no such device");
  auto doc = parse_object(req.body);
  if (!doc)
    return error(400, "body is not a JSON object");
  if (auto name = json::get_string(*doc, "device_name")) {
    d->name = *name;
    m.changed(*d);
  }
  m.add_record(record_kind::api_call, now_ms, d->uuid,
               req.method + " " + req.path, json::to_string(*doc));
  return reply(200, "\"OK\"");
}

device_response v7_config_variable(model& m, const device_request& req,
                                   int64_t now_ms) {
  auto key = bearer(req.authorization);
  if (key.empty())
    return error(401, "Unauthorized");
  auto doc = parse_object(req.body);
  if (!doc)
    return error(400, "body is not a JSON object");
  auto name = json::get_string(*doc, "name");
  auto value = json::get_string(*doc, "value");
  std::optional<int64_t> id = json::get_int(*doc, "device");
  if (auto* dv = json::member(*doc, "device"); !id && dv != nullptr)
    id = json::get_int(*dv, "__id");
  if (!name || name->empty() || !value || !id)
    return error(400, "name, value and device are required");
  device* d = m.device_by_id(*id);
  if (d != nullptr && !may_manage(m, *d, key))
    return error(401, "Unauthorized");
  if (d == nullptr)
    return error(404, "no such device");
  m.add_record(record_kind::api_call, now_ms, d->uuid,
               req.method + " " + req.path, json::to_string(*doc));
  if (d->config_vars.count(*name) != 0)
    return error(409, "that variable exists on the device");
  d->config_vars[*name] = *value;
  m.changed(*d);
  rapidjson::StringBuffer sb;
  json::writer w(sb);
  w.StartObject();
  w.Key("name");
  json::string(w, *name);
  w.Key("value");
  json::string(w, *value);
  w.Key("device");
  w.StartObject();
  w.Key("__id");
  w.Int64(d->id);
  w.EndObject();
  w.EndObject();
  return reply(201, sb.GetString());
}

device_response device_key(model& m, const route_match& match,
                           const device_request& req, int64_t now_ms) {
  const fleet* f = m.fleet_for_key(bearer(req.authorization));
  if (f == nullptr)
    return error(401, "Unauthorized");
  device* d = m.device_by_id(match.id);
  if (d == nullptr || d->fleet != f->id)
    return error(404, "no such device in this fleet");
  auto doc = parse_object(req.body);
  if (!doc)
    return error(400, "body is not a JSON object");
  auto key = json::get_string(*doc, "apiKey");
  if (!key || key->empty())
    return error(400, "apiKey missing");
  auto uuid = d->uuid;
  if (m.set_device_key(match.id, *key) != outcome::ok)
    return error(409, "that key belongs to another device");
  m.add_record(record_kind::api_call, now_ms, uuid, req.method + " " + req.path,
               json::to_string(*doc));
  rapidjson::StringBuffer sb;
  json::writer w(sb);
  json::string(w, *key);
  return reply(200, sb.GetString());
}

} // namespace

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0
        && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    auto eq = item.find('=');
    if (!item.empty()) {
      if (eq == std::string_view::npos)
        out[percent_decode(item, true)] = "";
      else
        out[percent_decode(item.substr(0, eq), true)]
          = percent_decode(item.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::string> filter_uuid(std::string_view filter) {
  auto pos = filter.find("uuid");
  while (pos != std::string_view::npos) {
    auto rest = filter.substr(pos + 4);
    while (!rest.empty() && rest.front() == ' ')
      rest.remove_prefix(1);
    if (starts_with(rest, "eq")) {
      rest.remove_prefix(2);
      while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
      if (!rest.empty() && rest.front() == '\'') {
        rest.remove_prefix(1);
        auto end = rest.find('\'');
        if (end != std::string_view::npos && end > 0)
          return std::string(rest.substr(0, end));
      }
    }
    pos = filter.find("uuid", pos + 4);
  }
  return std::nullopt;
}

std::string bearer(const std::string& authorization) {
  std::string_view a = authorization;
  if (a.size() < 7)
    return {};
  for (size_t i = 0; i < 6; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != "bearer"[i])
      return {};
  if (a[6] != ' ')
    return {};
  a.remove_prefix(7);
  while (!a.empty() && a.front() == ' ')
    a.remove_prefix(1);
  while (!a.empty() && a.back() == ' ')
    a.remove_suffix(1);
  return std::string(a);
}

route_match classify(const std::string& method, const std::string& path) {
  route_match m;
  std::string_view p = path;
  if (p == "/device/register") {
    if (method == "POST")
      m.r = route::register_device;
  } else if (p == "/device/v3/state") {
    if (method == "PATCH")
      m.r = route::state_patch;
  } else if (starts_with(p, "/device/v3/") && ends_with(p, "/state")) {
    auto uuid = p.substr(11, p.size() - 11 - 6);
    if (method == "GET" && segment(uuid)) {
      m.r = route::state_get;
      m.uuid = std::string(uuid);
    }
  } else if (starts_with(p, "/device/v2/") && ends_with(p, "/log-stream")) {
    auto uuid = p.substr(11, p.size() - 11 - 11);
    if (method == "POST" && segment(uuid)) {
      m.r = route::log_stream;
      m.uuid = std::string(uuid);
    }
  } else if (p == "/v7/device") {
    if (method == "GET") {
      m.r = route::v7;
      m.v7 = route_match::device_get;
    }
  } else if (p == "/v7/device_config_variable") {
    if (method == "POST") {
      m.r = route::v7;
      m.v7 = route_match::config_variable;
    }
  } else if (starts_with(p, "/v7/device(") && ends_with(p, ")")) {
    auto inner = p.substr(11, p.size() - 12);
    if (starts_with(inner, "id="))
      inner.remove_prefix(3);
    auto id = json::parse_int(inner);
    if (method == "PATCH") {
      if (id) {
        m.r = route::v7;
        m.v7 = route_match::device_patch;
        m.id = *id;
      } else if (starts_with(inner, "uuid='") && ends_with(inner, "'")
                 && inner.size() > 7) {
        m.r = route::v7;
        m.v7 = route_match::device_patch;
        m.uuid = std::string(inner.substr(6, inner.size() - 7));
      }
    }
  } else if (starts_with(p, "/api-key/device/")
             && ends_with(p, "/device-key")) {
    auto id = json::parse_int(p.substr(16, p.size() - 16 - 11));
    if (method == "POST" && id) {
      m.r = route::device_key;
      m.id = *id;
    }
  }
  return m;
}

std::string attribute(model& m, const route_match& match,
                      const std::string& authorization) {
  if (!match.uuid.empty())
    return match.uuid;
  if (const device* d = m.device_for_key(bearer(authorization)))
    return d->uuid;
  if (match.id != 0)
    if (const device* d = m.device_by_id(match.id))
      return d->uuid;
  return {};
}

device_response handle(model& m, const route_match& match,
                       const device_request& req, int64_t now_ms) {
  switch (match.r) {
    case route::register_device:
      return do_register(m, req, now_ms);
    case route::state_get:
      return state_get(m, match, req);
    case route::state_patch:
      return state_patch(m, req, now_ms);
    case route::v7:
      switch (match.v7) {
        case route_match::device_get:
          return v7_device_get(m, req);
        case route_match::device_patch:
          return v7_device_patch(m, match, req, now_ms);
        case route_match::config_variable:
          return v7_config_variable(m, req, now_ms);
        case route_match::none:
          break;
      }
      break;
    case route::device_key:
      return device_key(m, match, req, now_ms);
    case route::log_stream: // streamed: see log_session
    case route::other:
      break;
  }
  return error(404, "no such route: " + req.method + " " + req.path);
}

std::optional<device_response> check_log_stream(model& m,
                                                const route_match& match,
                                                const device_request& req) {
  device* d = m.device_for_key(bearer(req.authorization));
  if (d == nullptr || d->uuid != match.uuid)
    return error(401, "Unauthorized");
  if (!req.content_encoding.empty() && req.content_encoding != "gzip"
      && req.content_encoding != "identity")
    return error(415, "Content-Encoding must be gzip");
  return std::nullopt;
}

log_session::log_session(std::string uuid, bool gzip)
    : uuid_(std::move(uuid)), inflater_(gzip) {}

bool log_session::feed(model& m, const char* data, size_t size,
                       int64_t now_ms) {
  return inflater_.feed(
    data, size, [&](std::string_view line) { record_line(m, line, now_ms); });
}

void log_session::record_line(model& m, std::string_view line, int64_t now_ms) {
  rapidjson::Document doc;
  std::string body;
  if (doc.Parse(line.data(), line.size()).HasParseError()) {
    // Kept, flagged, so a test sees what the agent really sent.
    ++invalid_;
    rapidjson::StringBuffer sb;
    json::writer w(sb);
    w.StartObject();
    w.Key("invalid_line");
    json::string(w, line);
    w.EndObject();
    body.assign(sb.GetString(), sb.GetSize());
  } else {
    body = json::to_string(doc);
  }
  ++lines_;
  if (device* d = m.find_device(uuid_))
    ++d->log_lines;
  m.add_record(record_kind::log, now_ms, uuid_, "", std::move(body));
}

device_response log_session::finish(model& m, int64_t now_ms) {
  bool ok = inflater_.finish(
    [&](std::string_view line) { record_line(m, line, now_ms); });
  if (!ok)
    return error(400, inflater_.error());
  rapidjson::StringBuffer sb;
  json::writer w(sb);
  w.StartObject();
  w.Key("lines");
  w.Uint64(lines_);
  w.Key("invalid_lines");
  w.Uint64(invalid_);
  w.EndObject();
  return reply(200, sb.GetString());
}

} // namespace bosun::cloud_sim
