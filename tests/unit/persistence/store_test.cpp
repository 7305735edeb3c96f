#include "persistence/store.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

using namespace bosun;
using bosun::test::temp_dir;

namespace {

std::string file_in(const temp_dir& dir, const std::string& name) {
  return dir.path() + "/" + name;
}

} // namespace

namespace {

using scripts = std::vector<std::string_view>;

const std::string_view m1 = schema_migrations().at(0);
const std::string_view m2
  = "CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (1);";

store opened(const std::string& path, scripts s = schema_migrations()) {
  store::options opts;
  opts.migrations = std::move(s);
  auto r = store::open(path, opts);
  if (!r)
    FAIL("open failed: " << caf::to_string(r.error()));
  return std::move(*r);
}

caf::error open_error(const std::string& path,
                      scripts s = schema_migrations()) {
  store::options opts;
  opts.migrations = std::move(s);
  auto r = store::open(path, opts);
  if (r)
    FAIL("open succeeded unexpectedly");
  return r.error();
}

std::string sentence(const caf::error& e) {
  REQUIRE(e.context().match_elements<std::string>());
  return e.context().get_as<std::string>(0);
}

// The value under `key`; fails the test on a query error.
std::optional<std::string> got(store& db, const std::string& key) {
  auto r = db.get_config(key);
  if (!r)
    FAIL("get failed: " << caf::to_string(r.error()));
  return *r;
}

// A second connection, to look at the file as SQLite sees it.
int count_rows(const std::string& path, const std::string& table) {
  soci::session sql(soci::sqlite3, "db=\"" + path + "\"");
  int n = -1;
  sql << "SELECT count(*) FROM " + table, soci::into(n);
  return n;
}

// This process's open files whose path starts with `prefix` (the database
// and its -wal, -shm, -journal).
int open_files_under(const std::string& prefix) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind(prefix, 0) == 0)
      ++n;
  }
  return n;
}

} // namespace

TEST_SUITE("store: memory") {
  // Without configure_sqlite_once the first read of a connection allocates
  // SQLite's bulk page cache (about 85 KiB) and this grows by ~110 KiB.
  TEST_CASE("a connection holds what it read, not a preallocated cache") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    { opened(path); } // created and migrated
    auto before = sqlite_api::sqlite3_memory_used();
    auto db = opened(path);
    REQUIRE(db.put_config("localMode", "true"));
    CHECK(got(db, "localMode") == std::optional<std::string>("true"));
    auto held = sqlite_api::sqlite3_memory_used() - before;
    MESSAGE("one open connection holds " << held << " bytes of SQLite's");
    CHECK(held < 64 * 1024);
  }

  // Without the cache_size cap, every page read stays cached (~45 KiB here).
  TEST_CASE("a connection that read and wrote every page keeps two of them") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    { opened(path); }
    auto before = sqlite_api::sqlite3_memory_used();
    auto db = opened(path);
    for (int i = 0; i < 40; ++i)
      REQUIRE(db.put_config("key" + std::to_string(i), std::string(500, 'v')));
    auto all = db.all_config();
    REQUIRE(all);
    CHECK(all->size() >= 40);
    auto held = sqlite_api::sqlite3_memory_used() - before;
    MESSAGE("after 40 writes and a read of all: " << held << " bytes");
    CHECK(held < 32 * 1024);
  }

  // Without the release after migrating, a new database's connection keeps
  // every page the migrations wrote (~36 KiB more).
  TEST_CASE("a new database's connection does not keep what migrating read") {
    temp_dir tmp;
    auto before = sqlite_api::sqlite3_memory_used();
    auto db = opened(file_in(tmp, "bosun.sqlite"));
    auto held = sqlite_api::sqlite3_memory_used() - before;
    MESSAGE("a new database's connection holds " << held << " bytes");
    CHECK(held < 32 * 1024);
  }
}

