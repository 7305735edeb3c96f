#pragma once

// The target state: what the cloud (target state v3) or a local-mode client
// (POST /v2/local/target-state, the older "v2" shape) asks the device to run.
//
// Pure data, no JSON: api/cloud/ decodes documents into these structs (and
// validates them at the edge), persistence stores them through the same
// codec, and the planner and the container-spec helper read them. Every
// value is already normalised and typed; consumers never see compose's
// alternative spellings (string vs list command, list vs map environment,
// "1m30s" durations, "64m" sizes, ...).
//
// Defaults: a field whose compose default does not depend on the image holds
// that default (restart = always, tty = true, ipc = "shareable", ...). A
// field whose default is "the image's" is a disengaged std::optional
// (command, entrypoint, working_dir, user, stop_signal, healthcheck).
//
// Labels-derived settings (update strategy, handover timeout, feature labels,
// optional services, ...) are NOT decoded here: consumers read them from
// `service_config::labels`.
//
// Every struct has operator== (member-wise), so a target can be compared with
// a previously applied one and round trips can be checked. When adding a
// field, add it to the struct's operator== too.
#include "messages/message.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace bosun {

// ------------------------------------------------------------- enums --

// Where a target came from. A device in local mode takes apps only from the
// local API; cloud config still applies (that is how local mode is left).
enum class target_source : uint8_t { cloud, local };

// The app's class in target state v3 ("fleet" when absent).
enum class app_class : uint8_t { fleet, app, block };

// compose `restart`: no | always | on-failure | unless-stopped. Missing or
// invalid → always (as balena does). bosun creates containers with the
// engine policy "no" and applies this policy itself (service_supervisor).
enum class restart_mode : uint8_t { no, always, on_failure, unless_stopped };

// depends_on condition. bosun supports service_healthy (balena does not):
// the dependant starts only when the dependency's healthcheck passed.
// compose's service_completed_successfully is reported as a warning and
// treated as `started`.
enum class dependency_condition : uint8_t { started, healthy };

// What a service volume entry mounts.
enum class mount_kind : uint8_t {
  volume, // a named volume of the app (source = name without the appId
          // prefix), or an anonymous volume (source empty)
  bind,   // a host path (balena refuses absolute host binds; the container
          // spec helper decides, the decoder keeps them)
  tmpfs,  // long-form tmpfs mount (source empty)
};

inline const char* to_string(target_source x) {
  return x == target_source::local ? "local" : "cloud";
}

inline const char* to_string(app_class x) {
  switch (x) {
    case app_class::fleet:
      return "fleet";
    case app_class::app:
      return "app";
    case app_class::block:
      return "block";
  }
  return "fleet";
}

// The compose spelling: "no", "always", "on-failure", "unless-stopped".
inline const char* to_string(restart_mode x) {
  switch (x) {
    case restart_mode::no:
      return "no";
    case restart_mode::always:
      return "always";
    case restart_mode::on_failure:
      return "on-failure";
    case restart_mode::unless_stopped:
      return "unless-stopped";
  }
  return "always";
}

// The compose spelling: "service_started", "service_healthy".
inline const char* to_string(dependency_condition x) {
  return x == dependency_condition::healthy ? "service_healthy"
                                            : "service_started";
}

inline const char* to_string(mount_kind x) {
  switch (x) {
    case mount_kind::volume:
      return "volume";
    case mount_kind::bind:
      return "bind";
    case mount_kind::tmpfs:
      return "tmpfs";
  }
  return "volume";
}

// ------------------------------------------------------ service pieces --

// An inclusive port range; a single port has first == last.
struct port_range {
  uint16_t first = 0;
  uint16_t last = 0;
  uint16_t size() const {
    return static_cast<uint16_t>(last - first + 1);
  }
};

// One compose `ports` entry, `[[ip:]host[-end]:]cont[-end][/proto]` (or the
// long form {target, published, host_ip, protocol}).
// A bare "80" binds host port 80 (balena's behaviour, unlike compose's
// random port): `host` is then equal to `container`. An empty host part
// ("127.0.0.1::80", ":80") leaves host {0, 0}: the engine picks the port.
struct service_port {
  std::string host_ip; // "" = all interfaces
  port_range host;
  port_range container;
  std::string protocol = "tcp"; // "tcp" | "udp" | "sctp"
};

