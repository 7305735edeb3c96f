#include "actors/host/device_config.hpp"

#include "actors/host/device_config_plan.hpp"
#include "actors/telemetry/counters.hpp"
#include "api/cloud/boot_codec.hpp"

#include <algorithm>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <chrono>
#include <deque>
#include <variant>

namespace bosun {

namespace hc = boot_config;

namespace {

using namespace std::chrono_literals;

// An apply waiting for the worker: the formatted config, and whom to
// answer (nobody for a retry or the stored target applied at start).
struct apply_job {
  hc::env_map config;
  bool force = false;
  std::optional<caf::typed_response_promise<device_config_result>> rp;
};
// A get whose answer needs the boot files read.
struct view_job {
  caf::typed_response_promise<device_config_view> rp;
};
using queued_job = std::variant<apply_job, view_job>;

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
  device_config_io_actor io; // the worker: every blocking call
  // The boot files (every backend's) as the worker last read or wrote
  // them; empty until the start's read.
  std::optional<hc::file_map> files;
  // One job at a time, the start's first; the rest wait in arrival order.
  bool busy = true;
  std::deque<queued_job> queue;
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

// -- what device_config knows of the boot files ----------------------------

hc::file_map files_of(device_config_ptr self, const hc::backend& b) {
  return hc::files_for(*self->state.files, b);
}

// Keeps what the worker wrote as the files' contents.
void remember(device_config_ptr self, const boot_files_write& w,
              const boot_step_outcome& o) {
  auto& known = *self->state.files;
  for (const auto& rel : o.written)
    known[rel] = w.files.at(rel);
}

std::vector<const hc::backend*> matching(device_config_ptr self) {
  auto& st = self->state;
  return hc::matching(st.backends, {st.opts.device_type, st.opts.meta_release},
                      *st.files);
}

void log_warnings(device_config_ptr self,
                  const std::vector<std::string>& warnings) {
  for (const auto& w : warnings)
    log_of(self).debug("config", "{}", w);
}

// getCurrent: the table keys as applied, the VPN (openvpn runs on managed
// devices only; the host actor owns its unit), every backend's values.
hc::env_map current_values(device_config_ptr self) {
  auto& st = self->state;
  auto out = st.applied;
  out["SUPERVISOR_VPN_CONTROL"] = st.opts.unmanaged ? "false" : "true";
  auto b = hc::read_backends(matching(self), *st.files);
  log_warnings(self, b.warnings);
  for (auto& [k, v] : b.vars)
    out[k] = v;
  return out;
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

// -- decisions without I/O (the apply's plan: device_config_plan.hpp) -------

// The reboot-after-apply breadcrumb (host.md §1) was touched (a step of
// the job): say why.
void breadcrumb_line(device_config_ptr self, const hc::env_map& causes) {
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

// -- finishing with what the worker did ------------------------------------

// The step's outcome, when it ran.
const boot_step_outcome* outcome_of(const boot_written& w, size_t step) {
  return step < w.steps.size() ? &w.steps[step] : nullptr;
}

// Keeps the applied table keys (db): after their breadcrumb is touched
// (a restart in between applies them again, and reboots), before the
// other writes (a restart after them does not).
void store_keys(device_config_ptr self, const hc::env_map& changes) {
  auto& st = self->state;
  if (!st.deps.db || changes.empty())
    return;
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

// config.json's outcome (persistentLogging).
void persist(device_config_ptr self, const hc::apply_plan& p,
             const boot_written& w) {
  if (!p.config_json_step)
    return;
  const auto* o = outcome_of(w, *p.config_json_step);
  if (o && o->error)
    system_line(self, "Error applying configuration change: " + *o->error,
                true);
}

void finish_keys(device_config_ptr self, const hc::apply_plan& p,
                 const boot_written& w, device_config_result& r) {
  auto& st = self->state;
  for (const auto& line : p.keys.warnings)
    system_line(self, line);
  const auto& changes = p.keys.changes;
  if (changes.empty())
    return;
  if (!p.keys.rebooting.empty()) {
    breadcrumb_line(self, p.keys.rebooting);
    r.reboot_required = true;
  }
  auto json = cloud::encode_config_object(changes);
  system_line(self, "Applying configuration change " + json);
  for (const auto& [k, v] : changes) {
    st.applied[k] = v;
    r.changed[k] = v;
  }
  persist(self, p, w);
  system_line(self, "Applied configuration change " + json);
  if (changes.count("HOST_DISCOVERABILITY"))
    apply_discoverability(self);
  if (changes.count("HOST_FIREWALL_MODE")
      || changes.count("SUPERVISOR_LOCAL_MODE"))
    apply_firewall(self);
}

void finish_backends(device_config_ptr self, const hc::apply_plan& p,
                     const boot_written& w, device_config_result& r) {
  log_warnings(self, p.read_warnings);
  for (const auto& [k, v] : p.boot_changed)
    r.changed[k] = v;
  if (!p.boot_error.empty()) {
    system_line(self, p.boot_error, true);
    r.errors.push_back(p.boot_error);
    return;
  }
  if (!p.boot_change)
    return;
  if (p.boot_reboot) {
    breadcrumb_line(self, {});
    r.reboot_required = true;
  }
  for (const auto& s : p.boot) {
    system_line(self, "Applying boot config: " + s.json);
    for (const auto& n : s.notes)
      log_of(self).info("config", "{}", n);
    std::optional<std::string> why;
    if (!s.error.empty()) {
      why = s.error;
    } else if (const auto* o = outcome_of(w, s.step)) {
      const auto& files = std::get<boot_files_write>(p.steps[s.step]);
      remember(self, files, *o);
      r.written.insert(r.written.end(), o->written.begin(), o->written.end());
      why = o->error;
    }
    if (why) {
      system_line(self, "Error setting boot config: " + *why, true);
      r.errors.push_back(*why);
      return;
    }
    system_line(self, "Applied boot config: " + s.json);
  }
}

bool apply_queued(device_config_ptr self) {
  for (const auto& j : self->state.queue)
    if (std::holds_alternative<apply_job>(j))
      return true;
  return false;
}

void next(device_config_ptr self);

// The job that ran is over: the next one starts.
void done(device_config_ptr self) {
  self->state.busy = false;
  next(self);
}

void finish_apply(device_config_ptr self, const hc::apply_plan& p,
                  const boot_written& w, apply_job& j) {
  auto& st = self->state;
  device_config_result r;
  finish_keys(self, p, w, r);
  finish_backends(self, p, w, r);
  if (r.reboot_required)
    reboot_after_apply(self, j.force);
  // A failed apply is tried again (balena's apply loop retries), after
  // 15 s doubling to 15 min; a new target replaces the pending retry (an
  // apply already waiting is that new target).
  auto epoch = ++st.retry_epoch;
  if (r.errors.empty()) {
    st.failures = 0;
  } else {
    auto delay = std::chrono::milliseconds(15000);
    for (uint32_t i = 0; i < st.failures && delay < 15min; ++i)
      delay *= 2;
    ++st.failures;
    if (!apply_queued(self))
      self->delayed_send(self,
                         std::min<std::chrono::milliseconds>(delay, 15min),
                         device_config_retry{epoch});
  }
  if (j.rp)
    j.rp->deliver(std::move(r));
  done(self);
}

// -- the jobs ---------------------------------------------------------------

// The worker failed a job (it went down: device_config follows it, linked).
template <class Promise>
void job_failed(device_config_ptr self, std::optional<Promise> rp,
                const caf::error& e) {
  log_of(self).error("config", "the device config worker failed: {}",
                     self->system().render(e));
  if (rp)
    rp->deliver(e);
  done(self);
}

// Reads every backend's files into st.files, then `then()`. No timeout
// (device_config.hpp says why).
template <class Promise, class F>
void read_files(device_config_ptr self, std::optional<Promise> rp, F then) {
  self
    ->request(self->state.io, caf::infinite,
              boot_read{hc::all_files(self->state.backends)})
    .then(
      [self, then](boot_contents& c) mutable {
        self->state.files = std::move(c.files);
        then();
      },
      [self, rp](const caf::error& e) { job_failed(self, rp, e); });
}

void run(device_config_ptr self, apply_job& queued) {
  using promise = caf::typed_response_promise<device_config_result>;
  auto rp = queued.rp; // before `queued` is moved into the continuation
  read_files<promise>(self, rp, [self, j = std::move(queued)]() mutable {
    auto& st = self->state;
    auto p = hc::plan_apply(
      st.backends, {st.opts.device_type, st.opts.meta_release}, *st.files,
      st.applied, hc::effective_target(j.config, st.opts.unmanaged),
      st.opts.config_json);
    auto failed
      = [self, rp = j.rp](const caf::error& e) { job_failed(self, rp, e); };
    // The rest of the writes, once the keys are stored.
    auto write = [self, p, j, failed]() mutable {
      store_keys(self, p.keys.changes);
      if (p.steps.empty())
        return finish_apply(self, p, {}, j);
      self->request(self->state.io, caf::infinite, boot_write{p.steps})
        .then([self, p, j](
                const boot_written& w) mutable { finish_apply(self, p, w, j); },
              failed);
    };
    if (!p.keys_breadcrumb)
      return write();
    self
      ->request(self->state.io, caf::infinite, boot_write{{breadcrumb_touch{}}})
      .then([write](const boot_written&) mutable { write(); }, failed);
  });
}

void run(device_config_ptr self, view_job& j) {
  using promise = caf::typed_response_promise<device_config_view>;
  read_files<promise>(self, j.rp, [self, rp = j.rp]() mutable {
    rp.deliver(view_of(self));
    done(self);
  });
}

void next(device_config_ptr self) {
  auto& st = self->state;
  if (st.busy || st.queue.empty())
    return;
  auto job = std::move(st.queue.front());
  st.queue.pop_front();
  st.busy = true;
  std::visit([self](auto& j) { run(self, j); }, job);
}

// A new target (or the stored one again): stored at once, so a get sees
// it; applied when the jobs before it are done. It replaces a pending
// retry.
void enqueue_apply(
  device_config_ptr self, const hc::env_map& raw, bool force,
  std::optional<caf::typed_response_promise<device_config_result>> rp) {
  auto& st = self->state;
  st.stored = hc::format_config(raw, st.backends);
  ++st.retry_epoch;
  st.queue.emplace_back(apply_job{*st.stored, force, std::move(rp)});
  next(self);
}

// The table keys as last applied, then the stored target's config,
// applied again (balena's apply loop runs at start); a target that came
// first wins.
void load_stored(device_config_ptr self) {
  auto& st = self->state;
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
                enqueue_apply(self, t->config, false, std::nullopt);
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

// The first job: the files read, each matching backend's first-start
// files written (the splash default), a reboot still owed asked for; then
// the stored state loaded.
void start(device_config_ptr self) {
  using no_promise = caf::typed_response_promise<device_config_view>;
  read_files<no_promise>(self, std::nullopt, [self] {
    boot_write job;
    std::vector<std::pair<const hc::backend*, size_t>> steps;
    for (const auto* b : matching(self)) {
      auto files = b->initialise(files_of(self, *b));
      if (files.empty())
        continue;
      steps.emplace_back(b, job.steps.size());
      job.steps.emplace_back(boot_files_write{std::move(files), false});
    }
    auto io = self->state.io;
    auto finish = [self, io, steps, job](const boot_written& w) {
      for (const auto& [b, i] : steps) {
        const auto* o = outcome_of(w, i);
        if (!o)
          continue;
        remember(self, std::get<boot_files_write>(job.steps[i]), *o);
        if (o->error)
          log_of(self).warn("config", "Could not initialise the {} backend: {}",
                            b->name(), *o->error);
      }
      apply_discoverability(self);
      apply_firewall(self);
      self->request(io, caf::infinite, reboot_due_check{})
        .then(
          [self](bool due) {
            if (due)
              reboot_after_apply(self, false);
            if (self->state.deps.db)
              load_stored(self);
            done(self);
          },
          [self](const caf::error& e) {
            job_failed<no_promise>(self, std::nullopt, e);
          });
    };
    if (job.steps.empty())
      return finish({});
    self->request(io, caf::infinite, job)
      .then(finish, [self](const caf::error& e) {
        job_failed<no_promise>(self, std::nullopt, e);
      });
  });
}

device_config_actor::behavior_type
device_config_impl(device_config_ptr self, device_config_deps deps,
                   device_config_options opts, device_config_io_actor io) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.opts = std::move(opts);
  if (!st.opts.log)
    st.opts.log = std::make_shared<const logger>();
  st.io = std::move(io);
  // The worker lives and dies with this actor.
  self->link_to(st.io);
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
      auto rp = self->make_response_promise<device_config_result>();
      enqueue_apply(self, a.config, a.force, rp);
      return rp;
    },
    [self](caf::get_atom, device_config_atom) {
      auto& st = self->state;
      auto rp = self->make_response_promise<device_config_view>();
      // While a job runs: from the files as last read or written.
      if (st.busy && st.files) {
        rp.deliver(view_of(self));
      } else {
        st.queue.emplace_back(view_job{rp});
        next(self);
      }
      return rp;
    },
    [self](const device_config_retry& t) {
      auto& st = self->state;
      if (t.epoch == st.retry_epoch && st.stored)
        enqueue_apply(self, *st.stored, false, std::nullopt);
    });
}

} // namespace

device_config_actor spawn_device_config(caf::actor_system& sys,
                                        device_config_deps deps,
                                        device_config_options opts,
                                        bool detached) {
  auto io = spawn_device_config_io(
    sys, {opts.boot_dir, opts.breadcrumb, opts.facts}, detached);
  return spawn_device_config(sys, std::move(deps), std::move(opts),
                             std::move(io));
}

device_config_actor spawn_device_config(caf::actor_system& sys,
                                        device_config_deps deps,
                                        device_config_options opts,
                                        device_config_io_actor io) {
  return sys.spawn(device_config_impl, std::move(deps), std::move(opts),
                   std::move(io));
}

} // namespace bosun
