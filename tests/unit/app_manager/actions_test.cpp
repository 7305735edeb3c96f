// app_manager pins (issue 12): the device API's service and app actions,
// and the update lock they take.
#include "tests/unit/app_manager/fixture.hpp"

#include <fstream>

using namespace bosun;
using namespace bosun::amtest;

namespace {

struct running_app : deterministic {
  running_app() {
    apply(target_of({service("web"), service("db")}));
    settle();
    REQUIRE(running("web"));
    REQUIRE(running("db"));
  }
};

} // namespace

TEST_CASE("restart-service gives the service a new container") {
  running_app t;
  auto web = t.w->id_of("web");
  auto db = t.w->id_of("db");
  auto r = t.act(service_action_kind::restart, "web");
  REQUIRE_MESSAGE(r, t.sys.render(r.error()));
  CHECK(r->service_name == "web");
  CHECK(r->container_id != web);
  CHECK(r->container_id == t.w->id_of("web"));
  CHECK(t.w->containers.count(web) == 0);
  t.settle();
  CHECK(t.w->id_of("web") == r->container_id); // no pass made another
  CHECK(t.running("web"));
  CHECK(t.w->id_of("db") == db);
  CHECK(t.status().state == apps_state::idle);
}

TEST_CASE("stop-service stays stopped across passes; start-service starts") {
  running_app t;
  auto web = t.w->id_of("web");
  auto r = t.act(service_action_kind::stop, "web");
  REQUIRE_MESSAGE(r, t.sys.render(r.error()));
  CHECK(r->container_id == web);
  CHECK_FALSE(t.running("web"));
  CHECK(t.running("db"));
  CHECK(t.db_state->kv.at("apps.stopped.1") == "web"); // persisted
  // Passes (a new target, time) do not start it again.
  auto tg = target_of({service("web"), service("db")});
  tg.device_name = "renamed";
  t.apply(tg);
  t.settle();
  CHECK(t.w->id_of("web") == web);
  CHECK_FALSE(t.running("web"));
  CHECK(t.status().state == apps_state::idle);
  auto s = t.act(service_action_kind::start, "web");
  REQUIRE_MESSAGE(s, t.sys.render(s.error()));
  CHECK(s->container_id == web); // the same container, started
  CHECK(t.running("web"));
  CHECK(t.db_state->kv.at("apps.stopped.1").empty());
  t.settle();
  CHECK(t.running("web"));
  CHECK(t.w->id_of("web") == web);
}

TEST_CASE("an app restart recreates every container of the app") {
  running_app t;
  auto web = t.w->id_of("web");
  auto db = t.w->id_of("db");
  app_action a;
  a.kind = app_action_kind::restart;
  a.app_id = 1;
  auto e = t.ask_void(a);
  CHECK_MESSAGE(!e, t.sys.render(e));
  t.settle();
  CHECK(t.w->containers.size() == 2);
  CHECK(t.w->containers.count(web) == 0);
  CHECK(t.w->containers.count(db) == 0);
  CHECK(t.running("web"));
  CHECK(t.running("db"));
  CHECK(t.w->volumes.count("1_data") == 1); // a restart keeps the data
  CHECK(t.status().state == apps_state::idle);
  // An app that is not on the device.
  a.app_id = 99;
  auto e2 = t.ask_void(a);
  CHECK(e2 == apps_errc::not_in_current_state);
}

TEST_CASE("an update lock refuses a stop unless forced") {
  running_app t;
  auto web = t.w->id_of("web");
  auto lock_dir = t.dir / "services" / "1" / "web";
  std::filesystem::create_directories(lock_dir);
  std::ofstream(lock_dir / "updates.lock") << "";
  auto r = t.act(service_action_kind::stop, "web");
  REQUIRE_FALSE(r);
  CHECK(r.error() == apps_errc::updates_locked);
  CHECK(t.sys.render(r.error()).find("Updates are locked")
        != std::string::npos);
  CHECK(t.running("web"));
  CHECK(std::filesystem::exists(lock_dir / "updates.lock"));
  // A start takes no lock.
  CHECK(t.act(service_action_kind::start, "db"));
  auto f = t.act(service_action_kind::stop, "web", true);
  REQUIRE_MESSAGE(f, t.sys.render(f.error()));
  CHECK(f->container_id == web);
  CHECK_FALSE(t.running("web"));
  // force deleted the app's lock file; the agent's own lock is released.
  CHECK_FALSE(std::filesystem::exists(lock_dir / "updates.lock"));
}

TEST_CASE("an app purge removes its containers and volumes; a pass remakes") {
  running_app t;
  auto web = t.w->id_of("web");
  t.w->calls.clear();
  app_action a;
  a.kind = app_action_kind::purge;
  a.app_id = 1;
  auto e = t.ask_void(a);
  CHECK_MESSAGE(!e, t.sys.render(e));
  CHECK(t.w->count_prefix("remove volume 1_data") == 1);
  t.settle();
  CHECK(t.w->containers.count(web) == 0);
  CHECK(t.running("web"));
  CHECK(t.running("db"));
  CHECK(t.w->volumes.count("1_data") == 1); // made again, empty
  CHECK(t.w->count_prefix("create volume 1_data") == 1);
  CHECK(t.status().state == apps_state::idle);
}

TEST_CASE("service actions that are refused") {
  running_app t;
  auto web = t.w->id_of("web");
  service_action a;
  a.kind = service_action_kind::restart;
  a.app_id = 99;
  auto r = t.ask<service_action_done>(a);
  REQUIRE_FALSE(r);
  CHECK(r.error() == apps_errc::app_not_found);
  a.app_id = 1; // two services and none named
  r = t.ask<service_action_done>(a);
  REQUIRE_FALSE(r);
  CHECK(r.error() == apps_errc::service_required);
  a.service_name = "nope";
  r = t.ask<service_action_done>(a);
  REQUIRE_FALSE(r);
  CHECK(r.error() == apps_errc::service_not_found);
  t.settle();
  CHECK(t.w->id_of("web") == web); // nothing happened
  CHECK(t.w->containers.size() == 2);
}
