#pragma once

// The simulated cloud's memory: fleets, devices, their targets, everything the
// devices sent (state reports, log lines, registrations, API calls) and
// traffic counters. Lookups by uuid, API key, device id and provisioning key
// are hash lookups, so thousands of devices stay cheap. No I/O and no clock:
// callers pass the time. Everything runs on one io thread, so no locks.
#include "tools/cloud-sim/routes.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bosun::cloud_sim {

struct traffic {
  uint64_t requests = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::map<int, uint64_t> statuses; // status 0 = dropped, no answer
};
using route_traffic = std::array<traffic, route_count>;

using config_map = std::map<std::string, std::string>;

struct fleet {
  int64_t id = 0;
  std::string name;
  std::string provisioning_key;
  config_map config;
  std::string apps = "{}"; // a JSON object, served as is
  uint64_t version = 1;    // bumped on every target change
};

// A device's own target: replaces its fleet's config and apps.
struct device_target {
  std::optional<std::string> name;
  config_map config;
  std::string apps = "{}";
};

struct device {
  int64_t id = 0;
  std::string uuid;
  std::string api_key;
  int64_t fleet = 0;
  std::string name;
  std::string device_type;
  config_map config_vars; // POST /v7/device_config_variable, over the target's
  std::optional<device_target> target;
  uint64_t version = 1; // bumped when anything in its served target changes
  std::map<std::string, std::string> reported; // key -> latest JSON value
  uint64_t reports = 0;
  uint64_t log_lines = 0;
  int64_t last_report_ms = 0;
  int64_t last_seen_ms = 0;
  route_traffic counts;
  // The served target, rendered once per (fleet version, device version).
  uint64_t cached_fleet_version = 0;
  uint64_t cached_version = 0;
  std::string cached_body;
  std::string cached_etag;
};

enum class record_kind { report, log, registration, api_call };
inline constexpr size_t record_kind_count = 4;

struct record {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string device;  // uuid, empty when unknown
  std::string request; // API calls: "PATCH /v7/device(5)"
  std::string body;    // valid JSON text
};

struct record_query {
  std::optional<std::string> device;
  uint64_t since = 0; // seq >= since
  size_t limit = 10000;
};

enum class outcome { ok, conflict, not_found, invalid };

class model {
public:
  explicit model(size_t max_records = 200000);

  // -- fleets ----------------------------------------------------------------
  // conflict: id or provisioning key taken.
  outcome add_fleet(fleet f);
  const fleet* find_fleet(int64_t id) const;
  const fleet* fleet_for_key(const std::string& provisioning_key) const;
  outcome set_fleet_target(int64_t id, config_map config, std::string apps);
  // conflict while devices belong to it.
  outcome remove_fleet(int64_t id);
  const std::map<int64_t, fleet>& fleets() const {
    return fleets_;
  }

  // -- devices ---------------------------------------------------------------
  // id 0 takes the next free id; name empty becomes "device-<id>". conflict:
  // uuid, API key or id taken; not_found: no such fleet. `id_out` gets the id.
  outcome add_device(device d, int64_t* id_out = nullptr);
  device* find_device(const std::string& uuid);
  device* device_for_key(const std::string& api_key);
  device* device_by_id(int64_t id);
  // conflict: the key belongs to another device.
  outcome set_device_key(int64_t id, const std::string& api_key);
  outcome set_device_target(const std::string& uuid,
                            std::optional<device_target> t);
  outcome remove_device(const std::string& uuid);
  const std::unordered_map<std::string, device>& devices() const {
    return devices_;
  }
  // Marks a device's served target as changed (name, config vars).
  void changed(device& d) {
    ++d.version;
  }

  // The target document served to `d`, {"<uuid>":{name,config,apps}}, and its
  // strong ETag; both cached until the fleet or the device changes.
  const std::string& target_body(device& d);
  const std::string& target_etag(device& d);

  // -- records ---------------------------------------------------------------
  // Keeps at most max_records per kind, dropping the oldest.
  uint64_t add_record(record_kind k, int64_t time_ms, std::string device,
                      std::string request, std::string body);
  std::vector<const record*> query(record_kind k, const record_query& q) const;
  uint64_t dropped(record_kind k) const {
    return dropped_[static_cast<size_t>(k)];
  }
  uint64_t next_seq() const {
    return seq_ + 1;
  }

  // -- counters --------------------------------------------------------------
  // `uuid` may be empty or unknown: then only the route's counters move.
  void count_request(route r, const std::string& uuid, int64_t now_ms);
  void count_bytes_in(route r, const std::string& uuid, uint64_t n);
  void count_response(route r, const std::string& uuid, int status,
                      uint64_t bytes_out);
  const route_traffic& counts() const {
    return counts_;
  }

  // Forgets records and counters; fleets, devices and targets stay.
  void reset_records();
  // Forgets everything.
  void reset_all();

private:
  void render(device& d);

  std::map<int64_t, fleet> fleets_;
  std::unordered_map<std::string, int64_t> fleet_keys_;
  std::unordered_map<std::string, device> devices_;
  std::unordered_map<std::string, std::string> device_keys_; // key -> uuid
  std::unordered_map<int64_t, std::string> device_ids_;      // id -> uuid
  int64_t next_device_id_ = 1;

  size_t max_records_;
  std::array<std::deque<record>, record_kind_count> records_;
  std::array<uint64_t, record_kind_count> dropped_{};
  uint64_t seq_ = 0;
  route_traffic counts_;
};

// FNV-1a of the body, quoted: a strong validator that changes with content.
std::string make_etag(const std::string& body);

} // namespace bosun::cloud_sim
