// The sharded fleet run (issue 14, docs/FLEET.md "`--shard i/n`"): two real
// fleet-sim processes, --shard 0/2 and 1/2, run the shards scenario
// (tools/fleet-sim/scenarios/shards.json: 2 × 20 agents install A, B rolls
// out to the whole fleet, two cloud faults) against one real cloud-sim,
// concurrently. Checks that both converge, that cloud-sim saw the fleet's
// target set once per release and each fault posted once (its admin call
// counts), and that the shards stepped together: shard 1 starts only once
// shard 0 waits at the first barrier, and at every barrier neither shard
// went on before the other arrived.
#include "tests/integration/fleet/result_json.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace std::chrono_literals;
using namespace bosun::test::fleet;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return d;
}

// cloud-sim on loopback with free ports, as fleet-sim starts it.
struct cloud_sim {
  bosun::test::child_process proc{
    CLOUD_SIM_BINARY, {"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}};
  int port = 0;
  int admin = 0;

  cloud_sim() {
    std::string out;
    REQUIRE(bosun::test::eventually(
      10s,
      [&](std::string& last) {
        last = out = proc.output();
        return out.find("(admin :") != std::string::npos;
      },
      "cloud-sim to print its ports"));
    auto at = out.find("http://127.0.0.1:");
    REQUIRE(at != std::string::npos);
    port = std::atoi(out.c_str() + at + 17);
    admin = std::atoi(out.c_str() + out.find("(admin :") + 8);
    REQUIRE(port > 0);
    REQUIRE(admin > 0);
  }

  rapidjson::Document get(const std::string& target) const {
    auto r = bosun::test::http_request(admin, "GET", target);
    REQUIRE(r.status == 200);
    auto d = parse(r.body);
    REQUIRE_FALSE(d.HasParseError());
    return d;
  }
};

std::vector<std::string> shard_args(const cloud_sim& c, const std::string& i,
                                    const std::string& out,
                                    const std::string& timeout) {
  return {"--scenario",
          std::string(BOSUN_SOURCE_DIR)
            + "/tools/fleet-sim/scenarios/shards.json",
          "--cloud",
          "http://127.0.0.1:" + std::to_string(c.port),
          "--admin",
          "http://127.0.0.1:" + std::to_string(c.admin),
          "--shard",
          i + "/2",
          "--seed",
          "7",
          "--out",
          out,
          "--no-plots",
          "--barrier-timeout-s",
          timeout};
}

// Milliseconds since the epoch, printed whole when a check fails.
int64_t ms(const rapidjson::Value& v, const char* key) {
  return static_cast<int64_t>(number(v, key));
}

// --seed 7 names the fleet 700007 (tools/fleet-sim/run.cpp, fleet_id).
const std::string fleet = "700007";

} // namespace

TEST_SUITE("fleet-sim shards") {
  TEST_CASE("two shards against one cloud-sim step together, converge, and "
            "set the fleet's target and post each fault once") {
    cloud_sim cloud;
    bosun::test::temp_dir out0;
    bosun::test::temp_dir out1;
    bosun::test::child_process shard0(
      FLEET_SIM_BINARY, shard_args(cloud, "0", out0.path(), "120"), {},
      out0.path() + "/fleet-sim.out");
    // Shard 1 starts only once shard 0 waits at the first barrier: shard 0
    // must wait for it there.
    const auto first = fleet + "-s1-start";
    REQUIRE(bosun::test::eventually(
      120s,
      [&](std::string& last) {
        auto r
          = bosun::test::http_request(cloud.admin, "GET", "/barriers/" + first);
        last = std::to_string(r.status) + " " + r.body + "\n" + shard0.output();
        return r.status == 200
               && r.body.find(R"("missing":[1])") != std::string::npos;
      },
      "shard 0 at the first barrier"));
    bosun::test::child_process shard1(
      FLEET_SIM_BINARY, shard_args(cloud, "1", out1.path(), "120"), {},
      out1.path() + "/fleet-sim.out");
    auto rc0 = shard0.wait_exit(300s);
    auto rc1 = shard1.wait_exit(60s);
    INFO("shard 0: ", shard0.output());
    INFO("shard 1: ", shard1.output());
    REQUIRE(rc0.has_value());
    REQUIRE(rc1.has_value());
    CHECK(*rc0 == 0);
    CHECK(*rc1 == 0);

    rapidjson::Document res[2];
    for (int i = 0; i < 2; ++i) {
      auto text = read_file((i == 0 ? out0 : out1).path() + "/result.json");
      res[i].Parse(text.c_str(), text.size());
      REQUIRE_FALSE(res[i].HasParseError());
      CAPTURE(i);
      const auto& r = res[i];
      CHECK(at(r, "ok").IsTrue());
      CHECK(at(r, "errors").Empty());
      CHECK(number(r, "devices") == 20);
      CHECK(number(at(r, "shard"), "first_device") == 20 * i);
      // Both stages: every device of the shard converged.
      const auto& stages = at(r, "stages");
      REQUIRE(stages.Size() == 2);
      for (const auto& s : stages.GetArray()) {
        INFO(at(s, "name").GetString());
        CHECK(number(s, "converged") == 20);
        CHECK(at(s, "ok").IsTrue());
      }
    }

    // The barriers: one before each of the 6 steps, one after shard 0 set
    // the fleet's target, one at the end; the same on both shards.
    const auto& b0 = at(res[0], "barriers");
    const auto& b1 = at(res[1], "barriers");
    REQUIRE(b0.Size() == 8);
    REQUIRE(b1.Size() == 8);
    for (rapidjson::SizeType k = 0; k < 8; ++k) {
      std::string name = at(b0[k], "name").GetString();
      CAPTURE(name);
      CHECK(name == at(b1[k], "name").GetString());
      CHECK(at(b0[k], "ok").IsTrue());
      CHECK(at(b1[k], "ok").IsTrue());
      // Arriving at barrier k is finishing what came before it; passing it
      // is beginning what comes after. Neither shard began before the
      // other finished (one machine, one clock).
      CHECK(ms(b0[k], "passed_ms") >= ms(b1[k], "arrived_ms"));
      CHECK(ms(b1[k], "passed_ms") >= ms(b0[k], "arrived_ms"));
    }
    CHECK(std::string(at(b0[0], "name").GetString()) == first);
    CHECK(std::string(at(b0[3], "name").GetString())
          == fleet + "-s3-fleet-target");
    CHECK(std::string(at(b0[7], "name").GetString()) == fleet + "-end");
    // Shard 0 waited for shard 1 to start, and cloud-sim saw it arrive last.
    CHECK(number(b0[0], "wait_s") > 0);
    CHECK(number(b0[0], "last_shard") == 1);

    // cloud-sim's side: every barrier opened with both shards in it.
    auto barriers = cloud.get("/barriers");
    CHECK(barriers.MemberCount() == 8);
    for (auto& b : barriers.GetObject()) {
      CAPTURE(b.name.GetString());
      CHECK(at(b.value, "open").IsTrue());
      CHECK(number(b.value, "count") == 2);
      CHECK(at(b.value, "arrived").Size() == 2);
    }

    // Fleet-wide actions happened once: the fleet's target for A (set up)
    // and for B (the rollout to 100 %), each fault posted once and the
    // timed one cleared once.
    auto calls = cloud.get("/admin-calls");
    CHECK(number(calls, "PUT /fleets/*/target") == 2);
    CHECK(number(calls, "POST /faults") == 2);
    CHECK(number(calls, "DELETE /faults/*") == 1);
    CHECK(at(calls, "DELETE /faults").IsNull());
    CHECK(number(cloud.get("/fleets/" + fleet), "version") == 3);
    // The counted fault acted on exactly its 5 polls.
    auto counts = cloud.get("/counts");
    CHECK(statuses(counts, "state-get", "500") == 5);
    CHECK(cloud.get("/devices?fleet=" + fleet).Size() == 40);
  }

  TEST_CASE("a shard whose peer never arrives fails with the reason after "
            "--barrier-timeout-s") {
    cloud_sim cloud;
    bosun::test::temp_dir out;
    bosun::test::child_process shard0(FLEET_SIM_BINARY,
                                      shard_args(cloud, "0", out.path(), "2"),
                                      {}, out.path() + "/fleet-sim.out");
    auto rc = shard0.wait_exit(120s);
    INFO(shard0.output());
    REQUIRE(rc.has_value());
    CHECK(*rc == 1);
    auto r = parse(read_file(out.path() + "/result.json"));
    REQUIRE_FALSE(r.HasParseError());
    CHECK(at(r, "ok").IsFalse());
    const auto& errors = at(r, "errors");
    REQUIRE(errors.Size() == 1);
    std::string why = errors[0].GetString();
    CHECK(why.find(fleet + "-s1-start") != std::string::npos);
    CHECK(why.find("shard(s) 1 of 2 did not arrive") != std::string::npos);
    const auto& b = at(r, "barriers");
    REQUIRE(b.Size() == 1);
    CHECK(at(b[0], "ok").IsFalse());
    // No step ran: no agent started, no fault posted.
    CHECK(at(r, "stages").Empty());
    CHECK(at(cloud.get("/admin-calls"), "POST /faults").IsNull());
  }
}
