// The host routes through the bosun binary, against a private dbus-daemon
// with dbusmock's logind and the systemd1/hostname1 stand-in
// (tests/support/host_bus.hpp): happy paths, update locks, breadcrumbs, a
// missing bus, bad bodies and the key check.
#include "tests/e2e/api/api_helpers.hpp"
#include "tests/support/host_bus.hpp"
#include "tests/support/targets.hpp"

#include <cerrno>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace bosun::test {
namespace {

const std::string json_type = "Content-Type: application/json";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

http_reply post(running_bosun& b, const std::string& path,
                const std::string& body = "",
                std::vector<std::string> headers = {}) {
  headers.push_back(json_type);
  return http_request(b.port(), "POST", path, body, headers);
}

// A JSON string's content: quotes and backslashes escaped.
std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

// bosun's host actor has connected to the test's bus.
bool bus_connected(running_bosun& b) {
  return eventually(20s, [&](std::string& last) {
    last = b.log();
    return last.find("D-Bus connected") != std::string::npos;
  });
}

bool saw(const host_bus& bus, const std::string& call) {
  return eventually(10s, [&](std::string& last) {
    last = bus.logind_calls() + bus.host_calls();
    return last.find(call) != std::string::npos;
  });
}

} // namespace

TEST_SUITE("host routes (bosun binary, real dbus-daemon)") {
  TEST_CASE("POST /v1/reboot: 202, logind Reboot(false), then the API "
            "stops accepting connections") {
    host_bus bus;
    REQUIRE(bus.ready());
    running_bosun b({}, {}, "{}", {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}});
    REQUIRE(b.wait_ready());
    REQUIRE(bus_connected(b));
    auto r = post(b, "/v1/reboot");
    CHECK(r.status == 202);
    CHECK(r.body == R"({"Data":"OK","Error":null})");
    CHECK(saw(bus, " Reboot False\n"));
    CHECK(eventually(10s, [&](std::string& last) {
      auto p = b.get("/ping");
      last = std::to_string(p.status);
      return p.status == 0;
    }));
    CHECK(b.log().find("Stopped Supervisor API") != std::string::npos);
  }

  TEST_CASE("a container with the supervisor-api feature reboots the device "
            "through $BALENA_SUPERVISOR_ADDRESS/v1/reboot") {
    // What the balena docs tell app developers to do. On the host network
    // the address is the device's loopback; the key is in the environment.
    host_bus bus;
    REQUIRE(bus.ready());
    {
      running_bosun b({}, {}, "{}",
                      {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}});
      REQUIRE(b.wait_ready());
      REQUIRE(bus_connected(b));
      auto image = required_env("BOSUN_TEST_IMAGE");
      // (Retried: while bosun's apply holds the app's update lock, the
      // reboot answers 423 — balena waits up to 10 s instead.)
      std::string cmd = "until wget -q -O- --post-data '' "
                        "\"$BALENA_SUPERVISOR_ADDRESS/v1/reboot?apikey="
                        "$BALENA_SUPERVISOR_API_KEY\"; do sleep 0.2; done; "
                        "trap 'exit 0' TERM; sleep 1000 & wait";
      std::string target
        = R"({"local":{"name":"dev","config":{},"apps":{"81":{"name":"rb",)"
          R"("commit":"c1","releaseId":"1","services":{"1":{"serviceName":)"
          R"("main","serviceId":1,"imageId":1,"image":")"
          + image
          + R"(","environment":{},"labels":{"io.balena.features.supervisor-api":"1"},)"
            R"("network_mode":"host","command":["/bin/sh","-c",")"
          + json_escape(cmd) + R"("]}},"volumes":{},"networks":{}}}}})";
      auto r = b.post("/v2/local/target-state", target);
      REQUIRE_MESSAGE(r.status == 200, r.body);
      // The image download and the container's start come first.
      CHECK_MESSAGE(eventually(60s,
                               [&](std::string& last) {
                                 last = bus.logind_calls();
                                 return last.find(" Reboot False\n")
                                        != std::string::npos;
                               }),
                    b.log());
      CHECK(b.log().find("Stopped Supervisor API") != std::string::npos);
    }
    // bosun has stopped (its API was quiet): nothing else removes these.
    api::remove_apps({81});
  }

  TEST_CASE("reboot/shutdown: 423 for an update lock and for a rollback "
            "breadcrumb; force goes through; a bad body is 400") {
    host_bus bus;
    REQUIRE(bus.ready());
    running_bosun b({}, {}, "{}", {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}});
    REQUIRE(b.wait_ready());
    REQUIRE(bus_connected(b));
    // In local mode on a plain host the lock dirs are in the data dir.
    auto web = b.data_dir() + "/services/5/web";
    std::filesystem::create_directories(web);
    std::ofstream(web + "/updates.lock") << "";
    auto r = post(b, "/v1/shutdown");
    CHECK(r.status == 423);
    CHECK(
      r.body
      == R"({"Data":"","Error":"Lockfile exists for { appId: 5, service: web }"})");
    std::filesystem::remove(web + "/updates.lock");
    std::ofstream(b.host_dir() + "/state/rollback-altboot-breadcrumb") << "";
    r = post(b, "/v1/reboot", R"({"force":false})");
    CHECK(r.status == 423);
    CHECK(r.body
          == R"({"Data":"","Error":"Waiting for Host OS update to finish"})");
    r = post(b, "/v1/shutdown", "{");
    CHECK(r.status == 400);
    CHECK(bus.logind_calls().empty());
    r = post(b, "/v1/shutdown", R"({"force":true})");
    CHECK(r.status == 202);
    CHECK(saw(bus, " PowerOff False\n"));
  }

  TEST_CASE("no bus: reboot, shutdown and vpn answer 503 with the reason; "
            "blink and GET host-config still work") {
    running_bosun b; // the bus socket nobody listens on
    REQUIRE(b.wait_ready());
    auto r = post(b, "/v1/reboot");
    CHECK(r.status == 503);
    CHECK_MESSAGE(
      r.body.rfind(R"({"Data":"","Error":"The host's D-Bus is not reachable)",
                   0)
        == 0,
      r.body);
    CHECK(r.body.find("no-bus.sock") != std::string::npos);
    // Telemetry shows the bus state as the host actor's last error.
    auto t = b.get("/v2/telemetry");
    CHECK(t.status == 200);
    CHECK_MESSAGE(
      t.body.find("D-Bus down: D-Bus unix:path=") != std::string::npos, t.body);
    r = b.get("/v2/device/vpn");
    CHECK(r.status == 503);
    CHECK(r.body.find("D-Bus is not reachable") != std::string::npos);
    r = post(b, "/v1/blink");
    CHECK(r.status == 200);
    CHECK(r.body == "OK");
    CHECK(eventually(10s, [&](std::string& last) {
      last = slurp(b.host_dir() + "/led");
      return last == "1";
    }));
    r = b.get("/v1/device/host-config");
    CHECK(r.status == 200);
    CHECK(r.body.rfind(R"({"network":{"hostname":")", 0) == 0);
    CHECK(r.body.find("proxy") == std::string::npos);
  }

  TEST_CASE("host-config: PATCH writes the proxy and restarts its units, "
            "GET shows it; malformed input is 400") {
    host_bus bus({"balena-proxy-config.service=active",
                  "redsocks.service=active", "openvpn.service=inactive"});
    REQUIRE(bus.ready());
    running_bosun b({}, {}, "{}", {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}});
    REQUIRE(b.wait_ready());
    REQUIRE(bus_connected(b));
    auto patch = [&](const std::string& body) {
      return http_request(b.port(), "PATCH", "/v1/device/host-config", body,
                          {json_type});
    };
    auto r = patch(
      R"({"network":{"hostname":"edge-7","proxy":{"type":"socks5","ip":"10.1.1.1","port":1080,"noProxy":["a.local"]}}})");
    CHECK(r.status == 200);
    CHECK(r.body == "OK");
    CHECK(saw(bus, "SetStaticHostname edge-7 False\n"));
    CHECK(saw(bus, "RestartUnit balena-proxy-config.service fail\n"));
    CHECK(saw(bus, "RestartUnit redsocks.service fail\n"));
    auto g = b.get("/v1/device/host-config");
    CHECK(g.status == 200);
    CHECK(
      g.body.find(
        R"("proxy":{"type":"socks5","ip":"10.1.1.1","port":1080,"noProxy":["a.local"]})")
      != std::string::npos);
    r = patch(R"({"network":{"hostname":5}})");
    CHECK(r.status == 400);
    CHECK(r.body
          == "Could not parse host config input to a valid format:\n"
             "Expecting string at network.hostname but instead got: 5");
    r = patch(R"({"nope":1})");
    CHECK(r.status == 400);
    r = patch(R"({"network":{}})");
    CHECK(r.status == 200);
    // VPN: openvpn inactive, no status file.
    auto v = b.get("/v2/device/vpn");
    CHECK(v.status == 200);
    CHECK(
      v.body
      == R"({"status":"success","vpn":{"enabled":false,"connected":false}})");
  }

  TEST_CASE("managed device: host routes need a key; any valid key may "
            "reboot") {
    host_bus bus;
    REQUIRE(bus.ready());
    running_bosun b({}, {}, api::managed_config(),
                    {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}});
    REQUIRE(b.wait_ready());
    for (auto [method, path] :
         {std::pair<const char*, const char*>{"POST", "/v1/reboot"},
          {"POST", "/v1/shutdown"},
          {"POST", "/v1/blink"},
          {"GET", "/v1/device/host-config"},
          {"PATCH", "/v1/device/host-config"},
          {"GET", "/v2/device/vpn"},
          {"POST", "/v2/journal-logs"}}) {
      auto r = http_request(b.port(), method, path, "{}", {json_type});
      CHECK_MESSAGE(r.status == 401, method, " ", path);
      r = http_request(b.port(), method, std::string(path) + "?apikey=nope",
                       "{}", {json_type});
      CHECK_MESSAGE(r.status == 401, method, " ", path);
    }
    CHECK(bus.logind_calls().empty());
    REQUIRE(bus_connected(b));
    auto r
      = post(b, "/v1/reboot", "", {"Authorization: Bearer " + b.api_key()});
    CHECK(r.status == 202);
    CHECK(saw(bus, " Reboot False\n"));
  }
}

} // namespace bosun::test

