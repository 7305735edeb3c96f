// The logs actor on the deterministic scheduler, against a scripted engine,
// db and cloud: attaching, resuming without duplicates, readers, the cloud
// queue's bound and its announcement, resume points in the db.
#include "messages/telemetry.hpp"
#include "tests/support/process.hpp"
#include "tests/unit/logs/fakes.hpp"

#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>
#include <fstream>
#include <sstream>

using namespace std::chrono_literals;
using namespace bosun;

namespace {

constexpr int64_t t0 = int64_t{1704164645} * 1000000000; // a whole second

std::string rfc3339(int64_t ns) {
  // t0 is 2024-01-02T03:04:05Z; tests stay within that minute.
  auto off = ns - t0;
  auto sec = 5 + off / 1000000000;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "2024-01-02T03:04:%02lld.%09lldZ",
                static_cast<long long>(sec),
                static_cast<long long>(off % 1000000000));
  return buf;
}

struct logs_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{test::testing(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<test::fake_engine_world> ew
    = std::make_shared<test::fake_engine_world>();
  std::shared_ptr<test::fake_db_world> dw
    = std::make_shared<test::fake_db_world>();
  caf::actor engine = sys.spawn(test::fake_engine, ew);
  caf::actor db = sys.spawn(test::fake_db, dw);
  test::fake_cloud cloud;
  caf::actor logs;
  int64_t wall_ms = 1700000000000;
  std::string file_dir; // persistent logging when set

  logs_options options(bool ship) {
    logs_options o;
    o.shipping.enabled = ship;
    o.shipping.endpoint = "http://cloud:1";
    o.shipping.uuid = "abc";
    o.shipping.api_key = "k";
    o.cloud_queue_bytes = 16 * 1024;
    o.uploads = [this](const log_shipping&,
                       std::string&) -> std::optional<log_upload::factory> {
      return cloud.factory();
    };
    o.now_ms = [this] { return wall_ms; };
    o.log = std::make_shared<const logger>(log_level::error);
    o.file_dir = file_dir;
    o.file_max_bytes = 1 << 20;
    o.history_detached = false; // history workers on this scheduler
    return o;
  }

  void start(bool ship = false) {
    logs = caf::actor_cast<caf::actor>(
      spawn_logs(sys, caf::actor_cast<engine_actor>(engine),
                 caf::actor_cast<db_actor>(db), options(ship)));
    sched.run();
  }
  ~logs_fixture() {
    if (logs)
      caf::anon_send_exit(logs, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
    for (auto& r : readers)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // A line from container `id` (its current stream).
  void line(const std::string& id, int64_t ns, const std::string& text,
            log_source src = log_source::out) {
    log_lines b;
    b.stream_id = ew->stream_of(id);
    b.container_id = id;
    b.lines.push_back(log_line{src, rfc3339(ns), text});
    caf::anon_send(logs, std::move(b));
    sched.run();
  }
  void ended(const std::string& id, caf::error reason = {}) {
    caf::anon_send(logs, log_stream_ended{ew->stream_of(id), id, reason});
    sched.run();
  }
  void event(const std::string& id, const std::string& action) {
    engine_event ev;
    ev.type = "container";
    ev.action = action;
    classify_event(ev);
    ev.actor_id = id;
    if (auto* c = ew->find(id))
      ev.attributes = c->labels;
    caf::anon_send(logs, ev);
    sched.run();
  }

  std::vector<caf::actor> readers;
  std::shared_ptr<test::fake_reader_world> reader() {
    auto w = std::make_shared<test::fake_reader_world>();
    auto r = sys.spawn(test::fake_reader, w);
    readers.push_back(r);
    caf::anon_send(logs,
                   log_subscribe{caf::actor_cast<log_reader_actor>(r), 65536});
    sched.run();
    return w;
  }
  void pull(size_t reader_index = 0) {
    caf::anon_send(logs, log_pull{caf::actor_cast<log_reader_actor>(
                           readers.at(reader_index))});
    sched.run();
  }
  void advance(caf::timespan d) {
    sched.advance_time(d);
    sched.run();
  }
  logs_telemetry telemetry() {
    caf::scoped_actor self{sys};
    logs_telemetry out;
    self->send(caf::actor_cast<logs_actor>(logs), caf::get_atom_v);
    sched.run();
    self->receive([&](const logs_telemetry& t) { out = t; });
    return out;
  }
};

std::string slurp_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> messages(const std::vector<log_entry>& v) {
  std::vector<std::string> out;
  for (auto& e : v)
    out.push_back(e.message);
  return out;
}

} // namespace

TEST_SUITE("logs.actor") {
  TEST_CASE_FIXTURE(logs_fixture,
                    "at start it attaches every supervised container from "
                    "its stored resume point, and drops stale points") {
    ew->add("c1", 7, "main");
    ew->add("c2", 8, "worker");
    dw->kv["logs.last.c1"] = std::to_string(t0 + 300) + ":1";
    dw->kv["logs.sent.c1"] = std::to_string(t0 + 500) + ":2"; // the later
    dw->kv["logs.last.gone"] = "5:1";
    dw->kv["logs.sent.gone"] = "5:1";
    dw->kv["other"] = "x";
    start();
    REQUIRE(ew->log_reqs.size() == 2);
    auto& r1 = ew->log_reqs[ew->stream_of("c1") - 1];
    CHECK(r1.options.follow);
    CHECK(r1.options.timestamps);
    CHECK(r1.options.include_stdout);
    CHECK(r1.options.include_stderr);
    CHECK(r1.options.since == 1704164645);
    CHECK(ew->log_reqs[ew->stream_of("c2") - 1].options.since == 0);
    CHECK(dw->kv.count("logs.last.gone") == 0);
    CHECK(dw->kv.count("logs.sent.gone") == 0);
    CHECK(dw->kv.count("other") == 1);
    CHECK(ew->subscribers.size() == 1);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "lines already read are skipped; new ones reach readers "
                    "with their service") {
    ew->add("c1", 7, "main");
    dw->kv["logs.last.c1"] = std::to_string(t0 + 500) + ":2";
    start();
    auto r = reader();
    pull();
    line("c1", t0 + 100, "old");
    line("c1", t0 + 500, "old at the point");
    line("c1", t0 + 500, "second old at the point");
    line("c1", t0 + 500, "new at the point");
    line("c1", t0 + 2000000, "new", log_source::err);
    CHECK(r->batches == 1); // one batch per pull
    pull();
    CHECK(messages(r->got)
          == std::vector<std::string>{"new at the point", "new"});
    REQUIRE(r->got.size() == 2);
    CHECK(r->got[1].service_id == 7);
    CHECK(r->got[1].service_name == "main");
    CHECK(r->got[1].app_id == 1);
    CHECK(r->got[1].is_stderr);
    CHECK_FALSE(r->got[0].is_stderr);
    CHECK(r->got[1].timestamp_ms == (t0 + 2000000) / 1000000);
    auto t = telemetry();
    CHECK(t.lines == 2);
    CHECK(t.skipped == 3);
    CHECK(t.attached == 1);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "a batch of lines reaches a reader whole and in order, and "
                    "the engine learns its bytes are handled") {
    ew->add("c1", 7, "main");
    dw->kv["logs.last.c1"] = std::to_string(t0 + 500) + ":1";
    start();
    REQUIRE(ew->log_reqs.size() == 1);
    CHECK(ew->log_reqs[0].window == 64 * 1024); // flow control asked for
    auto r = reader();
    pull();
    log_lines b;
    b.stream_id = ew->stream_of("c1");
    b.container_id = "c1";
    b.bytes = 4000;
    b.lines.push_back(log_line{log_source::out, rfc3339(t0 + 500), "old"});
    for (int i = 1; i <= 3; ++i)
      b.lines.push_back(log_line{log_source::err, rfc3339(t0 + 1000 * i),
                                 "l" + std::to_string(i)});
    caf::anon_send(logs, b);
    sched.run();
    CHECK(r->batches == 1);
    CHECK(messages(r->got) == std::vector<std::string>{"l1", "l2", "l3"});
    REQUIRE(ew->acks.size() == 1);
    CHECK(ew->acks[0].stream_id == b.stream_id);
    CHECK(ew->acks[0].bytes == 4000);
    CHECK(telemetry().skipped == 1);
    // A stream no longer read: its lines are dropped, yet acknowledged.
    ended("c1");
    caf::anon_send(logs, b);
    sched.run();
    pull();
    CHECK(r->got.size() == 3);
    CHECK(ew->acks.size() == 2);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "without a cloud, resume points follow what was read "
                    "and are stored at once, then at most every 100 ms") {
    ew->add("c1", 7, "main");
    start();
    line("c1", t0 + 1, "a");
    CHECK(dw->kv["logs.last.c1"] == std::to_string(t0 + 1) + ":1");
    auto puts = dw->puts;
    line("c1", t0 + 2, "b");
    line("c1", t0 + 2, "c");
    CHECK(dw->puts == puts); // later changes wait for the interval
    advance(100ms);
    CHECK(dw->puts == puts + 1);
    CHECK(dw->kv["logs.last.c1"] == std::to_string(t0 + 2) + ":2");
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "a restarted container is read on from where it stopped, "
                    "whichever comes first: its start or its stream's end") {
    ew->add("c1", 7, "main");
    start();
    auto r = reader();
    pull();
    line("c1", t0 + 1, "run 1 line 1");
    pull();
    line("c1", t0 + 2, "run 1 line 2");
    pull();
    // die, then start: the stream ended first.
    ended("c1");
    event("c1", "start");
    REQUIRE(ew->requests_for("c1") == 2);
    CHECK(ew->log_reqs.back().options.since == 1704164645);
    // The engine sends the whole second again.
    line("c1", t0 + 1, "run 1 line 1");
    line("c1", t0 + 2, "run 1 line 2");
    line("c1", t0 + 3, "run 2 line 1");
    pull();
    // start seen before the old stream's end: attach once it ends.
    event("c1", "start");
    CHECK(ew->requests_for("c1") == 2);
    ended("c1");
    CHECK(ew->requests_for("c1") == 3);
    line("c1", t0 + 3, "run 2 line 1");
    line("c1", t0 + 4, "run 3 line 1");
    pull();
    CHECK(messages(r->got)
          == std::vector<std::string>{"run 1 line 1", "run 1 line 2",
                                      "run 2 line 1", "run 3 line 1"});
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "an engine reconnect lists and attaches again") {
    ew->add("c1", 7, "main");
    start();
    line("c1", t0 + 1, "before");
    ended("c1", caf::make_error(engine_errc::unavailable, "down"));
    caf::anon_send(logs, engine_status{engine_state::down, "gone"});
    sched.run();
    CHECK(ew->requests_for("c1") == 1);
    caf::anon_send(logs, engine_status{engine_state::up, {}});
    sched.run();
    CHECK(ew->requests_for("c1") == 2);
    CHECK(ew->log_reqs.back().options.since == 1704164645);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "a destroyed container is forgotten with its point") {
    ew->add("c1", 7, "main");
    start();
    line("c1", t0 + 1, "a");
    REQUIRE(dw->kv.count("logs.last.c1") == 1);
    event("c1", "destroy");
    CHECK(dw->kv.count("logs.last.c1") == 0);
    CHECK(ew->cancelled == std::vector<uint64_t>{1});
    CHECK(telemetry().containers == 0);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "system lines reach every reader in balena's wording") {
    start();
    auto r = reader();
    pull();
    caf::anon_send(logs, system_event("Downloading image", "reg/x:1"));
    sched.run();
    pull();
    caf::anon_send(logs, system_event("Failed to download image", "reg/x:1",
                                      "manifest unknown"));
    sched.run();
    REQUIRE(r->got.size() == 2);
    CHECK(r->got[0].message == "Downloading image 'reg/x:1'");
    CHECK(r->got[0].is_system);
    CHECK_FALSE(r->got[0].is_stderr);
    CHECK(r->got[0].timestamp_ms == wall_ms);
    CHECK(r->got[1].message
          == "Failed to download image 'reg/x:1' due to 'manifest unknown'");
    CHECK(r->got[1].is_stderr);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "a slow reader loses its own oldest lines, counted and "
                    "announced; another reader loses nothing") {
    ew->add("c1", 7, "main");
    start();
    auto slow = reader();
    auto fast = reader();
    pull(0);
    pull(1);
    std::string text(1000, 'x');
    for (int i = 0; i < 200; ++i) {
      line("c1", t0 + 10 + i, text + std::to_string(i));
      pull(1);
    }
    CHECK(fast->got.size() == 200);
    CHECK(slow->got.size() == 1); // its one pull
    pull(0);
    auto t = telemetry();
    REQUIRE(t.queues.size() == 3);
    auto dropped = t.queues[1].dropped;
    CHECK(dropped > 100);
    CHECK(t.queues[2].dropped == 0);
    REQUIRE(slow->got.size() >= 2);
    CHECK(slow->got.back().message
          == "Warning: Suppressed " + std::to_string(dropped)
               + " message(s) due to high load");
    CHECK(slow->got.back().is_system);
    CHECK(slow->got[slow->got.size() - 2].message == text + "199");
    // Bounded: what it queued never passed its 64 KiB.
    CHECK(slow->got.size() - 2 < 65536 / 1000);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "shipping: lines wait in the bounded cloud queue while "
                    "the stream connects; overflow is dropped and "
                    "announced, and the drops count as read") {
    ew->add("c1", 7, "main");
    start(true);
    std::string text(500, 'y');
    line("c1", t0 + 1, "first");
    // The shipper took "first" and is connecting: the rest queue.
    REQUIRE(cloud.conns.size() == 1);
    for (int i = 0; i < 100; ++i)
      line("c1", t0 + 100 + i, text + std::to_string(i));
    auto t = telemetry();
    CHECK(t.queues[0].name == "cloud");
    CHECK(t.queues[0].queued_bytes <= 16 * 1024);
    auto dropped = t.queues[0].dropped;
    CHECK(dropped > 50);
    // Dropped lines need no re-reading: the resume point moved past them.
    advance(100ms);
    CHECK(dw->kv["logs.last.c1"]
          == std::to_string(t0 + 100 + dropped - 1) + ":1");
    auto& c = cloud.last();
    c.ev.opened();
    sched.run();
    for (int i = 0; i < 10; ++i) {
      advance(100ms);
      if (!c.writes.empty())
        c.ack();
      sched.run();
    }
    auto text_out = c.text();
    CHECK(text_out.find("\"first\"") != std::string::npos);
    CHECK(text_out.find(text + "99\"") != std::string::npos);
    CHECK(text_out.find(text + "0\"") == std::string::npos);
    CHECK(text_out.find("Warning: Suppressed " + std::to_string(dropped)
                        + " message(s) due to high load")
          != std::string::npos);
    // Everything was written: the shipper stored the last line's point.
    CHECK(dw->kv["logs.sent.c1"] == std::to_string(t0 + 199) + ":1");
    CHECK(telemetry().cloud.state == "open");
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "a shipped line's resume point is stored just before it "
                    "is written, not when the shipper takes it") {
    ew->add("c1", 7, "main");
    start(true);
    line("c1", t0 + 1, "a");
    REQUIRE(cloud.conns.size() == 1);
    advance(1s);
    // Taken but not written: a restart now must read it again.
    CHECK(dw->kv.count("logs.last.c1") == 0);
    CHECK(dw->kv.count("logs.sent.c1") == 0);
    cloud.last().ev.opened();
    sched.run();
    advance(100ms);
    REQUIRE(cloud.last().writes.size() == 1);
    CHECK(dw->kv["logs.sent.c1"] == std::to_string(t0 + 1) + ":1");
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "container lines without a service id are not shipped") {
    container_summary c;
    c.id = "c9";
    c.labels["io.balena.supervised"] = "true";
    ew->containers.push_back(c);
    start(true);
    line("c9", t0 + 1, "anonymous");
    CHECK(cloud.conns.empty());
    // Not shipped means read: the point moves on at once.
    CHECK(dw->kv["logs.last.c9"] == std::to_string(t0 + 1) + ":1");
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "the actor telemetry names the logs actor and its "
                    "shipper") {
    start(true);
    caf::scoped_actor self{sys};
    self->send(logs, telemetry_atom_v);
    sched.run();
    actor_sample got;
    self->receive([&](const actor_sample& s) { got = s; });
    CHECK(got.kind == "logs");
    CHECK(got.handled > 0);
    REQUIRE(got.children.size() == 1);
    CHECK(got.children[0].name == "log_shipper");
  }

  TEST_CASE_FIXTURE(logs_fixture, "turning shipping off drops the queue") {
    ew->add("c1", 7, "main");
    start(true);
    line("c1", t0 + 1, "a");
    line("c1", t0 + 2, "b");
    CHECK(telemetry().queues[0].queued_lines == 1);
    caf::anon_send(logs, log_shipping{});
    sched.run();
    auto t = telemetry();
    CHECK(t.queues[0].queued_lines == 0);
    CHECK(t.cloud.state == "off");
    CHECK(cloud.last().closed);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "with persistent logging, container and system lines are "
                    "written within the flush interval; a history request "
                    "writes at once and names the file") {
    test::temp_dir tmp;
    file_dir = tmp.path() + "/logs";
    ew->add("c1", 7, "main");
    start();
    auto slurp = [&] {
      std::ifstream in(file_dir + "/bosun.log");
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    line("c1", t0 + 1000000, "from main", log_source::err);
    caf::anon_send(logs, system_event("Installing service", "main"));
    sched.run();
    CHECK(slurp().empty()); // batched
    advance(100ms);
    CHECK(slurp()
          == "{\"serviceName\":\"main\",\"message\":\"from main\","
             "\"isStdErr\":true,\"timestamp\":1704164645001,\"serviceId\":7}\n"
             "{\"message\":\"Installing service 'main'\",\"isSystem\":true,"
             "\"isStdErr\":false,\"timestamp\":1700000000000}\n");
    line("c1", t0 + 2000000, "later");
    caf::scoped_actor self{sys};
    self->send(caf::actor_cast<logs_actor>(logs), log_history_req{});
    sched.run();
    log_history h;
    self->receive([&](log_history& x) { h = std::move(x); });
    CHECK(h.enabled);
    CHECK(h.max_bytes == 1 << 20);
    CHECK(h.files == std::vector<std::string>{file_dir + "/bosun.log"});
    CHECK(slurp().find("later") != std::string::npos);
    auto t = telemetry();
    CHECK(t.file.enabled);
    CHECK(t.file.lines == 3);
    CHECK(t.file.size_bytes == slurp().size());
    CHECK(t.file.write_errors == 0);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "without persistent logging, a history request says so") {
    start();
    caf::scoped_actor self{sys};
    self->send(caf::actor_cast<logs_actor>(logs), log_history_req{});
    sched.run();
    log_history h;
    h.enabled = true;
    self->receive([&](log_history& x) { h = std::move(x); });
    CHECK_FALSE(h.enabled);
    CHECK(h.files.empty());
    CHECK_FALSE(telemetry().file.enabled);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "a history read answers the matching lines, the ones "
                    "logged just before it included") {
    test::temp_dir tmp;
    file_dir = tmp.path() + "/logs";
    ew->add("c1", 7, "main");
    ew->add("c2", 8, "worker");
    start();
    line("c1", t0 + 1000000, "m1");
    line("c2", t0 + 2000000, "w1");
    line("c1", t0 + 3000000, "m2"); // not yet flushed when asked
    caf::scoped_actor self{sys};
    log_history_read r;
    r.query.service = "main";
    auto h = self->request(caf::actor_cast<logs_actor>(logs), caf::infinite, r);
    sched.run();
    std::string got;
    h.receive([&](log_history_lines& l) { got = std::move(l.ndjson); },
              [&](caf::error& e) { FAIL(sys.render(e)); });
    CHECK(got
          == "{\"serviceName\":\"main\",\"message\":\"m1\","
             "\"isStdErr\":false,\"timestamp\":1704164645001,"
             "\"serviceId\":7}\n"
             "{\"serviceName\":\"main\",\"message\":\"m2\","
             "\"isStdErr\":false,\"timestamp\":1704164645003,"
             "\"serviceId\":7}\n");
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "at most two history reads run at once: a third is "
                    "refused busy, and once they answered reads run again") {
    test::temp_dir tmp;
    file_dir = tmp.path() + "/logs";
    start();
    caf::anon_send(logs, system_event("Installing service", "main"));
    sched.run();
    caf::scoped_actor self{sys};
    auto la = caf::actor_cast<logs_actor>(logs);
    std::vector<decltype(self->request(la, caf::infinite, log_history_read{}))>
      asks;
    for (int i = 0; i < 3; ++i)
      asks.push_back(self->request(la, caf::infinite, log_history_read{}));
    sched.run();
    int lines = 0, busy = 0;
    auto tally = [&](auto& h) {
      h.receive(
        [&](log_history_lines& l) {
          CHECK(l.ndjson.find("Installing service 'main'")
                != std::string::npos);
          ++lines;
        },
        [&](caf::error& e) {
          CHECK(e == logs_errc::busy);
          ++busy;
        });
    };
    for (auto& h : asks)
      tally(h);
    CHECK(lines == 2);
    CHECK(busy == 1);
    asks.clear();
    asks.push_back(self->request(la, caf::infinite, log_history_read{}));
    sched.run();
    tally(asks[0]);
    CHECK(lines == 3);
    CHECK(busy == 1);
  }

  TEST_CASE_FIXTURE(logs_fixture, "without persistent logging, a history read "
                                  "is refused persistence_off") {
    start();
    caf::scoped_actor self{sys};
    auto h = self->request(caf::actor_cast<logs_actor>(logs), caf::infinite,
                           log_history_read{});
    sched.run();
    caf::error got;
    h.receive([](log_history_lines&) { FAIL("an answer"); },
              [&](caf::error& e) { got = e; });
    CHECK(got == logs_errc::persistence_off);
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "an unwritable log directory is counted; readers still "
                    "get every line") {
    test::temp_dir tmp;
    std::ofstream(tmp.path() + "/data") << "not a directory";
    file_dir = tmp.path() + "/data/logs";
    ew->add("c1", 7, "main");
    start();
    auto r = reader();
    pull();
    line("c1", t0 + 1, "a");
    advance(100ms);
    line("c1", t0 + 2, "b");
    advance(100ms);
    pull();
    CHECK(messages(r->got) == std::vector<std::string>{"a", "b"});
    auto t = telemetry();
    CHECK(t.file.write_errors == 3); // at start, then each flush
    CHECK(t.file.dropped == 2);
    CHECK_FALSE(t.file.last_error.empty());
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "lines read again for the cloud after a restart are not "
                    "written to the persistent log twice") {
    test::temp_dir tmp;
    file_dir = tmp.path();
    ew->add("c1", 7, "main");
    start(true); // the cloud never takes a line: all are read again
    line("c1", t0 + 1, "a");
    line("c1", t0 + 2, "b");
    advance(100ms);
    CHECK(slurp_file(file_dir + "/bosun.log.marks")
          == "c1 " + std::to_string(t0 + 2) + ":1\n");
    CHECK(dw->kv.count("logs.last.c1") == 0);
    caf::anon_send_exit(logs, caf::exit_reason::user_shutdown);
    sched.run();
    start(true);
    CHECK(ew->log_reqs.back().options.since == 0);
    line("c1", t0 + 1, "a");
    line("c1", t0 + 2, "b");
    line("c1", t0 + 3, "c");
    advance(100ms);
    std::ifstream in(file_dir + "/bosun.log");
    std::vector<std::string> got;
    for (std::string l; std::getline(in, l);)
      got.push_back(l.substr(l.find("\"message\":\"") + 11, 1));
    CHECK(got == std::vector<std::string>{"a", "b", "c"});
  }

  TEST_CASE_FIXTURE(logs_fixture, "removing a container forgets its mark in "
                                  "the persistent log, and so does a start "
                                  "without it") {
    test::temp_dir tmp;
    file_dir = tmp.path();
    std::ofstream(file_dir + "/bosun.log.marks") << "gone 5:1\n";
    ew->add("c1", 7, "main");
    start();
    line("c1", t0 + 1, "a");
    advance(100ms);
    CHECK(slurp_file(file_dir + "/bosun.log.marks")
          == "c1 " + std::to_string(t0 + 1) + ":1\n");
    event("c1", "destroy");
    advance(100ms);
    CHECK(slurp_file(file_dir + "/bosun.log.marks").empty());
  }

  TEST_CASE_FIXTURE(logs_fixture,
                    "a stderr line older than the stdout line before it is "
                    "written too, and a restart writes neither again") {
    test::temp_dir tmp;
    file_dir = tmp.path();
    ew->add("c1", 7, "main");
    start(true);
    line("c1", t0 + 5, "a");
    line("c1", t0 + 3, "b", log_source::err);
    line("c1", t0 + 6, "c");
    advance(100ms);
    auto once = slurp_file(file_dir + "/bosun.log");
    CHECK(once.find("\"b\"") != std::string::npos);
    caf::anon_send_exit(logs, caf::exit_reason::user_shutdown);
    sched.run();
    start(true);
    line("c1", t0 + 5, "a");
    line("c1", t0 + 3, "b", log_source::err);
    line("c1", t0 + 6, "c");
    line("c1", t0 + 7, "d", log_source::err);
    advance(100ms);
    auto twice = slurp_file(file_dir + "/bosun.log");
    REQUIRE(twice.size() > once.size());
    auto added = twice.substr(once.size());
    CHECK(added.find("\"d\"") != std::string::npos);
    CHECK(added.find("\"a\"") == std::string::npos);
    CHECK(added.find("\"b\"") == std::string::npos);
    CHECK(added.find("\"c\"") == std::string::npos);
  }
}
