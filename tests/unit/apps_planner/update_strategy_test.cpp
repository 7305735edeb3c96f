// Update strategy and hand-over timeout from a service's labels.
#include "actors/apps/update_strategy.hpp"
#include "tests/unit/apps_planner/fixtures.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::test;

TEST_SUITE("update_strategy") {
  TEST_CASE("the strategy label picks the strategy; anything else is the "
            "default") {
    struct row {
      const char* label; // nullptr = no label
      update_strategy want;
    };
    const row table[] = {
      {nullptr, update_strategy::download_then_kill},
      {"download-then-kill", update_strategy::download_then_kill},
      {"kill-then-download", update_strategy::kill_then_download},
      {"delete-then-download", update_strategy::delete_then_download},
      {"hand-over", update_strategy::hand_over},
      {"Hand-Over", update_strategy::download_then_kill},
      {"", update_strategy::download_then_kill},
      {"yolo", update_strategy::download_then_kill},
    };
    for (const auto& r : table) {
      INFO("label " << (r.label ? r.label : "(none)"));
      auto s = r.label ? strategy(svc("web"), r.label) : svc("web");
      CHECK(strategy_of(s) == r.want);
    }
  }

  TEST_CASE("the legacy io.resin label counts; io.balena wins") {
    auto s = labelled(svc("web"), "io.resin.update.strategy", "hand-over");
    CHECK(strategy_of(s) == update_strategy::hand_over);
    s = strategy(s, "kill-then-download");
    CHECK(strategy_of(s) == update_strategy::kill_then_download);
  }

  TEST_CASE("the hand-over timeout label is in ms; invalid values fall back") {
    struct row {
      const char* label;
      int64_t want;
    };
    const row table[] = {
      {nullptr, 60000}, {"5000", 5000},
      {"0", 0},         {"", 60000},
      {"-5", 60000},    {"1.5", 60000},
      {"10s", 60000},   {"99999999999999999999", 60000},
    };
    for (const auto& r : table) {
      INFO("label " << (r.label ? r.label : "(none)"));
      auto s = svc("web");
      if (r.label)
        s = labelled(s, "io.balena.update.handover-timeout", r.label);
      CHECK(handover_timeout_ms(s, 60000) == r.want);
    }
  }

  TEST_CASE("to_string gives the label spelling") {
    CHECK(std::string{to_string(update_strategy::hand_over)} == "hand-over");
    CHECK(std::string{to_string(update_strategy::delete_then_download)}
          == "delete-then-download");
  }
}
