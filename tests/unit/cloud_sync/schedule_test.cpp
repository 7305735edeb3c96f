// Poll scheduling, backoff and the state report's throttle, on plain time
// points (virtual time: nothing sleeps).
#include "actors/cloud/schedule.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using namespace bosun::cloud_schedule;
using ms = std::chrono::milliseconds;

namespace {

time_point t0() {
  return time_point{} + 1000h;
}

// Drives a report_gate like cloud_sync does, with a diff given by the test.
struct reporter {
  report_gate gate;
  int sends = 0;

  explicit reporter(report_rules r = {}) : gate(r) {}

  // Collects if allowed; returns whether a request went out.
  bool tick(time_point now, bool empty, bool metrics_only = false) {
    if (!gate.decide(now).collect)
      return false;
    gate.collecting(now);
    if (!gate.should_send(now, empty, metrics_only))
      return false;
    gate.sent(now);
    ++sends;
    return true;
  }
};

} // namespace

TEST_SUITE("poll schedule") {
  TEST_CASE("the failure backoff doubles from 30 s and stops at the interval") {
    CHECK(failure_backoff(1, 15s, 900s) == 30s);
    CHECK(failure_backoff(2, 15s, 900s) == 60s);
    CHECK(failure_backoff(3, 15s, 900s) == 120s);
    CHECK(failure_backoff(5, 15s, 900s) == 480s);
    CHECK(failure_backoff(6, 15s, 900s) == 900s);
    CHECK(failure_backoff(60, 15s, 900s) == 900s); // no overflow
    CHECK(failure_backoff(1, 15s, 5s) == 5s);      // short interval caps
  }

  TEST_CASE("after a success the interval gets a jitter below 60 s") {
    poll_rules r;
    CHECK(next_poll_delay(0, r, 0) == 900000ms);
    CHECK(next_poll_delay(0, r, 59999) == 959999ms);
    CHECK(next_poll_delay(0, r, 60000) == 900000ms);
    CHECK(next_poll_delay(0, r, 12345678) == ms(900000 + 12345678 % 60000));
  }

  TEST_CASE("after failures there is no jitter and the interval caps") {
    poll_rules r;
    r.interval = 60s;
    CHECK(next_poll_delay(1, r, 59999) == 30s);
    CHECK(next_poll_delay(2, r, 59999) == 60s);
    CHECK(next_poll_delay(3, r, 59999) == 60s);
  }

  TEST_CASE("Retry-After is read as milliseconds") {
    CHECK(parse_retry_after_ms("1500") == ms(1500));
    CHECK(parse_retry_after_ms(" 20 ") == ms(20));
    CHECK_FALSE(parse_retry_after_ms(""));
    CHECK_FALSE(parse_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"));
    CHECK_FALSE(parse_retry_after_ms("-5"));
    CHECK_FALSE(parse_retry_after_ms("99999999999999999999"));
  }
}

TEST_SUITE("target settings") {
  TEST_CASE("the target's config sets the interval, instant updates and "
            "hardware metrics") {
    auto d = settings_of({});
    CHECK_FALSE(d.poll_interval);
    CHECK(d.instant_updates);
    CHECK(d.hardware_metrics);
    auto s = settings_of({{"SUPERVISOR_POLL_INTERVAL", "600000"},
                          {"SUPERVISOR_INSTANT_UPDATE_TRIGGER", "false"},
                          {"SUPERVISOR_HARDWARE_METRICS", "0"}});
    CHECK(s.poll_interval == ms(600000));
    CHECK_FALSE(s.instant_updates);
    CHECK_FALSE(s.hardware_metrics);
    CHECK_FALSE(
      settings_of({{"SUPERVISOR_POLL_INTERVAL", "soon"}}).poll_interval);
    CHECK_FALSE(settings_of({{"SUPERVISOR_POLL_INTERVAL", "0"}}).poll_interval);
    CHECK(
      settings_of({{"SUPERVISOR_HARDWARE_METRICS", "true"}}).hardware_metrics);
  }

  TEST_CASE("the target's config sets the API request timeout") {
    CHECK_FALSE(settings_of({}).api_request_timeout);
    CHECK(settings_of({{"SUPERVISOR_API_REQUEST_TIMEOUT", "30000"}})
            .api_request_timeout
          == ms(30000));
    CHECK_FALSE(settings_of({{"SUPERVISOR_API_REQUEST_TIMEOUT", "later"}})
                  .api_request_timeout);
  }
}

TEST_SUITE("report throttle") {
  TEST_CASE("the first report goes at once, a change 3 s later waits for the "
            "10 s mark") {
    reporter r;
    auto t = t0();
    CHECK(r.tick(t, false));
    r.gate.accepted(t + 100ms);
    r.gate.changed();
    auto d = r.gate.decide(t + 3s);
    CHECK_FALSE(d.collect);
    REQUIRE(d.wake);
    CHECK(*d.wake == t + 10s);
    CHECK_FALSE(r.tick(t + 9999ms, false));
    CHECK(r.tick(t + 10s, false));
    CHECK(r.sends == 2);
  }

  TEST_CASE("one request in flight: nothing more until it is answered") {
    reporter r;
    auto t = t0();
    CHECK(r.tick(t, false));
    r.gate.changed();
    CHECK_FALSE(r.gate.decide(t + 30s).collect);
    CHECK_FALSE(r.gate.decide(t + 30s).wake);
    r.gate.accepted(t + 30s);
    CHECK(r.tick(t + 30s, false)); // spacing counted from the collection
  }

  TEST_CASE("nothing is sent when nothing changed") {
    reporter r;
    auto t = t0();
    CHECK(r.tick(t, false));
    r.gate.accepted(t);
    r.gate.changed();
    // A change that leaves the report as it was: collected, not sent.
    CHECK_FALSE(r.tick(t + 10s, true));
    CHECK(r.sends == 1);
    // No change: the next look is the silence check at 300 s.
    auto d = r.gate.decide(t + 11s);
    CHECK_FALSE(d.collect);
    REQUIRE(d.wake);
    CHECK(*d.wake == t + 300s);
  }

  TEST_CASE("a metrics-only diff is held back for 300 s after the last "
            "report, then sent by the silence timer") {
    reporter r;
    auto t = t0();
    CHECK(r.tick(t, false));
    r.gate.accepted(t);
    r.gate.changed();
    CHECK_FALSE(r.tick(t + 20s, false, true)); // metrics only: held
    auto d = r.gate.decide(t + 21s);
    REQUIRE(d.wake);
    CHECK(*d.wake == t + 300s);
    CHECK_FALSE(r.tick(t + 299s, false, true));
    CHECK(r.tick(t + 300s, false, true));
    CHECK(r.sends == 2);
  }

  TEST_CASE("a metrics diff riding along with a real change is not held") {
    reporter r;
    auto t = t0();
    CHECK(r.tick(t, false));
    r.gate.accepted(t);
    r.gate.changed();
    CHECK(r.tick(t + 10s, false, false));
  }

  TEST_CASE("a silence check that finds nothing starts a new quiet period") {
    reporter r;
    auto t = t0();
    CHECK(r.tick(t, false));
    r.gate.accepted(t);
    CHECK_FALSE(r.tick(t + 300s, true));
    auto d = r.gate.decide(t + 301s);
    REQUIRE(d.wake);
    CHECK(*d.wake == t + 600s);
  }

  TEST_CASE("failures retry the collection with a growing backoff up to the "
            "poll interval") {
    report_rules rules;
    rules.backoff_cap = 100s;
    reporter r(rules);
    auto t = t0();
    REQUIRE(r.tick(t, false));
    r.gate.failed(t, std::nullopt);
    CHECK(r.gate.retry_at() == t + 30s);
    CHECK_FALSE(r.tick(t + 29s, false));
    REQUIRE(r.tick(t + 30s, false));
    r.gate.failed(t + 30s, std::nullopt);
    CHECK(r.gate.retry_at() == t + 90s);
    REQUIRE(r.tick(t + 90s, false));
    r.gate.failed(t + 90s, std::nullopt);
    CHECK(r.gate.retry_at() == t + 190s); // capped at 100 s
    REQUIRE(r.tick(t + 190s, false));
    r.gate.accepted(t + 190s);
    CHECK(r.gate.failures() == 0);
    CHECK_FALSE(r.gate.retry_at());
  }

  TEST_CASE("Retry-After replaces the backoff; the 10 s spacing still holds") {
    reporter r;
    auto t = t0();
    REQUIRE(r.tick(t, false));
    r.gate.failed(t, ms(45000));
    CHECK(r.gate.retry_at() == t + 45s);
    CHECK_FALSE(r.tick(t + 44s, false));
    CHECK(r.tick(t + 45s, false));
    r.gate.failed(t + 45s, ms(1));
    // One request per 10 s stays the rule.
    CHECK_FALSE(r.tick(t + 46s, false));
    CHECK(r.tick(t + 55s, false));
  }

  TEST_CASE("a pending retry with nothing left to send is dropped") {
    reporter r;
    auto t = t0();
    REQUIRE(r.tick(t, false));
    r.gate.failed(t, std::nullopt);
    CHECK_FALSE(r.tick(t + 30s, true));
    CHECK_FALSE(r.gate.retry_at());
    CHECK(r.gate.failures() == 0);
  }
}
