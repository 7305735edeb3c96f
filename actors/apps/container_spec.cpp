// Over 600 lines: the one pure translation of a target service into the
// engine's create body (compose keys, balena labels and environment,
// devices, networks, mounts), with the names and identity it reads back.
// Splitting it would separate each compose key from its defaults.
#include "actors/apps/container_spec.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>
#include <set>
#include <utility>

namespace bosun::apps {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  auto is_space
    = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return std::string(s);
}

// A decimal id; 0 when absent or malformed (balena's checkInt || null).
int64_t to_id(std::string_view s) {
  if (s.empty() || s.size() > 18)
    return 0;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return 0;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string label_or(const string_map& labels, const std::string& key) {
  auto i = labels.find(key);
  return i == labels.end() ? std::string{} : i->second;
}

// "K=V" entries into a map; an entry without '=' is K with an empty value.
string_map env_map(const string_list& env) {
  string_map out;
  for (const auto& e : env) {
    auto eq = e.find('=');
    if (eq == std::string::npos)
      out.emplace(e, "");
    else
      out.emplace(e.substr(0, eq), e.substr(eq + 1));
  }
  return out;
}

string_list env_list(const string_map& env) {
  string_list out;
  out.reserve(env.size());
  for (const auto& [k, v] : env)
    out.push_back(std::string(k).append("=").append(v));
  return out;
}

void add_unique(string_list& xs, const std::string& x) {
  if (std::find(xs.begin(), xs.end(), x) == xs.end())
    xs.push_back(x);
}

// Network modes that are not one of the app's networks.
bool is_builtin_mode(std::string_view mode) {
  return mode == "host" || mode == "bridge" || mode == "none"
         || starts_with(mode, "container:");
}

device_mapping parse_device(const std::string& s) {
  device_mapping d;
  auto first = s.find(':');
  d.path_on_host = s.substr(0, first);
  d.path_in_container = d.path_on_host;
  d.cgroup_permissions = "rwm";
  if (first != std::string::npos) {
    auto rest = s.substr(first + 1);
    auto second = rest.find(':');
    d.path_in_container = rest.substr(0, second);
    if (second != std::string::npos)
      d.cgroup_permissions = rest.substr(second + 1);
  }
  return d;
}

health_config make_healthcheck(const service_config& sc,
                               const container_config* img) {
  health_config h;
  h.test = {"NONE"};
  // The image's healthcheck first, then the compose fields over it.
  if (img != nullptr && img->healthcheck && !img->healthcheck->test.empty()) {
    const auto& ih = *img->healthcheck;
    h.test = ih.test;
    auto keep = [](const std::optional<int64_t>& x) {
      return x && *x != 0 ? x : std::nullopt;
    };
    h.interval = keep(ih.interval);
    h.timeout = keep(ih.timeout);
    h.start_period = keep(ih.start_period);
    h.retries = keep(ih.retries);
  }
  if (sc.healthcheck) {
    const auto& ch = *sc.healthcheck;
    if (ch.disable) {
      h.test = {"NONE"};
    } else {
      if (!ch.test.empty())
        h.test = ch.test;
      if (ch.interval_ns)
        h.interval = ch.interval_ns;
      if (ch.timeout_ns)
        h.timeout = ch.timeout_ns;
      if (ch.start_period_ns)
        h.start_period = ch.start_period_ns;
      if (ch.retries)
        h.retries = ch.retries;
    }
  }
  return h;
}

// Ports → ExposedPorts keys and PortBindings. Equal-sized ranges are zipped;
// a host range against one container port is handed to the engine as
// "first-last" (it picks a free one).
void add_ports(const std::vector<service_port>& ports, string_list& exposed,
               std::map<std::string, std::vector<port_binding>>& bindings) {
  for (const auto& p : ports) {
    auto proto = p.protocol.empty() ? std::string("tcp") : p.protocol;
    bool zip = p.host.size() == p.container.size();
    for (uint32_t c = p.container.first; c <= p.container.last; ++c) {
      auto key = std::to_string(c) + "/" + proto;
      add_unique(exposed, key);
      std::string host_port;
      if (zip) {
        auto h = p.host.first + (c - p.container.first);
        host_port = h == 0 ? std::string{} : std::to_string(h);
      } else {
        host_port
          = std::to_string(p.host.first) + "-" + std::to_string(p.host.last);
      }
      bindings[key].push_back(port_binding{p.host_ip, host_port});
    }
  }
}

void set_env_pair(string_map& env, const std::string& key,
                  const std::string& value) {
  env["BALENA_" + key] = value;
  env["RESIN_" + key] = value;
}

} // namespace

