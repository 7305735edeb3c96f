// The device API's authentication rules (api/server/auth.hpp) and the key
// table behind them (actors/api_keys/key_table.hpp).
#include "actors/api_keys/key_table.hpp"
#include "api/server/auth.hpp"

#include <doctest/doctest.h>
#include <set>

using namespace bosun;
using namespace bosun::auth;

namespace {

const std::optional<std::string> no_query;

std::optional<std::string> q(std::string s) {
  return std::optional<std::string>{std::move(s)};
}

} // namespace

TEST_SUITE("auth: where the key comes from") {
  TEST_CASE("the query's apikey, else Bearer or ApiKey in any case") {
    struct row {
      std::optional<std::string> query;
      std::string header;
      std::optional<std::string> key;
    };
    const row rows[] = {
      {no_query, "", std::nullopt},
      {no_query, "Bearer abc123", q("abc123")},
      {no_query, "bearer abc123", q("abc123")},
      {no_query, "BEARER abc123", q("abc123")},
      {no_query, "ApiKey abc_123", q("abc_123")},
      {no_query, "apikey abc", q("abc")},
      {no_query, "Basic abc", std::nullopt},
      {no_query, "Bearer", std::nullopt},
      {no_query, "Bearer ", std::nullopt},
      {no_query, "Bearer  abc", std::nullopt},    // two spaces
      {no_query, "Bearer abc-123", std::nullopt}, // \w+ only
      {no_query, "Bearer abc 123", std::nullopt},
      {no_query, "Token abc", std::nullopt},
      {q("fromquery"), "Bearer fromheader", q("fromquery")},
      {q(""), "Bearer fromheader", q("fromheader")}, // empty query ignored
      {q("any-thing.goes"), "", q("any-thing.goes")},
    };
    for (auto& r : rows) {
      CAPTURE(r.header);
      CAPTURE(r.query.value_or("<none>"));
      CHECK(request_key(r.query, r.header) == r.key);
    }
  }
}

TEST_SUITE("auth: the decision table") {
  TEST_CASE("open routes, local mode, no key, a key to look up") {
    CHECK(is_open_route("GET", "/ping"));
    CHECK(is_open_route("GET", "/v1/healthy"));
    CHECK_FALSE(is_open_route("POST", "/ping"));
    CHECK_FALSE(is_open_route("GET", "/v2/version"));
    CHECK_FALSE(is_open_route("GET", "/ping/"));

    // open route: never checked, whatever the mode or key
    CHECK(decide(true, false, std::nullopt) == verdict::allow_all);
    CHECK(decide(true, false, q("k")) == verdict::allow_all);
    // local (or unmanaged) mode: no auth at all
    CHECK(decide(false, true, std::nullopt) == verdict::allow_all);
    CHECK(decide(false, true, q("wrong")) == verdict::allow_all);
    // managed: a key is needed and looked up
    CHECK(decide(false, false, std::nullopt) == verdict::unauthorized);
    CHECK(decide(false, false, q("k")) == verdict::lookup);
  }

  TEST_CASE("an unknown key is refused; global sees all, an app key its app") {
    CHECK_FALSE(scope_of(std::nullopt));

    auto global = scope_of(api_key_record{"g", 0, ""});
    REQUIRE(global);
    CHECK(global->all);
    CHECK(global->allows(1));
    CHECK(global->allows(1234567));

    auto app = scope_of(api_key_record{"a", 7, "web"});
    REQUIRE(app);
    CHECK_FALSE(app->all);
    CHECK(app->allows(7));
    CHECK_FALSE(app->allows(8));
    CHECK_FALSE(app->allows(0));

    CHECK(scope::everything().allows(42));
  }
}

TEST_SUITE("key_table") {
  TEST_CASE("finds keys by value and by owner") {
    key_table t;
    t.load({{"g", 0, ""}, {"a", 7, "web"}, {"b", 7, "worker"}});
    CHECK(t.size() == 3);
    CHECK(t.global() == std::optional<std::string>("g"));
    CHECK(t.key_of(7, "web") == std::optional<std::string>("a"));
    CHECK_FALSE(t.key_of(8, "web"));
    auto r = t.find("b");
    REQUIRE(r);
    CHECK(r->app_id == 7);
    CHECK(r->service_name == "worker");
    CHECK_FALSE(t.find("nope"));
  }

  TEST_CASE("a replaced key is refused at once; the others stay valid") {
    key_table t;
    t.load({{"g", 0, ""}, {"a", 7, "web"}});
    t.put({"a2", 7, "web"});
    CHECK_FALSE(t.find("a"));
    CHECK(t.find("a2"));
    CHECK(t.key_of(7, "web") == std::optional<std::string>("a2"));
    CHECK(t.find("g"));
    CHECK(t.size() == 2);
  }

  TEST_CASE("made keys are fresh: 32 lowercase hex, never one in use") {
    int calls = 0;
    // A generator that repeats itself: make() must skip keys in use.
    key_table t([&calls] { return ++calls < 3 ? std::string("g") : "n"; });
    t.load({{"g", 0, ""}});
    auto r = t.make(5, "svc");
    CHECK(r.key == "n");
    CHECK(r.app_id == 5);
    CHECK(r.service_name == "svc");
    CHECK_FALSE(t.find("n")); // not added until put()

    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
      auto k = random_api_key();
      CHECK(k.size() == 32);
      CHECK(k.find_first_not_of("0123456789abcdef") == std::string::npos);
      seen.insert(k);
    }
    CHECK(seen.size() == 50);
  }
}
