// The simulated engine actor in virtual time: request durations, pulls,
// container lives (crash, crash-loop, unhealthy), log streams, events,
// engine down, determinism.
#include "actors/images/image_logic.hpp"
#include "tests/unit/sim_engine/fixture.hpp"

namespace bosun::simtest {

TEST_SUITE("sim engine: time") {
  TEST_CASE_FIXTURE(deterministic, "creates and starts take their configured "
                                   "time on the actor clock") {
    pull("reg.local/app:1");
    auto created
      = send_and_poll<std::string>(container_create_req{spec_of("web")});
    CHECK(!created);
    advance(19ms);
    CHECK(!poll<std::string>());
    advance(1ms);
    auto id = poll<std::string>();
    REQUIRE(id);
    REQUIRE(*id);
    self->send(engine, container_start_req{**id});
    run();
    advance(99ms);
    CHECK(!poll_void());
    CHECK(s->actions().back() == "create");
    advance(1ms);
    auto started = poll_void();
    REQUIRE(started);
    CHECK(!*started);
    CHECK(s->actions().back() == "start");
  }

  TEST_CASE_FIXTURE(deterministic, "a pull takes latency plus size over "
                                   "bandwidth and reports progress to 100 %") {
    image_pull_req r;
    r.pull.from_image = "reg.local/app";
    r.pull.tag = "1";
    r.listener = pulls;
    self->send(engine, r);
    run();
    // 2 layers: 3 latencies (manifest, each layer) + 1 s download + 0.25 s
    // extraction = 1.4 s, less at most 1 ms per transfer (whole ms).
    advance(1395ms);
    CHECK(!poll_void());
    CHECK(!s->pulls.empty());
    advance(5ms);
    auto done = poll_void();
    REQUIRE(done);
    CHECK(!*done);
    image_logic::pull_tracker t;
    for (const auto& p : s->pulls) {
      CHECK(p.image == "reg.local/app:1");
      t.add(p.progress);
    }
    CHECK(t.layers() == 2);
    CHECK(t.percent() >= 99);
    CHECK(s->pulls.back().progress.status
          == "Status: Downloaded newer image for reg.local/app:1");
    CHECK(s->actions("image") == std::vector<std::string>{"pull"});
    auto again = ask<image_inspect>(image_inspect_req{"reg.local/app:1"});
    REQUIRE(again);
    CHECK(again->repo_tags == string_list{"reg.local/app:1"});
  }

  TEST_CASE("pulls fail as the registry model says: missing images 404, "
            "failed transfers inside the stream") {
    auto o = deterministic::defaults();
    o.registry.missing = {"reg.local/gone:1"};
    o.registry.failure_rate = 1;
    o.registry.failure_message = "unexpected EOF";
    deterministic f{o};
    image_pull_req gone;
    gone.pull.from_image = "reg.local/gone:1";
    CHECK(what(f.ask_void(gone)).first == engine_errc::not_found);
    image_pull_req r;
    r.pull.from_image = "reg.local/app:1";
    CHECK(
      what(f.ask_void(r))
      == std::pair{engine_errc::stream_error, std::string{"unexpected EOF"}});
    CHECK(
      what(f.ask<image_inspect>(image_inspect_req{"reg.local/app:1"}).error())
        .first
      == engine_errc::not_found);
  }

  TEST_CASE("one seed gives one run: ids and pull failures repeat") {
    auto outcomes = [](uint64_t seed) {
      auto o = deterministic::defaults();
      o.seed = seed;
      o.registry.failure_rate = 0.5;
      o.registry.latency = 1ms;
      o.registry.image_size = 1000;
      deterministic f{o};
      std::string out;
      for (int i = 0; i < 24; ++i) {
        image_pull_req r;
        r.pull.from_image = "reg.local/img" + std::to_string(i);
        out += f.ask_void(r) ? 'x' : '.';
      }
      out += " " + f.ask<engine_info>(engine_info_req{})->id;
      return out;
    };
    auto a = outcomes(1);
    CHECK(a == outcomes(1));
    CHECK(a != outcomes(2));
    CHECK(a.find('x') != std::string::npos);
    CHECK(a.find('.') != std::string::npos);
  }
}

TEST_SUITE("sim engine: container lives") {
  TEST_CASE_FIXTURE(deterministic, "a crash-looping service exits after its "
                                   "run time on every start") {
    self->send(engine, sim_behave{"main", {behaviour_kind::crash_loop, 2s, 3}});
    auto id = running("web");
    advance(1999ms);
    CHECK(inspect(id).state.running);
    advance(1ms);
    auto i = inspect(id);
    CHECK(i.state.status == "exited");
    CHECK(i.state.exit_code == 3);
    REQUIRE(!ask_void(container_start_req{id}));
    advance(2s);
    CHECK(inspect(id).state.status == "exited");
    auto a = s->actions();
    CHECK(std::count(a.begin(), a.end(), "die") == 2);
  }

  TEST_CASE_FIXTURE(deterministic, "exit_once crashes the next run only") {
    self->send(engine, sim_behave{"main", {behaviour_kind::exit_once, 1s, 1}});
    auto id = running("web");
    advance(1s);
    CHECK(inspect(id).state.exit_code == 1);
    REQUIRE(!ask_void(container_start_req{id}));
    advance(10s);
    CHECK(inspect(id).state.running);
  }

  TEST_CASE_FIXTURE(deterministic, "an unhealthy service reports "
                                   "health_status: unhealthy after its run "
                                   "time; a healthcheck alone turns healthy") {
    self->send(engine, sim_behave{"bad", {behaviour_kind::unhealthy, 5s, 0}});
    auto bad = running("bad", "bad");
    advance(5s);
    CHECK(s->actions().back() == "health_status: unhealthy");
    CHECK(inspect(bad).state.health->status == "unhealthy");
    auto spec = spec_of("good");
    spec.config.healthcheck
      = health_config{{"CMD", "true"}, 3'000'000'000, {}, {}, {}};
    auto good = create(spec);
    REQUIRE(!ask_void(container_start_req{good}));
    CHECK(inspect(good).state.health->status == "starting");
    advance(3s);
    CHECK(inspect(good).state.health->status == "healthy");
    CHECK(s->events.back().actor_id == good);
    CHECK(s->events.back().action == "health_status: healthy");
  }

  TEST_CASE_FIXTURE(deterministic, "sim_crash kills running containers of a "
                                   "service now; waiters get the exit code") {
    auto id = running("web");
    self->send(engine, container_wait_req{id, "not-running"});
    run();
    auto n = ask<uint64_t>(sim_crash{"main", 137});
    REQUIRE(n);
    CHECK(*n == 1);
    CHECK(inspect(id).state.exit_code == 137);
    // the wait answered (before the crash count, in order)
    CHECK(s->actions().back() == "die");
  }
}

namespace {

// One actor both subscribed to events and reading a log, as the logs actor.
using both_actor
  = caf::typed_actor<caf::reacts_to<engine_event>,
                     caf::reacts_to<engine_status>, caf::reacts_to<log_lines>,
                     caf::reacts_to<log_stream_ended>>;

both_actor::behavior_type both_sink(both_actor::pointer,
                                    std::shared_ptr<seen> s) {
  return {
    [s](const engine_event& e) { s->events.push_back(e); },
    [s](const engine_status& e) { s->statuses.push_back(e); },
    [s](log_lines& b) { s->batches.push_back(std::move(b)); },
    [s](const log_stream_ended& e) { s->ended.push_back(e); },
  };
}

} // namespace

TEST_SUITE("sim engine: streams") {
  TEST_CASE_FIXTURE(deterministic, "unsubscribing from events keeps the "
                                   "listener's log streams") {
    auto id = running("web");
    auto mine = std::make_shared<seen>();
    auto both = sys.spawn(both_sink, mine);
    REQUIRE(ask<engine_status>(engine_subscribe{both}));
    container_logs_req r;
    r.id = id;
    r.options.follow = true;
    r.listener = both;
    REQUIRE(ask<uint64_t>(r));
    self->send(engine, engine_unsubscribe{both});
    self->send(engine, sim_write_logs{"web", 1, false});
    run();
    REQUIRE(!ask_void(container_stop_req{id, {}}));
    CHECK(mine->texts()
          == std::vector<std::string>{"web: started", "web: line 2"});
    CHECK(mine->ended.size() == 1);
    CHECK(mine->actions().empty()); // no events after the unsubscribe
    self->send_exit(both, caf::exit_reason::user_shutdown);
  }

  TEST_CASE_FIXTURE(deterministic, "a log stream follows lines until the "
                                   "container stops") {
    auto id = running("web");
    auto r = follow(id);
    r.options.timestamps = true;
    auto stream = ask<uint64_t>(r);
    REQUIRE(stream);
    CHECK(s->texts() == std::vector<std::string>{"web: started"});
    CHECK(s->batches[0].lines[0].timestamp.size() == 30);
    self->send(engine, sim_write_logs{"web", 2, true});
    run();
    CHECK(s->texts().size() == 3);
    CHECK(s->batches.back().lines[0].source == log_source::err);
    CHECK(s->ended.empty());
    REQUIRE(!ask_void(container_stop_req{id, {}}));
    REQUIRE(s->ended.size() == 1);
    CHECK(s->ended[0].stream_id == *stream);
    CHECK(!s->ended[0].reason);
  }

  TEST_CASE_FIXTURE(deterministic, "a flow-controlled stream stops at its "
                                   "window until acknowledged") {
    auto id = running("web");
    self->send(engine, sim_write_logs{"web", 99, false});
    run();
    auto stream = ask<uint64_t>(follow(id, 100)); // a few lines' worth
    REQUIRE(stream);
    REQUIRE(s->batches.size() == 1);
    auto first = s->batches[0].lines.size();
    CHECK(first < 100);
    CHECK(s->batches[0].bytes >= 100);
    self->send(engine, log_ack{*stream, s->batches[0].bytes});
    run();
    REQUIRE(s->batches.size() == 2);
    CHECK(s->batches[1].lines[0].text
          == "web: line " + std::to_string(first + 1));
  }

  // As dockerd does (checked: a follower that had read none of 20,000
  // lines read them all after `docker rm -f`). Found by fleet-sim's log
  // flood: the tail of each replaced container never reached the agent.
  TEST_CASE_FIXTURE(deterministic, "a follower behind its window reads the "
                                   "rest of a removed container's log") {
    auto id = running("web");
    auto stream = ask<uint64_t>(follow(id, 100)); // a few lines' worth
    REQUIRE(stream);
    self->send(engine, sim_write_logs{"web", 50, false});
    run();
    REQUIRE(!ask_void(container_remove_req{id, true, false}));
    CHECK(s->ended.empty()); // 51 lines written, not all read yet
    for (size_t acked = 0; s->ended.empty() && acked < s->batches.size();
         ++acked) {
      self->send(engine, log_ack{*stream, s->batches[acked].bytes});
      run();
    }
    auto texts = s->texts();
    REQUIRE(texts.size() == 51);
    CHECK(texts.back() == "web: line 51");
    REQUIRE(s->ended.size() == 1);
    CHECK(!s->ended[0].reason);
  }

  TEST_CASE_FIXTURE(deterministic, "cancelling a stream ends it with "
                                   "cancelled; an unknown container is 404") {
    auto id = running("web");
    auto stream = ask<uint64_t>(follow(id));
    self->send(engine, container_logs_cancel{*stream});
    run();
    REQUIRE(s->ended.size() == 1);
    CHECK(s->ended[0].reason == engine_errc::cancelled);
    CHECK(what(ask<uint64_t>(follow("nope")).error()).first
          == engine_errc::not_found);
  }

  TEST_CASE_FIXTURE(deterministic, "down: subscribers hear it, requests fail "
                                   "with unavailable; up again: they work") {
    self->send(engine, sim_set_up{false, "simulated outage"});
    run();
    REQUIRE(!s->statuses.empty());
    CHECK(s->statuses.back().state == engine_state::down);
    CHECK(what(ask<container_list>(container_list_req{}).error())
          == std::pair{engine_errc::unavailable,
                       std::string{"engine down: simulated outage"}});
    self->send(engine, sim_set_up{true, {}});
    run();
    CHECK(s->statuses.back().state == engine_state::up);
    CHECK(ask<container_list>(container_list_req{}));
    auto t = ask<engine_telemetry>(caf::get_atom_v);
    CHECK(t->requests_failed == 1);
    CHECK(t->subscribers == 1);
  }
}

} // namespace bosun::simtest
