#include "tools/cloud-sim/admin_api.hpp"
#include "tools/cloud-sim/options.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace bosun::cloud_sim;

namespace {

struct fixture {
  model m;
  fault_table faults;
  int changes = 0;
  int64_t wall_ms = 1'000'000; // barrier arrivals are stamped with it
  admin_api admin{m, faults, [this] { ++changes; }, [this] { return wall_ms; }};
  steady::time_point now = steady::time_point{} + std::chrono::hours(1);

  admin_reply call(const std::string& method, const std::string& target,
                   const std::string& body = {}) {
    auto q = target.find('?');
    return admin.handle(method, target.substr(0, q),
                        q == std::string::npos ? "" : target.substr(q + 1),
                        body, now);
  }

  rapidjson::Document json(const std::string& method, const std::string& target,
                           const std::string& body = {}) {
    auto r = call(method, target, body);
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    REQUIRE_FALSE(d.HasParseError());
    return d;
  }
};

} // namespace

TEST_SUITE("admin_api") {
  TEST_CASE_FIXTURE(fixture, "creates fleets and devices, one or many") {
    CHECK(call("POST", "/fleets",
               R"({"id":1,"provisioning_key":"pk","config":{"A":"1"}})")
            .status
          == 201);
    CHECK(call("POST", "/fleets", R"({"id":1,"provisioning_key":"x"})").status
          == 409);
    CHECK(call("POST", "/fleets", R"({"provisioning_key":"x"})").status == 400);
    CHECK(call("POST", "/fleets", R"({"id":3,"config":{"A":1}})").status
          == 400);
    CHECK(call("POST", "/devices",
               R"([{"uuid":"a","api_key":"ka","fleet":1},
                   {"uuid":"b","api_key":"kb","fleet":1,"name":"bee"}])")
            .status
          == 201);
    CHECK(call("POST", "/devices", R"({"uuid":"c","fleet":7})").status == 404);
    CHECK(call("POST", "/devices", R"({"uuid":"a","fleet":1})").status == 409);
    CHECK(call("POST", "/devices", "{").status == 400);
    auto list = json("GET", "/devices");
    REQUIRE(list.IsArray());
    CHECK(list.Size() == 2);
    CHECK(std::string(list[1]["name"].GetString()) == "bee");
    auto one = json("GET", "/devices/a");
    CHECK(std::string(one["device"]["api_key"].GetString()) == "ka");
    CHECK(call("GET", "/devices/zzz").status == 404);
    CHECK(call("DELETE", "/fleets/1").status == 409);
    CHECK(call("DELETE", "/devices/a").status == 200);
    CHECK(m.find_device("a") == nullptr);
  }

  TEST_CASE_FIXTURE(fixture, "sets fleet and device targets") {
    REQUIRE(
      call("POST", "/fleets", R"({"id":1,"provisioning_key":"pk"})").status
      == 201);
    REQUIRE(call("POST", "/devices", R"({"uuid":"a","fleet":1})").status
            == 201);
    auto before = json("GET", "/devices/a/target");
    CHECK(call("PUT", "/fleets/1/target", R"({"config":{"X":"1"}})").status
          == 400);
    CHECK(call("PUT", "/fleets/9/target", R"({"apps":{}})").status == 404);
    auto v = json("PUT", "/fleets/1/target",
                  R"({"config":{"X":"1"},"apps":{"app":{"id":1}}})");
    CHECK(v["version"].GetUint64() == 2);
    auto after = json("GET", "/devices/a/target");
    CHECK(std::string(after["etag"].GetString()) != before["etag"].GetString());
    CHECK(after["target"]["a"]["apps"].HasMember("app"));
    auto own
      = json("PUT", "/devices/a/target", R"({"name":"x","apps":{"mine":{}}})");
    CHECK(own.HasMember("etag"));
    CHECK(json("GET", "/devices/a/target")["target"]["a"]["apps"].HasMember(
      "mine"));
    CHECK(call("DELETE", "/devices/a/target").status == 200);
    CHECK(
      json("GET", "/devices/a/target")["target"]["a"]["apps"].HasMember("app"));
  }

  TEST_CASE_FIXTURE(fixture, "loads and dumps the state file format") {
    auto state = R"({"fleets":[{"id":5,"provisioning_key":"p","apps":{"q":{}}}],
                     "devices":[{"uuid":"d1","api_key":"k1","fleet":5,"id":40,
                                 "target":{"apps":{}}}]})";
    CHECK(admin.load_state(state).empty());
    CHECK(m.device_by_id(40)->uuid == "d1");
    CHECK(m.find_device("d1")->target.has_value());
    auto dump = json("GET", "/state");
    CHECK(dump["fleets"].Size() == 1);
    CHECK(dump["devices"][0]["id"].GetInt64() == 40);
    model copy;
    fault_table f;
    admin_api again(copy, f, [] {});
    auto r = call("GET", "/state");
    CHECK(again.load_state(r.body).empty());
    CHECK(copy.find_device("d1")->api_key == "k1");
    CHECK_FALSE(admin.load_state("[]").empty());
    CHECK_FALSE(
      admin.load_state(R"({"devices":[{"uuid":"x","fleet":99}]})").empty());
  }

  TEST_CASE_FIXTURE(fixture, "sets, lists and clears faults") {
    auto set
      = json("POST", "/faults",
             R"({"route":"state-get","mode":"status","status":500,"count":3})");
    CHECK(set["state-get"]["remaining"].GetUint64() == 3);
    CHECK(changes == 1);
    CHECK(faults.get(route::state_get)->status == 500);
    CHECK(call("POST", "/faults", R"({"route":"nope","mode":"drop"})").status
          == 400);
    CHECK(call("POST", "/faults", R"({"route":"v7","mode":"boom"})").status
          == 400);
    CHECK(
      call("POST", "/faults", R"({"route":"v7","mode":"status","status":99})")
        .status
      == 400);
    CHECK(call("POST", "/faults", R"({"route":"v7","mode":"drop","count":0})")
            .status
          == 400);
    CHECK(call("POST", "/faults",
               R"([{"route":"log-stream","mode":"stall"},
                   {"route":"register","mode":"flap","up_ms":10,"down_ms":20},
                   {"route":"v7","mode":"delay","ms":2000}])")
            .status
          == 200);
    CHECK(faults.stalls(route::log_stream));
    CHECK(faults.get(route::register_device)->down.count() == 20);
    CHECK(faults.get(route::v7)->delay.count() == 2000);
    auto listed = json("GET", "/faults");
    CHECK(listed.MemberCount() == 4);
    CHECK(call("DELETE", "/faults/log-stream").status == 200);
    CHECK_FALSE(faults.stalls(route::log_stream));
    CHECK(call("DELETE", "/faults/bogus").status == 404);
    CHECK(call("DELETE", "/faults").status == 200);
    CHECK(json("GET", "/faults").MemberCount() == 0);
    CHECK(call("POST", "/faults", R"({"route":"all","mode":"drop"})").status
          == 200);
    CHECK(faults.get(route::state_patch)->mode == fault_mode::drop);
  }

  TEST_CASE_FIXTURE(fixture, "shards arrive at a barrier and poll it until "
                             "the last one arrived") {
    auto a = json("POST", "/barriers/700005-0-start",
                  R"({"shard":1,"count":2,"tag":"ci/1","run":"r1"})");
    CHECK_FALSE(a["open"].GetBool());
    CHECK(a["opened_ms"].IsNull());
    REQUIRE(a["missing"].Size() == 1);
    CHECK(a["missing"][0].GetUint64() == 0);
    CHECK(a["arrived"][0]["ms"].GetInt64() == 1'000'000);
    CHECK_FALSE(json("GET", "/barriers/700005-0-start")["open"].GetBool());
    wall_ms += 2500;
    auto b = json("POST", "/barriers/700005-0-start",
                  R"({"shard":0,"count":2,"tag":"ci/1","run":"r0"})");
    CHECK(b["open"].GetBool());
    CHECK(b["opened_ms"].GetInt64() == 1'002'500);
    CHECK(b["missing"].Empty());
    auto polled = json("GET", "/barriers/700005-0-start");
    CHECK(polled["open"].GetBool());
    CHECK(polled["arrived"].Size() == 2);
    CHECK(std::string(polled["tag"].GetString()) == "ci/1");
    CHECK(json("GET", "/barriers").HasMember("700005-0-start"));
    CHECK(call("GET", "/barriers/nope").status == 404);
    CHECK(call("POST", "/barriers/x", R"({"shard":0})").status == 400);
    CHECK(call("POST", "/barriers/x", R"({"shard":-1,"count":2})").status
          == 400);
    CHECK(call("POST", "/barriers/x", R"({"shard":2,"count":2})").status
          == 400);
    CHECK(call("POST", "/barriers/700005-0-start",
               R"({"shard":0,"count":3,"tag":"ci/1","run":"r0"})")
            .status
          == 409);
    // A plain reset keeps barriers (a shard may wait at one); everything
    // does not.
    CHECK(call("POST", "/reset").status == 200);
    CHECK(call("GET", "/barriers/700005-0-start").status == 200);
    CHECK(call("POST", "/reset?everything=1").status == 200);
    CHECK(call("GET", "/barriers/700005-0-start").status == 404);
  }

  TEST_CASE_FIXTURE(fixture, "counts its calls by route until a reset") {
    REQUIRE(
      call("POST", "/fleets", R"({"id":1,"provisioning_key":"pk"})").status
      == 201);
    for (int i = 0; i < 2; ++i)
      CHECK(call("PUT", "/fleets/1/target", R"({"apps":{}})").status == 200);
    CHECK(call("PUT", "/fleets/9/target", R"({"apps":{}})").status == 404);
    CHECK(call("POST", "/faults", R"({"route":"v7","mode":"drop"})").status
          == 200);
    CHECK(call("DELETE", "/faults/v7").status == 200);
    CHECK(call("GET", "/nowhere").status == 404);
    auto c = json("GET", "/admin-calls");
    CHECK(c["POST /fleets"].GetUint64() == 1);
    CHECK(c["PUT /fleets/*/target"].GetUint64() == 3);
    CHECK(c["POST /faults"].GetUint64() == 1);
    CHECK(c["DELETE /faults/*"].GetUint64() == 1);
    CHECK_FALSE(c.HasMember("GET /nowhere"));
    CHECK_FALSE(c.HasMember("GET /admin-calls")); // counted after answering
    CHECK(json("GET", "/admin-calls")["GET /admin-calls"].GetUint64() == 1);
    CHECK(call("POST", "/reset").status == 200);
    auto after = json("GET", "/admin-calls");
    CHECK_FALSE(after.HasMember("PUT /fleets/*/target"));
    CHECK(after["POST /reset"].GetUint64() == 1);
  }

  TEST_CASE_FIXTURE(fixture, "pages through records with since and next") {
    m.add_record(record_kind::report, 1, "a", "", R"({"a":{}})");
    m.add_record(record_kind::report, 2, "b", "", R"({"b":{}})");
    auto page = json("GET", "/reports?limit=1");
    REQUIRE(page["items"].Size() == 1);
    auto next = page["next"].GetUint64();
    auto rest = json("GET", "/reports?since=" + std::to_string(next));
    REQUIRE(rest["items"].Size() == 1);
    CHECK(std::string(rest["items"][0]["device"].GetString()) == "b");
    CHECK(rest["items"][0]["body"].HasMember("b"));
    CHECK(json("GET", "/reports?device=a")["items"].Size() == 1);
    CHECK(call("POST", "/reset").status == 200);
    CHECK(json("GET", "/reports")["items"].Size() == 0);
    CHECK(call("GET", "/nowhere").status == 404);
  }
}

TEST_SUITE("options") {
  TEST_CASE("parses endpoints, flags and errors") {
    std::string err;
    auto o = parse_options({"--listen", "127.0.0.1:8000", "--admin=9000",
                            "--state", "s.json", "--verbose"},
                           err);
    REQUIRE(o);
    CHECK(o->listen_port == 8000);
    CHECK(o->admin_address == "127.0.0.1");
    CHECK(o->admin_port == 9000);
    CHECK(o->state_file == "s.json");
    CHECK(o->verbose);
    CHECK_FALSE(parse_options({"--listen", "x:y"}, err));
    CHECK_FALSE(parse_options({"--listen"}, err));
    CHECK(err.find("needs a value") != std::string::npos);
    CHECK_FALSE(parse_options({"--bogus"}, err));
    CHECK(parse_options({"--help"}, err)->help);
  }
}
