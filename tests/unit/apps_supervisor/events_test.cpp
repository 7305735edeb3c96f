// The system lines app_manager and the service supervisors send to the logs
// actor: balena's wording (pure helpers), and which lines a supervisor sends
// for each thing that happens to its service, once each.
#include "actors/apps/event_lines.hpp"
#include "tests/unit/apps_supervisor/fixture.hpp"

using namespace std::chrono_literals;
using namespace bosun;
using namespace bosun::test;
using strings = std::vector<std::string>;

namespace {

const std::string web = "'web registry/web:1'";

} // namespace

TEST_SUITE("event_lines") {
  TEST_CASE("a service is named by its name and image, as balena names it") {
    CHECK(apps::service_object("main", "sha256:abc") == "main sha256:abc");
    CHECK(apps::service_object("main", "") == "");
    CHECK(system_event(apps::lines::installing_service,
                       apps::service_object("main", "sha256:abc"))
            .message
          == "Installing service 'main sha256:abc'");
    CHECK(system_event(apps::lines::killing_service, "").message
          == "Killing service");
  }

  TEST_CASE("an error goes after the object and makes the line stderr") {
    auto l = system_event(apps::lines::download_failed, "reg/x:1",
                          "manifest unknown");
    CHECK(l.message
          == "Failed to download image 'reg/x:1' due to 'manifest unknown'");
    CHECK(l.is_stderr);
    CHECK_FALSE(
      system_event(apps::lines::downloaded_image, "reg/x:1").is_stderr);
  }

  TEST_CASE("durations print their largest unit, rounded down, as pretty-ms "
            "compact does") {
    CHECK(apps::compact_duration(0ms) == "0ms");
    CHECK(apps::compact_duration(500ms) == "500ms");
    CHECK(apps::compact_duration(999ms) == "999ms");
    CHECK(apps::compact_duration(1000ms) == "1s");
    CHECK(apps::compact_duration(1999ms) == "1s");
    CHECK(apps::compact_duration(59s) == "59s");
    CHECK(apps::compact_duration(60s) == "1m");
    CHECK(apps::compact_duration(90s) == "1m");
    CHECK(apps::compact_duration(5min) == "5m");
    CHECK(apps::compact_duration(1h) == "1h");
    CHECK(apps::compact_duration(25h) == "1d");
    CHECK(apps::compact_duration(24h * 400) == "1y");
    CHECK(apps::compact_duration(-5ms) == "0ms");
  }

  TEST_CASE("a locked update says when it is retried and why") {
    auto l = apps::updates_locked(
      2s, "Lockfile exists for { appId: 1, service: main }");
    CHECK(l.message
          == "Updates are locked, retrying in 2s. Reason: Lockfile exists for "
             "{ appId: 1, service: main }");
    CHECK_FALSE(l.is_stderr);
  }

  TEST_CASE("purge lines") {
    CHECK(apps::purging_data(12).message == "Purging data for app 12");
    CHECK(apps::purged_data().message == "Purged data");
    auto f = apps::purge_failed("volume in use");
    CHECK(f.message == "Error purging data: volume in use");
    CHECK(f.is_stderr);
  }

  TEST_CASE("without a logs actor nothing is sent, and nothing breaks") {
    apps::send_line(logs_actor{}, system_event("Downloading image", "x"));
  }
}

