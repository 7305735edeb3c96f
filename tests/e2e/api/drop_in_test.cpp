// Drop-in gaps of the device API (issue 10), against the bosun binary and a
// real dockerd: GET /v2/local/target-state as the balena CLI reads and posts
// it back; a key for every route but /ping and /v1/healthy, walked over the
// router's own table; the global key never in the log.
#include "api/server/routes.hpp"
#include "tests/e2e/api/api_helpers.hpp"
#include "tests/support/bosun.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <regex>
#include <sstream>

using namespace std::chrono_literals;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::http_request;
using bosun::test::running_bosun;
using namespace bosun::test::api;

namespace {

const std::string json_type = "Content-Type: application/json";
const std::string sleeper
  = R"(["/bin/sh","-c","trap 'exit 0' TERM; sleep 1000 & wait"])";

// The apps map as the balena CLI posts it: app 81 (web, supervisor-api) and
// app 82 (solo), each service with a secret in its environment.
std::string apps_map() {
  auto image = bosun::test::required_env("BOSUN_TEST_IMAGE");
  auto app = [&](int id, const std::string& svc, const std::string& labels) {
    auto sid = std::to_string(id * 10);
    return "\"" + std::to_string(id) + R"(":{"name":"app)" + std::to_string(id)
           + R"(","commit":"c1","releaseId":"1","services":{")" + sid
           + R"(":{"serviceName":")" + svc + R"(","serviceId":)" + sid
           + R"(,"imageId":)" + std::to_string(id * 100) + R"(,"image":")"
           + image + R"(","environment":{"SECRET":"s3cr3t-)"
           + std::to_string(id) + R"("},"labels":)" + labels + R"(,"command":)"
           + sleeper + R"(}},"volumes":{},"networks":{}})";
  };
  return "{" + app(81, "web", R"({"io.balena.features.supervisor-api":"1"})")
         + "," + app(82, "solo", "{}") + "}";
}

const std::vector<std::string> containers{"web_8100_1_c1", "solo_8200_1_c1"};

bool all_running() {
  for (auto& n : containers)
    if (!running(n))
      return false;
  return true;
}

void clean() {
  remove_apps({81, 82});
}

struct fixture {
  fixture() {
    clean();
  }
  ~fixture() {
    clean();
  }
};

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

void wait_applied(running_bosun& b, const std::vector<std::string>& auth = {}) {
  REQUIRE_MESSAGE(
    eventually(
      60s, [&] { return all_running(); }, "the apps' containers to run"),
    b.log());
  REQUIRE(eventually(30s, [&](std::string& last) {
    last = http_request(b.port(), "GET", "/v2/state/status", "", auth).body;
    return last.find("\"appState\":\"applied\"") != std::string::npos;
  }));
}

} // namespace

