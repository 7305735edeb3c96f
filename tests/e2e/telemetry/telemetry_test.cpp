// GET /v2/telemetry and GET /metrics on the real bosun binary with a real
// dockerd: the actors that exist are listed, their counters move when work
// happens, and /metrics is valid Prometheus text.
#include "tests/support/bosun.hpp"
#include "tests/support/env.hpp"
#include "tests/support/prometheus.hpp"
#include "tests/support/targets.hpp"

#include <doctest/doctest.h>
#include <map>
#include <rapidjson/document.h>
#include <regex>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::http_request;
using bosun::test::parse_prometheus;
using bosun::test::running_bosun;

namespace {

constexpr int app_id = 141;
const char* const container = "web_41_1_t1";

std::string target() {
  return bosun::test::sleeper_target(app_id, "tm", "t1", 41, "web", "tm");
}

void clean_app() {
  auto ids = docker("ps -aq --filter label=io.balena.app-id="
                    + std::to_string(app_id));
  std::istringstream in(ids.out);
  std::string id;
  while (in >> id)
    docker("rm -f " + id);
  docker("network rm " + std::to_string(app_id) + "_default");
}

struct app_fixture {
  app_fixture() {
    clean_app();
  }
  ~app_fixture() {
    clean_app();
  }
};

// One actor of the JSON answer, flattened for checks.
struct actor_row {
  std::string kind, parent;
  bool running = false, reporting = false;
  uint64_t handled = 0, mailbox_depth = 0;
  double mean_ms = 0, max_ms = 0;
  int restarts = 0;
};

struct telemetry_view {
  int status = 0;
  std::string body;
  std::map<std::string, actor_row> actors;
  rapidjson::Document doc;
};

std::unique_ptr<telemetry_view> get_telemetry(running_bosun& b) {
  auto v = std::make_unique<telemetry_view>();
  auto r = b.get("/v2/telemetry");
  v->status = r.status;
  v->body = r.body;
  if (r.status != 200 || v->doc.Parse(r.body.c_str()).HasParseError()
      || !v->doc.IsObject() || !v->doc["actors"].IsArray())
    return v;
  for (auto& a : v->doc["actors"].GetArray()) {
    actor_row row;
    row.kind = a["kind"].GetString();
    row.parent = a["parent"].IsString() ? a["parent"].GetString() : "";
    row.running = a["running"].GetBool();
    row.reporting = a["reporting"].GetBool();
    if (row.reporting) {
      row.handled = a["handled"].GetUint64();
      row.mailbox_depth = a["mailboxDepth"].GetUint64();
      row.mean_ms = a["handlingMeanMs"].GetDouble();
      row.max_ms = a["handlingMaxMs"].GetDouble();
    }
    row.restarts = a["restarts"].GetInt();
    v->actors[a["name"].GetString()] = row;
  }
  return v;
}

// The global key, as `bosun api-key` reads it.
std::string global_key(const running_bosun& b) {
  auto key = b.api_key();
  REQUIRE(key.size() == 32);
  return key;
}

} // namespace