TEST_SUITE("service_supervisor lines") {
  TEST_CASE_FIXTURE(deterministic,
                    "a new service is installed, then started, once each") {
    apply(spec());
    CHECK(take_lines()
          == strings{"Installing service " + web, "Installed service " + web,
                     "Starting service " + web, "Started service " + web});
  }

  TEST_CASE_FIXTURE(deterministic,
                    "an exit and the restart after the backoff, once each") {
    auto id = apply(spec());
    take_lines();
    exit_container(id, 1);
    CHECK(take_lines() == strings{"Service exited " + web});
    advance(99ms);
    CHECK(take_lines().empty());
    advance(1ms);
    REQUIRE(restarts() == 1);
    CHECK(take_lines() == strings{"Restarting service " + web});
    // A crash loop tells each exit and each restart, nothing in between.
    exit_container(id, 1);
    advance(2s);
    exit_container(id, 1);
    advance(4s);
    CHECK(take_lines()
          == strings{"Service exited " + web, "Restarting service " + web,
                     "Service exited " + web, "Restarting service " + web});
  }

  TEST_CASE_FIXTURE(deterministic, "an exit that stays down is told once") {
    auto id = apply(spec(restart_mode::no));
    take_lines();
    exit_container(id, 1);
    advance(1h);
    CHECK(take_lines() == strings{"Service exited " + web});
  }

  TEST_CASE_FIXTURE(deterministic,
                    "an unhealthy container is killed and restarted, and the "
                    "restart says why") {
    auto id = apply(spec());
    take_lines();
    w->set_health(id, "unhealthy");
    sched.run();
    CHECK(take_lines()
          == strings{"Killing service " + web, "Killed service " + web});
    advance(100ms);
    REQUIRE(restarts() == 1);
    sched.run();
    REQUIRE(lines->size() == 1);
    CHECK(lines->front().message
          == "Restarting service " + web + " due to 'unhealthy'");
    CHECK(lines->front().is_stderr);
    lines->clear();
    // The next restart after a plain exit says nothing more.
    exit_container(id, 1);
    advance(10s);
    CHECK(take_lines()
          == strings{"Service exited " + web, "Restarting service " + web});
  }

  TEST_CASE_FIXTURE(deterministic,
                    "API stop, start and restart tell what they do") {
    apply(spec());
    take_lines();
    command(service_stop{});
    CHECK(take_lines()
          == strings{"Killing service " + web, "Killed service " + web});
    command(service_start{});
    CHECK(take_lines()
          == strings{"Starting service " + web, "Started service " + web});
    // balena's restart: kill, then install and start a new container.
    command(service_restart{});
    CHECK(take_lines()
          == strings{"Killing service " + web, "Killed service " + web,
                     "Installing service " + web, "Installed service " + web,
                     "Starting service " + web, "Started service " + web});
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a changed spec kills the old container and installs the "
                    "new one") {
    apply(spec());
    take_lines();
    auto changed = spec(restart_mode::always, "web_2_1_def");
    changed.container.config.image = "registry/web:2";
    apply(changed);
    const std::string web2 = "'web registry/web:2'";
    CHECK(take_lines()
          == strings{"Killing service " + web2, "Killed service " + web2,
                     "Installing service " + web2, "Installed service " + web2,
                     "Starting service " + web2, "Started service " + web2});
  }

  TEST_CASE_FIXTURE(deterministic, "a remove kills the container") {
    apply(spec());
    take_lines();
    auto s = ask<service_status>(service_remove{});
    REQUIRE(s);
    CHECK(take_lines()
          == strings{"Killing service " + web, "Killed service " + web});
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a failed install says why, on stderr, and no start is "
                    "told") {
    // The engine refuses the name: a container holds it already.
    auto taken = spec();
    w->add("other", taken.container, false);
    auto id = ask<std::string>(spec());
    CHECK_FALSE(id);
    sched.run();
    REQUIRE(lines->size() == 2);
    CHECK((*lines)[0].message == "Installing service " + web);
    CHECK((*lines)[1].message.rfind(
            "Failed to install service " + web + " due to '", 0)
          == 0);
    CHECK((*lines)[1].is_stderr);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "while the engine is away its failures are not the "
                    "service's news") {
    auto id = apply(spec());
    exit_container(id, 1);
    take_lines();
    w->set_down(true);
    sched.run();
    advance(10min); // restarts tried and failed on the absent engine
    CHECK(w->count("start " + id) > 1);
    CHECK(take_lines().empty());
    w->set_down(false);
    sched.run();
    REQUIRE(w->containers.at(id).running);
    CHECK(take_lines() == strings{"Restarting service " + web});
  }
}
