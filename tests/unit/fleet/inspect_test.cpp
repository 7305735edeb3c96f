// fleet-sim's inspection endpoint, scraped over HTTP with three whole
// agents: two converged on their own targets, one whose engine is down.
// /metrics aggregates their telemetry by actor kind, /agents/<uuid>/telemetry
// is that agent's own document, /unconverged names the agents off the goal
// and says why.
#include "tests/support/process.hpp"
#include "tests/support/prometheus.hpp"
#include "tests/unit/fleet/fixture.hpp"
#include "tools/fleet-sim/inspect.hpp"

#include <rapidjson/document.h>

namespace bosun::fleettest {
namespace {

struct inspected : agents {
  one& alpha = add();
  one& beta = add();
  one& gamma = add();
  fleet::inspector insp{sys};
  int port = 0;

  inspected() {
    start(alpha, "alpha", 1, 11);
    start(beta, "beta", 2, 22);
    start(gamma, "gamma", 3, 33);
    insp.set_agents({{alpha.a.uuid, alpha.a.root},
                     {beta.a.uuid, beta.a.root},
                     {gamma.a.uuid, gamma.a.root}});
    insp.set_goal({"uuid1", "c1"}); // alpha's app and release
    std::string why;
    auto p = insp.start("127.0.0.1", 0, &why);
    REQUIRE_MESSAGE(p, why);
    port = *p;
  }

  rapidjson::Document get_json(const std::string& target, int status = 200) {
    auto r = test::http_request(port, "GET", target);
    REQUIRE_MESSAGE(r.status == status, r.body);
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    REQUIRE_MESSAGE(!d.HasParseError(), r.body);
    return d;
  }
};

} // namespace

TEST_SUITE("fleet-sim inspection endpoint") {
  TEST_CASE_FIXTURE(inspected, "metrics by kind, one agent's telemetry, and "
                               "the unconverged agents with their reasons") {
    apply(alpha);
    apply(beta);
    self->send(gamma.engine, sim::sim_set_up{false, "pulled the plug"});
    auto gam = core(gamma).app_manager;
    ask<uint64_t>(gam, apply_target{target_for(3, "gamma"), false});

    // /unconverged: beta runs another app, gamma cannot apply; not alpha.
    test::eventually(
      30s,
      [&](std::string& last) {
        auto r = test::http_request(port, "GET", "/unconverged");
        last = r.body;
        return r.body.find("pulled the plug") != std::string::npos;
      },
      "gamma unconverged because its engine is down");
    auto u = get_json("/unconverged");
    CHECK(u["agents"].GetUint64() == 3);
    std::map<std::string, std::string> reasons;
    for (auto& x : u["unconverged"].GetArray())
      reasons[x["uuid"].GetString()] = x["reason"].GetString();
    CHECK(reasons.count(alpha.a.uuid) == 0);
    REQUIRE(reasons.count(beta.a.uuid) == 1);
    CHECK(reasons[beta.a.uuid] == "does not run app uuid1");
    REQUIRE(reasons.count(gamma.a.uuid) == 1);
    CHECK(reasons[gamma.a.uuid].find("pulled the plug") != std::string::npos);

    // /metrics: valid Prometheus text, summed and maxed over the agents.
    auto m = test::http_request(port, "GET", "/metrics");
    REQUIRE(m.status == 200);
    auto p = test::parse_prometheus(m.body);
    CHECK(p.errors == std::vector<std::string>{});
    CHECK(p.find("fleet_agents")->value == 3);
    CHECK(p.find("fleet_agents_reporting")->value == 3);
    auto* sups = p.find("fleet_actors", {{"kind", "service_supervisor"}});
    REQUIRE(sups);
    CHECK(sups->value >= 2); // alpha's and beta's (gamma's may run too)
    auto* apps_handled
      = p.find("fleet_actor_messages_handled_total", {{"kind", "app_manager"}});
    REQUIRE(apps_handled);
    // The sum of the agents' own figures: more than any one of them.
    auto tel = core(alpha).telemetry;
    auto snap = ask<telemetry_snapshot>(tel, collect_telemetry{alpha.a.root});
    double alpha_handled = 0;
    for (auto& r : snap.actors)
      if (r.kind == "app_manager")
        alpha_handled = static_cast<double>(r.sample.handled);
    CHECK(alpha_handled > 0);
    CHECK(apps_handled->value > alpha_handled);
    CHECK(p.find("fleet_actor_mailbox_depth_max", {{"kind", "engine"}}));
    CHECK(p.find("fleet_actor_restarts_total", {{"kind", "engine"}}));
    CHECK(p.find("fleet_service_supervisor_restarts_total",
                 {{"service", "alpha"}}));
    CHECK(p.types["fleet_actor_messages_handled_total"] == "counter");

    // /agents/<uuid>/telemetry: that agent's document, nobody else's.
    for (auto* o : {&alpha, &beta}) {
      auto d = get_json("/agents/" + o->a.uuid + "/telemetry");
      REQUIRE(d["services"].Size() == 1);
      CHECK(std::string{d["services"][0]["serviceName"].GetString()}
            == o->service);
    }
    auto missing = get_json("/agents/nosuchdevice/telemetry", 404);
    CHECK(std::string{missing["message"].GetString()}.find("nosuchdevice")
          != std::string::npos);
    CHECK(test::http_request(port, "POST", "/metrics").status == 405);
    CHECK(test::http_request(port, "GET", "/nothing").status == 404);
  }
}

} // namespace bosun::fleettest
