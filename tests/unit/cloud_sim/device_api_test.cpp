#include "tests/unit/cloud_sim/gzip.hpp"
#include "tools/cloud-sim/device_api.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace bosun::cloud_sim;

namespace {

struct fixture {
  model m;
  fixture() {
    fleet f;
    f.id = 1011165;
    f.provisioning_key = "pk";
    f.config = {{"RESIN_SUPERVISOR_POLL_INTERVAL", "900000"}};
    f.apps = R"({"app1":{"id":1011165,"name":"myfleet","releases":{}}})";
    REQUIRE(m.add_fleet(f) == outcome::ok);
    fleet other;
    other.id = 2;
    other.provisioning_key = "pk2";
    REQUIRE(m.add_fleet(other) == outcome::ok);
  }

  device_response call(const std::string& method, const std::string& target,
                       const std::string& key, const std::string& body = {},
                       const std::string& inm = {}) {
    device_request r;
    r.method = method;
    auto q = target.find('?');
    r.path = percent_decode(target.substr(0, q), false);
    if (q != std::string::npos)
      r.query = target.substr(q + 1);
    if (!key.empty())
      r.authorization = "Bearer " + key;
    r.if_none_match = inm;
    r.body = body;
    return handle(m, classify(r.method, r.path), r, 1000);
  }

  device_response register_device(const std::string& uuid,
                                  const std::string& key,
                                  const std::string& pk = "pk") {
    return call("POST", "/device/register", pk,
                R"({"application":1011165,"uuid":")" + uuid
                  + R"(","device_type":"amd64","api_key":")" + key
                  + R"(","supervisor_version":"19.0.5"})");
  }

  std::string etag_of(const device_response& r) {
    for (auto& [k, v] : r.headers)
      if (k == "ETag")
        return v;
    return {};
  }
};

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

} // namespace

