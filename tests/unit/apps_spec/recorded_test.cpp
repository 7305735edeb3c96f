// compare() against inspects recorded from a real dockerd 20.10: containers
// created from make_container_spec's own bodies must compare equal to their
// specs (no recreate loops), and changed targets must not.
//
// tests/data/apps_spec/record.sh re-records: it runs this binary with
// BOSUN_SPEC_RECORD=1, which writes each case's create body and plan
// (<case>.create.json, <case>.plan) instead of testing, then creates,
// connects and starts the containers and saves their inspects.
#include "api/docker/codec.hpp"
#include "fixture.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <functional>

using namespace bosun;
using namespace bosun::apps;
using namespace bosun::apps::test;

namespace {

bool recording() {
  const char* v = std::getenv("BOSUN_SPEC_RECORD");
  return v != nullptr && std::string(v) == "1";
}

bool exists(const std::string& name) {
  return std::ifstream(data_path(name)).good();
}

void save(const std::string& name, const std::string& text) {
  std::ofstream out(data_path(name), std::ios::binary | std::ios::trunc);
  REQUIRE_MESSAGE(out.good(), "cannot write " << data_path(name));
  out << text;
}

image_inspect load_image(const std::string& file) {
  auto img = docker::decode_image_inspect(load(file));
  REQUIRE_MESSAGE(img, img.err.value_or(""));
  return *img;
}

container_inspect load_inspect(const std::string& file) {
  auto c = docker::decode_container_inspect(load(file));
  REQUIRE_MESSAGE(c, c.err.value_or(""));
  return *c;
}

// context.txt: the host-specific values the recording used (key=value).
spec_context recorded_context() {
  auto ctx = make_context();
  std::istringstream in(load("context.txt"));
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    auto key = line.substr(0, eq);
    auto value = line.substr(eq + 1);
    if (key == "hostname")
      ctx.hostname = value;
    else if (key == "engine_socket")
      ctx.engine_socket = value;
    else if (key == "lock_dir_base")
      ctx.lock_dir_base = value;
  }
  ctx.host_path_exists
    = [](const std::string& p) { return p == "/lib/firmware"; };
  return ctx;
}

struct recorded_case {
  std::string name;  // file prefix
  std::string image; // image inspect file
  bool start = true;
  std::string needs; // a case whose container must exist first
  std::function<void(target_app&, target_service&, spec_context&)> setup;
};

service_port port(uint16_t h1, uint16_t h2, uint16_t c1, uint16_t c2,
                  std::string proto = "tcp", std::string ip = {}) {
  service_port p;
  p.host_ip = std::move(ip);
  p.host = {h1, h2};
  p.container = {c1, c2};
  p.protocol = std::move(proto);
  return p;
}

service_volume volume(mount_kind kind, std::string source, std::string target,
                      std::string mode = {}) {
  service_volume v;
  v.kind = kind;
  v.source = std::move(source);
  v.target = std::move(target);
  v.mode = std::move(mode);
  return v;
}

