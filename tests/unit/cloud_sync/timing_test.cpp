// cloud_sync's timeline on virtual time (fixture.hpp): /v1/update triggers
// at each point of the poll cycle, a recovery from failures while triggers
// arrive, and the 10 s between state reports counted from the previous
// request's start.
#include "tests/unit/cloud_sync/fixture.hpp"

namespace {

// An api_keys actor whose global key comes only when the test says: sent
// ok_atom, it answers the requests so far.
struct keys_world {
  std::vector<caf::typed_response_promise<std::string>> asked;
};

caf::behavior slow_api_keys(caf::event_based_actor* self,
                            const std::shared_ptr<keys_world>& w) {
  return {
    [self, w](caf::get_atom,
              global_key_atom) -> caf::typed_response_promise<std::string> {
      auto rp = self->make_response_promise<std::string>();
      w->asked.push_back(rp);
      return rp;
    },
    [w](caf::ok_atom) {
      for (auto& rp : w->asked)
        rp.deliver(std::string("secret"));
      w->asked.clear();
    },
  };
}

// The fixture's target with another device name (its only change).
std::string renamed(const std::string& target) {
  auto out = target;
  out.replace(out.find(R"("name":"dev")"), 12, R"("name":"kitchen")");
  return out;
}

struct polls : deterministic {
  std::vector<caf::actor_clock::time_point> starts;

  sent_request poll() {
    auto p = take("GET", "/device/v3/");
    starts.push_back(p.at);
    return p;
  }
  void trigger() {
    CHECK(ask<bool>(update_request{}));
  }
  // No two polls went out within a second of each other.
  void check_gaps() const {
    for (size_t i = 1; i < starts.size(); ++i)
      CHECK_MESSAGE(starts[i] - starts[i - 1] >= 1s,
                    "polls " << i - 1 << " and " << i << " are "
                             << std::chrono::duration_cast<milliseconds>(
                                  starts[i] - starts[i - 1])
                                  .count()
                             << " ms apart");
  }
  // After an answered poll the next periodic one comes interval + jitter
  // (100 s + 7 s) later, not earlier and not later, with `etag`.
  void check_next_periodic(const std::string& etag) {
    advance(106999ms);
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(1ms);
    auto next = poll();
    CHECK(next.header("If-None-Match") == etag);
  }
};

} // namespace

