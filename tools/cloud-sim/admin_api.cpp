#include "tools/cloud-sim/admin_api.hpp"

#include "tools/cloud-sim/device_api.hpp"
#include "tools/cloud-sim/json.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace bosun::cloud_sim {

namespace {

using json::writer;

admin_reply ok_json(std::string body, int status = 200) {
  return {status, std::move(body)};
}

admin_reply fail(int status, std::string_view message) {
  return {status, json::error(message)};
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::string_view p = path;
  while (!p.empty()) {
    auto slash = p.find('/');
    auto seg = p.substr(0, slash);
    if (!seg.empty())
      out.push_back(percent_decode(seg, false));
    if (slash == std::string_view::npos)
      break;
    p.remove_prefix(slash + 1);
  }
  return out;
}

int status_of(outcome o) {
  switch (o) {
    case outcome::ok:
      return 200;
    case outcome::conflict:
      return 409;
    case outcome::not_found:
      return 404;
    case outcome::invalid:
      return 400;
  }
  return 500;
}

// {"KEY":"value",...}; every value a string, as in balena.
bool read_config(const rapidjson::Value& obj, const char* key, config_map& out,
                 std::string& err) {
  auto* c = json::member(obj, key);
  if (c == nullptr || c->IsNull())
    return true;
  if (!c->IsObject()) {
    err = std::string(key) + " must be an object";
    return false;
  }
  for (auto& kv : c->GetObject()) {
    if (!kv.value.IsString()) {
      err = std::string(key) + " values must be strings";
      return false;
    }
    out[kv.name.GetString()] = kv.value.GetString();
  }
  return true;
}

bool read_apps(const rapidjson::Value& obj, std::string& out, std::string& err,
               bool required) {
  auto* a = json::member(obj, "apps");
  if (a == nullptr) {
    if (required)
      err = "apps missing";
    return !required;
  }
  if (!a->IsObject()) {
    err = "apps must be an object";
    return false;
  }
  out = json::to_string(*a);
  return true;
}

bool read_device_target(const rapidjson::Value& v, device_target& t,
                        std::string& err) {
  if (!v.IsObject()) {
    err = "target must be an object";
    return false;
  }
  if (auto* n = json::member(v, "name")) {
    if (!n->IsString()) {
      err = "name must be a string";
      return false;
    }
    t.name = n->GetString();
  }
  return read_config(v, "config", t.config, err)
         && read_apps(v, t.apps, err, true);
}

void write_config(writer& w, const config_map& c) {
  w.StartObject();
  for (auto& [k, v] : c) {
    json::key(w, k);
    json::string(w, v);
  }
  w.EndObject();
}

void write_traffic(writer& w, const route_traffic& t) {
  w.StartObject();
  for (size_t i = 0; i < route_count; ++i) {
    json::key(w, route_names[i]);
    w.StartObject();
    w.Key("requests");
    w.Uint64(t[i].requests);
    w.Key("bytes_in");
    w.Uint64(t[i].bytes_in);
    w.Key("bytes_out");
    w.Uint64(t[i].bytes_out);
    w.Key("statuses");
    w.StartObject();
    for (auto& [status, n] : t[i].statuses) {
      json::key(w, std::to_string(status));
      w.Uint64(n);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
}

void write_fleet(writer& w, const fleet& f) {
  w.StartObject();
  w.Key("id");
  w.Int64(f.id);
  w.Key("name");
  json::string(w, f.name);
  w.Key("provisioning_key");
  json::string(w, f.provisioning_key);
  w.Key("config");
  write_config(w, f.config);
  w.Key("apps");
  json::raw(w, f.apps);
  w.Key("version");
  w.Uint64(f.version);
  w.EndObject();
}

void write_target(writer& w, const device_target& t) {
  w.StartObject();
  if (t.name) {
    w.Key("name");
    json::string(w, *t.name);
  }
  w.Key("config");
  write_config(w, t.config);
  w.Key("apps");
  json::raw(w, t.apps);
  w.EndObject();
}

// The fields a state file holds, then (full) what the device did.
void write_device(writer& w, model& m, device& d, bool full) {
  w.StartObject();
  w.Key("id");
  w.Int64(d.id);
  w.Key("uuid");
  json::string(w, d.uuid);
  w.Key("api_key");
  json::string(w, d.api_key);
  w.Key("fleet");
  w.Int64(d.fleet);
  w.Key("name");
  json::string(w, d.name);
  w.Key("device_type");
  json::string(w, d.device_type);
  if (!d.config_vars.empty()) {
    w.Key("config_vars");
    write_config(w, d.config_vars);
  }
  if (d.target) {
    w.Key("target");
    write_target(w, *d.target);
  }
  if (full) {
    w.Key("reports");
    w.Uint64(d.reports);
    w.Key("log_lines");
    w.Uint64(d.log_lines);
    w.Key("last_report_ms");
    w.Int64(d.last_report_ms);
    w.Key("last_seen_ms");
    w.Int64(d.last_seen_ms);
    w.Key("etag");
    json::string(w, m.target_etag(d));
  }
  w.EndObject();
}

std::string text(const rapidjson::StringBuffer& sb) {
  return {sb.GetString(), sb.GetSize()};
}

// Accepts one object or an array of them.
template <class F>
std::string for_each_item(const rapidjson::Value& v, F&& f) {
  if (v.IsArray()) {
    for (auto& item : v.GetArray())
      if (auto err = f(item); !err.empty())
        return err;
    return {};
  }
  return f(v);
}

std::string add_fleet(model& m, const rapidjson::Value& v, int& status) {
  status = 400;
  if (!v.IsObject())
    return "a fleet must be an object";
  fleet f;
  auto id = json::get_int(v, "id");
  if (!id)
    return "fleet id missing";
  f.id = *id;
  f.name = json::get_string(v, "name").value_or("fleet-" + std::to_string(*id));
  f.provisioning_key = json::get_string(v, "provisioning_key").value_or("");
  std::string err;
  if (!read_config(v, "config", f.config, err)
      || !read_apps(v, f.apps, err, false))
    return err;
  auto o = m.add_fleet(std::move(f));
  status = status_of(o);
  if (o != outcome::ok)
    return "fleet " + std::to_string(*id) + ": id or key taken";
  return {};
}

std::string add_device(model& m, const rapidjson::Value& v, int& status) {
  status = 400;
  if (!v.IsObject())
    return "a device must be an object";
  device d;
  auto uuid = json::get_string(v, "uuid");
  auto fleet_id = json::get_int(v, "fleet");
  if (!uuid || uuid->empty() || !fleet_id)
    return "uuid and fleet are required";
  d.uuid = *uuid;
  d.fleet = *fleet_id;
  d.api_key = json::get_string(v, "api_key").value_or("");
  d.id = json::get_int(v, "id").value_or(0);
  d.name = json::get_string(v, "name").value_or("");
  d.device_type = json::get_string(v, "device_type").value_or("");
  std::string err;
  if (!read_config(v, "config_vars", d.config_vars, err))
    return err;
  if (auto* t = json::member(v, "target"); t != nullptr && !t->IsNull()) {
    device_target target;
    if (!read_device_target(*t, target, err))
      return err;
    d.target = std::move(target);
  }
  auto o = m.add_device(std::move(d));
  status = status_of(o);
  if (o == outcome::not_found)
    return "device " + *uuid + ": no fleet " + std::to_string(*fleet_id);
  if (o != outcome::ok)
    return "device " + *uuid + ": uuid, api_key or id taken";
  return {};
}

std::optional<fault> read_fault(const rapidjson::Value& v, std::string& err) {
  auto mode_name = json::get_string(v, "mode");
  auto mode = mode_name ? fault_mode_from_name(*mode_name) : std::nullopt;
  if (!mode) {
    err = "mode must be status, delay, drop, stall, flap or hangup";
    return std::nullopt;
  }
  fault f;
  f.mode = *mode;
  auto number = [&](const char* key, int64_t fallback, int64_t lo,
                    int64_t hi) -> std::optional<int64_t> {
    auto* m = json::member(v, key);
    if (m == nullptr)
      return fallback;
    auto n = json::as_int(*m);
    if (!n || *n < lo || *n > hi) {
      err = std::string(key) + " must be an integer in [" + std::to_string(lo)
            + ", " + std::to_string(hi) + "]";
      return std::nullopt;
    }
    return n;
  };
  auto status
    = number("status", f.mode == fault_mode::status ? 500 : 503, 100, 599);
  auto ms = number("ms", f.mode == fault_mode::hangup ? 0 : 1000, 0, 3600000);
  auto up = number("up_ms", 1000, 0, 3600000);
  auto down = number("down_ms", 1000, 1, 3600000);
  if (!status || !ms || !up || !down)
    return std::nullopt;
  f.status = static_cast<int>(*status);
  f.delay = std::chrono::milliseconds(*ms);
  f.up = std::chrono::milliseconds(*up);
  f.down = std::chrono::milliseconds(*down);
  if (json::member(v, "count") != nullptr) {
    auto count = number("count", 0, 1, 1000000000);
    if (!count)
      return std::nullopt;
    f.remaining = static_cast<uint64_t>(*count);
  }
  if (auto* b = json::member(v, "body"))
    f.body = json::to_string(*b);
  if (auto* r = json::member(v, "retry_after")) {
    if (r->IsString())
      f.retry_after = r->GetString();
    else if (auto n = json::as_int(*r))
      f.retry_after = std::to_string(*n);
  }
  return f;
}

void write_faults(writer& w, const fault_table& t, steady::time_point now) {
  w.StartObject();
  for (size_t i = 0; i < route_count; ++i) {
    auto& f = t.get(static_cast<route>(i));
    if (!f)
      continue;
    json::key(w, route_names[i]);
    w.StartObject();
    w.Key("mode");
    w.String(name_of(f->mode));
    switch (f->mode) {
      case fault_mode::status:
        w.Key("status");
        w.Int(f->status);
        break;
      case fault_mode::delay:
      case fault_mode::hangup:
        w.Key("ms");
        w.Int64(f->delay.count());
        break;
      case fault_mode::flap:
        w.Key("status");
        w.Int(f->status);
        w.Key("up_ms");
        w.Int64(f->up.count());
        w.Key("down_ms");
        w.Int64(f->down.count());
        break;
      case fault_mode::drop:
      case fault_mode::stall:
        break;
    }
    if (f->remaining) {
      w.Key("remaining");
      w.Uint64(*f->remaining);
    }
    w.Key("hits");
    w.Uint64(f->hits);
    w.Key("age_ms");
    w.Int64(
      std::chrono::duration_cast<std::chrono::milliseconds>(now - f->since)
        .count());
    w.EndObject();
  }
  w.EndObject();
}

// {"name","count","tag","arrived":[{"shard","ms","run"}],"missing":[…],
//  "open","opened_ms"}
void write_barrier(writer& w, const std::string& name, const barrier& b) {
  w.StartObject();
  w.Key("name");
  json::string(w, name);
  w.Key("count");
  w.Uint64(b.count);
  w.Key("tag");
  json::string(w, b.tag);
  w.Key("arrived");
  w.StartArray();
  for (auto& [shard, a] : b.arrived) {
    w.StartObject();
    w.Key("shard");
    w.Uint64(shard);
    w.Key("ms");
    w.Int64(a.ms);
    w.Key("run");
    json::string(w, a.run);
    w.EndObject();
  }
  w.EndArray();
  w.Key("missing");
  w.StartArray();
  for (size_t i = 0; i < b.count; ++i)
    if (b.arrived.count(i) == 0)
      w.Uint64(i);
  w.EndArray();
  w.Key("open");
  w.Bool(b.open());
  w.Key("opened_ms");
  if (b.opened_ms)
    w.Int64(*b.opened_ms);
  else
    w.Null();
  w.EndObject();
}

} // namespace

admin_api::admin_api(model& m, fault_table& faults,
                     std::function<void()> faults_changed,
                     std::function<int64_t()> wall_ms)
    : m_(m), faults_(faults), faults_changed_(std::move(faults_changed)),
      wall_ms_(std::move(wall_ms)) {}

int64_t admin_api::system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string admin_api::load_state(const std::string& text) {
  rapidjson::Document doc;
  if (doc.Parse(text.c_str(), text.size()).HasParseError() || !doc.IsObject())
    return "state: not a JSON object";
  int status = 0;
  if (auto* fleets = json::member(doc, "fleets")) {
    if (!fleets->IsArray())
      return "state: fleets must be an array";
    for (auto& f : fleets->GetArray())
      if (auto err = add_fleet(m_, f, status); !err.empty())
        return err;
  }
  if (auto* devices = json::member(doc, "devices")) {
    if (!devices->IsArray())
      return "state: devices must be an array";
    for (auto& d : devices->GetArray())
      if (auto err = add_device(m_, d, status); !err.empty())
        return err;
  }
  return {};
}

admin_reply admin_api::handle(const std::string& method,
                              const std::string& path, const std::string& query,
                              const std::string& body, steady::time_point now) {
  std::string matched;
  auto r = dispatch(method, path, query, body, now, matched);
  if (!matched.empty())
    ++calls_[matched];
  return r;
}

admin_reply admin_api::dispatch(const std::string& method,
                                const std::string& path,
                                const std::string& query,
                                const std::string& body, steady::time_point now,
                                std::string& matched) {
  auto seg = split_path(path);
  auto q = parse_query(query);
  auto n = seg.size();
  rapidjson::Document doc; // Null when there is no body
  if (!body.empty() && (method == "POST" || method == "PUT")
      && doc.Parse(body.c_str(), body.size()).HasParseError())
    return fail(400, "body is not JSON");
  rapidjson::StringBuffer sb;
  writer w(sb);
  auto is = [&](const char* m, std::initializer_list<const char*> parts) {
    if (method != m || parts.size() != n)
      return false;
    size_t i = 0;
    for (auto* p : parts) {
      if (*p != '*' && seg[i] != p)
        return false;
      ++i;
    }
    matched = method + " ";
    for (auto* p : parts)
      matched += std::string("/") + p;
    return true;
  };

  if (is("GET", {"health"}))
    return ok_json("{\"ok\":true}");

  // -- whole state -----------------------------------------------------------
  if (is("GET", {"state"})) {
    w.StartObject();
    w.Key("fleets");
    w.StartArray();
    for (auto& [id, f] : m_.fleets())
      write_fleet(w, f);
    w.EndArray();
    w.Key("devices");
    w.StartArray();
    std::vector<std::string> uuids;
    for (auto& [uuid, d] : m_.devices())
      uuids.push_back(uuid);
    std::sort(uuids.begin(), uuids.end());
    for (auto& uuid : uuids)
      write_device(w, m_, *m_.find_device(uuid), false);
    w.EndArray();
    w.EndObject();
    return ok_json(text(sb));
  }
  if (is("POST", {"state"})) {
    if (auto err = load_state(body); !err.empty())
      return fail(400, err);
    return ok_json("{\"ok\":true}");
  }
  if (is("POST", {"reset"})) {
    // Barriers stay unless everything goes: a shard may reset while
    // another one waits at one.
    if (q.count("everything") != 0) {
      m_.reset_all();
      faults_.clear_all();
      faults_changed_();
      barriers_.clear();
    } else {
      m_.reset_records();
    }
    calls_.clear();
    return ok_json("{\"ok\":true}");
  }
  if (is("GET", {"admin-calls"})) {
    w.StartObject();
    for (auto& [r, count] : calls_) {
      json::key(w, r);
      w.Uint64(count);
    }
    w.EndObject();
    return ok_json(text(sb));
  }

  // -- barriers (fleet-sim's shards) -----------------------------------------
  if (is("GET", {"barriers"})) {
    w.StartObject();
    for (auto& [name, b] : barriers_.all()) {
      json::key(w, name);
      write_barrier(w, name, b);
    }
    w.EndObject();
    return ok_json(text(sb));
  }
  if (is("DELETE", {"barriers"})) {
    barriers_.clear();
    return ok_json("{\"ok\":true}");
  }
  if (is("GET", {"barriers", "*"})) {
    auto* b = barriers_.find(seg[1]);
    if (b == nullptr)
      return fail(404, "no such barrier");
    write_barrier(w, seg[1], *b);
    return ok_json(text(sb));
  }
  if (is("POST", {"barriers", "*"})) {
    auto shard = json::get_int(doc, "shard");
    auto count = json::get_int(doc, "count");
    if (!shard || !count || *shard < 0 || *count < 1)
      return fail(400, "shard and count are required (count >= 1)");
    std::string why;
    auto o = barriers_.arrive(
      seg[1], static_cast<size_t>(*shard), static_cast<size_t>(*count),
      json::get_string(doc, "tag").value_or(""),
      json::get_string(doc, "run").value_or(""), wall_ms_(), why);
    if (o != outcome::ok)
      return fail(status_of(o), why);
    write_barrier(w, seg[1], *barriers_.find(seg[1]));
    return ok_json(text(sb));
  }

  // -- fleets ----------------------------------------------------------------
  if (is("GET", {"fleets"})) {
    w.StartArray();
    for (auto& [id, f] : m_.fleets())
      write_fleet(w, f);
    w.EndArray();
    return ok_json(text(sb));
  }
  if (is("POST", {"fleets"})) {
    int status = 201;
    auto err = for_each_item(
      doc, [&](const rapidjson::Value& v) { return add_fleet(m_, v, status); });
    if (!err.empty())
      return fail(status, err);
    return ok_json("{\"ok\":true}", 201);
  }
  if (n >= 2 && seg[0] == "fleets") {
    auto fleet_id = json::parse_int(seg[1]);
    if (!fleet_id)
      return fail(400, "fleet id must be a number");
    const fleet* f = m_.find_fleet(*fleet_id);
    if (is("GET", {"fleets", "*"})) {
      if (f == nullptr)
        return fail(404, "no such fleet");
      write_fleet(w, *f);
      return ok_json(text(sb));
    }
    if (is("DELETE", {"fleets", "*"})) {
      auto o = m_.remove_fleet(*fleet_id);
      if (o != outcome::ok)
        return fail(status_of(o), o == outcome::conflict
                                    ? "the fleet still has devices"
                                    : "no such fleet");
      return ok_json("{\"ok\":true}");
    }
    if (is("PUT", {"fleets", "*", "target"})) {
      config_map config;
      std::string apps, err;
      if (!doc.IsObject() || !read_config(doc, "config", config, err)
          || !read_apps(doc, apps, err, true))
        return fail(400, err.empty() ? "body must be an object" : err);
      auto o
        = m_.set_fleet_target(*fleet_id, std::move(config), std::move(apps));
      if (o != outcome::ok)
        return fail(status_of(o), "no such fleet");
      w.StartObject();
      w.Key("version");
      w.Uint64(m_.find_fleet(*fleet_id)->version);
      w.EndObject();
      return ok_json(text(sb));
    }
  }

  // -- devices ---------------------------------------------------------------
  if (is("GET", {"devices"})) {
    std::optional<int64_t> only;
    if (auto it = q.find("fleet"); it != q.end())
      only = json::parse_int(it->second);
    std::vector<device*> list;
    for (auto& [uuid, d] : m_.devices())
      if (!only || d.fleet == *only)
        list.push_back(m_.find_device(uuid));
    std::sort(list.begin(), list.end(),
              [](const device* a, const device* b) { return a->id < b->id; });
    w.StartArray();
    for (auto* d : list)
      write_device(w, m_, *d, true);
    w.EndArray();
    return ok_json(text(sb));
  }
  if (is("POST", {"devices"})) {
    int status = 201;
    auto err = for_each_item(doc, [&](const rapidjson::Value& v) {
      return add_device(m_, v, status);
    });
    if (!err.empty())
      return fail(status, err);
    return ok_json("{\"ok\":true}", 201);
  }
  if (n >= 2 && seg[0] == "devices") {
    device* d = m_.find_device(seg[1]);
    if (d == nullptr)
      return fail(404, "no such device");
    if (is("GET", {"devices", "*"})) {
      w.StartObject();
      w.Key("device");
      write_device(w, m_, *d, true);
      w.Key("reported");
      w.StartObject();
      for (auto& [k, v] : d->reported) {
        json::key(w, k);
        json::raw(w, v);
      }
      w.EndObject();
      w.Key("counts");
      write_traffic(w, d->counts);
      w.EndObject();
      return ok_json(text(sb));
    }
    if (is("DELETE", {"devices", "*"})) {
      m_.remove_device(seg[1]);
      return ok_json("{\"ok\":true}");
    }
    if (is("GET", {"devices", "*", "target"})) {
      w.StartObject();
      w.Key("etag");
      json::string(w, m_.target_etag(*d));
      w.Key("target");
      json::raw(w, m_.target_body(*d));
      w.EndObject();
      return ok_json(text(sb));
    }
    if (is("PUT", {"devices", "*", "target"})) {
      device_target t;
      std::string err;
      if (!read_device_target(doc, t, err))
        return fail(400, err);
      m_.set_device_target(seg[1], std::move(t));
      w.StartObject();
      w.Key("etag");
      json::string(w, m_.target_etag(*d));
      w.EndObject();
      return ok_json(text(sb));
    }
    if (is("DELETE", {"devices", "*", "target"})) {
      m_.set_device_target(seg[1], std::nullopt);
      w.StartObject();
      w.Key("etag");
      json::string(w, m_.target_etag(*d));
      w.EndObject();
      return ok_json(text(sb));
    }
  }

  // -- records ---------------------------------------------------------------
  struct kind_route {
    const char* name;
    record_kind kind;
    const char* body_key;
  };
  static constexpr kind_route kinds[] = {
    {"reports", record_kind::report, "body"},
    {"logs", record_kind::log, "line"},
    {"registrations", record_kind::registration, "body"},
    {"api-calls", record_kind::api_call, "body"},
  };
  for (auto& k : kinds) {
    if (!is("GET", {k.name}))
      continue;
    record_query rq;
    if (auto it = q.find("device"); it != q.end())
      rq.device = it->second;
    auto number = [&](const char* key) -> std::optional<int64_t> {
      auto it = q.find(key);
      if (it == q.end())
        return std::nullopt;
      return json::parse_int(it->second);
    };
    if (auto s = number("since"))
      rq.since = static_cast<uint64_t>(*s);
    if (auto l = number("limit"))
      rq.limit = static_cast<size_t>(*l);
    auto found = m_.query(k.kind, rq);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (auto* r : found) {
      w.StartObject();
      w.Key("seq");
      w.Uint64(r->seq);
      w.Key("time_ms");
      w.Int64(r->time_ms);
      w.Key("device");
      json::string(w, r->device);
      if (!r->request.empty()) {
        w.Key("request");
        json::string(w, r->request);
      }
      w.Key(k.body_key);
      json::raw(w, r->body);
      w.EndObject();
    }
    w.EndArray();
    w.Key("next");
    w.Uint64(found.empty() ? std::max<uint64_t>(rq.since, 0)
                           : found.back()->seq + 1);
    w.Key("dropped");
    w.Uint64(m_.dropped(k.kind));
    w.EndObject();
    return ok_json(text(sb));
  }
  if (is("GET", {"counts"})) {
    if (auto it = q.find("device"); it != q.end()) {
      device* d = m_.find_device(it->second);
      if (d == nullptr)
        return fail(404, "no such device");
      write_traffic(w, d->counts);
    } else {
      write_traffic(w, m_.counts());
    }
    return ok_json(text(sb));
  }

  // -- faults ----------------------------------------------------------------
  if (is("GET", {"faults"})) {
    write_faults(w, faults_, now);
    return ok_json(text(sb));
  }
  if (is("POST", {"faults"})) {
    std::string err = for_each_item(doc, [&](const rapidjson::Value& v) {
      std::string e;
      auto name = json::get_string(v, "route");
      if (!name)
        return std::string("route missing");
      auto r = route_from_name(*name);
      if (!r && *name != "all")
        return "unknown route " + *name;
      auto f = read_fault(v, e);
      if (!f)
        return e;
      for (size_t i = 0; i < route_count; ++i)
        if (r ? static_cast<route>(i) == *r : true)
          faults_.set(static_cast<route>(i), *f, now);
      return std::string();
    });
    faults_changed_();
    if (!err.empty())
      return fail(400, err);
    write_faults(w, faults_, now);
    return ok_json(text(sb));
  }
  if (is("DELETE", {"faults"})) {
    faults_.clear_all();
    faults_changed_();
    return ok_json("{\"ok\":true}");
  }
  if (is("DELETE", {"faults", "*"})) {
    auto r = route_from_name(seg[1]);
    if (!r)
      return fail(404, "unknown route " + seg[1]);
    faults_.clear(*r);
    faults_changed_();
    return ok_json("{\"ok\":true}");
  }
  return fail(404, "no such admin route: " + method + " " + path);
}

} // namespace bosun::cloud_sim