std::vector<recorded_case> cases() {
  return {
    {"plain", "image_busybox.json", true, "",
     [](target_app&, target_service& s, spec_context&) {
       s.name = "plain";
       s.config.command = string_list{"sleep", "3600"};
       s.config.restart = restart_mode::no;
     }},
    {"rich", "image_rich.json", true, "",
     [](target_app&, target_service& s, spec_context&) {
       s.name = "rich";
       auto& c = s.config;
       c.environment = {{"A", "1"},
                        {"SHARED", "user"},
                        {"BALENA_APP_NAME", "mine"},
                        {"WITH_EQUALS", "a=b"}};
       c.labels = {{"my.label", "v"},
                   {"io.balena.features.supervisor-api", "1"},
                   {"io.balena.features.balena-socket", "1"},
                   {"io.balena.features.firmware", "1"},
                   {"io.resin.update.strategy", "hand-over"}};
       c.restart = restart_mode::always;
       c.ports = {port(18080, 18080, 80, 80), port(10053, 10053, 53, 53, "udp"),
                  port(15000, 15001, 6000, 6001),
                  port(19090, 19090, 90, 90, "tcp", "127.0.0.1"),
                  port(17000, 17000, 17000, 17000)};
       service_volume logs = volume(mount_kind::volume, "logs", "/logs");
       logs.long_syntax = true;
       logs.nocopy = true;
       service_volume scratch = volume(mount_kind::tmpfs, "", "/scratch");
       scratch.long_syntax = true;
       scratch.tmpfs_size = 1048576;
       c.volumes = {volume(mount_kind::volume, "data", "/data"),
                    volume(mount_kind::volume, "cfg", "/cfg", "ro"),
                    volume(mount_kind::volume, "", "/cache"),
                    volume(mount_kind::bind, "/etc", "/host-etc"),
                    logs,
                    scratch};
       c.tmpfs = {"/run/a", "/run/b:size=65536"};
       service_network backend;
       backend.aliases = {"www"};
       backend.ipv4_address = "172.28.0.10";
       c.networks["backend"] = backend;
       c.networks["frontend"] = {};
       service_healthcheck h;
       h.interval_ns = 10'000'000'000;
       h.retries = 3;
       c.healthcheck = h;
       c.cap_add = {"NET_ADMIN", "SYS_TIME"};
       c.cap_drop = {"MKNOD"};
       c.group_add = {"1234"};
       c.extra_hosts = {"db:10.0.0.2"};
       c.devices = {"/dev/null:/dev/mynull:rw"};
       c.dns = {"1.1.1.1", "8.8.8.8"};
       c.dns_search = {"example.com"};
       c.dns_opt = {"ndots:2"};
       c.security_opt = {"no-new-privileges", "label=disable"};
       c.sysctls = {{"net.core.somaxconn", "1024"}};
       c.ulimits = {{"nofile", {1024, 2048}}};
       c.mem_limit = 134217728;
       c.mem_reservation = 67108864;
       c.shm_size = 33554432;
       c.cpus = 0.5;
       c.cpu_shares = 512;
       c.stop_signal = "SIGINT";
       c.stop_grace_period_s = 20;
       c.hostname = "rich-host";
       c.domainname = "example.com";
       c.init = true;
       c.working_dir = "/srv/app/";
     }},
    {"hostnet", "image_rich.json", true, "",
     [](target_app&, target_service& s, spec_context&) {
       s.name = "hostnet";
       auto& c = s.config;
       c.network_mode = "host";
       c.restart = restart_mode::unless_stopped;
       c.labels = {{"io.balena.features.supervisor-api", "1"}};
       c.ports = {port(80, 80, 80, 80)}; // ignored with host networking
       service_healthcheck h;
       h.disable = true;
       c.healthcheck = h;
       c.tty = false;
     }},
    {"netns", "image_busybox.json", true, "plain",
     [](target_app&, target_service& s, spec_context& ctx) {
       s.name = "netns";
       auto& c = s.config;
       c.command = string_list{"sleep", "3600"};
       c.network_mode = "service:plain";
       c.restart = restart_mode::on_failure;
       ctx.service_container_ids["plain"]
         = load_inspect("plain.inspect.json").id;
     }},
    {"gpu", "image_busybox.json", false, "",
     [](target_app&, target_service& s, spec_context&) {
       s.name = "gpu";
       auto& c = s.config;
       c.labels = {{"io.balena.features.gpu", "1"},
                   {"io.balena.features.extra-firmware", "1"}};
       c.entrypoint = string_list{"/bin/sh", "-c"};
       c.command = string_list{"exec sleep 3600"};
       c.pids_limit = 100;
       c.oom_score_adj = 10;
       c.ipc = "private";
     }},
  };
}

struct built {
  target_app app;
  target_service service;
  spec_context ctx;
  image_inspect image;
  container_spec spec;
};

built build(const recorded_case& rc) {
  built b;
  b.service = make_service();
  b.ctx = recorded_context();
  b.image = load_image(rc.image);
  rc.setup(b.app, b.service, b.ctx);
  b.app = make_app(b.service);
  b.spec = make_container_spec(b.app, b.service, b.ctx, &b.image);
  return b;
}

// <case>.plan for record.sh: "name <n>", "start 0|1", then one
// "connect <network> <body>" per extra network.
std::string plan_of(const recorded_case& rc, const container_spec& s) {
  std::string out = "name " + s.create.name + "\n";
  out += std::string("start ") + (rc.start ? "1" : "0") + "\n";
  for (const auto& [net, es] : s.extra_networks) {
    network_connect nc;
    nc.container = s.create.name;
    nc.endpoint_config = es;
    out += "connect " + net + " " + docker::encode(nc) + "\n";
  }
  return out;
}

built build_case(const std::string& name) {
  for (const auto& rc : cases())
    if (rc.name == name)
      return build(rc);
  FAIL("no case " << name);
  return {};
}

std::string all(const spec_comparison& r) {
  std::string out;
  for (const auto& d : r.differences)
    out += d + "\n";
  return out;
}

} // namespace

