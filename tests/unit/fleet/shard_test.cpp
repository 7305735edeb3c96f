// --shard i/n: the slices of a fleet's device indices are disjoint, cover
// every device together, are the same on every machine, and differ in size
// by at most one.
#include "tools/fleet-sim/shard.hpp"

#include <doctest/doctest.h>
#include <vector>

namespace bosun::fleet {

TEST_SUITE("fleet-sim shards") {
  TEST_CASE("two shards cover disjoint devices and together all of them") {
    auto a = shard_range(10, {0, 2});
    auto b = shard_range(10, {1, 2});
    CHECK(a.first == 0);
    CHECK(a.last == 5);
    CHECK(b.first == 5);
    CHECK(b.last == 10);
  }

  TEST_CASE("n shards of uneven counts: disjoint, complete, balanced") {
    for (size_t n : {1, 2, 3, 7}) {
      for (size_t total : {0, 1, 2, 5, 6, 7, 10, 11, 100, 1001, 10000}) {
        CAPTURE(n);
        CAPTURE(total);
        std::vector<int> seen(total, 0);
        size_t smallest = total;
        size_t largest = 0;
        for (size_t i = 0; i < n; ++i) {
          auto r = shard_range(total, {i, n});
          REQUIRE(r.first <= r.last);
          REQUIRE(r.last <= total);
          for (auto d = r.first; d < r.last; ++d)
            ++seen[d];
          smallest = std::min(smallest, r.size());
          largest = std::max(largest, r.size());
          // Deterministic: the same answer again.
          auto again = shard_range(total, {i, n});
          CHECK(again.first == r.first);
          CHECK(again.last == r.last);
        }
        for (size_t d = 0; d < total; ++d)
          CHECK_MESSAGE(seen[d] == 1, "device " << d);
        CHECK(largest - smallest <= 1);
      }
    }
  }

  TEST_CASE("i/n parses; anything else is refused with a reason") {
    auto s = parse_shard("2/7");
    REQUIRE(s);
    CHECK(s->index == 2);
    CHECK(s->count == 7);
    for (const char* bad : {"", "3", "7/7", "8/7", "0/0", "-1/2", "a/2", "1/b",
                            "1/2/3", " 1/2"}) {
      CAPTURE(bad);
      std::string why;
      CHECK_FALSE(parse_shard(bad, &why));
      CHECK_FALSE(why.empty());
    }
  }
}

} // namespace bosun::fleet
