// make_container_spec, field by field (reference/service.md).
#include "fixture.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::apps;
using namespace bosun::apps::test;

namespace {

image_inspect rich_image() {
  image_inspect i;
  i.id = "sha256:aaaa";
  i.config.cmd = string_list{"sleep", "3600"};
  i.config.env = {"PATH=/usr/bin:/bin", "IMG_ONLY=from-image", "SHARED=image",
                  "BALENA_DEVICE_NAME_AT_INIT=stale"};
  i.config.labels = {{"img.label", "x"}, {"shared", "image"}};
  i.config.working_dir = "/srv/";
  i.config.user = "nobody";
  i.config.stop_signal = "SIGINT";
  i.config.volumes = {"/img-data"};
  i.config.exposed_ports = {"9000/tcp"};
  health_config h;
  h.test = {"CMD", "/bin/true"};
  h.interval = 30'000'000'000;
  h.timeout = 5'000'000'000;
  i.config.healthcheck = h;
  return i;
}

service_port port(std::string ip, uint16_t h1, uint16_t h2, uint16_t c1,
                  uint16_t c2, std::string proto = "tcp") {
  service_port p;
  p.host_ip = std::move(ip);
  p.host = {h1, h2};
  p.container = {c1, c2};
  p.protocol = std::move(proto);
  return p;
}

service_volume volume(mount_kind kind, std::string source, std::string target,
                      std::string mode = {}, bool long_syntax = false) {
  service_volume v;
  v.kind = kind;
  v.source = std::move(source);
  v.target = std::move(target);
  v.mode = std::move(mode);
  v.long_syntax = long_syntax;
  return v;
}

} // namespace

TEST_SUITE("container names") {
  TEST_CASE("are service_imageId_releaseId_commit") {
    CHECK(container_name("web", 431889, 557617, commit)
          == "web_431889_557617_" + commit);
  }

  TEST_CASE("parse back into their parts") {
    struct row {
      std::string name;
      std::string service;
      int64_t image_id;
      int64_t release_id;
      std::string commit;
      bool old;
    };
    const row rows[] = {
      {"/web_431889_557617_abc", "web", 431889, 557617, "abc", false},
      {"web_431889_557617_abc", "web", 431889, 557617, "abc", false},
      {"web_1_2", "web", 1, 2, "", false},
      {"my_svc_12_34_deadbeef", "my_svc", 12, 34, "deadbeef", false},
      {"old_web_1_2_abc", "web", 1, 2, "abc", true},
      // balena's greedy regex: an all-digit commit reads as an id.
      {"web_1_2_345", "web_1", 2, 345, "", false},
    };
    for (const auto& r : rows) {
      CAPTURE(r.name);
      auto p = parse_container_name(r.name);
      REQUIRE(p);
      CHECK(p->service_name == r.service);
      CHECK(p->image_id == r.image_id);
      CHECK(p->release_id == r.release_id);
      CHECK(p->commit == r.commit);
      CHECK(p->old == r.old);
    }
  }

  TEST_CASE("that are not ours do not parse") {
    for (const char* n : {"web", "/nginx", "web_1", "web_x_2_abc", ""}) {
      CAPTURE(n);
      CHECK_FALSE(parse_container_name(n));
    }
  }

  TEST_CASE("get an old_ prefix for hand-over") {
    CHECK(old_container_name("/web_1_2_abc") == "old_web_1_2_abc");
  }

  TEST_CASE("name the spec's container") {
    auto s = spec_of(make_service());
    CHECK(s.create.name == "web_431889_557617_" + commit);
    auto p = parse_container_name(s.create.name);
    REQUIRE(p);
    CHECK(p->commit == commit);
  }
}

