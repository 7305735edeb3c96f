// An agent's outside world comes through agent_deps: three managed agents
// side by side, each with its own simulated host facts, seed and log
// prefix, against a scripted cloud, at fleet-sim's --scale 60. Each reports
// its own facts; the poll jitter is the seed's (the same for the same seed,
// another for another) and divided by the time scale; each agent's log
// lines carry its own short uuid.
#include "actors/cloud/cloud_sync.hpp"
#include "tests/unit/fleet/fixture.hpp"

namespace bosun::fleettest {
namespace {

constexpr double scale = 60;

sim::sim_host_facts facts(size_t index, const std::string& os) {
  auto f = sim::sim_host_for(7, index);
  f.pretty_name = os;
  return f;
}

struct managed_agents : agents {
  std::shared_ptr<cloud_stub> cloud = std::make_shared<cloud_stub>();
  one& alpha = add();
  one& beta = add();
  one& gamma = add(); // alpha's seed on another device

  managed_agents() {
    start(alpha, "alpha", 1, 11,
          {cloud,
           "a1a1a1a1000000000000000000000001",
           scale,
           facts(1, "balenaOS 6.1.1 alpha"),
           {}});
    start(beta, "beta", 2, 22,
          {cloud,
           "b2b2b2b2000000000000000000000002",
           scale,
           facts(2, "balenaOS 6.2.2 beta"),
           {}});
    start(gamma, "gamma", 3, 11,
          {cloud,
           "c3c3c3c3000000000000000000000003",
           scale,
           facts(3, "balenaOS 6.3.3 gamma"),
           {}});
  }

  // cloud_sync's status once it has polled and chosen its next wait.
  cloud_status polled(one& o) {
    auto cs = core(o).cloud_sync;
    cloud_status st;
    test::eventually(
      20s,
      [&](std::string& last) {
        st = ask<cloud_status>(cs, caf::get_atom_v);
        last = std::to_string(st.polls) + " polls, " + st.last_error;
        return st.polls >= 1 && st.poll_delay_ms.has_value();
      },
      o.service + " polled");
    return st;
  }
};

} // namespace

TEST_SUITE("agent dependencies") {
  TEST_CASE_FIXTURE(managed_agents,
                    "each agent reports its own host facts, draws its seed's "
                    "jitter, scaled, and logs under its own id") {
    // Host facts: each state report names its own device only.
    std::vector<one*> all3{&alpha, &beta, &gamma};
    for (size_t i = 0; i < all3.size(); ++i) {
      auto& o = *all3[i];
      auto f = facts(i + 1, "");
      std::string reports;
      test::eventually(
        20s,
        [&] {
          reports.clear();
          for (auto& b : cloud->bodies(o.a.uuid, "PATCH", "/device/v3/state"))
            reports += b;
          return reports.find("\"ip_address\"") != std::string::npos;
        },
        o.service + "'s state report with its addresses");
      CHECK(reports.find(o.service) != std::string::npos); // os_version
      CHECK(reports.find("\"" + f.ip_address + "\"") != std::string::npos);
      CHECK(reports.find(f.mac_address) != std::string::npos);
      for (auto* other : all3) {
        if (other == &o)
          continue;
        auto of = facts(other == &alpha ? 1 : other == &beta ? 2 : 3, "");
        CHECK(reports.find(other->service) == std::string::npos);
        CHECK(reports.find("\"" + of.ip_address + "\"") == std::string::npos);
        CHECK(reports.find(other->a.uuid) == std::string::npos);
      }
    }

    // Jitter: the wait after the first poll is the interval (900 s / 60)
    // plus the seed's draw, under 60 s / 60.
    auto a = polled(alpha);
    auto b = polled(beta);
    auto g = polled(gamma);
    MESSAGE("poll delays: alpha " << *a.poll_delay_ms << " ms, beta "
                                  << *b.poll_delay_ms << " ms, gamma "
                                  << *g.poll_delay_ms << " ms");
    for (auto* st : {&a, &b, &g}) {
      CHECK(*st->poll_delay_ms >= 15000);
      CHECK(*st->poll_delay_ms < 15000 + 1000);
    }
    CHECK(*a.poll_delay_ms == *g.poll_delay_ms);
    CHECK(*a.poll_delay_ms != *b.poll_delay_ms);

    // Logs: every line of an agent's log names that agent, none another.
    for (auto* o : all3) {
      auto log = slurp(o->dir / "agent.log");
      auto mine = "[" + o->a.uuid.substr(0, 7) + "] ";
      std::istringstream in(log);
      std::string line;
      size_t lines = 0;
      while (std::getline(in, line)) {
        ++lines;
        CHECK_MESSAGE(line.find(mine) != std::string::npos, line);
        for (auto* other : all3)
          if (other != o)
            CHECK(line.find(other->a.uuid.substr(0, 7)) == std::string::npos);
      }
      CHECK(lines > 0);
    }
  }
}

TEST_SUITE("agent dependencies") {
  TEST_CASE_FIXTURE(agents, "the wall clock: the agent's own log lines and "
                            "telemetry's collected_at are on its clock") {
    constexpr int64_t fixed = 1234567890123; // 2009-02-13, not today
    auto& o = add();
    agent_setup setup;
    setup.wall_clock_ms = [] { return fixed; };
    start(o, "clocked", 4, 44, setup);
    apply(o); // "Installing service …" and the like: system lines
    std::lock_guard<std::mutex> g{o.lines->m};
    REQUIRE(!o.lines->system_stamps.empty());
    for (auto ts : o.lines->system_stamps)
      CHECK(ts == fixed);
    auto snap
      = ask<telemetry_snapshot>(core(o).telemetry, collect_telemetry{o.a.root});
    CHECK(snap.collected_at == doctest::Approx(fixed / 1000.0));
  }
}

} // namespace bosun::fleettest
