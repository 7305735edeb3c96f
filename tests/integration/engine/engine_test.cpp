// The engine actor against a real dockerd and registry (see tools/dev test).
#include "actors/engine/engine.hpp"
#include "tests/support/env.hpp"
#include "tests/support/eventually.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using bosun::test::eventually;

namespace bosun {
namespace {

using bosun::test::required_env;

// What the recorder actor saw; the test thread polls it with eventually().
struct seen {
  std::mutex m;
  std::vector<engine_event> events;
  std::vector<engine_status> statuses;
  std::vector<image_pull_event> pulls;
  std::vector<log_line> lines;
  std::vector<uint64_t> line_streams; // the stream of each line
  std::map<uint64_t, uint64_t> bytes; // log_lines::bytes per stream
  std::vector<log_stream_ended> ended;
};

using recorder_actor
  = caf::typed_actor<caf::reacts_to<engine_event>,
                     caf::reacts_to<engine_status>, caf::reacts_to<log_lines>,
                     caf::reacts_to<log_stream_ended>,
                     caf::reacts_to<image_pull_event>>;

recorder_actor::behavior_type recorder_impl(recorder_actor::pointer,
                                            std::shared_ptr<seen> s) {
  return {
    [s](engine_event& e) {
      std::lock_guard<std::mutex> g{s->m};
      s->events.push_back(std::move(e));
    },
    [s](engine_status& st) {
      std::lock_guard<std::mutex> g{s->m};
      s->statuses.push_back(std::move(st));
    },
    [s](log_lines& b) {
      std::lock_guard<std::mutex> g{s->m};
      for (auto& l : b.lines) {
        s->lines.push_back(std::move(l));
        s->line_streams.push_back(b.stream_id);
      }
      s->bytes[b.stream_id] += b.bytes;
    },
    [s](log_stream_ended& e) {
      std::lock_guard<std::mutex> g{s->m};
      s->ended.push_back(std::move(e));
    },
    [s](image_pull_event& p) {
      std::lock_guard<std::mutex> g{s->m};
      s->pulls.push_back(std::move(p));
    },
  };
}

template <class T>
struct reply {
  std::optional<T> value;
  caf::error err;
};

// A real actor system and io thread around one engine actor.
http::endpoint endpoint_from_env() {
  auto host = required_env("DOCKER_HOST");
  std::string why;
  auto ep = http::parse_endpoint(host, &why);
  REQUIRE_MESSAGE(ep, "DOCKER_HOST=", host, ": ", why);
  return *ep;
}

struct engine_fixture {
  // First, so a missing variable fails the test before any thread starts.
  std::string image = required_env("BOSUN_TEST_IMAGE");
  http::endpoint ep = endpoint_from_env();
  // Declared before the actor system, so it outlives every actor.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{
    io.get_executor()};
  std::thread io_thread{[this] { io.run(); }};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  engine_actor engine;
  std::shared_ptr<seen> rec = std::make_shared<seen>();
  recorder_actor recorder;
  std::string prefix = "bosun-it-eng-" + std::to_string(::getpid()) + "-";
  std::vector<std::string> containers, volumes, networks; // to clean up

