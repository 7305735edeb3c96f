#pragma once

// The service supervisor on the deterministic scheduler, against a simulated
// engine (fake_engine.hpp), with collectors for its status messages and its
// system lines. Virtual time drives the backoff; nothing sleeps.
#include "actors/apps/service_supervisor.hpp"
#include "tests/unit/apps_supervisor/fake_engine.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>
#include <memory>
#include <vector>

namespace bosun::test {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

inline caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

using status_log = std::vector<service_status>;

inline service_status_listener::behavior_type
collector(service_status_listener::pointer,
          const std::shared_ptr<status_log>& out) {
  return {[out](const service_status& s) { out->push_back(s); }};
}

using line_log = std::vector<system_log>;

// A logs actor that keeps the system lines it gets (untyped: only the
// system lines matter here, whatever else the logs interface grows).
inline caf::behavior line_collector(caf::event_based_actor*,
                                    std::shared_ptr<line_log> out) {
  return {[out](system_log& l) { out->push_back(std::move(l)); }};
}

inline supervisor_options with_logs(logs_actor logs) {
  supervisor_options o;
  o.logs = std::move(logs);
  return o;
}

inline service_apply spec(restart_mode mode = restart_mode::always,
                          std::string name = "web_1_1_abc") {
  service_apply s;
  s.app_uuid = "a1";
  s.app_id = 1;
  s.service_name = "web";
  s.container.name = std::move(name);
  s.container.config.image = "registry/web:1";
  s.container.host.restart_policy.name = "no";
  s.restart = mode;
  return s;
}

struct deterministic {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};
  std::shared_ptr<fake_world> w = std::make_shared<fake_world>();
  std::shared_ptr<status_log> seen = std::make_shared<status_log>();
  engine_actor engine = sys.spawn(fake_engine, w);
  service_status_listener listener = sys.spawn(collector, seen);
  std::shared_ptr<line_log> lines = std::make_shared<line_log>();
  logs_actor logs
    = caf::actor_cast<logs_actor>(sys.spawn(line_collector, lines));
  service_supervisor_actor sup
    = spawn_service_supervisor(sys, engine, listener, with_logs(logs));

  deterministic() {
    sched.run();
  }

  ~deterministic() {
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    self->send_exit(engine, caf::exit_reason::user_shutdown);
    self->send_exit(listener, caf::exit_reason::user_shutdown);
    self->send_exit(logs, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void advance(milliseconds d) {
    sched.advance_time(d);
    sched.run();
  }

  // Sends `msg`, lets every actor run, and takes the reply (which must be
  // there by then: nothing in these tests waits on real time).
  template <class T, class Msg>
  caf::expected<T> ask(Msg msg) {
    auto h = self->request(sup, caf::infinite, std::move(msg));
    sched.run();
    if (self->mailbox().empty())
      return caf::make_error(caf::sec::request_timeout, "no reply");
    caf::expected<T> out{caf::make_error(caf::sec::unexpected_response)};
    h.receive([&](T& x) { out = std::move(x); },
              [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  std::string apply(service_apply s) {
    auto id = ask<std::string>(std::move(s));
    REQUIRE_MESSAGE(id, sys.render(id.error()));
    return *id;
  }

  service_status status() {
    auto s = ask<service_status>(caf::get_atom_v);
    REQUIRE_MESSAGE(s, sys.render(s.error()));
    return *s;
  }

  service_status command(service_start x) {
    return must(ask<service_status>(x));
  }
  service_status command(service_stop x) {
    return must(ask<service_status>(x));
  }
  service_status command(service_restart x) {
    return must(ask<service_status>(x));
  }

  service_status must(caf::expected<service_status> s) {
    REQUIRE_MESSAGE(s, sys.render(s.error()));
    return *s;
  }

  uint32_t restarts() {
    return status().restart_count;
  }

  // The system lines received so far, as text; then forgets them.
  std::vector<std::string> take_lines() {
    sched.run();
    std::vector<std::string> out;
    for (auto& l : *lines)
      out.push_back(l.message);
    lines->clear();
    return out;
  }

  // The container exits by itself with `code`, as dockerd reports it.
  void exit_container(const std::string& id, int64_t code) {
    w->exit(id, code);
    sched.run();
  }
};

} // namespace bosun::test