TEST_SUITE("cloud_sync polls and triggers") {
  TEST_CASE_FIXTURE(polls, "a trigger before the scheduled poll replaces it") {
    start(options(true));
    auto first = poll();
    answer(first, 200, target_json("c1", "1"), "\"e1\"");
    advance(100s);
    trigger();
    auto now = poll();
    CHECK(now.at - first.at == 100s);
    CHECK(now.header("If-None-Match") == "\"e1\"");
    answer(now, 304);
    // Nothing at the 107 s the first poll had scheduled.
    check_next_periodic("\"e1\"");
    check_gaps();
  }

  TEST_CASE_FIXTURE(polls, "a trigger during the request polls again after "
                           "its answer, a second after its start") {
    start(options(true));
    auto first = poll();
    answer(first, 200, target_json("c1", "1"), "\"e1\"");
    advance(107s);
    auto p = poll();
    advance(200ms);
    trigger();
    CHECK(pending("GET", "/device/v3/") == 0); // one poll at a time
    advance(300ms);
    answer(p, 200, target_json("c2", "2"), "\"e2\"");
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(400ms);
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(100ms);
    auto again = poll();
    CHECK(again.at - p.at == 1s);
    CHECK(again.header("If-None-Match") == "\"e2\"");
    answer(again, 304);
    check_next_periodic("\"e2\"");
    check_gaps();
  }

  TEST_CASE_FIXTURE(polls, "a trigger during the apply polls a second after "
                           "the poll that brought the target") {
    start(options(true));
    auto first = poll();
    answer(first, 200, target_json("c1", "1"), "\"e1\"");
    advance(107s);
    auto p = poll();
    apps->hold_applies = true; // app_manager takes its time
    answer(p, 200, target_json("c2", "2"), "\"e2\"");
    advance(600ms);
    trigger();
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(400ms);
    auto again = poll();
    CHECK(again.at - p.at == 1s);
    CHECK(again.header("If-None-Match") == "\"e2\"");
    answer(again, 304);
    release_applies();
    CHECK(apps->target->apps.at(0).commit == "c2");
    check_next_periodic("\"e2\"");
    check_gaps();
  }

  TEST_CASE_FIXTURE(polls, "a trigger just after an answer waits for the "
                           "second to pass") {
    start(options(true));
    auto first = poll();
    answer(first, 200, target_json("c1", "1"), "\"e1\"");
    advance(107s);
    auto p = poll();
    advance(100ms);
    answer(p, 304);
    trigger();
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(900ms);
    auto again = poll();
    CHECK(again.at - p.at == 1s);
    answer(again, 304);
    check_next_periodic("\"e1\"");
    check_gaps();
  }

  TEST_CASE_FIXTURE(polls, "a recovery from 500s while triggers arrive: "
                           "polls a second apart at least, the last 200's "
                           "ETag, then interval + jitter") {
    start(options(true));
    auto first = poll();
    answer(first, 200, target_json("c1", "1"), "\"e1\"");
    advance(107s);
    auto p1 = poll();
    answer(p1, 500, "boom");
    // A trigger during the 30 s backoff polls at once...
    advance(10s);
    trigger();
    auto p2 = poll();
    CHECK(p2.header("If-None-Match") == "\"e1\"");
    // ...and one during that poll polls again after its (quick) answer.
    advance(300ms);
    trigger();
    answer(p2, 500, "boom");
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(700ms);
    auto p3 = poll();
    CHECK(p3.header("If-None-Match") == "\"e1\"");
    trigger(); // during p3 too
    answer(p3, 503, "busy");
    advance(1s);
    auto p4 = poll();
    CHECK(p4.header("If-None-Match") == "\"e1\"");
    // The cloud is back, with the device renamed meanwhile.
    answer(p4, 200, renamed(target_json("c1", "1")), "\"e4\"");
    CHECK(status().failure_streak == 0);
    trigger(); // right after the 200
    CHECK(pending("GET", "/device/v3/") == 0);
    advance(1s);
    auto p5 = poll();
    CHECK(p5.header("If-None-Match") == "\"e4\"");
    answer(p5, 304);
    advance(5s);
    trigger();
    auto p6 = poll();
    CHECK(p6.header("If-None-Match") == "\"e4\"");
    answer(p6, 304);
    check_next_periodic("\"e4\"");
    check_gaps();
  }
}

TEST_SUITE("cloud_sync report spacing") {
  TEST_CASE_FIXTURE(deterministic,
                    "the next report starts 10 s after the previous request "
                    "started, even when its collection came earlier and the "
                    "request failed at once") {
    auto keys = std::make_shared<keys_world>();
    auto slow_keys = sys.spawn(slow_api_keys, keys);
    auto o = options(true);
    o.cfg.app_update_poll_interval = 8s; // caps the report backoff at 8 s
    start(o, "{}", {}, slow_keys);
    settle_first_poll();
    // The first collection asks for the global key, which takes 2 s.
    REQUIRE(keys->asked.size() == 1);
    auto collected = sched.clock().now();
    advance(2s);
    self->send(slow_keys, caf::ok_atom_v);
    sched.run();
    auto first = take("PATCH", "/device/v3/state");
    CHECK(first.at - collected == 2s);
    fail(first); // e.g. closed before the answer
    // The backoff (8 s) would allow a retry 8 s after the request started.
    for (int i = 0; i < 40 && pending("PATCH", "/device/v3/state") == 0; ++i) {
      advance(500ms);
      self->send(slow_keys, caf::ok_atom_v);
      sched.run();
    }
    auto second = take("PATCH", "/device/v3/state");
    CHECK(second.at - first.at >= 10s);
    CHECK(second.at - first.at <= 11s);
    self->send_exit(slow_keys, caf::exit_reason::user_shutdown);
  }
}
