#include "actors/cloud/cloud_sync.hpp"

#include "actors/cloud/cloud_sync_state.hpp"
#include "actors/telemetry/counters.hpp"
#include "api/cloud/device_http.hpp"
#include "api/cloud/target_codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

namespace bosun {

using namespace std::chrono_literals;

namespace {

constexpr auto apps_timeout = 30s;

cloud_schedule::poll_rules poll_rules_of(const cloud_sync_options& o) {
  cloud_schedule::poll_rules r;
  r.interval = o.cfg.app_update_poll_interval;
  r.max_jitter = o.max_jitter;
  r.backoff_base = o.backoff_base;
  return r;
}

// Hands a target to app_manager, which stores it before applying it. Until
// it answers, the target stays `unhanded` and a later 304 hands it again.
void hand_over(cloud_sync_ptr self, target_state t, bool force) {
  auto& st = self->state;
  st.unhanded = t;
  auto shared = std::make_shared<target_state>(std::move(t));
  self->request(st.deps.apps, apps_timeout, apply_target{*shared, force})
    .then(
      [self, shared](uint64_t) {
        auto& st = self->state;
        if (st.unhanded && *st.unhanded == *shared)
          st.unhanded.reset();
        ++st.stats.targets_applied;
        remember_images(self, *shared);
        st.target = std::move(*shared);
        st.target_loaded = true;
        st.gate.changed();
      },
      [self](const caf::error& e) {
        log_of(self).error("cloud", "app_manager did not take the target: {}",
                           self->system().render(e));
      });
}

void reject(cloud_sync_ptr self, const std::string& why) {
  auto& st = self->state;
  ++st.stats.targets_rejected;
  st.stats.last_rejection = why;
  // balena's dashboard wording; the running apps stay as they are.
  log_of(self).error("cloud", "Could not move to new release: {}", why);
  if (st.deps.logs)
    self->send(st.deps.logs,
               system_log{"Could not move to new release: " + why, true});
}

void on_target(cloud_sync_ptr self, const std::string& body) {
  auto& st = self->state;
  auto decoded = cloud::decode_target_v3(body, target_source::cloud, st.uuid);
  if (!decoded)
    return reject(self, decoded.error.to_string());
  for (auto& w : decoded->warnings)
    log_of(self).warn("cloud", "target: {}", w.to_string());
  // Before the next poll is scheduled: it may set the interval.
  apply_settings(self, decoded->target);
  configure(self, decoded->target, st.force);
  if (st.opts.cfg.local_mode) {
    log_of(self).info("cloud", "local mode: the cloud's apps are ignored");
    return;
  }
  log_of(self).info("cloud", "new target from the cloud ({} app(s))",
                    decoded->target.apps.size());
  hand_over(self, std::move(decoded->target), st.force);
}

void poll_done(cloud_sync_ptr self, const cloud_reply& r);

void send_poll(cloud_sync_ptr self) {
  auto& st = self->state;
  st.polls.started(self->clock().now());
  // The ETag of the last 200: st.etag changes only there.
  cloud_send(self, cloud::target_poll(st.uuid, st.etag),
             [self](const cloud_reply& r) { poll_done(self, r); });
}

// Polls now when the schedule says so, else arms the poll timer for when it
// does (replacing the timer armed before: its epoch is stale then).
void schedule_poll(cloud_sync_ptr self) {
  auto& st = self->state;
  auto due = st.polls.due();
  if (!st.provisioned || !due)
    return;
  auto now = self->clock().now();
  if (*due <= now) {
    ++st.epochs[static_cast<size_t>(cloud_timer_kind::poll)]; // cancel timer
    return send_poll(self);
  }
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(*due - now);
  log_of(self).debug("cloud", "next target poll in {} ms", wait.count());
  arm(self, cloud_timer_kind::poll, wait);
}

void poll_done(cloud_sync_ptr self, const cloud_reply& r) {
  auto& st = self->state;
  ++st.stats.polls;
  bool force = st.force;
  st.force = false;
  auto answer = cloud::read_poll(r);
  bool ok = answer != cloud::poll_answer::failed;
  if (ok) {
    st.last_poll_ok = self->clock().now();
    if (answer == cloud::poll_answer::new_target) {
      st.etag = r.etag;
      on_target(self, r.body);
    } else if (st.unhanded) {
      hand_over(self, *st.unhanded, force);
    } else if (force && st.target) {
      // /v1/update with force: the unchanged target again, with force.
      hand_over(self, *st.target, true);
    }
  } else {
    ++st.stats.poll_failures;
    st.stats.last_error = "target poll: " + describe(r);
  }
  // After on_target: the target may have set the interval.
  auto now = self->clock().now();
  st.polls.finished(now, ok, st.opts.random());
  if (auto due = st.polls.due())
    st.stats.poll_delay_ms
      = std::chrono::duration_cast<std::chrono::milliseconds>(*due - now)
          .count();
  st.stats.failure_streak = st.polls.failures();
  if (!ok)
    log_of(self).warn("cloud", "cannot get the target ({} in a row): {}",
                      st.polls.failures(), describe(r));
  schedule_poll(self);
}

agent_health health_of(cloud_sync_ptr self) {
  auto& st = self->state;
  agent_health h;
  // Until provisioning works there is nothing to poll, and restarting the
  // agent would not help it along.
  if (!st.provisioned)
    return h;
  auto now = self->clock().now();
  auto limit = 2 * st.opts.cfg.app_update_poll_interval;
  // balena's rule is 2× the interval since the last good poll. With a short
  // interval the jitter alone (up to 60 s) can exceed that, so a poll that
  // is merely not due yet does not count: the polls since must have failed.
  auto since = now - st.last_poll_ok;
  if ((since >= limit && st.polls.failures() > 0)
      || since >= limit + st.opts.max_jitter) {
    h.healthy = false;
    h.problems.push_back("no target from the cloud for over "
                         + std::to_string(limit.count() / 1000) + " s");
  }
  if (st.applying_since && !st.polls.in_flight()
      && now - *st.applying_since >= limit) {
    h.healthy = false;
    h.problems.push_back("an update has been applying for over "
                         + std::to_string(limit.count() / 1000) + " s");
  }
  return h;
}

cloud_status status_of(cloud_sync_ptr self) {
  auto& st = self->state;
  auto out = st.stats;
  out.provisioned = st.provisioned;
  out.uuid = st.uuid;
  if (st.stats.polls > st.stats.poll_failures)
    out.last_poll_ok_ago_ms
      = std::chrono::duration_cast<std::chrono::milliseconds>(
          self->clock().now() - st.last_poll_ok)
          .count();
  return out;
}

cloud_sync_actor::behavior_type cloud_sync_impl(cloud_sync_ptr self,
                                                cloud_sync_deps deps,
                                                cloud_sync_options opts) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.opts = std::move(opts);
  if (!st.opts.log)
    st.opts.log = std::make_shared<const logger>();
  st.started = self->clock().now();
  st.last_poll_ok = st.started; // healthy for 2× the interval after start
  st.uuid = st.opts.cfg.uuid;
  st.device_api_key = st.opts.cfg.device_api_key;
  st.api_secret = st.opts.api_secret;
  cloud_schedule::report_rules rr;
  rr.spacing = st.opts.report_spacing;
  rr.metrics_hold = st.opts.metrics_hold;
  rr.backoff_base = st.opts.backoff_base;
  rr.backoff_cap = st.opts.cfg.app_update_poll_interval;
  st.gate = cloud_schedule::report_gate(rr);
  st.polls = cloud_schedule::poll_schedule(poll_rules_of(st.opts));