TEST_SUITE("device api: drop-in") {
  TEST_CASE("GET /v2/local/target-state: the device's config and name, "
            "services as a list; posting name and config back changes "
            "nothing") {
    fixture fx;
    running_bosun b({}, {}, R"({"appUpdatePollInterval":60000})");
    REQUIRE(b.wait_ready());

    // Before any target: named as /v2/device/name, configured.
    auto name = parse(b.get("/v2/device/name").body);
    auto none = parse(b.get("/v2/local/target-state").body);
    const auto& nl = none["state"]["local"];
    CHECK(std::string(nl["name"].GetString())
          == name["deviceName"].GetString());
    REQUIRE(nl["config"].HasMember("SUPERVISOR_LOCAL_MODE"));
    CHECK(std::string(nl["config"]["SUPERVISOR_LOCAL_MODE"].GetString())
          == "true");
    // Before any target the config is the device's current one
    // (reference/host.md §7): config.json's interval.
    CHECK(std::string(nl["config"]["SUPERVISOR_POLL_INTERVAL"].GetString())
          == "60000");

    // The CLI's post: no name, no config, apps keyed by serviceId.
    auto r = b.post("/v2/local/target-state",
                    R"({"local":{"apps":)" + apps_map() + "}}");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    wait_applied(b);
    auto started = inspect(containers[1], "{{.Id}} {{.State.StartedAt}}");

    auto got = b.get("/v2/local/target-state");
    REQUIRE(got.status == 200);
    auto d = parse(got.body);
    const auto& local = d["state"]["local"];
    // The same name as GET /v2/device/name.
    auto device_name = parse(b.get("/v2/device/name").body);
    CHECK(std::string(local["name"].GetString())
          == device_name["deviceName"].GetString());
    CHECK(std::string(local["name"].GetString()) == "local");
    // The config is the target's (host.md §7), every var bosun knows as
    // strings: a post without config is {}, so the defaults.
    const auto& config = local["config"];
    REQUIRE(config.IsObject());
    const std::map<std::string, std::string> expected{
      {"SUPERVISOR_LOCAL_MODE", "true"},
      {"SUPERVISOR_POLL_INTERVAL", "900000"},
      {"SUPERVISOR_DELTA", "false"},
      {"SUPERVISOR_VPN_CONTROL", "true"},
      {"HOST_FIREWALL_MODE", "off"},
      {"HOST_DISCOVERABILITY", "true"},
      {"SUPERVISOR_INSTANT_UPDATE_TRIGGER", "true"},
      {"SUPERVISOR_HARDWARE_METRICS", "true"},
      {"SUPERVISOR_LOG_CONTROL", "true"},
      {"SUPERVISOR_OVERRIDE_LOCK", "false"},
      {"SUPERVISOR_PERSISTENT_LOGGING", "false"},
      {"SUPERVISOR_API_REQUEST_TIMEOUT", "59000"}};
    for (const auto& [k, v] : expected) {
      CAPTURE(k);
      REQUIRE(config.HasMember(k.c_str()));
      CHECK(std::string(config[k.c_str()].GetString()) == v);
    }
    // Services: a list of service objects.
    const auto& services = local["apps"]["82"]["services"];
    REQUIRE(services.IsArray());
    REQUIRE(services.Size() == 1);
    const auto& s = services[0];
    CHECK(std::string(s["serviceName"].GetString()) == "solo");
    CHECK(s["serviceId"].GetInt() == 820);
    CHECK(s["imageId"].GetInt() == 8200);
    CHECK(s["image"].IsString());
    CHECK(std::string(s["environment"]["SECRET"].GetString()) == "s3cr3t-82");
    CHECK(s["labels"].IsObject());
    CHECK(s["running"].GetBool());

    // The balena CLI: local.apps replaced by its map, name and config posted
    // back unchanged.
    auto cli = R"({"local":{"name":)" + to_json(local["name"]) + R"(,"config":)"
               + to_json(config) + R"(,"apps":)" + apps_map() + "}}";
    r = b.post("/v2/local/target-state", cli);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    // ... and the whole GET answer posted back (services as a list).
    r = b.post("/v2/local/target-state", R"({"local":)" + to_json(local) + "}");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    wait_applied(b);
    auto again = parse(b.get("/v2/local/target-state").body);
    CHECK(to_json(again["state"]["local"]["config"]) == to_json(config));
    CHECK(to_json(again["state"]["local"]["name"]) == to_json(local["name"]));
    CHECK(parse(b.get("/v2/device/name").body)["deviceName"].GetString()
          == std::string("local"));
    // Nothing was recreated or restarted, and the device is in local mode
    // still: another local target is accepted.
    CHECK(inspect(containers[1], "{{.Id}} {{.State.StartedAt}}") == started);
    r = b.post("/v2/local/target-state", cli);
    CHECK_MESSAGE(r.status == 200, r.body);
  }

  TEST_CASE("managed: every route of the router's table but /ping and "
            "/v1/healthy refuses no key, a wrong key, and shows nothing of "
            "another app to an app's key") {
    fixture fx;
    bosun::test::temp_dir state;
    std::string data_dir = state.path() + "/data";
    {
      // Apps come from a local target; then the device is managed.
      running_bosun local({}, data_dir);
      REQUIRE(local.wait_ready());
      auto r = local.post("/v2/local/target-state",
                          R"({"local":{"apps":)" + apps_map() + "}}");
      REQUIRE_MESSAGE(r.status == 200, r.body);
      wait_applied(local);
    }
    running_bosun b({"--local-mode=false"}, data_dir, managed_config());
    REQUIRE(b.wait_ready());
    auto global = b.api_key();
    REQUIRE(global.size() == 32);
    auto bearer
      = [](const std::string& k) { return "Authorization: Bearer " + k; };
    wait_applied(b, {bearer(global)});
    auto app_key = env_of(containers[0], "BALENA_SUPERVISOR_API_KEY");
    REQUIRE(app_key.size() == 32);
    REQUIRE(app_key != global);
    auto solo_started = inspect(containers[1], "{{.Id}} {{.State.StartedAt}}");

    // The key reads the secrets; an app key only its own app's.
    auto all = http_request(b.port(), "GET", "/v2/local/target-state", "",
                            {bearer(global)});
    CHECK(all.status == 200);
    CHECK(all.body.find("s3cr3t-82") != std::string::npos);
    auto mine = http_request(b.port(), "GET", "/v2/local/target-state", "",
                             {bearer(app_key)});
    CHECK(mine.status == 200);
    CHECK(mine.body.find("s3cr3t-81") != std::string::npos);
    CHECK(mine.body.find("s3cr3t-82") == std::string::npos);

    const auto& routes = bosun::device_api_routes();
    REQUIRE(routes.size() > 30);
    int open = 0;
    for (const auto& route : routes) {
      std::string method = route.method.c_str();
      // Path parameters name the other app (82).
      auto path
        = std::regex_replace(route.path, std::regex(":[A-Za-z]+"), "82");
      const std::string body = R"({"appId":82,"serviceName":"solo"})";
      CAPTURE(method);
      CAPTURE(path);
      auto ask = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> headers{json_type};
        headers.insert(headers.end(), extra.begin(), extra.end());
        return http_request(b.port(), method, path, body, headers);
      };
      if (route.access == bosun::route_access::open) {
        ++open;
        CHECK(ask({}).status != 401);
        continue;
      }
      for (const auto& extra : std::vector<std::vector<std::string>>{
             {},
             {bearer("0000000000000000000000000000dead")},
             {"Authorization: Basic " + global}}) {
        auto r = ask(extra);
        CHECK_MESSAGE(r.status == 401, r.body);
        CHECK(r.body == "Unauthorized");
      }
      auto wrong_query = http_request(
        b.port(), method, path + "?apikey=0000000000000000000000000000dead",
        body, {json_type});
      CHECK(wrong_query.status == 401);
      // The app key: nothing of app 82, and no action on it. Skipped: the
      // endless log stream, and regenerate-api-key (it replaces the key
      // it is called with, which the other routes still need).
      if (path == "/v2/local/logs" || path == "/v1/regenerate-api-key")
        continue;
      auto r = ask({bearer(app_key)});
      CHECK_MESSAGE(r.body.find("s3cr3t-82") == std::string::npos, r.body);
      CHECK_MESSAGE(r.body.find("solo_8200") == std::string::npos, r.body);
      bool names_app = route.path.find(":appId") != std::string::npos
                       || path == "/v1/restart" || path == "/v1/purge";
      if (names_app)
        CHECK_MESSAGE((r.status == 401 || r.status == 409), r.body);
      else
        CHECK_MESSAGE(r.status != 401, "a valid key: " << r.body);
    }
    CHECK(open == 2);
    // app 82 was neither stopped nor restarted.
    CHECK(inspect(containers[1], "{{.Id}} {{.State.StartedAt}}")
          == solo_started);
    CHECK(b.proc().running());
  }

  TEST_CASE("the global API key is never logged; bosun api-key prints it") {
    bosun::test::temp_dir state;
    std::string data_dir = state.path() + "/data";
    running_bosun b({"--local-mode=false"}, data_dir, managed_config());
    REQUIRE(b.wait_ready());
    auto key = b.api_key();
    REQUIRE(key.size() == 32);
    CHECK(std::regex_match(key, std::regex("[0-9a-f]{32}")));
    // It is the key: the device API takes it.
    CHECK(http_request(b.port(), "GET", "/v2/version", "",
                       {"Authorization: Bearer " + key})
            .status
          == 200);
    // Regenerated, api-key prints the new one.
    auto regen = http_request(b.port(), "POST", "/v1/regenerate-api-key", "",
                              {"Authorization: Bearer " + key});
    REQUIRE(regen.status == 200);
    CHECK(b.api_key() == regen.body);
    // Neither key is anywhere in bosun's output.
    auto log = b.log();
    CHECK(log.find("device API on http://") != std::string::npos);
    CHECK(log.find(key) == std::string::npos);
    CHECK(log.find(regen.body) == std::string::npos);
    CHECK_FALSE(std::regex_search(log, std::regex("API key [0-9a-f]{32}")));

    // Without a database: an error, no key.
    bosun::test::temp_dir empty;
    bosun::test::child_process p(
      BOSUN_BINARY, {"api-key", "--data-dir", empty.path() + "/none"});
    CHECK(p.wait_exit(20s) == 1);
    CHECK(p.output().find("no database at") != std::string::npos);
    // --help names the command.
    bosun::test::child_process help(BOSUN_BINARY, {"--help"});
    CHECK(help.wait_exit(20s) == 0);
    CHECK(help.output().find("bosun api-key") != std::string::npos);
  }
}