TEST_SUITE("telemetry") {
  TEST_CASE("lists every core actor with its counters, the engine state and "
            "the process") {
    running_bosun b;
    REQUIRE(b.wait_ready());
    std::unique_ptr<telemetry_view> t;
    // The engine connection comes up shortly after start.
    eventually(20s, [&](std::string& last) {
      t = get_telemetry(b);
      last = t->body;
      return t->status == 200 && t->doc.IsObject()
             && t->doc["engine"].IsObject()
             && std::string{t->doc["engine"]["state"].GetString()} == "up";
    });
    REQUIRE(t->status == 200);
    for (auto* name : {"root", "db", "api_keys", "engine", "images", "volumes",
                       "networks", "logs", "app_manager", "telemetry"}) {
      INFO(name);
      REQUIRE(t->actors.count(name) == 1);
      CHECK(t->actors[name].running);
      CHECK(t->actors[name].restarts == 0);
    }
    CHECK(t->actors["root"].parent.empty());
    CHECK(t->actors["engine"].parent == "root");
    // Everything bosun instruments reports its own counters.
    for (auto* name : {"root", "db", "api_keys", "engine", "images", "volumes",
                       "networks", "logs", "app_manager", "telemetry"}) {
      INFO(name);
      CHECK(t->actors[name].reporting);
      CHECK(t->actors[name].kind == name);
    }
    CHECK(t->actors["engine"].handled > 0);
    CHECK(t->actors["engine"].max_ms >= t->actors["engine"].mean_ms);
    CHECK(t->actors["root"].handled > 0);
    auto& p = t->doc["process"];
    CHECK(p["available"].GetBool());
    CHECK(p["rssBytes"].GetUint64() > 1024 * 1024);
    CHECK(p["rssBytes"].GetUint64() < 512ull * 1024 * 1024);
    CHECK(p["threads"].GetUint64() >= 3);
    CHECK(p["cpuSeconds"].GetDouble() > 0);
    CHECK(p["uptimeSeconds"].GetDouble() >= 0);
    CHECK(p["uptimeSeconds"].GetDouble() < 120);
    CHECK(t->doc["actorsRunning"].GetUint64() >= 8);
  }

  TEST_CASE("counters move when a target is applied, and the service "
            "shows up with its supervisor's figures") {
    app_fixture fx;
    running_bosun b;
    REQUIRE(b.wait_ready());
    auto before = get_telemetry(b);
    REQUIRE(before->status == 200);
    auto r = b.post("/v2/local/target-state", target());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    std::unique_ptr<telemetry_view> after;
    REQUIRE(eventually(90s, [&](std::string& last) {
      after = get_telemetry(b);
      last = after->body;
      if (after->status != 200 || !after->doc["services"].IsArray())
        return false;
      for (auto& s : after->doc["services"].GetArray())
        if (std::string{s["serviceName"].GetString()} == "web"
            && std::string{s["phase"].GetString()} == "running")
          return true;
      return false;
    }));
    // The db stored the target, networks made the default network, the
    // engine did all of it. (images counts only when a pull was needed, and
    // earlier tests may have left the image on the engine.)
    for (auto* name : {"db", "networks", "engine"}) {
      INFO(name);
      CHECK(after->actors[name].handled > before->actors[name].handled);
    }
    CHECK(after->actors["engine"].handled
          >= before->actors["engine"].handled + 5);
    const rapidjson::Value* web = nullptr;
    for (auto& s : after->doc["services"].GetArray())
      if (std::string{s["serviceName"].GetString()} == "web")
        web = &s;
    REQUIRE(web);
    CHECK((*web)["appId"].GetInt64() == app_id);
    CHECK((*web)["restartCount"].GetUint() == 0);
    CHECK_FALSE((*web)["crashLooping"].GetBool());
    CHECK((*web)["backoffMs"].IsInt64());
    // Its supervisor is listed as the app manager's child, with counters.
    int supervisors = 0;
    for (auto& [name, row] : after->actors)
      if (row.parent == "app_manager" && name.size() > 4
          && name.compare(name.size() - 4, 4, "/web") == 0) {
        INFO(name);
        ++supervisors;
        CHECK(row.reporting);
        CHECK(row.kind == "service_supervisor");
        CHECK(row.handled > 0);
      }
    CHECK(supervisors == 1);
    CHECK(after->doc["engine"]["requestsTotal"].GetUint64()
          > before->doc["engine"]["requestsTotal"].GetUint64());
    // The logs actor's figures: the install and start lines were logged.
    REQUIRE(after->doc["logs"].IsObject());
    CHECK(after->doc["logs"]["systemLines"].GetUint64()
          > before->doc["logs"]["systemLines"].GetUint64());
    CHECK(after->doc["logs"]["queues"].IsArray());
    CHECK(after->doc["logs"]["cloud"]["state"].IsString());
    CHECK_FALSE(after->doc["logs"]["file"]["enabled"].GetBool());

    // A kill is restarted by the supervisor and counted.
    REQUIRE(docker(std::string{"kill "} + container).status == 0);
    eventually(60s, [&](std::string& last) {
      auto t = get_telemetry(b);
      last = t->body;
      if (t->status != 200)
        return false;
      for (auto& s : t->doc["services"].GetArray())
        if (std::string{s["serviceName"].GetString()} == "web")
          return s["restartCount"].GetUint() >= 1;
      return false;
    });
  }

  TEST_CASE("/metrics is Prometheus text with the same figures") {
    running_bosun b;
    REQUIRE(b.wait_ready());
    auto r = b.get("/metrics");
    REQUIRE(r.status == 200);
    auto p = parse_prometheus(r.body);
    CHECK(p.errors == std::vector<std::string>{});
    auto engine
      = p.all("bosun_actor_messages_handled_total", {{"actor", "engine"}});
    REQUIRE(engine.size() == 1);
    CHECK(engine[0].value > 0);
    CHECK(engine[0].labels.at("kind") == "engine");
    CHECK(p.all("bosun_actor_up", {{"actor", "app_manager"}}).size() == 1);
    auto* rss
      = p.find("bosun_process_resident_memory_bytes", {{"scope", "process"}});
    REQUIRE(rss);
    CHECK(rss->value > 1024 * 1024);
    CHECK(p.find("bosun_process_cpu_seconds_total",
                 {{"scope", "process"}, {"mode", "user"}}));
    CHECK(p.find("bosun_process_threads", {{"scope", "process"}}));
    CHECK(p.types["bosun_actor_messages_handled_total"] == "counter");
    CHECK(p.types["bosun_logs_lines_total"] == "counter");
    CHECK(p.find("bosun_logs_cloud_connected"));
    // Counters only grow between two scrapes.
    auto again = parse_prometheus(b.get("/metrics").body);
    auto later
      = again.all("bosun_actor_messages_handled_total", {{"actor", "engine"}});
    REQUIRE(later.size() == 1);
    CHECK(later[0].value >= engine[0].value);
  }

  TEST_CASE("a managed device answers telemetry only with a key") {
    bosun::test::temp_dir dir;
    auto config = R"({"apiEndpoint":"http://127.0.0.1:)"
                  + std::to_string(bosun::test::free_port())
                  + R"(","uuid":"0123456789abcdef0123456789abcdef"})";
    running_bosun b({"--local-mode=false"}, {}, config);
    REQUIRE(b.wait_ready());
    auto key = global_key(b);
    for (auto* path : {"/v2/telemetry", "/metrics"}) {
      INFO(path);
      CHECK(http_request(b.port(), "GET", path).status == 401);
      CHECK(
        http_request(b.port(), "GET", std::string{path} + "?apikey=nope").status
        == 401);
      CHECK(http_request(b.port(), "GET", std::string{path} + "?apikey=" + key)
              .status
            == 200);
      CHECK(http_request(b.port(), "GET", path, "",
                         {"Authorization: Bearer " + key})
              .status
            == 200);
    }
  }
}