// ---------------------------------------------------------------- names --

std::string container_name(std::string_view service, int64_t image_id,
                           int64_t release_id, std::string_view commit) {
  std::string out(service);
  out += "_" + std::to_string(image_id) + "_" + std::to_string(release_id);
  out += "_";
  out += commit;
  return out;
}

std::string old_container_name(std::string_view name) {
  if (starts_with(name, "/"))
    name.remove_prefix(1);
  return "old_" + std::string(name);
}

std::optional<parsed_container_name>
parse_container_name(std::string_view name) {
  if (starts_with(name, "/"))
    name.remove_prefix(1);
  // ECMAScript semantics, as balena's regex (greedy prefix, lazy commit).
  // Compiled once: building it on every call was 2-3 % of an idle fleet's
  // CPU (docs/FLEET.md); matching a const regex is safe from any thread.
  static const std::regex re(R"(^(.*)_(\d+)_(\d+)(?:_(.*?))?$)");
  std::cmatch m;
  if (!std::regex_match(name.data(), name.data() + name.size(), m, re))
    return std::nullopt;
  parsed_container_name out;
  out.service_name = m[1].str();
  out.image_id = to_id(m[2].str());
  out.release_id = to_id(m[3].str());
  if (m[4].matched)
    out.commit = m[4].str();
  if (starts_with(out.service_name, "old_")) {
    out.old = true;
    out.service_name.erase(0, 4);
  }
  return out;
}

// ------------------------------------------------------------- helpers --

string_map normalize_labels(const string_map& labels) {
  string_map out;
  // Legacy keys first, so that an io.balena.* key overwrites its twin.
  for (const auto& [k, v] : labels) {
    if (!starts_with(k, "io.resin."))
      continue;
    std::string key = k;
    for (auto pos = key.find("resin"); pos != std::string::npos;
         pos = key.find("resin", pos + 6))
      key.replace(pos, 5, "balena");
    out[key] = v;
  }
  for (const auto& [k, v] : labels)
    if (!starts_with(k, "io.resin."))
      out[k] = v;
  return out;
}

bool is_truthy(std::string_view value) {
  auto v = lower(value);
  return v == "1" || v == "true" || v == "on";
}

std::string normalize_image_name(std::string_view name) {
  std::string n(name);
  auto at = n.find('@');
  auto last_slash = n.rfind('/', at == std::string::npos ? n.size() : at);
  auto repo_start = last_slash == std::string::npos ? 0 : last_slash + 1;
  if (at != std::string::npos) {
    // repo:tag@digest → repo@digest
    auto colon = n.find(':', repo_start);
    if (colon != std::string::npos && colon < at)
      n.erase(colon, at - colon);
    return n;
  }
  if (n.find(':', repo_start) == std::string::npos)
    n += ":latest";
  return n;
}

std::string lock_dir(const spec_context& ctx, int64_t app_id,
                     std::string_view service) {
  std::string base = ctx.lock_dir_base;
  while (base.size() > 1 && base.back() == '/')
    base.pop_back();
  return base + "/services/" + std::to_string(app_id) + "/"
         + std::string(service);
}

// ------------------------------------------------------------------ spec --

