// The service supervisor against a real dockerd (see tools/dev test): the
// engine actor in between, real time, real containers.
#include "actors/apps/service_supervisor.hpp"
#include "actors/engine/engine.hpp"
#include "tests/support/env.hpp"
#include "tests/support/eventually.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <doctest/doctest.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using bosun::test::eventually;
using steady = std::chrono::steady_clock;

namespace bosun {
namespace {

using bosun::test::required_env;

// Every status a supervisor sent, with the (real) time it arrived.
struct status_seen {
  std::mutex m;
  std::vector<std::pair<steady::time_point, service_status>> log;
};

service_status_listener::behavior_type
recorder(service_status_listener::pointer,
         const std::shared_ptr<status_seen>& s) {
  return {[s](const service_status& st) {
    std::lock_guard<std::mutex> g{s->m};
    s->log.emplace_back(steady::now(), st);
  }};
}

// One supervised service: its supervisor and what it reported.
struct supervised {
  service_supervisor_actor sup;
  std::shared_ptr<status_seen> seen = std::make_shared<status_seen>();
  service_status_listener listener;

  // The time each restart_count value was first reported (index = count).
  std::vector<steady::time_point> restart_times() {
    std::lock_guard<std::mutex> g{seen->m};
    std::vector<steady::time_point> out;
    for (auto& [t, s] : seen->log)
      if (s.restart_count == out.size() && s.phase == service_phase::running)
        out.push_back(t);
    return out;
  }
};

std::string describe(const service_status& s) {
  std::string out = std::string{"phase "} + to_string(s.phase) + ", restarts "
                    + std::to_string(s.restart_count) + ", backoff "
                    + std::to_string(s.backoff.count()) + " ms";
  if (s.last_exit_code)
    out += ", last exit " + std::to_string(*s.last_exit_code);
  if (!s.last_error.empty())
    out += ", error " + s.last_error;
  return out;
}

struct supervisor_fixture {
  // Declared before the actor system, so it outlives every actor.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{
    io.get_executor()};
  std::thread io_thread{[this] { io.run(); }};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  engine_actor engine;
  std::string image = required_env("BOSUN_TEST_IMAGE");
  // Unique per process: parallel runs never touch each other's containers.
  std::string prefix = "bosun-it-sup-" + std::to_string(::getpid()) + "-";
  std::deque<supervised> services; // stable references