TEST_SUITE("device_api") {
  TEST_CASE("classifies the balena routes") {
    CHECK(classify("POST", "/device/register").r == route::register_device);
    auto g = classify("GET", "/device/v3/abc/state");
    CHECK(g.r == route::state_get);
    CHECK(g.uuid == "abc");
    CHECK(classify("PATCH", "/device/v3/state").r == route::state_patch);
    auto l = classify("POST", "/device/v2/abc/log-stream");
    CHECK(l.r == route::log_stream);
    CHECK(l.uuid == "abc");
    CHECK(classify("GET", "/v7/device").v7 == route_match::device_get);
    auto p = classify("PATCH", "/v7/device(42)");
    CHECK(p.v7 == route_match::device_patch);
    CHECK(p.id == 42);
    CHECK(classify("PATCH", "/v7/device(uuid='u')").uuid == "u");
    CHECK(classify("POST", "/v7/device_config_variable").v7
          == route_match::config_variable);
    auto k = classify("POST", "/api-key/device/7/device-key");
    CHECK(k.r == route::device_key);
    CHECK(k.id == 7);
    CHECK(classify("GET", "/device/register").r == route::other);
    CHECK(classify("GET", "/device/v3/a/b/state").r == route::other);
    CHECK(classify("POST", "/api-key/device/x/device-key").r == route::other);
  }

  TEST_CASE("parses bearer keys, queries and OData uuid filters") {
    CHECK(bearer("Bearer abc") == "abc");
    CHECK(bearer("bearer  abc ") == "abc");
    CHECK(bearer("Basic abc").empty());
    CHECK(bearer("").empty());
    auto q = parse_query("$select=id&$filter=uuid%20eq%20%27u1%27&x");
    CHECK(q["$select"] == "id");
    CHECK(q["$filter"] == "uuid eq 'u1'");
    CHECK(q.count("x") == 1);
    CHECK(filter_uuid("uuid eq 'u1'") == std::optional<std::string>("u1"));
    CHECK(filter_uuid("is_online eq true and uuid eq 'z'")
          == std::optional<std::string>("z"));
    CHECK_FALSE(filter_uuid("uuid eq u1"));
    CHECK_FALSE(filter_uuid("uuid eq ''"));
  }

  TEST_CASE_FIXTURE(fixture, "registers once, then answers 409") {
    auto r = register_device("u1", "dk1");
    CHECK(r.status == 201);
    auto body = parse(r.body);
    CHECK(body["id"].GetInt64() == 1);
    CHECK(std::string(body["uuid"].GetString()) == "u1");
    CHECK(std::string(body["api_key"].GetString()) == "dk1");
    CHECK(register_device("u1", "dk1").status == 409);
    auto regs = m.query(record_kind::registration, {});
    REQUIRE(regs.size() == 1);
    CHECK(regs[0]->device == "u1");
    CHECK(m.find_device("u1")->fleet == 1011165);
  }

  TEST_CASE_FIXTURE(fixture, "refuses registration with a wrong key") {
    CHECK(register_device("u1", "dk1", "nope").status == 401);
    CHECK(register_device("u1", "dk1", "").status == 401);
    // pk2 belongs to fleet 2, the body asks for 1011165.
    CHECK(register_device("u1", "dk1", "pk2").status == 403);
    CHECK(call("POST", "/device/register", "pk", "not json").status == 400);
    CHECK(call("POST", "/device/register", "pk", R"({"application":1})").status
          == 400);
    CHECK(m.devices().empty());
  }

  TEST_CASE_FIXTURE(fixture, "serves the fleet target with an ETag and 304") {
    REQUIRE(register_device("u1", "dk1").status == 201);
    auto r = call("GET", "/device/v3/u1/state", "dk1");
    CHECK(r.status == 200);
    auto doc = parse(r.body);
    REQUIRE(doc.HasMember("u1"));
    CHECK(std::string(doc["u1"]["name"].GetString()) == "device-1");
    CHECK(doc["u1"]["apps"].HasMember("app1"));
    CHECK(std::string(
            doc["u1"]["config"]["RESIN_SUPERVISOR_POLL_INTERVAL"].GetString())
          == "900000");
    auto etag = etag_of(r);
    CHECK(etag.size() == 18);
    CHECK(etag.front() == '"');
    auto again = call("GET", "/device/v3/u1/state", "dk1", {}, etag);
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(etag_of(again) == etag);
    CHECK(call("GET", "/device/v3/u1/state", "dk1", {}, "\"x\", " + etag).status
          == 304);
    CHECK(call("GET", "/device/v3/u1/state", "dk1", {}, "\"other\"").status
          == 200);

    // A new fleet target gives a new ETag, and the old one no longer matches.
    REQUIRE(m.set_fleet_target(1011165, {}, R"({"app2":{}})") == outcome::ok);
    auto changed = call("GET", "/device/v3/u1/state", "dk1", {}, etag);
    CHECK(changed.status == 200);
    CHECK(etag_of(changed) != etag);
    CHECK(parse(changed.body)["u1"]["apps"].HasMember("app2"));
  }

  TEST_CASE_FIXTURE(fixture, "a device target overrides the fleet's") {
    REQUIRE(register_device("u1", "dk1").status == 201);
    REQUIRE(register_device("u2", "dk2").status == 201);
    device_target t;
    t.name = "special";
    t.config = {{"RESIN_HOST_CONFIG_gpu_mem", "16"}};
    t.apps = R"({"mine":{"id":9}})";
    REQUIRE(m.set_device_target("u1", t) == outcome::ok);
    auto one = parse(call("GET", "/device/v3/u1/state", "dk1").body);
    CHECK(std::string(one["u1"]["name"].GetString()) == "special");
    CHECK(one["u1"]["apps"].HasMember("mine"));
    CHECK_FALSE(
      one["u1"]["config"].HasMember("RESIN_SUPERVISOR_POLL_INTERVAL"));
    auto two = parse(call("GET", "/device/v3/u2/state", "dk2").body);
    CHECK(two["u2"]["apps"].HasMember("app1"));
    REQUIRE(m.set_device_target("u1", std::nullopt) == outcome::ok);
    auto back = parse(call("GET", "/device/v3/u1/state", "dk1").body);
    CHECK(back["u1"]["apps"].HasMember("app1"));
  }

  TEST_CASE_FIXTURE(fixture, "device routes need the device's own key") {
    REQUIRE(register_device("u1", "dk1").status == 201);
    REQUIRE(register_device("u2", "dk2").status == 201);
    CHECK(call("GET", "/device/v3/u1/state", "").status == 401);
    CHECK(call("GET", "/device/v3/u1/state", "wrong").status == 401);
    CHECK(call("GET", "/device/v3/u1/state", "dk2").status == 401);
    CHECK(call("GET", "/device/v3/u1/state", "pk").status == 401);
    CHECK(call("PATCH", "/device/v3/state", "", R"({"u1":{}})").status == 401);
    CHECK(call("PATCH", "/device/v3/state", "dk2", R"({"u1":{}})").status
          == 403);
    CHECK(m.query(record_kind::report, {}).empty());
  }

  TEST_CASE_FIXTURE(fixture, "records state reports and keeps the latest") {
    REQUIRE(register_device("u1", "dk1").status == 201);
    auto r = call("PATCH", "/device/v3/state", "dk1",
                  R"({"u1":{"status":"Idle","cpu_usage":7,"apps":{}}})");
    CHECK(r.status == 200);
    CHECK(call("PATCH", "/device/v3/state", "dk1", R"({"u1":{"cpu_usage":9}})")
            .status
          == 200);
    CHECK(call("PATCH", "/device/v3/state", "dk1", "[1]").status == 400);
    auto reports = m.query(record_kind::report, {});
    REQUIRE(reports.size() == 2);
    CHECK(reports[0]->body
          == R"({"u1":{"status":"Idle","cpu_usage":7,"apps":{}}})");
    auto* d = m.find_device("u1");
    CHECK(d->reports == 2);
    CHECK(d->reported["cpu_usage"] == "9");
    CHECK(d->reported["status"] == "\"Idle\"");
  }

  TEST_CASE_FIXTURE(fixture, "key exchange: find by uuid, then set the key") {
    REQUIRE(register_device("u1", "dk1").status == 201);
    auto target = "/v7/device?$select=id&$filter=uuid%20eq%20'u1'";
    CHECK(call("GET", target, "dk1").body == R"({"d":[{"id":1}]})");
    CHECK(call("GET", target, "pk").body == R"({"d":[{"id":1}]})");
    CHECK(call("GET", target, "stale-key").body == R"({"d":[]})");
    CHECK(call("GET", target, "pk2").body == R"({"d":[]})");
    CHECK(call("GET", target, "").status == 401);

    CHECK(
      call("POST", "/api-key/device/1/device-key", "dk1", R"({"apiKey":"new"})")
        .status
      == 401);
    CHECK(
      call("POST", "/api-key/device/1/device-key", "pk2", R"({"apiKey":"new"})")
        .status
      == 404);
    auto r = call("POST", "/api-key/device/1/device-key", "pk",
                  R"({"apiKey":"new"})");
    CHECK(r.status == 200);
    CHECK(r.body == "\"new\"");
    CHECK(call("GET", "/device/v3/u1/state", "dk1").status == 401);
    CHECK(call("GET", "/device/v3/u1/state", "new").status == 200);
    CHECK(m.query(record_kind::api_call, {}).size() == 1);
  }

  TEST_CASE_FIXTURE(fixture, "records /v7 device patches and config vars") {
    REQUIRE(register_device("u1", "dk1").status == 201);
    auto before = call("GET", "/device/v3/u1/state", "dk1");
    CHECK(call("PATCH", "/v7/device(1)", "dk1",
               R"({"device_name":"kitchen","is_pinned_on__release":null})")
            .status
          == 200);
    CHECK(
      call(
        "POST", "/v7/device_config_variable", "dk1",
        R"({"name":"RESIN_SUPERVISOR_LOCAL_MODE","value":"false","device":1})")
        .status
      == 201);
    CHECK(
      call(
        "POST", "/v7/device_config_variable", "dk1",
        R"({"name":"RESIN_SUPERVISOR_LOCAL_MODE","value":"true","device":1})")
        .status
      == 409);
    CHECK(call("PATCH", "/v7/device(1)", "dk2", "{}").status == 401);
    CHECK(call("PATCH", "/v7/device(99)", "pk", "{}").status == 404);
    auto calls = m.query(record_kind::api_call, {});
    REQUIRE(calls.size() == 3);
    CHECK(calls[0]->request == "PATCH /v7/device(1)");
    auto after = call("GET", "/device/v3/u1/state", "dk1");
    CHECK(etag_of(after) != etag_of(before));
    auto doc = parse(after.body);
    CHECK(std::string(doc["u1"]["name"].GetString()) == "kitchen");
    CHECK(std::string(
            doc["u1"]["config"]["RESIN_SUPERVISOR_LOCAL_MODE"].GetString())
          == "false");
  }

  TEST_CASE_FIXTURE(fixture, "a log stream records lines as they arrive") {
    REQUIRE(register_device("u1", "dk1").status == 201);
    device_request req;
    req.method = "POST";
    req.path = "/device/v2/u1/log-stream";
    req.content_encoding = "gzip";
    auto match = classify(req.method, req.path);
    CHECK(check_log_stream(m, match, req)->status == 401);
    req.authorization = "Bearer dk2";
    CHECK(check_log_stream(m, match, req)->status == 401);
    req.authorization = "Bearer dk1";
    CHECK_FALSE(check_log_stream(m, match, req));

    bosun::test::gzip_writer gz;
    log_session s("u1", true);
    auto first = gz.write(R"({"message":"a","timestamp":1,"isSystem":true})"
                          "\n");
    CHECK(s.feed(m, first.data(), first.size(), 5));
    REQUIRE(m.query(record_kind::log, {}).size() == 1);
    auto second = gz.finish("not json\n");
    CHECK(s.feed(m, second.data(), second.size(), 6));
    auto r = s.finish(m, 7);
    CHECK(r.status == 200);
    CHECK(r.body == R"({"lines":2,"invalid_lines":1})");
    auto lines = m.query(record_kind::log, {});
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]->body == R"({"message":"a","timestamp":1,"isSystem":true})");
    CHECK(lines[1]->body == R"({"invalid_line":"not json"})");
    CHECK(m.find_device("u1")->log_lines == 2);
  }

  TEST_CASE_FIXTURE(fixture, "unknown routes are 404") {
    CHECK(call("GET", "/nothing", "").status == 404);
  }
}