  host_tick(self);
  status_tick(self);
  watch_apps(self); // after the target's read: its answer comes first
  provision(self);
  return telemetry::instrument(
    self, {"cloud_sync", [self] { return self->state.stats.last_error; }, {}},
    [self](const update_request& req) -> bool {
      auto& st = self->state;
      // Without instant updates only a forced update polls (balena).
      if (!st.provisioned || (!st.instant_updates && !req.force))
        return false;
      if (req.cancel)
        log_of(self).info("cloud", "update cancel asked: a running apply is "
                                   "replaced by the next target, not aborted");
      st.force = st.force || req.force;
      st.polls.triggered(self->clock().now());
      schedule_poll(self);
      return true;
    },
    [self](health_atom) { return health_of(self); },
    [self](caf::get_atom) { return status_of(self); },
    [self](apps_view_changed& v) { on_view(self, std::move(v.view)); },
    [self](cloud_reply& r) {
      auto& st = self->state;
      auto it = st.pending.find(r.id);
      if (it == st.pending.end())
        return;
      auto then = std::move(it->second);
      st.pending.erase(it);
      then(r);
    },
    [self](const cloud_timer& t) {
      auto& st = self->state;
      if (st.epochs[static_cast<size_t>(t.kind)] != t.epoch)
        return;
      switch (t.kind) {
        case cloud_timer_kind::provision:
          provision(self);
          break;
        case cloud_timer_kind::poll:
          schedule_poll(self);
          break;
        case cloud_timer_kind::report:
          maybe_report(self);
          break;
        case cloud_timer_kind::status:
          status_tick(self);
          break;
        case cloud_timer_kind::host:
          host_tick(self);
          break;
      }
    });
}

} // namespace

