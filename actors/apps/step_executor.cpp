// Running a batch of planner steps through the engine, images, volumes,
// networks, the lock keeper and the service supervisors. Each step's result
// also keeps the engine view current: what it changed is read again (or
// dropped) before the next pass plans.
#include "actors/apps/app_state.hpp"
#include "actors/apps/chaos_hook.hpp"
#include "actors/apps/service_supervisor.hpp"

#include <algorithm>
#include <set>
#include <type_traits>

namespace bosun::appmgr {

using namespace std::chrono_literals;

namespace {

bool target_names_image(const std::optional<target_state>& target,
                        const std::string& image) {
  if (target)
    for (auto& app : target->apps)
      for (auto& svc : app.services)
        if (svc.image == image)
          return true;
  return false;
}

struct executor {
  self_ptr self;
  fan_in_ptr fan;

  void ok() const {
    fan->done();
  }
  void fail(std::string why) const {
    fan->done(std::move(why));
  }
  std::function<void(const caf::error&)> on_error() const {
    return [self = self, fan = fan](const caf::error& e) {
      fan->done(render(self, e));
    };
  }
  // The step failed: told as `what` about `object`, with the error.
  std::function<void(const caf::error&)> on_error(const char* what,
                                                  std::string object) const {
    return [self = self, fan = fan, what, object](const caf::error& e) {
      auto why = render(self, e);
      tell(self, what, object, why);
      fan->done(why);
    };
  }
  // An ensure step is done; told as `what` when it created something.
  template <class Ensured>
  std::function<void(const Ensured&)> on_ensured(const char* what,
                                                 std::string object) const {
    return [self = self, fan = fan, what, object](const Ensured& r) {
      if (r.created)
        tell(self, what, object);
      fan->done();
    };
  }

  void operator()(const steps::fetch_image& s) const {
    auto& st = self->state;
    if (st.books.downloading.count(s.image) != 0)
      return ok();
    auto retry = st.fetch_retry_at.find(s.image);
    if (retry != st.fetch_retry_at.end() && self->clock().now() < retry->second)
      return ok();
    st.books.downloading[s.image] = 0;
    view_changed(self);
    log_of(self).info("apps", "Downloading image '{}'", s.image);
    tell(self, apps::lines::downloading_image, s.image);
    image_fetch f;
    f.image = s.image;
    f.app_id = s.app_id;
    f.service_name = s.service;
    auto image = s.image;
    auto me = self;
    // In the background: a pass never waits for a pull.
    self->request(st.deps.images, caf::infinite, f)
      .then(
        [me, image](const image_fetched& r) {
          chaos::reached("fetch", chaos::phase::after);
          auto& st = me->state;
          st.books.downloading.erase(image);
          view_changed(me);
          st.status.fetch_errors.erase(image);
          st.fetch_retry_at.erase(image);
          st.engine.image_changed(image);
          if (r.pulled) {
            st.fetched.insert(image);
            log_of(me).info("apps", "Downloaded image '{}'", image);
          }
          // Also when another fetch got it first: the download told of
          // above has ended.
          tell(me, apps::lines::downloaded_image, image);
          request_pass(me);
        },
        [me, image](const caf::error& e) {
          auto& st = me->state;
          st.books.downloading.erase(image);
          view_changed(me);
          if (!target_names_image(st.target, image))
            return request_pass(me); // no longer wanted
          fetch_failed(me, image, render(me, e));
          st.fetch_retry_at[image] = me->clock().now() + fetch_retry_after;
          me->delayed_send(me, fetch_retry_after, pass_atom_v);
        });
    ok();
  }

  void operator()(const steps::create_network& s) const {
    self->state.engine.networks_changed();
    network_ensure req{s.app_uuid, s.app_id, s.network};
    self->request(self->state.deps.networks, engine_timeout, req)
      .then(on_ensured<network_ensured>(apps::lines::creating_network,
                                        s.network.name),
            on_error(apps::lines::create_network_failed, s.network.name));
  }

