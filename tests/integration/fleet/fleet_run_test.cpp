// The CI fleet run (issue 14): the real fleet-sim binary runs the ci
// scenario (tools/fleet-sim/scenarios/ci.json: 200 whole agents register
// with one provisioning key, install release A, then release B rolls out)
// against the real cloud-sim it starts, at --scale 60 (the poll interval,
// 15 s, and cloud_sync's poll jitter, up to 1 s, both scaled). Checks
// that every agent converged at both stages and that cloud-sim saw the
// requests the scenario implies. No dockerd: the engines are simulated.
#include "tests/integration/fleet/result_json.hpp"
#include "tests/support/process.hpp"

#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <rapidjson/document.h>

using namespace std::chrono_literals;
using namespace bosun::test::fleet;

TEST_SUITE("fleet-sim") {
  TEST_CASE("the CI fleet run: 200 agents register and install A then "
            "converge on B with the cloud requests the scenario implies") {
    bosun::test::temp_dir out;
    bosun::test::child_process sim(
      FLEET_SIM_BINARY,
      {"--scenario",
       std::string(BOSUN_SOURCE_DIR) + "/tools/fleet-sim/scenarios/ci.json",
       "--out", out.path(), "--cloud-sim", CLOUD_SIM_BINARY},
      {}, out.path() + "/fleet-sim.out");
    auto rc = sim.wait_exit(420s);
    INFO(sim.output());
    REQUIRE(rc.has_value());
    CHECK(*rc == 0);

    rapidjson::Document r;
    auto text = read_file(out.path() + "/result.json");
    r.Parse(text.c_str(), text.size());
    REQUIRE_FALSE(r.HasParseError());
    REQUIRE(r.IsObject());
    const double devices = 200;
    CHECK(number(r, "devices") == devices);
    CHECK(at(r, "ok").IsTrue());
    CHECK(at(r, "errors").IsArray());
    CHECK(at(r, "errors").Empty());
    CHECK(number(r, "agents_running") == devices);

    // Both stages: every device converged.
    const auto& stages = at(r, "stages");
    REQUIRE(stages.IsArray());
    REQUIRE(stages.Size() == 2);
    for (const auto& s : stages.GetArray()) {
      INFO(at(s, "name").GetString());
      CHECK(number(s, "devices") == devices);
      CHECK(number(s, "converged") == devices);
      CHECK(at(s, "ok").IsTrue());
      CHECK(at(s, "not_converged").Empty());
    }
    // The rollout: every device gets B on its next poll, so the last one
    // within a poll interval + cloud_sync's jitter + the apply, and some
    // slack for a loaded machine.
    auto bound = number(r, "poll_interval_s") + number(r, "max_jitter_s")
                 + number(r, "apply_estimate_s");
    CHECK(number(at(stages[1], "wall_s"), "max") <= bound + 15);

    // cloud-sim's counters, since before the first agent started.
    const auto& c = at(r, "cloud_counts");
    REQUIRE(c.IsObject());
    // The storm: one registration per device, each answered 201.
    CHECK(number(at(c, "register"), "requests") == devices);
    CHECK(statuses(c, "register", "201") == devices);
    // A new device reports its initial config as device config variables
    // (POST /v7/device_config_variable, two each), which join its target.
    CHECK(statuses(c, "v7", "201") == 2 * devices);
    // Target polls: each device got a document for A, for B and, when its
    // config variables landed after its first poll, for A with them; 304
    // otherwise; at most one poll per poll interval each over the run, plus
    // the first poll and the initial config report's own read of the target
    // (actors/cloud/initial_config.cpp). With the jitter scaled the run is
    // about 1.2 poll intervals, so that read is no longer hidden in slack.
    CHECK(statuses(c, "state-get", "200") >= 2 * devices);
    CHECK(statuses(c, "state-get", "200") <= 3 * devices);
    auto polls = number(at(c, "state-get"), "requests");
    auto per_device
      = 2 + std::floor(number(r, "wall_s") / number(r, "poll_interval_s"));
    CHECK(polls >= 2 * devices);
    CHECK(polls <= devices * per_device);
    // Every device reported its state on each release at least.
    CHECK(number(at(c, "state-patch"), "requests") >= 2 * devices);
    CHECK(statuses(c, "state-patch", "200")
          == number(at(c, "state-patch"), "requests"));
    // Nothing failed on any route.
    for (auto& route : c.GetObject())
      for (auto& st : at(route.value, "statuses").GetObject())
        if (std::string code = st.name.GetString(); code != "0") {
          INFO(route.name.GetString(), " ", code);
          CHECK(std::stoi(code) < 400);
        }

    // The report was written (plots or the reason there are none).
    auto report = read_file(out.path() + "/report.md");
    CHECK(report.find("converged as the scenario asks") != std::string::npos);
    CHECK(report.find("## Plots") != std::string::npos);
  }
}
