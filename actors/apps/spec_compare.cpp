// compare(): a container's inspect against the spec of its target service.
//
// Both sides are first reduced to one normalised view (the engine's defaults
// and merges folded in, sets sorted), then compared field by field, so that
// a container created from a spec always compares equal to it.
#include "actors/apps/container_spec.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

namespace bosun::apps {

namespace {

constexpr int64_t default_shm_size = int64_t{64} * 1024 * 1024;
constexpr int64_t default_stop_timeout = 10;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

string_list sorted(string_list xs) {
  std::sort(xs.begin(), xs.end());
  return xs;
}

string_list sorted_unique(string_list xs) {
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  return xs;
}

std::string join(const string_list& xs, std::string_view sep = ", ") {
  std::string out;
  for (const auto& x : xs) {
    if (!out.empty())
      out += sep;
    out += x;
  }
  return out;
}

std::string quoted_list(const string_list& xs) {
  return "[" + join(xs) + "]";
}

std::string mount_text(const mount_config& m) {
  std::ostringstream os;
  os << "mount type=" << m.type;
  if (!m.source.empty())
    os << ",source=" << m.source;
  os << ",target=" << m.target;
  if (m.read_only)
    os << ",readonly";
  if (m.volume_options && m.volume_options->no_copy)
    os << ",nocopy";
  if (m.tmpfs_options && m.tmpfs_options->size_bytes > 0)
    os << ",size=" << m.tmpfs_options->size_bytes;
  return os.str();
}

std::string device_text(const device_mapping& d) {
  return d.path_on_host + ":" + d.path_in_container + ":"
         + d.cgroup_permissions;
}

std::string device_request_text(const device_request& r) {
  std::ostringstream os;
  os << "driver=" << r.driver << ",count=" << r.count
     << ",ids=" << join(r.device_ids, "|") << ",caps=";
  for (const auto& c : r.capabilities)
    os << "[" << join(c, "|") << "]";
  os << ",options=";
  for (const auto& [k, v] : r.options)
    os << k << "=" << v << "|";
  return os.str();
}

// Everything compare() looks at, normalised. Built the same way from the
// current container and from the target spec.
struct view {
  std::string image;
  string_map env;
  string_map labels;
  restart_mode restart = restart_mode::always;
  std::string engine_restart; // HostConfig.RestartPolicy, "name:retries"
  string_list cmd;
  string_list entrypoint;
  string_list exposed;
  std::map<std::string, string_list> ports; // "80/tcp" → ["ip:port", ...]
  string_list volumes; // Binds ∪ Config.Volumes ∪ Mounts
  string_map tmpfs;
  string_list devices;
  string_list cap_add;
  string_list cap_drop;
  string_list dns_opt;
  string_list extra_hosts;
  string_list group_add;
  string_list security_opt;
  string_list dns;        // order matters
  string_list dns_search; // order matters
  bool privileged = false;
  bool readonly_rootfs = false;
  bool oom_kill_disable = false;
  bool tty = false;
  int64_t memory = 0;
  int64_t memory_reservation = 0;
  int64_t shm_size = 0;
  int64_t cpu_shares = 0;
  int64_t cpu_quota = 0;
  int64_t oom_score_adj = 0;
  int64_t pids_limit = 0;
  std::string cpuset;
  std::string pid;
  std::string userns;
  std::string cgroup_parent;
  std::string ipc;
  std::string user;
  std::string working_dir;
  std::string domainname;
  std::string mac_address;
  std::string stop_signal;
  int64_t stop_timeout = 0;
  string_list health_test;
  int64_t health_interval = 0;
  int64_t health_timeout = 0;
  int64_t health_start_period = 0;
  int64_t health_retries = 0;
  string_map sysctls;
  string_list ulimits;
  string_list device_requests;
  std::optional<bool> init;
  std::string network_mode;
  std::string hostname;
};

view make_view(const container_config& cfg, const host_config& host,
               std::string_view container_id) {
  view v;
  v.image = cfg.image;
  for (const auto& e : cfg.env) {
    auto eq = e.find('=');
    auto key = e.substr(0, eq);
    v.env.emplace(key, eq == std::string::npos ? "" : e.substr(eq + 1));
  }
  v.env.erase("BALENA_DEVICE_NAME_AT_INIT");
  v.env.erase("RESIN_DEVICE_NAME_AT_INIT");
  v.labels = normalize_labels(cfg.labels);
  v.labels.erase(std::string(restart_policy_label));

  container_inspect shim; // restart_of() reads labels, then the engine policy
  shim.config.labels = cfg.labels;
  shim.host.restart_policy = host.restart_policy;
  v.restart = restart_of(shim);
  auto engine = host.restart_policy.name.empty() ? std::string("no")
                                                 : host.restart_policy.name;
  v.engine_restart
    = engine + ":" + std::to_string(host.restart_policy.maximum_retry_count);

  v.cmd = cfg.cmd.value_or(string_list{});
  v.entrypoint = cfg.entrypoint.value_or(string_list{});
  v.exposed = sorted_unique(cfg.exposed_ports);
  for (const auto& [port, bindings] : host.port_bindings) {
    auto key = port.find('/') == std::string::npos ? port + "/tcp" : port;
    auto& list = v.ports[key];
    for (const auto& b : bindings)
      list.push_back(b.host_ip + ":" + b.host_port);
    std::sort(list.begin(), list.end());
  }

  v.volumes = host.binds;
  v.volumes.insert(v.volumes.end(), cfg.volumes.begin(), cfg.volumes.end());
  for (const auto& m : host.mounts)
    v.volumes.push_back(mount_text(m));
  v.volumes = sorted_unique(std::move(v.volumes));
  v.tmpfs = host.tmpfs;
  for (const auto& d : host.devices)
    v.devices.push_back(device_text(d));
  v.devices = sorted(std::move(v.devices));
  v.cap_add = sorted(host.cap_add);
  v.cap_drop = sorted(host.cap_drop);
  v.dns_opt = sorted(host.dns_options);
  v.extra_hosts = sorted(host.extra_hosts);
  v.group_add = sorted(host.group_add);
  for (const auto& s : host.security_opt)
    if (!starts_with(s, "label="))
      v.security_opt.push_back(s);
  v.security_opt = sorted(std::move(v.security_opt));
  v.dns = host.dns;
  v.dns_search = host.dns_search;

  v.privileged = host.privileged;
  v.readonly_rootfs = host.readonly_rootfs;
  v.oom_kill_disable = host.oom_kill_disable;
  v.tty = cfg.tty;
  v.memory = host.memory;
  v.memory_reservation = host.memory_reservation;
  v.shm_size
    = host.shm_size.value_or(0) > 0 ? *host.shm_size : default_shm_size;
  v.cpu_shares = host.cpu_shares;
  v.cpu_quota = host.cpu_quota;
  v.oom_score_adj = host.oom_score_adj;
  v.pids_limit = std::max<int64_t>(host.pids_limit.value_or(0), 0);
  v.cpuset = host.cpuset_cpus;
  v.pid = host.pid_mode;
  v.userns = host.userns_mode;
  v.cgroup_parent = host.cgroup_parent;
  v.ipc = host.ipc_mode;
  v.user = cfg.user;
  v.working_dir = cfg.working_dir;
  v.domainname = cfg.domainname;
  v.mac_address = cfg.mac_address;
  v.stop_signal = cfg.stop_signal.empty() ? "SIGTERM" : cfg.stop_signal;
  v.stop_timeout = cfg.stop_timeout.value_or(0) > 0 ? *cfg.stop_timeout
                                                    : default_stop_timeout;

  v.health_test = {"NONE"};
  if (cfg.healthcheck) {
    const auto& h = *cfg.healthcheck;
    if (!h.test.empty())
      v.health_test = h.test;
    v.health_interval = h.interval.value_or(0);
    v.health_timeout = h.timeout.value_or(0);
    v.health_start_period = h.start_period.value_or(0);
    v.health_retries = h.retries.value_or(0);
  }

  v.sysctls = host.sysctls;
  for (const auto& u : host.ulimits)
    v.ulimits.push_back(u.name + "=" + std::to_string(u.soft) + ":"
                        + std::to_string(u.hard));
  v.ulimits = sorted(std::move(v.ulimits));
  for (const auto& r : host.device_requests)
    v.device_requests.push_back(device_request_text(r));
  v.init = host.init;
  v.network_mode = host.network_mode;
  v.hostname = cfg.hostname;
  // The engine names a container without a hostname after its short id.
  if (v.hostname.size() == 12 && starts_with(container_id, v.hostname))
    v.hostname.clear();
  return v;
}

// Collects the differences, in the order of the checks.
struct differ {
  std::vector<std::string>& out;

