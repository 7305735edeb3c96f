// The systemd unit and the Debian package (tools/dev package), checked as
// an admin would meet them: systemd-analyze on the unit, the .deb's files
// and dependencies, and an install into a clean Debian root made with
// mmdebstrap, where the installed bosun must run.
#include "tests/support/env.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <sstream>

using bosun::test::run_command;

namespace {

std::string unit_file() {
  std::ifstream in(std::string(BOSUN_SOURCE_DIR) + "/tools/dist/bosun.service");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

} // namespace

TEST_SUITE("package") {
  TEST_CASE("the unit passes systemd-analyze verify without a warning") {
    auto unit = unit_file();
    REQUIRE(has(unit, "ExecStart=/usr/bin/bosun "));
    CHECK(has(unit, "Type=notify"));
    CHECK(has(unit, "WatchdogSec="));
    // verify wants the executable to exist: this build's binary stands in.
    bosun::test::temp_dir dir;
    auto pos = unit.find("/usr/bin/bosun");
    unit.replace(pos, std::string("/usr/bin/bosun").size(), BOSUN_BINARY);
    std::ofstream(dir.path() + "/bosun.service") << unit;
    auto r
      = run_command("systemd-analyze verify " + dir.path() + "/bosun.service");
    CHECK_MESSAGE(r.status == 0, r.out);
    CHECK_MESSAGE(r.out.empty(), r.out); // unknown keys are only warnings
    auto sec = run_command("systemd-analyze security --offline=yes "
                           "--threshold=30 "
                           + dir.path() + "/bosun.service");
    MESSAGE("exposure: " << sec.out.substr(sec.out.rfind('\n') + 1));
    CHECK_MESSAGE(sec.status == 0, sec.out);
  }

  TEST_CASE("the .deb holds the binary, the unit, the config and the data "
            "dir, and depends on its shared libraries' packages") {
    auto deb
      = bosun::test::required_artifact("BOSUN_TEST_DEB", "tools/dev package");
    auto files = run_command("dpkg-deb -c " + deb);
    REQUIRE_MESSAGE(files.status == 0, files.out);
    for (const char* f :
         {"./usr/bin/bosun", "./lib/systemd/system/bosun.service",
          "./etc/bosun/config.json", "./etc/default/bosun", "./var/lib/bosun/"})
      CHECK_MESSAGE(has(files.out, f), f, "\n", files.out);
    auto depends = run_command("dpkg-deb -f " + deb + " Depends");
    for (const char* d : {"libc6", "libcaf-core", "libsoci-core",
                          "libsoci-sqlite3", "libssl3", "libstdc++6"})
      CHECK_MESSAGE(has(depends.out, d), d, " in ", depends.out);
    auto conffiles = run_command("dpkg-deb -I " + deb + " conffiles");
    CHECK(has(conffiles.out, "/etc/bosun/config.json"));
    CHECK(has(conffiles.out, "/etc/default/bosun"));
  }

  TEST_CASE("installed by apt into a clean Debian root, bosun runs there") {
    auto deb
      = bosun::test::required_artifact("BOSUN_TEST_DEB", "tools/dev package");
    bosun::test::temp_dir dir;
    auto root = dir.path() + "/root";
    // apt resolves the package's Depends from Debian: a missing one shows
    // as bosun failing to start in the root.
    auto made = run_command(
      "mmdebstrap --quiet --variant=apt --skip=cleanup/apt"
      " --customize-hook='copy-in "
      + deb
      + " /tmp'"
        " --customize-hook='chroot \"$1\" sh -c \"apt-get install -y -q"
        " /tmp/*.deb >/dev/null\"' bookworm "
      + root);
    REQUIRE_MESSAGE(made.status == 0, made.out);
    for (const char* f : {"/usr/bin/bosun", "/lib/systemd/system/bosun.service",
                          "/etc/bosun/config.json", "/etc/default/bosun"})
      CHECK_MESSAGE(run_command("test -f " + root + f).status == 0, f);
    CHECK(run_command("stat -c %a " + root + "/var/lib/bosun").out == "700");
    auto version = run_command("chroot " + root + " bosun --version");
    CHECK_MESSAGE(version.status == 0, version.out);
    CHECK(version.out == std::string("bosun ") + BOSUN_VERSION);
    auto help = run_command("chroot " + root + " bosun --help");
    CHECK_MESSAGE(help.status == 0, help.out);
    // The package's postinst enabled the unit (no systemd runs in a chroot).
    CHECK(run_command("test -L " + root
                      + "/etc/systemd/system/multi-user.target.wants/"
                        "bosun.service")
            .status
          == 0);
    run_command("rm -rf " + root);
  }
}
