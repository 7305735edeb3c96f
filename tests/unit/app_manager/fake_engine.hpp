#pragma once

// A small in-memory engine behind the real `engine_actor` interface, for the
// app_manager tests on the deterministic scheduler: containers, images,
// volumes and networks. Its state (`world`) is shared with the test, which
// reads and changes it directly (everything runs on the test thread).
// Every request is recorded in `calls` ("list", "inspect <id>", "create
// <name>", ...), so a test can count what a pass asked the engine.
// With `hold_lists`, container lists go to `holder` (list_holder), which
// answers them when the test sends it caf::ok_atom.
#include "messages/engine.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bosun::amtest {

struct container {
  std::string id;
  container_create spec;
  bool running = false;
  bool started = false;
  int64_t exit_code = 0;
  std::string created;
  std::map<std::string, endpoint_settings> extra; // connected after create
};

struct world {
  std::map<std::string, container> containers;
  std::map<std::string, image_inspect> images;  // by name
  std::map<std::string, volume_info> volumes;   // by name
  std::map<std::string, network_info> networks; // by id
  std::vector<std::string> calls;
  std::vector<engine_listener_actor> subscribers;
  bool hold_lists = false;
  bool volumes_down = false; // volume lists fail (a failed engine read)
  caf::actor holder;
  size_t held = 0;
  int next_id = 1;

  size_t count_prefix(const std::string& prefix) const {
    size_t n = 0;
    for (const auto& c : calls)
      if (c.rfind(prefix, 0) == 0)
        ++n;
    return n;
  }

  // An event as dockerd sends it: a container's carries its labels, name
  // and image as attributes.
  void emit(const std::string& id, const std::string& action) {
    string_map attributes;
    auto c = containers.find(id);
    if (c != containers.end()) {
      attributes = c->second.spec.config.labels;
      attributes["name"] = c->second.spec.name;
      attributes["image"] = c->second.spec.config.image;
    }
    emit_event("container", action, id, std::move(attributes));
  }

  void emit_event(const std::string& type, const std::string& action,
                  const std::string& id, string_map attributes = {}) {
    engine_event ev;
    ev.type = type;
    ev.action = action;
    ev.actor_id = id;
    ev.attributes = std::move(attributes);
    classify_event(ev);
    for (auto& s : subscribers)
      caf::anon_send(s, ev);
  }

  container_list list() const {
    container_list out;
    for (const auto& [id, c] : containers) {
      container_summary s;
      s.id = id;
      s.names = {"/" + c.spec.name};
      s.image = c.spec.config.image;
      s.labels = c.spec.config.labels;
      s.state = c.running ? "running" : (c.started ? "exited" : "created");
      out.push_back(std::move(s));
    }
    return out;
  }

  // What dockerd's inspect shows of a container made from its create body.
  container_inspect inspect(const container& c) const {
    container_inspect out;
    out.id = c.id;
    out.name = "/" + c.spec.name;
    out.created = c.created;
    out.config = c.spec.config;
    out.host = c.spec.host;
    if (out.config.hostname.empty())
      out.config.hostname = c.id.substr(0, 12);
    auto img = images.find(c.spec.config.image);
    if (img != images.end())
      out.image = img->second.id;
    out.state.running = c.running;
    out.state.status
      = c.running ? "running" : (c.started ? "exited" : "created");
    out.state.exit_code = c.exit_code;
    out.state.started_at = "0001-01-01T00:00:00Z";
    out.state.finished_at = "0001-01-01T00:00:00Z";
    auto attach = [&](const std::string& name, const endpoint_settings& es) {
      auto ep = es;
      ep.aliases.push_back(c.id.substr(0, 12));
      ep.ip_address = "172.28.0.99";
      out.network.networks[name] = ep;
    };
    for (const auto& [name, es] : c.spec.networking.endpoints_config)
      attach(name, es);
    for (const auto& [name, es] : c.extra)
      attach(name, es);
    for (const auto& b : c.spec.host.binds) {
      auto colon = b.find(':');
      if (colon == std::string::npos || b[0] == '/')
        continue;
      mount_point m;
      m.type = "volume";
      m.name = b.substr(0, colon);
      m.destination = b.substr(colon + 1);
      out.mounts.push_back(m);
    }
    for (const auto& mc : c.spec.host.mounts)
      if (mc.type == "volume") {
        mount_point m;
        m.type = "volume";
        m.name = mc.source;
        m.destination = mc.target;
        out.mounts.push_back(m);
      }
    return out;
  }

  // The container of a service ("" if none), by its service-name label.
  std::string id_of(const std::string& service) const {
    for (const auto& [id, c] : containers) {
      auto l = c.spec.config.labels.find("io.balena.service-name");
      if (l != c.spec.config.labels.end() && l->second == service)
        return id;
    }
    return {};
  }

