// An agent stopped and started again from its data dir, over the same
// simulated device (as fleet-sim's "kill and restart 5 % of the agents"
// will do): it keeps its identity and adopts the containers it left.
#include "tests/unit/fleet/fixture.hpp"

namespace bosun::fleettest {
namespace {

struct one_agent : agents {
  one& alpha = add();

  one_agent() {
    start(alpha, "alpha", 1, 11);
  }
};

} // namespace

TEST_SUITE("an agent restarted from its data dir") {
  TEST_CASE_FIXTURE(one_agent, "keeps its uuid, key and target, and adopts "
                               "its running container") {
    apply(alpha);
    auto before = containers(alpha);
    REQUIRE(before.size() == 1);
    auto started_at = ask<container_inspect>(
                        alpha.engine, container_inspect_req{before[0].id})
                        .state.started_at;
    auto uuid = alpha.a.uuid;
    auto key = alpha.a.api_key;
    stop(alpha);

    start(alpha, "alpha", 1, 11);
    CHECK(alpha.a.uuid == uuid);
    CHECK(alpha.a.api_key == key);
    auto am = core(alpha).app_manager;
    test::eventually(
      20s,
      [&](std::string& last) {
        auto st = ask<apps_status>(am, caf::get_atom_v);
        auto c = st.commits.find("uuid1");
        last = std::string(to_string(st.state)) + ", "
               + (c == st.commits.end() ? std::string{"no commit"} : c->second);
        return st.state == apps_state::idle && c != st.commits.end()
               && c->second == "c1";
      },
      "the stored target applied again");
    auto after = containers(alpha);
    REQUIRE(after.size() == 1);
    CHECK(after[0].id == before[0].id);
    CHECK(after[0].state == "running");
    // The same container, never stopped: started once, before the restart
    // (a fresh engine would have the same ids: they come from the seed).
    auto inspected = ask<container_inspect>(alpha.engine,
                                            container_inspect_req{after[0].id});
    CHECK(inspected.state.started_at == started_at);
    auto stats = ask<sim::sim_stats>(alpha.engine, sim::sim_stats_req{});
    CHECK(stats.pulls_started == 0);
  }
}

} // namespace bosun::fleettest
