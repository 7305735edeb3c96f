// API keys and device tags in the store (schema migration 2).
#include "persistence/store.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using bosun::test::temp_dir;

namespace {

store open_store(const std::string& path,
                 std::vector<std::string_view> scripts = schema_migrations()) {
  store::options opts;
  opts.migrations = std::move(scripts);
  auto r = store::open(path, opts);
  if (!r)
    FAIL("open failed: " << caf::to_string(r.error()));
  return std::move(*r);
}

std::vector<api_key_record> keys(store& db) {
  auto r = db.api_keys();
  REQUIRE(r);
  return *r;
}

std::vector<device_tag> tags(store& db) {
  auto r = db.device_tags();
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_SUITE("store: api keys") {
  TEST_CASE("the global key of a schema-1 database moves to the key table") {
    temp_dir tmp;
    auto path = tmp.path() + "/bosun.sqlite";
    {
      auto db = open_store(path, {schema_migrations().at(0)});
      REQUIRE(db.put_config("api_key", "0123456789abcdef0123456789abcdef"));
      REQUIRE(db.put_config("uuid", "u"));
    }
    auto db = open_store(path);
    CHECK(db.migrated().from_version == 1);
    auto k = keys(db);
    REQUIRE(k.size() == 1);
    CHECK(k[0] == api_key_record{"0123456789abcdef0123456789abcdef", 0, ""});
    auto gone = db.get_config("api_key");
    REQUIRE(gone);
    CHECK(!*gone);
    auto kept = db.get_config("uuid");
    REQUIRE(kept);
    CHECK(*kept == std::optional<std::string>("u"));
  }

  TEST_CASE("a stored key replaces the key of the same app and service") {
    auto db = open_store(":memory:");
    REQUIRE(db.put_api_key({"g1", 0, ""}));
    REQUIRE(db.put_api_key({"a1", 7, "web"}));
    REQUIRE(db.put_api_key({"b1", 7, "worker"}));
    REQUIRE(db.put_api_key({"a2", 7, "web"}));
    REQUIRE(db.put_api_key({"g2", 0, ""}));
    auto k = keys(db);
    REQUIRE(k.size() == 3);
    CHECK(k[0] == api_key_record{"b1", 7, "worker"});
    CHECK(k[1] == api_key_record{"a2", 7, "web"});
    CHECK(k[2] == api_key_record{"g2", 0, ""});
  }

  TEST_CASE("a key held by another owner is refused, leaving both intact") {
    auto db = open_store(":memory:");
    REQUIRE(db.put_api_key({"same", 7, "web"}));
    CHECK(!db.put_api_key({"same", 8, "web"}));
    auto k = keys(db);
    REQUIRE(k.size() == 1);
    CHECK(k[0] == api_key_record{"same", 7, "web"});
  }
}

TEST_SUITE("store: device tags") {
  TEST_CASE("tags are set by name, keep their id, and come back sorted") {
    temp_dir tmp;
    auto path = tmp.path() + "/bosun.sqlite";
    {
      auto db = open_store(path);
      REQUIRE(db.put_device_tags({{"zone", "eu"}, {"floor", "2"}}));
    }
    auto db = open_store(path);
    auto before = tags(db);
    REQUIRE(before.size() == 2);
    CHECK(before[0].name == "floor");
    CHECK(before[1].name == "zone");
    REQUIRE(db.put_device_tags({{"zone", "us"}, {"rack", "a"}}));
    auto after = tags(db);
    REQUIRE(after.size() == 3);
    CHECK(after[0] == before[0]);
    CHECK(after[1].name == "rack");
    CHECK(after[2] == device_tag{before[1].id, "zone", "us"});
    CHECK(after[1].id != before[0].id);
    CHECK(after[1].id != before[1].id);
  }
}