  explicit engine_fixture(engine_options opts = fast_backoff()) {
    cfg.set("scheduler.max-threads", 2);
    add_engine_error_renderer(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    self.emplace(*sys);
    engine = spawn_engine(*sys, io, ep, opts);
    recorder = sys->spawn(recorder_impl, rec);
  }

  static engine_options fast_backoff() {
    engine_options o;
    o.backoff_initial = 100ms;
    o.backoff_max = 1s;
    return o;
  }

  ~engine_fixture() {
    for (auto& c : containers)
      call_void(container_remove_req{c, true, true});
    for (auto& n : networks)
      call_void(network_remove_req{n});
    for (auto& v : volumes)
      call_void(volume_remove_req{v, true});
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(recorder, caf::exit_reason::user_shutdown);
    engine = nullptr;
    recorder = nullptr;
    self.reset();
    sys.reset();
    work.reset();
    io.stop();
    io_thread.join();
  }

  template <class T, class Req>
  reply<T> call(Req req, std::chrono::seconds timeout = 60s) {
    reply<T> out;
    (*self)
      ->request(engine, timeout, std::move(req))
      .receive([&](T& v) { out.value = std::move(v); },
               [&](caf::error& e) { out.err = std::move(e); });
    return out;
  }

  template <class Req>
  caf::error call_void(Req req, std::chrono::seconds timeout = 60s) {
    caf::error out;
    (*self)
      ->request(engine, timeout, std::move(req))
      .receive([] {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  std::string render(const caf::error& e) {
    return sys->render(e);
  }

  engine_telemetry telemetry() {
    auto t = call<engine_telemetry>(caf::get_atom_v);
    REQUIRE(t.value);
    return *t.value;
  }

  void subscribe() {
    auto st = call<engine_status>(engine_subscribe{recorder});
    REQUIRE_MESSAGE(st.value, render(st.err));
  }

  bool wait_up() {
    return eventually(
      60s,
      [&](std::string& last) {
        auto t = telemetry();
        last = std::string{"engine "} + to_string(t.state);
        return t.state == engine_state::up;
      },
      "the engine actor to be up");
  }

  void ensure_image() {
    auto found = call<image_inspect>(image_inspect_req{image});
    if (found.value)
      return;
    REQUIRE_MESSAGE(found.err == engine_errc::not_found, render(found.err));
    auto err = call_void(image_pull_req{image_pull{image, {}, {}}, {}}, 300s);
    REQUIRE_MESSAGE(!err, render(err));
  }

  container_create spec(const std::string& name, string_list cmd,
                        bool tty = false) {
    container_create c;
    c.name = prefix + name;
    c.config.image = image;
    c.config.cmd = std::move(cmd);
    c.config.tty = tty;
    c.config.labels["io.bosun.test"] = "engine";
    c.host.restart_policy.name = "no";
    return c;
  }

  std::string create(const container_create& c) {
    auto id = call<std::string>(container_create_req{c});
    REQUIRE_MESSAGE(id.value, render(id.err));
    containers.push_back(*id.value);
    return *id.value;
  }

  std::vector<std::string> actions_of(const std::string& id) {
    std::lock_guard<std::mutex> g{rec->m};
    std::vector<std::string> out;
    for (auto& e : rec->events)
      if (e.type == "container" && e.actor_id == id)
        out.push_back(e.action);
    return out;
  }

  std::vector<engine_state> statuses() {
    std::lock_guard<std::mutex> g{rec->m};
    std::vector<engine_state> out;
    for (auto& s : rec->statuses)
      out.push_back(s.state);
    return out;
  }
};

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

// Whether `want` occurs in `got` in this order (other items may interleave).
bool in_order(const std::vector<std::string>& got,
              const std::vector<std::string>& want) {
  size_t i = 0;
  for (auto& g : got)
    if (i < want.size() && g == want[i])
      ++i;
  return i == want.size();
}

const string_list sleeper = {"/bin/busybox", "sleep", "1000"};

} // namespace

TEST_SUITE("engine actor (real dockerd)") {
  TEST_CASE("answers ping, version and info") {
    engine_fixture f;
    auto ping = f.call<engine_ping>(engine_ping_req{});
    REQUIRE_MESSAGE(ping.value, f.render(ping.err));
    CHECK(ping.value->api_version != "");
    auto version = f.call<engine_version>(engine_version_req{});
    REQUIRE_MESSAGE(version.value, f.render(version.err));
    CHECK(version.value->api_version >= "1.41");
    auto info = f.call<engine_info>(engine_info_req{});
    REQUIRE_MESSAGE(info.value, f.render(info.err));
    CHECK(info.value->server_version == version.value->version);
    CHECK(f.wait_up());
  }

  TEST_CASE("pulls the test image from the registry, reporting progress") {
    engine_fixture f;
    auto gone = f.call<image_delete_result>(image_remove_req{f.image, true});
    CHECK_MESSAGE((gone.value || gone.err == engine_errc::not_found),
                  f.render(gone.err));
    auto absent = f.call<image_inspect>(image_inspect_req{f.image});
    REQUIRE(absent.err == engine_errc::not_found);

    auto err = f.call_void(image_pull_req{image_pull{f.image, {}, {}},
                                          pull_listener_actor{f.recorder}},
                           300s);
    REQUIRE_MESSAGE(!err, f.render(err));
    CHECK(eventually(10s, [&](std::string& last) {
      std::lock_guard<std::mutex> g{f.rec->m};
      last = std::to_string(f.rec->pulls.size()) + " progress events";
      return !f.rec->pulls.empty();
    }));
    {
      std::lock_guard<std::mutex> g{f.rec->m};
      for (auto& p : f.rec->pulls) {
        CHECK(p.image == f.image);
        CHECK(!p.progress.error);
      }
    }
    auto present = f.call<image_inspect>(image_inspect_req{f.image});
    REQUIRE_MESSAGE(present.value, f.render(present.err));
    CHECK(present.value->id.rfind("sha256:", 0) == 0);
    auto listed = f.call<image_list>(image_list_req{});
    REQUIRE(listed.value);
    bool found = false;
    for (auto& img : *listed.value)
      found = found || img.id == present.value->id;
    CHECK(found);

    auto repo = "bosun-it/" + f.prefix + "tagged";
    auto tagged = f.call_void(image_tag_req{f.image, image_tag{repo, "1"}});
    REQUIRE_MESSAGE(!tagged, f.render(tagged));
    auto alias = f.call<image_inspect>(image_inspect_req{repo + ":1"});
    REQUIRE_MESSAGE(alias.value, f.render(alias.err));
    CHECK(alias.value->id == present.value->id);
    auto untagged = f.call<image_delete_result>(image_remove_req{repo + ":1"});
    REQUIRE_MESSAGE(untagged.value, f.render(untagged.err));
    REQUIRE(untagged.value->size() == 1);
    CHECK(untagged.value->at(0).untagged == repo + ":1");
    CHECK(f.call<image_inspect>(image_inspect_req{f.image}).value);
  }

  TEST_CASE("a pull of an image the registry lacks fails with its message") {
    engine_fixture f;
    auto missing = required_env("BOSUN_TEST_REGISTRY") + "/bosun/"
                   + f.prefix.substr(0, f.prefix.size() - 1) + ":404";
    auto err = f.call_void(
      image_pull_req{image_pull{missing, {}, {}}, pull_listener_actor{}}, 120s);
    REQUIRE(err);
    CHECK(err.category() == caf::atom("engine"));
    CHECK((err == engine_errc::not_found || err == engine_errc::stream_error
           || err == engine_errc::server_error));
    CHECK(engine_error_message(err) != "");
    MESSAGE("pull error: ", f.render(err));
  }

  TEST_CASE("runs a container's lifecycle and publishes its events") {
    engine_fixture f;
    f.ensure_image();
    f.subscribe();
    REQUIRE(f.wait_up());

    auto id = f.create(f.spec("life", sleeper));
    REQUIRE(f.call_void(container_start_req{id}) == caf::error{});
    auto again = f.call_void(container_start_req{id});
    CHECK_MESSAGE(again == engine_errc::not_modified, f.render(again));

    auto running = f.call<container_inspect>(container_inspect_req{id});
    REQUIRE_MESSAGE(running.value, f.render(running.err));
    CHECK(running.value->state.running);
    CHECK(running.value->name == "/" + f.prefix + "life");
    CHECK(running.value->config.labels["io.bosun.test"] == "engine");

    auto listed = f.call<container_list>(
      container_list_req{false, {{"label", {"io.bosun.test=engine"}}}});
    REQUIRE(listed.value);
    bool found = false;
    for (auto& c : *listed.value)
      found = found || c.id == id;
    CHECK(found);

    auto stopped = f.call_void(container_stop_req{id, 0});
    CHECK_MESSAGE(!stopped, f.render(stopped));
    auto stop_again = f.call_void(container_stop_req{id, 0});
    CHECK_MESSAGE(stop_again == engine_errc::not_modified,
                  f.render(stop_again));

    REQUIRE(f.call_void(container_restart_req{id, 0}) == caf::error{});
    auto killed = f.call_void(container_kill_req{id, "SIGKILL"});
    CHECK_MESSAGE(!killed, f.render(killed));
    auto waited
      = f.call<container_wait_result>(container_wait_req{id, "not-running"});
    REQUIRE_MESSAGE(waited.value, f.render(waited.err));
    CHECK(waited.value->status_code == 137);

    auto renamed = f.call_void(container_rename_req{id, f.prefix + "renamed"});
    CHECK_MESSAGE(!renamed, f.render(renamed));
    container_update up;
    up.memory = 64 * 1024 * 1024;
    up.memory_swap = -1;
    auto updated
      = f.call<container_update_result>(container_update_req{id, up});
    CHECK_MESSAGE(updated.value, f.render(updated.err));

    auto removed = f.call_void(container_remove_req{id, false, true});
    CHECK_MESSAGE(!removed, f.render(removed));
    CHECK(eventually(
      30s,
      [&](std::string& last) {
        auto got = f.actions_of(id);
        last = join(got);
        return in_order(got,
                        {"create", "start", "die", "start", "die", "destroy"});
      },
      "create, start, die, destroy events"));
    auto t = f.telemetry();
    CHECK(t.events_seen >= 6);
    CHECK(t.subscribers == 1);
    CHECK(t.requests_in_flight == 0);
  }

  TEST_CASE("an unknown container is a typed not_found with the engine's "
            "message") {
    engine_fixture f;
    auto name = f.prefix + "nope";
    auto r = f.call<container_inspect>(container_inspect_req{name});
    REQUIRE(!r.value);
    CHECK(r.err == engine_errc::not_found);
    CHECK(engine_error_message(r.err).find(name) != std::string::npos);
    CHECK(render_engine_error(r.err).rfind("engine not_found: ", 0) == 0);
    CHECK(f.render(r.err) == render_engine_error(r.err));
    CHECK(f.call_void(container_start_req{name}) == engine_errc::not_found);
    CHECK(f.call_void(container_remove_req{name}) == engine_errc::not_found);
    auto t = f.telemetry();
    CHECK(t.requests_failed >= 3);
    CHECK(t.last_error != "");
  }

  TEST_CASE("a name already in use is a conflict") {
    engine_fixture f;
    f.ensure_image();
    auto c = f.spec("dup", sleeper);
    f.create(c);
    auto second = f.call<std::string>(container_create_req{c});
    REQUIRE(!second.value);
    CHECK_MESSAGE(second.err == engine_errc::conflict, f.render(second.err));
  }

  TEST_CASE("creates, lists and removes a volume and a network") {
    engine_fixture f;
    f.subscribe();
    volume_create vc;
    vc.name = f.prefix + "vol";
    vc.labels["io.bosun.test"] = "engine";
    auto vol = f.call<volume_info>(volume_create_req{vc});
    REQUIRE_MESSAGE(vol.value, f.render(vol.err));
    f.volumes.push_back(vc.name);
    CHECK(vol.value->name == vc.name);
    CHECK(vol.value->labels["io.bosun.test"] == "engine");
    auto vols = f.call<volume_list>(
      volume_list_req{{{"label", {"io.bosun.test=engine"}}}});
    REQUIRE(vols.value);
    bool found = false;
    for (auto& v : vols.value->volumes)
      found = found || v.name == vc.name;
    CHECK(found);

    network_create nc;
    nc.name = f.prefix + "net";
    nc.driver = "bridge";
    nc.labels["io.bosun.test"] = "engine";
    auto net = f.call<std::string>(network_create_req{nc});
    REQUIRE_MESSAGE(net.value, f.render(net.err));
    f.networks.push_back(*net.value);
    auto info = f.call<network_info>(network_inspect_req{nc.name});
    REQUIRE_MESSAGE(info.value, f.render(info.err));
    CHECK(info.value->id == *net.value);
    CHECK(info.value->labels["io.bosun.test"] == "engine");
    auto nets = f.call<network_infos>(network_list_req{});
    REQUIRE(nets.value);
    found = false;
    for (auto& n : *nets.value)
      found = found || n.id == *net.value;
    CHECK(found);

    f.ensure_image();
    auto cid = f.create(f.spec("netuser", sleeper));
    network_connect conn;
    conn.container = cid;
    conn.endpoint_config.aliases = {"alias-one"};
    auto connected = f.call_void(network_connect_req{nc.name, conn});
    CHECK_MESSAGE(!connected, f.render(connected));
    auto after = f.call<container_inspect>(container_inspect_req{cid});
    REQUIRE(after.value);
    CHECK(after.value->network.networks.count(nc.name) == 1);
    auto disconnected = f.call_void(
      network_disconnect_req{nc.name, network_disconnect{cid, true}});
    CHECK_MESSAGE(!disconnected, f.render(disconnected));

    CHECK(f.call_void(network_remove_req{nc.name}) == caf::error{});
    CHECK(f.call_void(volume_remove_req{vc.name}) == caf::error{});
    CHECK(f.call<volume_info>(volume_inspect_req{vc.name}).err
          == engine_errc::not_found);
    CHECK(f.call<network_info>(network_inspect_req{nc.name}).err
          == engine_errc::not_found);
    CHECK(eventually(30s, [&](std::string& last) {
      std::lock_guard<std::mutex> g{f.rec->m};
      std::vector<std::string> got;
      for (auto& e : f.rec->events)
        if (e.type == "volume" || e.type == "network")
          got.push_back(e.type + ":" + e.action);
      last = join(got);
      return in_order(got,
                      {"volume:create", "network:create", "network:disconnect",
                       "network:destroy", "volume:destroy"});
    }));
  }

  TEST_CASE("streams a container's stdout and stderr as log lines") {
    engine_fixture f;
    f.ensure_image();
    auto id = f.create(f.spec(
      "logs", {"/bin/sh", "-c", "echo out-1; echo err-1 >&2; echo out-2"}));
    REQUIRE(f.call_void(container_start_req{id}) == caf::error{});
    auto waited = f.call<container_wait_result>(container_wait_req{id, {}});
    REQUIRE_MESSAGE(waited.value, f.render(waited.err));

    container_logs_options opts;
    opts.timestamps = true;
    auto stream = f.call<uint64_t>(
      container_logs_req{id, opts, log_listener_actor{f.recorder}});
    REQUIRE_MESSAGE(stream.value, f.render(stream.err));
    REQUIRE(eventually(30s, [&](std::string& last) {
      std::lock_guard<std::mutex> g{f.rec->m};
      last = std::to_string(f.rec->lines.size()) + " lines, "
             + std::to_string(f.rec->ended.size()) + " ended";
      return f.rec->ended.size() == 1;
    }));
    std::lock_guard<std::mutex> g{f.rec->m};
    CHECK_MESSAGE(!f.rec->ended[0].reason, f.render(f.rec->ended[0].reason));
    CHECK(f.rec->ended[0].stream_id == *stream.value);
    std::vector<std::string> out, err;
    for (auto s : f.rec->line_streams)
      CHECK(s == *stream.value);
    for (auto& l : f.rec->lines) {
      CHECK(l.timestamp.size() > 20);
      (l.source == log_source::out ? out : err).push_back(l.text);
    }
    CHECK(out == std::vector<std::string>{"out-1", "out-2"});
    CHECK(err == std::vector<std::string>{"err-1"});
  }

  TEST_CASE("a flow-controlled log stream reads no further than its window "
            "until acknowledged, and loses nothing") {
    engine_fixture f;
    f.ensure_image();
    // About 600 KB of log, many times the window.
    auto id = f.create(f.spec(
      "window", {"/bin/sh", "-c",
                 "seq 1 6000 | sed 's/^/line padded to about a hundred "
                 "characters ......................................... /'"}));
    REQUIRE(f.call_void(container_start_req{id}) == caf::error{});
    auto waited = f.call<container_wait_result>(container_wait_req{id, {}});
    REQUIRE_MESSAGE(waited.value, f.render(waited.err));
    // The same log twice: with a window, and without as the pace setter.
    container_logs_req req{id, {}, log_listener_actor{f.recorder}};
    auto free_stream = f.call<uint64_t>(req);
    REQUIRE_MESSAGE(free_stream.value, f.render(free_stream.err));
    req.window = 8192;
    auto stream = f.call<uint64_t>(req);
    REQUIRE_MESSAGE(stream.value, f.render(stream.err));
    auto seen_bytes = [&] {
      std::lock_guard<std::mutex> g{f.rec->m};
      return f.rec->bytes[*stream.value];
    };
    // Once the free stream read all of it, the other one had every chance
    // to: unacknowledged, it stopped within its window and a read or two.
    REQUIRE(eventually(30s, [&] {
      std::lock_guard<std::mutex> g{f.rec->m};
      return f.rec->ended.size() == 1;
    }));
    CHECK(seen_bytes() > 0);
    CHECK(seen_bytes() <= 8192 + 2 * 16384);
    // Acknowledge what arrives until the stream ends: every line, in order.
    uint64_t acked = 0;
    REQUIRE(eventually(60s, [&](std::string& last) {
      auto b = seen_bytes();
      if (b > acked) {
        caf::anon_send(f.engine, log_ack{*stream.value, b - acked});
        acked = b;
      }
      std::lock_guard<std::mutex> g{f.rec->m};
      last = std::to_string(f.rec->lines.size()) + " lines";
      return f.rec->ended.size() == 2;
    }));
    std::lock_guard<std::mutex> g{f.rec->m};
    CHECK(f.rec->ended[0].stream_id == *free_stream.value);
    CHECK_MESSAGE(!f.rec->ended[1].reason, f.render(f.rec->ended[1].reason));
    std::vector<std::string> texts;
    for (size_t i = 0; i < f.rec->lines.size(); ++i)
      if (f.rec->line_streams[i] == *stream.value)
        texts.push_back(f.rec->lines[i].text);
    REQUIRE(texts.size() == 6000);
    for (size_t i = 0; i < texts.size(); ++i) {
      auto n = " " + std::to_string(i + 1);
      auto& t = texts[i];
      if (t.size() < n.size() || t.compare(t.size() - n.size(), n.size(), n)) {
        FAIL_CHECK("line ", i, " is ", t);
        break;
      }
    }
  }

  TEST_CASE("follows a TTY container's log until cancelled") {
    engine_fixture f;
    f.ensure_image();
    auto id = f.create(f.spec("follow",
                              {"/bin/sh", "-c",
                               "i=0; while true; do echo tick-$i; "
                               "i=$((i+1)); sleep 0.1; done"},
                              true));
    REQUIRE(f.call_void(container_start_req{id}) == caf::error{});
    container_logs_options opts;
    opts.follow = true;
    auto stream = f.call<uint64_t>(
      container_logs_req{id, opts, log_listener_actor{f.recorder}});
    REQUIRE_MESSAGE(stream.value, f.render(stream.err));
    REQUIRE(eventually(30s, [&](std::string& last) {
      std::lock_guard<std::mutex> g{f.rec->m};
      last = std::to_string(f.rec->lines.size()) + " lines";
      return f.rec->lines.size() >= 3;
    }));
    CHECK(f.telemetry().log_streams == 1);
    caf::anon_send(f.engine, container_logs_cancel{*stream.value});
    REQUIRE(eventually(30s, [&](std::string& last) {
      std::lock_guard<std::mutex> g{f.rec->m};
      last = std::to_string(f.rec->ended.size()) + " ended";
      return f.rec->ended.size() == 1;
    }));
    {
      std::lock_guard<std::mutex> g{f.rec->m};
      CHECK(f.rec->ended[0].reason == engine_errc::cancelled);
      CHECK(f.rec->lines[0].text == "tick-0"); // TTY "\r\n" endings stripped
      CHECK(f.rec->lines[0].source == log_source::out);
    }
    CHECK(f.telemetry().log_streams == 0);
  }

  TEST_CASE("reports the engine down and up across a dockerd restart") {
    auto pidfile = required_env("BOSUN_TEST_DOCKERD_PIDFILE");
    auto cmd = required_env("BOSUN_TEST_DOCKERD_CMD");
    engine_fixture f;
    f.subscribe();
    REQUIRE(f.wait_up());
    CHECK(eventually(10s, [&](std::string& last) {
      auto s = f.statuses();
      last = std::to_string(s.size()) + " statuses";
      return s.size() == 1 && s[0] == engine_state::up;
    }));

    pid_t pid = 0;
    {
      std::ifstream in{pidfile};
      in >> pid;
    }
    REQUIRE_MESSAGE(pid > 1, "no pid in ", pidfile);
    REQUIRE(::kill(pid, SIGTERM) == 0);

    REQUIRE(eventually(60s, [&](std::string& last) {
      auto s = f.statuses();
      last = std::to_string(s.size()) + " statuses";
      return s.size() >= 2 && s.back() == engine_state::down;
    }));
    // While down, requests fail fast instead of waiting for the engine.
    auto t0 = std::chrono::steady_clock::now();
    auto ping = f.call<engine_ping>(engine_ping_req{}, 5s);
    CHECK(ping.err == engine_errc::unavailable);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);

    REQUIRE(eventually(
      60s,
      [&](std::string& last) {
        last = "pid " + std::to_string(pid) + " alive";
        return ::kill(pid, 0) != 0;
      },
      "the old dockerd to exit"));
    auto log = pidfile.substr(0, pidfile.rfind('/')) + "/dockerd.log";
    auto restart = "setsid " + cmd + " >>" + log + " 2>&1 </dev/null &";
    REQUIRE(std::system(restart.c_str()) == 0);

    REQUIRE(eventually(
      90s,
      [&](std::string& last) {
        auto s = f.statuses();
        last.clear();
        for (auto x : s)
          last += std::string{to_string(x)} + " ";
        return s.size() >= 3 && s.back() == engine_state::up;
      },
      "up, down, up"));
    auto s = f.statuses();
    CHECK(s
          == std::vector<engine_state>{engine_state::up, engine_state::down,
                                       engine_state::up});
    auto again = f.call<engine_ping>(engine_ping_req{});
    CHECK_MESSAGE(again.value, f.render(again.err));
    f.ensure_image();
    auto id = f.create(f.spec("after-restart", sleeper));
    CHECK(f.call_void(container_start_req{id}) == caf::error{});
    CHECK(eventually(30s, [&](std::string& last) {
      auto got = f.actions_of(id);
      last = join(got);
      return in_order(got, {"create", "start"});
    }));
    auto t = f.telemetry();
    CHECK(t.state == engine_state::up);
    CHECK(t.reconnects == 1);
    CHECK(t.reconnect_attempts >= 1);
  }
}

} // namespace bosun
