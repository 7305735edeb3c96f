#include "actors/root/root.hpp"
#include "actors/telemetry/counters.hpp"
#include "actors/telemetry/telemetry.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <doctest/doctest.h>
#include <map>

using namespace std::chrono_literals;
using bosun::actor_report;
using bosun::telemetry_snapshot;

namespace {

CAF_ADD_ATOM(bosun_test, bosun_test, work_atom, "work")
CAF_ADD_ATOM(bosun_test, bosun_test, stuck_atom, "stuck")

struct worker_state {
  static inline const char* name = "worker";
  std::vector<bosun::actor_child> kids;
};

bosun::apps_status fake_apps_status() {
  bosun::apps_status s;
  bosun::service_status svc;
  svc.service_name = "web";
  svc.restart_count = 3;
  svc.crash_looping = true;
  svc.backoff = 4s;
  s.services.push_back(svc);
  return s;
}

// Instrumented; supervises whatever it is given; answers get like the app
// manager.
caf::behavior worker(caf::stateful_actor<worker_state>* self,
                     std::vector<bosun::actor_child> kids) {
  self->state.kids = std::move(kids);
  return bosun::telemetry::instrument(
    self,
    {{},
     [] { return std::string{"disk full"}; },
     [self] { return self->state.kids; }},
    [](bosun_test::work_atom, int n) { return n + 1; },
    [](caf::get_atom) { return fake_apps_status(); });
}

// Not instrumented: refuses telemetry as CAF's default handler would, and
// counts how often it was asked.
caf::behavior plain(caf::event_based_actor*, std::shared_ptr<int> asked) {
  return {[](caf::ping_atom) { return caf::pong_atom_v; },
          [asked](bosun::telemetry_atom) -> caf::result<bosun::actor_sample> {
            ++*asked;
            return caf::sec::unexpected_message;
          }};
}

// Answers telemetry itself, counting how often it was asked.
caf::behavior counting(caf::event_based_actor* self,
                       std::shared_ptr<int> asked) {
  (void)self;
  return {[asked](bosun::telemetry_atom) {
    ++*asked;
    bosun::actor_sample s;
    s.kind = "counting";
    s.handled = static_cast<uint64_t>(*asked);
    return s;
  }};
}

// Never answers telemetry.
caf::behavior stuck(caf::event_based_actor* self) {
  return {[self](bosun::telemetry_atom) {
    return self->make_response_promise(); // never delivered
  }};
}

caf::behavior fake_engine(caf::event_based_actor*) {
  return {[](caf::get_atom) {
    bosun::engine_telemetry t;
    t.state = bosun::engine_state::up;
    t.reconnects = 2;
    return t;
  }};
}

caf::behavior quitter(caf::event_based_actor* self) {
  self->quit();
  return {[](caf::ping_atom) {}};
}

struct deterministic {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.policy", caf::atom("testing"))
                          .set("logger.verbosity", caf::atom("quiet"))};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};
  std::shared_ptr<int> asked = std::make_shared<int>(0);
  std::shared_ptr<int> plain_asked = std::make_shared<int>(0);
  bosun::root_actor root;
  bosun::telemetry_actor tm;

  explicit deterministic(bool with_stuck = false,
                         std::chrono::milliseconds max_age = 0ms) {
    bosun::root_options opts;
    opts.log = std::make_shared<const bosun::logger>(bosun::log_level::error);
    auto add = [&](std::string name, auto fn) {
      opts.children.push_back({std::move(name), fn});
    };
    add("engine", [](caf::actor_system& s, bosun::core_actors&) {
      return s.spawn(fake_engine);
    });
    add("plain", [a = plain_asked](caf::actor_system& s, bosun::core_actors&) {
      return s.spawn(plain, a);
    });
    add("counting", [a = asked](caf::actor_system& s, bosun::core_actors&) {
      return s.spawn(counting, a);
    });
    add("app_manager", [](caf::actor_system& s, bosun::core_actors&) {
      auto gone = s.spawn(quitter);
      std::vector<bosun::actor_child> kids{
        {"app1/web", s.spawn(worker, std::vector<bosun::actor_child>{})},
        {"app1/db", gone},
        {"app1/none", caf::actor{}}};
      return caf::actor_cast<caf::actor>(s.spawn(worker, kids));
    });
    if (with_stuck)
      add("stuck", [](caf::actor_system& s, bosun::core_actors&) {
        return s.spawn(stuck);
      });
    opts.children.push_back(bosun::core_child(
      &bosun::core_actors::telemetry,
      [max_age](caf::actor_system& s, const bosun::core_actors&) {
        bosun::telemetry_options t;
        t.max_age = max_age;
        t.process = [] {
          bosun::process_stats p;
          p.available = true;
          p.rss_bytes = 12345;
          return p;
        };
        return bosun::spawn_telemetry(s, t);
      }));
    root = bosun::spawn_root(sys, std::move(opts));
    sched.run();
    tm = core().telemetry;
  }

  ~deterministic() {
    self->send_exit(root, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // The running instance of a child, from root's statuses.
  caf::actor child(const std::string& name) {
    auto rh = self->request(root, caf::infinite, bosun::children_atom_v);
    sched.run();
    caf::actor out;
    rh.receive(
      [&](std::vector<bosun::child_status>& v) {
        for (auto& c : v)
          if (c.name == name)
            out = c.handle;
      },
      [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  bosun::core_actors core() {
    auto rh
      = self->request(root, caf::infinite, caf::get_atom_v, bosun::core_atom_v);
    sched.run();
    bosun::core_actors out;
    rh.receive([&](bosun::core_actors& c) { out = c; },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  telemetry_snapshot collect() {
    auto rh = self->request(tm, caf::infinite, bosun::collect_telemetry{root});
    sched.run();
    telemetry_snapshot out;
    rh.receive([&](telemetry_snapshot& s) { out = std::move(s); },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }
};

struct with_stuck_child : deterministic {
  with_stuck_child() : deterministic(true) {}
};

struct with_max_age : deterministic {
  with_max_age() : deterministic(false, 100ms) {}
};

std::map<std::string, actor_report> by_name(const telemetry_snapshot& s) {
  std::map<std::string, actor_report> out;
  for (auto& r : s.actors)
    out[r.name] = r;
  return out;
}

std::vector<std::string> names(const telemetry_snapshot& s) {
  std::vector<std::string> out;
  for (auto& r : s.actors)
    out.push_back(r.name);
  return out;
}

} // namespace

TEST_SUITE("telemetry actor") {
  TEST_CASE_FIXTURE(deterministic,
                    "lists root, its children and theirs, parents first") {
    auto s = collect();
    CHECK(names(s)
          == std::vector<std::string>{"root", "engine", "plain", "counting",
                                      "app_manager", "app_manager/app1/web",
                                      "app_manager/app1/db",
                                      "app_manager/app1/none", "telemetry"});
    auto a = by_name(s);
    CHECK(a["root"].kind == "root");
    CHECK(a["root"].parent.empty());
    CHECK(a["root"].sampled);
    CHECK(a["telemetry"].kind == "telemetry");
    CHECK(a["telemetry"].parent == "root");
    CHECK(a["app_manager"].kind == "worker");
    CHECK(a["app_manager"].last_error == "disk full");
    CHECK(a["app_manager/app1/web"].parent == "app_manager");
    CHECK(a["app_manager/app1/web"].sampled);
    CHECK(a["counting"].kind == "counting");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "says why an actor has no counters: not reporting, "
                    "gone, not running") {
    auto a = by_name(collect());
    CHECK_FALSE(a["plain"].sampled);
    CHECK(a["plain"].running);
    CHECK(a["plain"].error == "does not report telemetry");
    CHECK(a["plain"].kind == "plain"); // a core actor's name is its kind
    CHECK_FALSE(a["app_manager/app1/db"].sampled);
    CHECK_FALSE(a["app_manager/app1/db"].running);
    CHECK(a["app_manager/app1/db"].error == "gone");
    CHECK_FALSE(a["app_manager/app1/none"].running);
    CHECK(a["app_manager/app1/none"].error == "not running");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "asks an actor that does not report only once") {
    collect();
    auto a = by_name(collect());
    CHECK(*plain_asked == 1);
    CHECK(a["plain"].error == "does not report telemetry");
    CHECK(a["plain"].running);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "carries the engine's and the app manager's own state and "
                    "the process figures") {
    auto s = collect();
    REQUIRE(s.engine);
    CHECK(s.engine->state == bosun::engine_state::up);
    CHECK(s.engine->reconnects == 2);
    REQUIRE(s.apps);
    REQUIRE(s.apps->services.size() == 1);
    CHECK(s.apps->services[0].restart_count == 3);
    CHECK(s.apps->services[0].crash_looping);
    CHECK(s.process.rss_bytes == 12345);
    CHECK(s.actors_running >= 7); // the live ones above
    CHECK(s.collected_at > 1.6e9);
  }

  TEST_CASE_FIXTURE(deterministic, "counters move when an actor works") {
    auto before = by_name(collect());
    auto am = child("app_manager");
    for (int i = 0; i < 3; ++i)
      self->send(am, bosun_test::work_atom_v, i);
    sched.run();
    auto after = by_name(collect());
    // The walk's own get (apps_status) comes after the sample: it shows in
    // the next one.
    CHECK(after["app_manager"].sample.handled
          == before["app_manager"].sample.handled + 3 + 1);
    // Root answered children_atom (the child lookups and telemetry's).
    CHECK(after["root"].sample.handled > before["root"].sample.handled);
  }

  TEST_CASE_FIXTURE(deterministic, "shows the restarts root counted") {
    auto c = child("counting");
    self->send_exit(c, caf::make_error(caf::sec::runtime_error, "boom"));
    sched.run();
    // Rest-for-one: telemetry, started after it, was restarted too.
    tm = core().telemetry;
    auto a = by_name(collect());
    CHECK(a["counting"].restarts == 1);
    CHECK(a["counting"].running);
    CHECK(a["counting"].last_error.find("boom") != std::string::npos);
    CHECK(a["plain"].restarts == 0);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "requests arriving during a walk share the next walk") {
    auto first
      = self->request(tm, caf::infinite, bosun::collect_telemetry{root});
    // Processed while the first walk waits for answers.
    std::vector<decltype(first)> later;
    for (int i = 0; i < 4; ++i)
      later.push_back(
        self->request(tm, caf::infinite, bosun::collect_telemetry{root}));
    sched.run();
    int answered = 0;
    first.receive([&](telemetry_snapshot&) { ++answered; },
                  [&](caf::error& e) { FAIL(sys.render(e)); });
    for (auto& h : later)
      h.receive([&](telemetry_snapshot&) { ++answered; },
                [&](caf::error& e) { FAIL(sys.render(e)); });
    CHECK(answered == 5);
    CHECK(*asked == 2);
  }

  TEST_CASE_FIXTURE(with_max_age,
                    "a snapshot younger than max_age answers at once; an "
                    "older one is collected again") {
    auto first = collect();
    auto second = collect();
    CHECK(*asked == 1);
    CHECK(second.collected_at == first.collected_at);
    sched.advance_time(100ms);
    sched.run();
    collect();
    CHECK(*asked == 2);
  }

  TEST_CASE_FIXTURE(with_stuck_child,
                    "an actor that does not answer in time does not hold the "
                    "snapshot") {
    auto rh = self->request(tm, caf::infinite, bosun::collect_telemetry{root});
    sched.run();
    sched.advance_time(1500ms);
    sched.run();
    telemetry_snapshot s;
    rh.receive([&](telemetry_snapshot& x) { s = std::move(x); },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    auto a = by_name(s);
    CHECK_FALSE(a["stuck"].sampled);
    CHECK(a["stuck"].error == "no answer within 1500 ms");
    CHECK(a["engine"].running);
  }
}
