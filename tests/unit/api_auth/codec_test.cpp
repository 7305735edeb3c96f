// The device API's codecs (api/server/api_codec.hpp) and the apps view
// (actors/apps/app_view.hpp): balena's input checks and answer shapes.
#include "actors/apps/app_view.hpp"
#include "api/server/api_codec.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace bosun;
using namespace bosun::api;

namespace {

fields decoded(std::string_view body, std::string_view type = "") {
  auto r = decode_fields(body, type);
  REQUIRE_MESSAGE(std::holds_alternative<fields>(r), std::get<std::string>(r));
  return std::get<fields>(r);
}

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  REQUIRE_MESSAGE(!d.HasParseError(), s);
  return d;
}

// One app: web (running container), worker (image downloading).
apps_view sample_view() {
  apps_view v;
  app_view a;
  a.app_id = 7;
  a.uuid = "u7";
  a.name = "app7";
  a.commit = "c2";
  a.current_commit = "c1";
  a.release_id = 2;
  service_view web;
  web.app_id = 7;
  web.app_uuid = "u7";
  web.service_name = "web";
  web.service_id = 1;
  web.image_id = 11;
  web.release_id = 2;
  web.image = "reg/web@sha256:1";
  web.docker_image_id = "sha256:aaa";
  web.container_id = "cid-web";
  web.created_at = "2026-01-02T03:04:05.123456789Z";
  web.status = "Running";
  web.image_status = "Downloaded";
  web.env
    = {"A=b", "BALENA_SUPERVISOR_API_KEY=secret", "RESIN_API_KEY=x", "EMPTY="};
  service_view worker = web;
  worker.service_name = "worker";
  worker.service_id = 2;
  worker.image_id = 12;
  worker.image = "reg/worker@sha256:2";
  worker.docker_image_id.clear();
  worker.container_id.clear();
  worker.created_at.clear();
  worker.status = "Downloading";
  worker.image_status = "Downloading";
  worker.download_progress = 40;
  worker.env.clear();
  a.services = {web, worker};
  a.update_status = "downloading";
  app_view b;
  b.app_id = 8;
  b.uuid = "u8";
  b.name = "app8";
  b.commit = "d1";
  b.current_commit = "d1";
  b.release_id = 5;
  service_view db = web;
  db.app_id = 8;
  db.app_uuid = "u8";
  db.service_name = "db";
  db.container_id = "cid-db";
  db.image_id = 21;
  db.download_progress.reset();
  b.services = {db};
  v.apps = {a, b};
  return v;
}

} // namespace