// One compose `volumes` entry.
//  short "name:/path[:mode]"  → kind volume, source "name", target "/path"
//  short "/path"              → kind volume, source "" (anonymous)
//  short "/host:/path[:mode]" or "./rel:/path" → kind bind
//  long {type, source, target, read_only, volume:{nocopy}, tmpfs:{size}}
// `long_syntax` tells which form it came from: balena turns the short form
// into HostConfig.Binds and the long form into HostConfig.Mounts.
struct service_volume {
  mount_kind kind = mount_kind::volume;
  std::string source; // volume name (unprefixed), host path, or ""
  std::string target; // the path in the container
  bool read_only = false;
  std::string mode;       // short form: the raw options after the 2nd ':'
                          // ("ro", "rw,z", ...); "" otherwise
  bool nocopy = false;    // long form volume.nocopy
  int64_t tmpfs_size = 0; // long form tmpfs.size in bytes; 0 = unlimited
  bool long_syntax = false;
};

// One entry of a service's `networks` (list form: all fields empty).
struct service_network {
  std::vector<std::string> aliases;
  std::string ipv4_address;
  std::string ipv6_address;
  std::vector<std::string> link_local_ips;
};

// compose `healthcheck`. Durations in nanoseconds (as Docker wants them).
// test: ["CMD", args...] | ["CMD-SHELL", cmd] | ["NONE"]; a string test is
// stored as ["CMD-SHELL", s]; empty = keep the image's test.
// disable: true → the container gets Test ["NONE"].
struct service_healthcheck {
  std::vector<std::string> test;
  std::optional<int64_t> interval_ns;
  std::optional<int64_t> timeout_ns;
  std::optional<int64_t> start_period_ns;
  std::optional<int64_t> retries;
  bool disable = false;
};

// compose `ulimits` entry; a plain number n gives soft = hard = n.
struct service_ulimit {
  int64_t soft = 0;
  int64_t hard = 0;
};

// compose `depends_on` entry: the short list form gives condition started.
struct service_dependency {
  std::string service;
  dependency_condition condition = dependency_condition::started;
};

// Every compose field bosun supports (service.md's table), normalised.
// Unsupported compose keys (build, expose, links, logging, container_name,
// volumes_from, deploy, secrets, ...) are dropped by the decoder with a
// warning. Top-level `environment` / `labels` of a target service override
// the composition's (merged here already).
struct service_config {
  // null = the image's. A compose string is shell-split ("$" kept literal).
  std::optional<std::vector<std::string>> command;
  std::optional<std::vector<std::string>> entrypoint;
  std::map<std::string, std::string> environment;
  std::map<std::string, std::string> labels;

  std::vector<service_port> ports;
  std::vector<service_volume> volumes; // in document order
  std::vector<std::string> tmpfs;      // "/path[:options]"; a string → [s]

  // "" = absent: the first listed network, else <appUuid>_default.
  // Otherwise "host" | "bridge" | "none" | "service:<name>" |
  // "container:<x>" (balena drops the last one; the spec helper decides).
  std::string network_mode;
  // Network name (as in the release, not prefixed) → settings. The list form
  // ["a", "b"] and map values that are null give empty settings.
  std::map<std::string, service_network> networks;

  bool privileged = false;
  bool read_only = false; // ReadonlyRootfs
  bool oom_kill_disable = false;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> group_add;   // numbers are stringified
  std::vector<std::string> extra_hosts; // "host:ip" ("h=ip" and the map form
                                        // are normalised to this)
  std::vector<std::string> devices;     // raw "host[:container[:perm]]"

  restart_mode restart = restart_mode::always;
  std::optional<service_healthcheck> healthcheck; // absent = image's
  std::optional<std::string> stop_signal;         // absent = image's/SIGTERM
  int64_t stop_grace_period_s = 10;               // StopTimeout, seconds

  std::optional<std::string> working_dir; // absent = image's
  std::optional<std::string> user;        // absent = image's
  std::string hostname;
  std::string domainname;
  std::string mac_address;
  bool tty = true;
  std::optional<bool> init; // only set when the compose value is a boolean

