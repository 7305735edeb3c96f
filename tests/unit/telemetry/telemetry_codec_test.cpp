#include "api/server/telemetry_codec.hpp"
#include "tests/support/prometheus.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace std::chrono_literals;
using bosun::actor_report;
using bosun::telemetry_snapshot;
using bosun::test::parse_prometheus;

namespace {

actor_report reported(std::string name, std::string kind, std::string parent,
                      uint64_t handled) {
  actor_report r;
  r.name = std::move(name);
  r.kind = std::move(kind);
  r.parent = std::move(parent);
  r.sampled = true;
  r.sample.kind = r.kind;
  r.sample.handled = handled;
  r.sample.busy_total = std::chrono::microseconds(handled * 10);
  r.sample.busy_max = 250us;
  r.sample.mailbox = 1;
  r.sample.mailbox_max = 7;
  return r;
}

bosun::service_status service(int64_t app_id, std::string uuid,
                              std::string name) {
  bosun::service_status s;
  s.app_id = app_id;
  s.app_uuid = std::move(uuid);
  s.service_name = std::move(name);
  s.phase = bosun::service_phase::running;
  return s;
}

telemetry_snapshot sample_snapshot() {
  telemetry_snapshot s;
  s.actors.push_back(reported("root", "root", "", 12));
  s.actors.push_back(reported("engine", "engine", "root", 400));
  s.actors.back().restarts = 2;
  s.actors.back().last_error = "engine unavailable: refused";
  s.actors.push_back(reported("app_manager", "app_manager", "root", 90));
  s.actors.push_back(
    reported("app_manager/u1/web", "service_supervisor", "app_manager", 30));
  s.actors.push_back(
    reported("app_manager/u2/db", "service_supervisor", "app_manager", 5));
  actor_report quiet;
  quiet.name = "cloud_sync";
  quiet.kind = "";
  quiet.parent = "root";
  quiet.error = "does not report telemetry";
  s.actors.push_back(quiet);
  bosun::apps_status apps;
  apps.passes = 4;
  auto web = service(1, "u1", "web");
  web.restart_count = 3;
  web.backoff = 2500ms;
  web.crash_looping = true;
  web.phase = bosun::service_phase::backing_off;
  apps.services.push_back(web);
  apps.services.push_back(service(2, "u2", "db"));
  apps.commits["u1"] = "abc";
  s.apps = apps;
  bosun::engine_telemetry e;
  e.state = bosun::engine_state::up;
  e.requests_total = 77;
  s.engine = e;
  s.process.available = true;
  s.process.rss_bytes = 9 << 20;
  s.process.rss_peak_bytes = 10 << 20;
  s.process.cpu_user_seconds = 1.5;
  s.process.cpu_system_seconds = 0.25;
  s.process.threads = 5;
  s.process.uptime_seconds = 60;
  s.actors_running = 11;
  s.collected_at = 1.7e9;
  s.collection_time = 3ms;
  return s;
}

} // namespace