TEST_SUITE("api codec: request bodies") {
  TEST_CASE("JSON objects, forms and empty bodies give typed fields") {
    auto f = decoded(
      R"({"appId":7,"force":true,"serviceName":"web","imageId":"12","x":null,"o":{}})",
      "application/json");
    CHECK(f.at("appId").type == field::kind::number);
    CHECK(f.at("appId").text == "7");
    CHECK(f.at("force").type == field::kind::boolean);
    CHECK(f.at("serviceName").text == "web");
    CHECK(f.at("x").type == field::kind::null);
    CHECK(f.at("o").type == field::kind::other);
    CHECK(decoded("").empty());
    CHECK(decoded("  \n").empty());
    auto form = decoded("appId=7&force=1&serviceName=a+b",
                        "application/x-www-form-urlencoded; charset=utf-8");
    CHECK(form.at("appId").text == "7");
    CHECK(form.at("serviceName").text == "a b");
    CHECK(decoded("{\"appId\":7.0}").at("appId").text == "7");
  }

  TEST_CASE("malformed bodies are refused with a message") {
    for (auto body : {"{", "[1,2]", "\"str\"", "7", "{\"a\":}", "nul"}) {
      CAPTURE(body);
      auto r = decode_fields(body, "application/json");
      CHECK(std::holds_alternative<std::string>(r));
    }
  }

  TEST_CASE("checkInt, checkTruthy and checkString as balena has them") {
    CHECK(check_int("7") == 7);
    CHECK(check_int("-3") == -3);
    CHECK(check_int("7.") == 7);
    CHECK(check_int("7.000") == 7);
    CHECK_FALSE(check_int("7.5"));
    CHECK_FALSE(check_int("7a"));
    CHECK_FALSE(check_int(""));
    CHECK_FALSE(check_int("-"));
    CHECK_FALSE(check_int(" 7"));
    CHECK_FALSE(check_int("99999999999999999999999"));
    auto f = decoded(
      R"({"a":"1","b":"TRUE","c":"on","d":1,"e":true,"f":"yes","g":0,"h":false,"s":"null","t":"","u":5,"v":"web"})");
    for (auto k : {"a", "b", "c", "d", "e"})
      CHECK_MESSAGE(check_truthy(f, k), k);
    for (auto k : {"f", "g", "h", "missing"})
      CHECK_FALSE_MESSAGE(check_truthy(f, k), k);
    CHECK(check_int(f, "d") == 1);
    CHECK_FALSE(check_int(f, "e"));
    CHECK(check_string(f, "v") == std::optional<std::string>("web"));
    CHECK_FALSE(check_string(f, "s"));
    CHECK_FALSE(check_string(f, "t"));
    CHECK_FALSE(check_string(f, "u")); // a number is not a string
  }

  TEST_CASE("tags: an object of strings with names free of whitespace") {
    auto ok = decode_tags(R"({"zone":"eu","floor":"2"})", "application/json");
    REQUIRE(std::holds_alternative<std::map<std::string, std::string>>(ok));
    CHECK(std::get<0>(ok).at("zone") == "eu");
    auto invalid = std::string("Invalid tags body, must be an object like "
                               "`{[tagKey: string]: string}`");
    CHECK(std::get<1>(decode_tags(R"({"n":1})", "")) == invalid);
    CHECK(std::get<1>(decode_tags(R"(["a"])", "")) == invalid);
    CHECK(std::get<1>(decode_tags("{", "")) == invalid);
    CHECK(std::get<1>(decode_tags(R"({"a b":"x"})", ""))
          == "Tag keys cannot contain whitespace");
  }
}

