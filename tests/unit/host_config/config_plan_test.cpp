// The device-config pipeline's decisions (reference/host.md §6.1-6.3).
#include "actors/host/backends/config_plan.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::boot_config;

TEST_SUITE("device config plan") {
  TEST_CASE("a target's vars lose their prefix (BALENA_ wins) and only "
            "known ones stay") {
    auto all = make_backends();
    auto f = format_config({{"RESIN_SUPERVISOR_POLL_INTERVAL", "1"},
                            {"BALENA_SUPERVISOR_POLL_INTERVAL", "2"},
                            {"SUPERVISOR_POLL_INTERVAL", "3"},
                            {"RESIN_HOST_CONFIG_gpu_mem", "16"},
                            {"BALENA_OVERRIDE_LOCK", "1"},
                            {"RESIN_SUPERVISOR_VPN_CONTROL", "false"},
                            {"HOST_SPLASH_image", ""},
                            {"BALENA_SOMETHING_ELSE", "x"},
                            {"HOST_CONFIGFS_ssdt", "a"},
                            {"MY_APP_VAR", "x"}},
                           all);
    CHECK(f
          == env_map{{"SUPERVISOR_POLL_INTERVAL", "2"},
                     {"HOST_CONFIG_gpu_mem", "16"},
                     {"OVERRIDE_LOCK", "1"},
                     {"SUPERVISOR_OVERRIDE_LOCK", "1"},
                     {"SUPERVISOR_VPN_CONTROL", "false"},
                     {"HOST_SPLASH_image", ""},
                     {"HOST_CONFIGFS_ssdt", "a"}});
  }

  TEST_CASE("the effective target fills every default") {
    auto t = effective_target({{"SUPERVISOR_POLL_INTERVAL", "60000"}}, true);
    CHECK(t.size() == config_keys().size() + 1);
    CHECK(t["SUPERVISOR_POLL_INTERVAL"] == "60000");
    CHECK(t["SUPERVISOR_LOCAL_MODE"] == "true");
    CHECK(t["SUPERVISOR_VPN_CONTROL"] == "true");
    CHECK(t["HOST_FIREWALL_MODE"] == "off");
    CHECK(t["SUPERVISOR_DELTA_RETRY_COUNT"] == "30");
    CHECK(effective_target({}, false)["SUPERVISOR_LOCAL_MODE"] == "false");
  }

  TEST_CASE("values compare by type") {
    CHECK(same(var_type::boolean, "true", "ON"));
    CHECK(same(var_type::boolean, "0", "nonsense"));
    CHECK(same(var_type::integer, "60000", "60000.00"));
    CHECK_FALSE(same(var_type::integer, "60000", "60001"));
    CHECK_FALSE(same(var_type::text, "off", ""));
    CHECK(valid(var_type::integer, " 12abc"));
    CHECK_FALSE(valid(var_type::integer, "abc"));
    CHECK(valid(var_type::boolean, "Off"));
    CHECK_FALSE(valid(var_type::boolean, "yes"));
  }

  TEST_CASE("changed keys are applied, invalid ones fall back to the "
            "default, reboot keys are marked") {
    auto current = effective_target({}, false);
    current["HOST_FIREWALL_MODE"] = "";
    current["SUPERVISOR_POLL_INTERVAL"] = "60000";
    auto target = effective_target({{"SUPERVISOR_POLL_INTERVAL", "soon"},
                                    {"SUPERVISOR_PERSISTENT_LOGGING", "1"},
                                    {"SUPERVISOR_DELTA", "true"}},
                                   false);
    auto c = plan_key_changes(current, target);
    CHECK(c.changes
          == env_map{{"SUPERVISOR_POLL_INTERVAL", "900000"},
                     {"SUPERVISOR_PERSISTENT_LOGGING", "1"},
                     {"SUPERVISOR_DELTA", "true"},
                     {"HOST_FIREWALL_MODE", "off"}});
    CHECK(c.rebooting == env_map{{"SUPERVISOR_PERSISTENT_LOGGING", "1"}});
    CHECK(c.warnings
          == std::vector<std::string>{
            "Warning: Ignoring invalid device configuration value for "
            "SUPERVISOR_POLL_INTERVAL, value: 'soon'. Falling back to "
            "default (900000)"});
    CHECK(plan_key_changes(target, target).changes.empty());
  }

  TEST_CASE("a backend changes only when the parsed target differs") {
    auto txt = make_config_txt();
    env_map current{{"HOST_CONFIG_gpu_mem", "16"},
                    {"HOST_CONFIG_dtparam", R"("i2c_arm=on","spi=on")"}};
    // The list's spelling differs, its items do not.
    env_map same_target{{"HOST_CONFIG_gpu_mem", "16"},
                        {"HOST_CONFIG_dtparam", R"( "i2c_arm=on", "spi=on")"},
                        {"SUPERVISOR_POLL_INTERVAL", "1"}};
    CHECK_FALSE(
      plan_backend(*txt, current, same_target, "raspberrypi3").change);
    auto more = same_target;
    more["HOST_CONFIG_hdmi_mode"] = "1";
    CHECK(plan_backend(*txt, current, more, "raspberrypi3").change);
    // A target without the keys wipes them (balena reports them first).
    CHECK(plan_backend(*txt, current, {}, "raspberrypi3").change);
    // fincm3's required overlay is part of the target.
    auto fin = plan_backend(*txt, current, same_target, "fincm3");
    CHECK(fin.change);
    CHECK(std::get<std::vector<std::string>>(fin.target.at("dtoverlay"))
          == std::vector<std::string>{"balena-fin"});
  }

  TEST_CASE("a forbidden config.txt key may not change") {
    auto txt = make_config_txt();
    env_map current{{"HOST_CONFIG_kernel", "kernel8.img"}};
    auto p = plan_backend(*txt, current, {{"HOST_CONFIG_kernel", "other.img"}},
                          "raspberrypi4-64");
    CHECK(p.error == "Attempt to change blacklisted config value kernel");
    CHECK(
      plan_backend(*txt, current, current, "raspberrypi4-64").error.empty());
  }
}
