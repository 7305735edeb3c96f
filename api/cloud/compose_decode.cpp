// One compose key of a service → service_config (both for v3 `composition`
// and for the compose keys of a local-mode v2 service).
#include "api/cloud/compose_parse.hpp"
#include "api/cloud/detail.hpp"

#include <cmath>
#include <limits>

namespace bosun::cloud::detail {

namespace {

std::vector<std::string> string_or_list(const json& v,
                                        const std::string& path) {
  return expect_string_list(v, path, true);
}

// A compose duration: a string ("1m30s") or a number of seconds.
int64_t duration_ns(const json& v, const std::string& path) {
  if (v.IsString()) {
    auto d = parse_duration_ns(view(v));
    if (!d)
      fail(path, d.error + " (expected e.g. \"1m30s\")");
    return *d;
  }
  if (v.IsNumber()) {
    double s = v.GetDouble();
    if (!(s >= 0) || s * 1e9 >= 9.2e18)
      fail(path, "duration out of range");
    return static_cast<int64_t>(std::llround(s * 1e9));
  }
  fail(path, "expected a duration string or a number of seconds");
}

int64_t byte_size(const json& v, const std::string& path) {
  if (v.IsInt64()) {
    if (v.GetInt64() < 0)
      fail(path, "byte size must not be negative");
    return v.GetInt64();
  }
  if (v.IsNumber()) {
    double d = v.GetDouble();
    if (d >= 9.2e18 || v.IsUint64())
      fail(path, "byte size out of range");
    fail(path, "expected a whole number of bytes");
  }
  if (v.IsString()) {
    auto b = parse_byte_size(view(v));
    if (!b)
      fail(path, b.error + " (expected ^\\d+[bkmg]?b?$)");
    return *b;
  }
  fail(path, "expected a byte size (a number or e.g. \"64m\")");
}

std::optional<std::vector<std::string>> command(const json& v,
                                                const std::string& path) {
  if (v.IsNull())
    return std::nullopt;
  if (v.IsString()) {
    auto argv = shell_split(view(v));
    if (!argv)
      fail(path, argv.error);
    return *argv;
  }
  return expect_string_list(v, path);
}

service_port long_port(const json& v, const std::string& path) {
  service_port p;
  const json* target = nullptr;
  const json* published = nullptr;
  for (const auto& m : v.GetObject()) {
    auto key = camel_to_snake(view(m.name));
    auto kp = child(path, view(m.name));
    if (key == "target")
      target = &m.value;
    else if (key == "published")
      published = &m.value;
    else if (key == "host_ip")
      p.host_ip = expect_string(m.value, kp);
    else if (key == "protocol")
      p.protocol = expect_string(m.value, kp);
    else if (key == "mode" || key == "name" || key == "app_protocol")
      continue; // swarm / informational only
    else
      fail(kp, "unknown port key");
  }
  if (!target)
    fail(path, "port target is required");
  // Build the short spec and reuse its rules.
  std::string spec;
  if (!p.host_ip.empty())
    spec += p.host_ip.find(':') != std::string::npos ? "[" + p.host_ip + "]:"
                                                     : p.host_ip + ":";
  auto cont = expect_scalar(*target, child(path, "target"));
  if (published)
    spec += expect_scalar(*published, child(path, "published")) + ":";
  else
    spec += ":";
  spec += cont + "/" + p.protocol;
  auto parsed_port = parse_port_spec(spec);
  if (!parsed_port)
    fail(path, parsed_port.error);
  return *parsed_port;
}

service_volume long_volume(const json& v, const std::string& path,
                           const release_names& names, context& ctx) {
  service_volume vol;
  vol.long_syntax = true;
  std::string type = "volume";
  bool has_type = false;
  for (const auto& m : v.GetObject()) {
    auto key = camel_to_snake(view(m.name));
    auto kp = child(path, view(m.name));
    if (key == "type") {
      type = expect_string(m.value, kp);
      has_type = true;
    } else if (key == "source") {
      vol.source = expect_string(m.value, kp);
    } else if (key == "target") {
      vol.target = expect_string(m.value, kp);
    } else if (key == "read_only") {
      vol.read_only = expect_bool(m.value, kp);
    } else if (key == "volume") {
      expect_object(m.value, kp);
      for (const auto& o : m.value.GetObject()) {
        auto ok = camel_to_snake(view(o.name));
        if (ok == "nocopy")
          vol.nocopy = expect_bool(o.value, child(kp, view(o.name)));
        else
          ctx.warn(child(kp, view(o.name)), "unsupported volume option, "
                                            "ignored");
      }
    } else if (key == "tmpfs") {
      expect_object(m.value, kp);
      for (const auto& o : m.value.GetObject()) {
        auto ok = camel_to_snake(view(o.name));
        if (ok == "size")
          vol.tmpfs_size = byte_size(o.value, child(kp, view(o.name)));
        else
          ctx.warn(child(kp, view(o.name)), "unsupported tmpfs option, "
                                            "ignored");
      }
    } else {
      ctx.warn(kp, "unsupported volume key, ignored");
    }
  }
  if (!has_type)
    fail(path, "volume type is required (volume, bind or tmpfs)");
  if (type == "volume")
    vol.kind = mount_kind::volume;
  else if (type == "bind")
    vol.kind = mount_kind::bind;
  else if (type == "tmpfs")
    vol.kind = mount_kind::tmpfs;
  else
    fail(child(path, "type"), "unsupported volume type (volume, bind or "
                              "tmpfs)");
  if (vol.target.empty() || vol.target[0] != '/')
    fail(child(path, "target"), "volume target must be an absolute path");
  if (vol.kind == mount_kind::bind && vol.source.empty())
    fail(child(path, "source"), "a bind mount needs a source");
  if (vol.kind == mount_kind::tmpfs && !vol.source.empty())
    fail(child(path, "source"), "a tmpfs mount has no source");
  if (vol.kind == mount_kind::volume && !vol.source.empty()
      && names.volumes.count(vol.source) == 0)
    fail(child(path, "source"), "volume not defined in the release");
  return vol;
}

void networks(service_config& cfg, const json& v, const std::string& path,
              const release_names& names) {
  auto check = [&](const std::string& name, const std::string& p) {
    if (name != "default" && names.networks.count(name) == 0)
      fail(p, "network not defined in the release");
  };
  cfg.networks.clear();
  if (v.IsArray()) {
    size_t i = 0;
    for (const auto& x : v.GetArray()) {
      auto p = item(path, i++);
      auto name = expect_string(x, p);
      check(name, p);
      cfg.networks[name];
    }
    return;
  }
  if (!v.IsObject())
    fail(path, "expected an object or an array of network names");
  for (const auto& m : v.GetObject()) {
    auto name = std::string(view(m.name));
    auto p = child(path, name);
    check(name, p);
    service_network net;
    if (!m.value.IsNull()) {
      expect_object(m.value, p);
      for (const auto& e : m.value.GetObject()) {
        auto key = camel_to_snake(view(e.name));
        auto ep = child(p, view(e.name));
        if (key == "aliases")
          net.aliases = expect_string_list(e.value, ep);
        else if (key == "ipv4_address")
          net.ipv4_address = expect_string(e.value, ep);
        else if (key == "ipv6_address")
          net.ipv6_address = expect_string(e.value, ep);
        else if (key == "link_local_ips")
          net.link_local_ips = expect_string_list(e.value, ep);
        else
          fail(ep, "unknown service network key");
      }
    }
    cfg.networks[name] = std::move(net);
  }
}

service_healthcheck healthcheck(const json& v, const std::string& path) {
  expect_object(v, path);
  service_healthcheck h;
  for (const auto& m : v.GetObject()) {
    auto key = camel_to_snake(view(m.name));
    auto p = child(path, view(m.name));
    if (key == "test") {
      if (m.value.IsString())
        h.test = {"CMD-SHELL", std::string(view(m.value))};
      else
        h.test = expect_string_list(m.value, p);
    } else if (key == "interval") {
      h.interval_ns = duration_ns(m.value, p);
    } else if (key == "timeout") {
      h.timeout_ns = duration_ns(m.value, p);
    } else if (key == "start_period") {
      h.start_period_ns = duration_ns(m.value, p);
    } else if (key == "retries") {
      auto r = expect_int(m.value, p);
      if (r < 0)
        fail(p, "retries must not be negative");
      h.retries = r;
    } else if (key == "disable") {
      h.disable = expect_bool(m.value, p);
    } else {
      fail(p, "unknown healthcheck key");
    }
  }
  return h;
}

std::vector<std::string> extra_hosts(const json& v, const std::string& path) {
  std::vector<std::string> out;
  if (v.IsObject()) {
    for (const auto& m : v.GetObject())
      out.push_back(std::string(view(m.name)) + ":"
                    + expect_scalar(m.value, child(path, view(m.name))));
    return out;
  }
  size_t i = 0;
  for (auto& h : expect_string_list(v, path)) {
    auto eq = h.find('=');
    auto colon = h.find(':');
    if (eq != std::string::npos && (colon == std::string::npos || eq < colon))
      h[eq] = ':';
    if (h.find(':') == std::string::npos)
      fail(item(path, i), "expected \"host:ip\"");
    out.push_back(std::move(h));
    ++i;
  }
  return out;
}

std::map<std::string, service_ulimit> ulimits(const json& v,
                                              const std::string& path) {
  expect_object(v, path);
  std::map<std::string, service_ulimit> out;
  for (const auto& m : v.GetObject()) {
    auto name = std::string(view(m.name));
    auto p = child(path, name);
    service_ulimit u;
    if (m.value.IsObject()) {
      const json* soft = find(m.value, "soft");
      const json* hard = find(m.value, "hard");
      if (!soft || !hard)
        fail(p, "expected {soft, hard}");
      u.soft = expect_int(*soft, child(p, "soft"));
      u.hard = expect_int(*hard, child(p, "hard"));
    } else {
      u.soft = u.hard = expect_int(m.value, p);
    }
    out[name] = u;
  }
  return out;
}

std::vector<service_dependency> depends_on(const json& v,
                                           const std::string& path,
                                           const release_names& names,
                                           context& ctx) {
  std::vector<service_dependency> out;
  auto check = [&](const std::string& name, const std::string& p) {
    if (names.services.count(name) == 0)
      fail(p, "service not defined in the release");
  };
  if (v.IsArray()) {
    size_t i = 0;
    for (const auto& x : v.GetArray()) {
      auto p = item(path, i++);
      auto name = expect_string(x, p);
      check(name, p);
      out.push_back({name, dependency_condition::started});
    }
    return out;
  }
  if (!v.IsObject())
    fail(path, "expected an array of service names or an object");
  for (const auto& m : v.GetObject()) {
    auto name = std::string(view(m.name));
    auto p = child(path, name);
    check(name, p);
    service_dependency dep{name, dependency_condition::started};
    if (!m.value.IsNull()) {
      expect_object(m.value, p);
      for (const auto& e : m.value.GetObject()) {
        auto key = camel_to_snake(view(e.name));
        auto ep = child(p, view(e.name));
        if (key == "condition") {
          auto c = expect_string(e.value, ep);
          if (c == "service_healthy")
            dep.condition = dependency_condition::healthy;
          else if (c == "service_started")
            dep.condition = dependency_condition::started;
          else if (c == "service_completed_successfully")
            ctx.warn(ep, "condition service_completed_successfully is not "
                         "supported, treated as service_started");
          else
            fail(ep, "condition must be service_started or "
                     "service_healthy");
        } else {
          ctx.warn(ep, "unsupported depends_on key, ignored");
        }
      }
    }
    out.push_back(std::move(dep));
  }
  return out;
}

} // namespace

bool decode_compose_key(service_config& cfg, std::string_view key,
                        const json& v, const std::string& path,
                        const release_names& names, context& ctx) {
  if (key == "command") {
    cfg.command = command(v, path);
  } else if (key == "entrypoint") {
    cfg.entrypoint = command(v, path);
  } else if (key == "environment") {
    decode_environment(cfg.environment, v, path, ctx);
  } else if (key == "labels") {
    decode_labels(cfg.labels, v, path);
  } else if (key == "ports") {
    expect_array(v, path);
    cfg.ports.clear();
    size_t i = 0;
    for (const auto& x : v.GetArray()) {
      auto p = item(path, i++);
      if (x.IsObject()) {
        cfg.ports.push_back(long_port(x, p));
        continue;
      }
      auto spec = x.IsNumber() ? expect_scalar(x, p) : expect_string(x, p);
      auto port = parse_port_spec(spec);
      if (!port)
        fail(p, port.error
                  + " (expected [[ip:]host[-end]:]container[-end][/proto])");
      cfg.ports.push_back(*port);
    }
  } else if (key == "volumes") {
    expect_array(v, path);
    cfg.volumes.clear();
    size_t i = 0;
    for (const auto& x : v.GetArray()) {
      auto p = item(path, i++);
      if (x.IsObject()) {
        cfg.volumes.push_back(long_volume(x, p, names, ctx));
        continue;
      }
      auto vol = parse_volume_spec(expect_string(x, p));
      if (!vol)
        fail(p, vol.error + " (expected source:target[:mode] or target)");
      if (vol->kind == mount_kind::volume && !vol->source.empty()
          && names.volumes.count(vol->source) == 0)
        fail(p, "volume not defined in the release");
      cfg.volumes.push_back(*vol);
    }
  } else if (key == "tmpfs") {
    cfg.tmpfs = string_or_list(v, path);
  } else if (key == "network_mode") {
    cfg.network_mode = expect_string(v, path);
    if (cfg.network_mode.rfind("service:", 0) == 0
        && names.services.count(cfg.network_mode.substr(8)) == 0)
      fail(path, "service not defined in the release");
  } else if (key == "networks") {
    networks(cfg, v, path, names);
  } else if (key == "privileged") {
    cfg.privileged = expect_bool(v, path);
  } else if (key == "read_only") {
    cfg.read_only = expect_bool(v, path);
  } else if (key == "oom_kill_disable") {
    cfg.oom_kill_disable = expect_bool(v, path);
  } else if (key == "cap_add") {
    cfg.cap_add = expect_string_list(v, path);
  } else if (key == "cap_drop") {
    cfg.cap_drop = expect_string_list(v, path);
  } else if (key == "group_add") {
    expect_array(v, path);
    cfg.group_add.clear();
    size_t i = 0;
    for (const auto& x : v.GetArray()) {
      auto p = item(path, i++);
      if (!x.IsString() && !x.IsInt64())
        fail(p, "expected a group name or id");
      cfg.group_add.push_back(expect_scalar(x, p));
    }
  } else if (key == "extra_hosts") {
    cfg.extra_hosts = extra_hosts(v, path);
  } else if (key == "devices") {
    cfg.devices = expect_string_list(v, path);
  } else if (key == "restart") {
    auto r = expect_string(v, path);
    if (r == "no")
      cfg.restart = restart_mode::no;
    else if (r == "always")
      cfg.restart = restart_mode::always;
    else if (r == "on-failure" || r.rfind("on-failure:", 0) == 0)
      cfg.restart = restart_mode::on_failure;
    else if (r == "unless-stopped")
      cfg.restart = restart_mode::unless_stopped;
    else {
      cfg.restart = restart_mode::always;
      ctx.warn(path, "invalid restart policy, using always");
    }
  } else if (key == "healthcheck") {
    cfg.healthcheck = healthcheck(v, path);
  } else if (key == "stop_signal") {
    cfg.stop_signal = expect_string(v, path);
  } else if (key == "stop_grace_period") {
    auto ns = duration_ns(v, path);
    cfg.stop_grace_period_s = ns / 1000000000 + (ns % 1000000000 ? 1 : 0);
  } else if (key == "working_dir") {
    cfg.working_dir = expect_string(v, path);
  } else if (key == "user") {
    if (!v.IsString() && !v.IsInt64())
      fail(path, "expected a user name or id");
    cfg.user = expect_scalar(v, path);
  } else if (key == "hostname") {
    cfg.hostname = expect_string(v, path);
  } else if (key == "domainname") {
    cfg.domainname = expect_string(v, path);
  } else if (key == "mac_address") {
    cfg.mac_address = expect_string(v, path);
  } else if (key == "tty") {
    cfg.tty = expect_bool(v, path);
  } else if (key == "init") {
    if (v.IsBool())
      cfg.init = v.GetBool();
    else
      ctx.warn(path, "init is applied only when it is a boolean, ignored");
  } else if (key == "dns") {
    cfg.dns = string_or_list(v, path);
  } else if (key == "dns_search") {
    cfg.dns_search = string_or_list(v, path);
  } else if (key == "dns_opt") {
    cfg.dns_opt = string_or_list(v, path);
  } else if (key == "security_opt") {
    cfg.security_opt = expect_string_list(v, path);
  } else if (key == "sysctls") {
    cfg.sysctls = expect_string_map(v, path, true);
  } else if (key == "ulimits") {
    cfg.ulimits = ulimits(v, path);
  } else if (key == "mem_limit") {
    cfg.mem_limit = byte_size(v, path);
  } else if (key == "mem_reservation") {
    cfg.mem_reservation = byte_size(v, path);
  } else if (key == "shm_size") {
    cfg.shm_size = byte_size(v, path);
  } else if (key == "cpus") {
    cfg.cpus = expect_double(v, path);
    if (!(cfg.cpus >= 0) || cfg.cpus > 1e6)
      fail(path, "cpus out of range");
  } else if (key == "cpu_shares") {
    cfg.cpu_shares = expect_int(v, path);
  } else if (key == "cpu_quota") {
    cfg.cpu_quota = expect_int(v, path);
  } else if (key == "oom_score_adj") {
    cfg.oom_score_adj = expect_int(v, path);
  } else if (key == "cpuset") {
    cfg.cpuset = expect_string(v, path);
  } else if (key == "pid") {
    cfg.pid = expect_string(v, path);
  } else if (key == "pids_limit") {
    cfg.pids_limit = expect_int(v, path);
  } else if (key == "userns_mode") {
    cfg.userns_mode = expect_string(v, path);
  } else if (key == "cgroup_parent") {
    cfg.cgroup_parent = expect_string(v, path);
  } else if (key == "ipc") {
    cfg.ipc = expect_string(v, path);
  } else if (key == "storage_opt") {
    cfg.storage_opt = expect_string_map(v, path);
  } else if (key == "depends_on") {
    cfg.depends_on = depends_on(v, path, names, ctx);
  } else {
    return false;
  }
  return true;
}

} // namespace bosun::cloud::detail
