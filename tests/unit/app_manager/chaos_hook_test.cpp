// The kill points' setting (actors/apps/chaos_hook.hpp): what
// BOSUN_CHAOS_KILL_AT accepts, and the step kinds it names.
#include "actors/apps/chaos_hook.hpp"

#include <doctest/doctest.h>

using bosun::chaos::kind_of;
using bosun::chaos::parse_kill_point;
using bosun::chaos::phase;

TEST_SUITE("app_manager") {
  TEST_CASE("a kill point is <kind>:<nth>:<before|after>; anything else is "
            "refused") {
    auto p = parse_kill_point("lock-take:2:after");
    CHECK(p.ok);
    CHECK(p.kind == "lock-take");
    CHECK(p.nth == 2);
    CHECK(p.when == phase::after);
    CHECK(parse_kill_point("fetch:1:before").when == phase::before);
    for (auto bad : {"", "fetch", "fetch:1", ":1:before", "fetch:0:before",
                     "fetch:x:before", "fetch:1:during", "fetch:-1:after",
                     "fetch:1234567:after"})
      CHECK_MESSAGE(!parse_kill_point(bad).ok, bad);
  }

  TEST_CASE("each planner step has its kind") {
    using namespace bosun;
    CHECK(std::string(kind_of(step{steps::fetch_image{}})) == "fetch");
    CHECK(std::string(kind_of(step{steps::remove_volume{}}))
          == "volume-remove");
    CHECK(std::string(kind_of(step{steps::kill_service{}})) == "kill");
    CHECK(std::string(kind_of(step{steps::start_service{}})) == "start");
    CHECK(std::string(kind_of(step{steps::take_lock{}})) == "lock-take");
    CHECK(std::string(kind_of(step{steps::release_lock{}})) == "lock-release");
    CHECK(std::string(kind_of(step{steps::update_commit{}})) == "commit");
  }
}
