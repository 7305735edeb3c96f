// The device API of the real bosun binary against a real dockerd: every v1
// and v2 route with its documented error paths (table-driven), the auth
// matrix of a managed device, and the service actions as the engine sees
// them.
#include "tests/e2e/api/api_helpers.hpp"
#include "tests/support/bosun.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <doctest/doctest.h>
#include <fstream>
#include <map>
#include <optional>
#include <rapidjson/document.h>
#include <regex>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::http_reply;
using bosun::test::http_request;
using bosun::test::running_bosun;
using namespace bosun::test::api;

namespace {

const std::string sleeper
  = R"(["/bin/sh","-c","trap 'exit 0' TERM; sleep 1000 & wait"])";
const std::string json_type = "Content-Type: application/json";

// App 71: web (supervisor-api, host network, volume data) and worker.
// App 72: solo, a single-container app for the v1 routes.
std::string target(const std::string& commit = "c1") {
  auto image = bosun::test::required_env("BOSUN_TEST_IMAGE");
  auto svc = [&](int id, const std::string& name, const std::string& extra) {
    return "\"" + std::to_string(id) + R"(":{"serviceName":")" + name
           + R"(","serviceId":)" + std::to_string(id) + R"(,"imageId":)"
           + std::to_string(id * 10) + R"(,"image":")" + image
           + R"(","environment":{"GREETING":"hi"},"command":)" + sleeper + extra
           + "}";
  };
  return R"({"local":{"name":"api-e2e","config":{},"apps":{)"
         R"("71":{"name":"app71","commit":")"
         + commit + R"(","releaseId":"1","services":{)"
         + svc(1, "web",
               R"(,"labels":{"io.balena.features.supervisor-api":"1"},)"
               R"("network_mode":"host","volumes":["data:/data"])")
         + "," + svc(2, "worker", R"(,"labels":{})")
         + R"(},"volumes":{"data":{}},"networks":{}},)"
           R"("72":{"name":"app72","commit":")"
         + commit + R"(","releaseId":"1","services":{)"
         + svc(3, "solo", R"(,"labels":{})")
         + R"(},"volumes":{},"networks":{}}}}})";
}

const std::vector<std::string> all_containers{"web_10_1_c1", "worker_20_1_c1",
                                              "solo_30_1_c1"};

bool wait_running(const std::vector<std::string>& names,
                  std::chrono::milliseconds deadline = 60s) {
  return eventually(
    deadline,
    [&](std::string& last) {
      for (auto& n : names)
        if (!running(n)) {
          last = n + " is not running";
          return false;
        }
      return true;
    },
    "containers to run");
}

void clean_apps() {
  bosun::test::api::remove_apps({71, 72});
  docker("volume rm 71_data 77_orphan");
}

struct apps_fixture {
  apps_fixture() {
    clean_apps();
  }
  ~apps_fixture() {
    clean_apps();
  }
};

// A running bosun with both apps applied (local mode unless `extra` says).
void apply_target(running_bosun& b) {
  REQUIRE(b.wait_ready());
  auto r = b.post("/v2/local/target-state", target());
  REQUIRE_MESSAGE(r.status == 200, r.body);
  REQUIRE_MESSAGE(wait_running(all_containers), b.log());
  // The device API reports the apply as done once the device is there.
  eventually(30s, [&](std::string& last) {
    last = b.get("/v2/state/status").body;
    return last.find("\"appState\":\"applied\"") != std::string::npos;
  });
}

// The global key, as `bosun api-key` reads it.
std::string global_key(const running_bosun& b) {
  auto key = b.api_key();
  REQUIRE(key.size() == 32);
  return key;
}