TEST_SUITE("api codec: answers") {
  TEST_CASE("version, device info and name") {
    CHECK(encode_version() == R"({"status":"success","version":"19.0.5"})");
    device_details d;
    d.arch = "amd64";
    d.device_type = "generic-amd64";
    d.device_name = "local";
    CHECK(
      encode_device_info(d)
      == R"({"status":"success","info":{"arch":"amd64","deviceType":"generic-amd64"}})");
    CHECK(encode_device_name(d)
          == R"({"status":"success","deviceName":"local"})");
  }

  TEST_CASE("/v2/state/status: the first app, as the balena CLI reads it") {
    auto v = sample_view();
    v.applying = true;
    auto d = parse(encode_state_status(v, auth::scope::everything()));
    CHECK(std::string(d["status"].GetString()) == "success");
    CHECK(std::string(d["appState"].GetString()) == "applying");
    // mean of the non-null progresses of every image in scope: 40
    CHECK(d["overallDownloadProgress"].GetInt() == 40);
    REQUIRE(d["containers"].Size() == 1);
    auto& c = d["containers"][0];
    CHECK(std::string(c["status"].GetString()) == "Running");
    CHECK(std::string(c["serviceName"].GetString()) == "web");
    CHECK(c["appId"].GetInt() == 7);
    CHECK(c["imageId"].GetInt() == 11);
    CHECK(c["serviceId"].GetInt() == 1);
    CHECK(std::string(c["containerId"].GetString()) == "cid-web");
    CHECK(std::string(c["createdAt"].GetString())
          == "2026-01-02T03:04:05.123Z");
    REQUIRE(d["images"].Size() == 2);
    CHECK(std::string(d["images"][1]["status"].GetString()) == "Downloading");
    CHECK(d["images"][1]["downloadProgress"].GetInt() == 40);
    CHECK(d["images"][1]["dockerImageId"].IsNull());
    CHECK(std::string(d["release"].GetString()) == "c1");

    v.applying = false;
    auto only8 = parse(encode_state_status(v, auth::scope{false, {8}}));
    CHECK(std::string(only8["appState"].GetString()) == "applied");
    REQUIRE(only8["containers"].Size() == 1);
    CHECK(only8["containers"][0]["appId"].GetInt() == 8);
    CHECK(only8["overallDownloadProgress"].IsNull());
    auto none = parse(encode_state_status(v, auth::scope{false, {9}}));
    CHECK(none["containers"].Size() == 0);
    CHECK_FALSE(none.HasMember("release"));
  }

  TEST_CASE("/v2/applications/state: by app name, filtered by scope") {
    auto v = sample_view();
    auto all = parse(encode_apps_state(v, auth::scope::everything()));
    REQUIRE(all.HasMember("app7"));
    REQUIRE(all.HasMember("app8"));
    auto& a = all["app7"];
    CHECK(a["appId"].GetInt() == 7);
    CHECK(std::string(a["appUuid"].GetString()) == "u7");
    CHECK(std::string(a["commit"].GetString()) == "c2");
    CHECK(std::string(a["updateStatus"].GetString()) == "downloading");
    CHECK(std::string(a["services"]["web"]["status"].GetString()) == "Running");
    CHECK(a["services"]["web"]["downloadProgress"].IsNull());
    CHECK(a["services"]["web"]["releaseId"].GetInt() == 2);
    CHECK(a["services"]["worker"]["downloadProgress"].GetInt() == 40);
    auto scoped = parse(encode_apps_state(v, auth::scope{false, {8}}));
    CHECK_FALSE(scoped.HasMember("app7"));
    CHECK(scoped.HasMember("app8"));
  }

  TEST_CASE("/v2/applications/:appId/state: keyed by imageId") {
    auto v = sample_view();
    auto body = encode_app_state(v, 7);
    REQUIRE(body);
    auto d = parse(*body);
    CHECK(std::string(d["commit"].GetString()) == "c1");
    auto& s = d["local"]["7"]["services"];
    CHECK(std::string(s["11"]["status"].GetString()) == "Running");
    CHECK(s["11"]["download_progress"].IsNull());
    CHECK(std::string(s["12"]["status"].GetString()) == "Downloading");
    CHECK(s["12"]["download_progress"].GetInt() == 40);
    CHECK_FALSE(encode_app_state(v, 9));
    // Two containers of one image: a hand-over.
    auto old = v.apps[0].services[0];
    old.container_id = "cid-old";
    old.release_id = 1;
    old.in_target = false;
    v.apps[0].services.push_back(old);
    auto h = parse(*encode_app_state(v, 7));
    CHECK(std::string(h["local"]["7"]["services"]["11"]["status"].GetString())
          == "Handing over");
    CHECK(h["local"]["7"]["services"]["11"]["releaseId"].GetInt() == 1);
  }

  TEST_CASE("/v2/containerId: every service, or the one asked for") {
    auto v = sample_view();
    auto d = parse(encode_container_ids(v, auth::scope::everything()));
    CHECK(std::string(d["services"]["web"].GetString()) == "cid-web");
    CHECK(std::string(d["services"]["db"].GetString()) == "cid-db");
    CHECK_FALSE(d["services"].HasMember("worker")); // no container
    CHECK(encode_container_id(v, auth::scope::everything(), "db")
          == std::optional<std::string>(
            R"({"status":"success","containerId":"cid-db"})"));
    CHECK_FALSE(encode_container_id(v, auth::scope{false, {7}}, "db"));
    CHECK_FALSE(encode_container_id(v, auth::scope::everything(), "nope"));
  }

  TEST_CASE("/v1/apps/:appId: single-container apps, private env hidden") {
    auto v = sample_view();
    auto r = encode_legacy_app(v, 7);
    REQUIRE(std::holds_alternative<std::string>(r));
    auto d = parse(std::get<std::string>(r));
    CHECK(d["appId"].GetInt() == 7);
    CHECK(std::string(d["commit"].GetString()) == "c1");
    CHECK(std::string(d["containerId"].GetString()) == "cid-web");
    CHECK(std::string(d["imageId"].GetString()) == "sha256:aaa");
    CHECK(d["releaseId"].GetInt() == 2);
    CHECK(std::string(d["env"]["A"].GetString()) == "b");
    CHECK(std::string(d["env"]["EMPTY"].GetString()).empty());
    CHECK_FALSE(d["env"].HasMember("BALENA_SUPERVISOR_API_KEY"));
    CHECK_FALSE(d["env"].HasMember("RESIN_API_KEY"));
    CHECK(std::get<legacy_app_error>(encode_legacy_app(v, 9)).message
          == "App not found");
    v.apps[0].services[1].container_id = "cid-worker";
    CHECK(std::get<legacy_app_error>(encode_legacy_app(v, 7)).message
          == "Some v1 endpoints are only allowed on single-container apps");
  }

  TEST_CASE("/v1/device: the first service's status, Running as Idle") {
    auto v = sample_view();
    device_details dd;
    dd.os_version = "Debian";
    auto d = parse(encode_legacy_device(v, dd, {"10.0.0.2", "AA:BB"}, 48484));
    CHECK(d["api_port"].GetInt() == 48484);
    CHECK(std::string(d["ip_address"].GetString()) == "10.0.0.2");
    CHECK(std::string(d["mac_address"].GetString()) == "AA:BB");
    CHECK(std::string(d["supervisor_version"].GetString()) == "19.0.5");
    CHECK(std::string(d["status"].GetString()) == "Idle");
    CHECK(std::string(d["commit"].GetString()) == "c1");
    CHECK_FALSE(d["update_pending"].GetBool());
    v.applying = true;
    auto busy = parse(encode_legacy_device(v, dd, {}, 48484));
    CHECK(busy["update_pending"].GetBool());
    CHECK_FALSE(busy.HasMember("commit"));
  }

  TEST_CASE("tags and times") {
    CHECK(
      encode_tags({{1, "zone", "eu"}})
      == R"({"status":"success","tags":[{"id":1,"name":"zone","value":"eu"}]})");
    CHECK(iso_millis("2019-03-11T16:05:34.506123Z")
          == "2019-03-11T16:05:34.506Z");
    CHECK(iso_millis("2019-03-11T16:05:34Z") == "2019-03-11T16:05:34.000Z");
    CHECK(iso_millis("2019-03-11T16:05:34.5Z") == "2019-03-11T16:05:34.500Z");
    CHECK(iso_millis("") == "");
    CHECK(iso_millis("2019-03-11T16:05:34+02:00")
          == "2019-03-11T16:05:34+02:00");
  }
}

