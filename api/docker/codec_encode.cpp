// Request targets and bodies for the Docker Engine API.
#include "api/docker/codec.hpp"
#include "api/docker/json_io.hpp"

namespace bosun::docker {

namespace {

using json::put;
using json::put_keys;
using json::put_nonempty;
using json::put_opt;
using json::writer;

std::string finish(rapidjson::StringBuffer& sb) {
  return std::string(sb.GetString(), sb.GetSize());
}

// Query string builder: "?a=1&b=x".
class query {
public:
  query& add(std::string_view key, std::string_view value) {
    text_ += text_.empty() ? '?' : '&';
    text_ += key;
    text_ += '=';
    text_ += url_escape(value);
    return *this;
  }
  query& flag(std::string_view key, bool on) {
    if (on)
      add(key, "1");
    return *this;
  }
  query& number(std::string_view key, int64_t n) {
    return add(key, std::to_string(n));
  }
  query& filters(const filter_map& f) {
    if (!f.empty())
      add("filters", encode_filters(f));
    return *this;
  }
  const std::string& str() const {
    return text_;
  }

private:
  std::string text_;
};

std::string path(std::string_view collection, std::string_view id,
                 std::string_view action = {}) {
  std::string out(api_prefix);
  out += '/';
  out += collection;
  out += '/';
  out += url_escape(id);
  if (!action.empty()) {
    out += '/';
    out += action;
  }
  return out;
}

// Image references keep '/', ':' and '@' readable in the path (Docker's router
// takes the rest of the path as the name).
std::string image_path(std::string_view name, std::string_view action = {}) {
  std::string out(api_prefix);
  out += "/images/";
  for (char c : name) {
    if (c == '/' || c == ':' || c == '@')
      out += c;
    else
      out += url_escape(std::string_view(&c, 1));
  }
  if (!action.empty()) {
    out += '/';
    out += action;
  }
  return out;
}

std::string prefixed(std::string_view rest) {
  std::string out(api_prefix);
  out += rest;
  return out;
}

// ---------------------------------------------------------- body pieces --

void put(writer& w, const char* key, const health_config& h) {
  w.Key(key);
  w.StartObject();
  put(w, "Test", h.test);
  put_opt(w, "Interval", h.interval);
  put_opt(w, "Timeout", h.timeout);
  put_opt(w, "StartPeriod", h.start_period);
  put_opt(w, "Retries", h.retries);
  w.EndObject();
}

// The members of a container Config, into an already open object.
void put_members(writer& w, const container_config& c) {
  put(w, "Hostname", c.hostname);
  put(w, "Domainname", c.domainname);
  put(w, "User", c.user);
  put(w, "AttachStdin", c.attach_stdin);
  put(w, "AttachStdout", c.attach_stdout);
  put(w, "AttachStderr", c.attach_stderr);
  put_keys(w, "ExposedPorts", c.exposed_ports);
  put(w, "Tty", c.tty);
  put(w, "OpenStdin", c.open_stdin);
  put(w, "StdinOnce", c.stdin_once);
  put(w, "Env", c.env);
  put_opt(w, "Cmd", c.cmd);
  put_opt(w, "Entrypoint", c.entrypoint);
  if (c.healthcheck)
    put(w, "Healthcheck", *c.healthcheck);
  put(w, "Image", c.image);
  put_keys(w, "Volumes", c.volumes);
  put(w, "WorkingDir", c.working_dir);
  put(w, "Labels", c.labels);
  put(w, "MacAddress", c.mac_address);
  put(w, "NetworkDisabled", c.network_disabled);
  put(w, "StopSignal", c.stop_signal);
  put_opt(w, "StopTimeout", c.stop_timeout);
}

void put(writer& w, const char* key, const restart_policy_config& r) {
  w.Key(key);
  w.StartObject();
  put(w, "Name", r.name);
  put(w, "MaximumRetryCount", r.maximum_retry_count);
  w.EndObject();
}

void put(writer& w, const char* key, const mount_config& m) {
  if (key)
    w.Key(key);
  w.StartObject();
  put(w, "Type", m.type);
  put(w, "Source", m.source);
  put(w, "Target", m.target);
  put(w, "ReadOnly", m.read_only);
  put_nonempty(w, "Consistency", m.consistency);
  if (m.bind_options) {
    w.Key("BindOptions");
    w.StartObject();
    put_nonempty(w, "Propagation", m.bind_options->propagation);
    if (m.bind_options->non_recursive)
      put(w, "NonRecursive", true);
    w.EndObject();
  }
  if (m.volume_options) {
    auto& o = *m.volume_options;
    w.Key("VolumeOptions");
    w.StartObject();
    put(w, "NoCopy", o.no_copy);
    put(w, "Labels", o.labels);
    if (o.driver_name || !o.driver_options.empty()) {
      w.Key("DriverConfig");
      w.StartObject();
      put(w, "Name", o.driver_name.value_or(""));
      put(w, "Options", o.driver_options);
      w.EndObject();
    }
    w.EndObject();
  }
  if (m.tmpfs_options) {
    w.Key("TmpfsOptions");
    w.StartObject();
    put(w, "SizeBytes", m.tmpfs_options->size_bytes);
    put(w, "Mode", m.tmpfs_options->mode);
    w.EndObject();
  }
  w.EndObject();
}

void put(writer& w, const char* key,
         const std::map<std::string, std::vector<port_binding>>& ports) {
  w.Key(key);
  w.StartObject();
  for (auto& [port, bindings] : ports) {
    w.Key(port.data(), static_cast<rapidjson::SizeType>(port.size()));
    w.StartArray();
    for (auto& b : bindings) {
      w.StartObject();
      put(w, "HostIp", b.host_ip);
      put(w, "HostPort", b.host_port);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

void put(writer& w, const char* key, const host_config& h) {
  w.Key(key);
  w.StartObject();
  put(w, "Binds", h.binds);
  w.Key("Mounts");
  w.StartArray();
  for (auto& m : h.mounts)
    put(w, nullptr, m);
  w.EndArray();
  put(w, "Tmpfs", h.tmpfs);
  put(w, "PortBindings", h.port_bindings);
  put(w, "PublishAllPorts", h.publish_all_ports);
  put(w, "NetworkMode", h.network_mode);
  put(w, "RestartPolicy", h.restart_policy);
  put(w, "AutoRemove", h.auto_remove);
  put(w, "Privileged", h.privileged);
  put(w, "CapAdd", h.cap_add);
  put(w, "CapDrop", h.cap_drop);
  w.Key("Devices");
  w.StartArray();
  for (auto& d : h.devices) {
    w.StartObject();
    put(w, "PathOnHost", d.path_on_host);
    put(w, "PathInContainer", d.path_in_container);
    put(w, "CgroupPermissions", d.cgroup_permissions);
    w.EndObject();
  }
  w.EndArray();
  w.Key("DeviceRequests");
  w.StartArray();
  for (auto& d : h.device_requests) {
    w.StartObject();
    put(w, "Driver", d.driver);
    put(w, "Count", d.count);
    put(w, "DeviceIDs", d.device_ids);
    w.Key("Capabilities");
    w.StartArray();
    for (auto& caps : d.capabilities) {
      w.StartArray();
      for (auto& c : caps)
        json::string(w, c);
      w.EndArray();
    }
    w.EndArray();
    put(w, "Options", d.options);
    w.EndObject();
  }
  w.EndArray();
  put(w, "DeviceCgroupRules", h.device_cgroup_rules);
  put(w, "Dns", h.dns);
  put(w, "DnsSearch", h.dns_search);
  put(w, "DnsOptions", h.dns_options);
  put(w, "ExtraHosts", h.extra_hosts);
  put(w, "GroupAdd", h.group_add);
  put(w, "IpcMode", h.ipc_mode);
  put(w, "PidMode", h.pid_mode);
  put(w, "UsernsMode", h.userns_mode);
  put(w, "UTSMode", h.uts_mode);
  put(w, "CgroupnsMode", h.cgroupns_mode);
  put(w, "CgroupParent", h.cgroup_parent);
  put(w, "Runtime", h.runtime);
  put_opt(w, "ShmSize", h.shm_size);
  put(w, "Sysctls", h.sysctls);
  w.Key("Ulimits");
  w.StartArray();
  for (auto& u : h.ulimits) {
    w.StartObject();
    put(w, "Name", u.name);
    put(w, "Soft", u.soft);
    put(w, "Hard", u.hard);
    w.EndObject();
  }
  w.EndArray();
  put(w, "SecurityOpt", h.security_opt);
  if (h.log_config) {
    w.Key("LogConfig");
    w.StartObject();
    put(w, "Type", h.log_config->type);
    put(w, "Config", h.log_config->config);
    w.EndObject();
  }
  put(w, "Memory", h.memory);
  put(w, "MemoryReservation", h.memory_reservation);
  put(w, "MemorySwap", h.memory_swap);
  put_opt(w, "MemorySwappiness", h.memory_swappiness);
  put(w, "NanoCpus", h.nano_cpus);
  put(w, "CpuShares", h.cpu_shares);
  put(w, "CpuQuota", h.cpu_quota);
  put(w, "CpuPeriod", h.cpu_period);
  put(w, "CpuRealtimeRuntime", h.cpu_realtime_runtime);
  put(w, "CpuRealtimePeriod", h.cpu_realtime_period);
  put(w, "CpusetCpus", h.cpuset_cpus);
  put(w, "CpusetMems", h.cpuset_mems);
  put(w, "BlkioWeight", h.blkio_weight);
  put(w, "OomKillDisable", h.oom_kill_disable);
  put(w, "OomScoreAdj", h.oom_score_adj);
  put_opt(w, "PidsLimit", h.pids_limit);
  put(w, "ReadonlyRootfs", h.readonly_rootfs);
  put_opt(w, "Init", h.init);
  // Docker rejects any StorageOpt (even {}) on drivers without quota support.
  if (!h.storage_opt.empty())
    put(w, "StorageOpt", h.storage_opt);
  put(w, "VolumesFrom", h.volumes_from);
  put(w, "Links", h.links);
  w.EndObject();
}

// The configuration part of an endpoint (state fields are the engine's).
void put_endpoint(writer& w, const endpoint_settings& e) {
  w.StartObject();
  if (e.ipam_config) {
    w.Key("IPAMConfig");
    w.StartObject();
    put_nonempty(w, "IPv4Address", e.ipam_config->ipv4_address);
    put_nonempty(w, "IPv6Address", e.ipam_config->ipv6_address);
    if (!e.ipam_config->link_local_ips.empty())
      put(w, "LinkLocalIPs", e.ipam_config->link_local_ips);
    w.EndObject();
  }
  put(w, "Links", e.links);
  put(w, "Aliases", e.aliases);
  if (!e.driver_opts.empty())
    put(w, "DriverOpts", e.driver_opts);
  w.EndObject();
}

void put(writer& w, const char* key, const network_ipam& i) {
  w.Key(key);
  w.StartObject();
  put(w, "Driver", i.driver.empty() ? std::string("default") : i.driver);
  w.Key("Config");
  w.StartArray();
  for (auto& pool : i.config) {
    w.StartObject();
    put_nonempty(w, "Subnet", pool.subnet);
    put_nonempty(w, "IPRange", pool.ip_range);
    put_nonempty(w, "Gateway", pool.gateway);
    if (!pool.aux_addresses.empty())
      put(w, "AuxiliaryAddresses", pool.aux_addresses);
    w.EndObject();
  }
  w.EndArray();
  put(w, "Options", i.options);
  w.EndObject();
}

} // namespace

// --------------------------------------------------------------- helpers --

std::string url_escape(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                      || (c >= '0' && c <= '9') || c == '-' || c == '.'
                      || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t n = at(i) << 16;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t n = at(i) << 16 | at(i + 1) << 8;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += '=';
  }
  return out;
}

std::string encode_filters(const filter_map& filters) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  for (auto& [key, values] : filters)
    put(w, key.c_str(), values);
  w.EndObject();
  return finish(sb);
}

std::string registry_auth_header(const registry_auth& auth) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  put(w, "username", auth.username);
  put(w, "password", auth.password);
  put(w, "serveraddress", auth.server_address);
  put_nonempty(w, "identitytoken", auth.identity_token);
  w.EndObject();
  return base64url(finish(sb));
}

// --------------------------------------------------------------- targets --

std::string ping_target() {
  return prefixed("/_ping");
}

std::string version_target() {
  return prefixed("/version");
}

std::string info_target() {
  return prefixed("/info");
}

std::string list_containers_target(bool all, const filter_map& filters) {
  return prefixed("/containers/json")
         + query().flag("all", all).filters(filters).str();
}

std::string create_container_target(std::string_view name) {
  query q;
  if (!name.empty())
    q.add("name", name);
  return prefixed("/containers/create") + q.str();
}

std::string inspect_container_target(std::string_view id) {
  return path("containers", id, "json");
}

std::string start_container_target(std::string_view id) {
  return path("containers", id, "start");
}

std::string stop_container_target(std::string_view id,
                                  std::optional<int64_t> timeout_s) {
  query q;
  if (timeout_s)
    q.number("t", *timeout_s);
  return path("containers", id, "stop") + q.str();
}

std::string restart_container_target(std::string_view id,
                                     std::optional<int64_t> timeout_s) {
  query q;
  if (timeout_s)
    q.number("t", *timeout_s);
  return path("containers", id, "restart") + q.str();
}

std::string kill_container_target(std::string_view id,
                                  std::string_view signal) {
  query q;
  if (!signal.empty())
    q.add("signal", signal);
  return path("containers", id, "kill") + q.str();
}

std::string remove_container_target(std::string_view id, bool force,
                                    bool remove_volumes) {
  return path("containers", id)
         + query().flag("force", force).flag("v", remove_volumes).str();
}

std::string rename_container_target(std::string_view id,
                                    std::string_view new_name) {
  return path("containers", id, "rename") + query().add("name", new_name).str();
}

std::string update_container_target(std::string_view id) {
  return path("containers", id, "update");
}

std::string wait_container_target(std::string_view id,
                                  std::string_view condition) {
  query q;
  if (!condition.empty())
    q.add("condition", condition);
  return path("containers", id, "wait") + q.str();
}

std::string logs_target(std::string_view id,
                        const container_logs_options& opts) {
  query q;
  q.add("stdout", opts.include_stdout ? "1" : "0");
  q.add("stderr", opts.include_stderr ? "1" : "0");
  q.flag("follow", opts.follow);
  q.flag("timestamps", opts.timestamps);
  if (opts.since > 0)
    q.number("since", opts.since);
  if (opts.until > 0)
    q.number("until", opts.until);
  if (opts.tail)
    q.number("tail", *opts.tail);
  return path("containers", id, "logs") + q.str();
}

std::string list_images_target(const filter_map& filters) {
  return prefixed("/images/json") + query().filters(filters).str();
}

std::string inspect_image_target(std::string_view name) {
  return image_path(name, "json");
}

std::string pull_image_target(const image_pull& pull) {
  query q;
  q.add("fromImage", pull.from_image);
  if (!pull.tag.empty())
    q.add("tag", pull.tag);
  return prefixed("/images/create") + q.str();
}

std::string tag_image_target(std::string_view name, const image_tag& tag) {
  query q;
  q.add("repo", tag.repo);
  if (!tag.tag.empty())
    q.add("tag", tag.tag);
  return image_path(name, "tag") + q.str();
}

std::string remove_image_target(std::string_view name, bool force,
                                bool no_prune) {
  return image_path(name)
         + query().flag("force", force).flag("noprune", no_prune).str();
}

std::string list_volumes_target(const filter_map& filters) {
  return prefixed("/volumes") + query().filters(filters).str();
}

std::string create_volume_target() {
  return prefixed("/volumes/create");
}

std::string inspect_volume_target(std::string_view name) {
  return path("volumes", name);
}

std::string remove_volume_target(std::string_view name, bool force) {
  return path("volumes", name) + query().flag("force", force).str();
}

std::string list_networks_target(const filter_map& filters) {
  return prefixed("/networks") + query().filters(filters).str();
}

std::string create_network_target() {
  return prefixed("/networks/create");
}

std::string inspect_network_target(std::string_view id) {
  return path("networks", id);
}

std::string remove_network_target(std::string_view id) {
  return path("networks", id);
}

std::string connect_network_target(std::string_view id) {
  return path("networks", id, "connect");
}

std::string disconnect_network_target(std::string_view id) {
  return path("networks", id, "disconnect");
}

std::string events_target(const events_query& eq) {
  query q;
  if (eq.since)
    q.number("since", *eq.since);
  if (eq.until)
    q.number("until", *eq.until);
  q.filters(eq.filters);
  return prefixed("/events") + q.str();
}

// ---------------------------------------------------------------- bodies --

std::string encode(const container_create& c) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  put_members(w, c.config);
  put(w, "HostConfig", c.host);
  w.Key("NetworkingConfig");
  w.StartObject();
  w.Key("EndpointsConfig");
  w.StartObject();
  for (auto& [name, ep] : c.networking.endpoints_config) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    put_endpoint(w, ep);
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return finish(sb);
}

