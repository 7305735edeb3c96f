// Response decoders: JSON from the engine into messages/engine_types.hpp.
// Over 600 lines: one decoder per Engine API reply, field for field; they
// share the json_io helpers and read best side by side.
#include "api/docker/codec.hpp"
#include "api/docker/json_io.hpp"

#include <utility>

namespace bosun::docker {

namespace {

using json::child;
using json::expect_object;
using json::fail;
using json::value;

// ------------------------------------------------ generic declarations --
// Everything read() can reach is declared first, so the templates below see
// every overload.

using json::read;

template <class T>
void read(const value& v, const std::string& path, std::vector<T>& out);
template <class T>
void read(const value& v, const std::string& path,
          std::map<std::string, T>& out);
template <class T>
void read(const value& v, const std::string& path, std::optional<T>& out);

void read(const value&, const std::string&, health_config&);
void read(const value&, const std::string&, container_config&);
void read(const value&, const std::string&, port_binding&);
void read(const value&, const std::string&, restart_policy_config&);
void read(const value&, const std::string&, device_mapping&);
void read(const value&, const std::string&, device_request&);
void read(const value&, const std::string&, ulimit&);
void read(const value&, const std::string&, logging_config&);
void read(const value&, const std::string&, mount_config&);
void read(const value&, const std::string&, mount_config::bind_options_t&);
void read(const value&, const std::string&, mount_config::volume_options_t&);
void read(const value&, const std::string&, mount_config::tmpfs_options_t&);
void read(const value&, const std::string&, host_config&);
void read(const value&, const std::string&, endpoint_ipam_config&);
void read(const value&, const std::string&, endpoint_settings&);
void read(const value&, const std::string&, networking_config&);
void read(const value&, const std::string&, health_log_entry&);
void read(const value&, const std::string&, health_state&);
void read(const value&, const std::string&, container_state&);
void read(const value&, const std::string&, mount_point&);
void read(const value&, const std::string&, network_settings&);
void read(const value&, const std::string&, container_inspect&);
void read(const value&, const std::string&, container_summary&);
void read(const value&, const std::string&, image_summary&);
void read(const value&, const std::string&, image_delete_item&);
void read(const value&, const std::string&, volume_info&);
void read(const value&, const std::string&, network_ipam_pool&);
void read(const value&, const std::string&, network_ipam&);
void read(const value&, const std::string&, network_container&);
void read(const value&, const std::string&, network_info&);

template <class T>
void read(const value& v, const std::string& path, std::vector<T>& out) {
  json::expect_array(v, path);
  out.clear();
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    out.emplace_back();
    if (!v[i].IsNull())
      read(v[i], json::index(path, i), out.back());
  }
}

template <class T>
void read(const value& v, const std::string& path,
          std::map<std::string, T>& out) {
  expect_object(v, path);
  out.clear();
  for (auto& m : v.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    T item{};
    if (!m.value.IsNull())
      read(m.value, json::entry(path, key), item);
    out.insert_or_assign(std::move(key), std::move(item));
  }
}

template <class T>
void read(const value& v, const std::string& path, std::optional<T>& out) {
  if (v.IsNull()) {
    out.reset();
    return;
  }
  T item{};
  read(v, path, item);
  out = std::move(item);
}

// Member `key` of `obj` into `out` when present. Null reads as the zero value
// (a disengaged optional, an empty list).
template <class T>
void field(const value& obj, const std::string& path, const char* key, T& out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd())
    return;
  if (it->value.IsNull()) {
    out = T{};
    return;
  }
  read(it->value, child(path, key), out);
}

// As field(), but the member must be present and not null.
template <class T>
void required(const value& obj, const std::string& path, const char* key,
              T& out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull())
    fail(child(path, key), "missing");
  read(it->value, child(path, key), out);
}

// A required member holding a non-empty string.
void required_id(const value& obj, const std::string& path, const char* key,
                 std::string& out) {
  required(obj, path, key, out);
  if (out.empty())
    fail(child(path, key), "empty");
}

// ------------------------------------------------------- struct readers --