  void text(const char* field, const std::string& cur, const std::string& tgt) {
    if (cur != tgt)
      out.push_back(std::string(field) + ": \"" + cur + "\" vs \"" + tgt
                    + "\"");
  }

  void number(const char* field, int64_t cur, int64_t tgt) {
    if (cur != tgt)
      out.push_back(std::string(field) + ": " + std::to_string(cur) + " vs "
                    + std::to_string(tgt));
  }

  void flag(const char* field, bool cur, bool tgt) {
    if (cur != tgt)
      out.push_back(std::string(field) + ": " + (cur ? "true" : "false")
                    + " vs " + (tgt ? "true" : "false"));
  }

  void list(const char* field, const string_list& cur, const string_list& tgt) {
    if (cur != tgt)
      out.push_back(std::string(field) + ": " + quoted_list(cur) + " vs "
                    + quoted_list(tgt));
  }

  // Both sorted: names what the target has and the container lacks, and
  // the reverse.
  void set(const char* field, const string_list& cur, const string_list& tgt) {
    if (cur == tgt)
      return;
    string_list missing;
    string_list extra;
    std::set_difference(tgt.begin(), tgt.end(), cur.begin(), cur.end(),
                        std::back_inserter(missing));
    std::set_difference(cur.begin(), cur.end(), tgt.begin(), tgt.end(),
                        std::back_inserter(extra));
    std::string msg = std::string(field) + ":";
    if (!missing.empty())
      msg += " missing " + join(missing);
    if (!extra.empty())
      msg += std::string(missing.empty() ? "" : ";") + " unexpected "
             + join(extra);
    if (missing.empty() && extra.empty())
      msg += " duplicates differ";
    out.push_back(std::move(msg));
  }

