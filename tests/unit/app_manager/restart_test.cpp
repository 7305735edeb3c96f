// app_manager pins (issue 12): what survives a restart of bosun, and the
// retry of a failed pass.
#include "tests/unit/app_manager/fixture.hpp"

using namespace bosun;
using namespace bosun::amtest;

TEST_CASE("a restarted app_manager adopts the running containers") {
  deterministic t;
  t.apply(target_of({service("web"), service("db")}));
  t.settle();
  auto web = t.w->id_of("web");
  auto db = t.w->id_of("db");
  REQUIRE(t.act(service_action_kind::stop, "db"));
  REQUIRE_FALSE(t.running("db"));
  t.restart_manager();
  t.w->calls.clear();
  t.settle();
  // The stored target is loaded and applied; nothing is recreated.
  CHECK(t.w->id_of("web") == web);
  CHECK(t.w->id_of("db") == db);
  CHECK(t.w->count_prefix("create ") == 0);
  CHECK(t.w->count_prefix("remove ") == 0);
  CHECK(t.running("web"));
  CHECK_FALSE(t.running("db")); // the API's stop is remembered
  auto st = t.status();
  CHECK(st.state == apps_state::idle);
  CHECK(st.services.size() == 2); // supervisors for both (adopted)
  CHECK(st.commits.at("1") == "abc");
}

TEST_CASE("a failed pass is retried after 500 ms, doubling") {
  deterministic t;
  t.w->volumes_down = true;
  t.apply(target_of({service("web")}));
  auto st = t.status();
  CHECK(st.failures == 1);
  CHECK(st.state == apps_state::applying);
  CHECK(st.last_error.rfind("reading the engine: ", 0) == 0);
  CHECK(st.last_error.find("volumes are down") != std::string::npos);
  CHECK(t.view().update_failed); // (view() moves the clock 1 s)
  // 500 ms, then 1 s: two more failed passes by now.
  CHECK(t.status().failures == 2);
  auto lists = t.w->count_prefix("list");
  t.advance(std::chrono::milliseconds(999));
  CHECK(t.w->count_prefix("list") == lists); // the next waits 1 s
  t.advance(std::chrono::milliseconds(1001));
  CHECK(t.w->count_prefix("list") == lists + 1);
  CHECK(t.status().failures == 3);
  CHECK(t.w->containers.empty()); // a failed read changes nothing
  t.w->volumes_down = false;
  t.advance(std::chrono::seconds(4));
  t.settle();
  st = t.status();
  CHECK(st.failures == 0);
  CHECK(st.last_error.empty());
  CHECK(st.state == apps_state::idle);
  CHECK(t.running("web"));
}
