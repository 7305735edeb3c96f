// target_state → JSON: bosun's persisted form and the local-mode GET answer.
#include "api/cloud/compose_parse.hpp"
#include "api/cloud/detail.hpp"
#include "api/cloud/target_codec.hpp"

namespace bosun::cloud {

namespace detail {

namespace {

using json_out::key;
using json_out::str;
using json_out::string_list;
using json_out::string_map;

// A list-valued compose key, only when non-empty.
void list_field(writer& w, const char* k, const std::vector<std::string>& xs) {
  if (xs.empty())
    return;
  key(w, k);
  string_list(w, xs);
}

void map_field(writer& w, const char* k,
               const std::map<std::string, std::string>& m) {
  if (m.empty())
    return;
  key(w, k);
  string_map(w, m);
}

void string_field(writer& w, const char* k, const std::string& s,
                  const std::string& dflt = {}) {
  if (s == dflt)
    return;
  key(w, k);
  str(w, s);
}

void int_field(writer& w, const char* k, int64_t v, int64_t dflt = 0) {
  if (v == dflt)
    return;
  key(w, k);
  w.Int64(v);
}

void bool_field(writer& w, const char* k, bool v, bool dflt = false) {
  if (v == dflt)
    return;
  key(w, k);
  w.Bool(v);
}

bool mode_has_ro(const std::string& mode) {
  size_t o = 0;
  while (o <= mode.size()) {
    auto comma = mode.find(',', o);
    if (mode.compare(
          o, comma == std::string::npos ? std::string::npos : comma - o, "ro")
        == 0)
      return true;
    if (comma == std::string::npos)
      break;
    o = comma + 1;
  }
  return false;
}

// The short syntax says everything about `v` (so it decodes back equal).
bool short_form_exact(const service_volume& v) {
  if (v.long_syntax || v.kind == mount_kind::tmpfs || v.nocopy
      || v.tmpfs_size != 0 || v.read_only != mode_has_ro(v.mode))
    return false;
  auto p = parse_volume_spec(format_volume_spec(v));
  return p && *p == v;
}

void volume_entry(writer& w, const service_volume& v) {
  if (short_form_exact(v)) {
    str(w, format_volume_spec(v));
    return;
  }
  w.StartObject();
  key(w, "type");
  w.String(to_string(v.kind));
  string_field(w, "source", v.source);
  string_field(w, "target", v.target);
  bool_field(w, "read_only", v.read_only);
  if (v.nocopy) {
    key(w, "volume");
    w.StartObject();
    key(w, "nocopy");
    w.Bool(true);
    w.EndObject();
  }
  if (v.tmpfs_size != 0) {
    key(w, "tmpfs");
    w.StartObject();
    key(w, "size");
    w.Int64(v.tmpfs_size);
    w.EndObject();
  }
  w.EndObject();
}

void healthcheck(writer& w, const service_healthcheck& h) {
  w.StartObject();
  if (!h.test.empty()) {
    key(w, "test");
    string_list(w, h.test);
  }
  auto duration = [&](const char* k, const std::optional<int64_t>& ns) {
    if (!ns)
      return;
    key(w, k);
    str(w, format_duration_ns(*ns));
  };
  duration("interval", h.interval_ns);
  duration("timeout", h.timeout_ns);
  duration("start_period", h.start_period_ns);
  if (h.retries) {
    key(w, "retries");
    w.Int64(*h.retries);
  }
  bool_field(w, "disable", h.disable);
  w.EndObject();
}

} // namespace

void write_composition(writer& w, const service_config& c,
                       bool with_env_labels) {
  if (c.command) {
    key(w, "command");
    string_list(w, *c.command);
  }
  if (c.entrypoint) {
    key(w, "entrypoint");
    string_list(w, *c.entrypoint);
  }
  if (with_env_labels) {
    key(w, "environment");
    string_map(w, c.environment);
    key(w, "labels");
    string_map(w, c.labels);
  }
  if (!c.ports.empty()) {
    key(w, "ports");
    w.StartArray();
    for (const auto& p : c.ports)
      str(w, format_port_spec(p));
    w.EndArray();
  }
  if (!c.volumes.empty()) {
    key(w, "volumes");
    w.StartArray();
    for (const auto& v : c.volumes)
      volume_entry(w, v);
    w.EndArray();
  }
  list_field(w, "tmpfs", c.tmpfs);
  string_field(w, "network_mode", c.network_mode);
  if (!c.networks.empty()) {
    key(w, "networks");
    w.StartObject();
    for (const auto& [name, n] : c.networks) {
      str(w, name);
      w.StartObject();
      list_field(w, "aliases", n.aliases);
      string_field(w, "ipv4_address", n.ipv4_address);
      string_field(w, "ipv6_address", n.ipv6_address);
      list_field(w, "link_local_ips", n.link_local_ips);
      w.EndObject();
    }
    w.EndObject();
  }
  bool_field(w, "privileged", c.privileged);
  bool_field(w, "read_only", c.read_only);
  bool_field(w, "oom_kill_disable", c.oom_kill_disable);
  list_field(w, "cap_add", c.cap_add);
  list_field(w, "cap_drop", c.cap_drop);
  list_field(w, "group_add", c.group_add);
  list_field(w, "extra_hosts", c.extra_hosts);
  list_field(w, "devices", c.devices);
  if (c.restart != restart_mode::always) {
    key(w, "restart");
    w.String(to_string(c.restart));
  }
  if (c.healthcheck) {
    key(w, "healthcheck");
    healthcheck(w, *c.healthcheck);
  }
  if (c.stop_signal) {
    key(w, "stop_signal");
    str(w, *c.stop_signal);
  }
  int_field(w, "stop_grace_period", c.stop_grace_period_s, 10);
  if (c.working_dir) {
    key(w, "working_dir");
    str(w, *c.working_dir);
  }
  if (c.user) {
    key(w, "user");
    str(w, *c.user);
  }
  string_field(w, "hostname", c.hostname);
  string_field(w, "domainname", c.domainname);
  string_field(w, "mac_address", c.mac_address);
  bool_field(w, "tty", c.tty, true);
  if (c.init) {
    key(w, "init");
    w.Bool(*c.init);
  }
  list_field(w, "dns", c.dns);
  list_field(w, "dns_search", c.dns_search);
  list_field(w, "dns_opt", c.dns_opt);
  list_field(w, "security_opt", c.security_opt);
  map_field(w, "sysctls", c.sysctls);
  if (!c.ulimits.empty()) {
    key(w, "ulimits");
    w.StartObject();
    for (const auto& [name, u] : c.ulimits) {
      str(w, name);
      w.StartObject();
      key(w, "soft");
      w.Int64(u.soft);
      key(w, "hard");
      w.Int64(u.hard);
      w.EndObject();
    }
    w.EndObject();
  }
  int_field(w, "mem_limit", c.mem_limit);
  int_field(w, "mem_reservation", c.mem_reservation);
  int_field(w, "shm_size", c.shm_size, 67108864);
  if (c.cpus != 0) {
    key(w, "cpus");
    w.Double(c.cpus);
  }
  int_field(w, "cpu_shares", c.cpu_shares);
  int_field(w, "cpu_quota", c.cpu_quota);
  int_field(w, "oom_score_adj", c.oom_score_adj);
  string_field(w, "cpuset", c.cpuset);
  string_field(w, "pid", c.pid);
  int_field(w, "pids_limit", c.pids_limit);
  string_field(w, "userns_mode", c.userns_mode);
  string_field(w, "cgroup_parent", c.cgroup_parent);
  string_field(w, "ipc", c.ipc, "shareable");
  map_field(w, "storage_opt", c.storage_opt);
  if (!c.depends_on.empty()) {
    key(w, "depends_on");
    w.StartObject();
    for (const auto& d : c.depends_on) {
      str(w, d.service);
      w.StartObject();
      key(w, "condition");
      w.String(to_string(d.condition));
      w.EndObject();
    }
    w.EndObject();
  }
}

} // namespace detail

namespace {

using namespace detail;

void contract(writer& w, const std::optional<std::string>& c) {
  if (!c)
    return;
  w.Key("contract");
  w.RawValue(c->data(), c->size(), rapidjson::kObjectType);
}

void volumes(writer& w, const std::vector<target_volume>& vols) {
  w.StartObject();
  for (const auto& v : vols) {
    str(w, v.name);
    w.StartObject();
    w.Key("driver");
    str(w, v.driver);
    w.Key("driver_opts");
    string_map(w, v.driver_opts);
    w.Key("labels");
    string_map(w, v.labels);
    w.EndObject();
  }
  w.EndObject();
}

void networks(writer& w, const std::vector<target_network>& nets) {
  w.StartObject();
  for (const auto& n : nets) {
    str(w, n.name);
    w.StartObject();
    w.Key("driver");
    str(w, n.driver);
    w.Key("driver_opts");
    string_map(w, n.driver_opts);
    w.Key("ipam");
    w.StartObject();
    w.Key("driver");
    str(w, n.ipam.driver);
    w.Key("config");
    w.StartArray();
    for (const auto& p : n.ipam.config) {
      w.StartObject();
      string_field(w, "subnet", p.subnet);
      string_field(w, "gateway", p.gateway);
      string_field(w, "ip_range", p.ip_range);
      map_field(w, "aux_addresses", p.aux_addresses);
      w.EndObject();
    }
    w.EndArray();
    w.Key("options");
    string_map(w, n.ipam.options);
    w.EndObject();
    w.Key("enable_ipv6");
    w.Bool(n.enable_ipv6);
    w.Key("internal");
    w.Bool(n.internal);
    w.Key("labels");
    string_map(w, n.labels);
    w.Key("config_only");
    w.Bool(n.config_only);
    w.EndObject();
  }
  w.EndObject();
}

} // namespace

std::string encode_target_json(const target_state& t) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("format");
  w.Int(1);
  w.Key("source");
  w.String(to_string(t.source));
  w.Key("uuid");
  str(w, t.device_uuid);
  w.Key("name");
  str(w, t.device_name);
  w.Key("config");
  string_map(w, t.config);
  w.Key("apps");
  w.StartObject();
  for (const auto& a : t.apps) {
    str(w, a.uuid);
    w.StartObject();
    w.Key("id");
    w.Int64(a.app_id);
    w.Key("name");
    str(w, a.name);
    w.Key("class");
    w.String(to_string(a.klass));
    w.Key("is_host");
    w.Bool(a.is_host);
    if (a.parent_app) {
      w.Key("parent_app");
      str(w, *a.parent_app);
    }
    w.Key("releases");
    w.StartObject();
    if (!a.commit.empty()) {
      str(w, a.commit);
      w.StartObject();
      w.Key("id");
      w.Int64(a.release_id);
      w.Key("services");
      w.StartObject();
      for (const auto& s : a.services) {
        str(w, s.name);
        w.StartObject();
        w.Key("id");
        w.Int64(s.service_id);
        w.Key("image_id");
        w.Int64(s.image_id);
        w.Key("image");
        str(w, s.image);
        w.Key("running");
        w.Bool(s.running);
        w.Key("environment");
        string_map(w, s.config.environment);
        w.Key("labels");
        string_map(w, s.config.labels);
        contract(w, s.contract);
        w.Key("composition");
        w.StartObject();
        write_composition(w, s.config, false);
        w.EndObject();
        w.EndObject();
      }
      w.EndObject();
      w.Key("volumes");
      volumes(w, a.volumes);
      w.Key("networks");
      networks(w, a.networks);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_local_target(const target_state& t) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("state");
  w.StartObject();
  w.Key("local");
  w.StartObject();
  w.Key("name");
  str(w, t.device_name);
  w.Key("config");
  string_map(w, t.config);
  w.Key("apps");
  w.StartObject();
  for (const auto& a : t.apps) {
    str(w, std::to_string(a.app_id));
    w.StartObject();
    w.Key("name");
    str(w, a.name);
    w.Key("commit");
    str(w, a.commit);
    w.Key("releaseId");
    w.Int64(a.release_id);
    w.Key("services");
    w.StartArray();
    for (const auto& s : a.services) {
      w.StartObject();
      w.Key("serviceName");
      str(w, s.name);
      w.Key("serviceId");
      w.Int64(s.service_id);
      w.Key("imageId");
      w.Int64(s.image_id);
      w.Key("image");
      str(w, s.image);
      w.Key("running");
      w.Bool(s.running);
      contract(w, s.contract);
      write_composition(w, s.config, true);
      w.EndObject();
    }
    w.EndArray();
    w.Key("volumes");
    volumes(w, a.volumes);
    w.Key("networks");
    networks(w, a.networks);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return json_out::text(sb);
}

} // namespace bosun::cloud
