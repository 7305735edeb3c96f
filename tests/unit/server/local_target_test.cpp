// GET /v2/local/target-state's answer (api/server/local_target.hpp): the
// device's current config, its name, the apps a key may see, services as a
// list; and a client posting name and config back changes nothing.
#include "api/cloud/target_codec.hpp"
#include "api/server/local_target.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

namespace bosun::api {
namespace {

std::vector<device_config_var> known() {
  config cfg;
  cfg.local_mode = true;
  cfg.app_update_poll_interval = std::chrono::milliseconds(60000);
  return device_config_vars(cfg);
}

target_app app(int64_t id, const std::string& secret) {
  target_app a;
  a.app_id = id;
  a.uuid = std::to_string(id);
  a.name = "app" + std::to_string(id);
  a.commit = "c1";
  a.release_id = 1;
  target_service s;
  s.name = "main";
  s.service_id = id * 10;
  s.image_id = id * 100;
  s.image = "img";
  s.config.environment["SECRET"] = secret;
  s.config.labels["l"] = "v";
  a.services.push_back(s);
  return a;
}

target_state two_apps() {
  target_state t;
  t.source = target_source::local;
  t.apps = {app(81, "s81"), app(82, "s82")};
  return t;
}

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

TEST_CASE("current_config: every known var, defaults included; a target's "
          "value where it sets one; local mode as the device is") {
  auto c = current_config(known(), {});
  CHECK(c.at("SUPERVISOR_POLL_INTERVAL") == "60000");
  CHECK(c.at("SUPERVISOR_INSTANT_UPDATE_TRIGGER") == "true");
  CHECK(c.at("SUPERVISOR_HARDWARE_METRICS") == "true");
  CHECK(c.at("SUPERVISOR_LOG_CONTROL") == "true");
  CHECK(c.at("SUPERVISOR_OVERRIDE_LOCK") == "false");
  CHECK(c.at("SUPERVISOR_LOCAL_MODE") == "true");
  CHECK(c.at("SUPERVISOR_PERSISTENT_LOGGING") == "false");
  CHECK(c.at("SUPERVISOR_API_REQUEST_TIMEOUT") == "59000");
  CHECK(c.size() == known().size());

  c = current_config(known(), {{"SUPERVISOR_POLL_INTERVAL", "120000"},
                               {"SUPERVISOR_LOCAL_MODE", "false"},
                               {"SUPERVISOR_PERSISTENT_LOGGING", "true"},
                               {"OVERRIDE_LOCK", "1"},
                               {"HOST_FIREWALL_MODE", "on"}});
  CHECK(c.at("SUPERVISOR_POLL_INTERVAL") == "120000");
  // Only bosun's own configuration sets these.
  CHECK(c.at("SUPERVISOR_LOCAL_MODE") == "true");
  CHECK(c.at("SUPERVISOR_PERSISTENT_LOGGING") == "false");
  // The legacy name, as balena maps it; other vars kept as given.
  CHECK(c.at("SUPERVISOR_OVERRIDE_LOCK") == "1");
  CHECK(c.at("OVERRIDE_LOCK") == "1");
  CHECK(c.at("HOST_FIREWALL_MODE") == "on");
}

TEST_CASE("posting the config back leaves it as it was") {
  auto first = current_config(known(), {});
  // The target now holds every var with its current value.
  CHECK(current_config(known(), first) == first);
}

TEST_CASE("the answer: the device's name, its config, services as a list, "
          "the apps in scope") {
  auto body = encode_local_target_state(two_apps(), "local", known(),
                                        auth::scope::everything());
  auto d = parse(body);
  const auto& local = d["state"]["local"];
  CHECK(std::string(local["name"].GetString()) == "local");
  CHECK(std::string(local["config"]["SUPERVISOR_LOCAL_MODE"].GetString())
        == "true");
  CHECK(std::string(local["config"]["SUPERVISOR_POLL_INTERVAL"].GetString())
        == "60000");
  const auto& services = local["apps"]["81"]["services"];
  REQUIRE(services.IsArray());
  REQUIRE(services.Size() == 1);
  const auto& s = services[0];
  CHECK(std::string(s["serviceName"].GetString()) == "main");
  CHECK(s["serviceId"].GetInt() == 810);
  CHECK(s["imageId"].GetInt() == 8100);
  CHECK(std::string(s["image"].GetString()) == "img");
  CHECK(std::string(s["environment"]["SECRET"].GetString()) == "s81");
  CHECK(std::string(s["labels"]["l"].GetString()) == "v");
  CHECK(s["running"].GetBool());
  CHECK(local["apps"].HasMember("82"));

  // An app key sees its own app only.
  auto mine = encode_local_target_state(two_apps(), "local", known(),
                                        auth::scope{false, {81}});
  CHECK(mine.find("s81") != std::string::npos);
  CHECK(mine.find("s82") == std::string::npos);
  CHECK_FALSE(parse(mine)["state"]["local"]["apps"].HasMember("82"));

  // No target yet: an empty one, still named and configured.
  auto none = parse(encode_local_target_state(std::nullopt, "local", known(),
                                              auth::scope::everything()));
  CHECK(std::string(none["state"]["local"]["name"].GetString()) == "local");
  CHECK(none["state"]["local"]["apps"].ObjectEmpty());
  CHECK(none["state"]["local"]["config"].MemberCount() == known().size());
}

TEST_CASE("the answer posted back whole decodes to the same target, config "
          "and name filled in") {
  auto t = two_apps();
  auto body
    = encode_local_target_state(t, "local", known(), auth::scope::everything());
  auto back = cloud::decode_local_target(body);
  REQUIRE_MESSAGE(back, back.error.to_string());
  CHECK(back->target.apps == t.apps);
  CHECK(back->target.device_name == "local");
  CHECK(back->target.config == current_config(known(), {}));
}

} // namespace
} // namespace bosun::api
