// Conformance of the simulated engine (tools/fleet-sim) against dockerd
// (issue 14): one scenario drives a whole agent (start_agent, local mode,
// its own data dir) through apply, env change, a crash from outside and an
// agent restart, once over the simulated engine and once over the real
// engine actor at the private dockerd (DOCKER_HOST), and the two sequences
// of observations must be equal.
//
// An observation is normalized: per container its name, the io.balena.*
// labels that matter, env var V and whether it runs; the app_manager's
// state and per-service phase and restart count. Container ids, timestamps
// and restart delays differ between engines by nature (ids are random on
// dockerd and seeded in the simulation, times are the wall clock's or the
// simulated clock's), so they are left out; ids are only compared within
// one run (the agent restart must adopt the same containers). Image ids
// differ too (the simulated registry makes its own), so they are left out;
// the image's config, which containers inherit (Env PATH=/bin), is given
// to the simulated registry as the test image has it.
#include "actors/agent.hpp"
#include "messages/app_manager.hpp"
#include "messages/core.hpp"
#include "tests/support/env.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"
#include "tools/fleet-sim/sim_engine.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace bosun::conformance {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int64_t app_id = 7314;
const std::string app_label = std::to_string(app_id);

// The app's volumes are "<appId>_<name>", its networks "<appUuid>_<name>".
bool ours(const std::string& name) {
  return name.rfind(app_label + "_", 0) == 0
         || name.rfind("conformance_", 0) == 0;
}

using engine_factory = std::function<engine_actor(caf::actor_system&)>;

// The 2-service app: `a` and `b` sleep; `b_env` is b's V, `commit` the
// release. Both stop on SIGKILL (busybox sleep as pid 1 ignores SIGTERM).
target_state app(const std::string& image, const std::string& commit,
                 const std::string& b_env, bool with_app = true) {
  target_state t;
  t.source = target_source::local;
  if (!with_app)
    return t;
  target_app a;
  a.app_id = app_id;
  a.uuid = "conformance";
  a.name = "conformance";
  a.commit = commit;
  a.release_id = commit == "c1" ? 1 : 2;
  for (auto name : {"a", "b"}) {
    target_service s;
    s.name = name;
    s.service_id = name[0] == 'a' ? 11 : 12;
    s.image_id = 21;
    s.image = image;
    s.config.command = std::vector<std::string>{"sleep", "3600"};
    s.config.stop_signal = "SIGKILL";
    s.config.environment = {{"V", name[0] == 'a' ? "1" : b_env}};
    a.services.push_back(s);
  }
  target_volume v;
  v.name = "data";
  a.volumes.push_back(v);
  t.apps.push_back(std::move(a));
  return t;
}

// The container events of service `a` the engine sent, as
// "action signal=… exitCode=…" (no ids, no times).
struct events_seen {
  std::mutex m;
  std::vector<std::string> lines;
};

engine_listener_actor::behavior_type
listener(engine_listener_actor::pointer, std::shared_ptr<events_seen> out) {
  return {[out](const engine_event& e) {
            auto attr = [&](const char* k) {
              auto i = e.attributes.find(k);
              return i == e.attributes.end() ? std::string{}
                                             : " " + i->first + "=" + i->second;
            };
            auto svc = e.attributes.find("io.balena.service-name");
            if (e.type != "container" || svc == e.attributes.end()
                || svc->second != "a")
              return;
            std::lock_guard<std::mutex> g{out->m};
            out->lines.push_back(e.action + attr("signal") + attr("exitCode"));
          },
          [](const engine_status&) {}};
}

// The agent's log file; closed after the actor system is gone.
struct log_file {
  int fd = -1;
  explicit log_file(const std::string& path)
      : fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) {}
  ~log_file() {
    if (fd >= 0)
      ::close(fd);
  }
};

