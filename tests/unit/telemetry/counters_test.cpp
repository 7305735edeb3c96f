#include "actors/telemetry/counters.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;
using bosun::actor_sample;
using bosun::telemetry::actor_counters;
using bosun::telemetry::mean_busy;

namespace {

using doubler_actor
  = caf::typed_actor<caf::replies_to<int>::with<int>,
                     caf::replies_to<std::string>::with<std::string>>;

struct doubler_state {
  static inline const char* name = "doubler";
  std::string last_error;
};

doubler_actor::behavior_type
doubler(doubler_actor::stateful_pointer<doubler_state> self) {
  return bosun::telemetry::instrument(
    self,
    {{},
     [self] { return self->state.last_error; },
     [] {
       return std::vector<bosun::actor_child>{{"nobody", caf::actor{}}};
     }},
    [self](int x) {
      if (x < 0)
        self->state.last_error = "negative: " + std::to_string(x);
      return 2 * x;
    },
    [](const std::string& s) { return s + s; });
}

struct deterministic {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.policy", caf::atom("testing"))
                          .set("logger.verbosity", caf::atom("quiet"))};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};

  actor_sample telemetry_of(const caf::actor& a) {
    self->send(a, bosun::telemetry_atom_v);
    sched.run();
    actor_sample out;
    self->receive([&](actor_sample& s) { out = std::move(s); },
                  caf::after(0s) >> [] { FAIL("no telemetry answer"); });
    return out;
  }

  void drain() {
    bool more = true;
    while (more)
      self->receive([](int) {}, [](std::string&) {},
                    caf::after(0s) >> [&] { more = false; });
  }
};

} // namespace

TEST_SUITE("telemetry counters") {
  TEST_CASE("count messages, total and maximum handling time, deepest "
            "mailbox") {
    actor_counters c;
    c.record(3ms, 0);
    c.record(1ms, 5);
    c.record(2ms, 2);
    CHECK(c.handled == 3);
    CHECK(c.busy_total == 6ms);
    CHECK(c.busy_max == 3ms);
    CHECK(c.mailbox_max == 5);
  }

  TEST_CASE("mean handling time is the total over the count, 0 before any") {
    actor_sample s;
    CHECK(mean_busy(s) == 0ns);
    s.handled = 4;
    s.busy_total = 10ms;
    CHECK(mean_busy(s) == 2500us);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "an instrumented actor keeps its typed replies and "
                    "answers telemetry with its counts") {
    auto d = sys.spawn(doubler);
    self->send(d, 21);
    self->send(d, std::string{"ab"});
    sched.run();
    self->receive([](int x) { CHECK(x == 42); });
    self->receive([](std::string& s) { CHECK(s == "abab"); });
    auto s = telemetry_of(caf::actor_cast<caf::actor>(d));
    CHECK(s.kind == "doubler");
    CHECK(s.handled == 2);
    CHECK(s.busy_max <= s.busy_total);
    CHECK(s.mailbox == 0);
    CHECK(s.last_error.empty());
    REQUIRE(s.children.size() == 1);
    CHECK(s.children[0].name == "nobody");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "the deepest mailbox is what waited behind a message") {
    auto d = sys.spawn(doubler);
    for (int i = 0; i < 5; ++i)
      self->send(d, i);
    sched.run();
    drain();
    auto s = telemetry_of(caf::actor_cast<caf::actor>(d));
    CHECK(s.handled == 5);
    CHECK(s.mailbox_max == 4);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "telemetry shows the actor's own last error, and asking "
                    "is not counted as work") {
    auto d = sys.spawn(doubler);
    self->send(d, -3);
    sched.run();
    drain();
    auto first = telemetry_of(caf::actor_cast<caf::actor>(d));
    auto second = telemetry_of(caf::actor_cast<caf::actor>(d));
    CHECK(first.last_error == "negative: -3");
    CHECK(second.handled == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "other unexpected messages are still refused") {
    auto d = sys.spawn(doubler);
    auto h = caf::actor_cast<caf::actor>(d);
    auto rh = self->request(h, caf::infinite, 1.5);
    sched.run();
    bool refused = false;
    rh.receive(
      [](double) { FAIL("a double was answered"); },
      [&](caf::error& e) { refused = e == caf::sec::unexpected_message; });
    CHECK(refused);
    self->send(d, 4);
    sched.run();
    self->receive([](int x) { CHECK(x == 8); });
  }
}
