#pragma once

// Whole agents (start_agent: root, db, app_manager, images, volumes,
// networks, logs, telemetry) in one actor system, on the threaded scheduler,
// each with its own data dir and simulated engine (whose model, the
// simulated device, outlives the agent), in local mode; or managed, against
// a scripted cloud (cloud_stub, the injected transport), with a seed, a
// time scale and simulated host facts. Conditions are awaited with
// deadlines (tests/support/eventually.hpp).
#include "actors/agent.hpp"
#include "messages/api_keys.hpp"
#include "messages/app_manager.hpp"
#include "messages/core.hpp"
#include "messages/db.hpp"
#include "messages/logs.hpp"
#include "messages/telemetry.hpp"
#include "tests/support/eventually.hpp"
#include "tools/fleet-sim/sim_engine.hpp"
#include "tools/fleet-sim/sim_host.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <deque>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unistd.h>

namespace bosun::fleettest {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// What a local log reader got; filled on the reader's thread.
struct lines_seen {
  std::mutex m;
  std::vector<std::string> messages;
  std::vector<int64_t> system_stamps; // timestamp_ms of the agent's own lines

  std::vector<std::string> copy() {
    std::lock_guard<std::mutex> g{m};
    return messages;
  }
};

inline log_reader_actor::behavior_type reader(log_reader_actor::pointer self,
                                              logs_actor logs,
                                              std::shared_ptr<lines_seen> out) {
  self->send(logs, log_subscribe{self});
  self->send(logs, log_pull{self});
  return {[self, logs, out](log_batch& b) {
    {
      std::lock_guard<std::mutex> g{out->m};
      for (const auto& e : b.entries) {
        out->messages.push_back(e->message);
        if (e->is_system)
          out->system_stamps.push_back(e->timestamp_ms);
      }
    }
    self->send(logs, log_pull{self});
  }};
}

inline sim::sim_options quick() {
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

inline target_state target_for(int64_t app_id, const std::string& service) {
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

// A cloud for managed agents, answering at once on the caller's thread:
// each device's target (no apps), 200 {} to anything else. Keeps every
// request with the uuid of the agent that sent it.
struct cloud_stub {
  std::mutex m;
  std::vector<std::pair<std::string, cloud_request>> seen;

  // The bodies `uuid` sent to `target` with `method`.
  std::vector<std::string> bodies(const std::string& uuid,
                                  const std::string& method,
                                  const std::string& target) {
    std::lock_guard<std::mutex> g{m};
    std::vector<std::string> out;
    for (auto& [u, r] : seen)
      if (u == uuid && r.method == method && r.target == target)
        out.push_back(r.body);
    return out;
  }

  static cloud_transport_factory for_device(std::shared_ptr<cloud_stub> stub,
                                            std::string uuid) {
    return [stub, uuid](std::string_view, std::string, std::string*) {
      return std::optional<cloud_transport>{
        [stub, uuid](cloud_request r, std::function<void(cloud_reply)> done) {
          cloud_reply out;
          out.status = 200;
          out.body = "{}";
          if (r.method == "GET"
              && r.target == "/device/v3/" + uuid + "/state") {
            out.etag = "\"1\"";
            out.body
              = R"({")" + uuid + R"(":{"name":"dev","config":{},"apps":{}}})";
          }
          {
            std::lock_guard<std::mutex> g{stub->m};
            stub->seen.emplace_back(uuid, std::move(r));
          }
          done(std::move(out));
        }};
    };
  }
};

// What start() gives an agent beyond its service: managed ones talk to
// `cloud` as `uuid`.
struct agent_setup {
  std::shared_ptr<cloud_stub> cloud; // null: local mode, unmanaged
  std::string uuid;
  double scale = 1;
  std::optional<sim::sim_host_facts> host;
  std::function<int64_t()> wall_clock_ms; // empty: the system clock
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct agents {
  asio::io_context io; // outlives the actor system, as in main
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.max-threads", 2)};
  caf::scoped_actor self{sys};
  size_t baseline = sys.registry().running(); // the test's own actors
  // For the agents started next: fleet-sim's footprint (tools/fleet-sim/
  // agents.cpp: blocking actors on the scheduler, no D-Bus, the rollback
  // journal), and the D-Bus address ("": the config's default).
  bool lean = false;
  std::string dbus_address;

  struct one {
    std::string service;
    int64_t app_id = 0;
    fs::path dir;
    int log_fd = -1;
    sim::sim_engine_actor engine; // as root spawned it
    agent a;
    std::shared_ptr<lines_seen> lines = std::make_shared<lines_seen>();
    log_reader_actor reader;
    // The simulated device: outlives the agent (restart from its data dir).
    std::shared_ptr<sim::world> device;
    bool running = false;
  };
  std::deque<one> all; // stable references

  // A new agent slot (derived fixtures: `one& alpha = add();`).
  one& add() {
    return all.emplace_back();
  }

  ~agents() {
    for (auto& o : all)
      stop(o);
    for (auto& o : all) {
      if (o.log_fd >= 0)
        ::close(o.log_fd);
      std::error_code ec;
      if (!o.dir.empty())
        fs::remove_all(o.dir, ec);
    }
  }

  // Stops the agent and waits until every actor of it is gone.
  void stop(one& o) {
    if (!o.running)
      return;
    o.running = false;
    self->send_exit(o.reader, caf::exit_reason::user_shutdown);
    self->monitor(o.a.root);
    self->send_exit(o.a.root, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {},
                  caf::after(10s) >> [] { FAIL("root did not stop"); });
    // Children (the logs actor's last flush) outlive root's down message.
    // (await_all_actors_done would wait for the scoped actor too.)
    size_t others = 0;
    for (auto& x : all)
      others += x.running ? 1 : 0;
    test::eventually(
      10s, [&] { return others > 0 || sys.registry().running() <= baseline; },
      "every agent actor stopped");
  }

  // Starts (or restarts, from the same data dir and simulated device) the
  // agent `o`.
  void start(one& o, const std::string& service, int64_t app_id, uint64_t seed,
             const agent_setup& setup = {}) {
    bool again = !o.dir.empty();
    o.service = service;
    o.app_id = app_id;
    if (!again) {
      o.dir = fs::temp_directory_path()
              / ("bosun-fleet-" + std::to_string(::getpid()) + "-" + service);
      fs::remove_all(o.dir);
      fs::create_directories(o.dir);
      o.log_fd = ::open((o.dir / "agent.log").c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      REQUIRE(o.log_fd >= 0);
      o.device = std::make_shared<sim::world>(seed, service);
    }
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
    deps.seed = seed;
    deps.log_prefix = true;
    deps.wall_clock_ms = setup.wall_clock_ms;
    if (setup.host)
      deps.host = sim::make_sim_host(*setup.host);
    if (lean) {
      deps.blocking_detached = false;
      deps.no_bus = "simulated device";
      deps.db_journal = store::options::journal_kind::rollback;
    }
    if (!dbus_address.empty())
      c.dbus_address = dbus_address;
    if (setup.cloud) {
      c.local_mode = false;
      // Cloud requests go to the stub; the log stream is refused (loopback).
      c.api_endpoint = "http://127.0.0.1:1";
      c.uuid = setup.uuid;
      c.device_api_key = "dk" + setup.uuid;
      c.device_id = app_id * 1000;
      c.registered_at = 1700000000000;
      c.application_id = app_id;
      c.device_type = "generic-aarch64";
      c.app_update_poll_interval
        = std::chrono::milliseconds{static_cast<int64_t>(900000 / setup.scale)};
      deps.time_scale = setup.scale;
      deps.cloud_transport = cloud_stub::for_device(setup.cloud, setup.uuid);
    }
    deps.engine
      = [opts, device = o.device](caf::actor_system& s) -> engine_actor {
      return sim::spawn_sim_engine(s, opts, device);
    };
    auto started = start_agent(sys, c, deps);
    REQUIRE_MESSAGE(std::holds_alternative<agent>(started),
                    std::get<std::string>(started));
    o.a = std::get<agent>(started);
    o.running = true;
    auto cores = core(o);
    REQUIRE(cores.engine);
    REQUIRE(cores.logs);
    // The engine this fixture injected: its simulated one.
    o.engine = caf::actor_cast<sim::sim_engine_actor>(cores.engine);
    o.reader = sys.spawn(reader, cores.logs, o.lines);
  }

  core_actors core(one& o) {
    core_actors out;
    self->request(o.a.root, 5s, caf::get_atom_v, core_atom_v)
      .receive([&](core_actors& c) { out = std::move(c); },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
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
    auto am = core(o).app_manager;
    ask<uint64_t>(am, apply_target{target_for(o.app_id, o.service), false});
    test::eventually(
      20s,
      [&](std::string& last) {
        auto cs = containers(o);
        last = std::to_string(cs.size()) + " containers";
        if (cs.size() != 1 || cs[0].state != "running")
          return false;
        auto st = ask<apps_status>(am, caf::get_atom_v);
        last += std::string(", ") + to_string(st.state);
        return st.state == apps_state::idle;
      },
      o.service + " converged");
  }
};

} // namespace bosun::fleettest
