// The host routes through the bosun binary, against a private dbus-daemon
// with dbusmock's logind and the systemd1/hostname1 stand-in
// (tests/support/host_bus.hpp): happy paths, update locks, breadcrumbs, a
// missing bus, bad bodies and the key check.
#include "tests/e2e/api/api_helpers.hpp"
#include "tests/support/host_bus.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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
    REQUIRE(eventually(20s, [&](std::string& last) {
      last = b.log();
      return last.find("D-Bus connected") != std::string::npos;
    }));
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

  TEST_CASE("reboot/shutdown: 423 for an update lock and for a rollback "
            "breadcrumb; force goes through; a bad body is 400") {
    host_bus bus;
    REQUIRE(bus.ready());
    running_bosun b({}, {}, "{}", {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}});
    REQUIRE(b.wait_ready());
    REQUIRE(eventually(20s, [&](std::string& last) {
      last = b.log();
      return last.find("D-Bus connected") != std::string::npos;
    }));
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
    REQUIRE(eventually(20s, [&](std::string& last) {
      last = b.log();
      return last.find("D-Bus connected") != std::string::npos;
    }));
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
    REQUIRE(eventually(20s, [&](std::string& last) {
      last = b.log();
      return last.find("D-Bus connected") != std::string::npos;
    }));
    auto r
      = post(b, "/v1/reboot", "", {"Authorization: Bearer " + b.api_key()});
    CHECK(r.status == 202);
    CHECK(saw(bus, " Reboot False\n"));
  }
}

} // namespace bosun::test
