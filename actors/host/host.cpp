#include "actors/host/host.hpp"

#include "actors/host/host_io.hpp"
#include "actors/host/journal.hpp"
#include "actors/telemetry/counters.hpp"

#include <algorithm>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <cctype>
#include <functional>
#include <optional>

namespace bosun {

namespace {

using namespace std::chrono_literals;

constexpr auto first_retry = std::chrono::milliseconds{1000};
constexpr auto max_retry = std::chrono::milliseconds{60000};
// The worker's calls wait for the bus (10 s per call) or the disk.
constexpr auto io_timeout = 60s;

struct host_state {
  static inline const char* name = "host";
  host_options opts;
  host_deps deps;
  host_io_actor io;
  bus_status bus;
  bool retry_scheduled = false;
  std::chrono::milliseconds retry_delay = first_retry;
  // The LED pattern: one at a time; a new start while one runs is ignored.
  bool blinking = false;
  uint64_t pattern = 0;
  int journal_runs = 0; // journalctl processes running
};

using self_ptr = host_actor::stateful_pointer<host_state>;

void deliver_ok(caf::typed_response_promise<void>& rp) {
  static_cast<caf::response_promise&>(rp).deliver(caf::unit);
}

caf::error host_error(host_errc c, std::string why) {
  return caf::make_error(c, std::move(why));
}

std::string message_of(self_ptr self, const caf::error& e) {
  const auto& ctx = e.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return self->system().render(e);
}

void tell(self_ptr self, std::string line, bool is_stderr = false) {
  if (self->state.deps.logs)
    self->send(self->state.deps.logs, system_log{std::move(line), is_stderr});
}

void schedule_retry(self_ptr self) {
  auto& st = self->state;
  if (st.retry_scheduled)
    return;
  st.retry_scheduled = true;
  self->delayed_send(self, st.retry_delay, bus_retry{});
  st.retry_delay = std::min(st.retry_delay * 2, max_retry);
}

void connect(self_ptr self) {
  self->request(self->state.io, io_timeout, bus_connect{})
    .then(
      [self](const std::string& unique) {
        auto& st = self->state;
        st.bus.connected = true;
        st.bus.last_error.clear();
        ++st.bus.connects;
        st.retry_delay = first_retry;
        st.opts.log->info("host", "D-Bus connected to {} as {}", st.bus.address,
                          unique);
      },
      [self](const caf::error& e) {
        auto& st = self->state;
        auto why = message_of(self, e);
        if (st.bus.last_error != why)
          st.opts.log->warn("host", "{}; retrying", why);
        st.bus.connected = false;
        st.bus.last_error = why;
        schedule_retry(self);
      });
}

// A worker call failed: a broken bus goes down and reconnects.
void on_io_error(self_ptr self, const caf::error& e) {
  auto& st = self->state;
  // Without a bus there is nothing to reconnect (and it stays the reason).
  if (e != host_errc::bus_unavailable || st.opts.no_bus)
    return;
  st.bus.connected = false;
  st.bus.last_error = message_of(self, e);
  st.opts.log->warn("host", "{}; reconnecting", st.bus.last_error);
  schedule_retry(self);
}

std::optional<caf::error> bus_down(self_ptr self) {
  const auto& b = self->state.bus;
  if (b.connected)
    return std::nullopt;
  return host_error(host_errc::bus_unavailable,
                    "The host's D-Bus is not reachable ("
                      + (b.last_error.empty() ? "connecting" : b.last_error)
                      + ")");
}

bool truthy(const std::map<std::string, std::string>& config,
            const std::string& key) {
  auto it = config.find(key);
  if (it == config.end())
    return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return v == "1" || v == "true" || v == "on";
}

// f(bool): the target's lock override (SUPERVISOR_OVERRIDE_LOCK); false
// when there is no target or app_manager does not answer.
template <class F>
void with_lock_override(self_ptr self, F f) {
  auto am = self->state.deps.app_manager;
  if (!am)
    return f(false);
  self->request(am, 10s, caf::get_atom_v, target_atom_v)
    .then(
      [f](const std::optional<target_state>& t) mutable {
        f(t
          && (truthy(t->config, "SUPERVISOR_OVERRIDE_LOCK")
              || truthy(t->config, "OVERRIDE_LOCK")));
      },
      [f](const caf::error&) mutable { f(false); });
}

// Reboot or shutdown (reference/host.md §1): breadcrumbs, then every
// locked app's locks, then the system line and the delayed logind call,
// then the locks are released and the request answered.
caf::typed_response_promise<void> power(self_ptr self,
                                        const power_request& req) {
  auto rp = self->make_response_promise<void>();
  if (auto e = bus_down(self)) {
    rp.deliver(*e);
    return rp;
  }
  auto io = self->state.io;
  self->request(io, io_timeout, breadcrumb_check{})
    .then(
      [self, rp, req, io](bool breadcrumb) mutable {
        if (breadcrumb && !req.force) {
          rp.deliver(host_error(host_errc::updates_locked,
                                "Waiting for Host OS update to finish"));
          return;
        }
        with_lock_override(self, [self, rp, req, io](bool override) mutable {
          self->request(io, io_timeout, locks_take{req.force || override})
            .then(
              [self, rp, req, io](const std::vector<int64_t>& apps) mutable {
                for (size_t i = 0; i < apps.size(); ++i)
                  tell(self, "Taking update locks");
                bool reboot = req.action == power_action::reboot;
                tell(self, reboot ? "Rebooting" : "Shutting down");
                self->state.opts.log->info(
                  "host", "{} (logind in {} ms)",
                  reboot ? "Rebooting" : "Shutting down",
                  self->state.opts.power_delay.count());
                self->delayed_send(self, self->state.opts.power_delay,
                                   power_due{req.action});
                self->request(io, io_timeout, locks_release{apps})
                  .then(
                    [self, rp, n = apps.size()]() mutable {
                      for (size_t i = 0; i < n; ++i)
                        tell(self, "Releasing update locks");
                      deliver_ok(rp);
                    },
                    [rp](const caf::error&) mutable { deliver_ok(rp); });
              },
              [rp](const caf::error& e) mutable { rp.deliver(e); });
        });
      },
      [rp](const caf::error& e) mutable { rp.deliver(e); });
  return rp;
}

using done_fn = std::function<void(std::optional<caf::error>)>;

// Proxy units (reference/host.md §3 step 6): restart the proxy config
// service unless it is part of redsocks-conf.target (both names, the first
// success wins), then redsocks.service likewise.
void restart_proxy_units(self_ptr self, done_fn done) {
  auto io = self->state.io;
  auto part_of_target = [](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), "redsocks-conf.target") != v.end();
  };
  auto fail = [self, done](const caf::error& e) {
    on_io_error(self, e);
    done(e);
  };
  auto redsocks = [self, io, done, fail, part_of_target] {
    self->request(io, io_timeout, unit_property{"redsocks.service", "PartOf"})
      .then(
        [self, io, done, fail,
         part_of_target](const std::vector<std::string>& part_of) {
          if (part_of_target(part_of))
            return done(std::nullopt);
          self
            ->request(io, io_timeout,
                      unit_call{unit_op::restart, "redsocks.service"})
            .then([done] { done(std::nullopt); }, fail);
        },
        fail);
  };
  self
    ->request(io, io_timeout,
              unit_property{"balena-proxy-config.service", "PartOf"})
    .then(
      [self, io, redsocks, fail,
       part_of_target](const std::vector<std::string>& part_of) {
        if (part_of_target(part_of))
          return redsocks();
        self
          ->request(io, io_timeout,
                    unit_call{unit_op::restart, "balena-proxy-config.service"})
          .then(redsocks, [self, io, redsocks, fail](const caf::error&) {
            self
              ->request(
                io, io_timeout,
                unit_call{unit_op::restart, "resin-proxy-config.service"})
              .then(redsocks, fail);
          });
      },
      [self, io, redsocks, fail](const caf::error&) {
        // Not loaded under the new name: the old one.
        self
          ->request(io, io_timeout,
                    unit_call{unit_op::restart, "resin-proxy-config.service"})
          .then(redsocks, fail);
      });
}

