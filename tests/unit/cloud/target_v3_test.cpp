// Target state v3 decoding: the reference example, every compose field,
// warnings, and every validation rule with its path.
#include "api/cloud/target_codec.hpp"
#include "util.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::cloud;
using namespace bosun::cloud::test;

using strings = std::vector<std::string>;
using string_map = std::map<std::string, std::string>;

TEST_SUITE("target v3: reference example") {
  TEST_CASE("decodes state.md's example with its exact values") {
    auto r = decode_target_v3(load("state_v3_example.json"));
    REQUIRE_MESSAGE(r, r.error.to_string());
    const auto& t = r->target;
    CHECK(r->warnings.empty());
    CHECK(t.source == target_source::cloud);
    CHECK(t.device_uuid == "7dadabd4edec3067948d5952c2f2f26f");
    CHECK(t.device_name == "holy-wildflower");
    CHECK(t.config
          == string_map{{"SUPERVISOR_POLL_INTERVAL", "900000"},
                        {"HOST_CONFIG_gpu_mem", "16"}});
    REQUIRE(t.apps.size() == 2);

    // Apps are sorted by uuid: the supervisor entry comes first.
    const auto& sup = t.apps[0];
    CHECK(sup.uuid == "52e35121417640b1b28a680504e4039b");
    CHECK(sup.app_id == 1667442);
    CHECK(sup.name == "amd64-supervisor");
    CHECK(sup.klass == app_class::app);
    CHECK(sup.commit == "9a8b");
    CHECK(sup.release_id == 2000);
    REQUIRE(sup.services.size() == 1);
    CHECK(sup.services[0].name == "balena-supervisor");
    CHECK(sup.services[0].service_id == 1);
    CHECK(sup.services[0].image_id == 2);

    const auto* app = find_app(t, "d149c5d1551b4286a930d57284a02511");
    REQUIRE(app);
    CHECK(app->app_id == 1011165);
    CHECK(app->name == "myfleet");
    CHECK(app->klass == app_class::fleet);
    CHECK_FALSE(app->is_host);
    CHECK_FALSE(app->parent_app);
    CHECK(app->commit == "217d55237092995e4576367e529ebb03");
    CHECK(app->release_id == 557617);

    REQUIRE(app->services.size() == 2);
    CHECK(app->services[0].name == "db"); // sorted by name
    const auto* web = find_service(*app, "web");
    REQUIRE(web);
    CHECK(web->service_id == 43697);
    CHECK(web->image_id == 431889);
    CHECK(web->image == "registry2.balena-cloud.com/v2/8ddb@sha256:09b0");
    CHECK(web->running);
    CHECK_FALSE(web->contract);
    CHECK(web->config.environment == string_map{{"PORT", "80"}});
    CHECK(web->config.labels
          == string_map{{"io.balena.features.supervisor-api", "1"}});
    REQUIRE(web->config.ports.size() == 1);
    CHECK(web->config.ports[0].host == port_range{80, 80});
    CHECK(web->config.ports[0].container == port_range{80, 80});
    CHECK(web->config.ports[0].protocol == "tcp");
    REQUIRE(web->config.depends_on.size() == 1);
    CHECK(web->config.depends_on[0].service == "db");
    CHECK(web->config.depends_on[0].condition == dependency_condition::started);
    REQUIRE(web->config.networks.count("backend") == 1);
    CHECK(web->config.networks.at("backend").aliases == strings{"www"});
    // Defaults of everything not given.
    CHECK(web->config.restart == restart_mode::always);
    CHECK(web->config.tty);
    CHECK(web->config.ipc == "shareable");
    CHECK(web->config.shm_size == 67108864);
    CHECK(web->config.stop_grace_period_s == 10);
    CHECK_FALSE(web->config.command);
    CHECK_FALSE(web->config.healthcheck);
    CHECK(web->config.network_mode.empty());

    const auto* db = find_service(*app, "db");
    REQUIRE(db);
    CHECK(db->service_id == 43698);
    CHECK(db->image_id == 431890);
    CHECK(db->config.environment.empty());
    CHECK(db->config.labels.at("io.balena.update.strategy")
          == "kill-then-download");
    REQUIRE(db->config.volumes.size() == 1);
    CHECK(db->config.volumes[0].kind == mount_kind::volume);
    CHECK(db->config.volumes[0].source == "dbdata");
    CHECK(db->config.volumes[0].target == "/var/lib/db");
    CHECK(db->config.networks.at("backend").ipv4_address == "172.28.0.10");

    REQUIRE(app->volumes.size() == 1);
    CHECK(app->volumes[0].name == "dbdata");
    CHECK(app->volumes[0].driver == "local");
    REQUIRE(app->networks.size() == 1);
    const auto& backend = app->networks[0];
    CHECK(backend.name == "backend");
    CHECK(backend.driver == "bridge");
    CHECK(backend.ipam.driver == "default");
    REQUIRE(backend.ipam.config.size() == 1);
    CHECK(backend.ipam.config[0].subnet == "172.28.0.0/16");
    CHECK(backend.ipam.config[0].gateway == "172.28.0.1");
    CHECK_FALSE(backend.enable_ipv6);
    CHECK_FALSE(backend.internal);
    CHECK_FALSE(backend.config_only);
  }

  TEST_CASE("the expected uuid picks the device entry") {
    auto doc = load("state_v3_example.json");
    auto r = decode_target_v3(doc, target_source::cloud,
                              "7dadabd4edec3067948d5952c2f2f26f");
    REQUIRE(r);
    CHECK(r->target.device_uuid == "7dadabd4edec3067948d5952c2f2f26f");
    auto other = decode_target_v3(doc, target_source::cloud, "ffff");
    CHECK(error_of(other) == "missing device uuid ffff");
  }
}