void read(const value& v, const std::string& p, health_config& h) {
  expect_object(v, p);
  field(v, p, "Test", h.test);
  field(v, p, "Interval", h.interval);
  field(v, p, "Timeout", h.timeout);
  field(v, p, "StartPeriod", h.start_period);
  field(v, p, "Retries", h.retries);
}

void read(const value& v, const std::string& p, container_config& c) {
  expect_object(v, p);
  field(v, p, "Hostname", c.hostname);
  field(v, p, "Domainname", c.domainname);
  field(v, p, "User", c.user);
  field(v, p, "AttachStdin", c.attach_stdin);
  field(v, p, "AttachStdout", c.attach_stdout);
  field(v, p, "AttachStderr", c.attach_stderr);
  json::keys(v, p, "ExposedPorts", c.exposed_ports);
  field(v, p, "Tty", c.tty);
  field(v, p, "OpenStdin", c.open_stdin);
  field(v, p, "StdinOnce", c.stdin_once);
  field(v, p, "Env", c.env);
  field(v, p, "Cmd", c.cmd);
  field(v, p, "Entrypoint", c.entrypoint);
  field(v, p, "Healthcheck", c.healthcheck);
  field(v, p, "Image", c.image);
  json::keys(v, p, "Volumes", c.volumes);
  field(v, p, "WorkingDir", c.working_dir);
  field(v, p, "Labels", c.labels);
  field(v, p, "MacAddress", c.mac_address);
  field(v, p, "NetworkDisabled", c.network_disabled);
  field(v, p, "StopSignal", c.stop_signal);
  field(v, p, "StopTimeout", c.stop_timeout);
}

void read(const value& v, const std::string& p, port_binding& b) {
  expect_object(v, p);
  field(v, p, "HostIp", b.host_ip);
  field(v, p, "HostPort", b.host_port);
}

void read(const value& v, const std::string& p, restart_policy_config& r) {
  expect_object(v, p);
  field(v, p, "Name", r.name);
  field(v, p, "MaximumRetryCount", r.maximum_retry_count);
}

void read(const value& v, const std::string& p, device_mapping& d) {
  expect_object(v, p);
  field(v, p, "PathOnHost", d.path_on_host);
  field(v, p, "PathInContainer", d.path_in_container);
  field(v, p, "CgroupPermissions", d.cgroup_permissions);
}

void read(const value& v, const std::string& p, device_request& d) {
  expect_object(v, p);
  field(v, p, "Driver", d.driver);
  field(v, p, "Count", d.count);
  field(v, p, "DeviceIDs", d.device_ids);
  field(v, p, "Capabilities", d.capabilities);
  field(v, p, "Options", d.options);
}

void read(const value& v, const std::string& p, ulimit& u) {
  expect_object(v, p);
  field(v, p, "Name", u.name);
  field(v, p, "Soft", u.soft);
  field(v, p, "Hard", u.hard);
}

void read(const value& v, const std::string& p, logging_config& l) {
  expect_object(v, p);
  field(v, p, "Type", l.type);
  field(v, p, "Config", l.config);
}

void read(const value& v, const std::string& p,
          mount_config::bind_options_t& b) {
  expect_object(v, p);
  field(v, p, "Propagation", b.propagation);
  field(v, p, "NonRecursive", b.non_recursive);
}

void read(const value& v, const std::string& p,
          mount_config::volume_options_t& o) {
  expect_object(v, p);
  field(v, p, "NoCopy", o.no_copy);
  field(v, p, "Labels", o.labels);
  if (auto* dc = json::find(v, "DriverConfig")) {
    auto dp = child(p, "DriverConfig");
    expect_object(*dc, dp);
    std::string name;
    field(*dc, dp, "Name", name);
    o.driver_name = std::move(name);
    field(*dc, dp, "Options", o.driver_options);
  }
}

void read(const value& v, const std::string& p,
          mount_config::tmpfs_options_t& t) {
  expect_object(v, p);
  field(v, p, "SizeBytes", t.size_bytes);
  field(v, p, "Mode", t.mode);
}

