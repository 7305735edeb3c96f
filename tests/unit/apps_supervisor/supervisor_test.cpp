// The service supervisor on the deterministic scheduler, against a simulated
// engine: virtual time drives the backoff, nothing sleeps.
#include "tests/unit/apps_supervisor/fixture.hpp"

using namespace std::chrono_literals;
using namespace bosun;
using namespace bosun::test;
using std::chrono::milliseconds;

TEST_SUITE("service_supervisor") {
  TEST_CASE_FIXTURE(deterministic,
                    "creates and starts the container on apply") {
    auto id = apply(spec());
    CHECK(w->calls.front() == "create web_1_1_abc");
    CHECK(w->count("start " + id) == 1);
    CHECK(w->containers.at(id).running);
    auto s = status();
    CHECK(s.phase == service_phase::running);
    CHECK(s.container_id == id);
    CHECK(s.app_uuid == "a1");
    CHECK(s.service_name == "web");
    CHECK(s.restart_count == 0);
    CHECK(s.engine_up);
    CHECK(s.desired_running);
  }

  TEST_CASE_FIXTURE(deterministic, "waits the backoff before restarting") {
    auto id = apply(spec());
    exit_container(id, 1);
    auto s = status();
    CHECK(s.phase == service_phase::backing_off);
    CHECK(s.last_exit_code == 1);
    CHECK(s.backoff == 100ms);
    advance(99ms);
    CHECK(restarts() == 0);
    CHECK(w->count("start " + id) == 1);
    advance(1ms);
    CHECK(restarts() == 1);
    CHECK(w->count("start " + id) == 2);
    s = status();
    CHECK(s.phase == service_phase::running);
    CHECK(s.container_id == id); // the same container, never recreated
    CHECK(w->count("create web_1_1_abc") == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a container whose task the engine kept across its restart "
                    "is made again, not backed off") {
    // Found by the soak: after dockerd restarted, the start of a container
    // it had killed failed with "task <id>: already exists" every time, and
    // the service backed off to 64 s and more.
    auto id = apply(spec());
    exit_container(id, 128);
    w->stale_tasks.insert(id);
    advance(100ms); // the first restart
    auto s = status();
    CHECK(s.phase == service_phase::running);
    CHECK(s.container_id != id);
    CHECK(w->containers.count(id) == 0);
    CHECK(w->count("remove " + id) == 1);
    CHECK(w->count("create web_1_1_abc") == 2);
    CHECK(w->containers.at(s.container_id).running);
    CHECK(s.consecutive_restarts <= 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "doubles the backoff after each quick exit up to 5 min") {
    auto id = apply(spec());
    const std::vector<milliseconds> delays
      = {100ms, 2s, 4s, 8s, 16s, 32s, 64s, 128s, 256s, 300s, 300s};
    for (size_t i = 0; i < delays.size(); ++i) {
      CAPTURE(i);
      exit_container(id, 1);
      CHECK(status().backoff == delays[i]);
      advance(delays[i] - 1ms);
      CHECK(restarts() == i);
      advance(1ms);
      CHECK(restarts() == i + 1);
      CHECK(status().phase == service_phase::running);
    }
  }

  TEST_CASE_FIXTURE(deterministic,
                    "goes back to the first delay after 10 min of running") {
    auto id = apply(spec());
    exit_container(id, 1);
    advance(100ms);
    exit_container(id, 1);
    advance(2s);
    exit_container(id, 1);
    advance(4s);
    CHECK(status().backoff == 4s);
    advance(9min + 59s);
    CHECK(status().backoff == 4s);
    advance(1s);
    CHECK(status().backoff == 0ms);
    CHECK(status().consecutive_restarts == 0);
    exit_container(id, 1);
    CHECK(status().backoff == 100ms);
    advance(100ms);
    CHECK(restarts() == 4);
  }

  TEST_CASE_FIXTURE(deterministic, "on-failure does not restart exit 0") {
    auto id = apply(spec(restart_mode::on_failure));
    exit_container(id, 0);
    CHECK(status().phase == service_phase::exited);
    advance(10min);
    CHECK(w->count("start " + id) == 1);
    CHECK(restarts() == 0);
    SUBCASE("but restarts a non-zero exit") {
      command(service_start{});
      exit_container(id, 3);
      CHECK(status().phase == service_phase::backing_off);
      advance(100ms);
      CHECK(restarts() == 1);
      CHECK(status().last_exit_code == 3);
    }
  }

  TEST_CASE_FIXTURE(deterministic, "restart policy no never restarts") {
    auto id = apply(spec(restart_mode::no));
    exit_container(id, 1);
    CHECK(status().phase == service_phase::exited);
    advance(1h);
    CHECK(w->count("start " + id) == 1);
    CHECK(status().phase == service_phase::exited);
    CHECK(status().last_exit_code == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a kill from outside is restarted under unless-stopped") {
    auto id = apply(spec(restart_mode::unless_stopped));
    exit_container(id, 137);
    advance(100ms);
    CHECK(restarts() == 1);
    CHECK(status().last_exit_code == 137);
  }

  TEST_CASE_FIXTURE(deterministic, "restarts an unhealthy container") {
    auto id = apply(spec());
    w->set_health(id, "unhealthy");
    sched.run();
    CHECK(w->count("stop " + id) == 1);
    auto s = status();
    CHECK(s.phase == service_phase::backing_off);
    CHECK_FALSE(w->containers.at(id).running);
    advance(99ms);
    CHECK(restarts() == 0);
    advance(1ms);
    s = status();
    CHECK(s.restart_count == 1);
    CHECK(s.phase == service_phase::running);
    CHECK(s.container_id == id);
    CHECK(w->containers.at(id).running);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "leaves an unhealthy container alone under policy no") {
    auto id = apply(spec(restart_mode::no));
    w->set_health(id, "unhealthy");
    sched.run();
    CHECK(w->count("stop " + id) == 0);
    auto s = status();
    CHECK(s.phase == service_phase::running);
    CHECK(s.health == "unhealthy");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a stop through the API holds until a start") {
    auto id = apply(spec());
    auto s = command(service_stop{});
    CHECK(s.phase == service_phase::stopped);
    CHECK_FALSE(s.desired_running);
    CHECK(w->count("stop " + id) == 1);
    CHECK_FALSE(w->containers.at(id).running);
    advance(1h);
    CHECK(w->count("start " + id) == 1);
    CHECK(status().phase == service_phase::stopped);
    s = command(service_start{});
    CHECK(s.phase == service_phase::running);
    CHECK(s.desired_running);
    CHECK(w->count("start " + id) == 2);
    CHECK(s.restart_count == 0); // a start is not a restart
  }

  TEST_CASE_FIXTURE(deterministic, "a stop cancels a pending restart") {
    auto id = apply(spec());
    exit_container(id, 1);
    CHECK(status().phase == service_phase::backing_off);
    command(service_stop{});
    advance(1h);
    CHECK(w->count("start " + id) == 1);
    CHECK(status().phase == service_phase::stopped);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a start from outside while stopped is only observed") {
    auto id = apply(spec());
    command(service_stop{});
    w->containers.at(id).running = true;
    w->emit(id, "start");
    sched.run();
    CHECK(status().phase == service_phase::running);
    exit_container(id, 1);
    CHECK(status().phase == service_phase::stopped); // no restart
    advance(1h);
    CHECK(w->count("start " + id) == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "creates the container again when it is gone") {
    auto id = apply(spec());
    w->remove(id);
    sched.run();
    auto s = status();
    CHECK(w->count("create web_1_1_abc") == 2);
    REQUIRE_FALSE(s.container_id.empty());
    CHECK(s.container_id != id);
    CHECK(s.phase == service_phase::backing_off);
    advance(100ms);
    s = status();
    CHECK(s.phase == service_phase::running);
    CHECK(w->containers.at(s.container_id).running);
    CHECK(s.restart_count == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "flags crash looping after three quick exits") {
    auto id = apply(spec());
    exit_container(id, 1);
    advance(100ms);
    exit_container(id, 1);
    CHECK_FALSE(status().crash_looping);
    advance(2s);
    exit_container(id, 1);
    CHECK(status().crash_looping);
    advance(4s);
    CHECK(status().phase == service_phase::running);
    CHECK(status().crash_looping);
    advance(9999ms);
    CHECK(status().crash_looping);
    advance(1ms);
    CHECK_FALSE(status().crash_looping);
    CHECK(status().backoff == 4s); // the backoff waits for 10 min
  }

  TEST_CASE_FIXTURE(deterministic,
                    "restarts what the engine lost while it was down") {
    auto id = apply(spec());
    w->set_down(true);
    sched.run();
    CHECK_FALSE(status().engine_up);
    w->exit(id, 137); // no event: the stream is down
    sched.run();
    CHECK(status().phase == service_phase::running); // it cannot know yet
    w->set_down(false);
    sched.run();
    CHECK(status().engine_up);
    CHECK(status().phase == service_phase::backing_off);
    advance(100ms);
    CHECK(status().phase == service_phase::running);
    CHECK(restarts() == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "retries a restart the engine refused once it is back") {
    auto id = apply(spec());
    exit_container(id, 1);
    w->set_down(true);
    advance(100ms);
    auto s = status();
    CHECK(s.phase == service_phase::backing_off);
    CHECK(s.restart_count == 0);
    CHECK_FALSE(s.last_error.empty());
    CHECK(s.consecutive_restarts == 1); // the engine's absence is not counted
    w->set_down(false);
    sched.run();
    s = status();
    CHECK(s.phase == service_phase::running);
    CHECK(s.restart_count == 1);
    CHECK(s.last_error.empty());
  }

  TEST_CASE_FIXTURE(deterministic,
                    "creates the container once the engine is back") {
    w->set_down(true);
    sched.run();
    auto r = ask<std::string>(spec());
    REQUIRE_FALSE(r);
    CHECK(r.error() == engine_errc::unavailable);
    CHECK(status().phase == service_phase::backing_off);
    w->set_down(false);
    sched.run();
    auto s = status();
    CHECK(s.phase == service_phase::running);
    REQUIRE_FALSE(s.container_id.empty());
    CHECK(w->containers.at(s.container_id).running);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a create the engine refuses fails until the next apply") {
    w->add("other", spec().container, false); // the name is taken
    auto r = ask<std::string>(spec());
    REQUIRE_FALSE(r);
    CHECK(r.error() == engine_errc::conflict);
    auto s = status();
    CHECK(s.phase == service_phase::failed);
    CHECK_FALSE(s.last_error.empty());
    advance(1h);
    CHECK(w->count("create web_1_1_abc") == 1);
    w->containers.erase("other");
    auto id = apply(spec());
    CHECK(status().phase == service_phase::running);
    CHECK(status().container_id == id);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "adopts an existing container without recreating it") {
    w->add("x1", spec().container, true);
    auto s = spec();
    s.container_id = "x1";
    CHECK(apply(s) == "x1");
    CHECK(w->count("create web_1_1_abc") == 0);
    CHECK(w->count("start x1") == 0);
    CHECK(status().phase == service_phase::running);
    exit_container("x1", 2);
    advance(100ms);
    CHECK(restarts() == 1);
    CHECK(w->containers.at("x1").running);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "adopting a stopped container starts it when it should "
                    "run") {
    w->add("x1", spec().container, false);
    auto s = spec();
    s.container_id = "x1";
    apply(s);
    CHECK(w->count("start x1") == 1);
    CHECK(status().phase == service_phase::running);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a spec with running false creates but does not start") {
    auto s = spec();
    s.running = false;
    auto id = apply(s);
    CHECK(w->containers.count(id) == 1);
    CHECK(w->count("start " + id) == 0);
    CHECK(status().phase == service_phase::stopped);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a new spec replaces the container, keeping no "
                    "restart count") {
    auto old_id = apply(spec());
    exit_container(old_id, 1);
    advance(100ms);
    CHECK(restarts() == 1);
    auto id = apply(spec(restart_mode::always, "web_1_2_def"));
    CHECK(id != old_id);
    CHECK(w->count("stop " + old_id) == 1);
    CHECK(w->count("remove " + old_id) == 1);
    CHECK(w->containers.count(old_id) == 0);
    auto s = status();
    CHECK(s.container_id == id);
    CHECK(s.phase == service_phase::running);
    CHECK(s.restart_count == 0);
    CHECK(s.backoff == 0ms);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "re-applying with its container id keeps the container") {
    auto id = apply(spec());
    auto s = spec(restart_mode::on_failure);
    s.container_id = id;
    CHECK(apply(s) == id);
    CHECK(w->count("create web_1_1_abc") == 1);
    CHECK(w->count("stop " + id) == 0);
    CHECK(status().restart == restart_mode::on_failure);
    exit_container(id, 0);
    CHECK(status().phase == service_phase::exited);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "an API restart kills, removes and recreates the "
                    "container, and counts") {
    auto id = apply(spec());
    auto s = command(service_restart{});
    CHECK(s.phase == service_phase::running);
    CHECK(s.restart_count == 1);
    CHECK(s.container_id != id);
    CHECK_FALSE(s.container_id.empty());
    CHECK(w->count("restart " + id) == 0);
    CHECK(w->count("stop " + id) == 1);
    CHECK(w->count("remove " + id) == 1);
    CHECK(w->count("create web_1_1_abc") == 2);
    CHECK(w->count("start " + s.container_id) == 1);
    CHECK(w->containers.size() == 1);
    advance(1h); // the restart's own die/destroy/start events cause none
    CHECK(restarts() == 1);
    CHECK(status().container_id == s.container_id);
    CHECK(w->count("create web_1_1_abc") == 2);
  }

  TEST_CASE_FIXTURE(deterministic, "remove stops, removes and quits") {
    auto id = apply(spec());
    self->monitor(sup);
    auto r = ask<service_status>(service_remove{});
    REQUIRE(r);
    CHECK(r->phase == service_phase::removed);
    CHECK(w->count("stop " + id) == 1);
    CHECK(w->containers.empty());
    bool down = false;
    self->receive([&](caf::down_msg& dm) {
      down = true;
      CHECK(dm.reason == caf::exit_reason::normal);
    });
    CHECK(down);
    CHECK(seen->back().phase == service_phase::removed);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "commands queued behind a remove are refused") {
    apply(spec());
    auto removing = self->request(sup, caf::infinite, service_remove{});
    auto starting = self->request(sup, caf::infinite, service_start{});
    sched.run();
    bool removed = false;
    removing.receive(
      [&](service_status& s) { removed = s.phase == service_phase::removed; },
      [&](caf::error& e) { FAIL(sys.render(e)); });
    CHECK(removed);
    caf::error refused;
    starting.receive([](service_status&) {},
                     [&](caf::error& e) { refused = e; });
    CHECK(refused == supervisor_errc::removed);
    CHECK(w->containers.empty());
  }

  TEST_CASE_FIXTURE(deterministic, "commands before a spec are refused") {
    auto r = ask<service_status>(service_start{});
    REQUIRE_FALSE(r);
    CHECK(r.error() == supervisor_errc::no_spec);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "reports every status change to the listener") {
    auto id = apply(spec());
    exit_container(id, 1);
    advance(100ms);
    REQUIRE(seen->size() >= 4);
    for (size_t i = 1; i < seen->size(); ++i)
      CHECK((*seen)[i].revision > (*seen)[i - 1].revision);
    std::vector<service_phase> phases;
    for (const auto& s : *seen)
      if (phases.empty() || phases.back() != s.phase)
        phases.push_back(s.phase);
    const std::vector<service_phase> expected
      = {service_phase::idle,        service_phase::installing,
         service_phase::starting,    service_phase::running,
         service_phase::backing_off, service_phase::restarting,
         service_phase::running};
    CHECK(phases == expected);
    auto now = status();
    CHECK(seen->back().revision == now.revision);
    CHECK(seen->back().restart_count == 1);
  }
}
