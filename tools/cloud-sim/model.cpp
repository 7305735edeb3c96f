#include "tools/cloud-sim/model.hpp"

#include "tools/cloud-sim/json.hpp"

#include <algorithm>
#include <cstdio>

namespace bosun::cloud_sim {

model::model(size_t max_records) : max_records_(max_records) {}

// -- fleets -------------------------------------------------------------------

outcome model::add_fleet(fleet f) {
  if (fleets_.count(f.id) != 0
      || (!f.provisioning_key.empty()
          && fleet_keys_.count(f.provisioning_key) != 0))
    return outcome::conflict;
  if (!f.provisioning_key.empty())
    fleet_keys_.emplace(f.provisioning_key, f.id);
  auto id = f.id;
  fleets_.emplace(id, std::move(f));
  return outcome::ok;
}

const fleet* model::find_fleet(int64_t id) const {
  auto it = fleets_.find(id);
  return it == fleets_.end() ? nullptr : &it->second;
}

const fleet* model::fleet_for_key(const std::string& key) const {
  auto it = fleet_keys_.find(key);
  return it == fleet_keys_.end() ? nullptr : find_fleet(it->second);
}

outcome model::set_fleet_target(int64_t id, config_map config,
                                std::string apps) {
  auto it = fleets_.find(id);
  if (it == fleets_.end())
    return outcome::not_found;
  it->second.config = std::move(config);
  it->second.apps = std::move(apps);
  ++it->second.version;
  return outcome::ok;
}

outcome model::remove_fleet(int64_t id) {
  auto it = fleets_.find(id);
  if (it == fleets_.end())
    return outcome::not_found;
  for (auto& [uuid, d] : devices_)
    if (d.fleet == id)
      return outcome::conflict;
  fleet_keys_.erase(it->second.provisioning_key);
  fleets_.erase(it);
  return outcome::ok;
}

// -- devices ------------------------------------------------------------------

outcome model::add_device(device d, int64_t* id_out) {
  if (fleets_.count(d.fleet) == 0)
    return outcome::not_found;
  if (d.uuid.empty())
    return outcome::invalid;
  if (devices_.count(d.uuid) != 0
      || (!d.api_key.empty() && device_keys_.count(d.api_key) != 0)
      || (d.id != 0 && device_ids_.count(d.id) != 0))
    return outcome::conflict;
  if (d.id == 0) {
    while (device_ids_.count(next_device_id_) != 0)
      ++next_device_id_;
    d.id = next_device_id_++;
  }
  if (d.name.empty())
    d.name = "device-" + std::to_string(d.id);
  if (id_out != nullptr)
    *id_out = d.id;
  if (!d.api_key.empty())
    device_keys_.emplace(d.api_key, d.uuid);
  device_ids_.emplace(d.id, d.uuid);
  auto uuid = d.uuid;
  devices_.emplace(std::move(uuid), std::move(d));
  return outcome::ok;
}

device* model::find_device(const std::string& uuid) {
  auto it = devices_.find(uuid);
  return it == devices_.end() ? nullptr : &it->second;
}

device* model::device_for_key(const std::string& api_key) {
  auto it = device_keys_.find(api_key);
  return it == device_keys_.end() ? nullptr : find_device(it->second);
}

device* model::device_by_id(int64_t id) {
  auto it = device_ids_.find(id);
  return it == device_ids_.end() ? nullptr : find_device(it->second);
}

outcome model::set_device_key(int64_t id, const std::string& api_key) {
  auto* d = device_by_id(id);
  if (d == nullptr)
    return outcome::not_found;
  auto owner = device_keys_.find(api_key);
  if (owner != device_keys_.end() && owner->second != d->uuid)
    return outcome::conflict;
  device_keys_.erase(d->api_key);
  d->api_key = api_key;
  device_keys_[api_key] = d->uuid;
  return outcome::ok;
}

outcome model::set_device_target(const std::string& uuid,
                                 std::optional<device_target> t) {
  auto* d = find_device(uuid);
  if (d == nullptr)
    return outcome::not_found;
  d->target = std::move(t);
  ++d->version;
  return outcome::ok;
}

outcome model::remove_device(const std::string& uuid) {
  auto it = devices_.find(uuid);
  if (it == devices_.end())
    return outcome::not_found;
  device_keys_.erase(it->second.api_key);
  device_ids_.erase(it->second.id);
  devices_.erase(it);
  return outcome::ok;
}

// -- targets ------------------------------------------------------------------

std::string make_etag(const std::string& body) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof(buf), "\"%016llx\"",
                static_cast<unsigned long long>(h));
  return buf;
}

