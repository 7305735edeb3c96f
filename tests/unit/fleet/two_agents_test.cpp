// Two whole agents (start_agent: root, db, app_manager, images, volumes,
// networks, logs, telemetry) side by side in one actor system, each with its
// own data dir and its own simulated engine, in local mode. Each gets its
// own target; nothing of one may show up in the other: containers and
// images on its engine, telemetry, logs (the log stream, the persistent log
// and the agent's own log), the database and the API keys.
#include "actors/agent.hpp"
#include "messages/api_keys.hpp"
#include "messages/app_manager.hpp"
#include "messages/db.hpp"
#include "messages/logs.hpp"
#include "messages/telemetry.hpp"
#include "tests/support/eventually.hpp"
#include "tools/fleet-sim/sim_engine.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unistd.h>

namespace bosun::fleettest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// What a local log reader got; filled on the reader's thread.
struct lines_seen {
  std::mutex m;
  std::vector<std::string> messages;

  std::vector<std::string> copy() {
    std::lock_guard<std::mutex> g{m};
    return messages;
  }
};

log_reader_actor::behavior_type reader(log_reader_actor::pointer self,
                                       logs_actor logs,
                                       std::shared_ptr<lines_seen> out) {
  self->send(logs, log_subscribe{self});
  self->send(logs, log_pull{self});
  return {[self, logs, out](log_batch& b) {
    {
      std::lock_guard<std::mutex> g{out->m};
      for (const auto& e : b.entries)
        out->messages.push_back(e->message);
    }
    self->send(logs, log_pull{self});
  }};
}

sim::sim_options quick() {
  sim::sim_options o;
  o.timing.create = 5ms;
  o.timing.start = 5ms;
  o.timing.stop = 5ms;
  o.timing.remove = 1ms;
  o.registry.latency = 2ms;
  o.registry.bandwidth = 1e9;
  o.registry.image_size = 1'000'000;
  return o;
}

