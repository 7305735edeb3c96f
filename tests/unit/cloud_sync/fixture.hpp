#pragma once

// cloud_sync on the deterministic scheduler: a scripted cloud (the injected
// transport), a fake app_manager and api_keys; virtual time drives polls,
// backoff and report spacing. Nothing sleeps.
#include "actors/cloud/cloud_sync.hpp"
#include "api/cloud/target_codec.hpp"
#include "tests/support/process.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <deque>
#include <doctest/doctest.h>
#include <fstream>
#include <iterator>
#include <memory>

using namespace std::chrono_literals;
using namespace bosun;
using std::chrono::milliseconds;

namespace {

caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

const std::string uuid = "0123456789abcdef0123456789abcdef";
const std::string app_uuid = "d149c5d1551b4286a930d57284a02511";

std::string target_json(const std::string& commit, const std::string& env) {
  return R"({")" + uuid + R"(":{"name":"dev","config":{},"apps":{")" + app_uuid
         + R"(":{"id":1011165,"name":"fleet","class":"fleet","releases":{")"
         + commit
         + R"(":{"id":1,"services":{"web":{"id":11,"image_id":21,)"
           R"("image":"reg/web:1","environment":{"V":")"
         + env + R"("},"labels":{}}},"volumes":{},"networks":{}}}}}}})";
}

// What the fake app_manager knows and was told.
struct apps_world {
  std::optional<target_state> target;
  apps_view view;
  std::vector<apply_target> applied;
  // While set, apply_target is answered only when the actor is sent
  // ok_atom (release_applies()): an apply that takes its time.
  bool hold_applies = false;
  std::vector<caf::typed_response_promise<uint64_t>> held;
  // Subscribed to the view (apps_subscribe), and the views they were sent;
  // views asked for (apps_view_request: cloud_sync should not ask).
  std::vector<apps_listener_actor> listeners;
  size_t views_sent = 0;
  size_t view_requests = 0;
};

// As app_manager does: the view to every subscriber (after a new target
// too).
void tell_view(caf::event_based_actor* self,
               const std::shared_ptr<apps_world>& w) {
  for (auto& l : w->listeners) {
    ++w->views_sent;
    self->send(l, apps_view_changed{w->view});
  }
}

caf::behavior fake_app_manager(caf::event_based_actor* self,
                               const std::shared_ptr<apps_world>& w) {
  return {
    [self, w](apply_target& t) -> caf::typed_response_promise<uint64_t> {
      w->target = t.target;
      w->applied.push_back(std::move(t));
      auto rp = self->make_response_promise<uint64_t>();
      if (w->hold_applies) {
        w->held.push_back(rp);
      } else {
        rp.deliver(uint64_t{w->applied.size()});
        tell_view(self, w);
      }
      return rp;
    },
    [self, w](caf::ok_atom) {
      w->hold_applies = false;
      for (auto& rp : w->held)
        rp.deliver(uint64_t{w->applied.size()});
      if (!w->held.empty())
        tell_view(self, w);
      w->held.clear();
    },
    [w](caf::get_atom, target_atom) { return w->target; },
    [w](const apps_view_request&) {
      ++w->view_requests;
      return w->view;
    },
    [self, w](apps_subscribe& s) {
      w->listeners.push_back(s.listener);
      ++w->views_sent;
      self->send(s.listener, apps_view_changed{w->view});
    },
    // The view changed (set_web).
    [self, w](apps_view&) { tell_view(self, w); },
  };
}

// An app_manager that takes targets but cannot show its apps: it takes
// the subscription and never sends a view.
[[maybe_unused]] caf::behavior mute_app_manager(caf::event_based_actor*) {
  return {
    [](apply_target&) -> uint64_t { return 1; },
    [](apps_subscribe&) {},
  };
}

// A logs actor that keeps the shipping settings it is told.
caf::behavior recording_logs(caf::event_based_actor*,
                             std::shared_ptr<std::vector<log_shipping>> seen) {
  return {
    [seen](const log_shipping& ls) { seen->push_back(ls); },
    [](const system_log&) {},
  };
}

struct sent_request {
  cloud_request req;
  std::function<void(cloud_reply)> done;
  caf::actor_clock::time_point at;

  std::string header(const std::string& name) const {
    for (auto& [k, v] : req.headers)
      if (k == name)
        return v;
    return {};
  }
};

