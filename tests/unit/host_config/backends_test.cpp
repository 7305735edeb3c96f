// The boot-config backends on recorded files (tests/data/boot): what each
// reads from a device's file, and the file it writes for a target.
// Table-driven; no host paths, no D-Bus.
#include "actors/host/backends/backend.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

using namespace bosun;
using namespace bosun::boot_config;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(BOSUN_TEST_DATA) + "/boot/" + name,
                   std::ios::binary);
  REQUIRE_MESSAGE(in, "missing fixture " << name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What a read gives, as config vars (what the device reports).
env_map read_vars(const backend& b, const file_map& f) {
  auto r = b.read(f);
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  return to_env(b, r.options);
}

// The files a write of the target vars `target` gives.
write_outcome write_vars(const backend& b, const env_map& target,
                         const file_map& f, const std::string& type = {}) {
  auto o = to_options(b, target);
  REQUIRE_MESSAGE(o.error.empty(), o.error);
  b.ensure_required(type, o.options);
  return b.write(o.options, f);
}

struct read_case {
  const char* what;
  std::function<std::unique_ptr<backend>()> make;
  file_map files;
  env_map expected;
};

struct write_case {
  const char* what;
  std::function<std::unique_ptr<backend>()> make;
  file_map files;
  env_map target;
  std::string file;     // the file written
  std::string expected; // its contents
};

std::string png(char marker) {
  return std::string("\x89PNG\r\n\x1a\n", 8) + "IHDR" + marker;
}

} // namespace

