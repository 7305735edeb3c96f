#pragma once

// The real app_manager on CAF's deterministic scheduler (virtual time),
// against an in-memory engine (fake_engine.hpp), the real volumes and
// networks actors over it, and scripted stand-ins for db, images and logs.
// Nothing sleeps: sched.run() lets every actor run until all are idle, and
// advance() moves the virtual clock.
#include "actors/apps/app_manager.hpp"
#include "actors/volumes/networks.hpp"
#include "actors/volumes/volumes.hpp"
#include "tests/unit/app_manager/fake_engine.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>
#include <filesystem>
#include <set>
#include <unistd.h>

namespace bosun::amtest {

using namespace std::chrono_literals;

inline caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

// The db's target and config table, in memory.
struct stored {
  std::optional<target_state> target;
  std::map<std::string, std::string> kv;
};

inline db_actor::behavior_type fake_db(db_actor::pointer,
                                       std::shared_ptr<stored> s) {
  using none = std::vector<api_key_record>;
  return {
    [s](caf::get_atom, config_kv_atom, const std::string& k) {
      auto i = s->kv.find(k);
      return i == s->kv.end() ? std::nullopt
                              : std::optional<std::string>{i->second};
    },
    [s](caf::get_atom, config_kv_atom) { return s->kv; },
    [s](caf::put_atom, config_kv_atom, const std::string& k,
        const std::string& v) { s->kv[k] = v; },
    [s](caf::put_atom, config_kv_atom,
        const std::map<std::string, std::string>& kv) {
      for (auto& [k, v] : kv)
        s->kv[k] = v;
    },
    [s](caf::delete_atom, config_kv_atom, const std::string& k) {
      s->kv.erase(k);
    },
    [s](caf::get_atom, target_atom) { return s->target; },
    [s](caf::put_atom, target_atom, target_state& t) {
      s->target = std::move(t);
    },
    [](caf::get_atom, api_key_atom) { return none{}; },
    [](caf::put_atom, api_key_atom, const api_key_record&) {},
    [](caf::get_atom, device_tags_atom) { return std::vector<device_tag>{}; },
    [](caf::put_atom, device_tags_atom,
       const std::map<std::string, std::string>&) {},
  };
}

// Images: a fetch puts the image on the fake engine at once, or fails with
// the reason scripted in `fail`.
// With `hold`, those images' fetches are never answered (downloading).
struct images_script {
  std::map<std::string, std::string> fail; // image → why
  std::set<std::string> hold;
  std::vector<std::string> fetches;
};

inline images_actor::behavior_type
fake_images(images_actor::pointer self, std::shared_ptr<world> w,
            std::shared_ptr<images_script> s) {
  return {
    [self, w, s](image_fetch& f) -> caf::result<image_fetched> {
      s->fetches.push_back(f.image);
      if (auto i = s->fail.find(f.image); i != s->fail.end())
        return caf::make_error(images_errc::fetch_failed, i->second);
      if (s->hold.count(f.image) != 0)
        return self->make_response_promise<image_fetched>();
      image_inspect ii;
      ii.id = "sha256:" + f.image;
      ii.repo_tags = {f.image};
      w->images[f.image] = ii;
      return image_fetched{f.image, ii.id, true};
    },
    [](image_cleanup&) { return image_cleanup_result{}; },
    [](image_subscribe&) {},
    [](caf::get_atom) { return images_telemetry{}; },
  };
}

using line_log = std::vector<system_log>;

inline caf::behavior line_collector(caf::event_based_actor*,
                                    std::shared_ptr<line_log> out) {
  return {[out](system_log& l) { out->push_back(std::move(l)); }};
}

inline target_service service(const std::string& name,
                              std::map<std::string, std::string> env = {}) {
  target_service s;
  s.name = name;
  s.service_id
    = static_cast<int64_t>(std::hash<std::string>{}(name) % 1000) + 1;
  s.image_id = s.service_id + 100;
  s.image = "registry.local/" + name + ":1";
  s.config.environment = std::move(env);
  return s;
}

inline target_state target_of(std::vector<target_service> services,
                              int64_t app_id = 1) {
  target_app app;
  app.app_id = app_id;
  app.uuid = std::to_string(app_id);
  app.name = "app" + app.uuid;
  app.commit = "abc";
  app.release_id = 7;
  app.services = std::move(services);
  std::sort(app.services.begin(), app.services.end(),
            [](auto& a, auto& b) { return a.name < b.name; });
  target_volume v;
  v.name = "data";
  app.volumes.push_back(v);
  target_state t;
  t.source = target_source::local;
  t.apps.push_back(std::move(app));
  return t;
}

struct deterministic {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};
  std::filesystem::path dir;
  std::shared_ptr<world> w = std::make_shared<world>();
  std::shared_ptr<stored> db_state = std::make_shared<stored>();
  std::shared_ptr<images_script> img = std::make_shared<images_script>();
  std::shared_ptr<line_log> lines = std::make_shared<line_log>();
  engine_actor engine = sys.spawn(fake_engine_impl, w);
  db_actor db = sys.spawn(fake_db, db_state);
  images_actor images = sys.spawn(fake_images, w, img);
  volumes_actor volumes = spawn_volumes(sys, engine);
  networks_actor networks = spawn_networks(sys, engine);
  logs_actor logs
    = caf::actor_cast<logs_actor>(sys.spawn(line_collector, lines));
  app_manager_deps deps;
  app_manager_options opts;
  app_manager_actor am;

