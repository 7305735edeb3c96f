// The drop-in supervisor image (tools/dev image), run against the test
// engine the way balenaOS's start-balena-supervisor runs balena_supervisor
// (reference/host.md §8): --net=host, the engine socket at
// /var/run/balena-engine.sock with DOCKER_SOCKET naming it, the data dir at
// /data, /var/log, and the host's / at /mnt/root; config.json in its legacy
// bind at /boot/config.json (CONFIG_MOUNT_POINT), as the test's host has no
// boot partition. Without the host's --privileged: bosun needs none of its
// capabilities, and an engine inside a container cannot grant them all.
#include "tests/support/env.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <fstream>
#include <iostream>

using namespace std::chrono_literals;
using bosun::test::docker;
using bosun::test::http_request;
using bosun::test::run_command;

namespace {

const std::string name = "balena_supervisor";

std::string inspect(const std::string& what, const std::string& format) {
  return docker("inspect -f '" + format + "' " + what).out;
}

void clean(int app_id) {
  docker("rm -f " + name);
  auto ids = docker("ps -aq --filter label=io.balena.app-id="
                    + std::to_string(app_id));
  std::replace(ids.out.begin(), ids.out.end(), '\n', ' ');
  if (!ids.out.empty())
    docker("rm -f " + ids.out);
  docker("network rm " + std::to_string(app_id) + "_default");
  run_command("rm -rf /tmp/balena-supervisor/services/"
              + std::to_string(app_id));
}

} // namespace

TEST_SUITE("supervisor image") {
  TEST_CASE("starts as balenaOS starts its supervisor, answers, manages an "
            "app, is healthy and stops on SIGTERM") {
    auto image = bosun::test::required_artifact("BOSUN_TEST_BOSUN_IMAGE",
                                                "tools/dev image");
    auto engine = bosun::test::required_env("DOCKER_HOST");
    auto test_image = bosun::test::required_env("BOSUN_TEST_IMAGE");
    REQUIRE(engine.rfind("unix://", 0) == 0);
    const int app_id = 301;
    clean(app_id);

    auto size = docker("image inspect -f '{{.Size}}' " + image);
    REQUIRE_MESSAGE(size.status == 0, size.out);
    std::cout << "supervisor image " << image << ": " << size.out << " bytes\n";
    MESSAGE("image size: " << size.out << " bytes");
    CHECK(std::stoll(size.out) < 100LL * 1024 * 1024);
    auto hc = inspect(image, "{{json .Config.Healthcheck}}");
    CHECK_MESSAGE(hc.find("/usr/bin/bosun-healthcheck") != std::string::npos,
                  hc);
    CHECK_MESSAGE(hc.find("\"Interval\":300000000000") != std::string::npos,
                  hc);

    bosun::test::temp_dir host;
    int port = bosun::test::free_port();
    run_command("mkdir -p " + host.path() + "/data " + host.path() + "/log");
    std::ofstream(host.path() + "/config.json")
      << R"({"listenPort":)" << port << "}";
    auto run = docker(
      "run -d --name " + name + " --net=host" + " --mount type=bind,source="
      + engine.substr(7) + ",target=/var/run/balena-engine.sock"
      + " --mount type=bind,source=" + host.path() + "/data,target=/data"
      + " --mount type=bind,source=" + host.path() + "/log,target=/var/log"
      + " --mount type=bind,source=/,target=/mnt/root"
      + " --mount type=bind,source=" + host.path()
      + "/config.json,target=/boot/config.json"
      + " -e CONFIG_MOUNT_POINT=/boot/config.json"
      + " -e DOCKER_SOCKET=/var/run/balena-engine.sock"
      + " -e BOOT_MOUNTPOINT=/mnt/boot -e LISTEN_PORT=" + std::to_string(port)
      + " -e LED_FILE=/dev/null -e SUPERVISOR_IMAGE=" + image + " " + image);
    REQUIRE_MESSAGE(run.status == 0, run.out);

    bool answers = bosun::test::eventually(
      30s,
      [&](std::string& last) {
        if (inspect(name, "{{.State.Running}}") != "true") {
          last = "exited: " + docker("logs " + name).out;
          return false;
        }
        auto r = http_request(port, "GET", "/ping");
        last = "status " + std::to_string(r.status);
        return r.status == 200;
      },
      "the supervisor container to answer /ping");
    REQUIRE_MESSAGE(answers, docker("logs " + name).out);
    auto logs = docker("logs " + name).out;
    CHECK_MESSAGE(logs.find("engine unix:///var/run/balena-engine.sock")
                    != std::string::npos,
                  logs);
    CHECK_MESSAGE(logs.find("data /data") != std::string::npos, logs);
    CHECK(http_request(port, "GET", "/v1/healthy").status == 200);
    auto hc_run = docker("exec " + name + " /usr/bin/bosun-healthcheck");
    CHECK_MESSAGE(hc_run.status == 0, hc_run.out);
    CHECK(hc_run.out.rfind("HTTP/1.1 200", 0) == 0);

    // An app, through the local API.
    std::string target
      = R"({"local":{"name":"img","config":{},"apps":{")"
        + std::to_string(app_id)
        + R"(":{"name":"imgapp","commit":"c1","releaseId":"1","services":{"31":{"serviceName":"main","serviceId":31,"imageId":31,"image":")"
        + test_image
        + R"(","environment":{},"labels":{},"command":["/bin/sh","-c","trap 'exit 0' TERM; sleep 1000 & wait"]}},"volumes":{},"networks":{}}}}})";
    auto posted = http_request(port, "POST", "/v2/local/target-state", target,
                               {"Content-Type: application/json"});
    REQUIRE_MESSAGE(posted.status == 200, posted.body);
    bool app_runs = bosun::test::eventually(
      60s,
      [&](std::string& last) {
        last = inspect("main_31_1_c1", "{{.State.Running}}");
        return last == "true";
      },
      "the app's container to run");
    CHECK_MESSAGE(app_runs, docker("logs " + name).out);
    // Its update lock dir is the host's, as the engine names it, made by
    // bosun through /mnt/root.
    auto mounts = inspect("main_31_1_c1", "{{json .Mounts}}");
    CHECK_MESSAGE(
      mounts.find(
        R"("Source":"/tmp/balena-supervisor/services/301/main","Destination":"/tmp/balena")")
        != std::string::npos,
      mounts);
    CHECK(run_command("test -d /tmp/balena-supervisor/services/301/main").status
          == 0);
    // Its database is in the bound data dir, where the host keeps it.
    CHECK(run_command("test -f " + host.path() + "/data/bosun.sqlite").status
          == 0);

    auto stopped = docker("stop -t 20 " + name);
    CHECK(stopped.status == 0);
    CHECK(inspect(name, "{{.State.ExitCode}}") == "0");
    // The app keeps running without its supervisor, as on a device.
    CHECK(inspect("main_31_1_c1", "{{.State.Running}}") == "true");
    clean(app_id);
  }
}