// The hostname (reference/host.md §3): config.json's hostname, which
// balenaOS turns into /etc/hostname; on a host bosun runs on directly,
// hostnamed's static hostname (and config.json when bosun has one).
void set_hostname(self_ptr self, std::string name, done_fn done) {
  auto& st = self->state;
  if (name.empty())
    name = st.opts.uuid.substr(0, 7);
  auto io = st.io;
  auto write_config = [self, io, name, done] {
    const auto& o = self->state.opts;
    if (!o.config_file_found)
      return done(std::nullopt);
    self->request(io, io_timeout, config_hostname{o.config_path, name})
      .then([done] { done(std::nullopt); },
            [done](const caf::error& e) { done(e); });
  };
  if (!st.opts.host_root.empty())
    return write_config();
  if (auto e = bus_down(self))
    return done(*e);
  self->request(io, io_timeout, static_hostname{name})
    .then(write_config, [self, done](const caf::error& e) {
      on_io_error(self, e);
      done(e);
    });
}

// PATCH /v1/device/host-config: both parts concurrently inside every
// locked app's locks.
caf::typed_response_promise<void> patch_host_config(self_ptr self,
                                                    host_config_patch p) {
  auto rp = self->make_response_promise<void>();
  if (p.proxy || self->state.opts.host_root.empty())
    if (auto e = bus_down(self)) {
      rp.deliver(*e);
      return rp;
    }
  auto io = self->state.io;
  with_lock_override(self, [self, rp, p, io](bool override) mutable {
    self->request(io, io_timeout, locks_take{p.force || override})
      .then(
        [self, rp, p, io](const std::vector<int64_t>& apps) mutable {
          struct join {
            int pending = 0;
            std::optional<caf::error> error;
          };
          auto j = std::make_shared<join>();
          j->pending = (p.hostname ? 1 : 0) + (p.proxy ? 1 : 0);
          done_fn done
            = [self, rp, io, j, apps](std::optional<caf::error> e) mutable {
                if (e && !j->error)
                  j->error = *e;
                if (--j->pending > 0)
                  return;
                self->request(io, io_timeout, locks_release{apps})
                  .then(
                    [rp, j]() mutable {
                      if (j->error) {
                        rp.deliver(*j->error);
                        return;
                      }
                      deliver_ok(rp);
                    },
                    [rp](const caf::error& e) mutable { rp.deliver(e); });
              };
          if (p.hostname)
            set_hostname(self, *p.hostname, done);
          if (p.proxy)
            self->request(io, io_timeout, proxy_write{*p.proxy})
              .then([self, done] { restart_proxy_units(self, done); },
                    [done](const caf::error& e) { done(e); });
        },
        [rp](const caf::error& e) mutable { rp.deliver(e); });
  });
  return rp;
}