void read(const value& v, const std::string& p, mount_config& m) {
  expect_object(v, p);
  field(v, p, "Type", m.type);
  field(v, p, "Source", m.source);
  field(v, p, "Target", m.target);
  field(v, p, "ReadOnly", m.read_only);
  field(v, p, "Consistency", m.consistency);
  field(v, p, "BindOptions", m.bind_options);
  field(v, p, "VolumeOptions", m.volume_options);
  field(v, p, "TmpfsOptions", m.tmpfs_options);
}

void read(const value& v, const std::string& p, host_config& h) {
  expect_object(v, p);
  field(v, p, "Binds", h.binds);
  field(v, p, "Mounts", h.mounts);
  field(v, p, "Tmpfs", h.tmpfs);
  field(v, p, "PortBindings", h.port_bindings);
  field(v, p, "PublishAllPorts", h.publish_all_ports);
  field(v, p, "NetworkMode", h.network_mode);
  field(v, p, "RestartPolicy", h.restart_policy);
  field(v, p, "AutoRemove", h.auto_remove);
  field(v, p, "Privileged", h.privileged);
  field(v, p, "CapAdd", h.cap_add);
  field(v, p, "CapDrop", h.cap_drop);
  field(v, p, "Devices", h.devices);
  field(v, p, "DeviceRequests", h.device_requests);
  field(v, p, "DeviceCgroupRules", h.device_cgroup_rules);
  field(v, p, "Dns", h.dns);
  field(v, p, "DnsSearch", h.dns_search);
  field(v, p, "DnsOptions", h.dns_options);
  field(v, p, "ExtraHosts", h.extra_hosts);
  field(v, p, "GroupAdd", h.group_add);
  field(v, p, "IpcMode", h.ipc_mode);
  field(v, p, "PidMode", h.pid_mode);
  field(v, p, "UsernsMode", h.userns_mode);
  field(v, p, "UTSMode", h.uts_mode);
  field(v, p, "CgroupnsMode", h.cgroupns_mode);
  field(v, p, "CgroupParent", h.cgroup_parent);
  field(v, p, "Runtime", h.runtime);
  field(v, p, "ShmSize", h.shm_size);
  field(v, p, "Sysctls", h.sysctls);
  field(v, p, "Ulimits", h.ulimits);
  field(v, p, "SecurityOpt", h.security_opt);
  field(v, p, "LogConfig", h.log_config);
  field(v, p, "Memory", h.memory);
  field(v, p, "MemoryReservation", h.memory_reservation);
  field(v, p, "MemorySwap", h.memory_swap);
  field(v, p, "MemorySwappiness", h.memory_swappiness);
  field(v, p, "NanoCpus", h.nano_cpus);
  field(v, p, "CpuShares", h.cpu_shares);
  field(v, p, "CpuQuota", h.cpu_quota);
  field(v, p, "CpuPeriod", h.cpu_period);
  field(v, p, "CpuRealtimeRuntime", h.cpu_realtime_runtime);
  field(v, p, "CpuRealtimePeriod", h.cpu_realtime_period);
  field(v, p, "CpusetCpus", h.cpuset_cpus);
  field(v, p, "CpusetMems", h.cpuset_mems);
  field(v, p, "BlkioWeight", h.blkio_weight);
  field(v, p, "OomKillDisable", h.oom_kill_disable);
  field(v, p, "OomScoreAdj", h.oom_score_adj);
  field(v, p, "PidsLimit", h.pids_limit);
  field(v, p, "ReadonlyRootfs", h.readonly_rootfs);
  field(v, p, "Init", h.init);
  field(v, p, "StorageOpt", h.storage_opt);
  field(v, p, "VolumesFrom", h.volumes_from);
  field(v, p, "Links", h.links);
}

void read(const value& v, const std::string& p, endpoint_ipam_config& c) {
  expect_object(v, p);
  field(v, p, "IPv4Address", c.ipv4_address);
  field(v, p, "IPv6Address", c.ipv6_address);
  field(v, p, "LinkLocalIPs", c.link_local_ips);
}

