// The engine actor's down/up logic against a scripted http client: no
// dockerd, the test plays the engine by completing requests on the io thread.
#include "actors/engine/engine.hpp"
#include "tests/support/eventually.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>
#include <future>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using bosun::test::eventually;

namespace bosun {
namespace {

// Records every exchange; the test completes them (on the io thread).
class scripted_client : public http::client {
public:
  struct exchange {
    http::request req;
    std::function<void(http::result<http::response>)> done; // send()
    http::stream_callbacks cbs;                             // stream()
    std::atomic<bool> cancelled{false};
    std::atomic<int> pauses{0}; // stream_handle::pause() calls
    std::atomic<int> resumes{0};
  };

  void send(http::request req,
            std::function<void(http::result<http::response>)> done) override {
    auto x = std::make_shared<exchange>();
    x->req = std::move(req);
    x->done = std::move(done);
    std::lock_guard<std::mutex> g{m};
    log.push_back(x);
  }

  http::stream_handle stream(http::request req,
                             http::stream_callbacks cbs) override {
    auto x = std::make_shared<exchange>();
    x->req = std::move(req);
    x->cbs = std::move(cbs);
    std::lock_guard<std::mutex> g{m};
    log.push_back(x);
    // Weak, as the real client's: the engine keeps the handle in a slot that
    // the exchange's callbacks hold, so a strong reference here would be a
    // cycle (LeakSanitizer reported every test of this file).
    std::weak_ptr<exchange> w = x;
    return http::stream_handle{[w] {
                                 if (auto e = w.lock())
                                   e->cancelled = true;
                               },
                               [w](bool on) {
                                 if (auto e = w.lock())
                                   ++(on ? e->pauses : e->resumes);
                               }};
  }

  void close() override {}

  const http::endpoint& where() const override {
    return ep;
  }

  // The n-th exchange whose target starts with `prefix`, if any yet.
  std::shared_ptr<exchange> find(const std::string& prefix, size_t n = 0) {
    std::lock_guard<std::mutex> g{m};
    for (auto& x : log)
      if (x->req.target.rfind(prefix, 0) == 0 && n-- == 0)
        return x;
    return nullptr;
  }

  std::mutex m;
  std::vector<std::shared_ptr<exchange>> log;
  http::endpoint ep;
};

http::result<http::response> ok(int status, std::string body = {}) {
  http::result<http::response> r;
  r.value.status = status;
  r.value.body = std::move(body);
  return r;
}

http::result<http::response> failed(http::errc c) {
  http::result<http::response> r;
  r.err = http::error{c, "scripted failure"};
  return r;
}

struct seen {
  std::mutex m;
  std::vector<engine_event> events;
  std::vector<engine_state> states;
};

engine_listener_actor::behavior_type
listener_impl(engine_listener_actor::pointer, std::shared_ptr<seen> s) {
  return {
    [s](engine_event& e) {
      std::lock_guard<std::mutex> g{s->m};
      s->events.push_back(std::move(e));
    },
    [s](engine_status& st) {
      std::lock_guard<std::mutex> g{s->m};
      s->states.push_back(st.state);
    },
  };
}

// Records the batches of a log stream (and acknowledges nothing itself).
struct seen_lines {
  std::mutex m;
  std::vector<log_lines> batches;
  std::vector<log_stream_ended> ends;
};

log_listener_actor::behavior_type lines_impl(log_listener_actor::pointer,
                                             std::shared_ptr<seen_lines> s) {
  return {
    [s](log_lines& b) {
      std::lock_guard<std::mutex> g{s->m};
      s->batches.push_back(std::move(b));
    },
    [s](log_stream_ended& e) {
      std::lock_guard<std::mutex> g{s->m};
      s->ends.push_back(std::move(e));
    },
  };
}

struct fixture {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{
    io.get_executor()};
  std::thread io_thread{[this] { io.run(); }};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<scripted_client> client = std::make_shared<scripted_client>();
  engine_actor engine;
  std::shared_ptr<seen> rec = std::make_shared<seen>();
  engine_listener_actor listener;

