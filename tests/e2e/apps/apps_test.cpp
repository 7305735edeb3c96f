// A target state becomes running, self-healing containers: the real bosun
// binary, a real dockerd and the private registry.
#include "tests/support/bosun.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <map>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::running_bosun;

namespace {

// One service of a local target, in the balena CLI's shape.
struct svc {
  svc(std::string n, int i, std::string cmd, std::string e = "{}",
      std::string x = "", std::string img = "")
      : name(std::move(n)), id(i), command(std::move(cmd)), env(std::move(e)),
        extra(std::move(x)), image(std::move(img)) {}
  std::string name;
  int id;
  std::string command; // JSON array
  std::string env;
  std::string extra; // more compose keys, JSON members with a leading ','
  std::string image; // default: the test image
};

std::string local_target(int app_id, const std::string& commit,
                         const std::vector<svc>& services,
                         const std::string& volumes = "{}",
                         const std::string& networks = "{}") {
  auto image = bosun::test::required_env("BOSUN_TEST_IMAGE");
  std::ostringstream o;
  o << R"({"local":{"name":"e2e","config":{},"apps":{")" << app_id
    << R"(":{"name":"app)" << app_id << R"(","commit":")" << commit
    << R"(","releaseId":"1","services":{)";
  bool first = true;
  for (auto& s : services) {
    o << (first ? "" : ",") << '"' << s.id << R"(":{"serviceName":")" << s.name
      << R"(","serviceId":)" << s.id << R"(,"imageId":)" << s.id
      << R"(,"image":")" << (s.image.empty() ? image : s.image)
      << R"(","environment":)" << s.env << R"(,"labels":{"e2e.test":"yes"})"
      << R"(,"command":)" << s.command << s.extra << "}";
    first = false;
  }
  o << R"(},"volumes":)" << volumes << R"(,"networks":)" << networks << "}}}}";
  return o.str();
}

const std::string sleeper
  = R"(["/bin/sh","-c","trap 'exit 0' TERM; sleep 1000 & wait"])";

// Containers of the app, by name → id.
std::map<std::string, std::string> containers_of(int app_id) {
  auto r = docker("ps -a --filter label=io.balena.app-id="
                  + std::to_string(app_id) + " --format '{{.Names}} {{.ID}}'");
  std::map<std::string, std::string> out;
  std::istringstream in(r.out);
  std::string name, id;
  while (in >> name >> id)
    out[name] = id;
  return out;
}

std::string inspect(const std::string& name, const std::string& format) {
  return docker("inspect -f '" + format + "' " + name).out;
}

bool running(const std::string& name) {
  return inspect(name, "{{.State.Running}}") == "true";
}

// Removes what earlier runs of a test may have left.
void clean_app(int app_id) {
  for (auto& [name, id] : containers_of(app_id))
    docker("rm -f " + id);
  docker("network rm " + std::to_string(app_id) + "_default "
         + std::to_string(app_id) + "_backend");
  docker("volume rm " + std::to_string(app_id) + "_data");
}

bool wait_running(const std::vector<std::string>& names,
                  std::chrono::milliseconds deadline = 60s) {
  return eventually(
    deadline,
    [&](std::string& last) {
      last.clear();
      for (auto& n : names)
        if (!running(n)) {
          last = n + " is not running";
          return false;
        }
      return true;
    },
    "containers to run");
}

struct app_fixture {
  int app_id;
  explicit app_fixture(int id) : app_id(id) {
    clean_app(app_id);
  }
  ~app_fixture() {
    clean_app(app_id);
  }
};

} // namespace