void read(const value& v, const std::string& p, endpoint_settings& e) {
  expect_object(v, p);
  field(v, p, "IPAMConfig", e.ipam_config);
  field(v, p, "Links", e.links);
  field(v, p, "Aliases", e.aliases);
  field(v, p, "DriverOpts", e.driver_opts);
  field(v, p, "NetworkID", e.network_id);
  field(v, p, "EndpointID", e.endpoint_id);
  field(v, p, "Gateway", e.gateway);
  field(v, p, "IPAddress", e.ip_address);
  field(v, p, "IPPrefixLen", e.ip_prefix_len);
  field(v, p, "IPv6Gateway", e.ipv6_gateway);
  field(v, p, "GlobalIPv6Address", e.global_ipv6_address);
  field(v, p, "GlobalIPv6PrefixLen", e.global_ipv6_prefix_len);
  field(v, p, "MacAddress", e.mac_address);
}

void read(const value& v, const std::string& p, networking_config& n) {
  expect_object(v, p);
  field(v, p, "EndpointsConfig", n.endpoints_config);
}

void read(const value& v, const std::string& p, health_log_entry& e) {
  expect_object(v, p);
  field(v, p, "Start", e.start);
  field(v, p, "End", e.end);
  field(v, p, "ExitCode", e.exit_code);
  field(v, p, "Output", e.output);
}

void read(const value& v, const std::string& p, health_state& h) {
  expect_object(v, p);
  field(v, p, "Status", h.status);
  field(v, p, "FailingStreak", h.failing_streak);
  field(v, p, "Log", h.log);
}

void read(const value& v, const std::string& p, container_state& s) {
  expect_object(v, p);
  required(v, p, "Status", s.status);
  field(v, p, "Running", s.running);
  field(v, p, "Paused", s.paused);
  field(v, p, "Restarting", s.restarting);
  field(v, p, "OOMKilled", s.oom_killed);
  field(v, p, "Dead", s.dead);
  field(v, p, "Pid", s.pid);
  field(v, p, "ExitCode", s.exit_code);
  field(v, p, "Error", s.error);
  field(v, p, "StartedAt", s.started_at);
  field(v, p, "FinishedAt", s.finished_at);
  field(v, p, "Health", s.health);
}

void read(const value& v, const std::string& p, mount_point& m) {
  expect_object(v, p);
  field(v, p, "Type", m.type);
  field(v, p, "Name", m.name);
  field(v, p, "Source", m.source);
  field(v, p, "Destination", m.destination);
  field(v, p, "Driver", m.driver);
  field(v, p, "Mode", m.mode);
  field(v, p, "RW", m.rw);
  field(v, p, "Propagation", m.propagation);
}

void read(const value& v, const std::string& p, network_settings& n) {
  expect_object(v, p);
  field(v, p, "Networks", n.networks);
  field(v, p, "Ports", n.ports);
  field(v, p, "SandboxID", n.sandbox_id);
}

void read(const value& v, const std::string& p, container_inspect& c) {
  expect_object(v, p);
  required_id(v, p, "Id", c.id);
  field(v, p, "Name", c.name);
  field(v, p, "Created", c.created);
  field(v, p, "Path", c.path);
  field(v, p, "Args", c.args);
  required(v, p, "State", c.state);
  field(v, p, "Image", c.image);
  field(v, p, "RestartCount", c.restart_count);
  field(v, p, "Driver", c.driver);
  field(v, p, "Platform", c.platform);
  required(v, p, "Config", c.config);
  required(v, p, "HostConfig", c.host);
  field(v, p, "NetworkSettings", c.network);
  field(v, p, "Mounts", c.mounts);
}

void read(const value& v, const std::string& p, container_summary& c) {
  expect_object(v, p);
  required_id(v, p, "Id", c.id);
  field(v, p, "Names", c.names);
  field(v, p, "Image", c.image);
  field(v, p, "ImageID", c.image_id);
  field(v, p, "Command", c.command);
  field(v, p, "Created", c.created);
  field(v, p, "State", c.state);
  field(v, p, "Status", c.status);
  field(v, p, "Labels", c.labels);
  field(v, p, "Mounts", c.mounts);
  if (auto* ns = json::find(v, "NetworkSettings")) {
    auto np = child(p, "NetworkSettings");
    expect_object(*ns, np);
    field(*ns, np, "Networks", c.networks);
  }
}