// GET /v2/device/vpn: openvpn.service's ActiveState, and the status file.
caf::typed_response_promise<vpn_status> vpn(self_ptr self) {
  auto rp = self->make_response_promise<vpn_status>();
  if (auto e = bus_down(self)) {
    rp.deliver(*e);
    return rp;
  }
  auto io = self->state.io;
  self->request(io, io_timeout, unit_property{"openvpn.service", "ActiveState"})
    .then(
      [self, rp, io](const std::vector<std::string>& state) mutable {
        vpn_status v;
        auto s = state.empty() ? "" : state.front();
        v.enabled = s != "inactive" && s != "deactivating";
        self->request(io, io_timeout, vpn_connected{})
          .then(
            [self, rp, v](bool connected) mutable {
              v.connected = connected;
              self->state.opts.log->debug("host", "VPN connection is {}",
                                          connected ? "active."
                                                    : "not active.");
              rp.deliver(v);
            },
            [rp](const caf::error& e) mutable { rp.deliver(e); });
      },
      [self, rp](const caf::error& e) mutable {
        on_io_error(self, e);
        rp.deliver(e);
      });
  return rp;
}

void blink_write(self_ptr self, bool on) {
  self->request(self->state.io, io_timeout, led_write{on})
    .then([] {},
          [self](const caf::error& e) {
            self->state.opts.log->warn("host", "LED: {}", message_of(self, e));
          });
}