TEST_SUITE("compare: inspects recorded from dockerd") {
  TEST_CASE("containers created from their specs compare equal to them") {
    for (const auto& rc : cases()) {
      CAPTURE(rc.name);
      if (recording()) {
        if (!rc.needs.empty() && !exists(rc.needs + ".inspect.json"))
          continue; // next pass, once its dependency is recorded
        auto b = build(rc);
        save(rc.name + ".create.json", docker::encode(b.spec.create));
        save(rc.name + ".plan", plan_of(rc, b.spec));
        continue;
      }
      auto b = build(rc);
      REQUIRE(b.spec.ok());
      // The recording was made from this very spec (else: re-record).
      auto body
        = docker::decode_container_create(load(rc.name + ".create.json"));
      REQUIRE_MESSAGE(body, body.err.value_or(""));
      body->name = b.spec.create.name;
      CHECK(docker::encode(*body) == docker::encode(b.spec.create));
      auto current = load_inspect(rc.name + ".inspect.json");
      CHECK(current.name == "/" + b.spec.create.name);
      auto r = compare(current, b.spec);
      CHECK_MESSAGE(r.equal(), all(r));
    }
  }

  TEST_CASE("a stopped container still compares equal") {
    auto b = build_case("rich");
    auto stopped = load_inspect("rich.stopped.inspect.json");
    CHECK(stopped.state.status == "exited");
    auto r = compare(stopped, b.spec);
    CHECK_MESSAGE(r.equal(), all(r));
  }

  TEST_CASE("one env value changed: differs, naming the variable") {
    auto b = build_case("rich");
    auto current = load_inspect("rich.inspect.json");
    b.service.config.environment["A"] = "2";
    auto r = compare(current,
                     make_container_spec(b.app, b.service, b.ctx, &b.image));
    CHECK(r.result == spec_match::differs);
    CHECK(r.differences == std::vector<std::string>{"Env: A differs"});
  }

  TEST_CASE("only the commit differs: metadata only (rename)") {
    auto b = build_case("rich");
    auto current = load_inspect("rich.inspect.json");
    b.app.commit = "0123456789abcdef0123456789abcdef";
    auto target = make_container_spec(b.app, b.service, b.ctx, &b.image);
    auto r = compare(current, target);
    CHECK(r.result == spec_match::metadata_only);
    REQUIRE(r.differences.size() == 1);
    CHECK(r.differences[0].find("Name:") == 0);
  }

  TEST_CASE("a changed restart policy differs, though the engine's stays no") {
    auto b = build_case("plain");
    auto current = load_inspect("plain.inspect.json");
    CHECK(current.host.restart_policy.name == "no");
    CHECK(restart_of(current) == restart_mode::no);
    b.service.config.restart = restart_mode::always;
    auto r = compare(current,
                     make_container_spec(b.app, b.service, b.ctx, &b.image));
    CHECK(r.differences
          == std::vector<std::string>{"restart: \"no\" vs \"always\""});
  }

  TEST_CASE("a changed alias or static address differs") {
    auto b = build_case("rich");
    auto current = load_inspect("rich.inspect.json");
    auto svc = b.service;
    svc.config.networks["backend"].ipv4_address = "172.28.0.11";
    auto r = compare(current, make_container_spec(b.app, svc, b.ctx, &b.image));
    CHECK(r.result == spec_match::differs);
    CHECK_MESSAGE(r.differences.size() == 1, all(r));
    svc = b.service;
    svc.config.networks["frontend"].aliases = {"new-alias"};
    r = compare(current, make_container_spec(b.app, svc, b.ctx, &b.image));
    CHECK(r.differences
          == std::vector<std::string>{
            "Networks." + app_uuid + "_frontend.Aliases: missing new-alias"});
  }

  TEST_CASE("a recreated network_mode service differs") {
    auto b = build_case("netns");
    auto current = load_inspect("netns.inspect.json");
    b.ctx.service_container_ids["plain"] = "feedfacefeedface";
    auto r = compare(current,
                     make_container_spec(b.app, b.service, b.ctx, &b.image));
    CHECK(r.result == spec_match::differs);
    CHECK(r.differences.size() == 1);
  }

  TEST_CASE("a host-network container reports the host's hostname") {
    auto b = build_case("hostnet");
    auto current = load_inspect("hostnet.inspect.json");
    CHECK(current.config.hostname == b.ctx.hostname);
    CHECK(b.spec.create.host.port_bindings.empty());
  }

  TEST_CASE("refused binds are warnings and absent from the container") {
    auto b = build_case("rich");
    CHECK(b.spec.warnings
          == std::vector<std::string>{
            "Ignoring invalid bind mount /etc:/host-etc"});
    auto current = load_inspect("rich.inspect.json");
    for (const auto& bind : current.host.binds)
      CHECK(bind.find("/host-etc") == std::string::npos);
  }

  TEST_CASE("the recorded containers identify their services") {
    for (const char* name : {"plain", "rich", "hostnet", "netns", "gpu"}) {
      CAPTURE(name);
      auto b = build_case(name);
      auto id = service_from_container(
        load_inspect(std::string(name) + ".inspect.json"));
      REQUIRE(id);
      CHECK(id->app_id == b.app.app_id);
      CHECK(id->service_id == b.service.service_id);
      CHECK(id->service_name == b.service.name);
      CHECK(id->app_uuid == b.app.uuid);
      CHECK(id->image_id == b.service.image_id);
      CHECK(id->release_id == b.app.release_id);
      CHECK(id->commit == b.app.commit);
      CHECK_FALSE(id->old);
    }
  }
}
