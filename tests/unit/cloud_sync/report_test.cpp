// The state report: device fields, the apps section from app_manager's view,
// the diff against the last accepted report and its JSON.
#include "actors/cloud/report_build.hpp"
#include "api/cloud/report_codec.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace bosun;
namespace cr = bosun::cloud_report;

namespace {

const std::string app_uuid = "d149c5d1551b4286a930d57284a02511";

target_state target_with(const std::string& commit, int64_t release_id) {
  target_state t;
  t.device_uuid = "dev1";
  target_app a;
  a.uuid = app_uuid;
  a.app_id = 1011165;
  a.name = "myfleet";
  a.commit = commit;
  a.release_id = release_id;
  for (auto [name, image] : {std::pair{"db", "reg/db@sha256:" + commit},
                             std::pair{"web", "reg/web@sha256:" + commit}}) {
    target_service s;
    s.name = name;
    s.image = image;
    a.services.push_back(s);
  }
  t.apps.push_back(a);
  return t;
}

service_view service(const std::string& name, const std::string& status,
                     int64_t release_id, const std::string& container = "c",
                     const std::string& image = "") {
  service_view v;
  v.app_id = 1011165;
  v.app_uuid = app_uuid;
  v.service_name = name;
  v.release_id = release_id;
  v.status = status;
  v.container_id = container.empty() ? "" : container + name;
  v.image = image;
  v.image_status = "Downloaded";
  return v;
}

apps_view view_with(std::vector<service_view> services,
                    const std::string& current, const std::string& commit,
                    int64_t release_id, const std::string& update = "done") {
  apps_view v;
  app_view a;
  a.app_id = 1011165;
  a.uuid = app_uuid;
  a.commit = commit;
  a.release_id = release_id;
  a.current_commit = current;
  a.update_status = update;
  a.services = std::move(services);
  v.apps.push_back(a);
  return v;
}

device_report report_with(std::map<std::string, report_value> device,
                          std::optional<report_apps> apps = std::nullopt) {
  device_report r;
  r.device = std::move(device);
  r.apps = std::move(apps);
  return r;
}

} // namespace

