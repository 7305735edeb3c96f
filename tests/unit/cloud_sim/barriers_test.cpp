// The shards' barriers (tools/cloud-sim/barriers.hpp): open when all n
// arrived, retries change nothing, mismatched shards are refused with the
// reason, and a barrier an earlier run passed is not passed again.
#include "tools/cloud-sim/barriers.hpp"

#include <doctest/doctest.h>

using namespace bosun::cloud_sim;

TEST_SUITE("barrier_table") {
  TEST_CASE("opens when the last of n shards arrives, at its time") {
    barrier_table t;
    std::string why;
    CHECK(t.arrive("s0", 2, 3, "tag", "r2", 100, why) == outcome::ok);
    CHECK(t.arrive("s0", 0, 3, "tag", "r0", 150, why) == outcome::ok);
    const auto* b = t.find("s0");
    REQUIRE(b != nullptr);
    CHECK_FALSE(b->open());
    CHECK(b->arrived.size() == 2);
    CHECK(t.arrive("s0", 1, 3, "tag", "r1", 400, why) == outcome::ok);
    CHECK(b->open());
    CHECK(*b->opened_ms == 400);
    CHECK(b->arrived.at(2).ms == 100);
    // Another barrier is another count.
    CHECK(t.find("s1") == nullptr);
    CHECK(t.arrive("s1", 0, 3, "tag", "r0", 500, why) == outcome::ok);
    CHECK_FALSE(t.find("s1")->open());
  }

  TEST_CASE("one shard alone opens a barrier of one") {
    barrier_table t;
    std::string why;
    CHECK(t.arrive("x", 0, 1, "", "r", 7, why) == outcome::ok);
    CHECK(t.find("x")->open());
  }

  TEST_CASE("arriving again from the same run changes nothing") {
    barrier_table t;
    std::string why;
    CHECK(t.arrive("s", 0, 2, "tag", "r0", 100, why) == outcome::ok);
    CHECK(t.arrive("s", 0, 2, "tag", "r0", 900, why) == outcome::ok);
    const auto* b = t.find("s");
    CHECK_FALSE(b->open());
    CHECK(b->arrived.size() == 1);
    CHECK(b->arrived.at(0).ms == 100);
    CHECK(t.arrive("s", 1, 2, "tag", "r1", 1000, why) == outcome::ok);
    CHECK(t.arrive("s", 1, 2, "tag", "r1", 2000, why) == outcome::ok);
    CHECK(*b->opened_ms == 1000);
  }

  TEST_CASE("a restarted shard replaces its arrival while the barrier is "
            "closed; once open, another run's arrival is refused") {
    barrier_table t;
    std::string why;
    CHECK(t.arrive("s", 0, 2, "tag", "old", 100, why) == outcome::ok);
    CHECK(t.arrive("s", 0, 2, "tag", "new", 200, why) == outcome::ok);
    CHECK(t.find("s")->arrived.at(0).run == "new");
    CHECK(t.find("s")->arrived.at(0).ms == 200);
    CHECK(t.arrive("s", 1, 2, "tag", "r1", 300, why) == outcome::ok);
    REQUIRE(t.find("s")->open());
    CHECK(t.arrive("s", 0, 2, "tag", "rerun", 400, why) == outcome::conflict);
    CHECK(why.find("another run") != std::string::npos);
    CHECK(t.find("s")->arrived.at(0).run == "new");
  }

  TEST_CASE("a shard with another count or tag is refused with the reason") {
    barrier_table t;
    std::string why;
    CHECK(t.arrive("s", 0, 2, "ci/abc", "r0", 1, why) == outcome::ok);
    CHECK(t.arrive("s", 1, 3, "ci/abc", "r1", 2, why) == outcome::conflict);
    CHECK(why.find("for 2 shards, not 3") != std::string::npos);
    CHECK(t.arrive("s", 1, 2, "ci/xyz", "r1", 3, why) == outcome::conflict);
    CHECK(why.find("ci/xyz") != std::string::npos);
    CHECK(why.find("ci/abc") != std::string::npos);
    CHECK(t.find("s")->arrived.size() == 1);
    CHECK(t.arrive("s", 2, 2, "ci/abc", "r2", 4, why) == outcome::invalid);
    CHECK(t.arrive("z", 0, 0, "ci/abc", "r0", 4, why) == outcome::invalid);
    CHECK(t.find("z") == nullptr);
  }

  TEST_CASE("clear forgets every barrier") {
    barrier_table t;
    std::string why;
    CHECK(t.arrive("s", 0, 1, "", "r", 1, why) == outcome::ok);
    t.clear();
    CHECK(t.find("s") == nullptr);
    CHECK(t.all().empty());
  }
}
