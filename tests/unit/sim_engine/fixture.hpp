#pragma once

// The simulated engine on CAF's deterministic scheduler: virtual time moves
// only with advance(), so every delay the engine models is checked exactly.
// Listeners collect what the engine sends (events, log lines, pull lines).
#include "tools/fleet-sim/sim_engine.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>
#include <memory>
#include <vector>

namespace bosun::simtest {

using namespace std::chrono_literals;
using namespace bosun::sim;

struct seen {
  std::vector<engine_event> events;
  std::vector<engine_status> statuses;
  std::vector<log_lines> batches;
  std::vector<log_stream_ended> ended;
  std::vector<image_pull_event> pulls;

  std::vector<std::string> actions(const std::string& type
                                   = "container") const {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.type == type)
        out.push_back(e.action);
    return out;
  }

  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& b : batches)
      for (const auto& l : b.lines)
        out.push_back(l.text);
    return out;
  }
};

inline engine_listener_actor::behavior_type
event_sink(engine_listener_actor::pointer, std::shared_ptr<seen> s) {
  return {
    [s](const engine_event& e) { s->events.push_back(e); },
    [s](const engine_status& e) { s->statuses.push_back(e); },
  };
}

inline log_listener_actor::behavior_type log_sink(log_listener_actor::pointer,
                                                  std::shared_ptr<seen> s) {
  return {
    [s](log_lines& b) { s->batches.push_back(std::move(b)); },
    [s](const log_stream_ended& e) { s->ended.push_back(e); },
  };
}

inline pull_listener_actor::behavior_type
pull_sink(pull_listener_actor::pointer, std::shared_ptr<seen> s) {
  return {[s](const image_pull_event& e) { s->pulls.push_back(e); }};
}

inline caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

inline container_create spec_of(const std::string& name,
                                const std::string& image = "reg.local/app:1",
                                const std::string& service = "main") {
  container_create c;
  c.name = name;
  c.config.image = image;
  c.config.labels["io.balena.service-name"] = service;
  c.config.labels["io.balena.supervised"] = "true";
  return c;
}

struct deterministic {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};
  std::shared_ptr<seen> s = std::make_shared<seen>();
  sim_options opts;
  sim_engine_actor engine;
  engine_listener_actor events;
  log_listener_actor logs;
  pull_listener_actor pulls;

  explicit deterministic(sim_options o = defaults()) : opts(std::move(o)) {
    engine = spawn_sim_engine(sys, opts);
    events = sys.spawn(event_sink, s);
    logs = sys.spawn(log_sink, s);
    pulls = sys.spawn(pull_sink, s);
    self->send(engine, engine_subscribe{events});
    run();
    self->receive([](engine_status&) {});
  }

  ~deterministic() {
    for (caf::actor a : {caf::actor_cast<caf::actor>(engine),
                         caf::actor_cast<caf::actor>(events),
                         caf::actor_cast<caf::actor>(logs),
                         caf::actor_cast<caf::actor>(pulls)})
      self->send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // Round figures so that tests can count time exactly.
  static sim_options defaults() {
    sim_options o;
    o.timing.create = 20ms;
    o.timing.start = 100ms;
    o.timing.stop = 100ms;
    o.timing.remove = 10ms;
    o.registry.latency = 50ms;
    o.registry.bandwidth = 1e6;        // 1 MB/s
    o.registry.image_size = 1'000'000; // 1 s of download
    o.registry.layers = 2;
    return o;
  }

  void run() {
    auto n = sched.run(100000);
    REQUIRE_MESSAGE(n < 100000, "the actors never went idle");
  }

  void advance(std::chrono::milliseconds d) {
    sched.advance_time(d);
    run();
  }

  // Follows `id`'s log into the log sink (`window`: flow control, 0 none).
  container_logs_req follow(const std::string& id, uint64_t window = 0) {
    container_logs_req r;
    r.id = id;
    r.options.follow = true;
    r.listener = logs;
    r.window = window;
    return r;
  }

  // Sends `msg` and runs; the reply, or "no reply" while it is pending.
  template <class T, class Msg>
  std::optional<caf::expected<T>> send_and_poll(Msg msg) {
    self->send(engine, std::move(msg));
    run();
    return poll<T>();
  }

  template <class T>
  std::optional<caf::expected<T>> poll() {
    if (self->mailbox().empty())
      return std::nullopt;
    std::optional<caf::expected<T>> out;
    self->receive([&](T& x) { out = caf::expected<T>{std::move(x)}; },
                  [&](caf::error& e) { out = caf::expected<T>{std::move(e)}; });
    return out;
  }

  // Requests that answer with nothing: none, or the error.
  std::optional<caf::error> poll_void() {
    if (self->mailbox().empty())
      return std::nullopt;
    caf::error out;
    self->receive([] {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  // Asks and lets virtual time pass until the reply is there (at most 10 min).
  template <class T, class Msg>
  caf::expected<T> ask(Msg msg) {
    self->send(engine, std::move(msg));
    run();
    for (int i = 0; i < 6000 && self->mailbox().empty(); ++i)
      advance(100ms);
    auto r = poll<T>();
    REQUIRE_MESSAGE(r, "no reply");
    return std::move(*r);
  }

  template <class Msg>
  caf::error ask_void(Msg msg) {
    self->send(engine, std::move(msg));
    run();
    for (int i = 0; i < 6000 && self->mailbox().empty(); ++i)
      advance(100ms);
    auto r = poll_void();
    REQUIRE_MESSAGE(r, "no reply");
    return std::move(*r);
  }

  void pull(const std::string& image) {
    image_pull_req r;
    r.pull.from_image = image;
    r.listener = pulls;
    auto err = ask_void(r);
    REQUIRE_MESSAGE(!err, sys.render(err));
  }

  std::string create(const container_create& spec) {
    auto id = ask<std::string>(container_create_req{spec});
    REQUIRE_MESSAGE(id, sys.render(id.error()));
    return *id;
  }

  // Pulls the image, creates and starts: the running container's id.
  std::string running(const std::string& name,
                      const std::string& service = "main") {
    image_pull_req r;
    r.pull.from_image = "reg.local/app:1";
    REQUIRE(!ask_void(r));
    auto id = create(spec_of(name, "reg.local/app:1", service));
    auto err = ask_void(container_start_req{id});
    REQUIRE_MESSAGE(!err, sys.render(err));
    return id;
  }

  container_inspect inspect(const std::string& id) {
    auto i = ask<container_inspect>(container_inspect_req{id});
    REQUIRE_MESSAGE(i, sys.render(i.error()));
    return *i;
  }
};

// The engine error's code and message, for CHECKs.
inline std::pair<engine_errc, std::string> what(const caf::error& e) {
  REQUIRE(e);
  REQUIRE(e.category() == caf::atom("engine"));
  return {static_cast<engine_errc>(e.code()), engine_error_message(e)};
}

} // namespace bosun::simtest