struct deterministic {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};
  test::temp_dir dir;
  std::shared_ptr<apps_world> apps = std::make_shared<apps_world>();
  std::shared_ptr<std::deque<sent_request>> requests
    = std::make_shared<std::deque<sent_request>>();
  caf::actor fake_apps = sys.spawn(fake_app_manager, apps);
  std::shared_ptr<std::vector<log_shipping>> shipping
    = std::make_shared<std::vector<log_shipping>>();
  caf::actor fake_logs = sys.spawn(recording_logs, shipping);
  std::shared_ptr<host_facts> host = std::make_shared<host_facts>();
  cloud_sync_actor sync;
  uint64_t jitter = 7000; // what the injected randomness draws

  deterministic() {
    host->ip_address = "192.168.1.10";
    host->mac_address = "AA:BB:CC:DD:EE:FF";
    host->memory_total = 4000;
    host->memory_usage = 400;
    // A device that already runs release c1 (as after a restart).
    auto t = cloud::decode_target_v3(target_json("c1", "1"),
                                     target_source::cloud, uuid);
    REQUIRE_MESSAGE(t, t.error.to_string());
    apps->target = t->target;
    set_web("Running");
  }

  void set_web(const std::string& status) {
    app_view av;
    av.app_id = 1011165;
    av.uuid = app_uuid;
    av.commit = "c1";
    av.current_commit = "c1";
    av.release_id = 1;
    service_view web;
    web.app_uuid = app_uuid;
    web.service_name = "web";
    web.release_id = 1;
    web.image = "reg/web:1";
    web.status = status;
    web.container_id = "abc";
    av.services.push_back(web);
    apps->view.apps = {av};
    self->send(fake_apps, apps->view); // app_manager tells its subscribers
  }

  ~deterministic() {
    if (sync)
      self->send_exit(sync, caf::exit_reason::user_shutdown);
    self->send_exit(fake_apps, caf::exit_reason::user_shutdown);
    self->send_exit(fake_logs, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::string config_path() const {
    return dir.path() + "/config.json";
  }

  std::string config_text() const {
    std::ifstream in(config_path());
    return {std::istreambuf_iterator<char>(in),
            std::istreambuf_iterator<char>()};
  }

  cloud_sync_options options(bool provisioned) {
    cloud_sync_options o;
    o.cfg.config_path = config_path();
    o.cfg.api_endpoint = "https://api.example";
    o.cfg.uuid = uuid;
    o.cfg.device_api_key = "dk";
    o.cfg.app_update_poll_interval = 100s;
    o.cfg.bootstrap_retry_delay = 30s;
    o.cfg.application_id = 1011165;
    if (provisioned) {
      o.cfg.registered_at = 1;
      o.cfg.device_id = 5;
    } else {
      o.cfg.provisioning_api_key = "pk";
    }
    o.api_secret = "secret";
    o.os_version = "Debian";
    o.device_type = "generic-amd64";
    auto reqs = requests;
    auto* coordinator = &sched;
    o.transport = [reqs, coordinator](cloud_request r,
                                      std::function<void(cloud_reply)> done) {
      reqs->push_back(
        {std::move(r), std::move(done), coordinator->clock().now()});
    };
    o.random = [this] { return jitter; };
    o.wall_clock_ms = [] { return int64_t{1700000000000}; };
    auto h = host;
    o.host = [h] { return *h; };
    o.log = std::make_shared<const logger>(log_level::error);
    return o;
  }

  void start(cloud_sync_options o, const std::string& config_json = "{}",
             caf::actor apps_actor = {}, caf::actor keys_actor = {}) {
    std::ofstream(config_path()) << config_json;
    cloud_sync_deps d;
    d.apps
      = caf::actor_cast<app_manager_actor>(apps_actor ? apps_actor : fake_apps);
    d.logs = caf::actor_cast<logs_actor>(fake_logs);
    if (keys_actor)
      d.api_keys = caf::actor_cast<api_keys_actor>(keys_actor);
    sync = spawn_cloud_sync(sys, d, std::move(o));
    sched.run();
  }

  // Moves virtual time in steps of at most 1 s, so that re-armed timers
  // (the 1 s status tick) fire as they would in real time.
  void advance(milliseconds d) {
    while (d > milliseconds::zero()) {
      auto step = std::min<milliseconds>(d, 1s);
      sched.advance_time(step);
      sched.run();
      d -= step;
    }
  }

  // Answers the applies app_manager held back, and stops holding them.
  void release_applies() {
    self->send(fake_apps, caf::ok_atom_v);
    sched.run();
  }

  // The oldest unanswered request for `path_prefix` (fails when none).
  sent_request take(const std::string& method, const std::string& prefix) {
    for (auto it = requests->begin(); it != requests->end(); ++it)
      if (it->req.method == method && it->req.target.rfind(prefix, 0) == 0) {
        auto out = std::move(*it);
        requests->erase(it);
        return out;
      }
    std::string seen;
    for (auto& r : *requests)
      seen += r.req.method + " " + r.req.target + "; ";
    FAIL("no " << method << " " << prefix << " request; pending: " << seen);
    return {};
  }

  size_t pending(const std::string& method, const std::string& prefix) const {
    size_t n = 0;
    for (auto& r : *requests)
      n += r.req.method == method && r.req.target.rfind(prefix, 0) == 0;
    return n;
  }

  void answer(sent_request& r, int status, std::string body = {},
              std::string etag = {}, std::string retry_after = {}) {
    cloud_reply rep;
    rep.status = status;
    rep.body = std::move(body);
    rep.etag = std::move(etag);
    rep.retry_after = std::move(retry_after);
    r.done(std::move(rep));
    sched.run();
  }

  void fail(sent_request& r) {
    cloud_reply rep;
    rep.error = "connection refused";
    r.done(std::move(rep));
    sched.run();
  }

  template <class T, class Msg>
  T ask(Msg msg) {
    auto h = self->request(sync, caf::infinite, std::move(msg));
    sched.run();
    T out{};
    REQUIRE_FALSE(self->mailbox().empty());
    h.receive([&](T& x) { out = std::move(x); },
              [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  cloud_status status() {
    return ask<cloud_status>(caf::get_atom_v);
  }

  // Answers the first poll with a target (etag "e1") and every report with
  // 200, as a healthy cloud would.
  void settle_first_poll() {
    auto poll = take("GET", "/device/v3/");
    answer(poll, 200, target_json("c1", "1"), "\"e1\"");
  }
};

} // namespace