target_state target_for(int64_t app_id, const std::string& service) {
  target_service s;
  s.name = service;
  s.service_id = app_id * 10;
  s.image_id = app_id * 100;
  s.image = "reg.local/" + service + ":1";
  s.config.environment = {{"WHO", service}};
  target_app app;
  app.app_id = app_id;
  app.uuid = "uuid" + std::to_string(app_id);
  app.name = "app" + std::to_string(app_id);
  app.commit = "c" + std::to_string(app_id);
  app.release_id = app_id;
  app.services.push_back(s);
  target_volume v;
  v.name = "data";
  app.volumes.push_back(v);
  target_state t;
  t.source = target_source::local;
  t.apps.push_back(std::move(app));
  return t;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct two_agents {
  asio::io_context io; // outlives the actor system, as in main
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.max-threads", 2)};
  caf::scoped_actor self{sys};
  size_t baseline = sys.registry().running(); // the test's own actors

  struct one {
    std::string service;
    int64_t app_id = 0;
    fs::path dir;
    int log_fd = -1;
    sim::sim_engine_actor engine; // as root spawned it
    agent a;
    std::shared_ptr<lines_seen> lines = std::make_shared<lines_seen>();
    log_reader_actor reader;
  };
  one alpha;
  one beta;

  two_agents() {
    start(alpha, "alpha", 1, 11);
    start(beta, "beta", 2, 22);
  }

  ~two_agents() {
    for (auto* o : {&alpha, &beta}) {
      self->send_exit(o->reader, caf::exit_reason::user_shutdown);
      self->monitor(o->a.root);
      self->send_exit(o->a.root, caf::exit_reason::user_shutdown);
      self->receive([](caf::down_msg&) {},
                    caf::after(10s) >> [] { FAIL("root did not stop"); });
    }
    // Children (the logs actor's last flush) outlive root's down message.
    // (await_all_actors_done would wait for the scoped actor too.)
    test::eventually(
      10s, [&] { return sys.registry().running() <= baseline; },
      "every agent actor stopped");
    for (auto* o : {&alpha, &beta}) {
      ::close(o->log_fd);
      std::error_code ec;
      fs::remove_all(o->dir, ec);
    }
  }

  void start(one& o, const std::string& service, int64_t app_id,
             uint64_t seed) {
    o.service = service;
    o.app_id = app_id;
    o.dir = fs::temp_directory_path()
            / ("bosun-fleet-" + std::to_string(::getpid()) + "-" + service);
    fs::remove_all(o.dir);
    fs::create_directories(o.dir);
    o.log_fd = ::open((o.dir / "agent.log").c_str(),
                      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(o.log_fd >= 0);
    config c;
    c.data_dir = o.dir.string();
    c.config_path = (o.dir / "config.json").string(); // absent: unmanaged
    c.local_mode = true;
    c.persistent_logging = true;
    c.engine = "unix:///nonexistent/docker.sock"; // never dialled
    auto opts = quick();
    opts.seed = seed;
    opts.hostname = service;
    agent_deps deps{io,
                    std::make_shared<const logger>(log_level::debug, o.log_fd)};
    deps.engine = [opts](caf::actor_system& s) -> engine_actor {
      return sim::spawn_sim_engine(s, opts);
    };
    auto started = start_agent(sys, c, deps);
    REQUIRE_MESSAGE(std::holds_alternative<agent>(started),
                    std::get<std::string>(started));
    o.a = std::get<agent>(started);
    o.engine = child<sim::sim_engine_actor>(o, "engine");
    o.reader = sys.spawn(reader, child<logs_actor>(o, "logs"), o.lines);
  }

  template <class Handle>
  Handle child(one& o, const std::string& name) {
    caf::actor out;
    self->request(o.a.root, 5s, caf::get_atom_v, name)
      .receive([&](caf::actor& x) { out = x; },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    REQUIRE_MESSAGE(out, std::string{name + " is not running"});
    return caf::actor_cast<Handle>(out);
  }

  template <class T, class Handle, class... Ts>
  T ask(const Handle& h, Ts&&... xs) {
    T out{};
    self->request(h, 5s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  container_list containers(one& o) {
    return ask<container_list>(o.engine, container_list_req{true, {}});
  }

  // Applies the agent's own target and waits until its one container runs.
  void apply(one& o) {
    auto am = child<app_manager_actor>(o, "app_manager");
    ask<uint64_t>(am, apply_target{target_for(o.app_id, o.service), false});
    test::eventually(
      20s,
      [&](std::string& last) {
        auto cs = containers(o);
        last = std::to_string(cs.size()) + " containers";
        if (cs.size() != 1 || cs[0].state != "running")
          return false;
        auto st = ask<apps_status>(am, caf::get_atom_v);
        last += ", " + st.state;
        return st.state == "Idle";
      },
      o.service + " converged");
  }
};

} // namespace

TEST_SUITE("two agents in one process") {
  TEST_CASE_FIXTURE(two_agents, "each agent's target, containers, telemetry, "
                                "logs, database and keys stay its own") {
    apply(alpha);
    apply(beta);

    // Containers and images: each engine holds its own agent's only.
    for (auto* o : {&alpha, &beta}) {
      auto cs = containers(*o);
      REQUIRE(cs.size() == 1);
      CHECK(cs[0].names[0].rfind("/" + o->service + "_", 0) == 0);
      CHECK(cs[0].labels.at("io.balena.app-id") == std::to_string(o->app_id));
      auto imgs = ask<image_list>(o->engine, image_list_req{});
      REQUIRE(imgs.size() == 1);
      CHECK(imgs[0].repo_tags == string_list{"reg.local/" + o->service + ":1"});
      auto vols = ask<volume_list>(o->engine, volume_list_req{});
      REQUIRE(vols.volumes.size() == 1);
      CHECK(vols.volumes[0].name == std::to_string(o->app_id) + "_data");
    }

    // Logs: lines written on one engine reach that agent's readers only.
    self->send(alpha.engine, sim::sim_write_logs{"alpha", 3, false});
    self->send(beta.engine, sim::sim_write_logs{"beta", 2, false});
    auto count = [](one& o, const std::string& what) {
      size_t n = 0;
      for (const auto& m : o.lines->copy())
        n += m.find(what) != std::string::npos ? 1 : 0;
      return n;
    };
    test::eventually(
      10s, [&] { return count(alpha, "alpha_") >= 4; },
      "alpha's lines at alpha's reader");
    test::eventually(
      10s, [&] { return count(beta, "beta_") >= 3; },
      "beta's lines at beta's reader");
    CHECK(count(alpha, "beta") == 0);
    CHECK(count(beta, "alpha") == 0);

    // Telemetry: each agent's snapshot walks its own tree.
    for (auto* o : {&alpha, &beta}) {
      auto* other = o == &alpha ? &beta : &alpha;
      auto tel = child<telemetry_actor>(*o, "telemetry");
      auto snap = ask<telemetry_snapshot>(tel, collect_telemetry{o->a.root});
      REQUIRE(snap.apps);
      REQUIRE(snap.apps->services.size() == 1);
      CHECK(snap.apps->services[0].service_name == o->service);
      REQUIRE(snap.engine);
      CHECK(snap.engine->state == engine_state::up);
      bool own = false;
      for (const auto& r : snap.actors) {
        CHECK(r.name.find(other->service) == std::string::npos);
        own = own || r.name.find(o->service) != std::string::npos;
      }
      CHECK(own);
    }

    // Database and keys: own uuid, own target, own key.
    CHECK(alpha.a.uuid != beta.a.uuid);
    CHECK(alpha.a.api_key != beta.a.api_key);
    for (auto* o : {&alpha, &beta}) {
      auto* other = o == &alpha ? &beta : &alpha;
      auto db = child<db_actor>(*o, "db");
      auto stored
        = ask<std::optional<target_state>>(db, caf::get_atom_v, target_atom_v);
      REQUIRE(stored);
      REQUIRE(stored->apps.size() == 1);
      CHECK(stored->apps[0].app_id == o->app_id);
      auto uuid = ask<std::optional<std::string>>(
        db, caf::get_atom_v, config_kv_atom_v, std::string{"uuid"});
      CHECK(uuid == std::optional<std::string>{o->a.uuid});
      auto keys = child<api_keys_actor>(*o, "api_keys");
      CHECK(ask<std::string>(keys, caf::get_atom_v, global_key_atom_v)
            == o->a.api_key);
      CHECK(!ask<std::optional<api_key_record>>(
        keys, caf::get_atom_v, api_key_atom_v, other->a.api_key));
    }

    // Files: each data dir's persistent log and agent log name only its own.
    for (auto* o : {&alpha, &beta}) {
      auto* other = o == &alpha ? &beta : &alpha;
      test::eventually(
        10s,
        [&] {
          return slurp(o->dir / "logs" / "bosun.log").find(o->service + "_")
                 != std::string::npos;
        },
        o->service + "'s persistent log");
      auto plog = slurp(o->dir / "logs" / "bosun.log");
      CHECK(plog.find(other->service) == std::string::npos);
      auto alog = slurp(o->dir / "agent.log");
      CHECK(alog.find(o->service) != std::string::npos);
      CHECK(alog.find(other->service) == std::string::npos);
      CHECK(alog.find(other->a.uuid) == std::string::npos);
    }
  }
}

} // namespace bosun::fleettest
