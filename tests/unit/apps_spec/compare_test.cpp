// compare() on synthetic inspects: the match rules and the engine's quirks.
// (recorded_test.cpp does the same against a real engine's inspects.)
#include "fixture.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::apps;
using namespace bosun::apps::test;

namespace {

const std::string container_id
  = "4f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

// What the engine would report for a container created from `s` and
// connected to its extra networks.
container_inspect as_inspect(const container_spec& s) {
  container_inspect c;
  c.id = container_id;
  c.name = "/" + s.create.name;
  c.config = s.create.config;
  c.host = s.create.host;
  if (c.config.hostname.empty())
    c.config.hostname = container_id.substr(0, 12);
  auto attach = [&](const std::string& name, const endpoint_settings& es) {
    auto ep = es;
    ep.aliases.push_back(container_id.substr(0, 12));
    ep.ip_address = "172.28.0.99";
    c.network.networks[name] = ep;
  };
  for (const auto& [name, es] : s.create.networking.endpoints_config)
    attach(name, es);
  for (const auto& [name, es] : s.extra_networks)
    attach(name, es);
  return c;
}

target_service rich_service() {
  auto svc = make_service();
  auto& c = svc.config;
  c.environment = {{"A", "1"}, {"B", "2"}};
  c.labels = {{"x", "y"}, {"io.balena.features.supervisor-api", "1"}};
  service_port p;
  p.host = {8080, 8080};
  p.container = {80, 80};
  c.ports = {p};
  service_volume v;
  v.source = "data";
  v.target = "/data";
  c.volumes = {v};
  c.cap_add = {"NET_ADMIN", "SYS_TIME"};
  c.dns = {"1.1.1.1", "8.8.8.8"};
  c.security_opt = {"no-new-privileges"};
  service_network backend;
  backend.aliases = {"www"};
  backend.ipv4_address = "172.28.0.10";
  c.networks["backend"] = backend;
  c.networks["frontend"] = {};
  return svc;
}

bool mentions(const spec_comparison& r, const std::string& needle) {
  for (const auto& d : r.differences)
    if (d.find(needle) != std::string::npos)
      return true;
  return false;
}

std::string all(const spec_comparison& r) {
  std::string out;
  for (const auto& d : r.differences)
    out += d + "\n";
  return out;
}

} // namespace

TEST_SUITE("compare: quirks of the engine's inspect") {
  TEST_CASE("a container made from the spec is equal to it") {
    auto s = spec_of(rich_service());
    auto r = compare(as_inspect(s), s);
    CHECK_MESSAGE(r.equal(), all(r));
    CHECK(r.differences.empty());
  }

  TEST_CASE("the short-id hostname, StopTimeout 0 and no Healthcheck read "
            "as the defaults") {
    auto s = spec_of(make_service());
    auto c = as_inspect(s);
    c.config.stop_timeout.reset();
    c.config.healthcheck.reset();
    c.host.shm_size.reset();
    c.config.stop_signal = "";
    auto r = compare(c, s);
    CHECK_MESSAGE(r.equal(), all(r));
  }

  TEST_CASE("label= security options and container-id aliases are ignored") {
    auto s = spec_of(rich_service());
    auto c = as_inspect(s);
    c.host.security_opt.push_back("label=disable");
    auto r = compare(c, s);
    CHECK_MESSAGE(r.equal(), all(r));
  }

  TEST_CASE("array order is ignored, except for dns") {
    auto s = spec_of(rich_service());
    auto c = as_inspect(s);
    std::reverse(c.host.cap_add.begin(), c.host.cap_add.end());
    std::reverse(c.host.binds.begin(), c.host.binds.end());
    std::reverse(c.config.env.begin(), c.config.env.end());
    auto r = compare(c, s);
    CHECK_MESSAGE(r.equal(), all(r));
    std::reverse(c.host.dns.begin(), c.host.dns.end());
    r = compare(c, s);
    CHECK(r.result == spec_match::differs);
    CHECK(mentions(r, "HostConfig.Dns"));
  }

  TEST_CASE("the device name is not compared") {
    auto s = spec_of(rich_service());
    auto ctx = make_context();
    ctx.device_name = "renamed";
    auto c = as_inspect(spec_of(rich_service(), nullptr, ctx));
    auto r = compare(c, s);
    CHECK_MESSAGE(r.equal(), all(r));
  }

  TEST_CASE("io.resin labels merged back from the image read as io.balena") {
    auto svc = make_service();
    svc.config.labels["io.resin.features.sysfs"] = "1";
    auto s = spec_of(svc);
    auto c = as_inspect(s);
    c.config.labels["io.resin.features.sysfs"] = "1";
    auto r = compare(c, s);
    CHECK_MESSAGE(r.equal(), all(r));
  }

  TEST_CASE("extra current networks are ignored") {
    auto s = spec_of(rich_service());
    auto c = as_inspect(s);
    c.network.networks["bridge"] = {};
    auto r = compare(c, s);
    CHECK_MESSAGE(r.equal(), all(r));
  }

  TEST_CASE("Init is compared only when the target sets it") {
    auto svc = make_service();
    auto s = spec_of(svc);
    auto c = as_inspect(s);
    c.host.init = false;
    CHECK(compare(c, s).equal());
    svc.config.init = true;
    s = spec_of(svc);
    CHECK(mentions(compare(c, s), "HostConfig.Init"));
  }

  TEST_CASE("NanoCpus is never compared") {
    auto s = spec_of(make_service());
    auto c = as_inspect(s);
    c.host.nano_cpus = 2'000'000'000;
    CHECK(compare(c, s).equal());
  }
}