TEST_SUITE("container spec: image") {
  TEST_CASE("uses the image id when the image is present") {
    auto img = rich_image();
    CHECK(spec_of(make_service(), &img).create.config.image == "sha256:aaaa");
  }

  TEST_CASE("normalises the name when the image is absent") {
    const std::pair<const char*, const char*> rows[] = {
      {"busybox", "busybox:latest"},
      {"busybox:1.36", "busybox:1.36"},
      {"registry:5000/repo", "registry:5000/repo:latest"},
      {"registry:5000/repo:v2", "registry:5000/repo:v2"},
      {"repo@sha256:09b0", "repo@sha256:09b0"},
      {"registry2.io/v2/x:tag@sha256:09b0", "registry2.io/v2/x@sha256:09b0"},
    };
    for (const auto& row : rows) {
      const auto* in = row.first;
      const auto* want = row.second;
      CAPTURE(in);
      CHECK(normalize_image_name(in) == want);
      auto s = make_service();
      s.image = in;
      CHECK(spec_of(s).create.config.image == want);
    }
  }

  TEST_CASE("takes the image's defaults") {
    auto img = rich_image();
    auto s = spec_of(make_service(), &img);
    const auto& c = s.create.config;
    CHECK(c.cmd == string_list{"sleep", "3600"});
    CHECK(c.entrypoint == string_list{});
    CHECK(c.working_dir == "/srv"); // trailing '/' stripped
    CHECK(c.user == "nobody");
    CHECK(c.stop_signal == "SIGINT");
    CHECK(c.volumes == string_list{"/img-data"});
    CHECK(c.exposed_ports == string_list{"9000/tcp"});
    REQUIRE(c.healthcheck);
    CHECK(c.healthcheck->test == string_list{"CMD", "/bin/true"});
    CHECK(c.healthcheck->interval == 30'000'000'000);
    CHECK(label_of(s, "img.label") == "x");
    CHECK(env_of(s, "IMG_ONLY") == "from-image");
  }

  TEST_CASE("compose values win over the image's") {
    auto img = rich_image();
    auto svc = make_service();
    svc.config.command = string_list{"echo", "hi"};
    svc.config.entrypoint = string_list{"/bin/sh", "-c"};
    svc.config.working_dir = "/";
    svc.config.user = "";
    svc.config.stop_signal = "SIGKILL";
    auto c = spec_of(svc, &img).create.config;
    CHECK(c.cmd == string_list{"echo", "hi"});
    CHECK(c.entrypoint == string_list{"/bin/sh", "-c"});
    CHECK(c.working_dir == "/");
    CHECK(c.user == "");
    CHECK(c.stop_signal == "SIGKILL");
  }

  TEST_CASE("an empty command takes the image's, as the engine would") {
    auto img = rich_image();
    auto svc = make_service();
    svc.config.command = string_list{};
    CHECK(spec_of(svc, &img).create.config.cmd == string_list{"sleep", "3600"});
    svc.config.entrypoint = string_list{"/bin/x"};
    CHECK(spec_of(svc, &img).create.config.cmd == string_list{});
  }

  TEST_CASE("defaults without an image") {
    auto c = spec_of(make_service()).create.config;
    CHECK(c.cmd == string_list{});
    CHECK(c.entrypoint == string_list{});
    CHECK(c.stop_signal == "SIGTERM");
    CHECK(c.stop_timeout == 10);
    CHECK(c.working_dir == "");
    CHECK(c.user == "");
    CHECK(c.tty);
    REQUIRE(c.healthcheck);
    CHECK(c.healthcheck->test == string_list{"NONE"});
  }
}

TEST_SUITE("container spec: labels") {
  TEST_CASE("sets the supervisor labels, which win over the user's") {
    auto svc = make_service();
    svc.config.labels = {{"io.balena.app-id", "1"}, {"mine", "yes"}};
    auto s = spec_of(svc);
    CHECK(label_of(s, "io.balena.supervised") == "true");
    CHECK(label_of(s, "io.balena.app-id") == "1011165");
    CHECK(label_of(s, "io.balena.service-id") == "43697");
    CHECK(label_of(s, "io.balena.service-name") == "web");
    CHECK(label_of(s, "io.balena.app-uuid") == app_uuid);
    CHECK(label_of(s, "mine") == "yes");
  }

  TEST_CASE("user labels win over the image's") {
    auto img = rich_image();
    auto svc = make_service();
    svc.config.labels = {{"shared", "user"}};
    auto s = spec_of(svc, &img);
    CHECK(label_of(s, "shared") == "user");
    CHECK(label_of(s, "img.label") == "x");
  }

  TEST_CASE("renames io.resin labels to io.balena") {
    auto svc = make_service();
    svc.config.labels = {{"io.resin.features.resin-api", "1"},
                         {"io.resin.update.strategy", "hand-over"},
                         {"io.resin.x", "legacy"},
                         {"io.balena.x", "new"}};
    auto s = spec_of(svc);
    CHECK(label_of(s, "io.balena.features.balena-api") == "1");
    CHECK(label_of(s, "io.balena.update.strategy") == "hand-over");
    CHECK(label_of(s, "io.balena.x") == "new");
    CHECK_FALSE(label_of(s, "io.resin.x"));
    CHECK(env_of(s, "BALENA_API_KEY") == "devicekey");
  }

  TEST_CASE("keeps the compose restart policy in a label") {
    const std::pair<restart_mode, const char*> rows[] = {
      {restart_mode::no, "no"},
      {restart_mode::always, "always"},
      {restart_mode::on_failure, "on-failure"},
      {restart_mode::unless_stopped, "unless-stopped"},
    };
    for (const auto& row : rows) {
      auto mode = row.first;
      const auto* text = row.second;
      CAPTURE(text);
      auto svc = make_service();
      svc.config.restart = mode;
      auto s = spec_of(svc);
      CHECK(label_of(s, std::string(restart_policy_label)) == text);
      CHECK(s.restart == mode);
      // bosun restarts containers itself: the engine never does.
      CHECK(s.create.host.restart_policy.name == "no");
      CHECK(s.create.host.restart_policy.maximum_retry_count == 0);
      CHECK(restart_of(s.create.config.labels) == mode);
    }
  }
}

TEST_SUITE("container spec: environment") {
  TEST_CASE("injects the device and app variables for BALENA and RESIN") {
    auto s = spec_of(make_service());
    for (std::string p : {"BALENA", "RESIN"}) {
      CAPTURE(p);
      CHECK(env_of(s, p) == "1");
      CHECK(env_of(s, p + "_APP_ID") == "1011165");
      CHECK(env_of(s, p + "_APP_UUID") == app_uuid);
      CHECK(env_of(s, p + "_APP_NAME") == "myfleet");
      CHECK(env_of(s, p + "_SERVICE_NAME") == "web");
      CHECK(env_of(s, p + "_DEVICE_UUID")
            == "7dadabd4edec3067948d5952c2f2f26f");
      CHECK(env_of(s, p + "_DEVICE_TYPE") == "raspberrypi4-64");
      CHECK(env_of(s, p + "_DEVICE_ARCH") == "aarch64");
      CHECK(env_of(s, p + "_HOST_OS_VERSION") == "balenaOS 5.3.0");
      CHECK(env_of(s, p + "_APP_LOCK_PATH") == "/tmp/balena/updates.lock");
      CHECK(env_of(s, p + "_DEVICE_NAME_AT_INIT") == "holy-wildflower");
    }
    CHECK(env_of(s, "BALENA_SERVICE_HANDOVER_COMPLETE_PATH")
          == "/tmp/balena/handover-complete");
    CHECK(env_of(s, "RESIN_SERVICE_KILL_ME_PATH")
          == "/tmp/balena/handover-complete");
    CHECK(env_of(s, "USER") == "root");
    CHECK_FALSE(env_of(s, "BALENA_SUPERVISOR_API_KEY"));
    CHECK(s.ok());
  }

  TEST_CASE("user values win, the image's fill in last") {
    auto img = rich_image();
    auto svc = make_service();
    svc.config.environment
      = {{"BALENA_APP_NAME", "mine"}, {"SHARED", "user"}, {"USER", "pi"}};
    auto s = spec_of(svc, &img);
    CHECK(env_of(s, "BALENA_APP_NAME") == "mine");
    CHECK(env_of(s, "RESIN_APP_NAME") == "myfleet");
    CHECK(env_of(s, "SHARED") == "user");
    CHECK(env_of(s, "USER") == "pi");
    CHECK(env_of(s, "IMG_ONLY") == "from-image");
    CHECK(env_of(s, "PATH") == "/usr/bin:/bin");
    // The image's stale device name never leaks in.
    CHECK(env_of(s, "BALENA_DEVICE_NAME_AT_INIT") == "holy-wildflower");
  }

  TEST_CASE("a device name with a newline blocks creation") {
    auto ctx = make_context();
    ctx.device_name = "two\nlines";
    auto s = spec_of(make_service(), nullptr, ctx);
    CHECK_FALSE(s.ok());
    CHECK_FALSE(env_of(s, "BALENA_DEVICE_NAME_AT_INIT"));
  }
}

TEST_SUITE("container spec: feature labels") {
  container_spec with_feature(const std::string& feature,
                              const spec_context& ctx = make_context()) {
    auto svc = make_service();
    svc.config.labels["io.balena.features." + feature] = "1";
    return spec_of(svc, nullptr, ctx);
  }

  TEST_CASE("bind host paths") {
    struct row {
      const char* feature;
      string_list binds;
    };
    const row rows[] = {
      {"dbus", {"/run/dbus:/host/run/dbus"}},
      {"sysfs", {"/sys:/sys"}},
      {"procfs", {"/proc:/proc"}},
      {"journal-logs",
       {"/var/log/journal:/var/log/journal:ro",
        "/run/log/journal:/run/log/journal:ro",
        "/etc/machine-id:/etc/machine-id:ro"}},
    };
    for (const auto& r : rows) {
      CAPTURE(r.feature);
      auto s = with_feature(r.feature);
      for (const auto& b : r.binds)
        CHECK(contains(s.create.host.binds, b));
    }
  }

  TEST_CASE("kernel-modules and firmware only when present on the host") {
    auto ctx = make_context();
    auto s = with_feature("kernel-modules", ctx);
    CHECK_FALSE(contains(s.create.host.binds, "/lib/modules:/lib/modules"));
    ctx.host_path_exists = [](const std::string& p) {
      return p == "/lib/modules" || p == "/lib/firmware";
    };
    s = with_feature("kernel-modules", ctx);
    CHECK(contains(s.create.host.binds, "/lib/modules:/lib/modules"));
    s = with_feature("firmware", ctx);
    CHECK(contains(s.create.host.binds, "/lib/firmware:/lib/firmware"));
  }

  TEST_CASE("values are truthy in balena's sense") {
    for (const char* v : {"1", "true", "TRUE", "on"})
      CHECK(is_truthy(v));
    for (const char* v : {"0", "false", "", "yes", "off"})
      CHECK_FALSE(is_truthy(v));
    auto svc = make_service();
    svc.config.labels["io.balena.features.sysfs"] = "0";
    CHECK_FALSE(contains(spec_of(svc).create.host.binds, "/sys:/sys"));
  }

  TEST_CASE("balena-socket mounts the engine socket three ways") {
    auto s = with_feature("balena-socket");
    string_list targets;
    for (const auto& m : s.create.host.mounts) {
      CHECK(m.type == "bind");
      CHECK(m.source == "/var/run/balena-engine.sock");
      targets.push_back(m.target);
    }
    CHECK(targets
          == string_list{"/host/run/balena-engine.sock",
                         "/var/run/balena-engine.sock",
                         "/var/run/balena.sock"});
    CHECK(env_of(s, "DOCKER_HOST") == "unix:///host/run/balena-engine.sock");

    auto svc = make_service();
    svc.config.labels["io.balena.features.balena-socket"] = "1";
    svc.config.environment["DOCKER_HOST"] = "tcp://x:2375";
    CHECK(env_of(spec_of(svc), "DOCKER_HOST") == "tcp://x:2375");
  }

  TEST_CASE("gpu requests a device; DeviceRequests is otherwise empty") {
    CHECK(spec_of(make_service()).create.host.device_requests.empty());
    auto s = with_feature("gpu");
    REQUIRE(s.create.host.device_requests.size() == 1);
    const auto& r = s.create.host.device_requests.front();
    CHECK(r.driver == "");
    CHECK(r.count == 1);
    CHECK(r.device_ids.empty());
    CHECK(r.capabilities == std::vector<string_list>{{"gpu"}});
    CHECK(r.options.empty());
  }

  TEST_CASE("balena-api passes the device key and API endpoint") {
    auto s = with_feature("balena-api");
    for (std::string p : {"BALENA", "RESIN"}) {
      CHECK(env_of(s, p + "_API_KEY") == "devicekey");
      CHECK(env_of(s, p + "_API_URL") == "https://api.balena-cloud.com");
    }
  }

  TEST_CASE("supervisor-api joins supervisor0 and passes the scoped key") {
    auto s = with_feature("supervisor-api");
    for (std::string p : {"BALENA", "RESIN"}) {
      CHECK(env_of(s, p + "_SUPERVISOR_API_KEY") == "scopedkey");
      CHECK(env_of(s, p + "_SUPERVISOR_PORT") == "48484");
      CHECK(env_of(s, p + "_SUPERVISOR_HOST") == "10.114.104.1");
      CHECK(env_of(s, p + "_SUPERVISOR_ADDRESS")
            == "http://10.114.104.1:48484");
    }
    CHECK(s.extra_networks.count("supervisor0") == 1);
    CHECK(s.extra_networks.at("supervisor0").aliases.empty());
  }

  TEST_CASE("supervisor-api on the host network uses 127.0.0.1") {
    auto svc = make_service();
    svc.config.labels["io.balena.features.supervisor-api"] = "1";
    svc.config.network_mode = "host";
    auto s = spec_of(svc);
    CHECK(env_of(s, "BALENA_SUPERVISOR_HOST") == "127.0.0.1");
    CHECK(env_of(s, "BALENA_SUPERVISOR_ADDRESS") == "http://127.0.0.1:48484");
    CHECK(s.extra_networks.empty());
  }

  TEST_CASE("supervisor0 is stripped from services without supervisor-api") {
    auto svc = make_service();
    svc.config.networks["supervisor0"] = {};
    auto s = spec_of(svc);
    CHECK(s.extra_networks.empty());
    CHECK(s.main_network == app_uuid + "_default");
  }

  TEST_CASE("host-os.board-rev passes the board revision") {
    auto s = with_feature("host-os.board-rev");
    for (std::string p : {"BALENA", "RESIN"}) {
      CHECK(env_of(s, p + "_HOST_OS_BOARD_REV") == "rev-a");
      CHECK(env_of(s, p + "_HOST_OS_BUILD") == "rev-a");
    }
  }

  TEST_CASE("extra-firmware mounts its volume without the app prefix") {
    auto s = with_feature("extra-firmware");
    REQUIRE(s.create.host.mounts.size() == 1);
    CHECK(s.create.host.mounts[0].type == "volume");
    CHECK(s.create.host.mounts[0].source == "extra-firmware");
    CHECK(s.create.host.mounts[0].target == "/extra-firmware");
  }
}

TEST_SUITE("container spec: ports") {
  TEST_CASE("become ExposedPorts and PortBindings") {
    struct row {
      const char* what;
      service_port p;
      std::map<std::string, std::vector<std::pair<std::string, std::string>>>
        bindings;
    };
    const row rows[] = {
      {"80 alone binds host 80",
       port("", 80, 80, 80, 80),
       {{"80/tcp", {{"", "80"}}}}},
      {"8080:80", port("", 8080, 8080, 80, 80), {{"80/tcp", {{"", "8080"}}}}},
      {"127.0.0.1:53:53/udp",
       port("127.0.0.1", 53, 53, 53, 53, "udp"),
       {{"53/udp", {{"127.0.0.1", "53"}}}}},
      {"5000-5001:6000-6001",
       port("", 5000, 5001, 6000, 6001),
       {{"6000/tcp", {{"", "5000"}}}, {"6001/tcp", {{"", "5001"}}}}},
      {"7000-7010:80 (engine picks)",
       port("", 7000, 7010, 80, 80),
       {{"80/tcp", {{"", "7000-7010"}}}}},
    };
    for (const auto& r : rows) {
      CAPTURE(r.what);
      auto svc = make_service();
      svc.config.ports = {r.p};
      auto s = spec_of(svc);
      std::map<std::string, std::vector<std::pair<std::string, std::string>>>
        got;
      for (const auto& [k, bs] : s.create.host.port_bindings)
        for (const auto& b : bs)
          got[k].emplace_back(b.host_ip, b.host_port);
      CHECK(got == r.bindings);
      string_list keys;
      for (const auto& [k, bs] : r.bindings)
        keys.push_back(k);
      CHECK(s.create.config.exposed_ports == keys);
    }
  }

  TEST_CASE("two host ports for one container port both bind") {
    auto svc = make_service();
    svc.config.ports = {port("", 80, 80, 80, 80), port("", 8080, 8080, 80, 80)};
    auto s = spec_of(svc);
    REQUIRE(s.create.host.port_bindings["80/tcp"].size() == 2);
    CHECK(s.create.config.exposed_ports == string_list{"80/tcp"});
  }

  TEST_CASE("the image's exposed ports are kept") {
    auto img = rich_image();
    auto svc = make_service();
    svc.config.ports = {port("", 80, 80, 80, 80)};
    CHECK(spec_of(svc, &img).create.config.exposed_ports
          == string_list{"80/tcp", "9000/tcp"});
  }

  TEST_CASE("are ignored on the host network, with a warning") {
    auto svc = make_service();
    svc.config.network_mode = "host";
    svc.config.ports = {port("", 80, 80, 80, 80)};
    auto s = spec_of(svc);
    CHECK(s.create.host.port_bindings.empty());
    CHECK(s.warnings.size() == 1);
  }
}

TEST_SUITE("container spec: volumes") {
  TEST_CASE("named, anonymous, long form, tmpfs and the lock dir") {
    auto svc = make_service();
    auto long_vol = volume(mount_kind::volume, "logs", "/logs", "", true);
    long_vol.nocopy = true;
    long_vol.read_only = true;
    auto long_tmpfs = volume(mount_kind::tmpfs, "", "/scratch", "", true);
    long_tmpfs.tmpfs_size = 1048576;
    svc.config.volumes = {
      volume(mount_kind::volume, "data", "/data"),
      volume(mount_kind::volume, "cfg", "/cfg", "ro"),
      volume(mount_kind::volume, "", "/cache"),
      long_vol,
      long_tmpfs,
    };
    svc.config.tmpfs = {"/run/a", "/run/b:size=1m,mode=1777"};
    auto s = spec_of(svc);
    const auto& h = s.create.host;
    CHECK(h.binds
          == string_list{
            "1011165_data:/data", "1011165_cfg:/cfg:ro",
            "/tmp/balena-supervisor/services/1011165/web:/tmp/resin",
            "/tmp/balena-supervisor/services/1011165/web:/tmp/balena"});
    CHECK(s.create.config.volumes == string_list{"/cache"});
    REQUIRE(h.mounts.size() == 2);
    CHECK(h.mounts[0].type == "volume");
    CHECK(h.mounts[0].source == "1011165_logs");
    CHECK(h.mounts[0].target == "/logs");
    CHECK(h.mounts[0].read_only);
    REQUIRE(h.mounts[0].volume_options);
    CHECK(h.mounts[0].volume_options->no_copy);
    CHECK(h.mounts[1].type == "tmpfs");
    CHECK(h.mounts[1].target == "/scratch");
    REQUIRE(h.mounts[1].tmpfs_options);
    CHECK(h.mounts[1].tmpfs_options->size_bytes == 1048576);
    CHECK(h.tmpfs
          == string_map{{"/run/a", ""}, {"/run/b", "size=1m,mode=1777"}});
    CHECK(s.warnings.empty());
  }

  TEST_CASE("host bind mounts are refused with a warning") {
    auto svc = make_service();
    svc.config.volumes = {volume(mount_kind::bind, "/etc", "/host-etc")};
    auto s = spec_of(svc);
    CHECK(s.create.host.binds.size() == 2); // the lock dir only
    REQUIRE(s.warnings.size() == 1);
    CHECK(s.warnings[0] == "Ignoring invalid bind mount /etc:/host-etc");
  }

  TEST_CASE("the lock dir base is configurable") {
    auto ctx = make_context();
    ctx.lock_dir_base = "/var/lib/bosun/locks/";
    CHECK(lock_dir(ctx, 7, "db") == "/var/lib/bosun/locks/services/7/db");
    auto s = spec_of(make_service(), nullptr, ctx);
    CHECK(contains(s.create.host.binds,
                   "/var/lib/bosun/locks/services/1011165/web:/tmp/balena"));
  }

  TEST_CASE("the image's volumes are anonymous volumes") {
    auto img = rich_image();
    auto svc = make_service();
    svc.config.volumes = {volume(mount_kind::volume, "", "/cache")};
    CHECK(spec_of(svc, &img).create.config.volumes
          == string_list{"/cache", "/img-data"});
  }
}

TEST_SUITE("container spec: networks") {
  TEST_CASE("network_mode rules") {
    struct row {
      std::string mode;
      string_list networks;
      std::string want_mode;
      std::string want_main;
      size_t extras;
    };
    const std::string u = app_uuid + "_";
    const row rows[] = {
      {"", {}, u + "default", u + "default", 0},
      {"", {"backend", "frontend"}, u + "backend", u + "backend", 1},
      {"frontend", {"backend", "frontend"}, u + "frontend", u + "frontend", 1},
      {"other", {}, u + "other", u + "other", 0},
      {"host", {}, "host", "", 0},
      {"none", {}, "none", "", 0},
      {"bridge", {"backend"}, "bridge", "", 1},
      {"container:abc", {}, u + "default", u + "default", 0},
    };
    for (const auto& r : rows) {
      CAPTURE(r.mode);
      auto svc = make_service();
      svc.config.network_mode = r.mode;
      for (const auto& n : r.networks)
        svc.config.networks[n] = {};
      auto s = spec_of(svc);
      CHECK(s.create.host.network_mode == r.want_mode);
      CHECK(s.main_network == r.want_main);
      CHECK(s.extra_networks.size() == r.extras);
      CHECK(s.create.networking.endpoints_config.size()
            == (r.want_main.empty() ? 0 : 1));
    }
  }

  TEST_CASE("container: network modes are dropped with a warning") {
    auto svc = make_service();
    svc.config.network_mode = "container:abc";
    CHECK(spec_of(svc).warnings.size() == 1);
  }

  TEST_CASE("service:X becomes container:<X's id>") {
    auto svc = make_service();
    svc.config.network_mode = "service:db";
    auto ctx = make_context();
    auto s = spec_of(svc, nullptr, ctx);
    CHECK_FALSE(s.ok());
    CHECK(s.network_service == "db");
    ctx.service_container_ids["db"] = "0123456789abcdef";
    s = spec_of(svc, nullptr, ctx);
    CHECK(s.ok());
    CHECK(s.create.host.network_mode == "container:0123456789abcdef");
    CHECK(s.network_service == "db");
    CHECK(s.create.networking.endpoints_config.empty());
    CHECK(s.create.config.hostname == "");
  }

  TEST_CASE("endpoints carry aliases with the service name and addresses") {
    auto svc = make_service();
    service_network backend;
    backend.aliases = {"www"};
    backend.ipv4_address = "172.28.0.10";
    svc.config.networks["backend"] = backend;
    svc.config.networks["frontend"] = {};
    auto s = spec_of(svc);
    const auto& eps = s.create.networking.endpoints_config;
    REQUIRE(eps.size() == 1);
    const auto& main = eps.at(app_uuid + "_backend");
    CHECK(main.aliases == string_list{"www", "web"});
    REQUIRE(main.ipam_config);
    CHECK(main.ipam_config->ipv4_address == "172.28.0.10");
    const auto& front = s.extra_networks.at(app_uuid + "_frontend");
    CHECK(front.aliases == string_list{"web"});
    CHECK_FALSE(front.ipam_config);
  }

  TEST_CASE("host networking takes the device hostname unless one is set") {
    auto svc = make_service();
    svc.config.network_mode = "host";
    CHECK(spec_of(svc).create.config.hostname == "devicehost");
    svc.config.hostname = "mine";
    CHECK(spec_of(svc).create.config.hostname == "mine");
    svc.config.network_mode = "";
    svc.config.hostname = "";
    CHECK(spec_of(svc).create.config.hostname == "");
  }
}

TEST_SUITE("container spec: healthcheck") {
  TEST_CASE("compose fields overlay the image's") {
    auto img = rich_image();
    auto svc = make_service();
    service_healthcheck h;
    h.interval_ns = 10'000'000'000;
    h.retries = 3;
    svc.config.healthcheck = h;
    auto hc = *spec_of(svc, &img).create.config.healthcheck;
    CHECK(hc.test == string_list{"CMD", "/bin/true"});
    CHECK(hc.interval == 10'000'000'000);
    CHECK(hc.timeout == 5'000'000'000);
    CHECK(hc.retries == 3);
    CHECK_FALSE(hc.start_period);
  }

  TEST_CASE("a compose test replaces the image's") {
    auto img = rich_image();
    auto svc = make_service();
    service_healthcheck h;
    h.test = {"CMD-SHELL", "curl -f localhost"};
    svc.config.healthcheck = h;
    auto hc = *spec_of(svc, &img).create.config.healthcheck;
    CHECK(hc.test == string_list{"CMD-SHELL", "curl -f localhost"});
    CHECK(hc.interval == 30'000'000'000);
  }

  TEST_CASE("disable gives NONE") {
    auto img = rich_image();
    auto svc = make_service();
    service_healthcheck h;
    h.disable = true;
    svc.config.healthcheck = h;
    CHECK(spec_of(svc, &img).create.config.healthcheck->test
          == string_list{"NONE"});
  }
}

TEST_SUITE("container spec: host config") {
  TEST_CASE("defaults are sent explicitly") {
    auto s = spec_of(make_service());
    const auto& h = s.create.host;
    CHECK(h.ipc_mode == "shareable");
    CHECK(h.shm_size == 67108864);
    CHECK(h.memory == 0);
    CHECK(h.memory_reservation == 0);
    CHECK_FALSE(h.privileged);
    CHECK_FALSE(h.readonly_rootfs);
    CHECK_FALSE(h.oom_kill_disable);
    CHECK_FALSE(h.init);
    CHECK_FALSE(h.log_config);
    CHECK_FALSE(h.pids_limit);
    CHECK(h.device_requests.empty());
    CHECK(s.create.config.stop_timeout == 10);
  }

  TEST_CASE("compose fields map one to one") {
    auto svc = make_service();
    auto& c = svc.config;
    c.privileged = true;
    c.read_only = true;
    c.oom_kill_disable = true;
    c.cap_add = {"NET_ADMIN"};
    c.cap_drop = {"MKNOD"};
    c.group_add = {"1234"};
    c.extra_hosts = {"db:10.0.0.2"};
    c.devices = {"/dev/ttyUSB0", "/dev/i2c-1:/dev/i2c", "/dev/null:/dev/n:r"};
    c.dns = {"8.8.8.8", "1.1.1.1"};
    c.dns_search = {"example.com"};
    c.dns_opt = {"ndots:2"};
    c.security_opt = {"label=disable", "no-new-privileges"};
    c.sysctls = {{"net.core.somaxconn", "1024"}};
    c.ulimits = {{"nofile", {1024, 2048}}};
    c.mem_limit = 67108864;
    c.mem_reservation = 33554432;
    c.shm_size = 1048576;
    c.cpus = 1.5;
    c.cpu_shares = 512;
    c.cpu_quota = 50000;
    c.oom_score_adj = 100;
    c.cpuset = "0,1";
    c.pid = "host";
    c.pids_limit = 100;
    c.userns_mode = "host";
    c.cgroup_parent = "bosun";
    c.ipc = "private";
    c.init = false;
    c.tty = false;
    c.stop_grace_period_s = 30;
    c.domainname = "example.com";
    c.mac_address = "02:42:ac:11:00:02";
    c.hostname = "box";
    auto s = spec_of(svc);
    const auto& h = s.create.host;
    CHECK(h.privileged);
    CHECK(h.readonly_rootfs);
    CHECK(h.oom_kill_disable);
    CHECK(h.cap_add == string_list{"NET_ADMIN"});
    CHECK(h.cap_drop == string_list{"MKNOD"});
    CHECK(h.group_add == string_list{"1234"});
    CHECK(h.extra_hosts == string_list{"db:10.0.0.2"});
    REQUIRE(h.devices.size() == 3);
    CHECK(h.devices[0].path_on_host == "/dev/ttyUSB0");
    CHECK(h.devices[0].path_in_container == "/dev/ttyUSB0");
    CHECK(h.devices[0].cgroup_permissions == "rwm");
    CHECK(h.devices[1].path_in_container == "/dev/i2c");
    CHECK(h.devices[2].cgroup_permissions == "r");
    CHECK(h.dns == string_list{"8.8.8.8", "1.1.1.1"});
    CHECK(h.dns_search == string_list{"example.com"});
    CHECK(h.dns_options == string_list{"ndots:2"});
    CHECK(h.security_opt == string_list{"no-new-privileges"});
    CHECK(h.sysctls == string_map{{"net.core.somaxconn", "1024"}});
    REQUIRE(h.ulimits.size() == 1);
    CHECK(h.ulimits[0].name == "nofile");
    CHECK(h.ulimits[0].soft == 1024);
    CHECK(h.ulimits[0].hard == 2048);
    CHECK(h.memory == 67108864);
    CHECK(h.memory_reservation == 33554432);
    CHECK(h.shm_size == 1048576);
    CHECK(h.nano_cpus == 1500000000);
    CHECK(h.cpu_shares == 512);
    CHECK(h.cpu_quota == 50000);
    CHECK(h.oom_score_adj == 100);
    CHECK(h.cpuset_cpus == "0,1");
    CHECK(h.pid_mode == "host");
    CHECK(h.pids_limit == 100);
    CHECK(h.userns_mode == "host");
    CHECK(h.cgroup_parent == "bosun");
    CHECK(h.ipc_mode == "private");
    CHECK(h.init == false);
    const auto& cfg = s.create.config;
    CHECK_FALSE(cfg.tty);
    CHECK(cfg.stop_timeout == 30);
    CHECK(cfg.domainname == "example.com");
    CHECK(cfg.mac_address == "02:42:ac:11:00:02");
    CHECK(cfg.hostname == "box");
  }
}

TEST_SUITE("service identity") {
  TEST_CASE("is read from labels and name") {
    auto s = spec_of(make_service());
    auto id = service_from_labels(s.create.config.labels, "/" + s.create.name);
    REQUIRE(id);
    CHECK(id->app_id == 1011165);
    CHECK(id->service_id == 43697);
    CHECK(id->service_name == "web");
    CHECK(id->app_uuid == app_uuid);
    CHECK(id->image_id == 431889);
    CHECK(id->release_id == 557617);
    CHECK(id->commit == commit);
    CHECK_FALSE(id->old);
  }

  TEST_CASE("recognises a handed-over container") {
    auto id = service_from_labels(
      {{"io.balena.supervised", "true"}, {"io.balena.service-name", "web"}},
      "/old_web_1_2_abc");
    REQUIRE(id);
    CHECK(id->old);
    CHECK(id->image_id == 1);
    auto own = service_from_labels(
      {{"io.balena.supervised", "true"}, {"io.balena.service-name", "old_x"}},
      "/old_x_1_2_abc");
    REQUIRE(own);
    CHECK_FALSE(own->old);
  }

  TEST_CASE("accepts legacy io.resin labels") {
    auto id = service_from_labels({{"io.resin.supervised", "true"},
                                   {"io.resin.app-id", "12"},
                                   {"io.resin.service-id", "34"},
                                   {"io.resin.service-name", "main"}},
                                  "main_5_6");
    REQUIRE(id);
    CHECK(id->app_id == 12);
    CHECK(id->service_id == 34);
    CHECK(id->service_name == "main");
    CHECK(id->commit == "");
  }

  TEST_CASE("ignores unsupervised containers") {
    CHECK_FALSE(service_from_labels({{"foo", "bar"}}, "/web_1_2_abc"));
  }

  TEST_CASE("reads the restart policy from the label, else the engine's") {
    container_inspect c;
    c.host.restart_policy.name = "on-failure";
    CHECK(restart_of(c) == restart_mode::on_failure);
    c.host.restart_policy.name = "";
    CHECK(restart_of(c) == restart_mode::no);
    c.config.labels[std::string(restart_policy_label)] = "unless-stopped";
    CHECK(restart_of(c) == restart_mode::unless_stopped);
  }
}