  void operator()(const steps::remove_network& s) const {
    // Waits for the answer: networks replies (void) even to a send.
    tell(self, apps::lines::removing_network, s.name);
    self->state.engine.networks_changed();
    self
      ->request(self->state.deps.networks, engine_timeout,
                network_remove{s.app_uuid, s.name})
      .then([fan = fan] { fan->done(); },
            on_error(apps::lines::remove_network_failed, s.name));
  }

  void operator()(const steps::create_volume& s) const {
    self->state.engine.volumes_changed();
    volume_ensure req{s.app_id, s.app_uuid, s.volume};
    self->request(self->state.deps.volumes, engine_timeout, req)
      .then(
        on_ensured<volume_ensured>(apps::lines::creating_volume, s.volume.name),
        on_error(apps::lines::create_volume_failed, s.volume.name));
  }

  void operator()(const steps::remove_volume& s) const {
    tell(self, apps::lines::removing_volume, s.name);
    self->state.engine.volumes_changed();
    self
      ->request(self->state.deps.volumes, engine_timeout,
                volume_remove{s.app_id, s.name})
      .then([fan = fan] { fan->done(); },
            on_error(apps::lines::remove_volume_failed, s.name));
  }

  void operator()(const steps::stop_service& s) const {
    self->state.engine.container_changed(s.container_id);
    if (auto* sup = managing(self, s.container_id)) {
      self->request(sup->handle, apply_timeout, service_stop{})
        .then([fan = fan](const service_status&) { fan->done(); }, on_error());
      return;
    }
    engine_kill(
      self, s.container_id, false,
      [fan = fan](std::optional<std::string> e) { fan->done(std::move(e)); });
  }

  void operator()(const steps::kill_service& s) const {
    log_of(self).info("apps", "Killing service '{}'", s.service);
    if (auto* sup = managing(self, s.container_id)) {
      auto handle = sup->handle;
      // It quits once its container is gone: forget it now, so that the
      // next pass spawns a fresh one for the new container.
      forget_supervisor(self, sup);
      self->request(handle, apply_timeout, service_remove{})
        .then(
          [self = self, fan = fan, id = s.container_id](const service_status&) {
            self->state.engine.container_gone(id);
            fan->done();
          },
          on_error());
      return;
    }
    engine_kill(
      self, s.container_id, true,
      [fan = fan](std::optional<std::string> e) { fan->done(std::move(e)); });
  }

  void operator()(const steps::remove_service& s) const {
    if (auto* sup = managing(self, s.container_id))
      forget_supervisor(self, sup);
    auto object = container_object(self, s.container_id);
    tell(self, apps::lines::removing_dead, object);
    container_remove_req req{s.container_id, true};
    auto id = s.container_id;
    self->request(self->state.deps.engine, engine_timeout, req)
      .then(
        [self = self, fan = fan, id] {
          self->state.engine.container_gone(id);
          fan->done();
        },
        [self = self, fan = fan, object, id](const caf::error& e) {
          check_contradiction(self, e);
          self->state.engine.container_gone(id);
          if (e == engine_errc::not_found)
            return fan->done();
          auto why = render(self, e);
          tell(self, apps::lines::remove_dead_failed, object, why);
          fan->done(why);
        });
  }

  void start(const target_app& app, const target_service& svc,
             const std::string& container_id, bool running) const {
    auto& st = self->state;
    auto ctx = app_spec_context(spec_base(self), st.snap(), app.uuid);
    auto spec = spec_for(app, svc, ctx, st.snap());
    if (!spec.ok())
      return fail("service " + svc.name + ": " + join(spec.errors));
    for (auto& w : spec.warnings)
      log_of(self).warn("apps", "service {}: {}", svc.name, w);
    auto& sup = supervisor_for(self, app.uuid, svc.name);
    sup.spec = make_apply(app, svc, spec, running, container_id);
    if (container_id.empty())
      log_of(self).info("apps", "Installing service '{}'", svc.name);
    if (!container_id.empty())
      st.engine.container_changed(container_id);
    self->request(sup.handle, apply_timeout, *sup.spec)
      .then(
        [self = self, fan = fan](const std::string& id) {
          self->state.engine.container_changed(id);
          fan->done();
        },
        on_error());
  }