struct run {
  // Members end in reverse: the actor system, then the io thread, the log
  // file and the data dir.
  test::temp_dir tmp;
  fs::path dir = tmp.path();
  log_file log{(dir / "agent.log").string()};
  asio::io_context io; // outlives the actor system, as in main
  asio::executor_work_guard<asio::io_context::executor_type> work
    = asio::make_work_guard(io);
  std::thread io_thread{[this] { io.run(); }};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.max-threads", 2)};
  caf::scoped_actor self{sys};
  std::optional<agent> a;
  std::vector<std::string> seen; // the observations, in order

  ~run() {
    stop();
    work.reset();
    io.stop();
    io_thread.join();
  }

  void start(const std::string& engine_url, const engine_factory& engine) {
    config c;
    c.data_dir = dir.string();
    c.config_path = (dir / "config.json").string(); // absent: unmanaged
    c.local_mode = true;
    c.engine = engine_url;
    agent_deps deps{io,
                    std::make_shared<const logger>(log_level::debug, log.fd)};
    deps.seed = 3;
    deps.engine = engine; // empty: the real engine actor at c.engine
    auto started = start_agent(sys, c, deps);
    REQUIRE_MESSAGE(std::holds_alternative<agent>(started),
                    std::get<std::string>(started));
    a = std::get<agent>(started);
  }

  void stop() {
    if (!a)
      return;
    self->monitor(a->root);
    self->send_exit(a->root, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {},
                  caf::after(20s) >> [] { FAIL("root did not stop"); });
    a.reset();
  }