TEST_SUITE("apps view: balena's statuses") {
  TEST_CASE("supervisor phases and engine states name statuses") {
    CHECK(status_name(service_phase::running, "running", true) == "Running");
    CHECK(status_name(service_phase::installing, "", false) == "Installing");
    CHECK(status_name(service_phase::starting, "created", true) == "Starting");
    CHECK(status_name(service_phase::stopped, "exited", true) == "exited");
    CHECK(status_name(service_phase::stopped, "created", true) == "Installed");
    CHECK(status_name(service_phase::backing_off, "exited", true)
          == "restarting");
    CHECK(status_name(service_phase::failed, "", false) == "Installing");
    CHECK(engine_status_name("dead") == "Dead");
    CHECK(engine_status_name("paused") == "paused");
  }

  TEST_CASE("update status: aborted > downloading > downloaded > applying") {
    service_view s;
    s.status = "Running";
    CHECK(update_status({s}, false) == "done");
    CHECK(update_status({s}, true) == "aborted");
    auto d = s;
    d.status = "Downloading";
    d.download_progress = 10;
    CHECK(update_status({s, d}, false) == "downloading");
    d.download_progress = 100;
    CHECK(update_status({s, d}, false) == "done");
    d.status = "Downloaded";
    d.download_progress.reset();
    CHECK(update_status({s, d}, false) == "downloaded");
    d.status = "Installing";
    CHECK(update_status({s, d}, false) == "applying changes");
  }

  TEST_CASE("the view joins target, supervisors, engine and downloads") {
    target_state t;
    target_app app;
    app.uuid = "u1";
    app.app_id = 1;
    app.name = "one";
    app.commit = "c1";
    app.release_id = 3;
    target_service web;
    web.name = "web";
    web.service_id = 4;
    web.image_id = 5;
    web.image = "img:web";
    target_service job = web;
    job.name = "job";
    job.image_id = 6;
    job.image = "img:job";
    app.services = {job, web};
    t.apps = {app};
    std::optional<target_state> target = t;

    engine_snapshot snap;
    container_inspect c;
    c.id = "cid1";
    c.name = "/web_5_3_c1";
    c.created = "2026-01-01T00:00:00Z";
    c.state.status = "running";
    c.state.running = true;
    c.image = "sha256:web";
    c.config.env = {"X=1"};
    c.config.labels = {{"io.balena.supervised", "true"},
                       {"io.balena.app-id", "1"},
                       {"io.balena.app-uuid", "u1"},
                       {"io.balena.service-name", "web"},
                       {"io.balena.service-id", "4"}};
    snap.containers = {c};
    snap.images["img:web"].id = "sha256:web";

    apps_bookkeeping books;
    books.commits["u1"] = "c0";
    books.downloading["img:job"] = 25;

    view_inputs in;
    in.target = &target;
    in.snap = &snap;
    in.books = &books;
    in.env = true;
    supervised_service sup;
    sup.status.app_uuid = "u1";
    sup.status.app_id = 1;
    sup.status.service_name = "web";
    sup.status.container_id = "cid1";
    sup.status.phase = service_phase::running;
    in.supervisors = {sup};

    auto v = build_apps_view(in);
    REQUIRE(v.apps.size() == 1);
    auto& a = v.apps[0];
    CHECK(a.current_commit == "c0");
    CHECK(a.update_status == "downloading");
    REQUIRE(a.services.size() == 2);
    auto& j = a.services[0];
    CHECK(j.service_name == "job");
    CHECK(j.status == "Downloading");
    CHECK(j.download_progress == 25);
    CHECK(j.container_id.empty());
    auto& w = a.services[1];
    CHECK(w.status == "Running");
    CHECK(w.container_id == "cid1");
    CHECK(w.docker_image_id == "sha256:web");
    CHECK(w.release_id == 3);
    CHECK(w.env == string_list{"X=1"});
    CHECK(w.image_status == "Downloaded");
    CHECK_FALSE(w.download_progress);

    // A failed attempt shows at once, while the retry's download goes on;
    // the running service keeps its status.
    std::map<std::string, std::string> errors{
      {"img:job", "Failed to download image 'img:job' due to 'refused'"}};
    in.fetch_errors = &errors;
    in.failed = true;
    v = build_apps_view(in);
    REQUIRE(v.apps.size() == 1);
    CHECK(v.update_failed);
    CHECK(v.apps[0].update_status == "aborted");
    CHECK(v.apps[0].services[0].status == "Download failed");
    CHECK(v.apps[0].services[0].image_status == "Download failed");
    CHECK_FALSE(v.apps[0].services[0].download_progress);
    CHECK(v.apps[0].services[1].status == "Running");
  }
}