TEST_SUITE("state report apps") {
  TEST_CASE("a device at its target reports one release with running "
            "services and release_uuid") {
    auto t = target_with("c2", 2);
    auto v = view_with({service("db", "Running", 2, "c", "reg/db@sha256:c2"),
                        service("web", "Running", 2, "c", "reg/web@sha256:c2")},
                       "c2", "c2", 2);
    auto apps = cr::build_apps(v, t);
    REQUIRE(apps.count(app_uuid) == 1);
    auto& app = apps.at(app_uuid);
    CHECK(app.release_uuid == std::optional<std::string>("c2"));
    REQUIRE(app.releases.size() == 1);
    auto& rel = app.releases.at("c2");
    CHECK(rel.update_status == "done");
    CHECK(rel.services.at("web").status == "Running");
    CHECK(rel.services.at("web").image == "reg/web@sha256:c2");
    CHECK_FALSE(rel.services.at("web").download_progress);
  }

  TEST_CASE("during an update the old release keeps its containers and the "
            "new one shows the downloads with progress") {
    auto t = target_with("c2", 2);
    auto web = service("web", "Running", 1, "c", "reg/web@sha256:c2");
    web.image_status = "Downloading";
    web.download_progress = 42;
    auto db = service("db", "Running", 1, "c", "reg/db@sha256:c2");
    db.image_status = "Downloaded";
    auto v = view_with({db, web}, "c1", "c2", 2, "downloading");
    cr::known_images old{{"c1", {{"web", "reg/web@sha256:c1"}}}};
    auto apps = cr::build_apps(v, t, old);
    auto& app = apps.at(app_uuid);
    CHECK(app.release_uuid == std::optional<std::string>("c1"));
    REQUIRE(app.releases.size() == 2);
    auto& before = app.releases.at("c1");
    CHECK(before.services.at("web").status == "Running");
    CHECK(before.services.at("web").image == "reg/web@sha256:c1");
    CHECK(before.update_status == "done");
    auto& next = app.releases.at("c2");
    CHECK(next.services.at("web").status == "Downloading");
    CHECK(next.services.at("web").download_progress == 42);
    CHECK(next.services.at("db").status == "Downloaded");
    CHECK_FALSE(next.services.at("db").download_progress);
    CHECK(next.update_status == "downloading");
  }

  TEST_CASE("a target service with no image yet is Downloading at 0") {
    auto t = target_with("c1", 1);
    auto web = service("web", "Downloading", 1, "", "reg/web@sha256:c1");
    web.image_status = "Downloading";
    web.download_progress = 0;
    auto db = service("db", "Installing", 1, "", "reg/db@sha256:c1");
    auto apps = cr::build_apps(view_with({db, web}, "", "c1", 1), t);
    auto& app = apps.at(app_uuid);
    CHECK_FALSE(app.release_uuid);
    auto& rel = app.releases.at("c1");
    CHECK(rel.services.at("web").download_progress == 0);
    CHECK(rel.services.at("db").status == "Installing");
    CHECK(rel.update_status == "downloading");
  }

  TEST_CASE("a hand-over shows both containers of a service") {
    auto t = target_with("c2", 2);
    auto next
      = service("web", "Awaiting handover", 2, "n", "reg/web@sha256:c2");
    auto old = service("web", "Handing over", 1, "o", "reg/web@sha256:c1");
    old.in_target = false;
    auto db = service("db", "Running", 2, "c", "reg/db@sha256:c2");
    auto apps = cr::build_apps(view_with({db, next, old}, "c1", "c2", 2), t);
    auto& app = apps.at(app_uuid);
    CHECK(app.releases.at("c2").services.at("web").status
          == "Awaiting handover");
    CHECK(app.releases.at("c2").update_status == "applying changes");
    CHECK(app.releases.at("c1").services.at("web").status == "Handing over");
  }

  TEST_CASE("only apps of the target are reported; the view's aborted "
            "status is kept") {
    auto t = target_with("c1", 1);
    auto v = view_with({service("web", "exited", 1)}, "c1", "c1", 1, "aborted");
    app_view gone;
    gone.app_id = 7;
    gone.uuid = "gone";
    gone.services.push_back(service("x", "Running", 3));
    v.apps.push_back(gone);
    auto apps = cr::build_apps(v, t);
    CHECK(apps.size() == 1);
    CHECK(apps.at(app_uuid).releases.at("c1").update_status == "aborted");
  }

  TEST_CASE("the balena Supervisor's own app is always Running") {
    target_state t;
    target_app a;
    a.uuid = "52e35121417640b1b28a680504e4039b";
    a.app_id = 1667442;
    a.commit = "9a8b";
    a.release_id = 2000;
    target_service s;
    s.name = "balena-supervisor";
    s.image = "registry2/supervisor";
    a.services.push_back(s);
    t.apps.push_back(a);
    apps_view v; // bosun never installs it
    auto apps = cr::build_apps(v, t);
    auto& rel = apps.at(a.uuid).releases.at("9a8b");
    CHECK(rel.services.at("balena-supervisor").status == "Running");
    CHECK(rel.update_status == "done");
  }
}