  template <class T, class Handle, class... Ts>
  std::optional<T> ask(const Handle& h, Ts&&... xs) {
    std::optional<T> out;
    self->request(h, 10s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); },
               [&](caf::error& e) { MESSAGE(sys.render(e)); });
    return out;
  }

  // A request without a reply value, waited for; errors only noted.
  template <class Handle, class... Ts>
  void done(const Handle& h, Ts&&... xs) {
    self->request(h, 10s, std::forward<Ts>(xs)...)
      .receive([] {}, [&](caf::error& e) { MESSAGE(sys.render(e)); });
  }

  core_actors core() {
    return ask<core_actors>(a->root, caf::get_atom_v, core_atom_v).value();
  }

  container_list containers() {
    engine_filters f{{"label", {"io.balena.app-id=" + app_label}}};
    auto cs = ask<container_list>(core().engine, container_list_req{true, f});
    return cs ? *cs : container_list{};
  }

  std::string id_of(const std::string& service) {
    for (auto& c : containers())
      if (c.labels["io.balena.service-name"] == service)
        return c.id;
    return {};
  }

  // The normalized observation (no ids, no times, no delays).
  std::string observe() {
    auto eng = core().engine;
    std::vector<std::string> lines;
    for (auto& c : containers()) {
      auto in = ask<container_inspect>(eng, container_inspect_req{c.id});
      if (!in)
        continue; // removed meanwhile
      std::string v = "-";
      for (auto& e : in->config.env)
        if (e.rfind("V=", 0) == 0)
          v = e.substr(2);
      const auto& s = in->state;
      lines.push_back(
        "container " + in->name + " app-id=" + c.labels["io.balena.app-id"]
        + " service-name=" + c.labels["io.balena.service-name"]
        + " supervised=" + c.labels["io.balena.supervised"] + " V=" + v + " "
        + (c.state == "running" ? "running" : "not running") + " (" + c.state
        + "/" + s.status + " exit " + std::to_string(s.exit_code)
        + " engine restarts " + std::to_string(in->restart_count) + ")");
      // What the agent asked for and the engine made of it, with the
      // image's config merged in (env order as the engine keeps it).
      std::string more = "  " + in->name + " command=" + c.command
                         + " path=" + in->path + " args=";
      for (auto& x : in->args)
        more += x + ",";
      more += " stop-signal=" + in->config.stop_signal
              + " network-mode=" + in->host.network_mode + " networks=";
      for (auto& [k, e] : c.networks)
        more += k + ",";
      more += " mounts=" + std::to_string(in->mounts.size()) + " labels=";
      for (auto& [k, e] : in->config.labels)
        more += k + "=" + e + ",";
      more += " env=";
      for (auto& e : in->config.env)
        more += e + ",";
      lines.push_back(more);
    }
    // The app's volumes and networks, with their io.balena.* labels.
    auto balena = [](const string_map& labels) {
      std::string out;
      for (auto& [k, v] : labels)
        if (k.rfind("io.balena.", 0) == 0)
          out += " " + k + "=" + v;
      return out;
    };
    if (auto vs = ask<volume_list>(eng, volume_list_req{}))
      for (auto& v : vs->volumes)
        if (ours(v.name))
          lines.push_back("volume " + v.name + " " + v.driver
                          + balena(v.labels));
    if (auto ns = ask<network_infos>(eng, network_list_req{}))
      for (auto& n : *ns)
        if (ours(n.name))
          lines.push_back("network " + n.name + " " + n.driver
                          + balena(n.labels));
    std::sort(lines.begin(), lines.end());
    auto st = ask<apps_status>(core().app_manager, caf::get_atom_v);
    std::string out
      = std::string("state ") + (st ? to_string(st->state) : "?") + "\n";
    if (st) {
      std::vector<std::string> svcs;
      for (auto& s : st->services)
        svcs.push_back(
          "service " + s.service_name + " " + to_string(s.phase) + " restarts "
          + std::to_string(s.restart_count) + " last exit "
          + (s.last_exit_code ? std::to_string(*s.last_exit_code) : "-"));
      std::sort(svcs.begin(), svcs.end());
      for (auto& s : svcs)
        out += s + "\n";
    }
    for (auto& l : lines)
      out += l + "\n";
    return out;
  }

  // Waits until the app_manager is idle with `services` services running
  // (containers running, their supervisors in phase running), and `extra`.
  void settle(
    size_t services, const std::string& what,
    const std::function<bool(const apps_status&)>& extra
    = [](const apps_status&) { return true; }) {
    test::eventually(
      60s,
      [&](std::string& last) {
        auto st = ask<apps_status>(core().app_manager, caf::get_atom_v);
        auto cs = containers();
        last = observe();
        if (!st || st->state != apps_state::idle
            || st->services.size() != services || cs.size() != services)
          return false;
        for (auto& s : st->services)
          if (s.phase != service_phase::running)
            return false;
        for (auto& c : cs)
          if (c.state != "running")
            return false;
        return extra(*st);
      },
      what);
  }

  void apply(const target_state& t) {
    CHECK(ask<uint64_t>(core().app_manager, apply_target{t, false}));
  }
};