TEST_SUITE("store: journal") {
  TEST_CASE("WAL holds three files open, rollback one at rest") {
    temp_dir tmp;
    for (auto kind : {store::options::journal_kind::wal,
                      store::options::journal_kind::rollback}) {
      bool wal = kind == store::options::journal_kind::wal;
      CAPTURE(wal);
      auto path = file_in(tmp, wal ? "wal.sqlite" : "rollback.sqlite");
      store::options opts;
      opts.journal = kind;
      auto r = store::open(path, opts);
      REQUIRE_MESSAGE(r, caf::to_string(r.error()));
      REQUIRE(r->put_config("a", "1"));
      REQUIRE(r->put_config({{"b", "2"}, {"c", "3"}}));
      CHECK(got(*r, "b") == std::string("2"));
      CHECK(r->journal_mode() == std::string(wal ? "wal" : "delete"));
      CHECK(open_files_under(path) == (wal ? 3 : 1));
      CHECK(std::filesystem::exists(path + "-journal") == false);
    }
    // Reopened as rollback, a WAL database switches and keeps its data.
    store::options opts;
    opts.journal = store::options::journal_kind::rollback;
    auto again = store::open(file_in(tmp, "wal.sqlite"), opts);
    REQUIRE(again);
    CHECK(got(*again, "c") == std::string("3"));
    CHECK(again->journal_mode() == std::string("delete"));
  }
}

TEST_SUITE("store: migrations") {
  TEST_CASE("a new file gets the whole schema, in WAL mode") {
    temp_dir tmp;
    auto path = file_in(tmp, "not/yet/there/bosun.sqlite");
    auto db = opened(path);
    CHECK(std::filesystem::exists(path));
    CHECK(db.migrated().from_version == 0);
    CHECK(db.migrated().to_version
          == static_cast<int>(schema_migrations().size()));
    CHECK(db.schema_version() == static_cast<int>(schema_migrations().size()));
    CHECK(db.journal_mode() == std::string("wal"));
    CHECK(db.path() == path);
  }

  TEST_CASE("re-opening applies nothing and keeps the data") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    {
      auto db = opened(path);
      REQUIRE(db.put_config("localMode", "true"));
    }
    auto db = opened(path);
    CHECK(db.migrated().from_version == db.migrated().to_version);
    CHECK(got(db, "localMode") == std::optional<std::string>("true"));
    CHECK(db.journal_mode() == std::string("wal"));
  }

  TEST_CASE("an older database gets only the migrations it lacks") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    {
      auto db = opened(path, {m1});
      REQUIRE(db.put_config("k", "v"));
    }
    {
      auto db = opened(path, {m1, m2});
      CHECK(db.migrated().from_version == 1);
      CHECK(db.migrated().to_version == 2);
      CHECK(got(db, "k") == std::optional<std::string>("v"));
    }
    {
      auto db = opened(path, {m1, m2});
      CHECK(db.migrated().from_version == 2);
    }
    CHECK(count_rows(path, "extra") == 1); // m2 ran exactly once
  }

  TEST_CASE("a database from a newer bosun is refused and left alone") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    {
      auto db = opened(path, {m1, m2});
      REQUIRE(db.put_config("k", "v"));
    }
    auto err = open_error(path, {m1});
    CHECK(err == db_errc::schema_too_new);
    CHECK(sentence(err)
          == "database " + path
               + " has schema version 2; this bosun knows up to 1 — refusing "
                 "to start");
    auto db = opened(path, {m1, m2});
    CHECK(db.migrated().from_version == 2);
    CHECK(got(db, "k") == std::optional<std::string>("v"));
  }

  TEST_CASE("a failing migration is rolled back completely") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    {
      auto db = opened(path, {m1});
      REQUIRE(db.put_config("k", "v"));
    }
    auto err = open_error(path, {m1, "CREATE TABLE t (x); NOT SQL AT ALL;"});
    CHECK(err == db_errc::migration_failed);
    CHECK(sentence(err).find("migration 2 failed: ") != std::string::npos);
    CHECK(sentence(err).find("syntax error") != std::string::npos);
    // Had `t` survived, this would fail with "table t already exists".
    auto db = opened(path, {m1, "CREATE TABLE t (x);"});
    CHECK(db.migrated().from_version == 1);
    CHECK(db.migrated().to_version == 2);
    CHECK(got(db, "k") == std::optional<std::string>("v"));
  }

  TEST_CASE("the built-in schema applies to an in-memory database") {
    auto db = opened(":memory:");
    CHECK(db.migrated().from_version == 0);
    CHECK(db.schema_version() == static_cast<int>(schema_migrations().size()));
  }

  TEST_CASE("a file that is not SQLite is refused, naming the file") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    std::ofstream(path) << std::string(4096, 'x');
    auto err = open_error(path);
    CHECK(err == db_errc::open_failed);
    CHECK(sentence(err).rfind("database " + path + ": ", 0) == 0);
    CHECK(sentence(err).find("not a database") != std::string::npos);
  }

  TEST_CASE("a directory that cannot be created is reported") {
    temp_dir tmp;
    std::ofstream(file_in(tmp, "plain-file")) << "x";
    auto err = open_error(file_in(tmp, "plain-file/sub/bosun.sqlite"));
    CHECK(err == db_errc::open_failed);
    CHECK(sentence(err).find("cannot create") != std::string::npos);
  }

  TEST_CASE("paths with spaces work") {
    temp_dir tmp;
    auto path = file_in(tmp, "data dir/bosun.sqlite");
    opened(path);
    CHECK(std::filesystem::exists(path));
  }
}