void apply_settings(cloud_sync_ptr self, const target_state& t) {
  auto& st = self->state;
  auto s = cloud_schedule::settings_of(t.config);
  st.instant_updates = s.instant_updates;
  st.hardware_metrics = s.hardware_metrics;
  if (s.log_control != st.log_control)
    log_of(self).info("cloud", "log shipping {} (SUPERVISOR_LOG_CONTROL)",
                      s.log_control ? "on" : "off");
  st.log_control = s.log_control;
  update_log_shipping(self);
  // Polls use it from the next request on (reports too: balena's read it
  // at start).
  if (s.api_request_timeout
      && *s.api_request_timeout != st.opts.cfg.api_request_timeout) {
    log_of(self).info("cloud", "API request timeout {} ms (from the target)",
                      s.api_request_timeout->count());
    st.opts.cfg.api_request_timeout = *s.api_request_timeout;
  }
  auto& interval = st.opts.cfg.app_update_poll_interval;
  if (s.poll_interval && *s.poll_interval != interval) {
    log_of(self).info("cloud", "poll interval {} ms (from the target)",
                      s.poll_interval->count());
    interval = *s.poll_interval;
    st.polls.set_interval(interval);
    st.gate.set_backoff_cap(interval);
  }
}

void update_log_shipping(cloud_sync_ptr self) {
  auto& st = self->state;
  if (!st.deps.logs || !st.provisioned)
    return;
  const auto& cfg = st.opts.cfg;
  log_shipping ls;
  ls.enabled = !cfg.local_mode && st.log_control;
  ls.endpoint
    = cfg.logs_endpoint.empty() ? cfg.api_endpoint : cfg.logs_endpoint;
  ls.uuid = st.uuid;
  ls.api_key = st.device_api_key;
  if (st.shipping_sent && *st.shipping_sent == ls)
    return;
  st.shipping_sent = ls;
  self->send(st.deps.logs, ls);
}

const logger& log_of(cloud_sync_ptr self) {
  return *self->state.opts.log;
}

std::string describe(const cloud_reply& r) {
  if (r.status == 0)
    return r.error.empty() ? "no answer" : r.error;
  auto body = r.body.substr(0, 200);
  return "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

std::string random_hex(cloud_sync_ptr self, size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  while (out.size() < n) {
    auto r = self->state.opts.random();
    for (int i = 0; i < 16 && out.size() < n; ++i, r >>= 4)
      out += digits[r & 15];
  }
  return out;
}

void cloud_send(cloud_sync_ptr self, cloud_request req,
                std::function<void(const cloud_reply&)> then,
                const std::string& bearer) {
  auto& st = self->state;
  auto id = ++st.next_id;
  st.pending.emplace(id, std::move(then));
  cloud::authorize(req, bearer.empty() ? st.device_api_key : bearer);
  req.timeout = st.opts.cfg.api_request_timeout;
  auto me = caf::actor_cast<cloud_sync_actor>(self);
  st.opts.transport(std::move(req), [me, id](cloud_reply r) {
    r.id = id;
    caf::anon_send(me, std::move(r));
  });
}

void arm(cloud_sync_ptr self, cloud_timer_kind kind,
         std::chrono::milliseconds delay) {
  auto epoch = ++self->state.epochs[static_cast<size_t>(kind)];
  self->delayed_send(self, delay, cloud_timer{kind, epoch});
}

void start_polling(cloud_sync_ptr self) {
  // The device's config reaches the cloud before its first target is
  // applied: boot keys a target lacks would be removed from the files.
  report_initial_config(self, [self] {
    log_of(self).info("cloud", "polling {} for the target of device {}",
                      self->state.opts.cfg.api_endpoint, self->state.uuid);
    self->state.polls.start(self->clock().now());
    schedule_poll(self);
    maybe_report(self);
  });
}

cloud_sync_actor spawn_cloud_sync(caf::actor_system& sys, cloud_sync_deps deps,
                                  cloud_sync_options opts) {
  return sys.spawn(cloud_sync_impl, std::move(deps), std::move(opts));
}

} // namespace bosun