  void operator()(const steps::start_service& s) const {
    start(s.app, s.service, s.container_id, !s.create_only);
  }

  // A kill, then an install, in one step: the old container's supervisor
  // removes it (and quits), then a fresh one creates the new container.
  void operator()(const steps::replace_service& s) const {
    log_of(self).info("apps", "Killing service '{}'", s.service.name);
    auto me = *this;
    auto then_install = [me, s](std::optional<std::string> e) {
      if (e)
        return me.fail(std::move(*e));
      me.self->state.engine.container_gone(s.old_container_id);
      me.start(s.app, s.service, "", !s.create_only);
    };
    if (auto* sup = managing(self, s.old_container_id)) {
      auto handle = sup->handle;
      forget_supervisor(self, sup);
      self->request(handle, apply_timeout, service_remove{})
        .then([then_install](const service_status&) { then_install({}); },
              [me, then_install](const caf::error& e) {
                then_install(render(me.self, e));
              });
      return;
    }
    engine_kill(self, s.old_container_id, true, then_install);
  }

  void operator()(const steps::update_metadata& s) const {
    auto name = apps::container_name(s.service.name, s.service.image_id,
                                     s.app.release_id, s.app.commit);
    auto app = s.app;
    auto svc = s.service;
    auto id = s.container_id;
    auto me = *this;
    self
      ->request(self->state.deps.engine, engine_timeout,
                container_rename_req{id, name})
      .then(
        [me, app, svc, id] {
          me.self->state.engine.container_changed(id);
          auto* sup = managing(me.self, id);
          if (sup == nullptr)
            return me.ok();
          // Same container, new name: the supervisor adopts it again.
          me.start(app, svc, id, sup->spec ? sup->spec->running : true);
        },
        [me](const caf::error& e) {
          check_contradiction(me.self, e);
          me.fail(render(me.self, e));
        });
  }

  void operator()(const steps::handover& s) const {
    // The new container starts next to the old one, which is killed once
    // the new one signals handover-complete or the timeout passes.
    auto& st = self->state;
    if (auto* sup = managing(self, s.old_container_id)) {
      // The old container leaves its supervisor, so nothing restarts it.
      self->send_exit(sup->handle, caf::exit_reason::user_shutdown);
      forget_supervisor(self, sup);
    }
    pending_handover h;
    h.old_container_id = s.old_container_id;
    h.lock_dir
      = service_lock_dir(st.opts.lock_dir_base, s.app.app_id, s.service.name);
    h.deadline = self->clock().now() + std::chrono::milliseconds(s.timeout_ms);
    auto id = ++st.handover_ids;
    st.handovers.emplace(id, std::move(h));
    start(s.app, s.service, "", true);
    self->delayed_send(self, 100ms, handover_tick{id});
  }

  void operator()(const steps::take_lock& s) const {
    tell(self, system_event(apps::lines::taking_locks));
    lock_take req{s.app_id, s.services, s.force, false};
    self->request(self->state.locks, engine_timeout, req)
      .then(
        [self = self, fan = fan](const lock_outcome& r) {
          auto& st = self->state;
          if (!r.ok) {
            if (!r.holder.empty())
              st.status.locked_by = r.holder;
            st.lock_failure = r.error;
            return fan->done("Updates are locked: " + r.error);
          }
          st.status.locked_by.clear();
          fan->done();
        },
        on_error());
  }

  void operator()(const steps::release_lock& s) const {
    tell(self, system_event(apps::lines::releasing_locks));
    self->request(self->state.locks, engine_timeout, lock_release{s.app_id})
      .then([fan = fan](bool) { fan->done(); }, on_error());
  }