  std::vector<std::string> dns; // a string → [s]; order matters
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_opt;
  std::vector<std::string> security_opt;
  std::map<std::string, std::string> sysctls; // values stringified
  std::map<std::string, service_ulimit> ulimits;

  int64_t mem_limit = 0;       // bytes; 0 = unlimited
  int64_t mem_reservation = 0; // bytes; 0 = none
  int64_t shm_size = 67108864; // bytes; compose default 64m
  double cpus = 0;             // NanoCpus = cpus * 1e9; 0 = unlimited
  int64_t cpu_shares = 0;      // 0 = unset
  int64_t cpu_quota = 0;       // 0 = unset
  int64_t oom_score_adj = 0;   // 0 = unset
  std::string cpuset;          // CpusetCpus
  std::string pid;             // PidMode
  int64_t pids_limit = 0;      // 0 = unlimited
  std::string userns_mode;
  std::string cgroup_parent;
  std::string ipc = "shareable";                  // IpcMode
  std::map<std::string, std::string> storage_opt; // accepted, not applied

  std::vector<service_dependency> depends_on; // in document order
};

// ---------------------------------------------------------- the target --

// One service of the app's release.
struct target_service {
  std::string name;       // serviceName, ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$
  int64_t service_id = 0; // serviceId
  int64_t image_id = 0;   // imageId
  std::string image;      // registry name (cloud) or local tag (local mode)
  bool running = true;
  // The service contract as compact JSON text (an object), as the decoder
  // re-serialised it; whoever checks contracts parses it. absent = none.
  std::optional<std::string> contract;
  service_config config;
};

// A named volume of the release; created as "<appId>_<name>".
struct target_volume {
  std::string name;
  std::string driver = "local";
  std::map<std::string, std::string> driver_opts;
  std::map<std::string, std::string> labels;
};

// network `ipam.config[i]`.
struct ipam_pool {
  std::string subnet;
  std::string gateway;
  std::string ip_range;
  std::map<std::string, std::string> aux_addresses;
};

struct target_ipam {
  std::string driver = "default";
  std::vector<ipam_pool> config;
  std::map<std::string, std::string> options;
};

// A network of the release; created as "<appUuid>_<name>". The implicit
// "default" network is NOT added by the decoder (the planner adds it, with
// ConfigOnly when every service uses host networking); a release may define
// "default" explicitly to configure it.
struct target_network {
  std::string name;
  std::string driver = "bridge";
  std::map<std::string, std::string> driver_opts;
  target_ipam ipam;
  bool enable_ipv6 = false;
  bool internal = false;
  std::map<std::string, std::string> labels;
  bool config_only = false;
};

// One app with the single release the device should run.
//
// Local mode: balena keys local apps by appId and has no real uuid; bosun
// (like balena) uses the decimal appId as the uuid ("1" for the CLI's app),
// so engine objects are named "1_default", "1_data", ...
struct target_app {
  std::string uuid;   // 32 hex (cloud) or the decimal appId (local)
  int64_t app_id = 0; // appId; also the volume name prefix
  std::string name;
  app_class klass = app_class::fleet; // "class"
  bool is_host = false;
  std::optional<std::string> parent_app; // uuid of the parent (blocks)
  // The release: only the first release of the document is used. An app
  // with no release has an empty commit, release_id 0 and nothing below.
  std::string commit;
  int64_t release_id = 0;
  std::vector<target_service> services; // sorted by name, names unique
  std::vector<target_volume> volumes;   // sorted by name, names unique
  std::vector<target_network> networks; // sorted by name, names unique
};

// The whole target of the device.
struct target_state {
  target_source source = target_source::cloud;
  std::string device_uuid; // empty for a local target
  std::string device_name; // ≤ 255 chars, no newline
  // Device config vars with the BALENA_/RESIN_ prefix stripped (BALENA_
  // wins), only SUPERVISOR_*, HOST_* and OVERRIDE_LOCK kept.
  std::map<std::string, std::string> config;
  std::vector<target_app> apps; // sorted by uuid, uuids unique
};

// Something in the document that was accepted but ignored or changed, e.g.
//   path "apps.d149….releases.217d….services.web.composition.build",
//   message "unsupported compose key, ignored".
struct decode_warning {
  std::string path;
  std::string message;
  std::string to_string() const {
    return path.empty() ? message : path + ": " + message;
  }
};