  supervisor_fixture() {
    auto host = required_env("DOCKER_HOST");
    std::string why;
    auto ep = http::parse_endpoint(host, &why);
    REQUIRE_MESSAGE(ep, "DOCKER_HOST=", host, ": ", why);
    cfg.set("scheduler.max-threads", 2);
    add_engine_error_renderer(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    self.emplace(*sys);
    engine = spawn_engine(*sys, io, *ep);
    remove_leftovers();
    ensure_image();
  }

  ~supervisor_fixture() {
    for (auto& s : services) {
      caf::anon_send_exit(s.sup, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(s.listener, caf::exit_reason::user_shutdown);
    }
    services.clear();
    remove_leftovers();
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    engine = nullptr;
    self.reset();
    sys.reset();
    work.reset();
    io.stop();
    io_thread.join();
  }

  template <class T, class Dest, class Req>
  caf::expected<T> call(const Dest& dest, Req req,
                        std::chrono::seconds timeout = 60s) {
    caf::expected<T> out{caf::make_error(caf::sec::unexpected_response)};
    (*self)
      ->request(dest, timeout, std::move(req))
      .receive([&](T& v) { out = std::move(v); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  template <class Req>
  caf::error call_void(Req req, std::chrono::seconds timeout = 60s) {
    caf::error out;
    (*self)
      ->request(engine, timeout, std::move(req))
      .receive([] {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  std::string render(const caf::error& e) {
    return sys->render(e);
  }

  // Containers of this process, and those a crashed run left behind (their
  // pid is gone); never those of another run in progress.
  void remove_leftovers() {
    container_list_req req;
    req.filters["label"] = {"io.bosun.test=supervisor"};
    auto list = call<container_list>(engine, req);
    if (!list)
      return;
    for (auto& c : *list) {
      auto pid = c.labels.find("io.bosun.test.pid");
      if (pid != c.labels.end() && pid->second != std::to_string(::getpid())
          && ::kill(std::stoi(pid->second), 0) == 0)
        continue;
      call_void(container_remove_req{c.id, true, true});
    }
  }

  void ensure_image() {
    auto found = call<image_inspect>(engine, image_inspect_req{image});
    if (found)
      return;
    REQUIRE_MESSAGE(found.error() == engine_errc::not_found,
                    render(found.error()));
    auto err = call_void(image_pull_req{image_pull{image, {}, {}}, {}}, 300s);
    REQUIRE_MESSAGE(!err, render(err));
  }

  service_apply spec(const std::string& service, string_list cmd,
                     restart_mode mode = restart_mode::always) {
    service_apply s;
    s.app_uuid = "it";
    s.app_id = 1;
    s.service_name = service;
    s.container.name = prefix + service;
    s.container.config.image = image;
    s.container.config.cmd = std::move(cmd);
    s.container.config.labels["io.bosun.test"] = "supervisor";
    s.container.config.labels["io.bosun.test.pid"] = std::to_string(::getpid());
    // busybox as PID 1 ignores SIGTERM: do not wait 10 s for each stop.
    s.container.config.stop_timeout = 1;
    s.container.host.network_mode = "none";
    s.container.host.restart_policy.name = "no";
    s.restart = mode;
    return s;
  }

  supervised& supervise() {
    auto& s = services.emplace_back();
    s.listener = sys->spawn(recorder, s.seen);
    s.sup = spawn_service_supervisor(*sys, engine, s.listener);
    return s;
  }

  std::string apply(supervised& s, service_apply spec) {
    auto id = call<std::string>(s.sup, std::move(spec), 120s);
    REQUIRE_MESSAGE(id, render(id.error()));
    return *id;
  }

  service_status status(supervised& s) {
    auto st = call<service_status>(s.sup, caf::get_atom_v);
    REQUIRE_MESSAGE(st, render(st.error()));
    return *st;
  }

  container_inspect inspect(const std::string& id) {
    auto info = call<container_inspect>(engine, container_inspect_req{id});
    REQUIRE_MESSAGE(info, render(info.error()));
    return *info;
  }

  // Holds `pred` true for all of `window` (a negative claim needs a window:
  // "it does not restart"); fails as soon as it turns false.
  bool stays(std::chrono::milliseconds window,
             const std::function<bool(std::string&)>& pred,
             const std::string& what) {
    auto until = steady::now() + window;
    std::string last;
    while (steady::now() < until) {
      if (!pred(last)) {
        FAIL_CHECK(what, " stopped holding; last seen: ", last);
        return false;
      }
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
};

const string_list sleeper = {"/bin/busybox", "sleep", "1000"};
const string_list failing = {"/bin/busybox", "sh", "-c", "exit 1"};

} // namespace

TEST_SUITE("service_supervisor (real dockerd)") {
  TEST_CASE_FIXTURE(supervisor_fixture,
                    "a killed container runs again within 2 s, the same "
                    "one") {
    auto& web = supervise();
    auto id = apply(web, spec("web", sleeper));
    REQUIRE(inspect(id).state.running);
    REQUIRE(status(web).phase == service_phase::running);
    // From outside, as `docker kill` does: SIGKILL through the engine.
    auto err = call_void(container_kill_req{id, "SIGKILL"});
    REQUIRE_MESSAGE(!err, render(err));
    eventually(
      2s,
      [&](std::string& last) {
        auto s = status(web);
        last = describe(s);
        return s.restart_count == 1 && s.phase == service_phase::running
               && inspect(id).state.running;
      },
      "the killed container to run again");
    auto s = status(web);
    CHECK(s.container_id == id);
    CHECK(s.last_exit_code == 137);
    CHECK(s.restart_count == 1);
  }

  TEST_CASE_FIXTURE(supervisor_fixture,
                    "a failing service backs off with growing delays while "
                    "another keeps running") {
    auto& steady_svc = supervise();
    auto steady_id = apply(steady_svc, spec("steady", sleeper));
    auto& crashy = supervise();
    auto crashy_id = apply(crashy, spec("crashy", failing));
    // Restarts 1, 2, 3 wait 0.1 s, 2 s, 4 s after the exit before them.
    eventually(
      30s,
      [&](std::string& last) {
        auto s = status(crashy);
        last = describe(s);
        return s.restart_count >= 3;
      },
      "three restarts of the failing service");
    auto times = crashy.restart_times();
    REQUIRE(times.size() >= 4); // the first start, then restarts 1..3
    auto gap = [&](size_t i) { return times[i + 1] - times[i]; };
    CAPTURE(
      std::chrono::duration_cast<std::chrono::milliseconds>(gap(0)).count());
    CAPTURE(
      std::chrono::duration_cast<std::chrono::milliseconds>(gap(1)).count());
    CAPTURE(
      std::chrono::duration_cast<std::chrono::milliseconds>(gap(2)).count());
    CHECK(gap(1) >= 2s);
    CHECK(gap(2) >= 4s);
    CHECK(gap(1) > gap(0) + 1s);
    CHECK(gap(2) > gap(1) + 1s);
    auto s = status(crashy);
    CHECK(s.container_id == crashy_id); // restarted, never recreated
    CHECK(s.crash_looping);
    CHECK(s.last_exit_code == 1);
    // The other service never noticed.
    auto other = status(steady_svc);
    CHECK(other.phase == service_phase::running);
    CHECK(other.restart_count == 0);
    CHECK(inspect(steady_id).state.running);
  }

  TEST_CASE_FIXTURE(supervisor_fixture,
                    "a stop through the actor stays stopped until a start") {
    auto& web = supervise();
    auto id = apply(web, spec("web", sleeper));
    auto stopped = call<service_status>(web.sup, service_stop{}, 60s);
    REQUIRE_MESSAGE(stopped, render(stopped.error()));
    CHECK(stopped->phase == service_phase::stopped);
    CHECK_FALSE(inspect(id).state.running);
    // The engine's die event has been seen once the exit is recorded; from
    // then on a restart would come within 100 ms.
    eventually(
      10s,
      [&](std::string& last) {
        auto s = status(web);
        last = describe(s);
        return !s.last_exit_finished_at.empty();
      },
      "the stop's exit to be recorded");
    stays(
      1500ms,
      [&](std::string& last) {
        auto s = status(web);
        last = describe(s);
        return s.phase == service_phase::stopped && s.restart_count == 0
               && !inspect(id).state.running;
      },
      "the stopped service");
    auto started = call<service_status>(web.sup, service_start{}, 60s);
    REQUIRE_MESSAGE(started, render(started.error()));
    CHECK(started->phase == service_phase::running);
    CHECK(started->container_id == id);
    CHECK(inspect(id).state.running);
  }

  TEST_CASE_FIXTURE(supervisor_fixture,
                    "a container removed behind its back is created again") {
    auto& web = supervise();
    auto id = apply(web, spec("web", sleeper));
    auto err = call_void(container_remove_req{id, true, false});
    REQUIRE_MESSAGE(!err, render(err));
    std::string new_id;
    eventually(
      10s,
      [&](std::string& last) {
        auto s = status(web);
        last = describe(s) + ", id " + s.container_id;
        new_id = s.container_id;
        return s.phase == service_phase::running && !new_id.empty()
               && new_id != id;
      },
      "a new container from the spec");
    CHECK(inspect(new_id).state.running);
    CHECK(inspect(new_id).name == "/" + prefix + "web");
  }
}

} // namespace bosun