  void operator()(const steps::noop&) const {
    ok();
  }

  void operator()(const steps::update_commit& s) const {
    self->state.books.commits[s.app_uuid] = s.commit;
    view_changed(self);
    auto [key, value] = apps::commit_record(s.app_uuid, s.commit);
    persist_kv(self, key, value);
    ok();
  }
};

} // namespace

// Stops then removes a container the supervisors do not manage.
void engine_kill(self_ptr self, const std::string& id, bool remove,
                 const std::function<void(std::optional<std::string>)>& k) {
  auto engine = self->state.deps.engine;
  auto object = container_object(self, id);
  tell(self, apps::lines::killing_service, object);
  auto done = [self, object, k, id, remove](std::optional<std::string> e) {
    if (e)
      tell(self, apps::lines::kill_failed, object, *e);
    else
      tell(self, apps::lines::killed_service, object);
    if (!e && remove)
      self->state.engine.container_gone(id);
    else
      self->state.engine.container_changed(id);
    k(std::move(e));
  };
  container_stop_req stop{id, std::nullopt};
  self->request(engine, engine_timeout, stop)
    .then(
      [=] {
        if (!remove)
          return done(std::nullopt);
        self->request(engine, engine_timeout, container_remove_req{id, true})
          .then([=] { done(std::nullopt); },
                [=](const caf::error& e) {
                  if (e == engine_errc::not_found)
                    return done(std::nullopt);
                  done(render(self, e));
                });
      },
      [=](const caf::error& e) {
        check_contradiction(self, e);
        if (e == engine_errc::not_found)
          return done(std::nullopt);
        if (e != engine_errc::not_modified)
          return done(render(self, e));
        if (!remove)
          return done(std::nullopt);
        self->request(engine, engine_timeout, container_remove_req{id, true})
          .then([=] { done(std::nullopt); },
                [=](const caf::error& e2) {
                  if (e2 == engine_errc::not_found)
                    return done(std::nullopt);
                  done(render(self, e2));
                });
      });
}

// A download failed: an attempt the images actor retries, or the whole
// fetch. The service shows it at once (update_failed, "Download failed")
// until the image arrives or a new target comes; told once, not per retry.
void fetch_failed(self_ptr self, const std::string& image,
                  const std::string& why) {
  auto& st = self->state;
  if (!target_names_image(st.target, image))
    return; // a fetch the target no longer needs: its news is stale
  auto& errors = st.status.fetch_errors;
  auto [it, first] = errors.try_emplace(image, why);
  it->second = why;
  view_changed(self);
  if (!first)
    return;
  log_of(self).error("apps", "Failed to download image '{}' due to '{}'", image,
                     why);
  tell(self, apps::lines::download_failed, image, why);
}

void cleanup_images(self_ptr self) {
  auto& st = self->state;
  if (st.opts.local_mode || st.fetched.empty())
    return;
  image_cleanup req;
  if (st.target)
    for (auto& app : st.target->apps)
      for (auto& svc : app.services)
        req.keep.push_back(svc.image);
  for (auto& c : st.snap().containers)
    req.keep.push_back(c.image);
  req.fetched.assign(st.fetched.begin(), st.fetched.end());
  self->request(st.deps.images, engine_timeout, req)
    .then(
      [self, candidates = req.fetched](const image_cleanup_result& r) {
        for (auto& name : r.removed) {
          self->state.fetched.erase(name);
          log_of(self).info("apps", "Deleted image '{}'", name);
          // The images actor removes them in one go; each is told as
          // balena tells a removal.
          tell(self, apps::lines::deleting_image, name);
          tell(self, apps::lines::deleted_image, name);
        }
        // "<name>: <why>" for the images this agent pulled (dangling ones
        // are nobody's to tell about).
        for (auto& f : r.failed)
          for (auto& name : candidates)
            if (f.rfind(name + ": ", 0) == 0)
              tell(self, apps::lines::delete_failed, name,
                   f.substr(name.size() + 2));
      },
      [self](const caf::error& e) {
        log_of(self).warn("apps", "image cleanup failed: {}", render(self, e));
      });
}

namespace {

// Steps that carry their whole target app rather than its uuid.
template <class T>
constexpr bool carries_app
  = std::disjunction_v<std::is_same<T, steps::start_service>,
                       std::is_same<T, steps::replace_service>,
                       std::is_same<T, steps::update_metadata>,
                       std::is_same<T, steps::handover>>;

// The app a step is about ("" for a noop about none).
const std::string& app_of(const step& s) {
  return std::visit(
    [](const auto& x) -> const std::string& {
      if constexpr (carries_app<std::decay_t<decltype(x)>>)
        return x.app.uuid;
      else
        return x.app_uuid;
    },
    s);
}

void run_all(self_ptr self, const std::vector<step>& batch,
             const fan_in_ptr& fan) {
  for (auto& s : batch) {
    fan->add();
    chaos::reached(chaos::kind_of(s), chaos::phase::before);
    std::visit(executor{self, chaos_after(fan, s)}, s);
  }
}

} // namespace

void execute(self_ptr self, const std::vector<step>& batch,
             std::function<void(std::vector<std::string>)> k) {
  std::vector<step> locks;
  std::vector<step> rest;
  for (auto& s : batch)
    (std::holds_alternative<steps::take_lock>(s) ? locks : rest).push_back(s);
  auto fan = make_fan_in(std::move(k));
  if (locks.empty()) {
    run_all(self, rest, fan);
    return fan->seal();
  }
  // The locks first, all at once; then every step of the apps whose lock
  // was taken (and of the apps that needed none) in the same batch. An app
  // whose lock was refused does nothing more this pass: its error fails
  // the pass, which is retried with backoff.
  auto refused = std::make_shared<std::set<std::string>>();
  auto after_locks = make_fan_in(
    [self, fan, refused, rest = std::move(rest)](std::vector<std::string> e) {
      for (auto& why : e)
        fan->errors.push_back(std::move(why));
      std::vector<step> go;
      for (auto& s : rest)
        if (refused->count(app_of(s)) == 0)
          go.push_back(s);
      run_all(self, go, fan);
      fan->seal();
    });
  for (auto& s : locks) {
    auto one = make_fan_in(
      [after_locks, refused, app = app_of(s)](std::vector<std::string> e) {
        if (!e.empty())
          refused->insert(app);
        for (auto& why : e)
          after_locks->errors.push_back(std::move(why));
        after_locks->done();
      });
    after_locks->add();
    one->add();
    chaos::reached(chaos::kind_of(s), chaos::phase::before);
    std::visit(executor{self, chaos_after(one, s)}, s);
    one->seal();
  }
  after_locks->seal();
}

void on_handover_tick(self_ptr self, const handover_tick& t) {
  auto& st = self->state;
  auto it = st.handovers.find(t.id);
  if (it == st.handovers.end())
    return;
  self->request(st.locks, engine_timeout, handover_poll{it->second.lock_dir})
    .then(
      [self, t](bool complete) {
        auto& st = self->state;
        auto it = st.handovers.find(t.id);
        if (it == st.handovers.end())
          return;
        if (!complete && self->clock().now() < it->second.deadline) {
          self->delayed_send(self, 100ms, t);
          return;
        }
        auto old_id = it->second.old_container_id;
        st.handovers.erase(it);
        engine_kill(self, old_id, true, [self](std::optional<std::string> e) {
          if (e)
            log_of(self).warn("apps", "removing the handed-over container: {}",
                              *e);
          request_pass(self);
        });
      },
      [self, t](const caf::error& e) {
        log_of(self).warn("apps", "checking a hand-over: {}", render(self, e));
        self->delayed_send(self, 100ms, t);
      });
}

} // namespace bosun::appmgr
