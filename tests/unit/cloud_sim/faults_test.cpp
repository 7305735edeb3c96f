#include "tools/cloud-sim/faults.hpp"

#include <doctest/doctest.h>

using namespace bosun::cloud_sim;
using namespace std::chrono_literals;

TEST_SUITE("fault_table") {
  TEST_CASE("a counted status fault answers N requests, then goes away") {
    fault_table t;
    auto now = steady::time_point{} + 1h;
    fault f;
    f.mode = fault_mode::status;
    f.status = 500;
    f.remaining = 2;
    t.set(route::state_get, f, now);
    auto gen = t.generation();
    CHECK(t.decide(route::state_patch, now).kind == action_kind::none);
    auto a = t.decide(route::state_get, now);
    CHECK(a.kind == action_kind::status);
    CHECK(a.status == 500);
    CHECK(t.get(route::state_get)->remaining == 1u);
    CHECK(t.decide(route::state_get, now).kind == action_kind::status);
    CHECK_FALSE(t.get(route::state_get));
    CHECK(t.generation() > gen);
    CHECK(t.decide(route::state_get, now).kind == action_kind::none);
  }

  TEST_CASE("an uncounted fault stays until cleared") {
    fault_table t;
    auto now = steady::time_point{};
    fault f;
    f.mode = fault_mode::stall;
    t.set(route::log_stream, f, now);
    for (int i = 0; i < 5; ++i)
      CHECK(t.decide(route::log_stream, now).kind == action_kind::stall);
    CHECK(t.stalls(route::log_stream));
    CHECK(t.get(route::log_stream)->hits == 5u);
    t.clear(route::log_stream);
    CHECK_FALSE(t.stalls(route::log_stream));
    CHECK(t.decide(route::log_stream, now).kind == action_kind::none);
  }

  TEST_CASE("delay, drop and hangup carry their parameters") {
    fault_table t;
    auto now = steady::time_point{};
    fault d;
    d.mode = fault_mode::delay;
    d.delay = 250ms;
    t.set(route::v7, d, now);
    auto a = t.decide(route::v7, now);
    CHECK(a.kind == action_kind::delay);
    CHECK(a.delay == 250ms);
    fault x;
    x.mode = fault_mode::drop;
    t.set(route::v7, x, now);
    CHECK(t.decide(route::v7, now).kind == action_kind::drop);
    fault h;
    h.mode = fault_mode::hangup;
    h.delay = 40ms;
    t.set(route::v7, h, now);
    auto hung = t.decide(route::v7, now);
    CHECK(hung.kind == action_kind::hangup);
    CHECK(hung.delay == 40ms);
    CHECK(fault_mode_from_name("hangup") == fault_mode::hangup);
    t.clear_all();
    CHECK(t.decide(route::v7, now).kind == action_kind::none);
  }

  TEST_CASE("flap is healthy for up_ms, then 503 for down_ms, repeating") {
    fault_table t;
    auto start = steady::time_point{} + 10s;
    fault f;
    f.mode = fault_mode::flap;
    f.status = 503;
    f.up = 100ms;
    f.down = 300ms;
    t.set(route::register_device, f, start);
    auto at = [&](std::chrono::milliseconds ms) {
      return t.decide(route::register_device, start + ms).kind;
    };
    CHECK(at(0ms) == action_kind::none);
    CHECK(at(99ms) == action_kind::none);
    CHECK(at(100ms) == action_kind::status);
    CHECK(at(399ms) == action_kind::status);
    CHECK(at(400ms) == action_kind::none);
    CHECK(at(550ms) == action_kind::status);
    CHECK(t.get(route::register_device)->hits == 3u);
  }

  TEST_CASE("names round-trip") {
    for (auto m : {fault_mode::status, fault_mode::delay, fault_mode::drop,
                   fault_mode::stall, fault_mode::flap})
      CHECK(fault_mode_from_name(name_of(m)) == m);
    CHECK_FALSE(fault_mode_from_name("explode"));
    CHECK(route_from_name("state-get") == route::state_get);
    CHECK_FALSE(route_from_name("state"));
  }
}