TEST_SUITE("state report diff") {
  TEST_CASE("everything is sent the first time") {
    auto cur = report_with(
      {{"api_port", int64_t{48484}}, {"status", std::string("Idle")}},
      report_apps{{"a", report_app{}}});
    auto p = cr::diff(cur, nullptr);
    CHECK(p == cur);
  }

  TEST_CASE("only changed device keys are sent; apps whole when anything in "
            "it changed") {
    report_apps apps{{"a", report_app{}}};
    apps["a"].releases["c1"].services["web"] = {"img", "Running", {}};
    auto last = report_with(
      {{"api_port", int64_t{48484}}, {"ip_address", std::string("10.0.0.2")}},
      apps);
    auto cur = last;
    cur.device["ip_address"] = std::string("10.0.0.3");
    auto p = cr::diff(cur, &last);
    CHECK(p.device.size() == 1);
    CHECK(p.device.at("ip_address") == report_value{std::string("10.0.0.3")});
    CHECK_FALSE(p.apps);

    cur.apps->at("a").releases["c1"].services["db"]
      = {"img2", "Installing", {}};
    p = cr::diff(cur, &last);
    REQUIRE(p.apps);
    CHECK(*p.apps == *cur.apps); // whole, both services
  }

  TEST_CASE("an unchanged report gives an empty diff; removed keys and empty "
            "apps are not sent") {
    auto last = report_with({{"cpu_temp", int64_t{48}}, {"x", true}},
                            report_apps{{"a", report_app{}}});
    auto cur = report_with({{"x", true}}, report_apps{});
    auto p = cr::diff(cur, &last);
    CHECK(cr::empty(p));
    CHECK(cr::empty(cr::diff(last, &last)));
  }

  TEST_CASE("a diff of metric keys only is metrics-only") {
    auto last = report_with({{"cpu_usage", int64_t{20}}, {"x", true}});
    auto cur = report_with({{"cpu_usage", int64_t{40}}, {"x", true}});
    auto p = cr::diff(cur, &last);
    CHECK(cr::metrics_only(p));
    cur.device["x"] = false;
    CHECK_FALSE(cr::metrics_only(cr::diff(cur, &last)));
    CHECK_FALSE(cr::metrics_only(device_report{}));
  }

  TEST_CASE("an accepted patch is folded into the last report") {
    auto last = report_with({{"a", int64_t{1}}, {"b", int64_t{2}}});
    auto patch = report_with({{"b", int64_t{3}}}, report_apps{});
    cr::merge(last, patch);
    CHECK(last.device.at("a") == report_value{int64_t{1}});
    CHECK(last.device.at("b") == report_value{int64_t{3}});
    CHECK(last.apps == std::optional<report_apps>(report_apps{}));
  }

  TEST_CASE("device fields: constants, identity and the metrics present") {
    cr::device_identity id;
    id.api_secret = "k";
    id.os_version = "Debian";
    host_facts h;
    h.ip_address = "10.0.0.2";
    h.mac_address = "AA:BB";
    h.memory_total = 4000;
    auto f = cr::device_fields(id, h, false);
    CHECK(f.at("status") == report_value{std::string("Idle")});
    CHECK(f.at("supervisor_version") == report_value{std::string("19.0.5")});
    CHECK(f.at("provisioning_progress") == report_value{std::monostate{}});
    CHECK(f.at("logs_channel") == report_value{std::monostate{}});
    CHECK(f.at("memory_total") == report_value{int64_t{4000}});
    CHECK(f.count("cpu_usage") == 0);
    CHECK(f.at("is_undervolted") == report_value{false});
    CHECK(cr::device_fields(id, h, true).count("logs_channel") == 0);
    auto off = cr::device_fields(id, h, false, false);
    CHECK(off.at("memory_total") == report_value{std::monostate{}});
    CHECK(off.at("cpu_usage") == report_value{std::monostate{}});
  }
}

TEST_SUITE("state report JSON") {
  TEST_CASE("the patch is nested under the device uuid, in state.md's "
            "shape") {
    report_apps apps;
    auto& rel = apps[app_uuid].releases["c2"];
    apps[app_uuid].release_uuid = "c1";
    rel.update_status = "downloading";
    rel.services["db"] = {"reg/db", "Downloading", 42};
    rel.services["web"] = {"reg/web", "Running", {}};
    auto patch = report_with({{"api_port", int64_t{48484}},
                              {"logs_channel", std::monostate{}},
                              {"is_undervolted", false},
                              {"ip_address", std::string("10.0.0.2")}},
                             apps);
    auto json = cloud::encode_state_report("dev1", patch);
    rapidjson::Document d;
    REQUIRE_FALSE(d.Parse(json.c_str()).HasParseError());
    REQUIRE(d.HasMember("dev1"));
    auto& dev = d["dev1"];
    CHECK(dev["api_port"].GetInt() == 48484);
    CHECK(dev["logs_channel"].IsNull());
    CHECK(dev["is_undervolted"].IsFalse());
    auto& app = dev["apps"][app_uuid.c_str()];
    CHECK(std::string(app["release_uuid"].GetString()) == "c1");
    auto& svc = app["releases"]["c2"]["services"];
    CHECK(svc["db"]["download_progress"].GetInt() == 42);
    CHECK_FALSE(svc["web"].HasMember("download_progress"));
    CHECK(std::string(app["releases"]["c2"]["update_status"].GetString())
          == "downloading");
    CHECK(json.rfind(R"({"dev1":{"api_port":48484,)", 0) == 0);
  }

  TEST_CASE("a device-only patch has no apps key") {
    auto json = cloud::encode_state_report(
      "u", report_with({{"ip_address", std::string("1.2.3.4")}}));
    CHECK(json == R"({"u":{"ip_address":"1.2.3.4"}})");
  }
}