// A decoded target and what was ignored on the way.
struct decoded_target {
  target_state target;
  std::vector<decode_warning> warnings;
};

// ------------------------------------------------------------ lookups --

inline const target_app* find_app(const target_state& t,
                                  const std::string& uuid) {
  for (const auto& a : t.apps)
    if (a.uuid == uuid)
      return &a;
  return nullptr;
}

inline const target_app* find_app_by_id(const target_state& t, int64_t app_id) {
  for (const auto& a : t.apps)
    if (a.app_id == app_id)
      return &a;
  return nullptr;
}

inline const target_service* find_service(const target_app& a,
                                          const std::string& name) {
  for (const auto& s : a.services)
    if (s.name == name)
      return &s;
  return nullptr;
}

inline const target_volume* find_volume(const target_app& a,
                                        const std::string& name) {
  for (const auto& v : a.volumes)
    if (v.name == name)
      return &v;
  return nullptr;
}

inline const target_network* find_network(const target_app& a,
                                          const std::string& name) {
  for (const auto& n : a.networks)
    if (n.name == name)
      return &n;
  return nullptr;
}

// ---------------------------------------------------------- equality --

inline bool operator==(const port_range& a, const port_range& b) {
  return a.first == b.first && a.last == b.last;
}

inline bool operator==(const service_port& a, const service_port& b) {
  return std::tie(a.host_ip, a.host, a.container, a.protocol)
         == std::tie(b.host_ip, b.host, b.container, b.protocol);
}

inline bool operator==(const service_volume& a, const service_volume& b) {
  return std::tie(a.kind, a.source, a.target, a.read_only, a.mode, a.nocopy,
                  a.tmpfs_size, a.long_syntax)
         == std::tie(b.kind, b.source, b.target, b.read_only, b.mode, b.nocopy,
                     b.tmpfs_size, b.long_syntax);
}

inline bool operator==(const service_network& a, const service_network& b) {
  return std::tie(a.aliases, a.ipv4_address, a.ipv6_address, a.link_local_ips)
         == std::tie(b.aliases, b.ipv4_address, b.ipv6_address,
                     b.link_local_ips);
}

inline bool operator==(const service_healthcheck& a,
                       const service_healthcheck& b) {
  return std::tie(a.test, a.interval_ns, a.timeout_ns, a.start_period_ns,
                  a.retries, a.disable)
         == std::tie(b.test, b.interval_ns, b.timeout_ns, b.start_period_ns,
                     b.retries, b.disable);
}

inline bool operator==(const service_ulimit& a, const service_ulimit& b) {
  return a.soft == b.soft && a.hard == b.hard;
}

inline bool operator==(const service_dependency& a,
                       const service_dependency& b) {
  return a.service == b.service && a.condition == b.condition;
}

inline bool operator==(const service_config& a, const service_config& b) {
  return std::tie(a.command, a.entrypoint, a.environment, a.labels, a.ports,
                  a.volumes, a.tmpfs, a.network_mode, a.networks, a.privileged,
                  a.read_only, a.oom_kill_disable, a.cap_add, a.cap_drop,
                  a.group_add, a.extra_hosts, a.devices, a.restart,
                  a.healthcheck, a.stop_signal, a.stop_grace_period_s,
                  a.working_dir, a.user, a.hostname, a.domainname,
                  a.mac_address, a.tty, a.init)
           == std::tie(b.command, b.entrypoint, b.environment, b.labels,
                       b.ports, b.volumes, b.tmpfs, b.network_mode, b.networks,
                       b.privileged, b.read_only, b.oom_kill_disable, b.cap_add,
                       b.cap_drop, b.group_add, b.extra_hosts, b.devices,
                       b.restart, b.healthcheck, b.stop_signal,
                       b.stop_grace_period_s, b.working_dir, b.user, b.hostname,
                       b.domainname, b.mac_address, b.tty, b.init)
         && std::tie(a.dns, a.dns_search, a.dns_opt, a.security_opt, a.sysctls,
                     a.ulimits, a.mem_limit, a.mem_reservation, a.shm_size,
                     a.cpus, a.cpu_shares, a.cpu_quota, a.oom_score_adj,
                     a.cpuset, a.pid, a.pids_limit, a.userns_mode,
                     a.cgroup_parent, a.ipc, a.storage_opt, a.depends_on)
              == std::tie(b.dns, b.dns_search, b.dns_opt, b.security_opt,
                          b.sysctls, b.ulimits, b.mem_limit, b.mem_reservation,
                          b.shm_size, b.cpus, b.cpu_shares, b.cpu_quota,
                          b.oom_score_adj, b.cpuset, b.pid, b.pids_limit,
                          b.userns_mode, b.cgroup_parent, b.ipc, b.storage_opt,
                          b.depends_on);
}