void read(const value& v, const std::string& p, image_summary& i) {
  expect_object(v, p);
  required_id(v, p, "Id", i.id);
  field(v, p, "ParentId", i.parent_id);
  field(v, p, "RepoTags", i.repo_tags);
  field(v, p, "RepoDigests", i.repo_digests);
  field(v, p, "Created", i.created);
  field(v, p, "Size", i.size);
  field(v, p, "VirtualSize", i.virtual_size);
  field(v, p, "SharedSize", i.shared_size);
  field(v, p, "Labels", i.labels);
  field(v, p, "Containers", i.containers);
}

void read(const value& v, const std::string& p, image_delete_item& i) {
  expect_object(v, p);
  field(v, p, "Untagged", i.untagged);
  field(v, p, "Deleted", i.deleted);
}

void read(const value& v, const std::string& p, volume_info& vol) {
  expect_object(v, p);
  required_id(v, p, "Name", vol.name);
  field(v, p, "Driver", vol.driver);
  field(v, p, "Mountpoint", vol.mountpoint);
  field(v, p, "CreatedAt", vol.created_at);
  field(v, p, "Labels", vol.labels);
  field(v, p, "Options", vol.options);
  field(v, p, "Scope", vol.scope);
}

void read(const value& v, const std::string& p, network_ipam_pool& pool) {
  expect_object(v, p);
  field(v, p, "Subnet", pool.subnet);
  field(v, p, "Gateway", pool.gateway);
  field(v, p, "IPRange", pool.ip_range);
  field(v, p, "AuxiliaryAddresses", pool.aux_addresses);
}

void read(const value& v, const std::string& p, network_ipam& i) {
  expect_object(v, p);
  field(v, p, "Driver", i.driver);
  field(v, p, "Config", i.config);
  field(v, p, "Options", i.options);
}

void read(const value& v, const std::string& p, network_container& c) {
  expect_object(v, p);
  field(v, p, "Name", c.name);
  field(v, p, "EndpointID", c.endpoint_id);
  field(v, p, "MacAddress", c.mac_address);
  field(v, p, "IPv4Address", c.ipv4_address);
  field(v, p, "IPv6Address", c.ipv6_address);
}

void read(const value& v, const std::string& p, network_info& n) {
  expect_object(v, p);
  required_id(v, p, "Id", n.id);
  required(v, p, "Name", n.name);
  field(v, p, "Created", n.created);
  field(v, p, "Scope", n.scope);
  field(v, p, "Driver", n.driver);
  field(v, p, "EnableIPv6", n.enable_ipv6);
  field(v, p, "Internal", n.internal);
  field(v, p, "Attachable", n.attachable);
  field(v, p, "Ingress", n.ingress);
  field(v, p, "ConfigOnly", n.config_only);
  field(v, p, "IPAM", n.ipam);
  field(v, p, "Options", n.options);
  field(v, p, "Labels", n.labels);
  field(v, p, "Containers", n.containers);
}

// --------------------------------------------------------- entry points --

// Parses `text` and runs `fill(root, out)`; any failure becomes `err`.
template <class T, class F>
decoded<T> run(std::string_view text, F fill) {
  decoded<T> result;
  try {
    rapidjson::Document doc;
    json::parse(doc, text);
    fill(static_cast<const value&>(doc), result.value);
  } catch (const json::json_error& e) {
    result.err = e.what;
    result.value = T{};
  } catch (const std::bad_alloc&) {
    result.err = "out of memory";
    result.value = T{};
  }
  return result;
}

// The whole document is one T.
template <class T>
decoded<T> run(std::string_view text) {
  return run<T>(text, [](const value& root, T& out) { read(root, "", out); });
}

} // namespace

decoded<engine_version> decode_version(std::string_view text) {
  return run<engine_version>(text, [](const value& v, engine_version& e) {
    expect_object(v, "");
    field(v, "", "Version", e.version);
    required(v, "", "ApiVersion", e.api_version);
    field(v, "", "MinAPIVersion", e.min_api_version);
    field(v, "", "Os", e.os);
    field(v, "", "Arch", e.arch);
    field(v, "", "KernelVersion", e.kernel_version);
    field(v, "", "GitCommit", e.git_commit);
    field(v, "", "GoVersion", e.go_version);
    field(v, "", "BuildTime", e.build_time);
  });
}