  explicit deterministic(bool local_mode = true) {
    static int n = 0;
    dir = std::filesystem::temp_directory_path()
          / ("bosun-amtest-" + std::to_string(::getpid()) + "-"
             + std::to_string(++n));
    std::filesystem::create_directories(dir);
    deps = {engine, db, images, volumes, networks, {}, logs};
    opts.local_mode = local_mode;
    opts.lock_dir_base = dir.string();
    w->holder = sys.spawn(list_holder, w);
    am = spawn_app_manager(sys, deps, opts);
    sched.run();
  }

  ~deterministic() {
    for (caf::actor a :
         {caf::actor_cast<caf::actor>(am), caf::actor_cast<caf::actor>(engine),
          caf::actor_cast<caf::actor>(db), caf::actor_cast<caf::actor>(images),
          caf::actor_cast<caf::actor>(volumes),
          caf::actor_cast<caf::actor>(networks),
          caf::actor_cast<caf::actor>(logs), w->holder})
      self->send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  // Runs every actor until all are idle; a pass loop that never ends
  // (e.g. re-creating containers forever) fails instead of hanging.
  void run() {
    auto n = sched.run(50000);
    REQUIRE_MESSAGE(n < 50000, "the actors never went idle");
  }

  void advance(std::chrono::milliseconds d) {
    sched.advance_time(d);
    run();
  }

  // Lets the pass loop (and its 1 s re-plans while waiting) settle.
  void settle() {
    run();
    for (int i = 0; i < 20; ++i)
      advance(1s);
  }

  template <class T, class Msg>
  caf::expected<T> ask(Msg msg) {
    auto h = self->request(am, caf::infinite, std::move(msg));
    run();
    if (self->mailbox().empty())
      return caf::make_error(caf::sec::request_timeout, "no reply");
    caf::expected<T> out{caf::make_error(caf::sec::unexpected_response)};
    h.receive([&](T& x) { out = std::move(x); },
              [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  // For requests answered with nothing: the error, or none.
  template <class Msg>
  caf::error ask_void(Msg msg) {
    auto h = self->request(am, caf::infinite, std::move(msg));
    run();
    if (self->mailbox().empty())
      return caf::make_error(caf::sec::request_timeout, "no reply");
    caf::error out;
    h.receive([] {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  uint64_t apply(target_state t, bool force = false) {
    auto g = ask<uint64_t>(apply_target{std::move(t), force});
    REQUIRE_MESSAGE(g, sys.render(g.error()));
    return *g;
  }

  apps_status status() {
    auto s = ask<apps_status>(caf::get_atom_v);
    REQUIRE_MESSAGE(s, sys.render(s.error()));
    return *s;
  }

  apps_view view() {
    advance(1s); // past the view cache's 250 ms
    auto v = ask<apps_view>(apps_view_request{});
    REQUIRE_MESSAGE(v, sys.render(v.error()));
    return *v;
  }

  caf::expected<service_action_done> act(service_action_kind kind,
                                         const std::string& service,
                                         bool force = false) {
    service_action a;
    a.kind = kind;
    a.app_id = 1;
    a.service_name = service;
    a.force = force;
    return ask<service_action_done>(a);
  }

  // bosun restarts: a new app_manager over the same engine, db and locks.
  void restart_manager() {
    self->send_exit(am, caf::exit_reason::user_shutdown);
    run();
    w->subscribers.clear();
    am = spawn_app_manager(sys, deps, opts);
    run();
  }

  // Answers the container lists held so far (world::hold_lists).
  void release_lists() {
    self->send(w->holder, caf::ok_atom_v);
    run();
  }

  bool running(const std::string& service) const {
    auto id = w->id_of(service);
    return !id.empty() && w->containers.at(id).running;
  }

  std::vector<std::string> line_texts() const {
    std::vector<std::string> out;
    for (auto& l : *lines)
      out.push_back(l.message);
    return out;
  }
};

} // namespace bosun::amtest
