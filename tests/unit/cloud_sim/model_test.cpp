#include "tools/cloud-sim/model.hpp"

#include <doctest/doctest.h>

using namespace bosun::cloud_sim;

TEST_SUITE("model") {
  TEST_CASE("keeps ids, keys and uuids unique") {
    model m;
    fleet f;
    f.id = 1;
    f.provisioning_key = "pk";
    CHECK(m.add_fleet(f) == outcome::ok);
    CHECK(m.add_fleet(f) == outcome::conflict);
    device d;
    d.uuid = "u";
    d.api_key = "k";
    d.fleet = 9;
    CHECK(m.add_device(d) == outcome::not_found);
    d.fleet = 1;
    int64_t id = 0;
    CHECK(m.add_device(d, &id) == outcome::ok);
    CHECK(id == 1);
    CHECK(m.add_device(d) == outcome::conflict);
    device other = d;
    other.uuid = "v"; // same key
    CHECK(m.add_device(other) == outcome::conflict);
    other.api_key = "k2";
    other.id = 1; // same id
    CHECK(m.add_device(other) == outcome::conflict);
    other.id = 0;
    CHECK(m.add_device(other, &id) == outcome::ok);
    CHECK(id == 2);
    CHECK(m.device_for_key("k2")->uuid == "v");
    CHECK(m.set_device_key(2, "k") == outcome::conflict);
    CHECK(m.set_device_key(2, "k3") == outcome::ok);
    CHECK(m.device_for_key("k2") == nullptr);
    CHECK(m.remove_fleet(1) == outcome::conflict);
    CHECK(m.remove_device("v") == outcome::ok);
    CHECK(m.device_by_id(2) == nullptr);
    CHECK(m.device_for_key("k3") == nullptr);
  }

  TEST_CASE("keeps the newest records and answers since/device queries") {
    model m(3);
    for (int i = 0; i < 5; ++i)
      m.add_record(record_kind::log, i, i % 2 == 0 ? "a" : "b", "",
                   std::to_string(i));
    auto all = m.query(record_kind::log, {});
    REQUIRE(all.size() == 3);
    CHECK(all[0]->body == "2");
    CHECK(m.dropped(record_kind::log) == 2);
    record_query q;
    q.since = all[1]->seq;
    CHECK(m.query(record_kind::log, q).size() == 2);
    q.device = "a";
    auto only_a = m.query(record_kind::log, q);
    REQUIRE(only_a.size() == 1);
    CHECK(only_a[0]->body == "4");
    q = {};
    q.limit = 1;
    CHECK(m.query(record_kind::log, q).size() == 1);
    CHECK(m.query(record_kind::report, {}).empty());
    m.reset_records();
    CHECK(m.query(record_kind::log, {}).empty());
  }

  TEST_CASE("counts requests per route and per device") {
    model m;
    fleet f;
    f.id = 1;
    REQUIRE(m.add_fleet(f) == outcome::ok);
    device d;
    d.uuid = "u";
    d.fleet = 1;
    REQUIRE(m.add_device(d) == outcome::ok);
    m.count_request(route::state_get, "u", 42);
    m.count_bytes_in(route::state_get, "u", 100);
    m.count_response(route::state_get, "u", 304, 50);
    m.count_request(route::state_get, "", 43);
    m.count_response(route::state_get, "", 0, 0);
    auto& t = m.counts()[index_of(route::state_get)];
    CHECK(t.requests == 2);
    CHECK(t.bytes_in == 100);
    CHECK(t.bytes_out == 50);
    CHECK(t.statuses.at(304) == 1);
    CHECK(t.statuses.at(0) == 1);
    auto* dev = m.find_device("u");
    CHECK(dev->counts[index_of(route::state_get)].requests == 1);
    CHECK(dev->last_seen_ms == 42);
  }

  TEST_CASE("caches the rendered target until something changes") {
    model m;
    fleet f;
    f.id = 1;
    f.apps = R"({"a":{}})";
    REQUIRE(m.add_fleet(f) == outcome::ok);
    device d;
    d.uuid = "u";
    d.fleet = 1;
    d.name = "n";
    REQUIRE(m.add_device(d) == outcome::ok);
    auto* dev = m.find_device("u");
    CHECK(m.target_body(*dev)
          == R"({"u":{"name":"n","config":{},"apps":{"a":{}}}})");
    auto etag = m.target_etag(*dev);
    CHECK(m.target_etag(*dev) == etag);
    dev->config_vars["RESIN_X"] = "1";
    m.changed(*dev);
    CHECK(m.target_etag(*dev) != etag);
    CHECK(m.target_body(*dev).find("RESIN_X") != std::string::npos);
    CHECK(make_etag("a") != make_etag("b"));
  }
}