  // Names the differing keys only: values may be secrets (API keys).
  void keys(const char* field, const string_map& cur, const string_map& tgt) {
    for (const auto& [k, v] : tgt) {
      auto i = cur.find(k);
      if (i == cur.end())
        out.push_back(std::string(field) + ": " + k + " missing");
      else if (i->second != v)
        out.push_back(std::string(field) + ": " + k + " differs");
    }
    for (const auto& [k, v] : cur)
      if (tgt.find(k) == tgt.end())
        out.push_back(std::string(field) + ": " + k + " unexpected");
  }

  // Values shown: these maps hold no secrets.
  void map(const char* field, const string_map& cur, const string_map& tgt) {
    if (cur == tgt)
      return;
    string_list c;
    string_list t;
    for (const auto& [k, v] : cur)
      c.push_back(std::string(k).append("=").append(v));
    for (const auto& [k, v] : tgt)
      t.push_back(std::string(k).append("=").append(v));
    set(field, c, t);
  }
};

void compare_views(const view& c, const view& t, differ& d) {
  d.text("Config.Image", c.image, t.image);
  d.keys("Env", c.env, t.env);
  d.keys("Labels", c.labels, t.labels);
  d.text("restart", to_string(c.restart), to_string(t.restart));
  d.text("HostConfig.RestartPolicy", c.engine_restart, t.engine_restart);
  d.list("Config.Cmd", c.cmd, t.cmd);
  d.list("Config.Entrypoint", c.entrypoint, t.entrypoint);
  d.set("Config.ExposedPorts", c.exposed, t.exposed);
  if (c.ports != t.ports) {
    string_list cp;
    string_list tp;
    for (const auto& [k, bs] : c.ports)
      for (const auto& b : bs)
        cp.push_back(std::string(b).append("->").append(k));
    for (const auto& [k, bs] : t.ports)
      for (const auto& b : bs)
        tp.push_back(std::string(b).append("->").append(k));
    d.set("HostConfig.PortBindings", sorted(cp), sorted(tp));
  }
  d.set("Volumes", c.volumes, t.volumes);
  d.map("HostConfig.Tmpfs", c.tmpfs, t.tmpfs);
  d.set("HostConfig.Devices", c.devices, t.devices);
  d.set("HostConfig.CapAdd", c.cap_add, t.cap_add);
  d.set("HostConfig.CapDrop", c.cap_drop, t.cap_drop);
  d.set("HostConfig.DnsOptions", c.dns_opt, t.dns_opt);
  d.set("HostConfig.ExtraHosts", c.extra_hosts, t.extra_hosts);
  d.set("HostConfig.GroupAdd", c.group_add, t.group_add);
  d.set("HostConfig.SecurityOpt", c.security_opt, t.security_opt);
  d.list("HostConfig.Dns", c.dns, t.dns);
  d.list("HostConfig.DnsSearch", c.dns_search, t.dns_search);
  d.flag("HostConfig.Privileged", c.privileged, t.privileged);
  d.flag("HostConfig.ReadonlyRootfs", c.readonly_rootfs, t.readonly_rootfs);
  d.flag("HostConfig.OomKillDisable", c.oom_kill_disable, t.oom_kill_disable);
  d.flag("Config.Tty", c.tty, t.tty);
  d.number("HostConfig.Memory", c.memory, t.memory);
  d.number("HostConfig.MemoryReservation", c.memory_reservation,
           t.memory_reservation);
  d.number("HostConfig.ShmSize", c.shm_size, t.shm_size);
  d.number("HostConfig.CpuShares", c.cpu_shares, t.cpu_shares);
  d.number("HostConfig.CpuQuota", c.cpu_quota, t.cpu_quota);
  d.number("HostConfig.OomScoreAdj", c.oom_score_adj, t.oom_score_adj);
  d.number("HostConfig.PidsLimit", c.pids_limit, t.pids_limit);
  d.text("HostConfig.CpusetCpus", c.cpuset, t.cpuset);
  d.text("HostConfig.PidMode", c.pid, t.pid);
  d.text("HostConfig.UsernsMode", c.userns, t.userns);
  d.text("HostConfig.CgroupParent", c.cgroup_parent, t.cgroup_parent);
  d.text("HostConfig.IpcMode", c.ipc, t.ipc);
  d.text("Config.User", c.user, t.user);
  d.text("Config.WorkingDir", c.working_dir, t.working_dir);
  d.text("Config.Domainname", c.domainname, t.domainname);
  d.text("Config.MacAddress", c.mac_address, t.mac_address);
  d.text("Config.StopSignal", c.stop_signal, t.stop_signal);
  d.number("Config.StopTimeout", c.stop_timeout, t.stop_timeout);
  d.list("Config.Healthcheck.Test", c.health_test, t.health_test);
  d.number("Config.Healthcheck.Interval", c.health_interval, t.health_interval);
  d.number("Config.Healthcheck.Timeout", c.health_timeout, t.health_timeout);
  d.number("Config.Healthcheck.StartPeriod", c.health_start_period,
           t.health_start_period);
  d.number("Config.Healthcheck.Retries", c.health_retries, t.health_retries);
  d.map("HostConfig.Sysctls", c.sysctls, t.sysctls);
  d.set("HostConfig.Ulimits", c.ulimits, t.ulimits);
  d.list("HostConfig.DeviceRequests", c.device_requests, t.device_requests);
  if (t.init)
    d.flag("HostConfig.Init", c.init.value_or(false), *t.init);
}

// Network mode and hostname (balena's rule 4).
void compare_network_mode(const view& c, const view& t, differ& d) {
  d.text("HostConfig.NetworkMode", c.network_mode, t.network_mode);
  // A container sharing another's network namespace has that one's name.
  if (starts_with(t.network_mode, "container:")
      || starts_with(t.network_mode, "service:"))
    return;
  // Host networking without a known host name: the engine's choice stands.
  if (t.network_mode == "host" && t.hostname.empty())
    return;
  d.text("Config.Hostname", c.hostname, t.hostname);
}

// Every target network attached, its aliases among the current ones, its
// addresses equal where the target sets them; extra networks are fine.
void compare_networks(const container_inspect& current,
                      const container_spec& target, differ& d) {
  std::map<std::string, const endpoint_settings*> wanted;
  for (const auto& [name, es] : target.create.networking.endpoints_config)
    wanted[name] = &es;
  for (const auto& [name, es] : target.extra_networks)
    wanted[name] = &es;
  for (const auto& [name, es] : wanted) {
    auto i = current.network.networks.find(name);
    if (i == current.network.networks.end()) {
      d.out.push_back("Networks: " + name + " not attached");
      continue;
    }
    const auto& cur = i->second;
    string_list missing;
    for (const auto& a : es->aliases) {
      // The engine's own alias (the short container id) is not config.
      if (!current.id.empty() && starts_with(current.id, a))
        continue;
      if (std::find(cur.aliases.begin(), cur.aliases.end(), a)
          == cur.aliases.end())
        missing.push_back(a);
    }
    if (!missing.empty())
      d.out.push_back("Networks." + name + ".Aliases: missing "
                      + join(missing));
    if (!es->ipam_config)
      continue;
    const auto& want = *es->ipam_config;
    endpoint_ipam_config have
      = cur.ipam_config.value_or(endpoint_ipam_config{});
    const std::string prefix = "Networks." + name + ".IPAMConfig.";
    auto field = [&prefix](const char* what) { return prefix + what; };
    if (!want.ipv4_address.empty() && want.ipv4_address != have.ipv4_address)
      d.out.push_back(field("IPv4Address") + ": \"" + have.ipv4_address
                      + "\" vs \"" + want.ipv4_address + "\"");
    if (!want.ipv6_address.empty() && want.ipv6_address != have.ipv6_address)
      d.out.push_back(field("IPv6Address") + ": \"" + have.ipv6_address
                      + "\" vs \"" + want.ipv6_address + "\"");
    if (!want.link_local_ips.empty()
        && sorted(want.link_local_ips) != sorted(have.link_local_ips))
      d.out.push_back(field("LinkLocalIPs") + ": "
                      + quoted_list(have.link_local_ips) + " vs "
                      + quoted_list(want.link_local_ips));
  }
}

} // namespace

const char* to_string(spec_match m) {
  switch (m) {
    case spec_match::equal:
      return "equal";
    case spec_match::metadata_only:
      return "metadata-only";
    case spec_match::differs:
      return "differs";
  }
  return "differs";
}

spec_comparison compare(const container_inspect& current,
                        const container_spec& target) {
  spec_comparison out;
  differ d{out.differences};
  auto c = make_view(current.config, current.host, current.id);
  auto t = make_view(target.create.config, target.create.host, {});
  compare_views(c, t, d);
  compare_network_mode(c, t, d);
  compare_networks(current, target, d);
  if (!out.differences.empty()) {
    out.result = spec_match::differs;
    return out;
  }
  std::string_view name = current.name;
  if (starts_with(name, "/"))
    name.remove_prefix(1);
  if (name != target.create.name) {
    out.result = spec_match::metadata_only;
    out.differences.push_back("Name: \"" + std::string(name) + "\" vs \""
                              + target.create.name + "\"");
  }
  return out;
}

} // namespace bosun::apps
