// bosun's persisted target JSON (exact round trips) and hostile input for
// every decoder.
#include "api/cloud/target_codec.hpp"
#include "util.hpp"

#include <doctest/doctest.h>
#include <functional>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

using namespace bosun;
using namespace bosun::cloud;
using namespace bosun::cloud::test;

namespace {

// A target that sets every field of the model to a non-default value.
target_state everything() {
  service_config c;
  c.command = std::vector<std::string>{"sh", "-c", "echo \"$X\" 'q'"};
  c.entrypoint = std::vector<std::string>{};
  c.environment = {{"A", "1"}, {"B", "with space"}, {"C", ""}};
  c.labels = {{"io.balena.update.strategy", "hand-over"}, {"x", "ü"}};
  service_port p1;
  p1.host = {8080, 8081};
  p1.container = {80, 81};
  p1.protocol = "udp";
  p1.host_ip = "127.0.0.1";
  service_port p2;
  p2.host_ip = "::1";
  p2.host = {0, 0};
  p2.container = {22, 22};
  service_port p3;
  p3.host = {9000, 9005};
  p3.container = {90, 90};
  p3.protocol = "sctp";
  c.ports = {p1, p2, p3};
  service_volume named;
  named.source = "data";
  named.target = "/data";
  named.mode = "ro,z";
  named.read_only = true;
  service_volume anon;
  anon.target = "/anon";
  service_volume bind;
  bind.kind = mount_kind::bind;
  bind.source = "/host";
  bind.target = "/h";
  service_volume long_vol;
  long_vol.long_syntax = true;
  long_vol.source = "data";
  long_vol.target = "/d2";
  long_vol.read_only = true;
  long_vol.nocopy = true;
  service_volume tmpfs;
  tmpfs.kind = mount_kind::tmpfs;
  tmpfs.long_syntax = true;
  tmpfs.target = "/t";
  tmpfs.tmpfs_size = 1048576;
  c.volumes = {named, anon, bind, long_vol, tmpfs};
  c.tmpfs = {"/run", "/tmp:size=64m"};
  c.network_mode = "service:db";
  service_network backend;
  backend.aliases = {"www", "web"};
  backend.ipv4_address = "10.0.0.5";
  backend.ipv6_address = "fd00::5";
  backend.link_local_ips = {"169.254.1.1"};
  c.networks = {{"backend", backend}, {"default", {}}};
  c.privileged = c.read_only = c.oom_kill_disable = true;
  c.cap_add = {"NET_ADMIN"};
  c.cap_drop = {"ALL"};
  c.group_add = {"dialout", "20"};
  c.extra_hosts = {"a:1.2.3.4"};
  c.devices = {"/dev/ttyUSB0"};
  c.restart = restart_mode::unless_stopped;
  service_healthcheck h;
  h.test = {"CMD", "true"};
  h.interval_ns = 30'000'000'000;
  h.timeout_ns = 1'500'000'001;
  h.start_period_ns = 0;
  h.retries = 0;
  h.disable = true;
  c.healthcheck = h;
  c.stop_signal = "SIGINT";
  c.stop_grace_period_s = 0;
  c.working_dir = "";
  c.user = "1000:1000";
  c.hostname = "h";
  c.domainname = "d";
  c.mac_address = "02:42:ac:11:00:02";
  c.tty = false;
  c.init = false;
  c.dns = {"8.8.8.8", "1.1.1.1"};
  c.dns_search = {"example.com"};
  c.dns_opt = {"ndots:2"};
  c.security_opt = {"no-new-privileges"};
  c.sysctls = {{"net.core.somaxconn", "1024"}};
  c.ulimits = {{"nofile", {1024, 2048}}, {"core", {-1, -1}}};
  c.mem_limit = 1;
  c.mem_reservation = 2;
  c.shm_size = 0;
  c.cpus = 0.1;
  c.cpu_shares = -3;
  c.cpu_quota = 4;
  c.oom_score_adj = -1000;
  c.cpuset = "0-1";
  c.pid = "host";
  c.pids_limit = -1;
  c.userns_mode = "host";
  c.cgroup_parent = "/p";
  c.ipc = "";
  c.storage_opt = {{"size", "1G"}};
  c.depends_on = {{"db", dependency_condition::healthy},
                  {"cache", dependency_condition::started}};

  target_service web;
  web.name = "web";
  web.service_id = 3;
  web.image_id = 4;
  web.image = "registry/web@sha256:abc";
  web.running = false;
  web.contract = R"({"type":"sw.container","requires":[{"type":"sw.os"}]})";
  web.config = c;
  target_service db;
  db.name = "db";
  db.service_id = 5;
  db.image_id = 6;
  db.image = "db";
  target_service cache = db;
  cache.name = "cache";

  target_volume vol;
  vol.name = "data";
  vol.driver = "other";
  vol.driver_opts = {{"o", "bind"}};
  vol.labels = {{"l", "v"}};
  target_network net;
  net.name = "backend";
  net.driver = "macvlan";
  net.driver_opts = {{"parent", "eth0"}};
  net.ipam.driver = "static";
  net.ipam.config = {{"10.0.0.0/24", "10.0.0.1", "10.0.0.0/25", {{"r", "x"}}},
                     {"fd00::/64", "", "", {}}};
  net.ipam.options = {{"k", "v"}};
  net.enable_ipv6 = net.internal = net.config_only = true;
  net.labels = {{"n", "1"}};
  target_network def;
  def.name = "default";

  target_app app;
  app.uuid = "d149c5d1551b4286a930d57284a02511";
  app.app_id = 1011165;
  app.name = "my fleet";
  app.klass = app_class::block;
  app.is_host = true;
  app.parent_app = "aaaa";
  app.commit = "217d";
  app.release_id = 557617;
  app.services = {cache, db, web};
  app.volumes = {vol};
  app.networks = {net, def};
  target_app empty;
  empty.uuid = "eeee";
  empty.app_id = 9;
  empty.name = "no release";

  target_state t;
  t.source = target_source::cloud;
  t.device_uuid = "7dadabd4edec3067948d5952c2f2f26f";
  t.device_name = "holy \"wildflower\"";
  t.config = {{"SUPERVISOR_POLL_INTERVAL", "900000"}, {"HOST_CONFIG_x", "1"}};
  t.apps = {app, empty};
  return t;
}

target_state round_trip(const target_state& t) {
  auto text = encode_target_json(t);
  auto back = decode_target_json(text);
  REQUIRE_MESSAGE(back, back.error.to_string() << "\n" << text);
  CHECK(back->warnings.empty());
  return back->target;
}

// Calls f on every value of the document (depth first), with a way to put it
// back afterwards.
void each_value(rapidjson::Value& v,
                const std::function<void(rapidjson::Value&)>& f) {
  f(v);
  if (v.IsObject())
    for (auto& m : v.GetObject())
      each_value(m.value, f);
  else if (v.IsArray())
    for (auto& x : v.GetArray())
      each_value(x, f);
}

std::string write(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

} // namespace

TEST_SUITE("target json") {
  TEST_CASE("a target with every field set round-trips exactly") {
    auto t = everything();
    auto back = round_trip(t);
    CHECK(back.apps.size() == 2);
    const auto* app = find_app(back, "d149c5d1551b4286a930d57284a02511");
    REQUIRE(app);
    const auto* web = find_service(*app, "web");
    REQUIRE(web);
    CHECK(web->config == t.apps[0].services[2].config);
    CHECK(web->contract == t.apps[0].services[2].contract);
    CHECK(*app == t.apps[0]);
    CHECK(back.apps[1] == t.apps[1]);
    CHECK(back == t);
    // And it is stable: encoding again gives the same text.
    CHECK(encode_target_json(back) == encode_target_json(t));
  }

  TEST_CASE("a changed field is seen by operator== and survives the trip") {
    auto t = everything();
    auto u = t;
    u.apps[0].services[2].config.healthcheck->retries = 5;
    CHECK(u != t);
    CHECK(round_trip(u) == u);
    u = t;
    u.apps[0].services[2].config.volumes[0].read_only = false;
    u.apps[0].services[2].config.volumes[0].mode = "rw";
    CHECK(u != t);
    CHECK(round_trip(u) == u);
  }

  TEST_CASE("decoded cloud and local targets round-trip exactly") {
    auto cloud = decode_target_v3(load("state_v3_example.json"));
    REQUIRE(cloud);
    CHECK(round_trip(cloud->target) == cloud->target);
    auto local = decode_local_target(load("local_cli.json"));
    REQUIRE(local);
    auto back = round_trip(local->target);
    CHECK(back == local->target);
    CHECK(back.source == target_source::local);
    CHECK(back.device_uuid.empty());
  }

  TEST_CASE("the local GET answer round-trips every field too") {
    auto t = everything();
    t.source = target_source::local;
    t.device_uuid.clear();
    t.apps.pop_back();
    t.apps[0].uuid = std::to_string(t.apps[0].app_id);
    // v2 local apps carry no class, host flag or parent.
    t.apps[0].klass = app_class::fleet;
    t.apps[0].is_host = false;
    t.apps[0].parent_app.reset();
    auto back = decode_local_target(encode_local_target(t));
    REQUIRE_MESSAGE(back, back.error.to_string());
    CHECK(back->warnings.empty());
    CHECK(back->target == t);
  }

  TEST_CASE("rejects documents that are not bosun's format") {
    CHECK(error_of(decode_target_json("{}")) == "format: expected 1");
    CHECK(error_of(decode_target_json(R"({"format":2})"))
          == "format: expected 1");
    CHECK(error_of(decode_target_json(R"({"format":1,"source":"sky"})"))
          == "source: expected cloud or local");
    CHECK(error_of(decode_target_json(
            R"({"format":1,"source":"cloud","uuid":"u","name":"n",)"
            R"("config":{"ANY_KEY":"kept"},"apps":{}})"))
          == "");
  }
}

TEST_SUITE("target decoders: hostile input") {
  TEST_CASE("deep nesting is refused before parsing") {
    std::string deep(100000, '[');
    for (const auto& r : {decode_target_v3(deep), decode_local_target(deep),
                          decode_target_json(deep)})
      CHECK(error_of(r) == "document nested deeper than 64 levels");
    // ... also inside an accepted field (a contract) and inside strings
    // the brackets do not count.
    auto doc = v3_release(R"("web":{"id":1,"image_id":2,"image":"i",)"
                          R"("contract":)"
                          + std::string(60, '[') + std::string(60, ']') + "}");
    CHECK(error_of(decode_target_v3(doc))
          == "document nested deeper than 64 levels");
    auto in_string = v3_release(R"("web":{"id":1,"image_id":2,"image":")"
                                + std::string(200, '[') + R"("})");
    CHECK(error_of(decode_target_v3(in_string)) == "");
  }

  TEST_CASE("not JSON, truncated JSON and invalid UTF-8 are errors") {
    auto doc = load("state_v3_example.json");
    doc = doc.substr(0, doc.rfind('}') + 1);
    for (size_t n = 0; n < doc.size(); ++n) {
      auto r = decode_target_v3(std::string_view(doc).substr(0, n));
      REQUIRE_FALSE(r);
      CHECK_FALSE(r.error.rule.empty());
    }
    CHECK(error_of(decode_target_v3("{\"u\":{\"name\":\"\xff\"}}"))
            .rfind("invalid JSON at offset", 0)
          == 0);
    CHECK(
      error_of(decode_target_v3(doc + "x")).rfind("invalid JSON at offset", 0)
      == 0);
    CHECK(error_of(decode_target_v3(std::string("{\"u\"\0:1}", 8)))
            .rfind("invalid JSON", 0)
          == 0);
  }

  TEST_CASE("every value replaced by every wrong type: errors, no crash") {
    rapidjson::Value replacements[] = {
      rapidjson::Value(rapidjson::kNullType),
      rapidjson::Value(true),
      rapidjson::Value(-1),
      rapidjson::Value(1e300),
      rapidjson::Value(uint64_t{18446744073709551615u}),
      rapidjson::Value("x"),
      rapidjson::Value(rapidjson::kArrayType),
      rapidjson::Value(rapidjson::kObjectType),
    };
    struct input {
      const char* file;
      target_result (*decode)(std::string_view);
    };
    auto v3 = [](std::string_view s) { return decode_target_v3(s); };
    input inputs[] = {{"state_v3_example.json", +v3},
                      {"local_cli.json", &decode_local_target}};
    size_t decoded = 0, rejected = 0;
    for (const auto& in : inputs) {
      auto text = load(in.file);
      size_t count = 0;
      {
        rapidjson::Document doc;
        doc.Parse(text.c_str());
        REQUIRE_FALSE(doc.HasParseError());
        each_value(doc, [&](rapidjson::Value&) { ++count; });
      }
      // A fresh document per mutation: replacing a value frees its children.
      for (size_t i = 0; i < count; ++i) {
        for (auto& rep : replacements) {
          rapidjson::Document doc;
          doc.Parse(text.c_str());
          size_t n = 0;
          rapidjson::Value* target = nullptr;
          each_value(doc, [&](rapidjson::Value& v) {
            if (n++ == i)
              target = &v;
          });
          REQUIRE(target);
          target->CopyFrom(rep, doc.GetAllocator());
          auto r = in.decode(write(doc));
          if (r) {
            ++decoded;
          } else {
            ++rejected;
            CHECK_FALSE(r.error.rule.empty());
          }
        }
      }
    }
    CHECK(rejected > 100);
    CHECK(decoded > 10); // e.g. a label value that became a number
  }

  TEST_CASE("huge numbers are range errors, not wrapped values") {
    auto big = [](const std::string& v) {
      return v3_composition(R"("mem_limit":)" + v);
    };
    auto p = svc_path() + ".composition.mem_limit: ";
    CHECK(error_of(decode_target_v3(big("1e30")))
          == p + "byte size out of range");
    CHECK(error_of(decode_target_v3(big("1.5")))
          == p + "expected a whole number of bytes");
    CHECK(error_of(decode_target_v3(big("\"99999999999999999999g\"")))
          == p + "byte size out of range (expected ^\\d+[bkmg]?b?$)");
    CHECK(error_of(decode_target_v3(big("123456789012345678901234567890")))
          == p + "byte size out of range");
    CHECK_FALSE(
      decode_target_v3(v3_composition(R"("stop_grace_period":1e300)")));
    CHECK_FALSE(decode_target_v3(v3_composition(R"("cpus":1e300)")));
    // A zero with a large exponent is zero (RapidJSON 1.1's full-precision
    // parse read 0e99 as 2e80 or 6e296, depending on the optimisation).
    for (auto* zero : {"0e99", "0e-30", "0.0e99", "0e300"}) {
      INFO(zero);
      CHECK(only_service(v3_composition(std::string(R"("cpus":)") + zero))
              .config.cpus
            == 0.0);
    }
    CHECK(only_service(v3_composition(R"("cpus":1.5)")).config.cpus == 1.5);
    CHECK(only_service(v3_composition(R"("cpus":0.1)")).config.cpus == 0.1);
    CHECK_FALSE(
      decode_target_v3(v3_composition(R"("cpu_shares":99999999999999999999)")));
    CHECK_FALSE(
      decode_target_v3(v3_composition(R"("ports":["99999999999:80"])")));
  }
}
