// The app_manager actor. Over 600 lines, with eight jobs in one file: issue
// 12 splits it (engine view, step executor, supervisor table, device
// actions, bookkeeping, handover files), after tests pin its behaviour.

#include "actors/apps/app_manager.hpp"

#include "actors/apps/app_view.hpp"
#include "actors/apps/current_state.hpp"
#include "actors/apps/event_lines.hpp"
#include "actors/apps/planner.hpp"
#include "actors/apps/service_supervisor.hpp"
#include "actors/apps/update_locks.hpp"
#include "actors/root/restart_window.hpp"
#include "actors/telemetry/counters.hpp"
#include "actors/volumes/volume_logic.hpp"

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

namespace bosun {

namespace {

using namespace std::chrono_literals;

constexpr auto engine_timeout = std::chrono::seconds(60);
constexpr auto apply_timeout = std::chrono::minutes(3);
// After a fetch failed (the images actor already retried), the app waits
// this long before the planner's next fetch of that image is executed.
constexpr auto fetch_retry_after = std::chrono::seconds(30);

// Bookkeeping keys in the db's config table.
const std::string commit_prefix = "apps.commit.";
const std::string stopped_prefix = "apps.stopped.";

struct supervised {
  service_supervisor_actor handle;
  std::optional<service_apply> spec; // the last spec applied
  service_status last;
};

// A hand-over in progress: the old container waits for its successor's
// handover-complete file (or the timeout) before it is killed.
struct pending_handover {
  std::string old_container_id;
  std::string lock_dir;
  caf::actor_clock::time_point deadline;
};

struct app_manager_state {
  static inline const char* name = "app_manager";

  app_manager_deps deps;
  app_manager_options opts;

  bool loaded = false;
  std::optional<target_state> target;
  bool force = false;
  apps_bookkeeping books;

  // One per service: key "<app uuid>/<service>".
  std::map<std::string, supervised> supervisors;
  restart_window respawns{5, std::chrono::seconds(60)};

  // The pass loop.
  bool running = false;
  bool again = false;
  uint64_t generation = 0;
  std::chrono::milliseconds backoff{0};
  bool wait_scheduled = false;
  engine_snapshot snap;    // what the last complete read found
  engine_snapshot reading; // being read by the running pass
  apps_status status;
  std::map<std::string, caf::actor_clock::time_point> fetch_retry_at;
  std::set<std::string> fetched; // images this agent pulled
  std::map<uint64_t, pending_handover> handovers;
  uint64_t handover_ids = 0;