// The scenario; returns the observations after each step.
std::vector<std::string> scenario(const std::string& tag,
                                  const std::string& engine_url,
                                  const engine_factory& engine) {
  auto image = test::required_env("BOSUN_TEST_IMAGE");
  run r;
  r.start(engine_url, engine);

  // 1. apply the 2-service app.
  r.apply(app(image, "c1", "1"));
  r.settle(2, tag + ": the app runs");
  r.seen.push_back("apply\n" + r.observe());

  // 2. env change of b: b replaced with V=2, a untouched.
  auto a_id = r.id_of("a");
  r.apply(app(image, "c2", "2"));
  r.settle(2, tag + ": b runs with V=2", [&](const apps_status& st) {
    auto c = st.commits.find("conformance");
    return c != st.commits.end() && c->second == "c2"
           && r.observe().find("V=2 running") != std::string::npos;
  });
  CHECK(r.id_of("a") == a_id);
  r.seen.push_back("env change\n" + r.observe());

  // 3. crash: the engine kills a's process (not bosun: its supervisor sees
  // the container exit) and the supervisor starts it again.
  auto seen = std::make_shared<events_seen>();
  auto l = r.sys.spawn(listener, seen);
  auto eng = r.core().engine;
  r.ask<engine_status>(eng, engine_subscribe{l});
  r.self->send(eng, container_kill_req{a_id, "SIGKILL"});
  r.settle(2, tag + ": a restarted by its supervisor",
           [&](const apps_status& st) {
             for (auto& s : st.services)
               if (s.service_name == "a")
                 return s.restart_count == 1;
             return false;
           });
  CHECK(r.id_of("a") == a_id);
  r.self->send(eng, engine_unsubscribe{l});
  r.self->send_exit(l, caf::exit_reason::user_shutdown);
  std::string events;
  {
    std::lock_guard<std::mutex> g{seen->m};
    for (auto& e : seen->lines)
      events += "event " + e + "\n";
  }
  CHECK(events.find("die exitCode=137") != std::string::npos);
  r.seen.push_back("crash\n" + r.observe() + events);

  // 4. the agent stops and starts again on the same data dir: it adopts
  // the same containers and recreates nothing.
  auto before = r.containers();
  r.stop();
  r.start(engine_url, engine);
  r.settle(2, tag + ": the app adopted", [](const apps_status& st) {
    auto c = st.commits.find("conformance");
    return c != st.commits.end() && c->second == "c2";
  });
  auto after = r.containers();
  auto ids = [](const container_list& cs) {
    std::vector<std::string> out;
    for (auto& c : cs)
      out.push_back(c.id);
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(ids(after) == ids(before));
  r.seen.push_back("adoption\n" + r.observe());

  // 5. an empty target: the app's containers, network and volume go (on
  // dockerd this is the test's clean-up, finished below).
  r.apply(app(image, "", "", false));
  test::eventually(
    60s,
    [&](std::string& last) {
      auto st = r.ask<apps_status>(r.core().app_manager, caf::get_atom_v);
      last = r.observe();
      return st && st->state == apps_state::idle && st->services.empty()
             && r.containers().empty();
    },
    tag + ": the app removed");
  r.seen.push_back("removed\n" + r.observe());

  // Whatever the agent left of the app on the engine (and of a failed step).
  eng = r.core().engine;
  for (auto& c : r.containers())
    r.done(eng, container_remove_req{c.id, true, true});
  if (auto vs = r.ask<volume_list>(eng, volume_list_req{}))
    for (auto& v : vs->volumes)
      if (ours(v.name))
        r.done(eng, volume_remove_req{v.name, true});
  if (auto ns = r.ask<network_infos>(eng, network_list_req{}))
    for (auto& n : *ns)
      if (ours(n.name))
        r.done(eng, network_remove_req{n.id});
  return r.seen;
}

} // namespace

TEST_SUITE("conformance") {
  TEST_CASE("apply, env change, crash and agent restart: the simulated "
            "engine and dockerd agree") {
    auto docker = test::required_env("DOCKER_HOST");
    sim::sim_options o;
    o.timing.create = 5ms;
    o.timing.start = 5ms;
    o.timing.stop = 5ms;
    o.timing.remove = 1ms;
    o.registry.latency = 2ms;
    o.registry.bandwidth = 1e9;
    o.registry.image_size = 1'000'000;
    // The simulated registry's image is the test image (busybox-static
    // from tools/dev: Env PATH=/bin, Cmd /bin/sh), as dockerd has it.
    o.registry.image_config.env = {"PATH=/bin"};
    o.registry.image_config.cmd = string_list{"/bin/sh"};
    // The simulated device outlives the agent, as dockerd does.
    auto device = std::make_shared<sim::world>(o.seed, o.hostname);
    auto simulated
      = scenario("sim", "unix:///nonexistent/docker.sock",
                 [o, device](caf::actor_system& s) -> engine_actor {
                   return sim::spawn_sim_engine(s, o, device);
                 });
    auto real = scenario("dockerd", docker, {});
    REQUIRE(simulated.size() == real.size());
    for (size_t i = 0; i < real.size(); ++i) {
      INFO("step ", i);
      CHECK(simulated[i] == real[i]);
    }
  }
}

} // namespace bosun::conformance
