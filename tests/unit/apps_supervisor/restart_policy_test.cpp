#include "actors/apps/restart_policy.hpp"

#include <doctest/doctest.h>
#include <vector>

using namespace std::chrono_literals;
using bosun::restart_mode;
using bosun::apps::backoff_delay;
using bosun::apps::restart_policy;
using bosun::apps::restart_policy_options;
using bosun::apps::should_restart;
using std::chrono::milliseconds;

TEST_SUITE("restart_policy") {
  TEST_CASE("restarts per mode and exit code") {
    struct row {
      restart_mode mode;
      int64_t exit_code;
      bool restart;
    };
    const std::vector<row> table = {
      {restart_mode::always, 0, true},
      {restart_mode::always, 1, true},
      {restart_mode::always, 137, true}, // docker kill from outside
      {restart_mode::always, -1, true},  // failed to start
      {restart_mode::unless_stopped, 0, true},
      {restart_mode::unless_stopped, 1, true},
      {restart_mode::unless_stopped, 143, true},
      {restart_mode::on_failure, 0, false},
      {restart_mode::on_failure, 1, true},
      {restart_mode::on_failure, 137, true},
      {restart_mode::on_failure, -1, true},
      {restart_mode::no, 0, false},
      {restart_mode::no, 1, false},
      {restart_mode::no, 137, false},
    };
    for (const auto& r : table) {
      CAPTURE(bosun::to_string(r.mode));
      CAPTURE(r.exit_code);
      CHECK(should_restart(r.mode, r.exit_code) == r.restart);
      restart_policy p{r.mode};
      auto d = p.on_exit(r.exit_code, 1s);
      CHECK(d.restart == r.restart);
      CHECK(p.consecutive() == (r.restart ? 1u : 0u));
    }
  }

  TEST_CASE("backs off 100 ms, then 2 s doubling up to 5 minutes") {
    const std::vector<milliseconds> expected
      = {100ms, 2s, 4s, 8s, 16s, 32s, 64s, 128s, 256s, 300s, 300s, 300s};
    restart_policy p{restart_mode::always};
    for (size_t i = 0; i < expected.size(); ++i) {
      CAPTURE(i);
      CHECK(backoff_delay(p.options(), static_cast<uint32_t>(i))
            == expected[i]);
      auto d = p.on_exit(1, 0ms);
      REQUIRE(d.restart);
      CHECK(d.delay == expected[i]);
      CHECK(p.backoff() == expected[i]);
      CHECK(p.consecutive() == i + 1);
    }
  }

  TEST_CASE("backoff never overflows however many restarts") {
    restart_policy_options o;
    CHECK(backoff_delay(o, 1000) == 5min);
    CHECK(backoff_delay(o, UINT32_MAX) == 5min);
  }

  TEST_CASE("an exit after ten minutes of running restarts at once again") {
    restart_policy p{restart_mode::always};
    for (int i = 0; i < 4; ++i)
      p.on_exit(1, 1s);
    CHECK(p.backoff() == 8s);
    CHECK(p.on_exit(1, 9min).delay == 16s); // not long enough
    auto d = p.on_exit(1, 10min);
    CHECK(d.delay == 100ms);
    CHECK(p.consecutive() == 1);
    CHECK(p.on_exit(1, 1s).delay == 2s);
  }

  TEST_CASE("ten minutes of running resets the backoff while it runs") {
    restart_policy p{restart_mode::always};
    for (int i = 0; i < 3; ++i)
      p.on_exit(1, 1s);
    CHECK(p.backoff() == 4s);
    CHECK(p.crash_looping());
    CHECK(p.on_running(9min)); // clears crash looping only
    CHECK_FALSE(p.crash_looping());
    CHECK(p.backoff() == 4s);
    CHECK(p.on_running(10min));
    CHECK(p.backoff() == 0ms);
    CHECK(p.consecutive() == 0);
    CHECK(p.on_exit(1, 10min).delay == 100ms);
  }

  TEST_CASE("crash looping after three exits that each ran less than 10 s") {
    restart_policy p{restart_mode::always};
    p.on_exit(1, 9s);
    p.on_exit(1, 2s);
    CHECK_FALSE(p.crash_looping());
    p.on_exit(1, 0ms);
    CHECK(p.crash_looping());
    CHECK(p.short_runs() == 3);
    SUBCASE("cleared once a run reaches 10 s") {
      CHECK_FALSE(p.on_running(9999ms));
      CHECK(p.crash_looping());
      CHECK(p.on_running(10s));
      CHECK_FALSE(p.crash_looping());
      CHECK(p.backoff() == 4s); // the backoff waits for 10 min
    }
    SUBCASE("cleared by an exit after a run of 10 s") {
      p.on_exit(1, 10s);
      CHECK_FALSE(p.crash_looping());
      CHECK(p.short_runs() == 0);
    }
    SUBCASE("cleared by reset") {
      p.reset();
      CHECK_FALSE(p.crash_looping());
      CHECK(p.consecutive() == 0);
      CHECK(p.backoff() == 0ms);
    }
  }

  TEST_CASE("exits that are not restarted still count toward crash looping") {
    restart_policy p{restart_mode::no};
    for (int i = 0; i < 3; ++i)
      CHECK_FALSE(p.on_exit(1, 1s).restart);
    CHECK(p.crash_looping());
    CHECK(p.backoff() == 0ms);
  }

  TEST_CASE("an unhealthy container restarts unless the policy is no") {
    for (auto m : {restart_mode::always, restart_mode::unless_stopped,
                   restart_mode::on_failure}) {
      CAPTURE(bosun::to_string(m));
      restart_policy p{m};
      auto d = p.on_unhealthy(1min);
      CHECK(d.restart);
      CHECK(d.delay == 100ms);
      CHECK(p.on_unhealthy(1min).delay == 2s);
    }
    restart_policy p{restart_mode::no};
    CHECK_FALSE(p.on_unhealthy(1min).restart);
  }

  TEST_CASE("options change the delays") {
    restart_policy_options o;
    o.first_delay = 0ms;
    o.base_delay = 500ms;
    o.max_delay = 3s;
    restart_policy p{restart_mode::always, o};
    std::vector<milliseconds> got;
    got.reserve(5);
    for (int i = 0; i < 5; ++i)
      got.push_back(p.on_exit(1, 0ms).delay);
    CHECK(got == std::vector<milliseconds>{0ms, 1s, 2s, 3s, 3s});
  }
}
