// State reports (reference/state.md "State report v3"): the apps section
// from app_manager's view (pushed to cloud_sync when it changes), device fields
// from the host, diffed against the last accepted report and sent through
// report_gate's throttle.
#include "actors/cloud/cloud_sync_state.hpp"
#include "api/cloud/device_http.hpp"

#include <set>

namespace bosun {

using namespace std::chrono_literals;

namespace {

void load_target(cloud_sync_ptr self) {
  auto& st = self->state;
  self->request(st.deps.apps, 5s, caf::get_atom_v, target_atom_v)
    .then(
      [self](const std::optional<target_state>& t) {
        auto& st = self->state;
        if (st.target_loaded)
          return; // a target handed over meanwhile is newer
        st.target_loaded = true;
        st.target = t;
        if (t) {
          remember_images(self, *t);
          apply_settings(self, *t);
        }
        st.gate.changed();
        if (st.view) // it came first: its apps section can be built now
          update_apps_section(self);
      },
      [](const caf::error&) {}); // app_manager busy: the next status tick
}

void report_done(cloud_sync_ptr self, const device_report& patch,
                 const cloud_reply& r) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (cloud::report_accepted(r)) {
    st.gate.accepted(now);
    if (!st.accepted)
      st.accepted.emplace();
    cloud_report::merge(*st.accepted, patch);
    ++st.stats.reports_sent;
  } else {
    auto retry_after = cloud_schedule::parse_retry_after_ms(r.retry_after);
    st.gate.failed(now, retry_after);
    ++st.stats.reports_failed;
    st.stats.last_error = "state report: " + describe(r);
    log_of(self).warn("cloud", "state report failed ({} in a row): {}",
                      st.gate.failures(), describe(r));
  }
  maybe_report(self);
}

void send_report(cloud_sync_ptr self) {
  auto& st = self->state;
  st.collecting = false;
  auto now = self->clock().now();
  device_report current;
  cloud_report::device_identity id;
  id.api_port = st.opts.cfg.listen_port;
  id.api_secret = st.api_secret;
  id.os_version = st.opts.os_version;
  id.os_variant = st.opts.cfg.development_mode ? "dev" : "prod";
  current.device = cloud_report::device_fields(
    id, st.host, st.opts.cfg.local_mode, st.hardware_metrics);
  if (!st.opts.cfg.local_mode)
    current.apps = st.built;
  auto patch
    = cloud_report::diff(current, st.accepted ? &*st.accepted : nullptr);
  if (!st.gate.should_send(now, cloud_report::empty(patch),
                           cloud_report::metrics_only(patch)))
    return maybe_report(self);
  st.gate.sent(self->clock().now());
  auto req = cloud::state_report(st.uuid, patch);
  log_of(self).debug("cloud", "state report: {}", req.body);
  auto shared = std::make_shared<device_report>(std::move(patch));
  cloud_send(self, std::move(req), [self, shared](const cloud_reply& r) {
    report_done(self, *shared, r);
  });
}

} // namespace

void remember_images(cloud_sync_ptr self, const target_state& t) {
  auto& images = self->state.images;
  std::set<std::string> keep;
  for (const auto& app : t.apps) {
    keep.insert(app.commit);
    for (const auto& svc : app.services)
      images[app.commit][svc.name] = svc.image;
  }
  // Releases still on the device stay known; older ones are forgotten.
  if (auto& v = self->state.view)
    for (const auto& av : v->apps)
      keep.insert(av.current_commit);
  for (auto it = images.begin(); it != images.end();)
    it = keep.count(it->first) != 0 ? std::next(it) : images.erase(it);
}

void status_tick(cloud_sync_ptr self) {
  auto& st = self->state;
  if (st.target_loaded)
    return;
  arm(self, cloud_timer_kind::status, st.opts.status_interval);
  load_target(self);
}

void watch_apps(cloud_sync_ptr self) {
  auto& st = self->state;
  if (st.deps.apps)
    self->send(st.deps.apps,
               apps_subscribe{caf::actor_cast<apps_listener_actor>(self)});
}

void on_view(cloud_sync_ptr self, apps_view view) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (!view.applying)
    st.applying_since.reset();
  else if (!st.applying_since)
    st.applying_since = now;
  st.view = std::move(view);
  update_apps_section(self);
}

void update_apps_section(cloud_sync_ptr self) {
  auto& st = self->state;
  if (st.target_loaded && st.view) {
    auto apps = st.target
                  ? cloud_report::build_apps(*st.view, *st.target, st.images)
                  : report_apps{};
    if (apps != st.built) {
      st.built = std::move(apps);
      st.gate.changed();
    }
  }
  maybe_report(self);
}

void host_tick(cloud_sync_ptr self) {
  auto& st = self->state;
  arm(self, cloud_timer_kind::host, st.opts.host_interval);
  if (!st.opts.host)
    return;
  auto h = st.opts.host();
  bool moved = h.ip_address != st.host.ip_address
               || h.mac_address != st.host.mac_address;
  // Metrics move only across buckets; the silence timer sends them.
  auto& r = st.host;
  r.ip_address = h.ip_address;
  r.mac_address = h.mac_address;
  r.cpu_usage = bucketed(r.cpu_usage, h.cpu_usage, 20);
  r.cpu_temp = bucketed(r.cpu_temp, h.cpu_temp, 5);
  r.memory_usage = bucketed(r.memory_usage, h.memory_usage, 10);
  r.memory_total = bucketed(r.memory_total, h.memory_total, 10);
  r.storage_usage = bucketed(r.storage_usage, h.storage_usage, 10);
  r.storage_total = bucketed(r.storage_total, h.storage_total, 10);
  if (moved) {
    st.gate.changed();
    maybe_report(self);
  }
}

void maybe_report(cloud_sync_ptr self) {
  auto& st = self->state;
  if (!st.provisioned || st.collecting)
    return;
  // The first report waits for the first look at the apps, but not for
  // ever: an app_manager that does not answer must not silence the device.
  auto now = self->clock().now();
  bool apps_known = st.target_loaded && st.view;
  if (!apps_known && now - st.started < st.opts.report_spacing) {
    arm(self, cloud_timer_kind::report,
        std::chrono::ceil<std::chrono::milliseconds>(
          st.started + st.opts.report_spacing - now));
    return;
  }
  auto d = st.gate.decide(now);
  if (!d.collect) {
    if (d.wake)
      // At the due time, not a tick later: nothing else wakes it.
      arm(self, cloud_timer_kind::report,
          std::chrono::ceil<std::chrono::milliseconds>(*d.wake - now));
    return;
  }
  st.gate.collecting(now);
  st.collecting = true;
  if (!st.deps.api_keys)
    return send_report(self);
  // The global key may have been regenerated (reported as api_secret).
  self->request(st.deps.api_keys, 5s, caf::get_atom_v, global_key_atom_v)
    .then(
      [self](const std::string& key) {
        self->state.api_secret = key;
        send_report(self);
      },
      [self](const caf::error&) { send_report(self); });
}

} // namespace bosun
