#include "actors/root/restart_window.hpp"
#include "actors/root/root.hpp"
#include "tests/support/eventually.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;
using bosun::restart_window;

TEST_SUITE("restart_window") {
  TEST_CASE("allows five restarts within a minute and refuses the sixth") {
    restart_window w{5, 60s};
    restart_window::clock::time_point t{};
    for (int i = 0; i < 5; ++i)
      CHECK(w.allow(t + i * 1s));
    CHECK_FALSE(w.allow(t + 5s));
    CHECK(w.recent() == 5);
  }

  TEST_CASE("forgets restarts older than the window") {
    restart_window w{5, 60s};
    restart_window::clock::time_point t{};
    for (int i = 0; i < 5; ++i)
      CHECK(w.allow(t));
    CHECK_FALSE(w.allow(t + 59s));
    CHECK(w.allow(t + 60s));
    CHECK(w.recent() == 1);
  }
}

namespace {

CAF_ADD_ATOM(bosun_test, bosun_test, crash_atom, "crash")

caf::behavior crashy(caf::event_based_actor* self) {
  return {
    [self](bosun_test::crash_atom) {
      self->quit(caf::make_error(caf::sec::runtime_error, "boom"));
    },
    [](caf::ping_atom) { return caf::pong_atom_v; },
  };
}

// A core actor of telemetry's typed interface, for the rest-for-one test.
bosun::telemetry_actor::behavior_type typed_child() {
  return {[](const bosun::collect_telemetry&) {
    return bosun::telemetry_snapshot{};
  }};
}

struct system_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.max-threads", 2)};
  caf::scoped_actor self{sys};

  // The running instance of a child, from root's statuses.
  caf::actor child(bosun::root_actor root, const std::string& name) {
    caf::actor out;
    self->request(root, 5s, bosun::children_atom_v)
      .receive(
        [&](std::vector<bosun::child_status>& v) {
          for (auto& c : v)
            if (c.name == name)
              out = c.handle;
        },
        [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  bosun::core_actors core(bosun::root_actor root) {
    bosun::core_actors out;
    self->request(root, 5s, caf::get_atom_v, bosun::core_atom_v)
      .receive([&](bosun::core_actors& c) { out = c; },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  std::vector<bosun::child_status> children(bosun::root_actor root) {
    std::vector<bosun::child_status> out;
    self->request(root, 5s, bosun::children_atom_v)
      .receive([&](std::vector<bosun::child_status>& v) { out = v; },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }
};

bosun::root_options options_with_crashy_child(int* spawned) {
  bosun::root_options opts;
  opts.log = std::make_shared<const bosun::logger>(bosun::log_level::error);
  opts.children.push_back(
    {"crashy", [spawned](caf::actor_system& sys, bosun::core_actors&) {
       ++*spawned;
       return sys.spawn(crashy);
     }});
  return opts;
}

} // namespace

TEST_SUITE("root") {
  TEST_CASE_FIXTURE(system_fixture,
                    "restarts a failed child and counts the restart") {
    int spawned = 0;
    auto root = bosun::spawn_root(sys, options_with_crashy_child(&spawned));
    auto first = child(root, "crashy");
    REQUIRE(first);
    self->send(first, bosun_test::crash_atom_v);
    caf::actor second;
    bosun::test::eventually(5s, [&](std::string& last) {
      second = child(root, "crashy");
      auto st = children(root);
      last = "restarts=" + std::to_string(st.at(0).restarts);
      return second && second != first && st.at(0).restarts == 1;
    });
    auto st = children(root);
    CHECK(st.at(0).running);
    CHECK(st.at(0).last_error.find("boom") != std::string::npos);
    self->request(second, 5s, caf::ping_atom_v)
      .receive([](caf::pong_atom) {},
               [&](caf::error& e) { FAIL(sys.render(e)); });
    CHECK(spawned == 2);
    self->send_exit(root, caf::exit_reason::user_shutdown);
  }

  TEST_CASE_FIXTURE(system_fixture,
                    "gives up after five restarts within the window") {
    int spawned = 0;
    auto root = bosun::spawn_root(sys, options_with_crashy_child(&spawned));
    self->monitor(root);
    for (int i = 0; i < 6; ++i) {
      caf::actor c;
      bosun::test::eventually(5s, [&] {
        c = child(root, "crashy");
        return static_cast<bool>(c);
      });
      self->send(c, bosun_test::crash_atom_v);
      if (i < 5)
        bosun::test::eventually(5s, [&] {
          auto st = children(root);
          return st.at(0).restarts == i + 1;
        });
    }
    bool down = false;
    self->receive(
      [&](caf::down_msg& dm) {
        down = true;
        CHECK(dm.reason);
      },
      caf::after(10s) >> [] {});
    CHECK(down);
    CHECK(spawned == 6);
  }

  TEST_CASE_FIXTURE(system_fixture,
                    "takes its children down when asked to stop") {
    int spawned = 0;
    auto root = bosun::spawn_root(sys, options_with_crashy_child(&spawned));
    auto c = child(root, "crashy");
    self->monitor(c);
    self->send_exit(root, caf::exit_reason::user_shutdown);
    bool down = false;
    self->receive(
      [&](caf::down_msg& dm) {
        down = true;
        CHECK(dm.reason == caf::exit_reason::user_shutdown);
      },
      caf::after(10s) >> [] {});
    CHECK(down);
  }

  TEST_CASE_FIXTURE(system_fixture,
                    "restarts the children started after a failed one") {
    // The first child is a core actor (of telemetry's typed interface):
    // root publishes its handle, and the second reads it from there.
    int first_spawned = 0;
    int second_spawned = 0;
    bosun::telemetry_actor second_saw;
    bosun::root_options opts;
    opts.log = std::make_shared<const bosun::logger>(bosun::log_level::error);
    opts.children.push_back(
      bosun::core_child(&bosun::core_actors::telemetry,
                        [&](caf::actor_system& s, const bosun::core_actors&) {
                          ++first_spawned;
                          return s.spawn(typed_child);
                        }));
    opts.children.push_back(
      {"second", [&](caf::actor_system& s, bosun::core_actors& core) {
         ++second_spawned;
         second_saw = core.telemetry;
         return s.spawn(crashy);
       }});
    auto root = bosun::spawn_root(sys, std::move(opts));
    auto first = child(root, "telemetry");
    auto second = child(root, "second");
    REQUIRE(first);
    CHECK(caf::actor_cast<caf::actor>(second_saw) == first);
    CHECK(caf::actor_cast<caf::actor>(core(root).telemetry) == first);
    CHECK_FALSE(core(root).app_manager); // not a child here
    self->monitor(second);
    self->send_exit(first, caf::make_error(caf::sec::runtime_error, "boom"));
    self->receive([&](caf::down_msg& dm) { CHECK(dm.source == second); },
                  caf::after(10s) >> [] { FAIL("second was not stopped"); });
    bosun::test::eventually(5s, [&] {
      auto now = child(root, "second");
      return now && now != second;
    });
    CHECK(first_spawned == 2);
    CHECK(second_spawned == 2);
    auto restarted = child(root, "telemetry");
    CHECK(restarted != first);
    CHECK(caf::actor_cast<caf::actor>(second_saw) == restarted);
    CHECK(caf::actor_cast<caf::actor>(core(root).telemetry) == restarted);
    CHECK(children(root).at(1).restarts == 0);
    self->send_exit(root, caf::exit_reason::user_shutdown);
  }
}
