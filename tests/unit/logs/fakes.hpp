#pragma once

// Fakes for the logs actors on the deterministic scheduler: a scripted cloud
// connection, an engine and a db that answer only what the logs actor asks
// (dynamically typed actors behind the typed handles), and a local reader.
#include "actors/logs/logs.hpp"
#include "actors/logs/shipper.hpp"
#include "tests/unit/logs/inflate.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bosun::test {

inline caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

// One cloud connection as the shipper sees it; the test plays the network.
struct fake_conn {
  log_upload::events ev;
  std::vector<std::string> writes;
  std::string finish_data;
  bool finished = false;
  bool closed = false;

  // Everything written so far, gunzipped.
  std::string text() const {
    gunzip g;
    std::string all;
    for (auto& w : writes)
      all += w;
    if (finished)
      all += finish_data;
    return g.feed(all);
  }
  // Acknowledges the write in flight.
  void ack() {
    ev.written(writes.back().size());
  }
};

struct fake_cloud {
  std::vector<std::shared_ptr<fake_conn>> conns;

  log_upload::factory factory() {
    return
      [this](log_upload::events ev) -> std::unique_ptr<log_upload::connection> {
        auto c = std::make_shared<fake_conn>();
        c->ev = std::move(ev);
        conns.push_back(c);
        struct handle : log_upload::connection {
          std::shared_ptr<fake_conn> c;
          explicit handle(std::shared_ptr<fake_conn> x) : c(std::move(x)) {}
          void write(std::string d) override {
            c->writes.push_back(std::move(d));
          }
          void finish(std::string d) override {
            c->finish_data = std::move(d);
            c->finished = true;
          }
          void close() override {
            c->closed = true;
          }
        };
        return std::make_unique<handle>(c);
      };
  }
  fake_conn& last() {
    return *conns.back();
  }
};

// A logs actor stand-in for shipper tests: counts pulls.
struct fake_logs_world {
  int pulls = 0;
};

inline caf::behavior fake_logs(caf::event_based_actor*,
                               std::shared_ptr<fake_logs_world> w) {
  return {
    [w](log_pull&) { ++w->pulls; },
    [](system_log&) {},
  };
}

// A db holding config keys.
struct fake_db_world {
  std::map<std::string, std::string> kv;
  int puts = 0;
  bool fail = false;
};

inline caf::behavior fake_db(caf::event_based_actor*,
                             std::shared_ptr<fake_db_world> w) {
  return {
    [w](caf::get_atom,
        config_kv_atom) -> caf::result<std::map<std::string, std::string>> {
      if (w->fail)
        return caf::make_error(db_errc::query_failed, "broken");
      return w->kv;
    },
    [w](caf::put_atom, config_kv_atom,
        const std::map<std::string, std::string>& kv) -> caf::result<void> {
      if (w->fail)
        return caf::make_error(db_errc::query_failed, "broken");
      ++w->puts;
      for (auto& [k, v] : kv)
        w->kv[k] = v;
      return caf::unit;
    },
    [w](caf::delete_atom, config_kv_atom,
        const std::string& k) -> caf::result<void> {
      w->kv.erase(k);
      return caf::unit;
    },
  };
}

// An engine: a container list, log stream requests, subscribers.
struct fake_engine_world {
  container_list containers;
  std::vector<container_logs_req> log_reqs;
  std::vector<uint64_t> cancelled;
  std::vector<log_ack> acks;
  std::vector<caf::actor> subscribers;
  uint64_t next_stream = 1;
  int lists = 0;
  bool down = false;

  void add(const std::string& id, int64_t service_id,
           const std::string& service) {
    container_summary c;
    c.id = id;
    c.labels["io.balena.supervised"] = "true";
    c.labels["io.balena.service-id"] = std::to_string(service_id);
    c.labels["io.balena.service-name"] = service;
    c.labels["io.balena.app-id"] = "1";
    containers.push_back(c);
  }
  const container_summary* find(const std::string& id) const {
    for (auto& c : containers)
      if (c.id == id)
        return &c;
    return nullptr;
  }
  // The stream id of the last request for `id` (0: none).
  uint64_t stream_of(const std::string& id) const {
    uint64_t s = 0;
    for (size_t i = 0; i < log_reqs.size(); ++i)
      if (log_reqs[i].id == id)
        s = i + 1;
    return s;
  }
  int requests_for(const std::string& id) const {
    int n = 0;
    for (auto& r : log_reqs)
      n += r.id == id ? 1 : 0;
    return n;
  }
};

inline caf::behavior fake_engine(caf::event_based_actor*,
                                 std::shared_ptr<fake_engine_world> w) {
  auto unavailable = [] {
    return caf::make_error(engine_errc::unavailable, "engine is down");
  };
  return {
    [w, unavailable](container_list_req&) -> caf::result<container_list> {
      ++w->lists;
      if (w->down)
        return unavailable();
      return w->containers;
    },
    [w, unavailable](container_logs_req& r) -> caf::result<uint64_t> {
      if (w->down)
        return unavailable();
      if (!w->find(r.id))
        return caf::make_error(engine_errc::not_found, "No such container");
      w->log_reqs.push_back(r);
      return static_cast<uint64_t>(w->log_reqs.size());
    },
    [w](container_logs_cancel& c) { w->cancelled.push_back(c.stream_id); },
    [w](const log_ack& a) { w->acks.push_back(a); },
    [w](engine_subscribe& s) -> engine_status {
      w->subscribers.push_back(caf::actor_cast<caf::actor>(s.listener));
      return engine_status{w->down ? engine_state::down : engine_state::up, {}};
    },
  };
}

// A local reader: records batches; pulls when told.
struct fake_reader_world {
  std::vector<log_entry> got;
  int batches = 0;
};

inline caf::behavior fake_reader(caf::event_based_actor*,
                                 std::shared_ptr<fake_reader_world> w) {
  return {
    [w](log_batch& b) {
      ++w->batches;
      for (auto& e : b.entries)
        w->got.push_back(*e);
    },
  };
}

} // namespace bosun::test