container_spec make_container_spec(const target_app& app,
                                   const target_service& service,
                                   const spec_context& ctx,
                                   const image_inspect* image) {
  container_spec out;
  const auto& sc = service.config;
  const container_config* img = image != nullptr ? &image->config : nullptr;
  auto& create = out.create;
  auto& cfg = create.config;
  auto& host = create.host;

  create.name = container_name(service.name, service.image_id, app.release_id,
                               app.commit);
  cfg.image = image != nullptr && !image->id.empty()
                ? image->id
                : normalize_image_name(service.image);
  out.restart = sc.restart;

  // -- labels: user < ours; the image's fill in; legacy names renamed.
  string_map labels = sc.labels;
  labels["io.balena.supervised"] = "true";
  labels["io.balena.app-id"] = std::to_string(app.app_id);
  labels["io.balena.service-id"] = std::to_string(service.service_id);
  labels["io.balena.service-name"] = service.name;
  labels["io.balena.app-uuid"] = app.uuid;
  labels[std::string(restart_policy_label)] = to_string(sc.restart);
  if (img != nullptr)
    for (const auto& [k, v] : img->labels)
      labels.emplace(k, v);
  cfg.labels = normalize_labels(labels);
  auto feature = [&](const char* name) {
    auto i = cfg.labels.find(std::string("io.balena.features.") + name);
    return i != cfg.labels.end() && is_truthy(i->second);
  };

  // -- network mode and networks.
  std::string mode = sc.network_mode;
  auto prefixed = [&](const std::string& n) { return app.uuid + "_" + n; };
  if (starts_with(mode, "container:")) {
    out.warnings.push_back("Ignoring unsupported network_mode '" + mode
                           + "' (a network_mode referencing a container)");
    mode.clear();
  }
  std::map<std::string, service_network> nets;
  for (const auto& [name, net] : sc.networks) {
    if (name == supervisor_network)
      continue; // only with the supervisor-api feature, below
    nets[prefixed(name)] = net;
  }
  if (starts_with(mode, "service:")) {
    out.network_service = trim(std::string_view(mode).substr(8));
    auto id = ctx.service_container_ids.find(out.network_service);
    if (id != ctx.service_container_ids.end() && !id->second.empty()) {
      mode = "container:" + id->second;
    } else {
      out.errors.push_back("No container for network_mode: 'service: "
                           + out.network_service + "'");
    }
  } else if (mode.empty()) {
    mode = nets.empty() ? prefixed("default") : nets.begin()->first;
  } else if (!is_builtin_mode(mode)) {
    mode = prefixed(mode);
  }
  bool own_network = !is_builtin_mode(mode) && !starts_with(mode, "service:");
  if (own_network && nets.find(mode) == nets.end())
    nets[mode] = service_network{};
  if (!own_network && mode != "bridge" && !nets.empty()) {
    out.warnings.push_back("Ignoring networks of a service with network_mode '"
                           + sc.network_mode + "'");
    nets.clear();
  }
  for (auto& [name, net] : nets)
    add_unique(net.aliases, service.name);

  bool shares_netns
    = starts_with(mode, "container:") || starts_with(mode, "service:");
  std::string api_host = mode == "host" ? "127.0.0.1" : ctx.supervisor_api_host;
  if (feature("supervisor-api") && mode != "host" && mode != "none"
      && !shares_netns)
    nets[std::string(supervisor_network)] = service_network{};

  for (const auto& [name, net] : nets) {
    endpoint_settings es;
    es.aliases = net.aliases;
    if (!net.ipv4_address.empty() || !net.ipv6_address.empty()
        || !net.link_local_ips.empty())
      es.ipam_config = endpoint_ipam_config{net.ipv4_address, net.ipv6_address,
                                            net.link_local_ips};
    if (name == mode) {
      out.main_network = name;
      create.networking.endpoints_config[name] = std::move(es);
    } else {
      out.extra_networks[name] = std::move(es);
    }
  }
  host.network_mode = mode;

  // -- environment: user > ours > the image's.
  string_map env = sc.environment;
  string_map defaults;
  for (const char* p : {"BALENA", "RESIN"}) {
    std::string ns = p;
    defaults[ns] = "1";
    defaults[ns + "_APP_ID"] = std::to_string(app.app_id);
    defaults[ns + "_APP_UUID"] = app.uuid;
    defaults[ns + "_APP_NAME"] = app.name;
    defaults[ns + "_SERVICE_NAME"] = service.name;
    defaults[ns + "_DEVICE_UUID"] = ctx.device_uuid;
    defaults[ns + "_DEVICE_TYPE"] = ctx.device_type;
    defaults[ns + "_DEVICE_ARCH"] = ctx.device_arch;
    defaults[ns + "_HOST_OS_VERSION"] = ctx.host_os_version;
    defaults[ns + "_APP_LOCK_PATH"]
      = std::string(container_lock_dir) + "/updates.lock";
  }
  defaults["BALENA_SERVICE_HANDOVER_COMPLETE_PATH"]
    = std::string(container_lock_dir) + "/handover-complete";
  defaults["RESIN_SERVICE_KILL_ME_PATH"]
    = std::string(container_lock_dir) + "/handover-complete";
  defaults["USER"] = "root";
  for (const auto& [k, v] : defaults)
    env.emplace(k, v);
  if (img != nullptr)
    for (const auto& [k, v] : env_map(img->env))
      env.emplace(k, v);

  // Features that set env override the user's values (as balena does).
  if (feature("balena-api")) {
    set_env_pair(env, "API_KEY", ctx.device_api_key);
    set_env_pair(env, "API_URL", ctx.api_endpoint);
  }
  if (feature("supervisor-api")) {
    auto port = std::to_string(ctx.listen_port);
    auto scoped = ctx.scoped_api_keys.find({app.app_id, service.name});
    set_env_pair(env, "SUPERVISOR_API_KEY",
                 scoped != ctx.scoped_api_keys.end() ? scoped->second
                                                     : ctx.supervisor_api_key);
    set_env_pair(env, "SUPERVISOR_PORT", port);
    set_env_pair(env, "SUPERVISOR_HOST", api_host);
    set_env_pair(env, "SUPERVISOR_ADDRESS", "http://" + api_host + ":" + port);
  }
  if (feature("host-os.board-rev")) {
    set_env_pair(env, "HOST_OS_BOARD_REV", ctx.host_os_board_rev);
    set_env_pair(env, "HOST_OS_BUILD", ctx.host_os_board_rev);
  }
  const std::string engine_sock_in_container = "/host/run/balena-engine.sock";
  if (feature("balena-socket"))
    env.emplace("DOCKER_HOST", "unix://" + engine_sock_in_container);

  // Set at create only and never compared: the name may change later.
  env.erase("BALENA_DEVICE_NAME_AT_INIT");
  env.erase("RESIN_DEVICE_NAME_AT_INIT");
  if (ctx.device_name.find('\n') != std::string::npos) {
    out.errors.push_back("The device name contains a newline");
  } else {
    env["BALENA_DEVICE_NAME_AT_INIT"] = ctx.device_name;
    env["RESIN_DEVICE_NAME_AT_INIT"] = ctx.device_name;
  }
  cfg.env = env_list(env);

  // -- command, entrypoint: the compose values, else the image's.
  string_list entrypoint = sc.entrypoint ? *sc.entrypoint
                           : img != nullptr && img->entrypoint
                             ? *img->entrypoint
                             : string_list{};
  string_list cmd = sc.command                   ? *sc.command
                    : img != nullptr && img->cmd ? *img->cmd
                                                 : string_list{};
  // The engine gives an empty Cmd the image's when Entrypoint is empty too;
  // do it here so that inspect matches the spec.
  if (cmd.empty() && entrypoint.empty() && img != nullptr && img->cmd)
    cmd = *img->cmd;
  cfg.cmd = std::move(cmd);
  cfg.entrypoint = std::move(entrypoint);

  // -- plain Config fields.
  cfg.healthcheck = make_healthcheck(sc, img);
  cfg.stop_signal = sc.stop_signal ? *sc.stop_signal
                    : img != nullptr && !img->stop_signal.empty()
                      ? img->stop_signal
                      : std::string("SIGTERM");
  cfg.stop_timeout = sc.stop_grace_period_s;
  std::string wd = sc.working_dir   ? *sc.working_dir
                   : img != nullptr ? img->working_dir
                                    : std::string{};
  if (wd.size() > 1 && wd.back() == '/')
    wd.pop_back();
  cfg.working_dir = wd;
  cfg.user = sc.user ? *sc.user : img != nullptr ? img->user : std::string{};
  cfg.hostname = sc.hostname;
  if (mode == "host" && cfg.hostname.empty())
    cfg.hostname = ctx.hostname;
  cfg.domainname = sc.domainname;
  cfg.mac_address = sc.mac_address;
  cfg.tty = sc.tty;

  // -- ports. A host-network container publishes nothing (the engine
  // discards bindings); a container sharing another's namespace can't even
  // expose.
  string_list exposed;
  if (img != nullptr)
    exposed = img->exposed_ports;
  if (!sc.ports.empty() && (mode == "host" || shares_netns))
    out.warnings.push_back("Ignoring ports of a service with network_mode '"
                           + mode + "'");
  else
    add_ports(sc.ports, exposed, host.port_bindings);
  std::sort(exposed.begin(), exposed.end());
  exposed.erase(std::unique(exposed.begin(), exposed.end()), exposed.end());
  cfg.exposed_ports = std::move(exposed);

  // -- volumes.
  string_list anon;
  for (const auto& v : sc.volumes) {
    switch (v.kind) {
      case mount_kind::bind:
        out.warnings.push_back("Ignoring invalid bind mount " + v.source + ":"
                               + v.target);
        break;
      case mount_kind::volume:
        if (v.long_syntax) {
          mount_config m;
          m.type = "volume";
          m.source = v.source.empty()
                       ? std::string{}
                       : std::to_string(app.app_id) + "_" + v.source;
          m.target = v.target;
          m.read_only = v.read_only;
          if (v.nocopy) {
            m.volume_options = mount_config::volume_options_t{};
            m.volume_options->no_copy = true;
          }
          host.mounts.push_back(std::move(m));
        } else if (v.source.empty()) {
          add_unique(anon, v.target);
        } else {
          auto bind
            = std::to_string(app.app_id) + "_" + v.source + ":" + v.target;
          if (!v.mode.empty())
            bind += ":" + v.mode;
          host.binds.push_back(std::move(bind));
        }
        break;
      case mount_kind::tmpfs: {
        mount_config m;
        m.type = "tmpfs";
        m.target = v.target;
        m.read_only = v.read_only;
        if (v.tmpfs_size > 0) {
          m.tmpfs_options = mount_config::tmpfs_options_t{};
          m.tmpfs_options->size_bytes = v.tmpfs_size;
        }
        host.mounts.push_back(std::move(m));
        break;
      }
    }
  }
  auto locks = lock_dir(ctx, app.app_id, service.name);
  host.binds.push_back(locks + ":" + std::string(container_legacy_lock_dir));
  host.binds.push_back(locks + ":" + std::string(container_lock_dir));
  auto exists = [&](const std::string& p) {
    return ctx.host_path_exists && ctx.host_path_exists(p);
  };
  if (feature("journal-logs")) {
    host.binds.push_back("/var/log/journal:/var/log/journal:ro");
    host.binds.push_back("/run/log/journal:/run/log/journal:ro");
    host.binds.push_back("/etc/machine-id:/etc/machine-id:ro");
  }
  if (feature("dbus"))
    host.binds.push_back("/run/dbus:/host/run/dbus");
  if (feature("kernel-modules") && exists("/lib/modules"))
    host.binds.push_back("/lib/modules:/lib/modules");
  if (feature("firmware") && exists("/lib/firmware"))
    host.binds.push_back("/lib/firmware:/lib/firmware");
  if (feature("sysfs"))
    host.binds.push_back("/sys:/sys");
  if (feature("procfs"))
    host.binds.push_back("/proc:/proc");
  if (feature("balena-socket")) {
    auto bind_socket = [&](const std::string& target) {
      mount_config m;
      m.type = "bind";
      m.source = ctx.engine_socket;
      m.target = target;
      host.mounts.push_back(std::move(m));
    };
    bind_socket(engine_sock_in_container);
    if (ctx.engine_socket != engine_sock_in_container)
      bind_socket(ctx.engine_socket);
    if (ctx.engine_socket != "/var/run/balena.sock")
      bind_socket("/var/run/balena.sock");
  }
  if (feature("extra-firmware")) {
    mount_config m;
    m.type = "volume";
    m.source = "extra-firmware";
    m.target = "/extra-firmware";
    host.mounts.push_back(std::move(m));
  }
  if (img != nullptr)
    for (const auto& p : img->volumes)
      add_unique(anon, p);
  std::sort(anon.begin(), anon.end());
  cfg.volumes = std::move(anon);

  for (const auto& t : sc.tmpfs) {
    auto colon = t.find(':');
    if (colon == std::string::npos)
      host.tmpfs[t] = "";
    else
      host.tmpfs[t.substr(0, colon)] = t.substr(colon + 1);
  }

  // -- the rest of HostConfig, every compared field explicitly.
  host.restart_policy = restart_policy_config{"no", 0};
  host.privileged = sc.privileged;
  host.readonly_rootfs = sc.read_only;
  host.oom_kill_disable = sc.oom_kill_disable;
  host.cap_add = sc.cap_add;
  host.cap_drop = sc.cap_drop;
  host.group_add = sc.group_add;
  if (shares_netns && (!sc.extra_hosts.empty() || !sc.dns.empty()))
    out.warnings.push_back("Ignoring dns and extra_hosts of a service sharing "
                           "another container's network");
  if (!shares_netns) {
    host.extra_hosts = sc.extra_hosts;
    host.dns = sc.dns;
  }
  for (const auto& d : sc.devices)
    host.devices.push_back(parse_device(d));
  if (feature("gpu")) {
    device_request gpu;
    gpu.count = 1;
    gpu.capabilities = {{"gpu"}};
    host.device_requests.push_back(std::move(gpu));
  }
  host.dns_search = sc.dns_search;
  host.dns_options = sc.dns_opt;
  for (const auto& s : sc.security_opt)
    if (!starts_with(s, "label="))
      host.security_opt.push_back(s);
  host.sysctls = sc.sysctls;
  for (const auto& [name, u] : sc.ulimits)
    host.ulimits.push_back(ulimit{name, u.soft, u.hard});
  host.memory = sc.mem_limit;
  host.memory_reservation = sc.mem_reservation;
  host.shm_size = sc.shm_size;
  host.nano_cpus = static_cast<int64_t>(std::llround(sc.cpus * 1e9));
  host.cpu_shares = sc.cpu_shares;
  host.cpu_quota = sc.cpu_quota;
  host.oom_score_adj = sc.oom_score_adj;
  host.cpuset_cpus = sc.cpuset;
  host.pid_mode = sc.pid;
  if (sc.pids_limit > 0)
    host.pids_limit = sc.pids_limit;
  host.userns_mode = sc.userns_mode;
  host.cgroup_parent = sc.cgroup_parent;
  host.ipc_mode = sc.ipc;
  host.init = sc.init;
  if (!sc.storage_opt.empty())
    out.warnings.push_back("storage_opt is accepted but not applied");
  return out;
}

