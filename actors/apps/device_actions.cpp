// The device API's actions on apps and services, the exclusive queue they
// run in (never during a pass), volume cleanup, and the API's view.
#include "actors/apps/app_state.hpp"
#include "actors/apps/app_view.hpp"
#include "actors/apps/service_selection.hpp"
#include "actors/volumes/volume_logic.hpp"

#include <algorithm>

namespace bosun::appmgr {

apps_view make_view(self_ptr self, bool env) {
  auto& st = self->state;
  view_inputs in;
  in.target = &st.target;
  in.snap = &st.snap();
  in.books = &st.books;
  in.fetch_errors = &st.status.fetch_errors;
  in.applying
    = st.status.state != apps_state::idle || (st.target && !st.settled);
  in.failed = st.status.failures > 0 || !st.status.fetch_errors.empty();
  in.env = env;
  for (auto& [_, s] : st.supervisors) {
    supervised_service ss;
    ss.status = s.last;
    if (env && s.spec)
      ss.spec_env = s.spec->container.config.env;
    in.supervisors.push_back(std::move(ss));
  }
  return build_apps_view(in);
}

device_details make_device_facts(self_ptr self) {
  auto& st = self->state;
  device_details out;
  out.uuid = st.opts.spec.device_uuid;
  out.arch = st.opts.spec.device_arch;
  out.device_type = st.opts.spec.device_type;
  out.os_version = st.opts.spec.host_os_version;
  out.device_name = st.target && !st.target->device_name.empty()
                      ? st.target->device_name
                      : "local";
  return out;
}

bool run_exclusive_waiting(self_ptr self) {
  auto& st = self->state;
  if (st.running || st.exclusive || st.exclusive_waiting.empty())
    return false;
  auto f = std::move(st.exclusive_waiting.front());
  st.exclusive_waiting.erase(st.exclusive_waiting.begin());
  st.exclusive = true;
  f();
  return true;
}

namespace {

std::vector<apps::current_service> current_of(self_ptr self, int64_t app_id) {
  auto& st = self->state;
  std::vector<service_status> sups;
  sups.reserve(st.supervisors.size());
  for (auto& [_, s] : st.supervisors)
    sups.push_back(s.last);
  return apps::current_services(st.snap(), st.target ? &*st.target : nullptr,
                                sups, app_id);
}

// Records (and persists) whether a service was stopped through the API.
void set_user_stopped(self_ptr self, const std::string& uuid,
                      const std::string& service, bool stopped) {
  auto& names = self->state.books.user_stopped[uuid];
  bool changed
    = stopped ? names.insert(service).second : names.erase(service) > 0;
  if (!changed)
    return;
  auto [key, value] = apps::stopped_record(uuid, names);
  persist_kv(self, key, value);
}

// Takes the app's update locks (all its current and target services) for
// an API action, unless bosun holds them already (an apply does); `k` gets
// the error, or whether this call took them.
void with_app_lock(self_ptr self, int64_t app_id, bool force,
                   std::function<void(caf::error, bool)> k) {
  auto& st = self->state;
  lock_take req;
  req.app_id = app_id;
  req.force = force || lock_override(self);
  req.unless_held = true;
  for (auto& c : current_of(self, app_id))
    req.services.push_back(c.name);
  if (auto* app = st.target ? find_app_by_id(*st.target, app_id) : nullptr)
    for (auto& svc : app->services)
      req.services.push_back(svc.name);
  auto& names = req.services;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  self->request(st.locks, engine_timeout, req)
    .then(
      [k](const lock_outcome& r) {
        if (!r.ok)
          return k(caf::make_error(apps_errc::updates_locked,
                                   "Updates are locked: " + r.error),
                   false);
        k({}, r.taken);
      },
      [self, k](const caf::error& e) {
        k(caf::make_error(apps_errc::action_failed, render(self, e)), false);
      });
}

void end_exclusive(self_ptr self);
void run_locked_app_action(self_ptr self, app_action a,
                           caf::typed_response_promise<void> rp);

// The action on a chosen service, under its app's lock when `taken`.
void run_service_action(self_ptr self, const service_action& a,
                        const apps::service_choice& pick, bool taken,
                        caf::typed_response_promise<service_action_done> rp) {
  auto& st = self->state;
  auto uuid = pick.app->uuid;
  auto name = pick.service.name;
  auto container = pick.service.container_id;
  auto app_id = a.app_id;
  auto finish
    = [self, rp, taken, app_id, name](const caf::error& e,
                                      const std::string& container_id) mutable {
        caf::error out;
        if (e)
          out = caf::make_error(apps_errc::action_failed, render(self, e));
        auto reply = [rp, out, name, container_id]() mutable {
          if (out)
            rp.deliver(out);
          else
            rp.deliver(service_action_done{name, container_id});
        };
        if (!taken)
          return reply();
        // The lock is released before the caller hears back.
        self->request(self->state.locks, engine_timeout, lock_release{app_id})
          .then([reply](bool) mutable { reply(); },
                [reply](const caf::error&) mutable { reply(); });
      };
  const char* verb = a.kind == service_action_kind::stop    ? "Stopping"
                     : a.kind == service_action_kind::start ? "Starting"
                                                            : "Restarting";
  log_of(self).info("apps", "{} service '{}' (device API)", verb, name);
  set_user_stopped(self, uuid, name, a.kind == service_action_kind::stop);
  auto it = st.supervisors.find(key_of(uuid, name));
  if (it == st.supervisors.end()) {
    // Not supervised (yet): a stop goes to the engine now, a start is the
    // next pass's (the bookkeeping no longer holds it back).
    switch (a.kind) {
      case service_action_kind::stop:
        engine_kill(self, container, false,
                    [finish, container](std::optional<std::string> e) mutable {
                      finish(e ? caf::make_error(apps_errc::action_failed, *e)
                               : caf::error{},
                             container);
                    });
        break;
      case service_action_kind::start:
        request_pass(self);
        finish({}, container);
        break;
      case service_action_kind::restart:
        finish(caf::make_error(apps_errc::action_failed,
                               "service " + name
                                 + " is not supervised yet; try again"),
               container);
        break;
    }
    return;
  }
  auto& sup = it->second;
  if (sup.spec)
    sup.spec->running = a.kind != service_action_kind::stop;
  st.engine.container_changed(container);
  auto on_status = [self, finish](const service_status& s) mutable {
    self->state.engine.container_changed(s.container_id);
    finish({}, s.container_id);
  };
  auto on_error = [finish, container](const caf::error& e) mutable {
    finish(e, container);
  };
  switch (a.kind) {
    case service_action_kind::stop:
      self->request(sup.handle, apply_timeout, service_stop{})
        .then(on_status, on_error);
      break;
    case service_action_kind::start:
      self->request(sup.handle, apply_timeout, service_start{})
        .then(on_status, on_error);
      break;
    case service_action_kind::restart: {
      // The supervisor kills, removes and recreates the container. No pass
      // runs meanwhile: one would find the service without a container and
      // create another.
      auto handle = sup.handle;
      st.exclusive_waiting.push_back(
        [self, handle, on_status, on_error]() mutable {
          self->request(handle, apply_timeout, service_restart{})
            .then(
              [self, on_status](const service_status& s) mutable {
                on_status(s);
                end_exclusive(self);
              },
              [self, on_error](const caf::error& e) mutable {
                on_error(e);
                end_exclusive(self);
              });
        });
      run_exclusive_waiting(self);
      break;
    }
  }
}

} // namespace

caf::result<service_action_done> on_service_action(self_ptr self,
                                                   const service_action& a) {
  auto& st = self->state;
  auto cur = current_of(self, a.app_id);
  auto* target = st.target ? &*st.target : nullptr;
  auto choice = apps::choose_service(cur, target, a);
  if (auto* err = std::get_if<caf::error>(&choice))
    return *err;
  auto pick = std::get<apps::service_choice>(choice);
  auto rp = self->make_response_promise<service_action_done>();
  if (a.kind == service_action_kind::start) {
    run_service_action(self, a, pick, false, rp);
    return rp;
  }
  with_app_lock(
    self, a.app_id, a.force,
    [self, a, pick, rp](caf::error err, bool taken) mutable {
      if (err) {
        rp.deliver(err);
        return;
      }
      // The target may have changed while the lock was taken.
      auto& st = self->state;
      auto* target = st.target ? &*st.target : nullptr;
      auto again = apps::choose_service(current_of(self, a.app_id), target, a);
      if (auto* e = std::get_if<caf::error>(&again)) {
        if (taken)
          self->request(st.locks, engine_timeout, lock_release{a.app_id})
            .then([](bool) {}, [](const caf::error&) {});
        rp.deliver(*e);
        return;
      }
      run_service_action(self, a, std::get<apps::service_choice>(again), taken,
                         rp);
    });
  return rp;
}

namespace {

// Ends an app action: the next waiting one runs, else a pass recreates
// what the action removed.
void end_exclusive(self_ptr self) {
  self->state.exclusive = false;
  if (!run_exclusive_waiting(self))
    request_pass(self);
}

// Removes every container of the app (its supervisors go with them).
void remove_app_containers(self_ptr self, int64_t app_id,
                           std::function<void(std::vector<std::string>)> k) {
  auto& st = self->state;
  const target_app* tapp
    = st.target ? find_app_by_id(*st.target, app_id) : nullptr;
  auto fan = make_fan_in(std::move(k));
  std::set<std::string> done;
  std::vector<supervised*> sups;
  for (auto& [_, s] : st.supervisors)
    if (s.last.app_id == app_id
        || (tapp != nullptr && s.last.app_uuid == tapp->uuid))
      sups.push_back(&s);
  for (auto* s : sups) {
    auto handle = s->handle;
    done.insert(s->last.container_id);
    forget_supervisor(self, s);
    fan->add();
    self->request(handle, apply_timeout, service_remove{})
      .then([fan](const service_status&) { fan->done(); },
            [self, fan](const caf::error& e) {
              if (e == supervisor_errc::removed)
                return fan->done();
              fan->done(render(self, e));
            });
  }
  for (auto& c : st.snap().containers) {
    auto who = apps::service_from_container(c);
    if (!who || who->app_id != app_id || done.count(c.id) != 0)
      continue;
    fan->add();
    engine_kill(self, c.id, true,
                [fan](const std::optional<std::string>& e) { fan->done(e); });
  }
  fan->seal();
}

void run_app_action(self_ptr self, app_action a,
                    caf::typed_response_promise<void> rp) {
  with_app_lock(self, a.app_id, a.force,
                [self, a, rp](caf::error err, bool) mutable {
                  if (err) {
                    rp.deliver(err);
                    return end_exclusive(self);
                  }
                  // The lock stays held: the pass that recreates the app
                  // runs under it and releases it once the app is at its
                  // target.
                  run_locked_app_action(self, a, rp);
                });
}

void run_locked_app_action(self_ptr self, app_action a,
                           caf::typed_response_promise<void> rp) {
  auto& st = self->state;
  bool purge = a.kind == app_action_kind::purge;
  log_of(self).info("apps", "{} app {} (device API)",
                    purge ? "Purging data for" : "Restarting", a.app_id);
  if (purge)
    tell(self, apps::purging_data(a.app_id));
  const target_app* tapp
    = st.target ? find_app_by_id(*st.target, a.app_id) : nullptr;
  if (tapp != nullptr) {
    // Everything of the app runs again, as the target says.
    auto& stopped = st.books.user_stopped[tapp->uuid];
    if (!stopped.empty()) {
      stopped.clear();
      auto [key, value] = apps::stopped_record(tapp->uuid, {});
      persist_kv(self, key, value);
    }
  }
  auto app_id = a.app_id;
  auto fail = [self, rp, purge](const std::string& why) mutable {
    log_of(self).error(
      "apps", "{}{}",
      purge ? "Error purging data: " : "Error restarting: ", why);
    if (purge)
      tell(self, apps::purge_failed(why));
    rp.deliver(caf::make_error(apps_errc::action_failed,
                               purge ? "Error purging data: " + why : why));
    end_exclusive(self);
  };
  remove_app_containers(
    self, app_id,
    [self, rp, purge, app_id,
     fail](const std::vector<std::string>& errs) mutable {
      if (!errs.empty())
        return fail(join(errs));
      if (!purge) {
        static_cast<caf::response_promise&>(rp).deliver(caf::unit);
        return end_exclusive(self);
      }
      self
        ->request(self->state.deps.volumes, engine_timeout,
                  volume_purge{app_id})
        .then(
          [self, rp, fail](const volume_removal& r) mutable {
            std::vector<std::string> left = r.failed;
            for (auto& v : r.in_use)
              left.push_back(v + " is in use");
            if (!left.empty())
              return fail(join(left));
            log_of(self).info("apps", "Purged data");
            tell(self, apps::purged_data());
            static_cast<caf::response_promise&>(rp).deliver(caf::unit);
            end_exclusive(self);
          },
          [self, fail](const caf::error& e) mutable { fail(render(self, e)); });
    });
}

} // namespace

caf::result<void> on_app_action(self_ptr self, const app_action& a) {
  auto& st = self->state;
  bool present = !current_of(self, a.app_id).empty();
  for (auto& v : st.snap().volumes)
    present = present || volume_logic::app_of_volume(v.name) == a.app_id;
  if (!present)
    return caf::make_error(apps_errc::not_in_current_state,
                           "Application with ID " + std::to_string(a.app_id)
                             + " is not in the current state");
  auto rp = self->make_response_promise<void>();
  st.exclusive_waiting.push_back(
    [self, a, rp]() mutable { run_app_action(self, a, rp); });
  run_exclusive_waiting(self);
  return rp;
}

caf::result<volume_removal> on_cleanup(self_ptr self,
                                       const volumes_cleanup_request& req) {
  auto& st = self->state;
  string_list referenced;
  if (st.target)
    for (auto& app : st.target->apps)
      for (auto& v : app.volumes)
        referenced.push_back(std::to_string(app.app_id) + "_" + v.name);
  auto rp = self->make_response_promise<volume_removal>();
  // A caller scoped to some apps keeps every other app's volumes.
  const bool scoped = req.apps.has_value();
  const std::vector<int64_t> scope
    = scoped ? *req.apps : std::vector<int64_t>{};
  self->request(st.deps.engine, engine_timeout, volume_list_req{})
    .then(
      [self, rp, scoped, scope, referenced](const volume_list& vs) mutable {
        if (scoped)
          for (auto& v : vs.volumes)
            if (!volume_logic::in_scope(v.name, scope))
              referenced.push_back(v.name);
        self
          ->request(self->state.deps.volumes, engine_timeout,
                    volume_cleanup{referenced})
          .then(
            [self, rp](const volume_removal& r) mutable {
              for (auto& name : r.removed)
                log_of(self).info("apps", "Removed volume '{}'", name);
              rp.deliver(r);
            },
            [self, rp](const caf::error& e) mutable {
              rp.deliver(
                caf::make_error(apps_errc::action_failed, render(self, e)));
            });
      },
      [self, rp](const caf::error& e) mutable {
        rp.deliver(caf::make_error(apps_errc::action_failed, render(self, e)));
      });
  return rp;
}

} // namespace bosun::appmgr
