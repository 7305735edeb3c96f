// One apply's plan (actors/host/device_config_plan.hpp): the writes
// device_config's worker does, in which order, from the files as read.
#include "actors/host/device_config_plan.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::boot_config;

namespace {

// The table keys as a device starts with them.
env_map defaults() {
  env_map out;
  for (const auto& k : config_keys())
    out[k.var] = k.default_value;
  return out;
}

} // namespace

TEST_SUITE("device config apply plan") {
  TEST_CASE("a key that needs a reboot has its breadcrumb first; then "
            "config.json, the boot breadcrumb and each backend's files, up "
            "to one that cannot write") {
    auto all = make_backends();
    // A Pi without a splash logo: the splash backend cannot write.
    file_map files{{"config.txt", std::string("gpu_mem=16\n")}};
    auto target = effective_target({{"SUPERVISOR_PERSISTENT_LOGGING", "true"},
                                    {"HOST_CONFIG_gpu_mem", "64"}},
                                   false);
    auto p = plan_apply(all, {"raspberrypi4-64", std::nullopt}, files,
                        defaults(), target, "/data/config.json");

    CHECK(p.keys_breadcrumb);
    CHECK(p.keys.changes.at("SUPERVISOR_PERSISTENT_LOGGING") == "true");
    REQUIRE(p.steps.size() == 3);
    REQUIRE(p.config_json_step == size_t{0});
    const auto& json = std::get<config_json_rewrite>(p.steps[0]);
    CHECK(json.path == "/data/config.json");
    CHECK(std::get<bool>(json.edit.set.at("persistentLogging")));
    CHECK(std::holds_alternative<breadcrumb_touch>(p.steps[1]));
    CHECK(p.boot_reboot);
    CHECK(p.boot_changed == env_map{{"HOST_CONFIG_gpu_mem", "64"}});
    REQUIRE(p.boot.size() == 2);
    CHECK(p.boot[0].error.empty());
    REQUIRE(p.boot[0].step == 2);
    const auto& txt = std::get<boot_files_write>(p.steps[2]);
    CHECK(txt.ends_job);
    CHECK(
      txt.files
      == std::map<std::string, std::string>{{"config.txt", "gpu_mem=64\n"}});
    CHECK(p.boot[1].error
          == "Failed to read file splash/balena-logo-default.png");
  }

  TEST_CASE("the files already as the target: no writes; an unreadable "
            "backend is an error that writes nothing") {
    auto all = make_backends();
    file_map files{{"config.txt", std::string("gpu_mem=16\n")}};
    auto same = plan_apply(
      all, {"raspberrypi4-64", std::nullopt}, files, defaults(),
      effective_target({{"HOST_CONFIG_gpu_mem", "16"}}, false), "");
    CHECK(same.keys.changes.empty());
    CHECK_FALSE(same.boot_change);
    CHECK(same.steps.empty());

    auto jetson = plan_apply(
      all, {"jetson-tx2", std::string("2.31.0")}, {}, defaults(),
      effective_target({{"HOST_EXTLINUX_isolcpus", "1"}}, false), "");
    CHECK(jetson.boot_error
          == "Could not find extlinux file. Device is possibly bricked");
    CHECK(jetson.steps.empty());
  }
}