TEST_SUITE("apps") {
  TEST_CASE("a three-service app gets its names, labels, env, volume and "
            "network; an env change recreates only that service") {
    app_fixture app(101);
    running_bosun b;
    REQUIRE(b.wait_ready());
    std::vector<svc> services{
      {"web", 11, sleeper, R"({"GREETING":"hello"})",
       R"(,"volumes":["data:/data"],"networks":["backend"])"},
      {"worker", 12, sleeper, "{}", R"(,"volumes":["data:/data"])"},
      {"cache", 13, sleeper},
    };
    auto target = local_target(101, "c1", services, R"({"data":{}})",
                               R"({"backend":{}})");
    auto r = b.post("/v2/local/target-state", target);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.body == R"({"status":"success","message":"OK"})");
    REQUIRE(wait_running({"web_11_1_c1", "worker_12_1_c1", "cache_13_1_c1"}));

    CHECK(
      inspect("web_11_1_c1", "{{index .Config.Labels \"io.balena.app-id\"}}")
      == "101");
    CHECK(inspect("web_11_1_c1",
                  "{{index .Config.Labels \"io.balena.service-name\"}}")
          == "web");
    CHECK(inspect("web_11_1_c1", "{{index .Config.Labels \"e2e.test\"}}")
          == "yes");
    auto env = inspect("web_11_1_c1", "{{json .Config.Env}}");
    CHECK(env.find("GREETING=hello") != std::string::npos);
    CHECK(env.find("BALENA_SERVICE_NAME=web") != std::string::npos);
    CHECK(env.find("BALENA_APP_ID=101") != std::string::npos);
    auto mounts = inspect("web_11_1_c1", "{{json .Mounts}}");
    CHECK(mounts.find("\"Name\":\"101_data\"") != std::string::npos);
    CHECK(mounts.find("\"Destination\":\"/data\"") != std::string::npos);
    CHECK(inspect("web_11_1_c1", "{{json .NetworkSettings.Networks}}")
            .find("101_backend")
          != std::string::npos);
    CHECK(docker("volume inspect 101_data").status == 0);
    CHECK(inspect("web_11_1_c1", "{{.HostConfig.RestartPolicy.Name}}") == "no");

    auto before = containers_of(101);
    services[0].env = R"({"GREETING":"bonjour"})";
    r = b.post(
      "/v2/local/target-state",
      local_target(101, "c1", services, R"({"data":{}})", R"({"backend":{}})"));
    REQUIRE(r.status == 200);
    eventually(60s, [&](std::string& last) {
      auto e = inspect("web_11_1_c1", "{{json .Config.Env}}");
      last = e;
      return e.find("GREETING=bonjour") != std::string::npos
             && running("web_11_1_c1");
    });
    auto after = containers_of(101);
    CHECK(after.at("web_11_1_c1") != before.at("web_11_1_c1"));
    CHECK(after.at("worker_12_1_c1") == before.at("worker_12_1_c1"));
    CHECK(after.at("cache_13_1_c1") == before.at("cache_13_1_c1"));

    // GET returns what was posted, in the CLI's shape.
    auto got = b.get("/v2/local/target-state");
    CHECK(got.status == 200);
    CHECK(got.body.find("\"bonjour\"") != std::string::npos);
    CHECK(got.body.rfind(R"({"status":"success","state":{"local":)", 0) == 0);

    // Removing a service removes its container, and keeps the volume.
    services.erase(services.begin() + 1);
    r = b.post(
      "/v2/local/target-state",
      local_target(101, "c1", services, R"({"data":{}})", R"({"backend":{}})"));
    REQUIRE(r.status == 200);
    eventually(60s,
               [&] { return containers_of(101).count("worker_12_1_c1") == 0; });
    CHECK(containers_of(101).size() == 2);
    CHECK(docker("volume inspect 101_data").status == 0);
  }

  TEST_CASE("a killed container runs again, the same container") {
    app_fixture app(102);
    running_bosun b;
    REQUIRE(b.wait_ready());
    REQUIRE(b.post("/v2/local/target-state",
                   local_target(102, "c1", {svc{"web", 21, sleeper}}))
              .status
            == 200);
    REQUIRE(wait_running({"web_21_1_c1"}));
    auto id = containers_of(102).at("web_21_1_c1");
    auto started = inspect("web_21_1_c1", "{{.State.StartedAt}}");
    REQUIRE(docker("kill web_21_1_c1").status == 0);
    eventually(10s, [&](std::string& last) {
      last = inspect("web_21_1_c1", "{{.State.Status}} {{.State.StartedAt}}");
      return running("web_21_1_c1")
             && inspect("web_21_1_c1", "{{.State.StartedAt}}") != started;
    });
    CHECK(containers_of(102).at("web_21_1_c1") == id);
  }

  TEST_CASE("a crash-looping service backs off with growing delays and a new "
            "target for the other services still applies") {
    app_fixture app(103);
    running_bosun b;
    REQUIRE(b.wait_ready());
    std::vector<svc> services{{"crashy", 31, R"(["/bin/sh","-c","exit 1"])"},
                              {"web", 32, sleeper}};
    REQUIRE(
      b.post("/v2/local/target-state", local_target(103, "c1", services)).status
      == 200);
    REQUIRE(wait_running({"web_32_1_c1"}));
    // Collect distinct start times of the crashing container.
    std::set<std::string> starts;
    eventually(60s, [&](std::string& last) {
      auto s = inspect("crashy_31_1_c1", "{{.State.StartedAt}}");
      if (!s.empty() && s.rfind("0001", 0) != 0)
        starts.insert(s);
      last = std::to_string(starts.size()) + " starts";
      return starts.size() >= 4;
    });
    // RFC 3339 nano: seconds within the minute are enough to see growth.
    auto secs = [](const std::string& t) {
      auto h = std::stod(t.substr(11, 2)), m = std::stod(t.substr(14, 2));
      return h * 3600 + m * 60 + std::stod(t.substr(17, 12));
    };
    std::vector<double> times;
    for (auto& s : starts)
      times.push_back(secs(s));
    REQUIRE(times.size() >= 4);
    auto gap1 = times[2] - times[1];
    auto gap2 = times[3] - times[2];
    CHECK_MESSAGE(gap2 > gap1, "gaps " << gap1 << " then " << gap2);

    services[1].env = R"({"V":"2"})";
    REQUIRE(
      b.post("/v2/local/target-state", local_target(103, "c1", services)).status
      == 200);
    eventually(60s, [&] {
      return inspect("web_32_1_c1", "{{json .Config.Env}}").find("V=2")
               != std::string::npos
             && running("web_32_1_c1");
    });
  }

  TEST_CASE("bosun killed in the middle of an apply converges after a "
            "restart with no duplicates and the volume data intact") {
    app_fixture app(104);
    bosun::test::temp_dir state; // outlives both bosun processes
    std::string data_dir = state.path() + "/data";
    std::vector<svc> services;
    for (int i = 0; i < 4; ++i)
      services.push_back({"s" + std::to_string(i), 41 + i, sleeper, "{}",
                          R"(,"volumes":["data:/data"])"});
    {
      running_bosun first({}, data_dir);
      REQUIRE(first.wait_ready());
      REQUIRE(first
                .post("/v2/local/target-state",
                      local_target(104, "c1", services, R"({"data":{}})"))
                .status
              == 200);
      REQUIRE(wait_running({"s0_41_1_c1"}));
      REQUIRE(
        docker("exec s0_41_1_c1 /bin/sh -c 'echo kept > /data/file'").status
        == 0);
      // A new release, and bosun dies while it applies it.
      for (auto& s : services)
        s.env = R"({"R":"2"})";
      REQUIRE(first
                .post("/v2/local/target-state",
                      local_target(104, "c2", services, R"({"data":{}})"))
                .status
              == 200);
      first.proc().signal(SIGKILL);
      first.proc().wait_exit(10s);
    }
    running_bosun second({}, data_dir);
    REQUIRE(second.wait_ready());
    std::vector<std::string> names;
    for (auto& s : services)
      names.push_back(s.name + "_" + std::to_string(s.id) + "_1_c2");
    REQUIRE_MESSAGE(wait_running(names), second.log());
    eventually(60s, [&](std::string& last) {
      auto cs = containers_of(104);
      last = std::to_string(cs.size()) + " containers";
      return cs.size() == services.size();
    });
    CHECK(inspect("s0_41_1_c2", "{{json .Config.Env}}").find("R=2")
          != std::string::npos);
    CHECK(docker("exec s0_41_1_c2 cat /data/file").out == "kept");
  }

  TEST_CASE("an image that cannot be pulled fails that service; the running "
            "services keep running") {
    app_fixture app(105);
    running_bosun b;
    REQUIRE(b.wait_ready());
    std::vector<svc> services{{"web", 51, sleeper}};
    REQUIRE(
      b.post("/v2/local/target-state", local_target(105, "c1", services)).status
      == 200);
    REQUIRE(wait_running({"web_51_1_c1"}));
    auto id = containers_of(105).at("web_51_1_c1");
    auto registry = bosun::test::required_env("BOSUN_TEST_REGISTRY");
    services.push_back(
      {"ghost", 52, sleeper, "{}", "", registry + "/bosun/missing:404"});
    REQUIRE(
      b.post("/v2/local/target-state", local_target(105, "c1", services)).status
      == 200);
    eventually(60s, [&] {
      return b.log().find("Failed to download image '" + registry
                          + "/bosun/missing:404'")
             != std::string::npos;
    });
    CHECK(running("web_51_1_c1"));
    CHECK(containers_of(105).at("web_51_1_c1") == id);
    CHECK(containers_of(105).count("ghost_52_1_c1") == 0);

    // The failure shows in every view while the download is retried; the
    // device is still applying, never applied.
    eventually(20s, [&](std::string& last) {
      auto device = b.get("/v1/device").body;
      auto apps = b.get("/v2/applications/state").body;
      auto status = b.get("/v2/state/status").body;
      last = device + "\n" + apps + "\n" + status;
      return device.find(R"("update_failed":true)") != std::string::npos
             && apps.find(R"("ghost":{"status":"Download failed")")
                  != std::string::npos
             && apps.find(R"("web":{"status":"Running")") != std::string::npos
             && status.find(R"("status":"Download failed")")
                  != std::string::npos
             && status.find(R"("appState":"applying")") != std::string::npos;
    });
    // Another look, after bosun's own retry of the pass, says the same.
    eventually(60s, [&] {
      return b.log().find("Downloading image '" + registry
                            + "/bosun/missing:404'",
                          b.log().find("Failed to download image '"))
             != std::string::npos;
    });
    CHECK(b.get("/v2/state/status").body.find(R"("appState":"applying")")
          != std::string::npos);
    CHECK(b.get("/v1/device").body.find(R"("update_failed":true)")
          != std::string::npos);

    // A good target recovers; the running service is untouched.
    services.back().image.clear();
    REQUIRE(
      b.post("/v2/local/target-state", local_target(105, "c1", services)).status
      == 200);
    REQUIRE(wait_running({"ghost_52_1_c1", "web_51_1_c1"}));
    eventually(30s, [&](std::string& last) {
      last = b.get("/v2/state/status").body + b.get("/v1/device").body;
      return last.find(R"("appState":"applied")") != std::string::npos
             && last.find(R"("update_failed":false)") != std::string::npos
             && last.find("Download failed") == std::string::npos;
    });
    CHECK(containers_of(105).at("web_51_1_c1") == id);
  }

  TEST_CASE("a malformed target is refused with the path of the error and "
            "the running apps are untouched") {
    app_fixture app(106);
    running_bosun b;
    REQUIRE(b.wait_ready());
    REQUIRE(b.post("/v2/local/target-state",
                   local_target(106, "c1", {svc{"web", 61, sleeper}}))
              .status
            == 200);
    REQUIRE(wait_running({"web_61_1_c1"}));
    auto id = containers_of(106).at("web_61_1_c1");
    auto bad
      = local_target(106, "c2", {svc{"web", 61, sleeper, R"({"1BAD":"x"})"}});
    auto r = b.post("/v2/local/target-state", bad);
    CHECK(r.status == 400);
    CHECK(r.body.find("\"status\":\"failed\"") != std::string::npos);
    CHECK_MESSAGE(r.body.find("environment") != std::string::npos, r.body);
    r = b.post("/v2/local/target-state", "{not json");
    CHECK(r.status == 400);
    CHECK(containers_of(106).at("web_61_1_c1") == id);
    CHECK(running("web_61_1_c1"));
    CHECK(b.get("/v2/local/target-state").body.find("\"c1\"")
          != std::string::npos);
  }
}
