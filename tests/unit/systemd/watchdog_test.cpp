// The watchdog against a stand-in root supervisor: WATCHDOG=1 only while the
// root answers healthy; none while it answers unhealthy or does not answer
// at all (a stuck root), and again once it recovers. Real actor system,
// io_context and datagram socket; WATCHDOG_USEC=100000 (a check every 50 ms).
#include "actors/systemd/service_notifier.hpp"
#include "messages/core.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/notify_listener.hpp"
#include "tests/support/process.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>
#include <thread>

using namespace std::chrono_literals;
using bosun::agent_health;

namespace {

enum class mode { healthy, unhealthy, stuck };

struct root_state {
  std::atomic<mode> now{mode::healthy};
  std::atomic<int> health_requests{0};
};

struct fake_root_state {
  std::vector<caf::typed_response_promise<agent_health>> held;
};

bosun::root_actor::behavior_type
fake_root(bosun::root_actor::stateful_pointer<fake_root_state> self,
          std::shared_ptr<root_state> st) {
  return {
    [](caf::get_atom, bosun::core_atom) { return bosun::core_actors{}; },
    [](bosun::children_atom) { return std::vector<bosun::child_status>{}; },
    [self, st](bosun::health_atom) -> caf::result<agent_health> {
      ++st->health_requests;
      switch (st->now.load()) {
        case mode::healthy:
          return agent_health{};
        case mode::unhealthy:
          return agent_health{false, {"engine is not running"}};
        case mode::stuck:
          break;
      }
      // Never answered, as by a root stuck in a handler.
      auto rp = self->make_response_promise<agent_health>();
      self->state.held.push_back(rp);
      return rp;
    }};
}

struct fixture {
  bosun::test::temp_dir dir;
  bosun::test::notify_listener sock{dir.path() + "/notify"};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.max-threads", 2)};
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{
    io.get_executor()};
  std::thread io_thread{[this] { io.run(); }};
  std::shared_ptr<root_state> st = std::make_shared<root_state>();
  bosun::root_actor root;
  std::shared_ptr<bosun::service_notifier> notifier;

  fixture() {
    root = sys.spawn(fake_root, st);
    notifier = bosun::service_notifier::start(
      io, sys, root, {"127.0.0.1", uint16_t(bosun::test::free_port())},
      std::make_shared<const bosun::logger>(bosun::log_level::error),
      {{"NOTIFY_SOCKET", sock.path()}, {"WATCHDOG_USEC", "100000"}});
  }
  ~fixture() {
    asio::post(io, [this] {
      notifier->stopping();
      io.stop();
    });
    io_thread.join();
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  }

  // Waits until `n` more health checks than now were asked.
  bool checks(int n) {
    int until = st->health_requests + n;
    return bosun::test::eventually(
      5s,
      [&](std::string& last) {
        last = std::to_string(st->health_requests.load()) + " checks";
        return st->health_requests >= until;
      },
      "health checks");
  }

  // Every datagram waiting now.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    for (auto m = sock.next(0ms); !m.empty(); m = sock.next(0ms))
      out.push_back(m);
    return out;
  }
};

size_t pings(const std::vector<std::string>& seen) {
  return static_cast<size_t>(
    std::count(seen.begin(), seen.end(), "WATCHDOG=1"));
}

} // namespace

TEST_SUITE("watchdog") {
  TEST_CASE("pings only while the root answers healthy") {
    fixture f;
    std::vector<std::string> seen;
    REQUIRE(f.sock.wait_for("WATCHDOG=1", seen, 5s));
    REQUIRE(f.sock.wait_for("WATCHDOG=1", seen, 5s));

    for (auto bad : {mode::unhealthy, mode::stuck}) {
      CAPTURE(static_cast<int>(bad));
      f.st->now = bad;
      // Checks asked before the switch may still ping: let them pass.
      REQUIRE(f.checks(2));
      f.drain();
      REQUIRE(f.checks(4)); // 200 ms, four periods without a ping
      CHECK(pings(f.drain()) == 0);

      f.st->now = mode::healthy;
      REQUIRE(f.sock.wait_for("WATCHDOG=1", seen, 5s));
    }
  }
}