TEST_SUITE("migrate") {
  TEST_CASE("migrate applies scripts in order and records the version") {
    soci::session sql(soci::sqlite3, "db=:memory:");
    auto r = migrate(sql, "mem",
                     {"CREATE TABLE a (x);", "INSERT INTO a VALUES (7);"});
    REQUIRE(r);
    CHECK(r->from_version == 0);
    CHECK(r->to_version == 2);
    CHECK(schema_version(sql, "mem") == 2);
    int x = 0;
    sql << "SELECT x FROM a", soci::into(x);
    CHECK(x == 7);
  }

  TEST_CASE("migrate with nothing to do changes nothing") {
    soci::session sql(soci::sqlite3, "db=:memory:");
    auto r = migrate(sql, "mem", {});
    REQUIRE(r);
    CHECK(r->to_version == 0);
    CHECK(schema_version(sql, "mem") == 0);
  }

  TEST_CASE("migrate refuses a version above what it knows") {
    soci::session sql(soci::sqlite3, "db=:memory:");
    sql << "PRAGMA user_version = 7";
    auto r = migrate(sql, "/x.sqlite", schema_migrations());
    REQUIRE_FALSE(r);
    CHECK(r.error() == db_errc::schema_too_new);
    CHECK(sentence(r.error())
          == "database /x.sqlite has schema version 7; this bosun knows up to "
               + std::to_string(schema_migrations().size())
               + " — refusing to start");
    CHECK(schema_version(sql, "mem") == 7);
  }
}

TEST_SUITE("store: config table") {
  TEST_CASE("put, get, overwrite and delete a key") {
    auto db = opened(":memory:");
    CHECK(got(db, "a") == std::optional<std::string>{});
    REQUIRE(db.put_config("a", "1"));
    CHECK(got(db, "a") == std::optional<std::string>("1"));
    REQUIRE(db.put_config("a", "2"));
    CHECK(got(db, "a") == std::optional<std::string>("2"));
    REQUIRE(db.delete_config("a"));
    CHECK(got(db, "a") == std::optional<std::string>{});
    CHECK(db.delete_config("a")); // absent: still fine
  }

  TEST_CASE("empty values and odd keys are stored as given") {
    auto db = opened(":memory:");
    REQUIRE(db.put_config("", ""));
    REQUIRE(db.put_config("k'; DROP TABLE config; --", "v\n\"x\""));
    CHECK(got(db, "") == std::optional<std::string>(""));
    CHECK(got(db, "k'; DROP TABLE config; --")
          == std::optional<std::string>("v\n\"x\""));
  }

  TEST_CASE("all_config returns every key") {
    auto db = opened(":memory:");
    CHECK(db.all_config()->empty());
    REQUIRE(db.put_config({{"a", "1"}, {"b", "2"}}));
    REQUIRE(db.put_config("c", "3"));
    auto all = db.all_config();
    REQUIRE(all);
    CHECK(*all
          == std::map<std::string, std::string>{
            {"a", "1"}, {"b", "2"}, {"c", "3"}});
  }

  TEST_CASE("a failing statement is a query_failed error with SQLite's words") {
    temp_dir tmp;
    auto path = file_in(tmp, "bosun.sqlite");
    auto db = opened(path);
    {
      soci::session other(soci::sqlite3, "db=\"" + path + "\"");
      other << "DROP TABLE config";
    }
    auto r = db.get_config("a");
    REQUIRE_FALSE(r);
    CHECK(r.error() == db_errc::query_failed);
    CHECK(sentence(r.error()).find("no such table: config")
          != std::string::npos);
    auto w = db.put_config({{"a", "1"}, {"b", "2"}});
    REQUIRE_FALSE(w);
    CHECK(w.error() == db_errc::query_failed);
  }
}