  // `events_idle_ping`: how long a silent /events stream waits for a ping.
  explicit fixture(std::chrono::milliseconds events_idle_ping = 1h) {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    engine_options opts;
    opts.backoff_initial = 5ms;
    opts.backoff_max = 20ms;
    opts.events_idle_ping = events_idle_ping;
    engine = spawn_engine(*sys, io, client, opts);
    listener = sys->spawn(listener_impl, rec);
    caf::scoped_actor self{*sys};
    self->request(engine, 5s, engine_subscribe{listener})
      .receive([](engine_status&) {}, [](caf::error&) {});
  }

  ~fixture() {
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
    engine = nullptr;
    listener = nullptr;
    sys.reset();
    work.reset();
    io.stop();
    io_thread.join();
  }

  // Runs f on the io thread, as the real client's callbacks would be.
  template <class F>
  void on_io(F f) {
    std::promise<void> done;
    asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  std::shared_ptr<scripted_client::exchange> wait_for(const std::string& prefix,
                                                      size_t n = 0) {
    std::shared_ptr<scripted_client::exchange> x;
    eventually(
      5s,
      [&] {
        x = client->find(prefix, n);
        return x != nullptr;
      },
      "a request to " + prefix);
    REQUIRE(x);
    return x;
  }

  std::vector<engine_state> states() {
    std::lock_guard<std::mutex> g{rec->m};
    return rec->states;
  }

  engine_telemetry telemetry() {
    caf::scoped_actor self{*sys};
    engine_telemetry t;
    self->request(engine, 5s, caf::get_atom_v)
      .receive([&](engine_telemetry& x) { t = x; }, [](caf::error&) {});
    return t;
  }

  // Sends a request from a helper actor; the reply lands in `out`.
  std::shared_ptr<std::promise<caf::error>>
  inspect_async(const std::string& id) {
    auto p = std::make_shared<std::promise<caf::error>>();
    sys->spawn([=, e = engine](caf::event_based_actor* a) {
      a->request(e, 10s, container_inspect_req{id})
        .then([p](container_inspect&) { p->set_value(caf::error{}); },
              [p](caf::error& err) { p->set_value(err); });
    });
    return p;
  }
};

const std::string events_prefix = "/v1.41/events";
const std::string ping_prefix = "/v1.41/_ping";

// An engine whose /events stream is up, and silent: a ping follows soon.
struct silent_fixture : fixture {
  std::shared_ptr<scripted_client::exchange> ev;
  silent_fixture() : fixture(20ms) {
    ev = wait_for(events_prefix);
    on_io([&] { ev->cbs.on_head(200, {}); });
    REQUIRE(eventually(5s, [&] { return states().size() == 1; }));
  }

  // The error of a request made now (unavailable while down).
  caf::error inspect_error() {
    auto f = inspect_async("x")->get_future();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    return f.get();
  }
};

// An engine that is up, with one request that failed with `closed`.
struct closed_fixture : fixture {
  std::shared_ptr<scripted_client::exchange> ev;
  closed_fixture() {
    ev = wait_for(events_prefix);
    on_io([&] { ev->cbs.on_head(200, {}); });
    REQUIRE(eventually(5s, [&] { return states().size() == 1; }));
    auto reply = inspect_async("a");
    auto x = wait_for("/v1.41/containers/a/json");
    on_io([&] { x->done(failed(http::errc::closed)); });
    auto f = reply->get_future();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(f.get() == engine_errc::unavailable); // the request itself failed
  }
};

// A log stream of container "c1" (TTY: raw bytes) open to a recording
// listener, with a flow-control window of `window` bytes.
struct log_fixture : fixture {
  std::shared_ptr<seen_lines> got = std::make_shared<seen_lines>();
  log_listener_actor lines = sys->spawn(lines_impl, got);
  std::shared_ptr<scripted_client::exchange> x;
  uint64_t stream = 0;