inline bool operator==(const target_service& a, const target_service& b) {
  return std::tie(a.name, a.service_id, a.image_id, a.image, a.running,
                  a.contract, a.config)
         == std::tie(b.name, b.service_id, b.image_id, b.image, b.running,
                     b.contract, b.config);
}

inline bool operator==(const target_volume& a, const target_volume& b) {
  return std::tie(a.name, a.driver, a.driver_opts, a.labels)
         == std::tie(b.name, b.driver, b.driver_opts, b.labels);
}

inline bool operator==(const ipam_pool& a, const ipam_pool& b) {
  return std::tie(a.subnet, a.gateway, a.ip_range, a.aux_addresses)
         == std::tie(b.subnet, b.gateway, b.ip_range, b.aux_addresses);
}

inline bool operator==(const target_ipam& a, const target_ipam& b) {
  return std::tie(a.driver, a.config, a.options)
         == std::tie(b.driver, b.config, b.options);
}

inline bool operator==(const target_network& a, const target_network& b) {
  return std::tie(a.name, a.driver, a.driver_opts, a.ipam, a.enable_ipv6,
                  a.internal, a.labels, a.config_only)
         == std::tie(b.name, b.driver, b.driver_opts, b.ipam, b.enable_ipv6,
                     b.internal, b.labels, b.config_only);
}

inline bool operator==(const target_app& a, const target_app& b) {
  return std::tie(a.uuid, a.app_id, a.name, a.klass, a.is_host, a.parent_app,
                  a.commit, a.release_id, a.services, a.volumes, a.networks)
         == std::tie(b.uuid, b.app_id, b.name, b.klass, b.is_host, b.parent_app,
                     b.commit, b.release_id, b.services, b.volumes, b.networks);
}

inline bool operator==(const target_state& a, const target_state& b) {
  return std::tie(a.source, a.device_uuid, a.device_name, a.config, a.apps)
         == std::tie(b.source, b.device_uuid, b.device_name, b.config, b.apps);
}

inline bool operator==(const decode_warning& a, const decode_warning& b) {
  return a.path == b.path && a.message == b.message;
}

#define BOSUN_TARGET_NEQ(type)                                                 \
  inline bool operator!=(const type& a, const type& b) {                       \
    return !(a == b);                                                          \
  }
BOSUN_TARGET_NEQ(port_range)
BOSUN_TARGET_NEQ(service_port)
BOSUN_TARGET_NEQ(service_volume)
BOSUN_TARGET_NEQ(service_network)
BOSUN_TARGET_NEQ(service_healthcheck)
BOSUN_TARGET_NEQ(service_ulimit)
BOSUN_TARGET_NEQ(service_dependency)
BOSUN_TARGET_NEQ(service_config)
BOSUN_TARGET_NEQ(target_service)
BOSUN_TARGET_NEQ(target_volume)
BOSUN_TARGET_NEQ(ipam_pool)
BOSUN_TARGET_NEQ(target_ipam)
BOSUN_TARGET_NEQ(target_network)
BOSUN_TARGET_NEQ(target_app)
BOSUN_TARGET_NEQ(target_state)
BOSUN_TARGET_NEQ(decode_warning)
#undef BOSUN_TARGET_NEQ

} // namespace bosun

BOSUN_MESSAGE(bosun::target_state)
BOSUN_MESSAGE(bosun::target_app)
BOSUN_MESSAGE(bosun::target_service)
BOSUN_MESSAGE(bosun::service_config)
BOSUN_MESSAGE(bosun::decoded_target)