std::string encode(const container_update& u) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  put_opt(w, "Memory", u.memory);
  put_opt(w, "MemoryReservation", u.memory_reservation);
  put_opt(w, "MemorySwap", u.memory_swap);
  put_opt(w, "NanoCpus", u.nano_cpus);
  put_opt(w, "CpuShares", u.cpu_shares);
  put_opt(w, "CpuQuota", u.cpu_quota);
  put_opt(w, "CpuPeriod", u.cpu_period);
  put_opt(w, "CpuRealtimeRuntime", u.cpu_realtime_runtime);
  put_opt(w, "CpuRealtimePeriod", u.cpu_realtime_period);
  put_opt(w, "CpusetCpus", u.cpuset_cpus);
  put_opt(w, "CpusetMems", u.cpuset_mems);
  put_opt(w, "BlkioWeight", u.blkio_weight);
  put_opt(w, "PidsLimit", u.pids_limit);
  put_opt(w, "OomKillDisable", u.oom_kill_disable);
  if (u.restart_policy)
    put(w, "RestartPolicy", *u.restart_policy);
  w.EndObject();
  return finish(sb);
}

std::string encode(const volume_create& v) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  put(w, "Name", v.name);
  put(w, "Driver", v.driver.empty() ? std::string("local") : v.driver);
  put(w, "DriverOpts", v.driver_opts);
  put(w, "Labels", v.labels);
  w.EndObject();
  return finish(sb);
}

std::string encode(const network_create& n) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  put(w, "Name", n.name);
  put(w, "Driver", n.driver.empty() ? std::string("bridge") : n.driver);
  put(w, "CheckDuplicate", n.check_duplicate);
  put(w, "Internal", n.internal);
  put(w, "Attachable", n.attachable);
  put(w, "EnableIPv6", n.enable_ipv6);
  put(w, "ConfigOnly", n.config_only);
  if (n.ipam)
    put(w, "IPAM", *n.ipam);
  put(w, "Options", n.options);
  put(w, "Labels", n.labels);
  w.EndObject();
  return finish(sb);
}

std::string encode(const network_connect& n) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  put(w, "Container", n.container);
  w.Key("EndpointConfig");
  put_endpoint(w, n.endpoint_config);
  w.EndObject();
  return finish(sb);
}

std::string encode(const network_disconnect& n) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  put(w, "Container", n.container);
  put(w, "Force", n.force);
  w.EndObject();
  return finish(sb);
}

} // namespace bosun::docker
