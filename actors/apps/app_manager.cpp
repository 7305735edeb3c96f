// The app_manager actor: its behaviour, its state and the pass loop. The
// parts it uses each have a file (app_state.hpp lists them).
#include "actors/apps/app_manager.hpp"

#include "actors/apps/app_state.hpp"
#include "actors/apps/planner.hpp"
#include "actors/apps/service_supervisor.hpp"
#include "actors/telemetry/counters.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace bosun {

namespace appmgr {

using namespace std::chrono_literals;

namespace {

// -- status
// ---------------------------------------------------------------------

void set_state(self_ptr self, apps_state state) {
  auto& st = self->state;
  view_changed(self);
  if (st.status.state != state)
    log_of(self).info("apps", "{}",
                      state == apps_state::idle ? "the device is at its target"
                                                : "applying the target");
  st.status.state = state;
}

apps_status snapshot_status(self_ptr self) {
  auto& st = self->state;
  auto out = st.status;
  out.services.clear();
  for (auto& [_, s] : st.supervisors)
    out.services.push_back(s.last);
  out.downloads.clear();
  for (auto& [image, pct] : st.books.downloading)
    out.downloads.push_back({image, pct});
  out.commits = st.books.commits;
  out.engine_full_reads = st.engine.full_reads();
  out.engine_partial_reads = st.engine.partial_reads();
  out.listeners = static_cast<uint32_t>(st.listeners.size());
  return out;
}

// -- the pass loop
// ----------------------------------------------------------------

void finish_pass(self_ptr self) {
  auto& st = self->state;
  st.running = false;
  if (run_exclusive_waiting(self))
    return; // the action ends with a pass
  if (st.again) {
    st.again = false;
    request_pass(self);
  }
}

void fail_pass(self_ptr self, const std::string& why) {
  auto& st = self->state;
  ++st.status.failures;
  st.status.last_error = why;
  auto next = st.backoff.count() == 0
                ? st.opts.retry_initial
                : std::min(st.backoff * 2, st.opts.retry_max);
  st.backoff = next;
  log_of(self).warn("apps", "apply failed ({}); retrying in {} ms", why,
                    next.count());
  if (!st.lock_failure.empty())
    tell(self, apps::updates_locked(next, st.lock_failure));
  st.lock_failure.clear();
  set_state(self, apps_state::applying);
  self->delayed_send(self, next, pass_atom_v);
  finish_pass(self);
}

void schedule_wait(self_ptr self) {
  auto& st = self->state;
  if (st.wait_scheduled)
    return;
  // Only its own message clears the flag: were any pass to clear it, every
  // status during a pass would schedule one more wait.
  st.wait_scheduled = true;
  self->delayed_send(self, st.opts.wait_interval, pass_wait_over{});
}

void run_plan(self_ptr self, uint64_t generation, lock_states locks) {
  auto& st = self->state;
  if (generation != st.generation)
    return finish_pass(self); // a newer target came: start over
  for (auto& app : st.target->apps) {
    st.books.lock_held[app.uuid] = locks.agent_held[app.app_id];
    st.books.user_locks[app.uuid] = locks.user_locks[app.app_id];
  }
  auto cs
    = build_current_state(st.snap(), *st.target, st.books, spec_base(self));
  // An image whose fetch failed waits for its retry as if downloading, so
  // the pass waits too instead of planning the fetch again at once.
  for (auto& [image, at] : st.fetch_retry_at)
    if (self->clock().now() < at)
      cs.downloading.emplace(image, 0);
  for (auto& app : cs.apps) {
    if (find_app(*st.target, app.uuid) != nullptr)
      continue;
    st.books.lock_held[app.uuid] = locks.agent_held[app.app_id];
    app.lock_held = st.books.lock_held[app.uuid];
  }
  adopt(self, cs);
  plan_options po;
  po.local_mode = st.opts.local_mode;
  po.force = st.force;
  po.lock_override = lock_override(self);
  auto batch = plan(cs, *st.target, po);
  if (batch.empty()) {
    st.settled = true;
    if (st.status.state != apps_state::idle)
      cleanup_images(self);
    set_state(self, apps_state::idle);
    st.status.failures = 0;
    st.status.last_error.clear();
    st.status.locked_by.clear();
    st.backoff = 0ms;
    st.force = false;
    return finish_pass(self);
  }
  set_state(self, apps_state::applying);
  if (only_noops(batch)) {
    for (auto& s : batch)
      log_of(self).debug("apps", "{}", describe(s));
    schedule_wait(self);
    return finish_pass(self);
  }
  for (auto& s : batch)
    if (!is_noop(s))
      log_of(self).info("apps", "{}", describe(s));
  execute(self, batch, [self](const std::vector<std::string>& errs) {
    if (!errs.empty())
      return fail_pass(self, join(errs));
    self->state.running = false;
    // Plan again at once: the batch changed the engine (an app action that
    // waited runs first, and ends with a pass).
    run_exclusive_waiting(self);
    request_pass(self);
  });
}

// Who holds the locks of the target's apps and of the apps on the device.
void query_locks(self_ptr self,
                 std::function<void(caf::expected<lock_states>)> k) {
  auto& st = self->state;
  lock_query q;
  for (auto& app : st.target->apps)
    q.app_ids.push_back(app.app_id);
  for (auto& c : st.snap().containers)
    if (auto who = apps::service_from_container(c))
      q.app_ids.push_back(who->app_id);
  std::sort(q.app_ids.begin(), q.app_ids.end());
  q.app_ids.erase(std::unique(q.app_ids.begin(), q.app_ids.end()),
                  q.app_ids.end());
  self->request(st.locks, engine_timeout, q)
    .then([k](lock_states& ls) { k(std::move(ls)); },
          [k](const caf::error& e) { k(e); });
}

// Reads what changed, then who holds the locks of the apps it shows, then
// plans.
void read_then_plan(self_ptr self, uint64_t generation) {
  refresh_view(self, [self, generation](const std::vector<std::string>& errs) {
    if (!errs.empty())
      return fail_pass(self, "reading the engine: " + join(errs));
    query_locks(self, [self, generation](caf::expected<lock_states> ls) {
      if (!ls)
        return fail_pass(self,
                         "reading update locks: " + render(self, ls.error()));
      ensure_supervisor_network(
        self, [self, generation, ls](const std::vector<std::string>& errs) {
          if (!errs.empty())
            return fail_pass(self, join(errs));
          // A download ended meanwhile: its image is read before planning,
          // or the plan would fetch it again.
          if (self->state.engine.images_pending())
            return read_then_plan(self, generation);
          run_plan(self, generation, *ls);
        });
    });
  });
}

void start_pass(self_ptr self) {
  auto& st = self->state;
  st.running = true;
  st.lock_failure.clear();
  ++st.status.passes;
  if (st.status.state == apps_state::idle && !st.settled)
    set_state(self, apps_state::applying);
  read_then_plan(self, st.generation);
}

void load(self_ptr self) {
  auto& st = self->state;
  auto fan = make_fan_in([self](const std::vector<std::string>& errs) {
    for (auto& e : errs)
      log_of(self).error("apps", "loading the stored state: {}", e);
    self->state.loaded = true;
    request_pass(self);
  });
  fan->add();
  self->request(st.deps.db, engine_timeout, caf::get_atom_v, target_atom_v)
    .then(
      [self, fan](std::optional<target_state>& t) {
        // A target that came in meanwhile is newer than the stored one.
        if (!self->state.target)
          self->state.target = std::move(t);
        view_changed(self);
        fan->done();
      },
      [self, fan](const caf::error& e) { fan->done(render(self, e)); });
  fan->add();
  self->request(st.deps.db, engine_timeout, caf::get_atom_v, config_kv_atom_v)
    .then(
      [self, fan](const std::map<std::string, std::string>& kv) {
        apps::read_bookkeeping(kv, self->state.books);
        view_changed(self); // the releases the apps run
        fan->done();
      },
      [self, fan](const caf::error& e) { fan->done(render(self, e)); });
  fan->seal();
}

app_manager_actor::behavior_type app_manager_impl(self_ptr self,
                                                  app_manager_deps deps,
                                                  app_manager_options opts) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.opts = std::move(opts);
  if (!st.opts.log)
    st.opts.log = std::make_shared<const logger>();
  st.locks = self->spawn<caf::linked>(lock_keeper, st.opts.lock_dir_base);
  self->send(st.deps.images,
             image_subscribe{caf::actor_cast<image_listener_actor>(self)});
  self->send(st.deps.engine,
             engine_subscribe{caf::actor_cast<engine_listener_actor>(self)});
  self->set_exit_handler([self](caf::exit_msg& dm) { on_exit(self, dm); });
  self->set_down_handler(
    [self](caf::down_msg& dm) { on_listener_down(self, dm); });
  load(self);
  telemetry::hooks hooks{
    "app_manager", [self] { return self->state.status.last_error; },
    [self] {
      std::vector<actor_child> out;
      for (auto& [key, sup] : self->state.supervisors)
        out.push_back({key, caf::actor_cast<caf::actor>(sup.handle)});
      return out;
    }};
  return telemetry::instrument(
    self, std::move(hooks),
    [self](apply_target& req) -> caf::result<uint64_t> {
      auto rp = self->make_response_promise<uint64_t>();
      auto target = std::make_shared<target_state>(std::move(req.target));
      bool force = req.force;
      self
        ->request(self->state.deps.db, engine_timeout, caf::put_atom_v,
                  target_atom_v, *target)
        .then(
          [self, rp, target, force]() mutable {
            auto& st = self->state;
            st.target = std::move(*target);
            view_changed(self);
            // The subscribers see the view after each target they gave,
            // even when it looks the same (cloud_sync's report is built
            // from the two).
            st.sent.reset();
            st.force = st.force || force;
            ++st.generation;
            st.status.failures = 0;
            st.backoff = 0ms;
            st.fetch_retry_at.clear();
            st.status.fetch_errors.clear();
            log_of(self).info("apps", "new target accepted ({} app(s))",
                              st.target->apps.size());
            request_pass(self);
            rp.deliver(st.generation);
          },
          [self, rp](const caf::error& e) mutable {
            log_of(self).error("apps", "cannot store the target: {}",
                               render(self, e));
            rp.deliver(
              caf::make_error(apps_errc::persist_failed, render(self, e)));
          });
      return rp;
    },
    [self](caf::get_atom, target_atom) { return self->state.target; },
    [self](caf::get_atom) { return snapshot_status(self); },
    [self](const apps_view_request& req) -> apps_view {
      // Built again only when something in it changed (or it is
      // view_max_age old): the device API asks often.
      if (req.env)
        return make_view(self, true);
      return *cached_view(self);
    },
    [self](caf::get_atom, device_atom) { return make_device_facts(self); },
    [self](const service_action& a) { return on_service_action(self, a); },
    [self](const app_action& a) { return on_app_action(self, a); },
    [self](const volumes_cleanup_request& req) {
      return on_cleanup(self, req);
    },
    [self](const service_status& s) {
      auto& st = self->state;
      auto it = st.supervisors.find(key_of(s.app_uuid, s.service_name));
      if (it == st.supervisors.end())
        return;
      if (s.container_id != it->second.last.container_id)
        st.engine.container_changed(s.container_id);
      it->second.last = s;
      view_changed(self);
      // A dependency that became healthy may unblock a waiting pass; a
      // failed pass waits for its backoff instead.
      if (st.status.state != apps_state::idle && st.status.failures == 0)
        schedule_wait(self);
    },
    [self](const image_progress& p) {
      auto& st = self->state;
      auto& dl = st.books.downloading;
      if (dl.count(p.image) == 0)
        return;
      if (!p.failure.empty())
        return fetch_failed(self, p.image, p.failure);
      dl[p.image] = p.percent;
      view_changed(self);
    },
    [self](const engine_event& ev) {
      auto& view = self->state.engine;
      auto before = view.snapshot().containers.size();
      view.on_event(ev);
      // Only a destroyed container leaves the view at once; other events
      // are read by the next pass.
      if (view.snapshot().containers.size() != before)
        view_changed(self);
    },
    [self](const engine_status& s) {
      auto& st = self->state;
      bool up = s.state == engine_state::up;
      // Back after being away: what happened meanwhile is unknown, and a
      // fetch that failed with the engine is tried again now, not after
      // the delay meant for a failing registry.
      if (up && !st.engine_up) {
        st.engine.invalidate();
        st.fetch_retry_at.clear();
      }
      st.engine_up = up;
      if (up)
        request_pass(self);
    },
    [self](const handover_tick& t) { on_handover_tick(self, t); },
    [self](apps_subscribe& s) { on_subscribe(self, s); },
    [self](apps_notify_due) { on_notify_due(self); },
    [self](pass_wait_over) {
      self->state.wait_scheduled = false;
      self->send(self, pass_atom_v);
    },
    [self](pass_atom) {
      auto& st = self->state;
      if (!st.loaded || !st.target)
        return;
      if (st.running || st.exclusive) {
        st.again = true;
        return;
      }
      start_pass(self);
    });
}

} // namespace

} // namespace appmgr

app_manager_actor spawn_app_manager(caf::actor_system& sys,
                                    app_manager_deps deps,
                                    app_manager_options opts) {
  return sys.spawn(appmgr::app_manager_impl, std::move(deps), std::move(opts));
}

} // namespace bosun