  // The device API's app actions run alone: no pass while one runs, and
  // they wait for a running pass to end.
  bool exclusive = false;
  std::vector<std::function<void()>> exclusive_waiting;
  // A pass found the device at its target since this actor started; until
  // then the device API says an apply is in progress.
  bool settled = false;
  // The device API's last view (without env), until something changes;
  // never older than view_max_age.
  std::shared_ptr<const apps_view> view;
  caf::actor_clock::time_point view_at;
  // The app-scoped API keys of supervisor-api services (from api_keys).
  std::map<service_ref, std::string> scoped_keys;
  // Why the running pass could not take an app's update lock ("" if it
  // could): a failed pass then says "Updates are locked, retrying in …".
  std::string lock_failure;
};

using self_ptr = app_manager_actor::stateful_pointer<app_manager_state>;

constexpr auto view_max_age = std::chrono::milliseconds(250);

// Something the device API's view shows changed.
void view_changed(self_ptr self) {
  self->state.view.reset();
}

std::string key_of(const std::string& uuid, const std::string& service) {
  return uuid + "/" + service;
}

const logger& log_of(self_ptr self) {
  return *self->state.opts.log;
}

std::string render(self_ptr self, const caf::error& e) {
  if (e.category() == caf::atom("engine"))
    return render_engine_error(e);
  if (e.category() == caf::atom("images"))
    return images_error_message(e);
  if (e.category() == caf::atom("volumes"))
    return volumes_error_message(e);
  return self->system().render(e);
}

// A system line for the logs actor (balena's wording, event_lines.hpp).
void tell(self_ptr self, system_log line) {
  apps::send_line(self->state.deps.logs, std::move(line));
}

void tell(self_ptr self, const char* what, const std::string& object,
          const std::string& error = {}) {
  tell(self, system_event(what, object, error));
}

// How balena names the service of a container the last read found.
std::string container_object(self_ptr self, const std::string& id) {
  for (auto& c : self->state.snap.containers)
    if (c.id == id) {
      auto who = apps::service_from_container(c);
      return apps::service_object(who ? who->service_name : "", c.config.image);
    }
  return {};
}

bool truthy(const std::map<std::string, std::string>& cfg,
            const std::string& key) {
  auto it = cfg.find(key);
  return it != cfg.end() && apps::is_truthy(it->second);
}

// -- status -------------------------------------------------------------------

void set_state(self_ptr self, const char* state) {
  auto& st = self->state;
  view_changed(self);
  if (st.status.state != state)
    log_of(self).info("apps", "{}",
                      std::string(state) == "Idle"
                        ? "the device is at its target"
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
  return out;
}

// -- the pass loop
// --------------------------------------------------------------

void request_pass(self_ptr self) {
  self->send(self, pass_atom_v);
}

// Starts the oldest app action waiting for the pass loop to be idle.
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
  set_state(self, "Applying");
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

// Fan-in of asynchronous work: `finish` runs once every part is done, with
// the errors collected.
struct fan_in {
  int pending = 1; // released by seal()
  std::vector<std::string> errors;
  std::function<void(std::vector<std::string>)> finish;

  void add() {
    ++pending;
  }
  void done(std::optional<std::string> err = std::nullopt) {
    if (err)
      errors.push_back(std::move(*err));
    if (--pending == 0)
      finish(std::move(errors));
  }
  void seal() {
    done();
  }
};

using fan_in_ptr = std::shared_ptr<fan_in>;

fan_in_ptr make_fan_in(std::function<void(std::vector<std::string>)> finish) {
  auto f = std::make_shared<fan_in>();
  f->finish = std::move(finish);
  return f;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : "; ") + x;
  return out;
}

// Reads containers, networks, volumes and the target's images.
void gather(self_ptr self,
            const std::function<void(std::vector<std::string>)>& k) {
  auto& st = self->state;
  // Read into `reading`; the snapshot the device API shows is replaced
  // only by a complete one.
  st.reading = {};
  auto fan = make_fan_in([self, k](const std::vector<std::string>& errs) {
    auto& st = self->state;
    if (errs.empty())
      st.snap = std::move(st.reading);
    view_changed(self);
    k(errs);
  });
  auto engine = st.deps.engine;
  fan->add();
  container_list_req list;
  list.all = true;
  list.filters["label"] = {"io.balena.supervised"};
  self->request(engine, engine_timeout, list)
    .then(
      [self, fan, engine](const container_list& cs) {
        for (auto& c : cs) {
          fan->add();
          self->request(engine, engine_timeout, container_inspect_req{c.id})
            .then(
              [self, fan](container_inspect& ci) {
                self->state.reading.containers.push_back(std::move(ci));
                fan->done();
              },
              [self, fan](const caf::error& e) {
                // Removed between list and inspect: not there any more.
                if (e == engine_errc::not_found)
                  return fan->done();
                fan->done(render(self, e));
              });
        }
        fan->done();
      },
      [self, fan](const caf::error& e) { fan->done(render(self, e)); });
  fan->add();
  self->request(engine, engine_timeout, network_list_req{})
    .then(
      [self, fan](network_infos& ns) {
        self->state.reading.networks = std::move(ns);
        fan->done();
      },
      [self, fan](const caf::error& e) { fan->done(render(self, e)); });
  fan->add();
  self->request(engine, engine_timeout, volume_list_req{})
    .then(
      [self, fan](volume_list& vs) {
        self->state.reading.volumes = std::move(vs.volumes);
        fan->done();
      },
      [self, fan](const caf::error& e) { fan->done(render(self, e)); });
  std::set<std::string> images;
  if (st.target)
    for (auto& app : st.target->apps)
      for (auto& svc : app.services)
        images.insert(svc.image);
  // The app-scoped keys of supervisor-api services, made on first use.
  scoped_keys_request keys;
  if (st.target)
    for (auto& app : st.target->apps)
      for (auto& svc : app.services) {
        auto labels = apps::normalize_labels(svc.config.labels);
        auto f = labels.find("io.balena.features.supervisor-api");
        if (f != labels.end() && apps::is_truthy(f->second))
          keys.services.emplace_back(app.app_id, svc.name);
      }
  if (!keys.services.empty() && st.deps.api_keys) {
    fan->add();
    self->request(st.deps.api_keys, engine_timeout, keys)
      .then(
        [self, fan](scoped_keys& k) {
          self->state.scoped_keys = std::move(k.keys);
          fan->done();
        },
        [self, fan](const caf::error& e) {
          fan->done("API keys: " + render(self, e));
        });
  }
  for (auto& image : images) {
    fan->add();
    self->request(engine, engine_timeout, image_inspect_req{image})
      .then(
        [self, fan, image](image_inspect& ii) {
          self->state.reading.images.emplace(image, std::move(ii));
          fan->done();
        },
        [self, fan](const caf::error& e) {
          if (e == engine_errc::not_found)
            return fan->done(); // not present (yet)
          fan->done(render(self, e));
        });
  }
  fan->seal();
}

apps::spec_context spec_base(self_ptr self) {
  auto& st = self->state;
  auto ctx = st.opts.spec;
  ctx.lock_dir_base = st.opts.engine_lock_dir_base.empty()
                        ? st.opts.lock_dir_base
                        : st.opts.engine_lock_dir_base;
  ctx.scoped_api_keys = st.scoped_keys;
  if (st.target && !st.target->device_name.empty())
    ctx.device_name = st.target->device_name;
  return ctx;
}

service_apply make_apply(const target_app& app, const target_service& svc,
                         const apps::container_spec& spec, bool running,
                         const std::string& container_id) {
  service_apply a;
  a.app_uuid = app.uuid;
  a.app_id = app.app_id;
  a.service_name = svc.name;
  a.container = spec.create;
  a.restart = spec.restart;
  a.running = running;
  a.extra_networks = spec.extra_networks;
  if (!container_id.empty())
    a.container_id = container_id;
  return a;
}

supervised& supervisor_for(self_ptr self, const std::string& uuid,
                           const std::string& service) {
  auto& st = self->state;
  auto key = key_of(uuid, service);
  auto it = st.supervisors.find(key);
  if (it != st.supervisors.end())
    return it->second;
  supervised s;
  auto listener = caf::actor_cast<service_status_listener>(self);
  supervisor_options so;
  so.logs = st.deps.logs;
  // Linked: they go down with the app_manager (whose successor adopts
  // their containers); their failures come back as exit messages.
  s.handle = self->spawn<caf::linked>(service_supervisor, st.deps.engine,
                                      listener, so);
  s.last.app_uuid = uuid;
  s.last.service_name = service;
  view_changed(self);
  return st.supervisors.emplace(key, std::move(s)).first->second;
}

// The supervisor that manages container `id`, if any.
supervised* managing(self_ptr self, const std::string& id) {
  for (auto& [_, s] : self->state.supervisors)
    if (!id.empty() && s.last.container_id == id)
      return &s;
  return nullptr;
}

void forget_supervisor(self_ptr self, supervised* s) {
  auto& st = self->state;
  for (auto it = st.supervisors.begin(); it != st.supervisors.end(); ++it)
    if (&it->second == s) {
      self->unlink_from(it->second.handle);
      st.supervisors.erase(it);
      view_changed(self);
      return;
    }
}

// Supervisors for containers that already match their target service, e.g.
// after bosun restarted: adopt the container instead of recreating it.
void adopt(self_ptr self, const current_state& cs) {
  auto& st = self->state;
  for (auto& app : cs.apps) {
    auto* tapp = find_app(*st.target, app.uuid);
    if (tapp == nullptr)
      continue;
    for (auto& c : app.containers) {
      if (c.match != target_match::equal)
        continue;
      if (st.supervisors.count(key_of(app.uuid, c.service_name)) != 0)
        continue;
      const target_service* svc = nullptr;
      for (auto& s : tapp->services)
        if (s.name == c.service_name)
          svc = &s;
      if (svc == nullptr)
        continue;
      auto ctx = app_spec_context(spec_base(self), st.snap, app.uuid);
      auto spec = spec_for(*tapp, *svc, ctx, st.snap);
      bool running = svc->running && app.user_stopped.count(svc->name) == 0;
      auto& sup = supervisor_for(self, app.uuid, svc->name);
      sup.spec = make_apply(*tapp, *svc, spec, running, c.id);
      log_of(self).info("apps", "adopting container {} of service {}", c.name,
                        svc->name);
      self->request(sup.handle, apply_timeout, *sup.spec)
        .then([](const std::string&) {},
              [self, name = svc->name](const caf::error& e) {
                log_of(self).warn("apps", "adopting {} failed: {}", name,
                                  render(self, e));
              });
    }
  }
}

void persist_kv(self_ptr self, const std::string& key,
                const std::string& value) {
  self
    ->request(self->state.deps.db, engine_timeout, caf::put_atom_v,
              config_kv_atom_v, key, value)
    .then([] {},
          [self, key](const caf::error& e) {
            log_of(self).error("apps", "cannot store {}: {}", key,
                               render(self, e));
          });
}

// Stops then removes a container the supervisors do not manage.
void engine_kill(self_ptr self, const std::string& id, bool remove,
                 const std::function<void(std::optional<std::string>)>& k) {
  auto engine = self->state.deps.engine;
  auto object = container_object(self, id);
  tell(self, apps::lines::killing_service, object);
  auto done = [self, object, k](std::optional<std::string> e) {
    if (e)
      tell(self, apps::lines::kill_failed, object, *e);
    else
      tell(self, apps::lines::killed_service, object);
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

// -- step execution
// -------------------------------------------------------------

bool target_names_image(const std::optional<target_state>& target,
                        const std::string& image) {
  if (target)
    for (auto& app : target->apps)
      for (auto& svc : app.services)
        if (svc.image == image)
          return true;
  return false;
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
          auto& st = me->state;
          st.books.downloading.erase(image);
          view_changed(me);
          st.status.fetch_errors.erase(image);
          st.fetch_retry_at.erase(image);
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
    network_ensure req{s.app_uuid, s.app_id, s.network};
    self->request(self->state.deps.networks, engine_timeout, req)
      .then(on_ensured<network_ensured>(apps::lines::creating_network,
                                        s.network.name),
            on_error(apps::lines::create_network_failed, s.network.name));
  }

  void operator()(const steps::remove_network& s) const {
    // Waits for the answer: networks replies (void) even to a send.
    tell(self, apps::lines::removing_network, s.name);
    self
      ->request(self->state.deps.networks, engine_timeout,
                network_remove{s.app_uuid, s.name})
      .then([fan = fan] { fan->done(); },
            on_error(apps::lines::remove_network_failed, s.name));
  }

  void operator()(const steps::create_volume& s) const {
    volume_ensure req{s.app_id, s.app_uuid, s.volume};
    self->request(self->state.deps.volumes, engine_timeout, req)
      .then(
        on_ensured<volume_ensured>(apps::lines::creating_volume, s.volume.name),
        on_error(apps::lines::create_volume_failed, s.volume.name));
  }

  void operator()(const steps::remove_volume& s) const {
    tell(self, apps::lines::removing_volume, s.name);
    self
      ->request(self->state.deps.volumes, engine_timeout,
                volume_remove{s.app_id, s.name})
      .then([fan = fan] { fan->done(); },
            on_error(apps::lines::remove_volume_failed, s.name));
  }

  void operator()(const steps::stop_service& s) const {
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
        .then([fan = fan](const service_status&) { fan->done(); }, on_error());
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
    self->request(self->state.deps.engine, engine_timeout, req)
      .then([fan = fan] { fan->done(); },
            [self = self, fan = fan, object](const caf::error& e) {
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
    auto ctx = app_spec_context(spec_base(self), st.snap, app.uuid);
    auto spec = spec_for(app, svc, ctx, st.snap);
    if (!spec.ok())
      return fail("service " + svc.name + ": " + join(spec.errors));
    for (auto& w : spec.warnings)
      log_of(self).warn("apps", "service {}: {}", svc.name, w);
    auto& sup = supervisor_for(self, app.uuid, svc.name);
    sup.spec = make_apply(app, svc, spec, running, container_id);
    if (container_id.empty())
      log_of(self).info("apps", "Installing service '{}'", svc.name);
    self->request(sup.handle, apply_timeout, *sup.spec)
      .then([fan = fan](const std::string&) { fan->done(); }, on_error());
  }

  void operator()(const steps::start_service& s) const {
    start(s.app, s.service, s.container_id, !s.create_only);
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
          auto* sup = managing(me.self, id);
          if (sup == nullptr)
            return me.ok();
          // Same container, new name: the supervisor adopts it again.
          me.start(app, svc, id, sup->spec ? sup->spec->running : true);
        },
        on_error());
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
    auto& st = self->state;
    tell(self, system_event(apps::lines::taking_locks));
    auto r = take_locks(st.opts.lock_dir_base, s.app_id, s.services, s.force);
    if (!r.ok) {
      if (!r.holder.empty())
        st.status.locked_by = r.holder;
      st.lock_failure = r.error;
      return fail("Updates are locked: " + r.error);
    }
    st.status.locked_by.clear();
    ok();
  }

  void operator()(const steps::release_lock& s) const {
    tell(self, system_event(apps::lines::releasing_locks));
    release_locks(self->state.opts.lock_dir_base, s.app_id);
    ok();
  }

  void operator()(const steps::noop&) const {
    ok();
  }

  void operator()(const steps::update_commit& s) const {
    self->state.books.commits[s.app_uuid] = s.commit;
    view_changed(self);
    persist_kv(self, commit_prefix + s.app_uuid, s.commit);
    ok();
  }
};

void cleanup_images(self_ptr self) {
  auto& st = self->state;
  if (st.opts.local_mode || st.fetched.empty())
    return;
  image_cleanup req;
  if (st.target)
    for (auto& app : st.target->apps)
      for (auto& svc : app.services)
        req.keep.push_back(svc.image);
  for (auto& c : st.snap.containers)
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

void run_plan(self_ptr self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.generation)
    return finish_pass(self); // a newer target came: start over
  for (auto& app : st.target->apps) {
    st.books.lock_held[app.uuid]
      = agent_holds_lock(st.opts.lock_dir_base, app.app_id);
    st.books.user_locks[app.uuid]
      = user_locks(st.opts.lock_dir_base, app.app_id);
  }
  auto cs = build_current_state(st.snap, *st.target, st.books, spec_base(self));
  // An image whose fetch failed waits for its retry as if downloading, so
  // the pass waits too instead of planning the fetch again at once.
  for (auto& [image, at] : st.fetch_retry_at)
    if (self->clock().now() < at)
      cs.downloading.emplace(image, 0);
  for (auto& app : cs.apps) {
    if (find_app(*st.target, app.uuid) != nullptr)
      continue;
    st.books.lock_held[app.uuid]
      = agent_holds_lock(st.opts.lock_dir_base, app.app_id);
    app.lock_held = st.books.lock_held[app.uuid];
  }
  adopt(self, cs);
  plan_options po;
  po.local_mode = st.opts.local_mode;
  po.force = st.force;
  po.lock_override = truthy(st.target->config, "SUPERVISOR_OVERRIDE_LOCK")
                     || truthy(st.target->config, "OVERRIDE_LOCK");
  auto batch = plan(cs, *st.target, po);
  if (batch.empty()) {
    st.settled = true;
    if (st.status.state != "Idle")
      cleanup_images(self);
    set_state(self, "Idle");
    st.status.failures = 0;
    st.status.last_error.clear();
    st.status.locked_by.clear();
    st.backoff = 0ms;
    st.force = false;
    return finish_pass(self);
  }
  set_state(self, "Applying");
  if (only_noops(batch)) {
    for (auto& s : batch)
      log_of(self).debug("apps", "{}", describe(s));
    schedule_wait(self);
    return finish_pass(self);
  }
  for (auto& s : batch)
    if (!is_noop(s))
      log_of(self).info("apps", "{}", describe(s));
  auto fan
    = make_fan_in([self, generation](const std::vector<std::string>& errs) {
        if (!errs.empty())
          return fail_pass(self, join(errs));
        self->state.running = false;
        // Plan again at once: the batch changed the engine (an app action
        // that waited runs first, and ends with a pass).
        run_exclusive_waiting(self);
        request_pass(self);
        (void)generation;
      });
  for (auto& s : batch) {
    fan->add();
    std::visit(executor{self, fan}, s);
  }
  fan->seal();
}

// Whether a target service joins supervisor0 (the supervisor-api feature
// outside host, none and shared network modes).
bool needs_supervisor_network(const target_state& t) {
  for (auto& app : t.apps)
    for (auto& svc : app.services) {
      auto labels = apps::normalize_labels(svc.config.labels);
      auto f = labels.find("io.balena.features.supervisor-api");
      const auto& mode = svc.config.network_mode;
      if (f != labels.end() && apps::is_truthy(f->second) && mode != "host"
          && mode != "none" && mode.rfind("service:", 0) != 0
          && mode.rfind("container:", 0) != 0)
        return true;
    }
  return false;
}

// balena's supervisor0: the bridge on which containers reach the device API
// at 10.114.104.1. Made (once) when a service needs it and it is missing.
void ensure_supervisor_network(
  self_ptr self, const std::function<void(std::vector<std::string>)>& k) {
  auto& st = self->state;
  std::string name(apps::supervisor_network);
  bool present
    = std::any_of(st.snap.networks.begin(), st.snap.networks.end(),
                  [&](const network_info& n) { return n.name == name; });
  if (present || !st.target || !needs_supervisor_network(*st.target))
    return k({});
  network_create spec;
  spec.name = name;
  spec.driver = "bridge";
  network_ipam ipam;
  ipam.config.push_back({"10.114.104.0/25", "10.114.104.1", "", {}});
  spec.ipam = ipam;
  spec.options["com.docker.network.bridge.name"] = name;
  log_of(self).info("apps", "creating network {}", name);
  self->request(st.deps.engine, engine_timeout, network_create_req{spec})
    .then([k](const std::string&) { k({}); },
          [self, k, name](const caf::error& e) {
            k({"creating " + name + ": " + render(self, e)});
          });
}

void start_pass(self_ptr self) {
  auto& st = self->state;
  st.running = true;
  st.lock_failure.clear();
  ++st.status.passes;
  auto generation = st.generation;
  gather(self, [self, generation](const std::vector<std::string>& errs) {
    if (!errs.empty())
      return fail_pass(self, "reading the engine: " + join(errs));
    ensure_supervisor_network(
      self, [self, generation](const std::vector<std::string>& errs) {
        if (!errs.empty())
          return fail_pass(self, join(errs));
        run_plan(self, generation);
      });
  });
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
        auto& books = self->state.books;
        for (auto& [k, v] : kv) {
          if (k.rfind(commit_prefix, 0) == 0)
            books.commits[k.substr(commit_prefix.size())] = v;
          if (k.rfind(stopped_prefix, 0) == 0) {
            auto& names = books.user_stopped[k.substr(stopped_prefix.size())];
            size_t pos = 0;
            while (pos <= v.size()) {
              auto comma = v.find(',', pos);
              auto name = v.substr(pos, comma - pos);
              if (!name.empty())
                names.insert(name);
              if (comma == std::string::npos)
                break;
              pos = comma + 1;
            }
          }
        }
        fan->done();
      },
      [self, fan](const caf::error& e) { fan->done(render(self, e)); });
  fan->seal();
}

// -- the device API -------------------------------------------------------

// balena's wording (device-api/messages.ts).
const char* const app_not_found_message
  = "App not found: an app needs to be installed for this endpoint to "
    "work.\n\tIf you've recently moved this device from another app,\n\t"
    "please push an app and wait for it to be installed first.";
const char* const service_required_message
  = "serviceName or imageId parameters were not provided or the app is "
    "multi-container. Use the v2 service action endpoints.";
const char* const service_not_found_message
  = "Service not found, a container must exist for this endpoint to work";
const char* const target_service_not_found_message
  = "Service does not exist in target release";

apps_view make_view(self_ptr self, bool env) {
  auto& st = self->state;
  view_inputs in;
  in.target = &st.target;
  in.snap = &st.snap;
  in.books = &st.books;
  in.fetch_errors = &st.status.fetch_errors;
  in.applying = st.status.state != "Idle" || (st.target && !st.settled);
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

// A service of an app as it is on the device: it has a container.
struct current_service {
  std::string name;
  std::string container_id;
  int64_t image_id = 0;
};

std::vector<current_service> current_services(self_ptr self, int64_t app_id) {
  auto& st = self->state;
  const target_app* tapp
    = st.target ? find_app_by_id(*st.target, app_id) : nullptr;
  std::map<std::string, current_service> out;
  for (auto& c : st.snap.containers) {
    auto who = apps::service_from_container(c);
    if (!who || who->app_id != app_id || who->old)
      continue;
    out[who->service_name] = {who->service_name, c.id, who->image_id};
  }
  for (auto& [_, s] : st.supervisors) {
    bool same_app = s.last.app_id == app_id
                    || (tapp != nullptr && s.last.app_uuid == tapp->uuid);
    if (!same_app || s.last.container_id.empty())
      continue;
    auto& cs = out[s.last.service_name];
    cs.name = s.last.service_name;
    cs.container_id = s.last.container_id;
  }
  std::vector<current_service> list;
  for (auto& [name, cs] : out) {
    if (cs.image_id == 0 && tapp != nullptr)
      if (auto* svc = find_service(*tapp, name))
        cs.image_id = svc->image_id;
    list.push_back(cs);
  }
  return list;
}

std::string comma_list(const std::set<std::string>& names) {
  std::string out;
  for (auto& n : names)
    out += (out.empty() ? "" : ",") + n;
  return out;
}

// Records (and persists) whether a service was stopped through the API.
void set_user_stopped(self_ptr self, const std::string& uuid,
                      const std::string& service, bool stopped) {
  auto& names = self->state.books.user_stopped[uuid];
  bool changed
    = stopped ? names.insert(service).second : names.erase(service) > 0;
  if (changed)
    persist_kv(self, stopped_prefix + uuid, comma_list(names));
}

bool lock_override(self_ptr self) {
  auto& st = self->state;
  return st.target
         && (truthy(st.target->config, "SUPERVISOR_OVERRIDE_LOCK")
             || truthy(st.target->config, "OVERRIDE_LOCK"));
}

// Takes the app's update lock for an API action, unless bosun holds it
// already (an apply does). `taken`: whether this call took it.
caf::error lock_app(self_ptr self, int64_t app_id,
                    std::vector<std::string> services, bool force,
                    bool& taken) {
  auto& st = self->state;
  taken = false;
  if (agent_holds_lock(st.opts.lock_dir_base, app_id))
    return {};
  if (auto* app = st.target ? find_app_by_id(*st.target, app_id) : nullptr)
    for (auto& svc : app->services)
      services.push_back(svc.name);
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());
  auto r = take_locks(st.opts.lock_dir_base, app_id, services,
                      force || lock_override(self));
  if (!r.ok)
    return caf::make_error(apps_errc::updates_locked,
                           "Updates are locked: " + r.error);
  taken = true;
  return {};
}

void end_exclusive(self_ptr self);

caf::result<service_action_done> on_service_action(self_ptr self,
                                                   const service_action& a) {
  auto& st = self->state;
  auto cur = current_services(self, a.app_id);
  if (cur.empty())
    return caf::make_error(apps_errc::app_not_found, app_not_found_message);
  const current_service* pick = cur.size() == 1 ? &cur.front() : nullptr;
  if (pick == nullptr && a.service_name.empty() && !a.image_id)
    return caf::make_error(apps_errc::service_required,
                           service_required_message);
  for (auto& c : cur)
    if (pick == nullptr
        && ((a.image_id && c.image_id == *a.image_id)
            || (!a.service_name.empty() && c.name == a.service_name)))
      pick = &c;
  if (pick == nullptr)
    return caf::make_error(apps_errc::service_not_found,
                           service_not_found_message);
  const target_app* tapp
    = st.target ? find_app_by_id(*st.target, a.app_id) : nullptr;
  const target_service* tsvc = nullptr;
  if (tapp != nullptr)
    for (auto& s : tapp->services)
      if (tsvc == nullptr
          && (s.image_id == pick->image_id || s.name == pick->name))
        tsvc = &s;
  if (tsvc == nullptr)
    return caf::make_error(apps_errc::target_service_not_found,
                           target_service_not_found_message);
  bool taken = false;
  if (a.kind != service_action_kind::start) {
    std::vector<std::string> names;
    names.reserve(cur.size());
    for (auto& c : cur)
      names.push_back(c.name);
    if (auto err = lock_app(self, a.app_id, names, a.force, taken))
      return err;
  }
  auto uuid = tapp->uuid;
  auto name = pick->name;
  auto container = pick->container_id;
  auto app_id = a.app_id;
  auto rp = self->make_response_promise<service_action_done>();
  auto finish = [self, rp, taken, app_id,
                 name](const caf::error& e,
                       const std::string& container_id) mutable {
    if (taken)
      release_locks(self->state.opts.lock_dir_base, app_id);
    if (e)
      rp.deliver(caf::make_error(apps_errc::action_failed, render(self, e)));
    else
      rp.deliver(service_action_done{name, container_id});
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
    return rp;
  }
  auto& sup = it->second;
  if (sup.spec)
    sup.spec->running = a.kind != service_action_kind::stop;
  auto on_status
    = [finish](const service_status& s) mutable { finish({}, s.container_id); };
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
  return rp;
}

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
  for (auto& c : st.snap.containers) {
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
  auto& st = self->state;
  auto cur = current_services(self, a.app_id);
  std::vector<std::string> names;
  names.reserve(cur.size());
  for (auto& c : cur)
    names.push_back(c.name);
  bool taken = false;
  if (auto err = lock_app(self, a.app_id, names, a.force, taken)) {
    rp.deliver(err);
    return end_exclusive(self);
  }
  // The lock stays held: the pass that recreates the app runs under it and
  // releases it once the app is at its target.
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
      persist_kv(self, stopped_prefix + tapp->uuid, "");
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

caf::result<void> on_app_action(self_ptr self, const app_action& a) {
  auto& st = self->state;
  bool present = !current_services(self, a.app_id).empty();
  for (auto& v : st.snap.volumes)
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

app_manager_actor::behavior_type app_manager_impl(self_ptr self,
                                                  app_manager_deps deps,
                                                  app_manager_options opts) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.opts = std::move(opts);
  if (!st.opts.log)
    st.opts.log = std::make_shared<const logger>();
  self->send(st.deps.images,
             image_subscribe{caf::actor_cast<image_listener_actor>(self)});
  self->send(st.deps.engine,
             engine_subscribe{caf::actor_cast<engine_listener_actor>(self)});
  self->set_exit_handler([self](caf::exit_msg& dm) {
    auto& st = self->state;
    for (auto it = st.supervisors.begin(); it != st.supervisors.end(); ++it) {
      if (it->second.handle.address() != dm.source)
        continue;
      auto entry = std::move(it->second);
      st.supervisors.erase(it);
      view_changed(self);
      if (!dm.reason || dm.reason == caf::exit_reason::normal)
        return;
      auto why = render(self, dm.reason);
      if (!st.respawns.allow(std::chrono::steady_clock::now())) {
        log_of(self).error("apps",
                           "service supervisor of {} failed too often ({}); "
                           "giving up",
                           entry.last.service_name, why);
        return self->quit(dm.reason);
      }
      log_of(self).warn("apps",
                        "service supervisor of {} failed ({}); "
                        "respawning it",
                        entry.last.service_name, why);
      auto& fresh
        = supervisor_for(self, entry.last.app_uuid, entry.last.service_name);
      fresh.last = entry.last;
      if (entry.spec) {
        fresh.spec = entry.spec;
        fresh.spec->container_id
          = entry.last.container_id.empty()
              ? std::nullopt
              : std::optional<std::string>{entry.last.container_id};
        self->request(fresh.handle, apply_timeout, *fresh.spec)
          .then([](const std::string&) {}, [](const caf::error&) {});
      }
      return;
    }
    // Not one of ours: root (or a peer we are linked to) stops us.
    if (dm.reason && dm.reason != caf::exit_reason::normal)
      self->quit(dm.reason);
  });
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
      auto& st = self->state;
      if (req.env)
        return make_view(self, true);
      auto now = self->clock().now();
      if (!st.view || now - st.view_at >= view_max_age) {
        st.view = std::make_shared<const apps_view>(make_view(self, false));
        st.view_at = now;
      }
      return *st.view;
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
      it->second.last = s;
      view_changed(self);
      // A dependency that became healthy may unblock a waiting pass; a
      // failed pass waits for its backoff instead.
      if (st.status.state != "Idle" && st.status.failures == 0)
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
    [self](const engine_event&) {
      // Containers are watched by their supervisors; nothing to do here.
      (void)self;
    },
    [self](const engine_status& s) {
      if (s.state == engine_state::up)
        request_pass(self);
    },
    [self](const handover_tick& t) {
      auto& st = self->state;
      auto it = st.handovers.find(t.id);
      if (it == st.handovers.end())
        return;
      namespace fs = std::filesystem;
      std::error_code ec;
      bool complete = false;
      for (auto* name : {"handover-complete", "resin-kill-me"}) {
        auto file = fs::path(it->second.lock_dir) / name;
        if (fs::exists(file, ec)) {
          fs::remove(file, ec);
          complete = true;
        }
      }
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

app_manager_actor spawn_app_manager(caf::actor_system& sys,
                                    app_manager_deps deps,
                                    app_manager_options opts) {
  return sys.spawn(app_manager_impl, std::move(deps), std::move(opts));
}

} // namespace bosun
