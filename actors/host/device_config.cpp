#include "actors/host/device_config.hpp"

#include "actors/cloud/config_writer.hpp"
#include "actors/host/backends/config_plan.hpp"
#include "actors/telemetry/counters.hpp"
#include "api/cloud/boot_codec.hpp"

#include <algorithm>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace bosun {

namespace hc = boot_config;

namespace {

using namespace std::chrono_literals;

struct device_config_state {
  static inline const char* name = "device_config";
  device_config_deps deps;
  device_config_options opts;
  hc::backend_list backends;
  hc::env_map applied;               // the table keys as applied
  std::optional<hc::env_map> stored; // the formatted target config
  bool discoverable = true;
  std::string firewall_mode;
  uint64_t reboots_asked = 0;
  std::string last_error;
  uint32_t failures = 0; // failed applies in a row
  uint64_t retry_epoch = 0;
};

using device_config_ptr
  = device_config_actor::stateful_pointer<device_config_state>;

const logger& log_of(device_config_ptr self) {
  return *self->state.opts.log;
}

// A dashboard line (the logs actor) that also goes to the console.
void system_line(device_config_ptr self, const std::string& message,
                 bool error = false) {
  auto& st = self->state;
  if (error) {
    st.last_error = message;
    log_of(self).error("config", "{}", message);
  } else {
    log_of(self).info("config", "{}", message);
  }
  if (st.deps.logs)
    self->send(st.deps.logs, system_log{message, error});
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

hc::file_map files_of(device_config_ptr self, const hc::backend& b) {
  hc::file_map out;
  for (const auto& f : b.files())
    out[f] = read_file(self->state.opts.boot_dir + "/" + f);
  return out;
}

hc::device_facts facts_of(device_config_ptr self) {
  return {self->state.opts.device_type, self->state.opts.meta_release};
}

// The backends this device has (re-detected on each read, as balena does:
// extra_uEnv's depends on its file existing).
std::vector<const hc::backend*> matching(device_config_ptr self) {
  std::vector<const hc::backend*> out;
  for (const auto& b : self->state.backends)
    if (b->matches(facts_of(self), files_of(self, *b)))
      out.push_back(b.get());
  return out;
}

// Writes `files` (relative to the boot dir) atomically; the first failure.
std::optional<std::string>
write_files(device_config_ptr self,
            const std::map<std::string, std::string>& files,
            std::vector<std::string>& written) {
  for (const auto& [rel, data] : files) {
    auto path = self->state.opts.boot_dir + "/" + rel;
    std::error_code ec;
    std::filesystem::create_directories(
      std::filesystem::path(path).parent_path(), ec);
    if (auto why = atomic_write(path, data))
      return why;
    written.push_back(rel);
  }
  return std::nullopt;
}

// Every matching backend's values, as vars (getCurrent's backend part).
struct backend_values {
  hc::env_map vars;
  std::string error;
};
backend_values read_backends(device_config_ptr self,
                             const std::vector<const hc::backend*>& list) {
  backend_values out;
  for (const auto* b : list) {
    auto r = b->read(files_of(self, *b));
    for (const auto& w : r.warnings)
      log_of(self).debug("config", "{}", w);
    if (!r.error.empty()) {
      out.error = r.error;
      return out;
    }
    for (auto& [k, v] : hc::to_env(*b, r.options))
      out.vars[k] = v;
  }
  return out;
}

// getCurrent: the table keys as applied, the VPN (openvpn runs on managed
// devices only; the host actor owns its unit), every backend's values.
hc::env_map current_values(device_config_ptr self) {
  auto& st = self->state;
  auto out = st.applied;
  out["SUPERVISOR_VPN_CONTROL"] = st.opts.unmanaged ? "false" : "true";
  auto b = read_backends(self, matching(self));
  for (auto& [k, v] : b.vars)
    out[k] = v;
  return out;
}

// The reboot-after-apply breadcrumb (host.md §1): touched, mtime now.
void set_breadcrumb(device_config_ptr self, const hc::env_map& causes) {
  const auto& path = self->state.opts.breadcrumb;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(),
                                      ec);
  std::ofstream(path, std::ios::app).close();
  std::filesystem::last_write_time(
    path, std::filesystem::file_time_type::clock::now(), ec);
  system_line(self, "Reboot has been scheduled to apply changes: "
                      + cloud::encode_config_object(causes));
}

// THE reboot point: a change needs a reboot. The host actor reboots under
// update locks (force: this apply's force) through logind; until the lead
// wires its typed reboot message here, the breadcrumb stays set and the
// need is logged and reported (device_config_result::reboot_required).
void reboot_after_apply(device_config_ptr self, bool force) {
  ++self->state.reboots_asked;
  log_of(self).warn("config",
                    "a reboot is needed to apply the configuration (force: "
                    "{}); asking the host interface",
                    force);
  auto host = self->state.deps.host;
  if (!host)
    return;
  // The host actor takes the update locks (force: past them) and answers
  // once the reboot is scheduled; a refusal (locked, no bus) is logged and
  // the breadcrumb stays, so the next start asks again.
  self
    ->request(host, std::chrono::seconds(30),
              power_request{power_action::reboot, force})
    .then([] {},
          [self](const caf::error& e) {
            log_of(self).warn("config", "the reboot was refused: {}",
                              self->system().render(e));
          });
}

// host.md §1: a reboot is due while the breadcrumb is newer than the boot
// (a bosun restarted before the reboot it asked for still owes it).
bool reboot_due(device_config_ptr self) {
  struct stat st {};
  if (::stat(self->state.opts.breadcrumb.c_str(), &st) != 0)
    return false;
  auto uptime = self->state.opts.facts->uptime_seconds();
  if (!uptime)
    return false;
  auto boot = std::chrono::system_clock::now()
              - std::chrono::seconds(static_cast<int64_t>(*uptime));
  return std::chrono::system_clock::from_time_t(st.st_mtime) > boot;
}

// HOST_DISCOVERABILITY (host.md §6.5): the host actor starts or stops
// avahi-daemon.service and .socket; this decides and says so.
void apply_discoverability(device_config_ptr self) {
  auto& st = self->state;
  auto it = st.applied.find("HOST_DISCOVERABILITY");
  st.discoverable = it == st.applied.end() || hc::truthy(it->second);
  log_of(self).info("config", "{}",
                    st.discoverable ? "Setting host to discoverable"
                                    : "Setting host to undiscoverable");
}

// HOST_FIREWALL_MODE (host.md §6.4): the mode the host's iptables rules
// follow; anything but on/off/auto is applied as off (the stored value
// stays).
void apply_firewall(device_config_ptr self) {
  auto& st = self->state;
  auto it = st.applied.find("HOST_FIREWALL_MODE");
  auto mode = it == st.applied.end() ? std::string() : it->second;
  if (mode != "on" && mode != "off" && mode != "auto") {
    if (!mode.empty())
      log_of(self).warn(
        "config", "Invalid firewall mode: {}. Reverting to state: off", mode);
    mode = "off";
  }
  st.firewall_mode = mode;
  log_of(self).info("config", "firewall mode {}", mode);
}

constexpr const char* applied_prefix = "device_config.";

// Keeps the applied table keys (db) and persistentLogging (config.json).
void persist(device_config_ptr self, const hc::env_map& changes) {
  auto& st = self->state;
  if (st.deps.db) {
    std::map<std::string, std::string> kv;
    for (const auto& [k, v] : changes)
      kv[applied_prefix + k] = v;
    self->request(st.deps.db, 10s, caf::put_atom_v, config_kv_atom_v, kv)
      .then([] {},
            [self](const caf::error& e) {
              log_of(self).warn("config", "cannot store the applied config: {}",
                                self->system().render(e));
            });
  }
  auto it = changes.find("SUPERVISOR_PERSISTENT_LOGGING");
  if (it == changes.end() || st.opts.config_json.empty())
    return;
  cloud::config_json_edit edit;
  edit.set["persistentLogging"] = hc::truthy(it->second);
  if (auto why = rewrite_config_json(st.opts.config_json, edit))
    system_line(self, "Error applying configuration change: " + *why, true);
}

// The table keys (host.md §6.1 steps 1-2).
void apply_keys(device_config_ptr self, const hc::env_map& target,
                device_config_result& r) {
  auto& st = self->state;
  auto kc = hc::plan_key_changes(st.applied, target);
  for (const auto& w : kc.warnings)
    system_line(self, w);
  if (kc.changes.empty())
    return;
  if (!kc.rebooting.empty()) {
    set_breadcrumb(self, kc.rebooting);
    r.reboot_required = true;
  }
  auto json = cloud::encode_config_object(kc.changes);
  system_line(self, "Applying configuration change " + json);
  for (const auto& [k, v] : kc.changes) {
    st.applied[k] = v;
    r.changed[k] = v;
  }
  persist(self, kc.changes);
  system_line(self, "Applied configuration change " + json);
  if (kc.changes.count("HOST_DISCOVERABILITY"))
    apply_discoverability(self);
  if (kc.changes.count("HOST_FIREWALL_MODE")
      || kc.changes.count("SUPERVISOR_LOCAL_MODE"))
    apply_firewall(self);
}

// The boot backends (host.md §6.1 step 4, §6.3): when any differs from the
// target, every matching backend is rewritten.
void apply_backends(device_config_ptr self, const hc::env_map& target,
                    device_config_result& r) {
  auto list = matching(self);
  auto current = read_backends(self, list);
  if (!current.error.empty()) {
    system_line(self, current.error, true);
    r.errors.push_back(current.error);
    return;
  }
  std::vector<hc::backend_change> plans;
  bool change = false;
  bool reboot = false;
  for (const auto* b : list) {
    auto p = hc::plan_backend(*b, current.vars, target,
                              self->state.opts.device_type);
    if (!p.error.empty()) {
      system_line(self, p.error, true);
      r.errors.push_back(p.error);
      return;
    }
    if (p.change) {
      change = true;
      reboot = reboot || b->reboot_required(p.current, p.target);
      auto before = hc::to_env(*b, p.current);
      for (auto& [k, v] : hc::to_env(*b, p.target))
        if (before[k] != v)
          r.changed[k] = v;
      for (auto& [k, v] : before)
        if (!p.target.count(b->key_of(k)))
          r.changed[k] = "";
    }
    plans.push_back(std::move(p));
  }
  if (!change)
    return;
  if (reboot) {
    set_breadcrumb(self, {});
    r.reboot_required = true;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& conf = plans[i].target;
    auto json = cloud::encode_boot_options(conf);
    system_line(self, "Applying boot config: " + json);
    auto w = list[i]->write(conf, files_of(self, *list[i]));
    for (const auto& n : w.notes)
      log_of(self).info("config", "{}", n);
    auto why = w.error.empty() ? write_files(self, w.files, r.written)
                               : std::optional<std::string>(w.error);
    if (why) {
      system_line(self, "Error setting boot config: " + *why, true);
      r.errors.push_back(*why);
      return;
    }
    system_line(self, "Applied boot config: " + json);
  }
}

device_config_result apply(device_config_ptr self, const hc::env_map& raw,
                           bool force) {
  auto& st = self->state;
  device_config_result r;
  st.stored = hc::format_config(raw, st.backends);
  auto target = hc::effective_target(*st.stored, st.opts.unmanaged);
  apply_keys(self, target, r);
  apply_backends(self, target, r);
  if (r.reboot_required)
    reboot_after_apply(self, force);
  // A failed apply is tried again (balena's apply loop retries), after
  // 15 s doubling to 15 min; a new target replaces the pending retry.
  auto epoch = ++st.retry_epoch;
  if (r.errors.empty()) {
    st.failures = 0;
  } else {
    auto delay = std::chrono::milliseconds(15000);
    for (uint32_t i = 0; i < st.failures && delay < 15min; ++i)
      delay *= 2;
    ++st.failures;
    self->delayed_send(self, std::min<std::chrono::milliseconds>(delay, 15min),
                       device_config_retry{epoch});
  }
  return r;
}

device_config_view view_of(device_config_ptr self) {
  auto& st = self->state;
  device_config_view v;
  v.current = current_values(self);
  v.target = hc::effective_target(st.stored ? *st.stored : v.current,
                                  st.opts.unmanaged);
  v.discoverable = st.discoverable;
  v.firewall_mode = st.firewall_mode;
  return v;
}

void start(device_config_ptr self) {
  auto& st = self->state;
  for (const auto* b : matching(self)) {
    std::vector<std::string> written;
    if (auto why
        = write_files(self, b->initialise(files_of(self, *b)), written))
      log_of(self).warn("config", "Could not initialise the {} backend: {}",
                        b->name(), *why);
  }
  apply_discoverability(self);
  apply_firewall(self);
  if (reboot_due(self))
    reboot_after_apply(self, false);
  if (!st.deps.db)
    return;
  // The table keys as last applied, then the stored target's config,
  // applied again (balena's apply loop runs at start); a target that came
  // first wins.
  self->request(st.deps.db, 10s, caf::get_atom_v, config_kv_atom_v)
    .then(
      [self](const std::map<std::string, std::string>& kv) {
        auto& st = self->state;
        if (st.stored)
          return;
        std::string prefix = applied_prefix;
        for (const auto& [k, v] : kv)
          if (k.compare(0, prefix.size(), prefix) == 0
              && st.applied.count(k.substr(prefix.size())))
            st.applied[k.substr(prefix.size())] = v;
        apply_discoverability(self);
        apply_firewall(self);
        self->request(st.deps.db, 10s, caf::get_atom_v, target_atom_v)
          .then(
            [self](const std::optional<target_state>& t) {
              if (t && !self->state.stored)
                apply(self, t->config, false);
            },
            [self](const caf::error& e) {
              log_of(self).warn("config", "cannot read the stored target: {}",
                                self->system().render(e));
            });
      },
      [self](const caf::error& e) {
        log_of(self).warn("config", "cannot read the applied config: {}",
                          self->system().render(e));
      });
}

device_config_actor::behavior_type
device_config_impl(device_config_ptr self, device_config_deps deps,
                   device_config_options opts) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.opts = std::move(opts);
  if (!st.opts.log)
    st.opts.log = std::make_shared<const logger>();
  if (!st.opts.facts)
    st.opts.facts = real_host_provider();
  st.backends = hc::make_backends();
  for (const auto& k : hc::config_keys())
    st.applied[k.var] = k.default_value;
  for (const auto& [k, v] : st.opts.initial)
    if (st.applied.count(k))
      st.applied[k] = v;
  // balena's firewallMode reads "" until a target first sets it.
  st.applied["HOST_FIREWALL_MODE"] = "";
  start(self);
  return telemetry::instrument(
    self, {"device_config", [self] { return self->state.last_error; }, {}},
    [self](const apply_device_config& a) {
      return apply(self, a.config, a.force);
    },
    [self](caf::get_atom, device_config_atom) { return view_of(self); },
    [self](const device_config_retry& t) {
      auto& st = self->state;
      if (t.epoch == st.retry_epoch && st.stored)
        apply(self, *st.stored, false);
    });
}

} // namespace

device_config_actor spawn_device_config(caf::actor_system& sys,
                                        device_config_deps deps,
                                        device_config_options opts,
                                        bool detached) {
  if (!detached)
    return sys.spawn(device_config_impl, std::move(deps), std::move(opts));
  return sys.spawn<caf::detached>(device_config_impl, std::move(deps),
                                  std::move(opts));
}

} // namespace bosun
