#pragma once

// A simulated engine behind the real `engine_actor` interface, for actor
// logic tests on the deterministic scheduler. Its state (`fake_world`) is
// shared with the test, which changes it directly (everything runs on the
// test thread) and tells subscribers as dockerd would.
//
// Containers only: every other request fails with engine_errc::bad_request.
// While the world is `down`, every request fails with
// engine_errc::unavailable.
#include "messages/engine.hpp"

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace bosun::test {

struct fake_container {
  std::string id;
  container_create spec;
  bool running = false;
  int64_t exit_code = 0;
  std::string finished_at = "0001-01-01T00:00:00Z";
  std::string health; // "" = no healthcheck
};

struct fake_world {
  std::map<std::string, fake_container> containers;
  std::vector<std::string> calls; // "create <name>", "start <id>", ...
  std::vector<engine_listener_actor> subscribers;
  bool down = false;
  // Containers whose last run's task the engine kept across its own
  // restart: starting them fails ("task <id>: already exists").
  std::set<std::string> stale_tasks;
  int next_id = 1;
  int exits = 0;

  size_t count(const std::string& call) const {
    size_t n = 0;
    for (const auto& c : calls)
      if (c == call)
        ++n;
    return n;
  }

  // A container as if created (and started) before the test.
  void add(const std::string& id, const container_create& spec, bool running) {
    auto& c = containers[id];
    c.id = id;
    c.spec = spec;
    c.running = running;
  }

  void emit(const std::string& id, const std::string& action) {
    if (down)
      return; // the events stream is gone with the engine
    engine_event ev;
    ev.type = "container";
    ev.action = action;
    classify_event(ev);
    ev.actor_id = id;
    for (auto& s : subscribers)
      caf::anon_send(s, ev);
  }

  // The process ends by itself (or is killed from outside: code 137).
  void exit(const std::string& id, int64_t code, bool tell = true) {
    auto& c = containers.at(id);
    c.running = false;
    c.exit_code = code;
    c.finished_at = "2024-01-01T00:00:" + std::to_string(++exits) + "Z";
    if (tell)
      emit(id, "die");
  }

  // `docker rm -f` from outside.
  void remove(const std::string& id) {
    auto running = containers.at(id).running;
    if (running)
      exit(id, 137);
    containers.erase(id);
    emit(id, "destroy");
  }

  void set_health(const std::string& id, const std::string& status) {
    containers.at(id).health = status;
    emit(id, "health_status: " + status);
  }

  void set_down(bool is_down) {
    down = is_down;
    engine_status st;
    st.state = is_down ? engine_state::down : engine_state::up;
    for (auto& s : subscribers)
      caf::anon_send(s, st);
  }

  // The one container whose create body had this name ("" if none).
  std::string id_of(const std::string& name) const {
    for (const auto& [id, c] : containers)
      if (c.spec.name == name)
        return id;
    return {};
  }
};

inline caf::error unavailable() {
  return caf::make_error(engine_errc::unavailable, "engine is down");
}

inline caf::error no_such(const std::string& id) {
  return caf::make_error(engine_errc::not_found, "No such container: " + id);
}

template <class T>
caf::result<T> not_faked() {
  return caf::make_error(engine_errc::bad_request, "not faked");
}

inline engine_actor::behavior_type
fake_engine(engine_actor::pointer, const std::shared_ptr<fake_world>& w) {
  return {
    [](engine_ping_req&) { return not_faked<engine_ping>(); },
    [](engine_version_req&) { return not_faked<engine_version>(); },
    [](engine_info_req&) { return not_faked<engine_info>(); },
    [](container_list_req&) { return not_faked<container_list>(); },
    [w](container_inspect_req& r) -> caf::result<container_inspect> {
      w->calls.push_back("inspect " + r.id);
      if (w->down)
        return unavailable();
      auto i = w->containers.find(r.id);
      if (i == w->containers.end())
        return no_such(r.id);
      container_inspect out;
      out.id = i->first;
      out.name = "/" + i->second.spec.name;
      out.state.running = i->second.running;
      out.state.status = i->second.running ? "running" : "exited";
      out.state.exit_code = i->second.exit_code;
      out.state.finished_at = i->second.finished_at;
      if (!i->second.health.empty())
        out.state.health = health_state{i->second.health, 0, {}};
      return out;
    },
    [w](container_create_req& r) -> caf::result<std::string> {
      w->calls.push_back("create " + r.spec.name);
      if (w->down)
        return unavailable();
      for (const auto& [id, c] : w->containers)
        if (c.spec.name == r.spec.name)
          return caf::make_error(engine_errc::conflict, "name in use");
      auto id = "c" + std::to_string(w->next_id++);
      w->add(id, r.spec, false);
      return id;
    },
    [w](container_start_req& r) -> caf::result<void> {
      w->calls.push_back("start " + r.id);
      if (w->down)
        return unavailable();
      auto i = w->containers.find(r.id);
      if (i == w->containers.end())
        return no_such(r.id);
      if (i->second.running)
        return caf::make_error(engine_errc::not_modified, "already started");
      if (w->stale_tasks.count(r.id) != 0)
        return caf::make_error(engine_errc::server_error,
                               "task " + r.id + ": already exists");
      i->second.running = true;
      if (!i->second.health.empty())
        i->second.health = "starting";
      w->emit(r.id, "start");
      return caf::unit;
    },
    [w](container_stop_req& r) -> caf::result<void> {
      w->calls.push_back("stop " + r.id);
      if (w->down)
        return unavailable();
      auto i = w->containers.find(r.id);
      if (i == w->containers.end())
        return no_such(r.id);
      if (!i->second.running)
        return caf::make_error(engine_errc::not_modified, "already stopped");
      w->exit(r.id, 143);
      w->emit(r.id, "stop");
      return caf::unit;
    },
    [](container_kill_req&) -> caf::result<void> { return not_faked<void>(); },
    [w](container_restart_req& r) -> caf::result<void> {
      w->calls.push_back("restart " + r.id);
      if (w->down)
        return unavailable();
      auto i = w->containers.find(r.id);
      if (i == w->containers.end())
        return no_such(r.id);
      if (i->second.running)
        w->exit(r.id, 143);
      i->second.running = true;
      w->emit(r.id, "start");
      w->emit(r.id, "restart");
      return caf::unit;
    },
    [w](container_remove_req& r) -> caf::result<void> {
      w->calls.push_back("remove " + r.id);
      if (w->down)
        return unavailable();
      auto i = w->containers.find(r.id);
      if (i == w->containers.end())
        return no_such(r.id);
      if (i->second.running && !r.force)
        return caf::make_error(engine_errc::conflict, "running");
      w->remove(r.id);
      return caf::unit;
    },
    [](container_wait_req&) { return not_faked<container_wait_result>(); },
    [](container_rename_req&) -> caf::result<void> {
      return not_faked<void>();
    },
    [](container_update_req&) { return not_faked<container_update_result>(); },
    [](container_logs_req&) { return not_faked<uint64_t>(); },
    [](container_logs_cancel&) -> caf::result<void> {
      return not_faked<void>();
    },
    [](log_ack&) {},
    [](image_list_req&) { return not_faked<image_list>(); },
    [](image_inspect_req&) { return not_faked<image_inspect>(); },
    [](image_pull_req&) -> caf::result<void> { return not_faked<void>(); },
    [](image_tag_req&) -> caf::result<void> { return not_faked<void>(); },
    [](image_remove_req&) { return not_faked<image_delete_result>(); },
    [](volume_list_req&) { return not_faked<volume_list>(); },
    [](volume_inspect_req&) { return not_faked<volume_info>(); },
    [](volume_create_req&) { return not_faked<volume_info>(); },
    [](volume_remove_req&) -> caf::result<void> { return not_faked<void>(); },
    [](network_list_req&) { return not_faked<network_infos>(); },
    [](network_inspect_req&) { return not_faked<network_info>(); },
    [](network_create_req&) { return not_faked<std::string>(); },
    [](network_connect_req&) -> caf::result<void> { return not_faked<void>(); },
    [](network_disconnect_req&) -> caf::result<void> {
      return not_faked<void>();
    },
    [](network_remove_req&) -> caf::result<void> { return not_faked<void>(); },
    [w](engine_subscribe& r) {
      w->subscribers.push_back(r.listener);
      engine_status st;
      st.state = w->down ? engine_state::down : engine_state::up;
      return st;
    },
    [w](engine_unsubscribe&) {},
    [](caf::get_atom) { return engine_telemetry{}; },
  };
}

} // namespace bosun::test