TEST_SUITE("prometheus text") {
  TEST_CASE("the metrics parse and carry the snapshot's figures") {
    auto p = parse_prometheus(bosun::encode_metrics(sample_snapshot()));
    CHECK(p.errors == std::vector<std::string>{});
    auto* handled = p.find("bosun_actor_messages_handled_total",
                           {{"actor", "engine"}, {"kind", "engine"}});
    REQUIRE(handled);
    CHECK(handled->value == 400);
    auto* busy = p.find("bosun_actor_handling_seconds_total",
                        {{"actor", "engine"}, {"kind", "engine"}});
    REQUIRE(busy);
    CHECK(busy->value == doctest::Approx(0.004));
    CHECK(p.find("bosun_actor_restarts_total",
                 {{"actor", "engine"}, {"kind", "engine"}})
            ->value
          == 2);
    CHECK(p.find("bosun_actor_mailbox_depth_max",
                 {{"actor", "root"}, {"kind", "root"}})
            ->value
          == 7);
    CHECK(p.types["bosun_actor_messages_handled_total"] == "counter");
    CHECK(p.types["bosun_actor_mailbox_depth"] == "gauge");
    CHECK(p.find("bosun_engine_up")->value == 1);
    CHECK(p.find("bosun_engine_requests_total")->value == 77);
    // Process figures are the whole process's (every agent of fleet-sim's
    // reports the same): labelled so; the agent's own actors beside them.
    const std::map<std::string, std::string> proc{{"scope", "process"}};
    auto* rss = p.find("bosun_process_resident_memory_bytes", proc);
    auto* cpu = p.find("bosun_process_cpu_seconds_total",
                       {{"scope", "process"}, {"mode", "user"}});
    auto* running = p.find("bosun_actors_running", proc);
    auto* own = p.find("bosun_agent_actors");
    REQUIRE(rss);
    REQUIRE(cpu);
    REQUIRE(running);
    REQUIRE(own);
    CHECK(rss->value == 9 << 20);
    CHECK(cpu->value == 1.5);
    CHECK(running->value == 11);
    CHECK(own->value == 6); // the tree's running actors
  }

  TEST_CASE("an actor that does not report has up and restarts but no "
            "counters") {
    auto p = parse_prometheus(bosun::encode_metrics(sample_snapshot()));
    std::map<std::string, std::string> l{{"actor", "cloud_sync"}, {"kind", ""}};
    CHECK(p.find("bosun_actor_up", l));
    CHECK(p.find("bosun_actor_reporting", l)->value == 0);
    CHECK_FALSE(p.find("bosun_actor_messages_handled_total", l));
  }

  TEST_CASE("services carry restarts, backoff, crash loop and phase") {
    auto p = parse_prometheus(bosun::encode_metrics(sample_snapshot()));
    std::map<std::string, std::string> web{
      {"app_id", "1"}, {"app_uuid", "u1"}, {"service", "web"}};
    CHECK(p.find("bosun_service_restarts", web)->value == 3);
    CHECK(p.find("bosun_service_backoff_seconds", web)->value
          == doctest::Approx(2.5));
    CHECK(p.find("bosun_service_crash_looping", web)->value == 1);
    CHECK(p.find("bosun_service_running", web)->value == 0);
    auto phase = web;
    phase["phase"] = "backing_off";
    CHECK(p.find("bosun_service_phase", phase));
    CHECK(p.find("bosun_apps_passes_total")->value == 4);
  }

  TEST_CASE("label values are escaped and read back intact") {
    auto s = sample_snapshot();
    s.actors[1].name = "we\"ird\\na\nme";
    auto p = parse_prometheus(bosun::encode_metrics(s));
    CHECK(p.errors == std::vector<std::string>{});
    CHECK(p.find("bosun_actor_up",
                 {{"actor", "we\"ird\\na\nme"}, {"kind", "engine"}}));
    CHECK(bosun::prometheus_escape("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  }

  TEST_CASE("without engine, apps and /proc, those families are absent") {
    telemetry_snapshot s;
    s.actors.push_back(reported("root", "root", "", 1));
    auto p = parse_prometheus(bosun::encode_metrics(s));
    CHECK(p.errors == std::vector<std::string>{});
    CHECK_FALSE(p.find("bosun_engine_up"));
    CHECK(p.all("bosun_service_restarts").empty());
    CHECK_FALSE(p.find("bosun_process_threads"));
    CHECK(p.find("bosun_telemetry_collection_seconds"));
  }

  TEST_CASE("the test parser refuses what Prometheus would") {
    auto bad = [](const std::string& t) {
      return !parse_prometheus(t).errors.empty();
    };
    CHECK_FALSE(bad("# HELP a_total x\n# TYPE a_total counter\na_total 1\n"));
    CHECK(bad("a 1\n"));                                 // no TYPE
    CHECK(bad("# TYPE a gauge\n# TYPE a gauge\na 1\n")); // TYPE twice
    CHECK(bad("# TYPE a counter\na 1\n"));               // counter name
    CHECK(bad("# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 2\n"));
    CHECK(bad("# TYPE a gauge\na{x=1} 1\n"));       // unquoted label
    CHECK(bad("# TYPE a gauge\na{x=\"\\q\"} 1\n")); // bad escape
    CHECK(bad("# TYPE a gauge\na one\n"));          // value
    CHECK(bad("# TYPE a gauge\na 1\na 2\n"));       // series twice
    CHECK(bad("# TYPE a gauge\na 1"));              // no final newline
  }
}

TEST_SUITE("telemetry json") {
  TEST_CASE("lists actors, services, engine and process") {
    auto text = bosun::encode_telemetry_json(sample_snapshot());
    rapidjson::Document d;
    REQUIRE_FALSE(d.Parse(text.c_str()).HasParseError());
    REQUIRE(d["actors"].IsArray());
    REQUIRE(d["actors"].Size() == 6);
    auto& engine = d["actors"][1];
    CHECK(std::string{engine["name"].GetString()} == "engine");
    CHECK(std::string{engine["parent"].GetString()} == "root");
    CHECK(engine["handled"].GetUint64() == 400);
    CHECK(engine["handlingMeanMs"].GetDouble() == doctest::Approx(0.01));
    CHECK(engine["handlingMaxMs"].GetDouble() == doctest::Approx(0.25));
    CHECK(engine["mailboxDepth"].GetUint64() == 1);
    CHECK(engine["restarts"].GetInt() == 2);
    CHECK(std::string{engine["lastError"].GetString()}
          == "engine unavailable: refused");
    CHECK(d["actors"][0]["parent"].IsNull());
    auto& quiet = d["actors"][5];
    CHECK_FALSE(quiet["reporting"].GetBool());
    CHECK_FALSE(quiet.HasMember("handled"));
    CHECK(std::string{quiet["error"].GetString()}
          == "does not report telemetry");
    auto& web = d["services"][0];
    CHECK(web["restartCount"].GetUint() == 3);
    CHECK(web["backoffMs"].GetInt64() == 2500);
    CHECK(web["crashLooping"].GetBool());
    CHECK(std::string{web["phase"].GetString()} == "backing_off");
    CHECK(std::string{d["engine"]["state"].GetString()} == "up");
    CHECK(d["process"]["rssBytes"].GetUint64() == 9u << 20);
    CHECK(d["process"]["cpuSeconds"].GetDouble() == doctest::Approx(1.75));
    CHECK(d["process"]["threads"].GetUint64() == 5);
    CHECK(d["actorsRunning"].GetUint64() == 11);
    CHECK(std::string{d["actorsRunningScope"].GetString()} == "process");
    CHECK(std::string{d["process"]["scope"].GetString()} == "process");
    CHECK(d["agentActors"].GetUint64() == 6);
  }

  TEST_CASE("engine and apps are null when they did not answer") {
    telemetry_snapshot s;
    auto text = bosun::encode_telemetry_json(s);
    rapidjson::Document d;
    REQUIRE_FALSE(d.Parse(text.c_str()).HasParseError());
    CHECK(d["engine"].IsNull());
    CHECK(d["apps"].IsNull());
    CHECK(d["services"].Size() == 0);
    CHECK_FALSE(d["process"]["available"].GetBool());
  }
}

TEST_SUITE("telemetry scope") {
  TEST_CASE("the global key sees everything") {
    auto s
      = bosun::in_scope(sample_snapshot(), bosun::auth::scope::everything());
    CHECK(s.actors.size() == 6);
    CHECK(s.apps->services.size() == 2);
  }

  TEST_CASE("an app key sees the agent's actors and its own app only") {
    bosun::auth::scope app1{false, {1}};
    auto s = bosun::in_scope(sample_snapshot(), app1);
    REQUIRE(s.apps);
    REQUIRE(s.apps->services.size() == 1);
    CHECK(s.apps->services[0].service_name == "web");
    CHECK(s.apps->commits.empty());
    std::vector<std::string> names;
    for (auto& r : s.actors)
      names.push_back(r.name);
    CHECK(names
          == std::vector<std::string>{"root", "engine", "app_manager",
                                      "app_manager/u1/web", "cloud_sync"});
  }
}