TEST_SUITE("boot config backends") {
  TEST_CASE("read the values a device's file holds") {
    std::vector<read_case> cases{
      {"balenaOS Raspberry Pi 4 config.txt",
       make_config_txt,
       {{"config.txt", fixture("rpi4-balenaos-config.txt")}},
       {{"HOST_CONFIG_avoid_warnings", "1"},
        {"HOST_CONFIG_disable_splash", "1"},
        {"HOST_CONFIG_dtoverlay", R"("vc4-kms-v3d")"},
        {"HOST_CONFIG_dtparam", R"("i2c_arm=on","spi=on","audio=on")"},
        {"HOST_CONFIG_enable_uart", "1"},
        {"HOST_CONFIG_gpu_mem", "16"}}},
      {"Raspberry Pi OS config.txt: sections are skipped, a dtparam after "
       "an overlay is that overlay's, base params stay global, initramfs "
       "has a space",
       make_config_txt,
       {{"config.txt", fixture("rpi-os-config.txt")}},
       {{"HOST_CONFIG_dtoverlay",
         R"("vc4-fkms-v3d","gpio-ir,gpio_pin=17,gpio_pull=up","i2c-rtc,ds3231")"},
        {"HOST_CONFIG_dtparam", R"("i2c_arm=on","spi=on","audio=on")"},
        {"HOST_CONFIG_gpu_mem", "128"},
        {"HOST_CONFIG_initramfs", "initrd.img followkernel"},
        {"HOST_CONFIG_max_framebuffers", "2"}}},
      {"config.txt: a base param after an overlay is still global, several "
       "params on one line are split, `dtoverlay=` is the base overlay",
       make_config_txt,
       {{"config.txt", std::string("dtoverlay=vc4-kms-v3d\ndtparam=audio=on,"
                                   "cma-256\ndtoverlay=\ndtparam=x=1\n")}},
       {{"HOST_CONFIG_dtoverlay", R"("vc4-kms-v3d,cma-256")"},
        {"HOST_CONFIG_dtparam", R"("audio=on","x=1")"}}},
      {"no config.txt holds nothing",
       make_config_txt,
       {{"config.txt", {}}},
       {}},
      {"balenaOS Jetson extlinux.conf: no isolcpus, no FDT",
       make_extlinux,
       {{"extlinux/extlinux.conf", fixture("jetson-balenaos-extlinux.conf")}},
       {}},
      {"L4T extlinux.conf: the default entry's isolcpus and FDT",
       make_extlinux,
       {{"extlinux/extlinux.conf", fixture("jetson-l4t-extlinux.conf")}},
       {{"HOST_EXTLINUX_fdt", "/boot/tegra194-p2888-0001-p2822-0000.dtb"},
        {"HOST_EXTLINUX_isolcpus", "2"}}},
      {"Jetson Nano extra_uEnv.txt: custom_fdt_file and isolcpus only",
       make_extra_uenv,
       {{"extra_uEnv.txt", fixture("jetson-nano-extra_uEnv.txt")}},
       {{"HOST_EXTLINUX_fdt", "tegra210-p3448-0000-p3449-0000-b00.dtb"},
        {"HOST_EXTLINUX_isolcpus", "3"}}},
      {"UP board configfs.json",
       make_configfs,
       {{"configfs.json", fixture("up-board-configfs.json")}},
       {{"HOST_CONFIGFS_ssdt", R"("spidev1.0")"}}},
      {"configfs.json that is not JSON holds nothing",
       make_configfs,
       {{"configfs.json", std::string("{ssdt")}},
       {}},
      {"a splash logo equal to the default is not reported",
       make_splash_image,
       {{"splash/balena-logo-default.png", png('a')},
        {"splash/balena-logo.png", png('a')}},
       {}},
      {"another splash logo is reported as a data URI",
       make_splash_image,
       {{"splash/balena-logo-default.png", png('a')},
        {"splash/balena-logo.png", png('b')}},
       {{"HOST_SPLASH_image", "data:image/png;base64,iVBORw0KGgpJSERSYg=="}}},
      {"resin-logo.png when it is the only logo",
       make_splash_image,
       {{"splash/balena-logo-default.png", png('a')},
        {"splash/resin-logo.png", png('c')}},
       {{"HOST_SPLASH_image", "data:image/png;base64,iVBORw0KGgpJSERSYw=="}}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.what);
      auto b = c.make();
      CHECK(read_vars(*b, c.files) == c.expected);
    }
  }

  TEST_CASE("write the file a target asks for") {
    auto rpi = fixture("rpi4-balenaos-config.txt");
    std::vector<write_case> cases{
      {"config.txt: one line per value in key order, overlays last, each "
       "followed by its params",
       make_config_txt,
       {{"config.txt", rpi}},
       {{"HOST_CONFIG_avoid_warnings", "1"},
        {"HOST_CONFIG_disable_splash", "1"},
        {"HOST_CONFIG_dtoverlay",
         R"("vc4-kms-v3d,cma-256","gpio-ir,gpio_pin=17")"},
        {"HOST_CONFIG_dtparam", R"("i2c_arm=on","spi=on","audio=on")"},
        {"HOST_CONFIG_enable_uart", "1"},
        {"HOST_CONFIG_gpu_mem", "64"}},
       "config.txt",
       "avoid_warnings=1\ndisable_splash=1\ndtparam=i2c_arm=on\n"
       "dtparam=spi=on\ndtparam=audio=on\nenable_uart=1\ngpu_mem=64\n"
       "dtoverlay=vc4-kms-v3d\ndtparam=cma-256\ndtoverlay=gpio-ir\n"
       "dtparam=gpio_pin=17\n"},
      {"config.txt: a list value without quotes is one item; keys the "
       "target lacks and comments are gone",
       make_config_txt,
       {{"config.txt", rpi}},
       {{"HOST_CONFIG_dtparam", " i2c_arm=on "},
        {"HOST_CONFIG_hdmi_mode:1", "4"}},
       "config.txt",
       "dtparam=i2c_arm=on\nhdmi_mode:1=4\n"},
      {"config.txt: fincm3 always gets the balena-fin overlay",
       make_config_txt,
       {{"config.txt", rpi}},
       {{"HOST_CONFIG_gpu_mem", "16"}},
       "config.txt",
       "gpu_mem=16\ndtoverlay=balena-fin\n"},
      {"config.txt: initramfs keeps its space form",
       make_config_txt,
       {{"config.txt", fixture("rpi-os-config.txt")}},
       {{"HOST_CONFIG_initramfs", "initrd.img followkernel"}},
       "config.txt",
       "initramfs initrd.img followkernel\n"},
      {"extlinux: isolcpus appended to the default APPEND, FDT added; the "
       "file is re-serialised",
       make_extlinux,
       {{"extlinux/extlinux.conf", fixture("jetson-balenaos-extlinux.conf")}},
       {{"HOST_EXTLINUX_isolcpus", "3"}, {"HOST_EXTLINUX_fdt", "/boot/my.dtb"}},
       "extlinux/extlinux.conf",
       "DEFAULT primary\nTIMEOUT 30\nMENU TITLE Boot Options\nLABEL primary\n"
       "MENU LABEL primary Image\nLINUX /Image\n"
       "APPEND ${cbootargs} ${resin_kernel_root} ro rootwait isolcpus=3\n"
       "FDT /boot/my.dtb\n"},
      {"extlinux: the old isolcpus is replaced, an FDT absent from the "
       "target stays",
       make_extlinux,
       {{"extlinux/extlinux.conf", fixture("jetson-l4t-extlinux.conf")}},
       {{"HOST_EXTLINUX_isolcpus", "1,2"}},
       "extlinux/extlinux.conf",
       "TIMEOUT 30\nDEFAULT primary\nMENU TITLE L4T boot options\n"
       "LABEL primary\nMENU LABEL primary kernel\nLINUX /boot/Image\n"
       "INITRD /boot/initrd\nFDT /boot/tegra194-p2888-0001-p2822-0000.dtb\n"
       "APPEND ${cbootargs} quiet root=/dev/mmcblk0p1 rw rootwait "
       "rootfstype=ext4 console=ttyTCU0,115200n8 fbcon=map:0 net.ifnames=0 "
       "isolcpus=1,2\n"},
      {"extlinux: a comment after the first line becomes a directive "
       "(balena's line splitter eats the '#')",
       make_extlinux,
       {{"extlinux/extlinux.conf",
         std::string("DEFAULT a\n# note this\nLABEL a\n  APPEND ro\n")}},
       {},
       "extlinux/extlinux.conf",
       "DEFAULT a\nNOTE this\nLABEL a\nAPPEND ro\n"},
      {"extra_uEnv: managed lines updated or dropped, others kept in place",
       make_extra_uenv,
       {{"extra_uEnv.txt", fixture("jetson-nano-extra_uEnv.txt")}},
       {{"HOST_EXTLINUX_isolcpus", "1"}},
       "extra_uEnv.txt",
       "extra_os_cmdline=isolcpus=1\nbootdelay=2\n"},
      {"extra_uEnv: new managed lines go last",
       make_extra_uenv,
       {{"extra_uEnv.txt", std::string("bootdelay=2\n")}},
       {{"HOST_EXTLINUX_fdt", "x.dtb"}, {"HOST_EXTLINUX_isolcpus", "2,3"}},
       "extra_uEnv.txt",
       "bootdelay=2\ncustom_fdt_file=x.dtb\nextra_os_cmdline=isolcpus=2,3\n"},
      {"configfs.json: the ssdt list replaced in place, other keys kept",
       make_configfs,
       {{"configfs.json", fixture("up-board-configfs.json")}},
       {{"HOST_CONFIGFS_ssdt", R"("spidev1.0","spidev1.1")"}},
       "configfs.json",
       R"({"ssdt":["spidev1.0","spidev1.1"],"keep":true})"},
      {"configfs.json: no ssdt in the target removes the list",
       make_configfs,
       {{"configfs.json", fixture("up-board-configfs.json")}},
       {},
       "configfs.json",
       R"({"keep":true})"},
      {"configfs.json: a single value is a list of one; a missing file "
       "starts from {}",
       make_configfs,
       {{"configfs.json", {}}},
       {{"HOST_CONFIGFS_ssdt", "spidev1.0"}},
       "configfs.json",
       R"({"ssdt":["spidev1.0"]})"},
      {"splash: a data URI's PNG replaces the logo",
       make_splash_image,
       {{"splash/balena-logo-default.png", png('a')},
        {"splash/balena-logo.png", png('a')}},
       {{"HOST_SPLASH_image",
         "data:image/png;charset=x;base64,iVBORw0KGgpJSERSYg=="}},
       "splash/balena-logo.png",
       png('b')},
      {"splash: bare base64 is a PNG too",
       make_splash_image,
       {{"splash/balena-logo-default.png", png('a')},
        {"splash/balena-logo.png", png('a')}},
       {{"HOST_SPLASH_IMAGE", "iVBORw0KGgpJSERSYg=="}},
       "splash/balena-logo.png",
       png('b')},
      {"splash: an empty target restores the default",
       make_splash_image,
       {{"splash/balena-logo-default.png", png('a')},
        {"splash/balena-logo.png", png('b')}},
       {{"HOST_SPLASH_image", "  "}},
       "splash/balena-logo.png",
       png('a')},
    };
    for (const auto& c : cases) {
      CAPTURE(c.what);
      auto b = c.make();
      auto type = std::string(c.what).find("fincm3") != std::string::npos
                    ? "fincm3"
                    : "raspberrypi4-64";
      auto w = write_vars(*b, c.target, c.files, type);
      REQUIRE_MESSAGE(w.error.empty(), w.error);
      REQUIRE(w.files.size() == 1);
      CHECK(w.files.begin()->first == c.file);
      CHECK(w.files.begin()->second == c.expected);
    }
  }

  TEST_CASE("what a backend writes reads back as the target") {
    auto b = make_config_txt();
    env_map target{{"HOST_CONFIG_dtoverlay",
                    R"("vc4-kms-v3d,cma-256","gpio-ir,gpio_pin=17")"},
                   {"HOST_CONFIG_dtparam", R"("i2c_arm=on","spi=on")"},
                   {"HOST_CONFIG_gpu_mem", "64"}};
    auto w = write_vars(*b, target, {});
    CHECK(read_vars(*b, {{"config.txt", w.files["config.txt"]}}) == target);
  }

  TEST_CASE("refusals and errors are balena's") {
    auto ext = make_extlinux();
    CHECK(ext->read({{"extlinux/extlinux.conf", {}}}).error
          == "Could not find extlinux file. Device is possibly bricked");
    CHECK(
      ext->read({{"extlinux/extlinux.conf", std::string("TIMEOUT 3\n")}}).error
      == "Could not find default entry for extlinux.conf file");
    CHECK(write_vars(*ext, {{"HOST_EXTLINUX_isolcpus", "1=2"}},
                     {{"extlinux/extlinux.conf",
                       fixture("jetson-balenaos-extlinux.conf")}})
            .error
          == "One of the values being set contains an invalid character: [ "
             "value: 1=2, key: isolcpus ]");
    auto uenv = make_extra_uenv();
    CHECK(uenv->read({{"extra_uEnv.txt", {}}}).error
          == "Could not find extra_uEnv file. Device is possibly bricked");
    auto txt = make_config_txt();
    CHECK_FALSE(
      to_options(*txt, {{"HOST_CONFIG_dtparam", R"("a",)"}}).error.empty());
    auto r = txt->read({{"config.txt", fixture("rpi-os-config.txt")}});
    CHECK(r.warnings
          == std::vector<std::string>{
            "Could not parse config.txt entry: [pi4]. Ignoring.",
            "Could not parse config.txt entry: [all]. Ignoring."});
    auto splash = make_splash_image();
    auto w = write_vars(*splash, {{"HOST_SPLASH_image", "bm90IGEgcG5n"}},
                        {{"splash/balena-logo-default.png", png('a')}});
    CHECK(w.files.empty());
    CHECK(w.notes
          == std::vector<std::string>{
            "Expected splash image to be a base64 encoded PNG image. "
            "Skipping write."});
  }

  TEST_CASE("each backend serves the device types balena gives it") {
    struct match_case {
      const char* type;
      std::optional<std::string> meta;
      bool uenv_file;
      std::vector<std::string> expected;
    };
    std::vector<match_case> cases{
      {"raspberrypi4-64", {}, false, {"config.txt", "splash image"}},
      {"fincm3", {}, false, {"config.txt", "splash image"}},
      {"revpi-connect-4", {}, false, {"config.txt", "splash image"}},
      {"jetson-nano",
       std::string("2.45.1"),
       true,
       {"extlinux", "extra_uEnv", "splash image"}},
      {"jetson-nano",
       std::string("2.113.0"),
       true,
       {"extra_uEnv", "splash image"}},
      {"jetson-nano", std::string("2.113.0"), false, {"splash image"}},
      {"jetson-agx-orin-devkit", {}, true, {"extra_uEnv", "splash image"}},
      {"imx8mm-var-dart", {}, true, {"extra_uEnv", "splash image"}},
      {"up-board", {}, false, {"configfs", "splash image"}},
      {"generic-amd64", {}, true, {"splash image"}},
    };
    auto all = make_backends();
    for (const auto& c : cases) {
      CAPTURE(c.type);
      CAPTURE(c.meta.value_or("-"));
      file_map f{{"extra_uEnv.txt",
                  c.uenv_file ? std::optional<std::string>("") : std::nullopt}};
      std::vector<std::string> got;
      for (const auto& b : all)
        if (b->matches({c.type, c.meta}, f))
          got.emplace_back(b->name());
      CHECK(got == c.expected);
    }
  }

  TEST_CASE("splash: the first start keeps the OS's logo as the default") {
    auto b = make_splash_image();
    auto w = b->initialise({{"splash/balena-logo.png", png('x')}});
    CHECK(w
          == std::map<std::string, std::string>{
            {"splash/balena-logo-default.png", png('x')}});
    CHECK(b->initialise({{"splash/balena-logo.png", png('x')},
                         {"splash/balena-logo-default.png", png('a')}})
            .empty());
  }
}
