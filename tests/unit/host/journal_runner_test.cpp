// A journal run (POST /v2/journal-logs) streams its process's output to the
// sink and ends, on a thread of its own (a device) or on the scheduler
// (fleet-sim: no thread per run, the pipe looked at without waiting).
#include "actors/host/journal.hpp"
#include "tests/support/eventually.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>
#include <filesystem>
#include <memory>
#include <mutex>

using namespace bosun;
using namespace std::chrono_literals;

namespace {

struct received {
  std::mutex m;
  std::string text;
  bool ended = false;
};

journal_sink_actor::behavior_type sink(journal_sink_actor::pointer self,
                                       std::shared_ptr<received> out) {
  return {
    [self, out](journal_chunk& c, journal_runner_actor runner) {
      {
        std::lock_guard<std::mutex> g{out->m};
        out->text += c.data;
      }
      self->send(runner, journal_more{});
    },
    [self, out](journal_end) {
      std::lock_guard<std::mutex> g{out->m};
      out->ended = true;
      self->quit();
    },
  };
}

size_t threads() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

} // namespace

TEST_SUITE("journal runner") {
  TEST_CASE("streams the output and ends; on the scheduler without a thread") {
    for (bool detached : {true, false}) {
      CAPTURE(detached);
      caf::actor_system_config cfg;
      caf::actor_system sys{cfg.set("scheduler.max-threads", 2)};
      auto out = std::make_shared<received>();
      auto s = sys.spawn(sink, out);
      size_t before = threads();
      // Output, a pause (the pipe empty for a while), more output.
      spawn_journal_runner(sys, {"sh", "-c", "echo one; sleep 0.3; echo two"},
                           s, detached);
      size_t during = threads();
      test::eventually(
        10s,
        [&] {
          std::lock_guard<std::mutex> g{out->m};
          return out->ended;
        },
        "journal_end");
      std::lock_guard<std::mutex> g{out->m};
      CHECK(out->text == "one\ntwo\n");
      if (detached)
        CHECK(during > before);
      else
        CHECK(during == before);
    }
  }
}
