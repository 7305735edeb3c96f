#include "persistence/db.hpp"
#include "tests/support/process.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <chrono>
#include <doctest/doctest.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

using namespace bosun;
using bosun::test::temp_dir;

namespace {

std::string file_in(const temp_dir& dir, const std::string& name) {
  return dir.path() + "/" + name;
}

} // namespace
using namespace std::chrono_literals;

namespace {

// A deadline, not a sleep: replies normally come within milliseconds.
constexpr auto timeout = 10s;

caf::actor_system_config& configured(caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", 2);
  add_db_error_category(cfg);
  return cfg;
}

// An actor system with a db actor on `path`; stops the actor first.
struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  db_actor db;

  explicit fixture(const std::string& path) : sys(configured(cfg)) {
    auto opened = open_db(path);
    if (!opened)
      FAIL("open failed: " << db_error_message(opened.error()));
    db = spawn_db(sys, std::move(*opened));
  }

  ~fixture() {
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  }

  std::optional<std::string> get(const std::string& key) {
    caf::scoped_actor self{sys};
    std::optional<std::string> out;
    self->request(db, timeout, caf::get_atom_v, config_kv_atom_v, key)
      .receive([&](const std::optional<std::string>& v) { out = v; },
               [&](const caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  std::map<std::string, std::string> all() {
    caf::scoped_actor self{sys};
    std::map<std::string, std::string> out;
    self->request(db, timeout, caf::get_atom_v, config_kv_atom_v)
      .receive([&](const std::map<std::string, std::string>& v) { out = v; },
               [&](const caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  // Runs a request whose reply is empty; returns its error (none = ok).
  template <class... Ts>
  caf::error ask(Ts&&... xs) {
    caf::scoped_actor self{sys};
    caf::error out;
    bool replied = false;
    self->request(db, timeout, std::forward<Ts>(xs)...)
      .receive([&] { replied = true; },
               [&](const caf::error& e) {
                 replied = true;
                 out = e;
               });
    CHECK(replied);
    return out;
  }
};

} // namespace

TEST_SUITE("db actor") {
  TEST_CASE("put, get, overwrite, delete and list config keys") {
    fixture f(":memory:");
    CHECK(f.get("apiEndpointOverride") == std::nullopt);
    CHECK_FALSE(f.ask(caf::put_atom_v, config_kv_atom_v,
                      std::string("apiEndpointOverride"),
                      std::string("https://a")));
    CHECK(f.get("apiEndpointOverride")
          == std::optional<std::string>("https://a"));
    CHECK_FALSE(f.ask(caf::put_atom_v, config_kv_atom_v,
                      std::string("apiEndpointOverride"),
                      std::string("https://b")));
    CHECK_FALSE(f.ask(caf::put_atom_v, config_kv_atom_v,
                      std::map<std::string, std::string>{{"localMode", "true"},
                                                         {"name", "x"}}));
    CHECK(f.all()
          == std::map<std::string, std::string>{
            {"apiEndpointOverride", "https://b"},
            {"localMode", "true"},
            {"name", "x"}});
    CHECK_FALSE(
      f.ask(caf::delete_atom_v, config_kv_atom_v, std::string("name")));
    CHECK(f.get("name") == std::nullopt);
    CHECK(f.all().size() == 2);
  }

  TEST_CASE("the actor is named db") {
    fixture f(":memory:");
    auto* actor = dynamic_cast<caf::local_actor*>(
      caf::actor_cast<caf::abstract_actor*>(f.db));
    REQUIRE(actor);
    CHECK(std::string(actor->name()) == "db");
  }

  TEST_CASE("values survive a restart of the agent") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    {
      fixture f(path);
      CHECK_FALSE(f.ask(caf::put_atom_v, config_kv_atom_v, std::string("k"),
                        std::string("v")));
    }
    fixture f(path);
    CHECK(f.get("k") == std::optional<std::string>("v"));
  }

  TEST_CASE("a failed statement comes back as a db error, rendered") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    fixture f(path);
    {
      soci::session other(soci::sqlite3, "db=\"" + path + "\"");
      other << "DROP TABLE config";
    }
    auto err = f.ask(caf::put_atom_v, config_kv_atom_v, std::string("k"),
                     std::string("v"));
    REQUIRE(err);
    CHECK(err == db_errc::query_failed);
    CHECK(db_error_message(err).find("no such table: config")
          != std::string::npos);
    CHECK(f.sys.render(err).rfind("db: query_failed: database " + path, 0)
          == 0);
  }

  TEST_CASE("open_db reports a too-new database instead of spawning") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    {
      soci::session sql(soci::sqlite3, "db=\"" + path + "\"");
      sql << "PRAGMA user_version = 7";
    }
    auto db = open_db(path);
    REQUIRE_FALSE(db);
    CHECK(db.error() == db_errc::schema_too_new);
    CHECK(db_error_message(db.error())
          == "database " + path
               + " has schema version 7; this bosun knows up to "
               + std::to_string(schema_migrations().size())
               + " — refusing to start");
  }

  TEST_CASE("db_error_message falls back to CAF's rendering") {
    CHECK_FALSE(
      db_error_message(caf::make_error(caf::sec::request_timeout)).empty());
  }
}