void model::render(device& d) {
  const fleet* f = find_fleet(d.fleet);
  uint64_t fleet_version = f != nullptr ? f->version : 0;
  if (!d.cached_body.empty() && d.cached_fleet_version == fleet_version
      && d.cached_version == d.version)
    return;
  const config_map no_config;
  const config_map* config = d.target       ? &d.target->config
                             : f != nullptr ? &f->config
                                            : &no_config;
  std::string apps = d.target       ? d.target->apps
                     : f != nullptr ? f->apps
                                    : std::string("{}");
  const std::string& name
    = d.target && d.target->name ? *d.target->name : d.name;
  rapidjson::StringBuffer sb;
  json::writer w(sb);
  w.StartObject();
  json::key(w, d.uuid);
  w.StartObject();
  json::key(w, "name");
  json::string(w, name);
  json::key(w, "config");
  w.StartObject();
  // Device config variables win over the target's, as in balena.
  for (auto& [k, v] : *config) {
    if (d.config_vars.count(k) != 0)
      continue;
    json::key(w, k);
    json::string(w, v);
  }
  for (auto& [k, v] : d.config_vars) {
    json::key(w, k);
    json::string(w, v);
  }
  w.EndObject();
  json::key(w, "apps");
  json::raw(w, apps);
  w.EndObject();
  w.EndObject();
  d.cached_body.assign(sb.GetString(), sb.GetSize());
  d.cached_etag = make_etag(d.cached_body);
  d.cached_fleet_version = fleet_version;
  d.cached_version = d.version;
}

const std::string& model::target_body(device& d) {
  render(d);
  return d.cached_body;
}

const std::string& model::target_etag(device& d) {
  render(d);
  return d.cached_etag;
}

// -- records ------------------------------------------------------------------

uint64_t model::add_record(record_kind k, int64_t time_ms, std::string device,
                           std::string request, std::string body) {
  auto& q = records_[static_cast<size_t>(k)];
  if (max_records_ > 0 && q.size() >= max_records_) {
    q.pop_front();
    ++dropped_[static_cast<size_t>(k)];
  }
  record r;
  r.seq = ++seq_;
  r.time_ms = time_ms;
  r.device = std::move(device);
  r.request = std::move(request);
  r.body = std::move(body);
  q.push_back(std::move(r));
  return seq_;
}

std::vector<const record*> model::query(record_kind k,
                                        const record_query& q) const {
  auto& all = records_[static_cast<size_t>(k)];
  // Sequence numbers grow along the deque: start at the first >= since.
  auto it = std::lower_bound(
    all.begin(), all.end(), q.since,
    [](const record& r, uint64_t since) { return r.seq < since; });
  std::vector<const record*> out;
  for (; it != all.end() && out.size() < q.limit; ++it)
    if (!q.device || it->device == *q.device)
      out.push_back(&*it);
  return out;
}

// -- counters -----------------------------------------------------------------

void model::count_request(route r, const std::string& uuid, int64_t now_ms) {
  ++counts_[index_of(r)].requests;
  if (auto* d = uuid.empty() ? nullptr : find_device(uuid)) {
    ++d->counts[index_of(r)].requests;
    d->last_seen_ms = now_ms;
  }
}

void model::count_bytes_in(route r, const std::string& uuid, uint64_t n) {
  counts_[index_of(r)].bytes_in += n;
  if (auto* d = uuid.empty() ? nullptr : find_device(uuid))
    d->counts[index_of(r)].bytes_in += n;
}

void model::count_response(route r, const std::string& uuid, int status,
                           uint64_t bytes_out) {
  auto& t = counts_[index_of(r)];
  t.bytes_out += bytes_out;
  ++t.statuses[status];
  if (auto* d = uuid.empty() ? nullptr : find_device(uuid)) {
    d->counts[index_of(r)].bytes_out += bytes_out;
    ++d->counts[index_of(r)].statuses[status];
  }
}

void model::reset_records() {
  for (auto& q : records_)
    q.clear();
  dropped_ = {};
  counts_ = {};
  for (auto& [uuid, d] : devices_) {
    d.counts = {};
    d.reports = 0;
    d.log_lines = 0;
  }
}

void model::reset_all() {
  reset_records();
  fleets_.clear();
  fleet_keys_.clear();
  devices_.clear();
  device_keys_.clear();
  device_ids_.clear();
  next_device_id_ = 1;
}

} // namespace bosun::cloud_sim
