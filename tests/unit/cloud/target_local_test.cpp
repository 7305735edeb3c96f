// Local mode: the v2 target the balena CLI posts, and the GET answer that it
// reads and posts back.
#include "api/cloud/target_codec.hpp"
#include "util.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

using namespace bosun;
using namespace bosun::cloud;
using namespace bosun::cloud::test;

using strings = std::vector<std::string>;
using string_map = std::map<std::string, std::string>;

TEST_SUITE("local target") {
  TEST_CASE("decodes the target the balena CLI posts") {
    auto r = decode_local_target(load("local_cli.json"));
    REQUIRE_MESSAGE(r, r.error.to_string());
    const auto& t = r->target;
    CHECK(t.source == target_source::local);
    CHECK(t.device_uuid.empty());
    CHECK(t.device_name == "local");
    CHECK(t.config
          == string_map{{"SUPERVISOR_LOCAL_MODE", "true"},
                        {"SUPERVISOR_POLL_INTERVAL", "900000"}});
    REQUIRE(t.apps.size() == 1);
    const auto& app = t.apps[0];
    CHECK(app.uuid == "1"); // the decimal appId
    CHECK(app.app_id == 1);
    CHECK(app.name == "localapp");
    CHECK(app.klass == app_class::fleet);
    CHECK(app.commit == "10ca12e1ea5e");
    CHECK(app.release_id == 1);
    CHECK(app.volumes.empty());
    REQUIRE(app.networks.size() == 1);
    CHECK(app.networks[0].name == "default");
    CHECK(app.networks[0].driver == "bridge");
    CHECK(app.networks[0].ipam.config.empty());

    REQUIRE(app.services.size() == 2);
    const auto& alpha = app.services[0];
    CHECK(alpha.name == "alpha");
    CHECK(alpha.service_id == 1);
    CHECK(alpha.image_id == 1);
    CHECK(alpha.image == "local_image_alpha:latest");
    CHECK(alpha.running);
    CHECK_FALSE(alpha.config.command); // null → the image's
    CHECK(alpha.config.networks.size() == 1);
    CHECK(alpha.config.networks.count("default") == 1);
    CHECK(alpha.config.restart == restart_mode::unless_stopped);
    CHECK(alpha.config.privileged);
    REQUIRE(alpha.config.ports.size() == 1);
    CHECK(alpha.config.ports[0].host == port_range{8080, 8080});
    CHECK(alpha.config.ports[0].container == port_range{80, 80});

    const auto& beta = app.services[1];
    CHECK(beta.name == "beta");
    CHECK(beta.service_id == 2);
    CHECK(beta.image_id == 2);
    CHECK(beta.config.environment == string_map{{"FOO", "bar"}});
    CHECK(beta.config.labels == string_map{{"io.resin.local.image", "1"}});
    CHECK(beta.config.command
          == std::optional<strings>({"sh", "-c", "echo $HOME && sleep 1"}));
    CHECK(beta.config.cap_add == strings{"NET_ADMIN"});
    CHECK(beta.config.network_mode == "host");
    REQUIRE(beta.config.depends_on.size() == 1);
    CHECK(beta.config.depends_on[0].service == "alpha");

    REQUIRE(r->warnings.size() == 1);
    CHECK(r->warnings[0].to_string()
          == "local.apps.1.services.2.build: unsupported compose key, "
             "ignored");
  }

  TEST_CASE("accepts api.md's example with every id spelling") {
    auto r = decode_local_target(
      R"({"local":{"name":"n","config":{},"apps":{"1":{"name":"a",)"
      R"("commit":"c","releaseId":"1","services":{"1":{"serviceName":"one",)"
      R"("imageId":1,"serviceId":1,"image":"img:latest","environment":{},)"
      R"("labels":{},"running":true,"network_mode":"host"}},)"
      R"("volumes":{},"networks":{}}}}})");
    REQUIRE_MESSAGE(r, r.error.to_string());
    const auto& s = r->target.apps.at(0).services.at(0);
    CHECK(s.name == "one");
    CHECK(s.config.network_mode == "host");
  }

  TEST_CASE("the serviceId defaults to the service's key") {
    auto r = decode_local_target(
      R"({"local":{"apps":{"7":{"name":"a","commit":"c","releaseId":3,)"
      R"("services":{"42":{"serviceName":"s","imageId":5,"image":"i"}}}}}})");
    REQUIRE_MESSAGE(r, r.error.to_string());
    CHECK(r->target.apps.at(0).uuid == "7");
    CHECK(r->target.apps.at(0).services.at(0).service_id == 42);
    CHECK(r->target.device_name.empty());
    CHECK(r->target.config.empty());
  }

  TEST_CASE("invalid local targets name the path and the rule") {
    struct row {
      std::string doc;
      std::string error;
    };
    auto app = [](const std::string& body) {
      return R"({"local":{"apps":{"1":{"name":"a","commit":"c",)"
             R"("releaseId":1,"services":{"1":)"
             + body + "}}}}}";
    };
    row rows[] = {
      {"{}", "local: missing"},
      {R"({"local":[]})", "local: expected an object"},
      {R"({"local":{"name":"a\nb"}})",
       "local.name: must be at most 255 characters without newlines"},
      {R"({"local":{"config":{"bad-key":"1"}}})",
       R"(local.config."bad-key": config var name must match ^[A-Za-z_][A-Za-z0-9_:]*$)"},
      {R"({"local":{"apps":{"x":{}}}})",
       "local.apps.x: app key must be the numeric appId"},
      {R"({"local":{"apps":{"1":{"commit":"c","releaseId":1}}}})",
       "local.apps.1.name: missing"},
      {R"({"local":{"apps":{"1":{"name":"a","releaseId":1}}}})",
       "local.apps.1.commit: missing"},
      {R"({"local":{"apps":{"1":{"name":"a","commit":"c"}}}})",
       "local.apps.1.releaseId: missing"},
      {R"({"local":{"apps":{"1":{"name":"a","commit":"c","releaseId":"x"}}}})",
       "local.apps.1.releaseId: expected an integer or numeric string"},
      {app(R"({"imageId":1,"image":"i"})"),
       "local.apps.1.services.1.serviceName: missing"},
      {app(R"({"serviceName":"a b","imageId":1,"image":"i"})"),
       "local.apps.1.services.1.serviceName: service name must match "
       "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"},
      {app(R"({"serviceName":"s","image":"i"})"),
       "local.apps.1.services.1.imageId: missing"},
      {app(R"({"serviceName":"s","imageId":1,"image":"i",)"
           R"("environment":{"1BAD":"x"}})"),
       R"(local.apps.1.services.1.environment."1BAD": env var name must match ^[A-Za-z_]\w*$)"},
      {app(R"({"serviceName":"s","imageId":1,"image":"i",)"
           R"("networks":{"backend":null}})"),
       "local.apps.1.services.1.networks.backend: network not defined in "
       "the release"},
      {app(R"({"serviceName":"s","imageId":1,"image":"i","capAdd":"X"})"),
       "local.apps.1.services.1.capAdd: expected an array of strings"},
      {app("[]"), "local.apps.1.services.1: expected an object"},
      // The list form (GET's answer) names each item's serviceId.
      {R"({"local":{"apps":{"1":{"name":"a","commit":"c","releaseId":1,)"
       R"("services":[{"serviceName":"s","imageId":1,"image":"i"}]}}}})",
       "local.apps.1.services[0].serviceId: missing"},
      {R"({"local":{"apps":{"1":{"name":"a","commit":"c","releaseId":1,)"
       R"("services":[3]}}}})",
       "local.apps.1.services[0]: expected an object"},
      {R"({"local":{"apps":{"1":{"name":"a","commit":"c","releaseId":1,)"
       R"("services":"x"}}}})",
       "local.apps.1.services: expected an object keyed by serviceId or a "
       "list"},
    };
    for (const auto& r : rows) {
      CAPTURE(r.doc);
      CHECK(error_of(decode_local_target(r.doc)) == r.error);
    }
  }

  TEST_CASE("GET answer: the CLI replaces local.apps and posts it back") {
    auto posted = decode_local_target(load("local_cli.json"));
    REQUIRE(posted);
    auto get = encode_local_target(posted->target);

    rapidjson::Document d;
    d.Parse(get.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["status"].GetString()) == "success");
    const auto& local = d["state"]["local"];
    CHECK(std::string(local["name"].GetString()) == "local");
    CHECK(std::string(local["config"]["SUPERVISOR_LOCAL_MODE"].GetString())
          == "true");
    const auto& app = local["apps"]["1"];
    CHECK(std::string(app["commit"].GetString()) == "10ca12e1ea5e");
    // services is a list, as the balena Supervisor answers (clients
    // iterate it), sorted by name; each names its serviceId.
    REQUIRE(app["services"].IsArray());
    REQUIRE(app["services"].Size() == 2);
    CHECK(std::string(app["services"][0]["serviceName"].GetString())
          == "alpha");
    const auto& beta = app["services"][1];
    CHECK(std::string(beta["serviceName"].GetString()) == "beta");
    CHECK(beta["serviceId"].GetInt() == 2);
    CHECK(beta["environment"].IsObject());
    CHECK(beta["labels"].IsObject());
    CHECK(beta["running"].IsBool());
    CHECK(beta["imageId"].GetInt() == 2);
    CHECK(std::string(beta["network_mode"].GetString()) == "host");

    // The GET answer decodes back to the same target...
    auto back = decode_local_target(get);
    REQUIRE_MESSAGE(back, back.error.to_string());
    CHECK(back->target == posted->target);
    CHECK(back->warnings.empty());

    // ...and so does the CLI's edit: local.apps replaced, the rest unchanged.
    rapidjson::Document cli;
    cli.Parse(get.c_str());
    rapidjson::Document body;
    body.SetObject();
    rapidjson::Value local_copy(cli["state"]["local"], body.GetAllocator());
    local_copy["apps"].SetObject();
    body.AddMember("local", local_copy, body.GetAllocator());
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    body.Accept(w);
    auto emptied = decode_local_target(sb.GetString());
    REQUIRE_MESSAGE(emptied, emptied.error.to_string());
    CHECK(emptied->target.apps.empty());
    CHECK(emptied->target.device_name == "local");
    CHECK(emptied->target.config == posted->target.config);
  }
}