  bool has_network(const std::string& name) const {
    for (const auto& [_, n] : networks)
      if (n.name == name)
        return true;
    return false;
  }
};

// Holds container lists until caf::ok_atom, then answers them (from its
// own context, as a promise must be).
inline caf::behavior list_holder(caf::event_based_actor* self,
                                 std::shared_ptr<world> w) {
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  return {
    [self, held](container_list_req&) {
      held->push_back(self->make_response_promise());
    },
    [w, held](caf::ok_atom) {
      w->hold_lists = false;
      for (auto& rp : *held)
        rp.deliver(w->list());
      held->clear();
    },
  };
}

inline caf::error no_such(const std::string& what) {
  return caf::make_error(engine_errc::not_found, "No such object: " + what);
}

template <class T>
caf::result<T> not_faked() {
  return caf::make_error(engine_errc::bad_request, "not faked");
}

// (stateless: the world is the state)
inline engine_actor::behavior_type
fake_engine_impl(engine_actor::pointer self, const std::shared_ptr<world>& w) {
  auto find = [w](const std::string& id) -> container* {
    auto i = w->containers.find(id);
    if (i != w->containers.end())
      return &i->second;
    for (auto& [_, c] : w->containers)
      if (c.spec.name == id)
        return &c;
    return nullptr;
  };
  return {
    [](engine_ping_req&) { return not_faked<engine_ping>(); },
    [](engine_version_req&) { return not_faked<engine_version>(); },
    [](engine_info_req&) { return not_faked<engine_info>(); },
    [self, w](container_list_req& r) -> caf::result<container_list> {
      w->calls.push_back("list");
      if (!w->hold_lists)
        return w->list();
      ++w->held;
      return self->delegate(caf::actor_cast<engine_actor>(w->holder), r);
    },
    [w, find](container_inspect_req& r) -> caf::result<container_inspect> {
      w->calls.push_back("inspect " + r.id);
      auto* c = find(r.id);
      if (c == nullptr)
        return no_such(r.id);
      return w->inspect(*c);
    },
    [w](container_create_req& r) -> caf::result<std::string> {
      w->calls.push_back("create " + r.spec.name);
      for (const auto& [id, c] : w->containers)
        if (c.spec.name == r.spec.name)
          return caf::make_error(engine_errc::conflict, "name in use");
      auto n = w->next_id++;
      // 64 hex digits, as dockerd's: its first 12 are the default hostname.
      auto digits = std::to_string(n);
      auto id = std::string(64 - digits.size(), 'c') + digits;
      auto& c = w->containers[id];
      c.id = id;
      c.spec = r.spec;
      c.created = "2024-01-01T00:00:" + std::string(n < 10 ? "0" : "")
                  + std::to_string(n) + "Z";
      w->emit(id, "create");
      return id;
    },
    [w, find](container_start_req& r) -> caf::result<void> {
      w->calls.push_back("start " + r.id);
      auto* c = find(r.id);
      if (c == nullptr)
        return no_such(r.id);
      if (c->running)
        return caf::make_error(engine_errc::not_modified, "already started");
      c->running = c->started = true;
      w->emit(c->id, "start");
      return caf::unit;
    },
    [w, find](container_stop_req& r) -> caf::result<void> {
      w->calls.push_back("stop " + r.id);
      auto* c = find(r.id);
      if (c == nullptr)
        return no_such(r.id);
      if (!c->running)
        return caf::make_error(engine_errc::not_modified, "already stopped");
      c->running = false;
      c->exit_code = 143;
      w->emit(c->id, "die");
      w->emit(c->id, "stop");
      return caf::unit;
    },
    [](container_kill_req&) -> caf::result<void> { return not_faked<void>(); },
    [w, find](container_restart_req& r) -> caf::result<void> {
      w->calls.push_back("restart " + r.id);
      auto* c = find(r.id);
      if (c == nullptr)
        return no_such(r.id);
      c->running = c->started = true;
      w->emit(c->id, "start");
      w->emit(c->id, "restart");
      return caf::unit;
    },
    [w, find](container_remove_req& r) -> caf::result<void> {
      w->calls.push_back("remove " + r.id);
      auto* c = find(r.id);
      if (c == nullptr)
        return no_such(r.id);
      if (c->running && !r.force)
        return caf::make_error(engine_errc::conflict, "running");
      auto id = c->id;
      if (c->running)
        w->emit(id, "die");
      w->emit(id, "destroy");
      w->containers.erase(id);
      return caf::unit;
    },
    [](container_wait_req&) { return not_faked<container_wait_result>(); },
    [w, find](container_rename_req& r) -> caf::result<void> {
      w->calls.push_back("rename " + r.id);
      auto* c = find(r.id);
      if (c == nullptr)
        return no_such(r.id);
      c->spec.name = r.name;
      w->emit(c->id, "rename");
      return caf::unit;
    },
    [](container_update_req&) { return not_faked<container_update_result>(); },
    [](container_logs_req&) { return not_faked<uint64_t>(); },
    [](container_logs_cancel&) -> caf::result<void> {
      return not_faked<void>();
    },
    [](log_ack&) {},
    [](image_list_req&) { return not_faked<image_list>(); },
    [w](image_inspect_req& r) -> caf::result<image_inspect> {
      w->calls.push_back("image " + r.name);
      auto i = w->images.find(r.name);
      if (i == w->images.end())
        return no_such(r.name);
      return i->second;
    },
    [](image_pull_req&) -> caf::result<void> { return not_faked<void>(); },
    [](image_tag_req&) -> caf::result<void> { return not_faked<void>(); },
    [](image_remove_req&) { return not_faked<image_delete_result>(); },
    [w](volume_list_req&) -> caf::result<volume_list> {
      w->calls.push_back("volumes");
      if (w->volumes_down)
        return caf::make_error(engine_errc::unavailable, "volumes are down");
      volume_list out;
      for (auto& [_, v] : w->volumes)
        out.volumes.push_back(v);
      return out;
    },
    [w](volume_inspect_req& r) -> caf::result<volume_info> {
      auto i = w->volumes.find(r.name);
      if (i == w->volumes.end())
        return no_such(r.name);
      return i->second;
    },
    [w](volume_create_req& r) -> caf::result<volume_info> {
      w->calls.push_back("create volume " + r.spec.name);
      auto& v = w->volumes[r.spec.name];
      v.name = r.spec.name;
      v.driver = r.spec.driver.empty() ? "local" : r.spec.driver;
      v.labels = r.spec.labels;
      v.options = r.spec.driver_opts;
      v.scope = "local";
      w->emit_event("volume", "create", v.name);
      return v;
    },
    [w](volume_remove_req& r) -> caf::result<void> {
      w->calls.push_back("remove volume " + r.name);
      if (w->volumes.erase(r.name) == 0)
        return no_such(r.name);
      w->emit_event("volume", "destroy", r.name);
      return caf::unit;
    },
    [w](network_list_req& r) -> caf::result<network_infos> {
      w->calls.push_back("networks");
      network_infos out;
      auto by_name = r.filters.find("name");
      for (auto& [_, n] : w->networks) {
        // dockerd matches a name filter by substring; callers keep exact.
        bool keep = by_name == r.filters.end();
        if (!keep)
          for (auto& want : by_name->second)
            keep = keep || n.name.find(want) != std::string::npos;
        if (keep)
          out.push_back(n);
      }
      return out;
    },
    [w](network_inspect_req& r) -> caf::result<network_info> {
      for (auto& [id, n] : w->networks)
        if (id == r.id || n.name == r.id)
          return n;
      return no_such(r.id);
    },
    [w](network_create_req& r) -> caf::result<std::string> {
      w->calls.push_back("create network " + r.spec.name);
      if (w->has_network(r.spec.name))
        return caf::make_error(engine_errc::conflict, "network exists");
      auto id = "n" + std::to_string(w->next_id++);
      network_info n;
      n.id = id;
      n.name = r.spec.name;
      n.scope = "local";
      n.driver = r.spec.driver.empty() ? "bridge" : r.spec.driver;
      n.internal = r.spec.internal;
      n.attachable = r.spec.attachable;
      n.enable_ipv6 = r.spec.enable_ipv6;
      n.config_only = r.spec.config_only;
      if (r.spec.ipam)
        n.ipam = *r.spec.ipam;
      if (n.ipam.driver.empty())
        n.ipam.driver = "default";
      n.options = r.spec.options;
      n.labels = r.spec.labels;
      w->networks[id] = n;
      w->emit_event("network", "create", id, {{"name", n.name}});
      return id;
    },
    [w, find](network_connect_req& r) -> caf::result<void> {
      w->calls.push_back("connect " + r.network);
      auto* c = find(r.spec.container);
      if (c == nullptr)
        return no_such(r.spec.container);
      c->extra[r.network] = r.spec.endpoint_config;
      w->emit_event("network", "connect", r.network, {{"container", c->id}});
      return caf::unit;
    },
    [](network_disconnect_req&) -> caf::result<void> {
      return not_faked<void>();
    },
    [w](network_remove_req& r) -> caf::result<void> {
      w->calls.push_back("remove network " + r.id);
      if (w->networks.erase(r.id) == 0)
        return no_such(r.id);
      w->emit_event("network", "destroy", r.id);
      return caf::unit;
    },
    [w](engine_subscribe& r) {
      w->subscribers.push_back(r.listener);
      engine_status st;
      st.state = engine_state::up;
      return st;
    },
    [](engine_unsubscribe&) {},
    [](caf::get_atom) { return engine_telemetry{}; },
  };
}

} // namespace bosun::amtest