TEST_SUITE("compare: differences") {
  TEST_CASE("one env value changed names the variable, not its value") {
    auto s = spec_of(rich_service());
    auto svc = rich_service();
    svc.config.environment["A"] = "secret";
    auto r = compare(as_inspect(spec_of(svc)), s);
    CHECK(r.result == spec_match::differs);
    REQUIRE(r.differences.size() == 1);
    CHECK(r.differences[0] == "Env: A differs");
  }

  TEST_CASE("app name changes show in the injected env") {
    auto svc = make_service();
    auto s = spec_of(svc);
    auto app = make_app(svc);
    app.name = "renamed";
    auto r = compare(
      as_inspect(make_container_spec(app, svc, make_context(), nullptr)), s);
    CHECK(mentions(r, "Env: BALENA_APP_NAME differs"));
    CHECK(mentions(r, "Env: RESIN_APP_NAME differs"));
  }

  TEST_CASE("only the commit differs: metadata only") {
    auto svc = rich_service();
    auto s = spec_of(svc);
    auto app = make_app(svc);
    app.commit = "0000";
    app.release_id = 1;
    auto old
      = as_inspect(make_container_spec(app, svc, make_context(), nullptr));
    auto r = compare(old, s);
    CHECK(r.result == spec_match::metadata_only);
    REQUIRE(r.differences.size() == 1);
    CHECK(r.differences[0].find("Name:") == 0);
  }

  TEST_CASE("each compared field is noticed") {
    struct row {
      const char* what;
      void (*change)(container_inspect&);
      const char* field;
    };
    const row rows[] = {
      {"image", [](container_inspect& c) { c.config.image = "sha256:bbbb"; },
       "Config.Image"},
      {"label", [](container_inspect& c) { c.config.labels["x"] = "z"; },
       "Labels: x differs"},
      {"restart label",
       [](container_inspect& c) {
         c.config.labels["io.bosun.restart-policy"] = "no";
       },
       "restart"},
      {"engine restart policy",
       [](container_inspect& c) { c.host.restart_policy.name = "always"; },
       "HostConfig.RestartPolicy"},
      {"cmd", [](container_inspect& c) { c.config.cmd = string_list{"x"}; },
       "Config.Cmd"},
      {"port",
       [](container_inspect& c) {
         c.host.port_bindings["80/tcp"][0].host_port = "81";
       },
       "HostConfig.PortBindings"},
      {"volume", [](container_inspect& c) { c.host.binds.pop_back(); },
       "Volumes"},
      {"cap", [](container_inspect& c) { c.host.cap_add.pop_back(); },
       "HostConfig.CapAdd"},
      {"privileged", [](container_inspect& c) { c.host.privileged = true; },
       "HostConfig.Privileged"},
      {"memory", [](container_inspect& c) { c.host.memory = 1; },
       "HostConfig.Memory"},
      {"tty", [](container_inspect& c) { c.config.tty = false; }, "Config.Tty"},
      {"stop signal",
       [](container_inspect& c) { c.config.stop_signal = "SIGKILL"; },
       "Config.StopSignal"},
      {"healthcheck",
       [](container_inspect& c) {
         c.config.healthcheck = health_config{{"CMD", "x"}, {}, {}, {}, {}};
       },
       "Config.Healthcheck.Test"},
      {"sysctl", [](container_inspect& c) { c.host.sysctls["net.x"] = "1"; },
       "HostConfig.Sysctls"},
      {"ipc", [](container_inspect& c) { c.host.ipc_mode = "private"; },
       "HostConfig.IpcMode"},
      {"device requests",
       [](container_inspect& c) { c.host.device_requests.resize(1); },
       "HostConfig.DeviceRequests"},
      {"hostname", [](container_inspect& c) { c.config.hostname = "other"; },
       "Config.Hostname"},
      {"network mode",
       [](container_inspect& c) { c.host.network_mode = "host"; },
       "HostConfig.NetworkMode"},
      {"network detached",
       [](container_inspect& c) {
         c.network.networks.erase(app_uuid + "_frontend");
       },
       "not attached"},
      {"alias",
       [](container_inspect& c) {
         c.network.networks[app_uuid + "_backend"].aliases = {"web"};
       },
       "Aliases: missing www"},
      {"static ip",
       [](container_inspect& c) {
         c.network.networks[app_uuid + "_backend"].ipam_config.reset();
       },
       "IPv4Address"},
    };
    auto s = spec_of(rich_service());
    for (const auto& r : rows) {
      CAPTURE(r.what);
      auto c = as_inspect(s);
      r.change(c);
      auto res = compare(c, s);
      CHECK(res.result == spec_match::differs);
      CHECK_MESSAGE(mentions(res, r.field), all(res));
    }
  }

  TEST_CASE("service:X matches container:<X's current id>") {
    auto svc = make_service();
    svc.config.network_mode = "service:db";
    auto ctx = make_context();
    ctx.service_container_ids["db"] = "dbid";
    auto s = spec_of(svc, nullptr, ctx);
    auto c = as_inspect(s);
    c.config.hostname = "whatever"; // not compared in a shared namespace
    auto r = compare(c, s);
    CHECK_MESSAGE(r.equal(), all(r));
    ctx.service_container_ids["db"] = "newdbid";
    r = compare(c, spec_of(svc, nullptr, ctx));
    CHECK(mentions(r, "HostConfig.NetworkMode"));
  }

  TEST_CASE("restart no vs always differs; the same restart stays equal") {
    auto svc = make_service();
    svc.config.restart = restart_mode::no;
    auto s_no = spec_of(svc);
    CHECK(compare(as_inspect(s_no), s_no).equal());
    svc.config.restart = restart_mode::always;
    auto s_always = spec_of(svc);
    auto r = compare(as_inspect(s_no), s_always);
    CHECK(r.result == spec_match::differs);
    CHECK(r.differences
          == std::vector<std::string>{"restart: \"no\" vs \"always\""});
  }

  TEST_CASE("a container made by balena (engine restart policy) differs") {
    auto s = spec_of(make_service());
    auto c = as_inspect(s);
    c.config.labels.erase("io.bosun.restart-policy");
    c.host.restart_policy.name = "always";
    auto r = compare(c, s);
    CHECK(r.result == spec_match::differs);
    CHECK(mentions(r, "HostConfig.RestartPolicy"));
    CHECK_FALSE(mentions(r, "restart:"));
  }
}