decoded<engine_info> decode_info(std::string_view text) {
  return run<engine_info>(text, [](const value& v, engine_info& i) {
    expect_object(v, "");
    field(v, "", "ID", i.id);
    field(v, "", "Name", i.name);
    field(v, "", "Containers", i.containers);
    field(v, "", "ContainersRunning", i.containers_running);
    field(v, "", "ContainersPaused", i.containers_paused);
    field(v, "", "ContainersStopped", i.containers_stopped);
    field(v, "", "Images", i.images);
    field(v, "", "Driver", i.driver);
    field(v, "", "DockerRootDir", i.docker_root_dir);
    field(v, "", "LoggingDriver", i.logging_driver);
    field(v, "", "CgroupDriver", i.cgroup_driver);
    field(v, "", "CgroupVersion", i.cgroup_version);
    field(v, "", "KernelVersion", i.kernel_version);
    field(v, "", "OperatingSystem", i.operating_system);
    field(v, "", "OSType", i.os_type);
    field(v, "", "Architecture", i.architecture);
    required(v, "", "ServerVersion", i.server_version);
    field(v, "", "NCPU", i.ncpu);
    field(v, "", "MemTotal", i.mem_total);
    field(v, "", "Labels", i.labels);
    field(v, "", "Warnings", i.warnings);
  });
}

decoded<container_list> decode_container_list(std::string_view text) {
  return run<container_list>(text);
}

decoded<container_inspect> decode_container_inspect(std::string_view text) {
  return run<container_inspect>(text);
}

decoded<container_create_result>
decode_container_create_result(std::string_view text) {
  return run<container_create_result>(
    text, [](const value& v, container_create_result& r) {
      expect_object(v, "");
      required_id(v, "", "Id", r.id);
      field(v, "", "Warnings", r.warnings);
    });
}

decoded<container_update_result>
decode_container_update_result(std::string_view text) {
  return run<container_update_result>(
    text, [](const value& v, container_update_result& r) {
      expect_object(v, "");
      field(v, "", "Warnings", r.warnings);
    });
}

decoded<container_wait_result> decode_wait_result(std::string_view text) {
  return run<container_wait_result>(
    text, [](const value& v, container_wait_result& r) {
      expect_object(v, "");
      required(v, "", "StatusCode", r.status_code);
      if (auto* e = json::find(v, "Error")) {
        expect_object(*e, "Error");
        field(*e, "Error", "Message", r.error);
      }
    });
}

decoded<image_list> decode_image_list(std::string_view text) {
  return run<image_list>(text);
}

decoded<image_inspect> decode_image_inspect(std::string_view text) {
  return run<image_inspect>(text, [](const value& v, image_inspect& i) {
    expect_object(v, "");
    required_id(v, "", "Id", i.id);
    field(v, "", "RepoTags", i.repo_tags);
    field(v, "", "RepoDigests", i.repo_digests);
    field(v, "", "Parent", i.parent);
    field(v, "", "Comment", i.comment);
    field(v, "", "Created", i.created);
    field(v, "", "DockerVersion", i.docker_version);
    field(v, "", "Author", i.author);
    field(v, "", "Architecture", i.architecture);
    field(v, "", "Variant", i.variant);
    field(v, "", "Os", i.os);
    field(v, "", "Size", i.size);
    field(v, "", "VirtualSize", i.virtual_size);
    field(v, "", "Config", i.config);
  });
}

decoded<image_delete_result> decode_image_delete_result(std::string_view text) {
  return run<image_delete_result>(text);
}