  void open(uint64_t window) {
    auto ev = wait_for(events_prefix);
    on_io([&] { ev->cbs.on_head(200, {}); });
    auto reply = std::make_shared<std::promise<uint64_t>>();
    container_logs_req req;
    req.id = "c1";
    req.options.follow = true;
    req.listener = lines;
    req.window = window;
    sys->spawn([reply, req, e = engine](caf::event_based_actor* a) {
      a->request(e, 10s, req)
        .then([reply](uint64_t id) { reply->set_value(id); },
              [reply](caf::error&) { reply->set_value(0); });
    });
    auto inspect = wait_for("/v1.41/containers/c1/json");
    on_io([&] {
      inspect->done(ok(200, R"({"Id":"c1","State":{"Status":"running"},)"
                            R"("Config":{"Tty":true},"HostConfig":{}})"));
    });
    x = wait_for("/v1.41/containers/c1/logs");
    on_io([&] { x->cbs.on_head(200, {}); });
    stream = reply->get_future().get();
    REQUIRE(stream != 0);
  }

  // Everything the engine did so far, on the io thread too, is done.
  void settle() {
    telemetry();  // after the messages sent before it
    on_io([] {}); // after what the engine posted meanwhile
  }

  size_t line_count() {
    std::lock_guard<std::mutex> g{got->m};
    size_t n = 0;
    for (auto& b : got->batches)
      n += b.lines.size();
    return n;
  }

  std::vector<log_lines> batches() {
    std::lock_guard<std::mutex> g{got->m};
    return got->batches;
  }

