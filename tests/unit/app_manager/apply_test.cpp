// app_manager pins (issue 12): today's apply behaviour, before the redesign.
#include "tests/unit/app_manager/fixture.hpp"

using namespace bosun;
using namespace bosun::amtest;

TEST_CASE("from empty, a two-service app is fetched, created, started") {
  deterministic t;
  auto gen = t.apply(target_of({service("web"), service("db")}));
  CHECK(gen == 1); // the reply: the target's generation, once stored
  REQUIRE(t.db_state->target.has_value());
  t.settle();
  // Images fetched (once each), the default network and the volume made.
  std::multiset<std::string> fetched(t.img->fetches.begin(),
                                     t.img->fetches.end());
  CHECK(fetched.count("registry.local/web:1") == 1);
  CHECK(fetched.count("registry.local/db:1") == 1);
  CHECK(t.w->has_network("1_default"));
  CHECK(t.w->volumes.count("1_data") == 1);
  // Both containers exist and run, as the engine sees them.
  REQUIRE(t.w->containers.size() == 2);
  CHECK(t.running("web"));
  CHECK(t.running("db"));
  auto st = t.status();
  CHECK(st.state == "Idle");
  CHECK(st.failures == 0);
  CHECK(st.last_error.empty());
  CHECK(st.fetch_errors.empty());
  CHECK(st.commits.at("1") == "abc");
  CHECK(st.services.size() == 2);
  auto v = t.view();
  CHECK_FALSE(v.applying);
  CHECK_FALSE(v.update_failed);
  REQUIRE(v.apps.size() == 1);
  CHECK(v.apps[0].update_status == "done");
  CHECK(v.apps[0].current_commit == "abc");
  REQUIRE(v.apps[0].services.size() == 2);
  for (auto& s : v.apps[0].services) {
    CHECK(s.status == "Running");
    CHECK(s.container_id == t.w->id_of(s.service_name));
  }
  // The commit is persisted as bookkeeping.
  CHECK(t.db_state->kv.at("apps.commit.1") == "abc");
}