decoded<pull_progress> decode_pull_progress(std::string_view line) {
  return run<pull_progress>(line, [](const value& v, pull_progress& p) {
    expect_object(v, "");
    field(v, "", "status", p.status);
    field(v, "", "id", p.id);
    field(v, "", "progress", p.progress);
    if (auto* d = json::find(v, "progressDetail")) {
      expect_object(*d, "progressDetail");
      field(*d, "progressDetail", "current", p.current);
      field(*d, "progressDetail", "total", p.total);
    }
    std::string message;
    if (auto* d = json::find(v, "errorDetail")) {
      expect_object(*d, "errorDetail");
      field(*d, "errorDetail", "message", message);
    }
    if (message.empty())
      field(v, "", "error", message);
    if (!message.empty())
      p.error = std::move(message);
    else if (json::find(v, "error") || json::find(v, "errorDetail"))
      p.error = "pull failed";
  });
}

decoded<volume_info> decode_volume(std::string_view text) {
  return run<volume_info>(text);
}

decoded<volume_list> decode_volume_list(std::string_view text) {
  return run<volume_list>(text, [](const value& v, volume_list& l) {
    expect_object(v, "");
    field(v, "", "Volumes", l.volumes);
    field(v, "", "Warnings", l.warnings);
  });
}

decoded<network_info> decode_network(std::string_view text) {
  return run<network_info>(text);
}

decoded<network_infos> decode_network_list(std::string_view text) {
  return run<network_infos>(text);
}

decoded<network_create_result>
decode_network_create_result(std::string_view text) {
  return run<network_create_result>(
    text, [](const value& v, network_create_result& r) {
      expect_object(v, "");
      required_id(v, "", "Id", r.id);
      field(v, "", "Warning", r.warning);
    });
}

decoded<engine_event> decode_event(std::string_view line) {
  return run<engine_event>(line, [](const value& v, engine_event& e) {
    expect_object(v, "");
    required(v, "", "Type", e.type);
    required(v, "", "Action", e.action);
    if (auto* a = json::find(v, "Actor")) {
      expect_object(*a, "Actor");
      field(*a, "Actor", "ID", e.actor_id);
      field(*a, "Actor", "Attributes", e.attributes);
    }
    field(v, "", "scope", e.scope);
    field(v, "", "time", e.time);
    field(v, "", "timeNano", e.time_nano);
    classify_event(e);
  });
}

std::string error_message(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    auto it = doc.FindMember("message");
    if (it != doc.MemberEnd() && it->value.IsString()
        && it->value.GetStringLength() > 0)
      return std::string(it->value.GetString(), it->value.GetStringLength());
  }
  auto is_space
    = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!body.empty() && is_space(body.front()))
    body.remove_prefix(1);
  while (!body.empty() && is_space(body.back()))
    body.remove_suffix(1);
  if (body.empty())
    return "empty error response";
  constexpr std::size_t max_len = 1024;
  if (body.size() > max_len)
    return std::string(body.substr(0, max_len)) + "...";
  return std::string(body);
}

decoded<container_create> decode_container_create(std::string_view text) {
  return run<container_create>(text, [](const value& v, container_create& c) {
    read(v, "", c.config);
    field(v, "", "HostConfig", c.host);
    field(v, "", "NetworkingConfig", c.networking);
  });
}

decoded<network_create> decode_network_create(std::string_view text) {
  return run<network_create>(text, [](const value& v, network_create& n) {
    expect_object(v, "");
    required(v, "", "Name", n.name);
    field(v, "", "Driver", n.driver);
    field(v, "", "Internal", n.internal);
    field(v, "", "Attachable", n.attachable);
    field(v, "", "EnableIPv6", n.enable_ipv6);
    n.check_duplicate = false;
    field(v, "", "CheckDuplicate", n.check_duplicate);
    field(v, "", "ConfigOnly", n.config_only);
    field(v, "", "IPAM", n.ipam);
    field(v, "", "Options", n.options);
    field(v, "", "Labels", n.labels);
  });
}

decoded<volume_create> decode_volume_create(std::string_view text) {
  return run<volume_create>(text, [](const value& v, volume_create& c) {
    expect_object(v, "");
    field(v, "", "Name", c.name);
    field(v, "", "Driver", c.driver);
    field(v, "", "DriverOpts", c.driver_opts);
    field(v, "", "Labels", c.labels);
  });
}

} // namespace bosun::docker
