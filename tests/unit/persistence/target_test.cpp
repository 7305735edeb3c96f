// The db actor keeps the last accepted target across restarts.
#include "persistence/db.hpp"
#include "tests/support/process.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;
using namespace bosun;

namespace {

target_state sample_target() {
  target_state t;
  t.source = target_source::local;
  t.device_name = "dev";
  t.config["SUPERVISOR_POLL_INTERVAL"] = "60000";
  target_app app;
  app.uuid = "1";
  app.app_id = 1;
  app.name = "demo";
  app.commit = "abc";
  app.release_id = 7;
  target_service svc;
  svc.name = "web";
  svc.service_id = 11;
  svc.image_id = 12;
  svc.image = "127.0.0.1:5000/bosun/busybox:1";
  svc.config.environment["PORT"] = "80";
  app.services.push_back(svc);
  t.apps.push_back(app);
  return t;
}

struct system_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.max-threads", 2)};
  caf::scoped_actor self{sys};

  db_actor open(const std::string& path) {
    auto opened = open_db(path);
    REQUIRE(opened);
    return spawn_db(sys, std::move(*opened));
  }

  std::optional<target_state> load(db_actor db) {
    std::optional<target_state> out;
    self->request(db, 10s, caf::get_atom_v, target_atom_v)
      .receive([&](std::optional<target_state>& t) { out = std::move(t); },
               [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }
};

} // namespace

TEST_SUITE("db target") {
  TEST_CASE_FIXTURE(system_fixture,
                    "a stored target survives closing and reopening") {
    bosun::test::temp_dir dir;
    auto path = dir.path() + "/bosun.sqlite";
    auto db = open(path);
    CHECK_FALSE(load(db).has_value());
    auto t = sample_target();
    self->request(db, 10s, caf::put_atom_v, target_atom_v, t)
      .receive([] {}, [&](caf::error& e) { FAIL(sys.render(e)); });
    self->send_exit(db, caf::exit_reason::user_shutdown);
    auto again = open(path);
    auto loaded = load(again);
    REQUIRE(loaded.has_value());
    CHECK(loaded->source == target_source::local);
    CHECK(loaded->config == t.config);
    REQUIRE(loaded->apps.size() == 1);
    CHECK(loaded->apps[0].commit == "abc");
    REQUIRE(loaded->apps[0].services.size() == 1);
    CHECK(loaded->apps[0].services[0].image == t.apps[0].services[0].image);
    CHECK(loaded->apps[0].services[0].config.environment.at("PORT") == "80");
    self->send_exit(again, caf::exit_reason::user_shutdown);
  }
}