// ------------------------------------------------------------ identity --

bool is_supervised(const string_map& labels) {
  return labels.count("io.balena.supervised") > 0
         || labels.count("io.resin.supervised") > 0;
}

std::optional<service_identity> service_from_labels(const string_map& raw,
                                                    std::string_view name) {
  if (!is_supervised(raw))
    return std::nullopt;
  auto labels = normalize_labels(raw);
  service_identity out;
  out.app_id = to_id(label_or(labels, "io.balena.app-id"));
  out.service_id = to_id(label_or(labels, "io.balena.service-id"));
  out.service_name = label_or(labels, "io.balena.service-name");
  out.app_uuid = label_or(labels, "io.balena.app-uuid");
  if (starts_with(name, "/"))
    name.remove_prefix(1);
  if (auto parsed = parse_container_name(name)) {
    out.image_id = parsed->image_id;
    out.release_id = parsed->release_id;
    out.commit = parsed->commit;
    if (out.service_name.empty())
      out.service_name = parsed->service_name;
    // "old_" is the hand-over prefix unless it is part of the service name.
    out.old
      = starts_with(name, "old_") && !starts_with(name, out.service_name + "_");
  }
  return out;
}

std::optional<service_identity>
service_from_container(const container_inspect& c) {
  return service_from_labels(c.config.labels, c.name);
}

std::optional<service_identity>
service_from_container(const container_summary& c) {
  return service_from_labels(c.labels, c.names.empty() ? std::string_view{}
                                                       : c.names.front());
}

namespace {

std::optional<restart_mode> parse_restart(std::string_view s) {
  auto v = lower(trim(s));
  if (v == "no" || v.empty())
    return restart_mode::no;
  if (v == "always")
    return restart_mode::always;
  if (v == "on-failure")
    return restart_mode::on_failure;
  if (v == "unless-stopped")
    return restart_mode::unless_stopped;
  return std::nullopt;
}

} // namespace

restart_mode restart_of(const string_map& labels) {
  auto i = labels.find(std::string(restart_policy_label));
  if (i == labels.end())
    return restart_mode::always;
  return parse_restart(i->second).value_or(restart_mode::always);
}

restart_mode restart_of(const container_inspect& c) {
  auto i = c.config.labels.find(std::string(restart_policy_label));
  if (i != c.config.labels.end())
    return parse_restart(i->second).value_or(restart_mode::always);
  // balena writes "no" as "".
  return parse_restart(c.host.restart_policy.name)
    .value_or(restart_mode::always);
}

} // namespace bosun::apps