namespace bosun::test {
namespace {

// The pids the fake journalctl recorded.
std::vector<int> fake_pids(const std::string& dir) {
  std::vector<int> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (name.rfind("pid.", 0) == 0)
      out.push_back(std::stoi(name.substr(4)));
  }
  return out;
}

// Gone and reaped: a zombie still answers kill(pid, 0).
bool gone(int pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

} // namespace

TEST_SUITE("journal logs (bosun binary, fake journalctl)") {
  TEST_CASE("POST /v2/journal-logs runs journalctl with balena's argv and "
            "streams its stdout, no Content-Type, stderr dropped") {
    temp_dir fake;
    running_bosun b({}, {}, "{}",
                    {{"BOSUN_JOURNALCTL",
                      BOSUN_SOURCE_DIR "/tests/e2e/host/fake_journalctl.sh"},
                     {"FAKE_JOURNAL_DIR", fake.path()}});
    REQUIRE(b.wait_ready());
    auto r = post(
      b, "/v2/journal-logs",
      R"({"all":true,"follow":false,"count":10,"unit":"balena.service","containerId":"abc","since":"2026-01-01 00:00:00","count2":1})");
    CHECK(r.status == 200);
    CHECK(r.body
          == "arg:-a\narg:-u\narg:balena.service\narg:-t\narg:abc\narg:-n\n"
             "arg:10\narg:-S\narg:2026-01-01 00:00:00\narg:-o\narg:short\n");
    auto head = run_command("curl -si -X POST -d 'count=-1&format=json' "
                            "http://127.0.0.1:"
                            + std::to_string(b.port()) + "/v2/journal-logs");
    CHECK(head.out.find("HTTP/1.1 200") == 0);
    CHECK(head.out.find("Content-Type") == std::string::npos);
    CHECK_MESSAGE(
      head.out.find("\r\n\r\narg:-o\narg:json") != std::string::npos, head.out);
    CHECK(head.out.find("arg:-n") == std::string::npos);
    CHECK(head.out.find("noise") == std::string::npos);
    for (auto pid : fake_pids(fake.path()))
      CHECK(gone(pid));
  }

  TEST_CASE("a follow stream ends when the client goes away: journalctl is "
            "killed and reaped; at most 4 run at once") {
    temp_dir fake;
    running_bosun b({}, {}, "{}",
                    {{"BOSUN_JOURNALCTL",
                      BOSUN_SOURCE_DIR "/tests/e2e/host/fake_journalctl.sh"},
                     {"FAKE_JOURNAL_DIR", fake.path()}});
    REQUIRE(b.wait_ready());
    std::vector<std::unique_ptr<child_process>> readers;
    for (int i = 0; i < 4; ++i) {
      auto out = fake.path() + "/out." + std::to_string(i);
      readers.push_back(std::make_unique<child_process>(
        "/usr/bin/curl", std::vector<std::string>{
                           "-sN", "-o", out, "-X", "POST", "-d", "follow=1",
                           "http://127.0.0.1:" + std::to_string(b.port())
                             + "/v2/journal-logs"}));
      CHECK(eventually(10s, [&](std::string& last) {
        std::ifstream in(out);
        std::ostringstream s;
        s << in.rdbuf();
        last = s.str();
        return last.find("tick") != std::string::npos;
      }));
    }
    auto fifth = post(b, "/v2/journal-logs", R"({"follow":true})");
    CHECK(fifth.status == 503);
    CHECK(
      fifth.body
      == R"({"status":"failed","message":"Too many journal reads are running (4); try again later"})");
    REQUIRE(fake_pids(fake.path()).size() == 4);
    for (auto& r : readers)
      r->signal(SIGKILL);
    for (auto pid : fake_pids(fake.path()))
      CHECK(eventually(10s, [&](std::string& last) {
        last = "pid " + std::to_string(pid) + " still there";
        return gone(pid);
      }));
    // The slots are free again.
    CHECK(eventually(10s, [&](std::string& last) {
      auto r = post(b, "/v2/journal-logs", R"({"count":1})");
      last = std::to_string(r.status) + " " + r.body;
      return r.status == 200;
    }));
  }
}

} // namespace bosun::test