host_actor::behavior_type host_impl(self_ptr self, host_options opts,
                                    host_deps deps) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.deps = std::move(deps);
  st.bus.address = st.opts.dbus_address;
  host_paths paths;
  paths.dbus_address = st.opts.dbus_address;
  paths.state_mount = st.opts.state_mount;
  paths.boot_mount = st.opts.boot_mount;
  paths.host_root = st.opts.host_root;
  paths.lock_base = st.opts.lock_base;
  paths.led_file = st.opts.led_file;
  paths.vpn_status = st.opts.vpn_status;
  paths.facts = st.opts.facts ? st.opts.facts : real_host_provider();
  st.io = spawn_host_io(self->system(), std::move(paths), st.opts.detached);
  // The worker lives and dies with this actor.
  self->link_to(st.io);
  self->set_down_handler([self](caf::down_msg&) {
    // A journal runner ended (it reaped its journalctl).
    --self->state.journal_runs;
  });
  if (st.opts.no_bus) {
    st.bus.last_error = "no D-Bus: " + *st.opts.no_bus;
    st.opts.log->info("host", "{}; not connecting", st.bus.last_error);
  } else {
    connect(self);
  }
  return telemetry::instrument(
    self,
    {"host",
     [self] {
       const auto& b = self->state.bus;
       return b.connected
                ? std::string{}
                : "D-Bus down: "
                    + (b.last_error.empty() ? "connecting" : b.last_error);
     },
     {}},
    [self](const power_request& r) { return power(self, r); },
    [self](blink_atom) {
      auto& st = self->state;
      self->state.opts.log->info("host", "Event: Device blink {{}}");
      if (!st.blinking) {
        st.blinking = true;
        ++st.pattern;
        self->send(self, blink_step{st.pattern, true});
      }
      // Each start's stop fires, whatever pattern then runs (balena).
      self->delayed_send(self, st.opts.blink_for, blink_stop{});
    },
    [self](const blink_step& s) {
      auto& st = self->state;
      if (!st.blinking || s.pattern != st.pattern)
        return;
      blink_write(self, s.on);
      self->delayed_send(self, st.opts.blink_step,
                         blink_step{s.pattern, !s.on});
    },
    [self](blink_stop) {
      self->state.blinking = false;
      blink_write(self, false);
    },
    [self](caf::get_atom, hostcfg_atom) -> caf::result<host_settings> {
      return self->delegate(self->state.io, hostcfg_read{});
    },
    [self](host_config_patch& p) {
      return patch_host_config(self, std::move(p));
    },
    [self](caf::get_atom, vpn_atom) { return vpn(self); },
    [self](caf::get_atom, addrs_atom) -> caf::result<host_addresses> {
      return self->delegate(self->state.io, caf::get_atom_v, addrs_atom_v);
    },
    [self](caf::get_atom, bus_atom) { return self->state.bus; },
    [self](journal_open& j) -> caf::result<void> {
      auto& st = self->state;
      if (st.journal_runs >= st.opts.max_journal_runs)
        return host_error(host_errc::failed,
                          "Too many journal reads are running ("
                            + std::to_string(st.journal_runs)
                            + "); try again later");
      auto runner = spawn_journal_runner(
        self->system(), journal_argv(st.opts.journalctl, j.query),
        std::move(j.sink), st.opts.detached);
      self->monitor(runner);
      ++st.journal_runs;
      return caf::unit;
    },
    [self](bus_retry) {
      self->state.retry_scheduled = false;
      if (!self->state.bus.connected)
        connect(self);
    },
    [self](const power_due& p) {
      bool reboot = p.action == power_action::reboot;
      self->request(self->state.io, io_timeout, logind_power{p.action})
        .then(
          [self, reboot] {
            self->state.opts.log->info("host", "logind {} requested",
                                       reboot ? "reboot" : "power-off");
          },
          [self, reboot](const caf::error& e) {
            on_io_error(self, e);
            self->state.opts.log->error("host", "Unable to {}: {}",
                                        reboot ? "reboot" : "shutdown",
                                        message_of(self, e));
          });
    });
}

} // namespace

host_actor spawn_host(caf::actor_system& sys, host_options opts,
                      host_deps deps) {
  return sys.spawn(host_impl, std::move(opts), std::move(deps));
}

} // namespace bosun