  ~log_fixture() {
    caf::anon_send_exit(lines, caf::exit_reason::user_shutdown);
    lines = nullptr;
  }
};

} // namespace

TEST_SUITE("engine actor (scripted client)") {
  TEST_CASE_FIXTURE(fixture, "is up once the events stream answers") {
    auto ev = wait_for(events_prefix);
    CHECK(ev->req.target.find("since=") == std::string::npos);
    CHECK(ev->req.timeout == 0ms);
    CHECK(telemetry().state == engine_state::starting);
    on_io([&] { ev->cbs.on_head(200, {}); });
    CHECK(eventually(5s, [&] { return states().size() == 1; }));
    CHECK(states() == std::vector<engine_state>{engine_state::up});
  }

  TEST_CASE_FIXTURE(fixture, "publishes events split across body pieces") {
    auto ev = wait_for(events_prefix);
    on_io([&] {
      ev->cbs.on_head(200, {});
      ev->cbs.on_data(R"({"Type":"container","Action":"start","Actor":)");
      ev->cbs.on_data(R"({"ID":"abc","Attributes":{"name":"web"}},)"
                      R"("time":1700000000,"timeNano":1700000000000000005})"
                      "\n");
      ev->cbs.on_data("not json\n");
    });
    CHECK(eventually(5s, [&] {
      std::lock_guard<std::mutex> g{rec->m};
      return rec->events.size() == 1;
    }));
    std::lock_guard<std::mutex> g{rec->m};
    CHECK(rec->events[0].action == "start");
    CHECK(rec->events[0].actor_id == "abc");
    CHECK(rec->events[0].attributes["name"] == "web");
  }

  TEST_CASE_FIXTURE(fixture,
                    "fails in-flight requests when the engine goes down, then "
                    "reconnects from the last event") {
    auto ev = wait_for(events_prefix);
    on_io([&] {
      ev->cbs.on_head(200, {});
      ev->cbs.on_data(R"({"Type":"container","Action":"die","Actor":{"ID":"a"})"
                      R"(,"time":1700000000,"timeNano":1700000000000000005})"
                      "\n");
    });
    REQUIRE(eventually(5s, [&] { return states().size() == 1; }));
    auto reply = inspect_async("web");
    auto inflight = wait_for("/v1.41/containers/web/json");

    on_io([&] { ev->cbs.on_end(http::error{http::errc::closed, "EOF"}); });
    auto fut = reply->get_future();
    REQUIRE(fut.wait_for(5s) == std::future_status::ready);
    auto err = fut.get();
    CHECK(err == engine_errc::unavailable);
    CHECK(engine_error_message(err).find("EOF") != std::string::npos);
    CHECK(eventually(5s, [&] { return states().size() == 2; }));
    CHECK(states().back() == engine_state::down);

    // A late completion of the failed request is ignored.
    on_io([&] { inflight->done(ok(200, "{}")); });

    // Requests while down fail fast, without reaching the client.
    auto fast = inspect_async("db")->get_future();
    REQUIRE(fast.wait_for(5s) == std::future_status::ready);
    CHECK(fast.get() == engine_errc::unavailable);
    CHECK(client->find("/v1.41/containers/db") == nullptr);

    // The first ping fails, the second answers: then /events reopens.
    auto ping1 = wait_for("/v1.41/_ping");
    on_io([&] { ping1->done(failed(http::errc::refused)); });
    auto ping2 = wait_for("/v1.41/_ping", 1);
    on_io([&] { ping2->done(ok(200, "OK")); });
    auto ev2 = wait_for(events_prefix, 1);
    CHECK(ev2->req.target.find("since=1700000000.000000006")
          != std::string::npos);
    CHECK(states().back() == engine_state::down); // not before the head
    on_io([&] { ev2->cbs.on_head(200, {}); });
    CHECK(eventually(5s, [&] { return states().size() == 3; }));
    CHECK(states()
          == std::vector<engine_state>{engine_state::up, engine_state::down,
                                       engine_state::up});
    auto t = telemetry();
    CHECK(t.reconnects == 1);
    CHECK(t.reconnect_attempts == 2);
    CHECK(t.requests_in_flight == 0);
    CHECK(t.events_seen == 1);
  }

  TEST_CASE_FIXTURE(fixture, "a refused request takes the engine down once") {
    auto ev = wait_for(events_prefix);
    on_io([&] { ev->cbs.on_head(200, {}); });
    REQUIRE(eventually(5s, [&] { return states().size() == 1; }));
    auto a = inspect_async("a");
    auto b = inspect_async("b");
    auto xa = wait_for("/v1.41/containers/a/json");
    auto xb = wait_for("/v1.41/containers/b/json");
    on_io([&] { xa->done(failed(http::errc::refused)); });
    auto fa = a->get_future();
    auto fb = b->get_future();
    REQUIRE(fa.wait_for(5s) == std::future_status::ready);
    REQUIRE(fb.wait_for(5s) == std::future_status::ready);
    CHECK(fa.get() == engine_errc::unavailable);
    CHECK(fb.get() == engine_errc::unavailable);
    CHECK(eventually(5s, [&] { return states().size() == 2; }));
    // The events stream is cancelled, and its end does not count again.
    CHECK(eventually(5s, [&] { return ev->cancelled.load(); }));
    on_io([&] { ev->cbs.on_end(http::error{http::errc::cancelled, "x"}); });
    on_io([&] { xb->done(failed(http::errc::closed)); });
    CHECK(eventually(5s, [&] { return telemetry().reconnect_attempts >= 1; }));
    CHECK(states()
          == std::vector<engine_state>{engine_state::up, engine_state::down});
  }

  TEST_CASE_FIXTURE(fixture, "maps an engine error reply to a typed error") {
    auto ev = wait_for(events_prefix);
    on_io([&] { ev->cbs.on_head(200, {}); });
    auto reply = inspect_async("ghost");
    auto x = wait_for("/v1.41/containers/ghost/json");
    on_io(
      [&] { x->done(ok(404, R"({"message":"No such container: ghost"})")); });
    auto f = reply->get_future();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    auto err = f.get();
    CHECK(err == engine_errc::not_found);
    CHECK(engine_error_message(err) == "No such container: ghost");
    auto garbled = inspect_async("junk");
    auto y = wait_for("/v1.41/containers/junk/json");
    on_io([&] { y->done(ok(200, "{not json")); });
    auto g = garbled->get_future();
    REQUIRE(g.wait_for(5s) == std::future_status::ready);
    CHECK(g.get() == engine_errc::protocol);
    CHECK(states() == std::vector<engine_state>{engine_state::up});
  }

  TEST_CASE_FIXTURE(fixture, "drops a subscriber that died") {
    CHECK(telemetry().subscribers == 1);
    caf::anon_send_exit(listener, caf::exit_reason::kill);
    CHECK(eventually(5s, [&] { return telemetry().subscribers == 0; }));
  }

  TEST_CASE_FIXTURE(fixture, "subscribes a listener once however often asked") {
    caf::scoped_actor self{*sys};
    engine_status st;
    self->request(engine, 5s, engine_subscribe{listener})
      .receive([&](engine_status& s) { st = s; }, [](caf::error&) {});
    CHECK(st.state == engine_state::starting);
    CHECK(telemetry().subscribers == 1);
    caf::anon_send(engine, engine_unsubscribe{listener});
    CHECK(eventually(5s, [&] { return telemetry().subscribers == 0; }));
  }

  TEST_CASE_FIXTURE(log_fixture,
                    "the pieces of one read reach the listener as one batch") {
    open(0);
    // Three chunks in one read (one log line each, the last one split).
    on_io([&] {
      x->cbs.on_data("one\n");
      x->cbs.on_data("two\nthr");
      x->cbs.on_data("ee\n");
    });
    REQUIRE(eventually(5s, [&] { return line_count() == 3; }));
    auto b = batches();
    REQUIRE(b.size() == 1);
    CHECK(b[0].stream_id == stream);
    CHECK(b[0].container_id == "c1");
    CHECK(b[0].bytes == 14);
    REQUIRE(b[0].lines.size() == 3);
    CHECK(b[0].lines[0].text == "one");
    CHECK(b[0].lines[2].text == "three");
    // Without a window the stream never pauses.
    on_io([&] { x->cbs.on_data(std::string(1000, 'x') + "\n"); });
    REQUIRE(eventually(5s, [&] { return line_count() == 4; }));
    CHECK(x->pauses == 0);
  }

  TEST_CASE_FIXTURE(log_fixture, "a flow-controlled log stream pauses at its "
                                 "window and resumes on acknowledgements") {
    open(100);
    std::string line(39, 'a'); // 40 bytes with its '\n'
    line += '\n';
    on_io([&] { x->cbs.on_data(line); });
    on_io([&] { x->cbs.on_data(line); });
    REQUIRE(eventually(5s, [&] { return line_count() == 2; }));
    CHECK(x->pauses == 0); // 80 bytes in flight: below the window
    // A piece that ends no line is acknowledged by the engine itself.
    on_io([&] { x->cbs.on_data("partial "); });
    on_io([&] { x->cbs.on_data(line); }); // 128 bytes: pause
    CHECK(x->pauses == 1);
    REQUIRE(eventually(5s, [&] { return line_count() == 3; }));
    auto b = batches();
    REQUIRE(b.size() == 3);
    CHECK(b[2].bytes == 40);
    CHECK(b[2].lines[0].text == "partial " + std::string(39, 'a'));
    // 40 acknowledged: 80 in flight, over half the window: still paused.
    caf::anon_send(engine, log_ack{stream, 40});
    // Acknowledgements of unknown streams change nothing.
    caf::anon_send(engine, log_ack{stream + 100, 1000});
    settle();
    CHECK(x->resumes == 0);
    caf::anon_send(engine, log_ack{stream, 40}); // 40 in flight: resume
    CHECK(eventually(5s, [&] { return x->resumes == 1; }));
    CHECK(x->pauses == 1);
  }

  TEST_CASE_FIXTURE(log_fixture, "acknowledged bytes never drop below zero") {
    open(100);
    caf::anon_send(engine, log_ack{stream, 1000});
    settle();
    std::string line(99, 'b');
    line += '\n';
    on_io([&] { x->cbs.on_data(line); });
    REQUIRE(eventually(5s, [&] { return line_count() == 1; }));
    CHECK(x->pauses
          == 1); // a full window in flight: the early ack did not count
  }

  TEST_CASE_FIXTURE(silent_fixture,
                    "a silent /events stream whose engine does not answer a "
                    "ping counts as hung: down, then reopened") {
    auto ping = wait_for(ping_prefix);
    CHECK(states() == std::vector<engine_state>{engine_state::up});
    on_io([&] { ping->done(failed(http::errc::timeout)); });
    CHECK(eventually(5s, [&] { return states().size() == 2; }));
    CHECK(states().back() == engine_state::down);
    CHECK(eventually(5s, [&] { return ev->cancelled.load(); }));
    auto err = inspect_error();
    CHECK(err == engine_errc::unavailable);
    CHECK(engine_error_message(err).find("events stream hung")
          != std::string::npos);
    // Reconnect probing pings, then reopens /events.
    auto probe = wait_for(ping_prefix, 1);
    on_io([&] { probe->done(ok(200, "OK")); });
    auto ev2 = wait_for(events_prefix, 1);
    on_io([&] { ev2->cbs.on_head(200, {}); });
    CHECK(eventually(5s, [&] { return states().size() == 3; }));
    CHECK(states().back() == engine_state::up);
  }

  TEST_CASE_FIXTURE(silent_fixture,
                    "a silent /events stream whose engine answers pings "
                    "stays up and is checked again") {
    auto ping = wait_for(ping_prefix);
    on_io([&] { ping->done(ok(200, "OK")); });
    auto again = wait_for(ping_prefix, 1);
    on_io([&] { again->done(ok(200, "OK")); });
    wait_for(ping_prefix, 2);
    CHECK(states() == std::vector<engine_state>{engine_state::up});
    CHECK_FALSE(ev->cancelled.load());
    CHECK(telemetry().state == engine_state::up);
  }

  TEST_CASE_FIXTURE(closed_fixture,
                    "a request failing with closed leaves the engine up when "
                    "a ping answers") {
    auto ping = wait_for(ping_prefix);
    on_io([&] { ping->done(ok(200, "OK")); });
    // Later requests reach the engine: it is still up.
    auto next = inspect_async("b");
    auto x = wait_for("/v1.41/containers/b/json");
    on_io([&] { x->done(ok(404, R"({"message":"No such container: b"})")); });
    auto f = next->get_future();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(f.get() == engine_errc::not_found);
    CHECK(states() == std::vector<engine_state>{engine_state::up});
    CHECK_FALSE(ev->cancelled.load());
  }

  TEST_CASE_FIXTURE(closed_fixture,
                    "a request failing with closed takes the engine down when "
                    "the ping fails too") {
    auto ping = wait_for(ping_prefix);
    CHECK(states() == std::vector<engine_state>{engine_state::up});
    on_io([&] { ping->done(failed(http::errc::refused)); });
    CHECK(eventually(5s, [&] { return states().size() == 2; }));
    CHECK(states().back() == engine_state::down);
    CHECK(eventually(5s, [&] { return ev->cancelled.load(); }));
  }

  TEST_CASE_FIXTURE(fixture, "goes down when the first /events is refused") {
    auto ev = wait_for(events_prefix);
    on_io([&] { ev->cbs.on_end(http::error{http::errc::refused, "ENOENT"}); });
    CHECK(eventually(5s, [&] { return states().size() == 1; }));
    CHECK(states() == std::vector<engine_state>{engine_state::down});
    // A probe follows after the backoff.
    wait_for("/v1.41/_ping");
  }
}

} // namespace bosun