TEST_SUITE("target v3: normalisation") {
  TEST_CASE("config keys: prefixes stripped, BALENA_ wins, others dropped") {
    auto r = decode_target_v3(v3_release(
      "", "", "",
      R"("RESIN_SUPERVISOR_DELTA":"0","BALENA_SUPERVISOR_DELTA":"1",)"
      R"("SUPERVISOR_DELTA":"2","RESIN_HOST_CONFIG_x":"a",)"
      R"("SUPERVISOR_VPN_CONTROL":"true","RESIN_OVERRIDE_LOCK":"1",)"
      R"("BALENA_OTHER":"x","FOO":"y","RESIN_SUPERVISOR_LOCAL_MODE":"0",)"
      R"("SUPERVISOR_LOCAL_MODE":"1")"));
    REQUIRE_MESSAGE(r, r.error.to_string());
    CHECK(r->target.config
          == string_map{{"SUPERVISOR_DELTA", "1"},
                        {"HOST_CONFIG_x", "a"},
                        {"SUPERVISOR_VPN_CONTROL", "true"},
                        {"OVERRIDE_LOCK", "1"},
                        {"SUPERVISOR_LOCAL_MODE", "0"}});
  }

  TEST_CASE("ids may be numeric strings") {
    auto doc = R"({"u1":{"name":"d","config":{},"apps":{"a1":{"id":"12",)"
               R"("name":"n","releases":{"c1":{"id":"34","services":{"s":)"
               R"({"id":"56","image_id":"78","image":"i"}}}}}}}})";
    auto r = decode_target_v3(doc);
    REQUIRE_MESSAGE(r, r.error.to_string());
    const auto& a = r->target.apps.at(0);
    CHECK(a.app_id == 12);
    CHECK(a.release_id == 34);
    CHECK(a.services.at(0).service_id == 56);
    CHECK(a.services.at(0).image_id == 78);
  }

  TEST_CASE("only the first release is used; an app may have none") {
    auto doc = R"({"u1":{"name":"d","config":{},"apps":{)"
               R"("a1":{"id":1,"name":"n","releases":{)"
               R"("c1":{"id":1,"services":{}},"c2":{"id":2}}},)"
               R"("a2":{"id":2,"name":"m","class":"block","is_host":true,)"
               R"("parent_app":"a1","releases":{}}}}})";
    auto r = decode_target_v3(doc);
    REQUIRE_MESSAGE(r, r.error.to_string());
    const auto& t = r->target;
    CHECK(t.apps.at(0).commit == "c1");
    CHECK(t.apps.at(0).release_id == 1);
    CHECK(t.apps.at(1).commit.empty());
    CHECK(t.apps.at(1).klass == app_class::block);
    CHECK(t.apps.at(1).is_host);
    CHECK(t.apps.at(1).parent_app == std::optional<std::string>("a1"));
    REQUIRE(r->warnings.size() == 1);
    CHECK(r->warnings[0].to_string()
          == "apps.a1.releases.c2: only the first release is used, ignored");
  }

  TEST_CASE("top-level environment and labels override the composition's") {
    auto s = only_service(v3_release(
      R"("web":{"id":1,"image_id":2,"image":"i","running":false,)"
      R"("environment":{"A":"top","N":5},"labels":{"l":"top"},)"
      R"("contract":{"type":"sw.container","requires":[{"type":"sw.os"}]},)"
      R"("composition":{"environment":["A=comp","B=comp","C"],)"
      R"("labels":["l=comp","m=comp"]}})"));
    CHECK(s.config.environment
          == string_map{{"A", "top"}, {"B", "comp"}, {"N", "5"}});
    CHECK(s.config.labels == string_map{{"l", "top"}, {"m", "comp"}});
    CHECK_FALSE(s.running);
    CHECK(s.contract
          == std::optional<std::string>(
            R"({"type":"sw.container","requires":[{"type":"sw.os"}]})"));
  }

  TEST_CASE("every supported compose field is decoded and typed") {
    auto doc = v3_release(
      R"("db":{"id":9,"image_id":9,"image":"db"},)"
      R"("web":{"id":3,"image_id":4,"image":"img","composition":{)"
      R"("command":"sh -c 'echo $HOME'","entrypoint":["/bin/busybox"],)"
      R"("ports":["127.0.0.1:8080-8081:80-81/udp",9000,)"
      R"({"target":22,"published":"2222","protocol":"tcp"}],)"
      R"("volumes":["data:/data:ro","/anon","/host:/h",)"
      R"({"type":"volume","source":"data","target":"/d2","read_only":true,)"
      R"("volume":{"nocopy":true}},)"
      R"({"type":"tmpfs","target":"/t","tmpfs":{"size":"1m"}}],)"
      R"("tmpfs":"/run","network_mode":"service:db",)"
      R"("networks":["backend","default"],)"
      R"("privileged":true,"read_only":true,"oom_kill_disable":true,)"
      R"("cap_add":["NET_ADMIN"],"cap_drop":["ALL"],)"
      R"("group_add":["dialout",20],)"
      R"("extra_hosts":["a=1.2.3.4","b:5.6.7.8"],)"
      R"("devices":["/dev/ttyUSB0:/dev/ttyUSB0:rw"],"restart":"on-failure",)"
      R"("healthcheck":{"test":"curl -f localhost","interval":"30s",)"
      R"("timeout":"1m30s","start_period":"500ms","retries":3},)"
      R"("stop_signal":"SIGINT","stop_grace_period":"1m30s",)"
      R"("working_dir":"/app","user":1000,"hostname":"h","domainname":"d",)"
      R"("mac_address":"02:42:ac:11:00:02","tty":false,"init":true,)"
      R"("dns":"8.8.8.8","dns_search":["example.com"],"dns_opt":"ndots:2",)"
      R"("security_opt":["no-new-privileges"],)"
      R"("sysctls":["net.core.somaxconn=1024"],)"
      R"("ulimits":{"nofile":{"soft":1024,"hard":2048},"nproc":65535},)"
      R"("mem_limit":"64m","mem_reservation":1024,"shm_size":"1g",)"
      R"("cpus":1.5,"cpu_shares":512,"cpu_quota":"50000",)"
      R"("oom_score_adj":-100,"cpuset":"0-1","pid":"host","pids_limit":100,)"
      R"("userns_mode":"host","cgroup_parent":"/p","ipc":"private",)"
      R"("storage_opt":{"size":"1G"},)"
      R"("depends_on":{"db":{"condition":"service_healthy"}}}})",
      R"("data":{"driver":"local","driver_opts":{"o":"bind"},)"
      R"("labels":{"x":"y"}})",
      R"("backend":{"driver":"bridge","enable_ipv6":true,"internal":true,)"
      R"("ipam":{"driver":"default","config":[{"subnet":"10.0.0.0/24",)"
      R"("ip_range":"10.0.0.0/25","aux_addresses":{"r":"10.0.0.2"}}],)"
      R"("options":{"k":"v"}},"labels":{"n":"1"},"config_only":false})");
    auto r = decode_target_v3(doc);
    REQUIRE_MESSAGE(r, r.error.to_string());
    CHECK(r->warnings.empty());
    const auto& app = r->target.apps.at(0);
    const auto* web = find_service(app, "web");
    REQUIRE(web);
    const auto& c = web->config;
    CHECK(c.command == std::optional<strings>({"sh", "-c", "echo $HOME"}));
    CHECK(c.entrypoint == std::optional<strings>({"/bin/busybox"}));

    REQUIRE(c.ports.size() == 3);
    CHECK(c.ports[0].host_ip == "127.0.0.1");
    CHECK(c.ports[0].host == port_range{8080, 8081});
    CHECK(c.ports[0].container == port_range{80, 81});
    CHECK(c.ports[0].protocol == "udp");
    CHECK(c.ports[1].host == port_range{9000, 9000});
    CHECK(c.ports[1].container == port_range{9000, 9000});
    CHECK(c.ports[2].host == port_range{2222, 2222});
    CHECK(c.ports[2].container == port_range{22, 22});

    REQUIRE(c.volumes.size() == 5);
    CHECK(c.volumes[0].source == "data");
    CHECK(c.volumes[0].read_only);
    CHECK(c.volumes[0].mode == "ro");
    CHECK(c.volumes[1].source.empty());
    CHECK(c.volumes[1].target == "/anon");
    CHECK(c.volumes[2].kind == mount_kind::bind);
    CHECK(c.volumes[2].source == "/host");
    CHECK(c.volumes[3].long_syntax);
    CHECK(c.volumes[3].kind == mount_kind::volume);
    CHECK(c.volumes[3].read_only);
    CHECK(c.volumes[3].nocopy);
    CHECK(c.volumes[4].kind == mount_kind::tmpfs);
    CHECK(c.volumes[4].tmpfs_size == 1048576);
    CHECK(c.tmpfs == strings{"/run"});

    CHECK(c.network_mode == "service:db");
    CHECK(c.networks.size() == 2);
    CHECK(c.networks.count("backend") == 1);
    CHECK(c.networks.count("default") == 1);
    CHECK(c.privileged);
    CHECK(c.read_only);
    CHECK(c.oom_kill_disable);
    CHECK(c.cap_add == strings{"NET_ADMIN"});
    CHECK(c.cap_drop == strings{"ALL"});
    CHECK(c.group_add == strings{"dialout", "20"});
    CHECK(c.extra_hosts == strings{"a:1.2.3.4", "b:5.6.7.8"});
    CHECK(c.devices == strings{"/dev/ttyUSB0:/dev/ttyUSB0:rw"});
    CHECK(c.restart == restart_mode::on_failure);

    REQUIRE(c.healthcheck);
    CHECK(c.healthcheck->test == strings{"CMD-SHELL", "curl -f localhost"});
    CHECK(c.healthcheck->interval_ns == 30'000'000'000);
    CHECK(c.healthcheck->timeout_ns == 90'000'000'000);
    CHECK(c.healthcheck->start_period_ns == 500'000'000);
    CHECK(c.healthcheck->retries == 3);
    CHECK_FALSE(c.healthcheck->disable);

    CHECK(c.stop_signal == std::optional<std::string>("SIGINT"));
    CHECK(c.stop_grace_period_s == 90);
    CHECK(c.working_dir == std::optional<std::string>("/app"));
    CHECK(c.user == std::optional<std::string>("1000"));
    CHECK(c.hostname == "h");
    CHECK(c.domainname == "d");
    CHECK(c.mac_address == "02:42:ac:11:00:02");
    CHECK_FALSE(c.tty);
    CHECK(c.init == std::optional<bool>(true));
    CHECK(c.dns == strings{"8.8.8.8"});
    CHECK(c.dns_search == strings{"example.com"});
    CHECK(c.dns_opt == strings{"ndots:2"});
    CHECK(c.security_opt == strings{"no-new-privileges"});
    CHECK(c.sysctls == string_map{{"net.core.somaxconn", "1024"}});
    REQUIRE(c.ulimits.size() == 2);
    CHECK(c.ulimits.at("nofile") == service_ulimit{1024, 2048});
    CHECK(c.ulimits.at("nproc") == service_ulimit{65535, 65535});
    CHECK(c.mem_limit == 67108864);
    CHECK(c.mem_reservation == 1024);
    CHECK(c.shm_size == 1073741824);
    CHECK(c.cpus == doctest::Approx(1.5));
    CHECK(c.cpu_shares == 512);
    CHECK(c.cpu_quota == 50000);
    CHECK(c.oom_score_adj == -100);
    CHECK(c.cpuset == "0-1");
    CHECK(c.pid == "host");
    CHECK(c.pids_limit == 100);
    CHECK(c.userns_mode == "host");
    CHECK(c.cgroup_parent == "/p");
    CHECK(c.ipc == "private");
    CHECK(c.storage_opt == string_map{{"size", "1G"}});
    REQUIRE(c.depends_on.size() == 1);
    CHECK(c.depends_on[0].service == "db");
    CHECK(c.depends_on[0].condition == dependency_condition::healthy);

    const auto* data = find_volume(app, "data");
    REQUIRE(data);
    CHECK(data->driver_opts == string_map{{"o", "bind"}});
    CHECK(data->labels == string_map{{"x", "y"}});
    const auto* backend = find_network(app, "backend");
    REQUIRE(backend);
    CHECK(backend->enable_ipv6);
    CHECK(backend->internal);
    CHECK(backend->ipam.config.at(0).ip_range == "10.0.0.0/25");
    CHECK(backend->ipam.config.at(0).aux_addresses
          == string_map{{"r", "10.0.0.2"}});
    CHECK(backend->ipam.options == string_map{{"k", "v"}});
    CHECK(backend->labels == string_map{{"n", "1"}});
  }

  TEST_CASE("camelCase compose keys are accepted, also nested ones") {
    auto s = only_service(v3_composition(
      R"("capAdd":["SYS_ADMIN"],"networkMode":"host","stopGracePeriod":5,)"
      R"("memLimit":"1g","oomKillDisable":true,"dnsOpt":["a"],)"
      R"("healthcheck":{"test":["CMD","true"],"startPeriod":"1s"},)"
      R"("volumes":[{"type":"volume","source":"v","target":"/v",)"
      R"("readOnly":true}],)"
      R"("networks":{"backend":{"ipv4Address":"10.0.0.5",)"
      R"("linkLocalIps":["169.254.1.1"]}})",
      R"("v":null)", R"("backend":{})"));
    CHECK(s.config.cap_add == strings{"SYS_ADMIN"});
    CHECK(s.config.network_mode == "host");
    CHECK(s.config.stop_grace_period_s == 5);
    CHECK(s.config.mem_limit == 1073741824);
    CHECK(s.config.oom_kill_disable);
    CHECK(s.config.dns_opt == strings{"a"});
    REQUIRE(s.config.healthcheck);
    CHECK(s.config.healthcheck->test == strings{"CMD", "true"});
    CHECK(s.config.healthcheck->start_period_ns == 1'000'000'000);
    CHECK(s.config.volumes.at(0).read_only);
    CHECK(s.config.networks.at("backend").ipv4_address == "10.0.0.5");
    CHECK(s.config.networks.at("backend").link_local_ips
          == strings{"169.254.1.1"});
  }

  TEST_CASE("map-form networks may have null values; restart falls back") {
    auto r = decode_target_v3(v3_composition(
      R"("networks":{"backend":null,"default":null},"restart":"sometimes",)"
      R"("init":"yes","command":null,"stop_grace_period":"1500ms")",
      "", R"("backend":null)"));
    REQUIRE_MESSAGE(r, r.error.to_string());
    const auto& c = r->target.apps[0].services[0].config;
    CHECK(c.networks.size() == 2);
    CHECK(c.networks.at("backend") == service_network{});
    CHECK(c.restart == restart_mode::always);
    CHECK_FALSE(c.init);
    CHECK_FALSE(c.command);
    CHECK(c.stop_grace_period_s == 2); // rounded up to whole seconds
    REQUIRE(r->warnings.size() == 2);
    CHECK(r->warnings[0].to_string()
          == svc_path()
               + ".composition.restart: invalid restart policy, "
                 "using always");
    CHECK(r->warnings[1].to_string()
          == svc_path()
               + ".composition.init: init is applied only when it is a "
                 "boolean, ignored");
  }
}

TEST_SUITE("target v3: warnings") {
  TEST_CASE("unsupported compose keys are reported with their path") {
    auto r = decode_target_v3(v3_composition(
      R"("build":{"context":"."},"expose":["80"],"links":["db"],)"
      R"("logging":{"driver":"none"},"container_name":"x",)"
      R"("volumes_from":["y"],"deploy":{},"secrets":[],"image":"ignored")"));
    REQUIRE_MESSAGE(r, r.error.to_string());
    strings got;
    for (const auto& w : r->warnings)
      got.push_back(w.to_string());
    auto p = svc_path() + ".composition.";
    CHECK(got
          == strings{p + "build: unsupported compose key, ignored",
                     p + "expose: unsupported compose key, ignored",
                     p + "links: unsupported compose key, ignored",
                     p + "logging: unsupported compose key, ignored",
                     p + "container_name: unsupported compose key, ignored",
                     p + "volumes_from: unsupported compose key, ignored",
                     p + "deploy: unsupported compose key, ignored",
                     p + "secrets: unsupported compose key, ignored"});
    CHECK(r->target.apps[0].services[0].image == "img");
  }

  TEST_CASE("valueless environment entries and unknown keys are reported") {
    auto r = decode_target_v3(v3_release(
      R"("web":{"id":1,"image_id":2,"image":"i","extra":1,)"
      R"("environment":{"A":null},"composition":{"environment":["B"],)"
      R"("depends_on":{"web":{"condition":"service_completed_successfully"}}}})",
      R"("v":{"external":true})", R"("n":{"attachable":true})"));
    REQUIRE_MESSAGE(r, r.error.to_string());
    strings got;
    for (const auto& w : r->warnings)
      got.push_back(w.to_string());
    auto rel = std::string("apps.") + app_uuid + ".releases." + commit;
    CHECK(got
          == strings{
            rel + ".volumes.v.external: unsupported volume key, ignored",
            rel + ".networks.n.attachable: unsupported network key, ignored",
            svc_path()
              + ".composition.environment[0]: env var without a value, "
                "ignored",
            svc_path()
              + ".composition.depends_on.web.condition: condition "
                "service_completed_successfully is not supported, treated "
                "as service_started",
            svc_path() + ".extra: unknown service key, ignored",
            svc_path() + ".environment.A: env var without a value, ignored"});
  }
}

TEST_SUITE("target v3: validation errors") {
  TEST_CASE("each broken rule is named with its JSON path") {
    auto app = std::string("apps.") + app_uuid;
    auto rel = app + ".releases." + commit;
    struct row {
      std::string doc;
      std::string error;
    };
    const auto long_name = std::string(256, 'x');
    row rows[] = {
      {"", "invalid JSON at offset 0: The document is empty."},
      {"{", "invalid JSON at offset 1: Missing a name for object member."},
      {"[]", "expected an object"},
      {"{}", "missing device uuid"},
      {R"({"a":{},"b":{}})", "expected exactly one device uuid"},
      {R"({"a b":{}})", "device uuid must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"},
      {R"({"u":[]})", "expected an object"},
      {R"({"u":{"config":{},"apps":{}}})", "name: missing"},
      {R"({"u":{"name":"d","apps":{}}})", "config: missing"},
      {R"({"u":{"name":"d","config":{}}})", "apps: missing"},
      {R"({"u":{"name":")" + long_name + R"(","config":{},"apps":{}}})",
       "name: must be at most 255 characters without newlines"},
      {R"({"u":{"name":"a\nb","config":{},"apps":{}}})",
       "name: must be at most 255 characters without newlines"},
      {R"({"u":{"name":7,"config":{},"apps":{}}})", "name: expected a string"},
      {R"({"u":{"name":"d","config":{"1X":"a"},"apps":{}}})",
       R"(config."1X": config var name must match ^[A-Za-z_][A-Za-z0-9_:]*$)"},
      {R"({"u":{"name":"d","config":{"A":1},"apps":{}}})",
       "config.A: expected a string"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"id":-1,"name":"n"}}}})",
       "apps.a.id: expected a non-negative integer"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"id":"x","name":"n"}}}})",
       "apps.a.id: expected an integer or numeric string"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"id":1.5,"name":"n"}}}})",
       "apps.a.id: expected an integer or numeric string"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"id":"99999999999999999999","name":"n"}}}})",
       "apps.a.id: integer out of range"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"id":18446744073709551615,"name":"n"}}}})",
       "apps.a.id: integer out of range"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"name":"n"}}}})",
       "apps.a.id: missing"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"id":1,"name":"n","class":"x"}}}})",
       "apps.a.class: class must be fleet, app or block"},
      {R"({"u":{"name":"d","config":{},"apps":{"-a":{"id":1,"name":"n"}}}})",
       R"(apps."-a": app uuid must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$)"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"id":1,"name":"n","releases":{"c":{}}}}}})",
       "apps.a.releases.c.id: missing"},
      {R"({"u":{"name":"d","config":{},"apps":{"a":{"id":1,"name":"n","releases":{"c/1":{"id":1}}}}}})",
       R"(apps.a.releases."c/1": commit must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$)"},
      {v3_release(R"("-web":{"id":1,"image_id":2,"image":"i"})"),
       rel
         + R"(.services."-web": service name must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$)"},
      {v3_release(R"("web":{"image_id":2,"image":"i"})"),
       svc_path() + ".id: missing"},
      {v3_release(R"("web":{"id":1,"image_id":2,"image":""})"),
       svc_path() + ".image: image must not be empty"},
      {v3_release(R"("web":{"id":1,"image_id":"2a","image":"i"})"),
       svc_path() + ".image_id: expected an integer or numeric string"},
      {v3_release(R"("web":{"id":1,"image_id":2,"image":"i","running":"yes"})"),
       svc_path() + ".running: expected a boolean"},
      {v3_release(R"("web":{"id":1,"image_id":2,"image":"i","contract":"x"})"),
       svc_path() + ".contract: expected an object"},
      {v3_release(
         R"("web":{"id":1,"image_id":2,"image":"i","environment":{"1BAD":"x"}})"),
       svc_path()
         + R"(.environment."1BAD": env var name must match ^[A-Za-z_]\w*$)"},
      {v3_release(
         R"("web":{"id":1,"image_id":2,"image":"i","environment":{"A":{}}})"),
       svc_path() + ".environment.A: expected a string, number or boolean"},
      {v3_composition(R"("environment":["A-B=1"])"),
       svc_path()
         + R"(.composition.environment[0]: env var name must match ^[A-Za-z_]\w*$)"},
      {v3_composition(R"("networks":{"backend":{}})"),
       svc_path()
         + ".composition.networks.backend: network not defined in the "
           "release"},
      {v3_composition(R"("networks":["backend"])"),
       svc_path()
         + ".composition.networks[0]: network not defined in the release"},
      {v3_composition(R"("networks":{"n":{"foo":1}})", "", R"("n":{})"),
       svc_path() + ".composition.networks.n.foo: unknown service network key"},
      {v3_composition(R"("volumes":["nope:/x"])"),
       svc_path()
         + ".composition.volumes[0]: volume not defined in the release"},
      {v3_composition(R"("volumes":["v:relative"])", R"("v":{})"),
       svc_path()
         + ".composition.volumes[0]: volume target must be an absolute path "
           "(expected source:target[:mode] or target)"},
      {v3_composition(R"("volumes":[{"type":"npipe","target":"/x"}])"),
       svc_path()
         + ".composition.volumes[0].type: unsupported volume type (volume, "
           "bind or tmpfs)"},
      {v3_composition(R"("volumes":[{"target":"/x"}])"),
       svc_path()
         + ".composition.volumes[0]: volume type is required (volume, bind "
           "or tmpfs)"},
      {v3_composition(R"("depends_on":["db"])"),
       svc_path()
         + ".composition.depends_on[0]: service not defined in the release"},
      {v3_composition(R"("network_mode":"service:db")"),
       svc_path()
         + ".composition.network_mode: service not defined in the release"},
      {v3_composition(R"("depends_on":{"web":{"condition":"sometime"}})"),
       svc_path()
         + ".composition.depends_on.web.condition: condition must be "
           "service_started or service_healthy"},
      {v3_composition(R"("ports":["80:80:80:80"])"),
       svc_path()
         + ".composition.ports[0]: invalid port spec (expected "
           "[[ip:]host[-end]:]container[-end][/proto])"},
      {v3_composition(R"("ports":[true])"),
       svc_path() + ".composition.ports[0]: expected a string"},
      {v3_composition(R"("ports":"80")"),
       svc_path() + ".composition.ports: expected an array"},
      {v3_composition(R"("command":"echo 'unterminated")"),
       svc_path() + ".composition.command: unterminated quote"},
      {v3_composition(R"("command":["a",1])"),
       svc_path() + ".composition.command[1]: expected a string"},
      {v3_composition(R"("mem_limit":"1.5g")"),
       svc_path()
         + R"(.composition.mem_limit: invalid byte size (expected ^\d+[bkmg]?b?$))"},
      {v3_composition(R"("mem_limit":-1)"),
       svc_path() + ".composition.mem_limit: byte size must not be negative"},
      {v3_composition(R"("stop_grace_period":"soon")"),
       svc_path()
         + R"(.composition.stop_grace_period: invalid duration (expected e.g. "1m30s"))"},
      {v3_composition(R"("healthcheck":{"interval":-5})"),
       svc_path() + ".composition.healthcheck.interval: duration out of range"},
      {v3_composition(R"("healthcheck":{"tests":["CMD"]})"),
       svc_path() + ".composition.healthcheck.tests: unknown healthcheck key"},
      {v3_composition(R"("privileged":"true")"),
       svc_path() + ".composition.privileged: expected a boolean"},
      {v3_composition(R"("ulimits":{"nofile":{"soft":1}})"),
       svc_path() + ".composition.ulimits.nofile: expected {soft, hard}"},
      {v3_composition(R"("cpus":"lots")"),
       svc_path() + ".composition.cpus: expected a number"},
      {v3_composition(R"("extra_hosts":["nohost"])"),
       svc_path() + R"(.composition.extra_hosts[0]: expected "host:ip")"},
      {v3_release(R"("web":{"id":1,"image_id":2,"image":"i"},)"
                  R"("web":{"id":3,"image_id":4,"image":"j"})"),
       rel + ".services.web: duplicate service name"},
      {v3_release("", R"("bad name":{})"),
       rel
         + R"(.volumes."bad name": volume name must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$)"},
      {v3_release("", "", R"("n":{"internal":"no"})"),
       rel + ".networks.n.internal: expected a boolean"},
      {v3_release("", "", R"("n":{"ipam":{"config":{}}})"),
       rel + ".networks.n.ipam.config: expected an array"},
    };
    for (const auto& r : rows) {
      CAPTURE(r.doc);
      CHECK(error_of(decode_target_v3(r.doc)) == r.error);
    }
  }
}