// Sends raw bytes and returns whatever comes back before the close.
std::string run_raw(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) > 0) {
    char buf[4096];
    for (;;) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

struct route_case {
  std::string method;
  std::string path;
  std::string body;
  int status;
  std::string expect; // exact body, or "~x": contains x; "": anything
  std::vector<std::string> headers = {json_type};
};

void check_route(int port, const route_case& c) {
  CAPTURE(c.method);
  CAPTURE(c.path);
  CAPTURE(c.body.substr(0, 80));
  auto r = http_request(port, c.method, c.path, c.body, c.headers);
  CHECK_MESSAGE(r.status == c.status, r.body);
  if (c.expect.rfind("~", 0) == 0)
    CHECK_MESSAGE(r.body.find(c.expect.substr(1)) != std::string::npos, r.body);
  else if (!c.expect.empty())
    CHECK(r.body == c.expect);
}

const std::string app_not_found
  = "App not found: an app needs to be installed for this endpoint to "
    "work.\n\tIf you've recently moved this device from another app,\n\t"
    "please push an app and wait for it to be installed first.";
const std::string service_required
  = "serviceName or imageId parameters were not provided or the app is "
    "multi-container. Use the v2 service action endpoints.";

} // namespace

TEST_SUITE("device api") {
  TEST_CASE("every route answers as balena's, errors included (local mode)") {
    apps_fixture fx;
    running_bosun b;
    apply_target(b);
    std::string big(2 * 1024 * 1024, ' ');
    std::string huge(11 * 1024 * 1024, ' ');
    const std::vector<route_case> table{
      {"GET", "/ping", "", 200, "OK"},
      {"GET", "/v2/version", "", 200,
       R"({"status":"success","version":"19.0.5"})"},
      {"GET", "/v2/local/device-info", "", 200,
       "~{\"status\":\"success\",\"info\":{\"arch\":\""},
      {"GET", "/v2/device/name", "", 200,
       R"({"status":"success","deviceName":"api-e2e"})"},
      {"GET", "/v2/applications/state", "", 200, "~\"app72\":{\"appId\":72"},
      {"GET", "/v2/applications/71/state", "", 200,
       "~\"local\":{\"71\":{\"services\":{\"10\":{\"status\":\"Running\""},
      {"GET", "/v2/applications/abc/state", "", 400,
       R"({"status":"failed","message":"Invalid application ID: abc"})"},
      {"GET", "/v2/applications/0/state", "", 400,
       R"({"status":"failed","message":"Invalid application ID: 0"})"},
      {"GET", "/v2/applications/99/state", "", 409,
       R"({"status":"failed","message":"Application ID does not exist: 99"})"},
      {"GET", "/v2/state/status", "", 200, "~\"appState\":\"applied\""},
      {"GET", "/v2/containerId", "", 200, "~\"solo\":\""},
      {"GET", "/v2/containerId?serviceName=web", "", 200,
       "~{\"status\":\"success\",\"containerId\":\""},
      {"GET", "/v2/containerId?service=worker", "", 200, "~\"containerId\""},
      {"GET", "/v2/containerId?serviceName=nope", "", 503,
       R"({"status":"failed","message":"Could not find service with that name"})"},
      {"GET", "/v1/apps/72", "", 200, "~{\"appId\":72,\"commit\":\"c1\""},
      {"GET", "/v1/apps/71", "", 400,
       "Some v1 endpoints are only allowed on single-container apps"},
      {"GET", "/v1/apps/99", "", 400, "App not found"},
      {"GET", "/v1/apps/x", "", 400, "Missing app id"},
      {"GET", "/v1/device", "", 200, "~\"supervisor_version\":\"19.0.5\""},
      {"POST", "/v1/apps/x/stop", "", 400, "Invalid app id"},
      {"POST", "/v1/apps/99/stop", "", 400, app_not_found},
      {"POST", "/v1/apps/71/stop", "", 400, service_required},
      {"POST", "/v2/applications/71/restart-service", "{}", 400,
       service_required},
      {"POST", "/v2/applications/71/restart-service",
       R"({"serviceName":"nope"})", 404,
       "Service not found, a container must exist for this endpoint to work"},
      {"POST", "/v2/applications/71/stop-service", R"({"imageId":999})", 404,
       "Service not found, a container must exist for this endpoint to work"},
      {"POST", "/v2/applications/99/restart-service",
       R"({"serviceName":"web"})", 404, app_not_found},
      {"POST", "/v2/applications/abc/start-service", R"({"serviceName":"web"})",
       400, R"({"status":"failed","message":"Invalid app id"})"},
      {"POST", "/v2/applications/71/restart-service", "{", 400,
       "~{\"status\":\"failed\",\"message\":\"Malformed JSON body"},
      {"POST", "/v2/applications/0/restart", "", 400,
       R"({"status":"failed","message":"Missing app id"})"},
      {"POST", "/v2/applications/99/restart", "", 503,
       R"({"status":"failed","message":"Application with ID 99 is not in the current state"})"},
      {"POST", "/v2/applications/99/purge", "", 503,
       R"({"status":"failed","message":"Application with ID 99 is not in the current state"})"},
      {"POST", "/v1/restart", "{}", 400, "Missing app id"},
      {"POST", "/v1/purge", R"({"appId":"x"})", 400,
       "Invalid or missing appId"},
      {"POST", "/v1/restart", R"({"appId":99})", 503,
       R"({"status":"failed","message":"Application with ID 99 is not in the current state"})"},
      {"POST",
       "/v1/restart",
       "appId=99",
       503,
       "~not in the current state",
       {"Content-Type: application/x-www-form-urlencoded"}},
      {"GET", "/v2/device/tags", "", 200, R"({"status":"success","tags":[]})"},
      {"PATCH", "/v2/device/tags", R"({"zone":"eu"})", 202,
       R"({"status":"success"})"},
      {"PATCH", "/v2/device/tags", R"({"zone":1})", 400, "~Invalid tags body"},
      {"PATCH", "/v2/device/tags", R"({"a b":"x"})", 400,
       R"({"status":"failed","message":"Tag keys cannot contain whitespace"})"},
      {"GET", "/v2/device/tags", "", 200,
       "~\"tags\":[{\"id\":1,\"name\":\"zone\",\"value\":\"eu\"}]"},
      // No bus here (tests/support/bosun.hpp): 503 with the reason.
      {"POST", "/v1/reboot", "", 503,
       "~{\"Data\":\"\",\"Error\":\"The host's D-Bus is not reachable"},
      {"POST", "/v1/shutdown", "", 503, "~\"Error\":\"The host's D-Bus"},
      {"POST", "/v1/blink", "", 200, "OK"},
      {"GET", "/v1/device/host-config", "", 200,
       "~{\"network\":{\"hostname\":"},
      {"PATCH", "/v1/device/host-config", "{}", 400,
       "Could not parse host config input to a valid format:\nExpecting "
       "object at network but instead got: undefined"},
      {"GET", "/v2/device/vpn", "", 503,
       "~{\"status\":\"failed\",\"message\":\"The host's D-Bus"},
      {"GET", "/v2/nope", "", 404,
       R"({"status":"failed","message":"Not found"})"},
      {"DELETE", "/v2/version", "", 404, ""},
      // no key to regenerate in local mode
      {"POST", "/v1/regenerate-api-key", "", 503, "~\"status\":\"failed\""},
      // bodies: 1 MiB for API calls, 10 MiB for a target state
      {"POST", "/v2/applications/71/stop-service", big, 413,
       "~\"status\":\"failed\""},
      {"POST", "/v2/local/target-state", "{\"local\":" + big + "}", 400, ""},
      {"POST", "/v2/local/target-state", huge, 413, ""},
      {"GET", "/v2/cleanup-volumes", "", 200, R"({"status":"success"})"},
    };
    for (auto& c : table)
      check_route(b.port(), c);
    // Nothing above changed the device.
    for (auto& n : all_containers)
      CHECK_MESSAGE(running(n), n);
    CHECK(b.proc().running());
  }

  TEST_CASE("/v2/state/status, /v2/containerId and the views as the balena "
            "CLI reads them") {
    apps_fixture fx;
    running_bosun b;
    apply_target(b);
    auto d = parse(b.get("/v2/state/status").body);
    CHECK(std::string(d["status"].GetString()) == "success");
    CHECK(std::string(d["appState"].GetString()) == "applied");
    CHECK(d["overallDownloadProgress"].IsNull());
    REQUIRE(d["containers"].IsArray());
    REQUIRE(d["containers"].Size() == 2); // the first app only
    std::map<std::string, std::string> ids;
    for (auto& c : d["containers"].GetArray()) {
      CHECK(std::string(c["status"].GetString()) == "Running");
      CHECK(c["appId"].GetInt() == 71);
      CHECK(c["imageId"].IsInt());
      CHECK(c["serviceId"].IsInt());
      CHECK(std::string(c["createdAt"].GetString()).size() == 24);
      ids[c["serviceName"].GetString()] = c["containerId"].GetString();
    }
    REQUIRE(ids.size() == 2);
    CHECK(ids["web"].size() == 64);
    CHECK(ids["web"] == inspect("web_10_1_c1", "{{.Id}}"));
    REQUIRE(d["images"].Size() == 2);
    CHECK(std::string(d["images"][0]["status"].GetString()) == "Downloaded");
    CHECK(std::string(d["images"][0]["dockerImageId"].GetString())
            .rfind("sha256:", 0)
          == 0);
    CHECK(std::string(d["release"].GetString()) == "c1");

    auto one = parse(b.get("/v2/containerId?serviceName=worker").body);
    CHECK(std::string(one["containerId"].GetString()) == ids["worker"]);

    auto apps = parse(b.get("/v2/applications/state").body);
    auto& a = apps["app71"];
    CHECK(a["appId"].GetInt() == 71);
    CHECK(std::string(a["appUuid"].GetString()) == "71");
    CHECK(std::string(a["updateStatus"].GetString()) == "done");
    CHECK(std::string(a["services"]["web"]["status"].GetString()) == "Running");

    auto v1 = parse(b.get("/v1/apps/72").body);
    CHECK(std::string(v1["containerId"].GetString())
          == inspect("solo_30_1_c1", "{{.Id}}"));
    CHECK(std::string(v1["env"]["GREETING"].GetString()) == "hi");
    CHECK(std::string(v1["imageId"].GetString()).rfind("sha256:", 0) == 0);
  }

  TEST_CASE("service actions act on the engine; a stop outlives a bosun "
            "restart; update locks are honoured unless forced") {
    apps_fixture fx;
    bosun::test::temp_dir state;
    std::string data_dir = state.path() + "/data";
    std::optional<running_bosun> b;
    b.emplace(std::vector<std::string>{}, data_dir);
    apply_target(*b);

    // restart: balena's kill, remove, recreate. The answer comes once the
    // new container runs; the app's other service is untouched.
    auto old_id = inspect("worker_20_1_c1", "{{.Id}}");
    auto started = inspect("worker_20_1_c1", "{{.State.StartedAt}}");
    auto web_id = inspect("web_10_1_c1", "{{.Id}}");
    auto r = b->post("/v2/applications/71/restart-service",
                     R"({"serviceName":"worker"})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.body == "OK");
    auto id = inspect("worker_20_1_c1", "{{.Id}}");
    CHECK(id != old_id);
    CHECK(inspect("worker_20_1_c1", "{{.State.StartedAt}}") != started);
    CHECK(running("worker_20_1_c1"));
    CHECK(docker("inspect " + old_id).status != 0); // removed
    CHECK(inspect("web_10_1_c1", "{{.Id}}") == web_id);
    eventually(30s, [&](std::string& last) {
      last = b->get("/v2/state/status").body;
      return last.find("\"appState\":\"applied\"") != std::string::npos
             && last.find(id) != std::string::npos;
    });

    // By imageId, stop: the container is kept, stopped.
    r = b->post("/v2/applications/71/stop-service", R"({"imageId":20})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK_FALSE(running("worker_20_1_c1"));
    CHECK(inspect("worker_20_1_c1", "{{.Id}}") == id);
    auto st = b->get("/v2/applications/71/state").body;
    CHECK(st.find("\"20\":{\"status\":\"exited\"") != std::string::npos);

    // It stays stopped through a bosun restart.
    b.reset();
    b.emplace(std::vector<std::string>{}, data_dir);
    REQUIRE(b->wait_ready());
    eventually(30s, [&](std::string& last) {
      last = b->get("/v2/state/status").body;
      return last.find("\"appState\":\"applied\"") != std::string::npos;
    });
    CHECK_FALSE(running("worker_20_1_c1"));
    CHECK(running("web_10_1_c1"));

    // start: running again, the same container.
    r = b->post("/v2/applications/71/start-service",
                R"({"serviceName":"worker"})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(running("worker_20_1_c1"));
    CHECK(inspect("worker_20_1_c1", "{{.Id}}") == id);

    // v1 on a single-container app answers with the container id.
    auto solo = inspect("solo_30_1_c1", "{{.Id}}");
    r = b->post("/v1/apps/72/stop", "{}");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.body == R"({"containerId":")" + solo + "\"}");
    CHECK_FALSE(running("solo_30_1_c1"));
    r = b->post("/v1/apps/72/start", "");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(running("solo_30_1_c1"));

    // An app's update lock refuses a stop (423) until it is forced.
    auto lock_dir = data_dir + "/services/71/worker";
    REQUIRE(bosun::test::run_command("mkdir -p " + lock_dir + " && touch "
                                     + lock_dir + "/updates.lock")
              .status
            == 0);
    r = b->post("/v2/applications/71/stop-service",
                R"({"serviceName":"worker"})");
    CHECK(r.status == 423);
    CHECK(r.body.rfind(R"({"status":"failed","message":"Updates are locked)", 0)
          == 0);
    CHECK(running("worker_20_1_c1"));
    r = b->post("/v2/applications/71/restart", "{}");
    CHECK(r.status == 423);
    CHECK(running("worker_20_1_c1"));
    CHECK(inspect("worker_20_1_c1", "{{.Id}}") == id);
    r = b->post("/v2/applications/71/stop-service",
                R"({"serviceName":"worker","force":true})");
    CHECK_MESSAGE(r.status == 200, r.body);
    CHECK_FALSE(running("worker_20_1_c1"));
    r = b->post("/v2/applications/71/start-service",
                R"({"serviceName":"worker"})");
    CHECK(r.status == 200);
    CHECK(running("worker_20_1_c1"));
  }

  TEST_CASE("restart recreates an app's containers; purge empties its "
            "volumes; cleanup-volumes removes an unreferenced one") {
    apps_fixture fx;
    running_bosun b;
    apply_target(b);
    auto web = inspect("web_10_1_c1", "{{.Id}}");
    auto worker = inspect("worker_20_1_c1", "{{.Id}}");
    auto solo = inspect("solo_30_1_c1", "{{.Id}}");
    REQUIRE(
      docker("exec web_10_1_c1 /bin/sh -c 'echo kept > /data/file'").status
      == 0);

    auto r = b.post("/v1/restart", R"({"appId":71})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.body == "OK");
    REQUIRE(wait_running(all_containers));
    CHECK(inspect("web_10_1_c1", "{{.Id}}") != web);
    CHECK(inspect("worker_20_1_c1", "{{.Id}}") != worker);
    CHECK(inspect("solo_30_1_c1", "{{.Id}}") == solo); // other app untouched
    CHECK(docker("exec web_10_1_c1 cat /data/file").out == "kept");

    r = b.post("/v1/purge", R"({"appId":71})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.body == R"({"Data":"OK","Error":""})");
    REQUIRE(wait_running(all_containers));
    CHECK(docker("exec web_10_1_c1 ls /data").out.empty());
    REQUIRE(docker("exec web_10_1_c1 /bin/sh -c 'echo new > /data/file'").status
            == 0);
    r = b.post("/v2/applications/71/purge", "{}");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    REQUIRE(wait_running(all_containers));
    CHECK(docker("exec web_10_1_c1 ls /data").out.empty());
    CHECK(inspect("solo_30_1_c1", "{{.Id}}") == solo);

    REQUIRE(docker("volume create 77_orphan").status == 0);
    r = b.get("/v2/cleanup-volumes");
    CHECK(r.status == 200);
    CHECK(docker("volume inspect 77_orphan").status != 0);
    CHECK(docker("volume inspect 71_data").status == 0);
  }

  TEST_CASE("auth on a managed device: no key, wrong key, global key, "
            "query or header, app key on its own app and another") {
    apps_fixture fx;
    bosun::test::temp_dir state;
    std::string data_dir = state.path() + "/data";
    std::string app_key;
    {
      // Apps come from a local target; then the device is managed.
      running_bosun local({}, data_dir);
      apply_target(local);
      app_key = env_of("web_10_1_c1", "BALENA_SUPERVISOR_API_KEY");
      CHECK(env_of("web_10_1_c1", "RESIN_SUPERVISOR_API_KEY") == app_key);
      CHECK(env_of("worker_20_1_c1", "BALENA_SUPERVISOR_API_KEY").empty());
      CHECK(app_key.size() == 32);
      CHECK(app_key != global_key(local));
    }
    running_bosun b({"--local-mode=false"}, data_dir, managed_config());
    REQUIRE(b.wait_ready());
    auto global = global_key(b);
    REQUIRE(app_key != global);
    auto bearer = [](const std::string& k) {
      return std::vector<std::string>{"Authorization: Bearer " + k};
    };
    // The apps stay (the API port in web's env changed: it is recreated).
    REQUIRE_MESSAGE(wait_running(all_containers), b.log());
    eventually(30s, [&](std::string& last) {
      last
        = http_request(b.port(), "GET", "/v2/state/status", "", bearer(global))
            .body;
      return last.find("\"appState\":\"applied\"") != std::string::npos;
    });
    CHECK(env_of("web_10_1_c1", "BALENA_SUPERVISOR_API_KEY") == app_key);
    auto get = [&](const std::string& path,
                   const std::vector<std::string>& headers = {}) {
      return http_request(b.port(), "GET", path, "", headers);
    };

    // Open routes need nothing.
    CHECK(get("/ping").status == 200);
    CHECK(get("/v1/healthy").status != 401);
    // No key, a wrong key, a malformed header: 401 "Unauthorized".
    for (auto& headers : std::vector<std::vector<std::string>>{
           {},
           bearer("0000000000000000000000000000dead"),
           {"Authorization: Basic " + global},
           {"Authorization: Bearer " + global + "-x"}}) {
      auto r = get("/v2/version", headers);
      CHECK(r.status == 401);
      CHECK(r.body == "Unauthorized");
    }
    CHECK(get("/v2/version?apikey=wrong").status == 401);
    CHECK(get("/v2/nope").status == 401); // auth before routing
    CHECK(get("/v2/nope", bearer(global)).status == 404);
    // The global key: query, Bearer or ApiKey, any case.
    CHECK(get("/v2/version?apikey=" + global).status == 200);
    CHECK(get("/v2/version", bearer(global)).status == 200);
    CHECK(get("/v2/version", {"Authorization: apikey " + global}).status
          == 200);
    CHECK(get("/v2/version", {"Authorization: BEARER " + global}).status
          == 200);
    auto all = get("/v2/applications/state", bearer(global));
    CHECK(all.body.find("app71") != std::string::npos);
    CHECK(all.body.find("app72") != std::string::npos);

    // The app key: its app only; the other app is out of scope.
    auto mine = get("/v2/applications/state", bearer(app_key));
    CHECK(mine.status == 200);
    CHECK(mine.body.find("app71") != std::string::npos);
    CHECK(mine.body.find("app72") == std::string::npos);
    CHECK(get("/v2/applications/71/state", bearer(app_key)).status == 200);
    auto other = get("/v2/applications/72/state", bearer(app_key));
    CHECK(other.status == 409);
    CHECK(
      other.body
      == R"({"status":"failed","message":"Application ID does not exist: 72"})");
    CHECK(get("/v2/applications/72/state", bearer(global)).status == 200);
    auto v1 = get("/v1/apps/72", bearer(app_key));
    CHECK(v1.status == 401);
    CHECK(v1.body
          == R"({"status":"failed","message":"Application is not available"})");
    auto ids = get("/v2/containerId", bearer(app_key));
    CHECK(ids.body.find("\"web\"") != std::string::npos);
    CHECK(ids.body.find("\"solo\"") == std::string::npos);
    auto status = get("/v2/state/status", bearer(app_key));
    CHECK(status.body.find("\"appId\":72") == std::string::npos);
    auto act
      = http_request(b.port(), "POST", "/v2/applications/72/restart-service",
                     R"({"serviceName":"solo"})",
                     {json_type, "Authorization: Bearer " + app_key});
    CHECK(act.status == 401);
    CHECK(act.body == R"({"status":"failed","message":"Unauthorized"})");
    act = http_request(b.port(), "POST", "/v1/apps/72/stop", "",
                       {"Authorization: Bearer " + app_key});
    CHECK(act.status == 401);
    CHECK(act.body == "Unauthorized");
    act = http_request(b.port(), "POST", "/v1/restart", R"({"appId":72})",
                       {json_type, "Authorization: Bearer " + app_key});
    CHECK(act.status == 401);
    CHECK_MESSAGE(running("solo_30_1_c1"), b.log());
    // ... and acts on its own app.
    act = http_request(b.port(), "POST", "/v2/applications/71/restart-service",
                       R"({"serviceName":"worker"})",
                       {json_type, "Authorization: Bearer " + app_key});
    CHECK_MESSAGE(act.status == 200, act.body);

    // Local-mode-only routes stay refused on a managed device.
    auto post = http_request(b.port(), "POST", "/v2/local/target-state",
                             target(), {json_type, bearer(global)[0]});
    CHECK(post.status == 400);

    // regenerate-api-key replaces the calling key at once, same scope.
    auto regen = http_request(b.port(), "POST", "/v1/regenerate-api-key", "",
                              bearer(app_key));
    REQUIRE(regen.status == 200);
    auto fresh = regen.body;
    CHECK(fresh.size() == 32);
    CHECK(fresh != app_key);
    CHECK(get("/v2/version", bearer(app_key)).status == 401);
    CHECK(get("/v2/applications/71/state", bearer(fresh)).status == 200);
    CHECK(get("/v2/applications/72/state", bearer(fresh)).status == 409);
    CHECK(get("/v2/version", bearer(global)).status == 200);
    regen = http_request(b.port(), "POST", "/v1/regenerate-api-key", "",
                         bearer(global));
    REQUIRE(regen.status == 200);
    CHECK(get("/v2/version", bearer(global)).status == 401);
    CHECK(get("/v2/version", bearer(regen.body)).status == 200);
    CHECK(http_request(b.port(), "POST", "/v1/regenerate-api-key", "",
                       bearer(global))
            .status
          == 401);
  }

  TEST_CASE("hostile requests neither crash bosun nor change the device; a "
            "stalled client holds nobody up") {
    apps_fixture fx;
    running_bosun b;
    apply_target(b);
    auto ids = b.get("/v2/containerId").body;
    // A client that sends half a request and waits.
    int stalled = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(b.port()));
    REQUIRE(::connect(stalled, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
            == 0);
    std::string half = "POST /v1/restart HTTP/1.1\r\nHost: x\r\nContent-"
                       "Length: 100\r\n\r\n{\"appId\":";
    REQUIRE(::send(stalled, half.data(), half.size(), MSG_NOSIGNAL) > 0);
    const std::vector<route_case> hostile{
      {"GET", "/v2/containerId?serviceName=%zz", "", 200, ""},
      {"GET", "/v2/applications/%00/state", "", 400, ""},
      {"GET", "/v2/applications/99999999999999999999999/state", "", 400, ""},
      {"POST", "/v2/applications/71/restart-service",
       R"({"serviceName":{"$gt":""},"imageId":[1],"force":{}})", 400, ""},
      {"POST", "/v2/applications/71/stop-service",
       R"({"serviceName":"worker","imageId":"1e3"})", 200, "OK"},
      {"POST", "/v2/applications/71/start-service",
       R"({"serviceName":"worker"})", 200, "OK"},
      {"POST",
       "/v1/purge",
       "appId=71&appId=%zz",
       400,
       "",
       {"Content-Type: application/x-www-form-urlencoded"}},
      {"POST", "/v1/restart", "\xff\xfe{]", 400, ""},
      {"PATCH", "/v2/device/tags", "null", 400, ""},
      {"POST", "/v2/local/target-state?force=%zz", "{}", 0, ""},
    };
    for (auto& c : hostile) {
      CAPTURE(c.path);
      auto r = http_request(b.port(), c.method, c.path, c.body, c.headers);
      if (c.status != 0)
        CHECK_MESSAGE(r.status == c.status, r.body);
      if (!c.expect.empty())
        CHECK(r.body == c.expect);
      CHECK(b.get("/ping").status == 200);
    }
    // Not HTTP at all.
    auto garbage = run_raw(b.port(), std::string("\x16\x03\x01\x00\xa5", 5)
                                       + std::string(200, '\xff'));
    CHECK(garbage.find("HTTP/1.1 200") == std::string::npos);
    CHECK(b.get("/ping").status == 200);
    CHECK(b.proc().running());
    ::close(stalled);
    for (auto& n : all_containers)
      CHECK_MESSAGE(running(n), n);
    CHECK(b.get("/v2/containerId").body == ids);
  }

  TEST_CASE("tags are kept locally across restarts") {
    bosun::test::temp_dir state;
    std::string data_dir = state.path() + "/data";
    int zone_id = 0;
    {
      running_bosun b({}, data_dir);
      REQUIRE(b.wait_ready());
      auto r = http_request(b.port(), "PATCH", "/v2/device/tags",
                            R"({"zone":"eu","floor":"2"})", {json_type});
      REQUIRE(r.status == 202);
      auto d = parse(b.get("/v2/device/tags").body);
      REQUIRE(d["tags"].Size() == 2);
      zone_id = d["tags"][1]["id"].GetInt();
      r = http_request(b.port(), "PATCH", "/v2/device/tags", R"({"zone":"us"})",
                       {json_type});
      REQUIRE(r.status == 202);
    }
    running_bosun b({}, data_dir);
    REQUIRE(b.wait_ready());
    auto d = parse(b.get("/v2/device/tags").body);
    REQUIRE(d["tags"].Size() == 2);
    CHECK(std::string(d["tags"][0]["name"].GetString()) == "floor");
    CHECK(std::string(d["tags"][1]["name"].GetString()) == "zone");
    CHECK(std::string(d["tags"][1]["value"].GetString()) == "us");
    CHECK(d["tags"][1]["id"].GetInt() == zone_id); // kept by the update
  }
}
