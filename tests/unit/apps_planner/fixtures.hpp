#pragma once

// Builders for planner tests, a one-line summary of each step, and `world`:
// a tiny simulated device that executes steps the way app_manager's executor
// would, so tests can run plan → execute → plan … and check convergence.
#include "actors/apps/planner.hpp"
#include "messages/apps.hpp"
#include "messages/target.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace bosun::test {

// ------------------------------------------------------------ builders --

inline target_service svc(const std::string& name) {
  target_service s;
  s.name = name;
  s.service_id = static_cast<int64_t>(std::hash<std::string>{}(name) % 1000);
  s.image_id = s.service_id + 1000;
  s.image = "registry/" + name + ":1";
  return s;
}

inline target_service with_image(target_service s, const std::string& image) {
  s.image = image;
  return s;
}

inline target_service stopped(target_service s) {
  s.running = false;
  return s;
}

inline target_service labelled(target_service s, const std::string& k,
                               const std::string& v) {
  s.config.labels[k] = v;
  return s;
}

inline target_service strategy(target_service s, const std::string& v) {
  return labelled(std::move(s), "io.balena.update.strategy", v);
}

inline target_service depends(target_service s, const std::string& on,
                              dependency_condition c
                              = dependency_condition::started) {
  s.config.depends_on.push_back({on, c});
  return s;
}

inline target_service on_network(target_service s, const std::string& n) {
  s.config.networks[n] = service_network{};
  return s;
}

inline target_service network_mode(target_service s, const std::string& m) {
  s.config.network_mode = m;
  return s;
}

inline target_service mounts(target_service s, const std::string& volume) {
  service_volume v;
  v.source = volume;
  v.target = "/" + volume;
  s.config.volumes.push_back(v);
  return s;
}

inline target_service with_healthcheck(target_service s) {
  service_healthcheck h;
  h.test = {"CMD", "true"};
  s.config.healthcheck = h;
  return s;
}

inline target_app app(std::vector<target_service> services,
                      const std::string& uuid = "a1", int64_t app_id = 1,
                      const std::string& commit = "c2") {
  target_app a;
  a.uuid = uuid;
  a.app_id = app_id;
  a.name = "app-" + uuid;
  a.commit = commit;
  a.release_id = 2;
  std::sort(services.begin(), services.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  a.services = std::move(services);
  return a;
}

inline target_app with_volume(target_app a, const std::string& name,
                              const std::string& driver = "local") {
  target_volume v;
  v.name = name;
  v.driver = driver;
  a.volumes.push_back(v);
  return a;
}

inline target_app with_network(target_app a, const std::string& name,
                               const std::string& subnet = "") {
  target_network n;
  n.name = name;
  if (!subnet.empty())
    n.ipam.config.push_back(ipam_pool{subnet, "", "", {}});
  a.networks.push_back(n);
  std::sort(a.networks.begin(), a.networks.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  return a;
}

inline target_state target(std::vector<target_app> apps) {
  target_state t;
  t.device_uuid = "dev";
  t.apps = std::move(apps);
  return t;
}

// A container of `service`, running the target config of release c2.
inline current_container ctr(const std::string& service,
                             target_match m = target_match::equal,
                             container_status st = container_status::running) {
  current_container k;
  k.id = service + "-id";
  k.name = service + "_1_1_c1";
  k.service_name = service;
  k.commit = m == target_match::metadata_only ? "c1" : "c2";
  k.status = st;
  k.created = 1;
  k.match = m;
  k.networks = {"default"};
  return k;
}

inline current_network net(const std::string& name, bool equal = true) {
  return current_network{name, name + "-nid", equal};
}

inline current_volume vol(const std::string& name, bool equal = true) {
  return current_volume{name, equal};
}

// A current app that already has the default network and records commit c2.
inline current_app capp(std::vector<current_container> containers,
                        const std::string& uuid = "a1", int64_t app_id = 1) {
  current_app a;
  a.uuid = uuid;
  a.app_id = app_id;
  a.commit = "c2";
  a.containers = std::move(containers);
  a.networks = {net("default")};
  return a;
}

inline current_app locked(current_app a) {
  a.lock_held = true;
  return a;
}

// Every image of the target present.
inline current_state state(std::vector<current_app> apps,
                           const target_state& t) {
  current_state s;
  s.apps = std::move(apps);
  for (const auto& a : t.apps)
    for (const auto& sv : a.services)
      s.images.insert(sv.image);
  return s;
}

inline current_state state(std::vector<current_app> apps) {
  current_state s;
  s.apps = std::move(apps);
  return s;
}

// ------------------------------------------------------------ summaries --

template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overload(Fs...) -> overload<Fs...>;

// "fetch web", "kill web", "install web", "start web", "take_lock", ...
inline std::string summary(const step& s) {
  return std::visit(
    overload{
      [](const steps::fetch_image& x) { return "fetch " + x.service; },
      [](const steps::create_network& x) {
        return "create_network " + x.network.name;
      },
      [](const steps::remove_network& x) { return "remove_network " + x.name; },
      [](const steps::create_volume& x) {
        return "create_volume " + x.volume.name;
      },
      [](const steps::remove_volume& x) { return "remove_volume " + x.name; },
      [](const steps::stop_service& x) { return "stop " + x.service; },
      [](const steps::kill_service& x) { return "kill " + x.service; },
      [](const steps::remove_service& x) { return "remove " + x.service; },
      [](const steps::start_service& x) {
        if (!x.container_id.empty())
          return "start " + x.service.name;
        return (x.create_only ? "create " : "install ") + x.service.name;
      },
      [](const steps::replace_service& x) {
        return "replace " + x.service.name;
      },
      [](const steps::update_metadata& x) {
        return "rename " + x.service.name;
      },
      [](const steps::handover& x) { return "handover " + x.service.name; },
      [](const steps::take_lock&) { return std::string{"take_lock"}; },
      [](const steps::release_lock&) { return std::string{"release_lock"}; },
      [](const steps::noop& x) {
        return "noop" + (x.service.empty() ? std::string{} : " " + x.service);
      },
      [](const steps::update_commit& x) { return "commit " + x.commit; },
    },
    s);
}

inline std::vector<std::string> summaries(const std::vector<step>& p) {
  std::vector<std::string> out;
  out.reserve(p.size());
  for (const auto& s : p)
    out.push_back(summary(s));
  return out;
}

inline bool has(const std::vector<step>& p, const std::string& what) {
  auto all = summaries(p);
  return std::find(all.begin(), all.end(), what) != all.end();
}

template <class T>
const T* first(const std::vector<step>& p) {
  for (const auto& s : p)
    if (const auto* x = std::get_if<T>(&s))
      return x;
  return nullptr;
}

template <class T>
size_t count(const std::vector<step>& p) {
  return static_cast<size_t>(std::count_if(
    p.begin(), p.end(), [](auto& s) { return std::holds_alternative<T>(s); }));
}

// The reason of the first noop about `service` ("" when none).
inline std::string noop_reason(const std::vector<step>& p,
                               const std::string& service) {
  for (const auto& s : p)
    if (const auto* x = std::get_if<steps::noop>(&s))
      if (x->service == service)
        return x->reason;
  return {};
}

// ------------------------------------------------------------- the world --

// A simulated device. Containers remember the target service and release
// they were made from; observe() compares them with a target the way
// app_manager does (container_spec's compare), so a changed target shows up
// as match differs / metadata_only. apply() executes one step and CHECKs the
// preconditions the planner promises (lock held, network unused, ...).
class world {
public:
  struct sim_container {
    current_container k;
    target_service from;
  };
  struct sim_network {
    std::string id;
    target_network from;
  };
  struct sim_app {
    std::string uuid;
    int64_t app_id = 0;
    std::string commit;
    std::vector<sim_container> containers;
    std::vector<sim_network> networks;
    std::map<std::string, target_volume> volumes;
    bool lock_held = false;
    std::vector<std::string> user_locks;
    std::set<std::string> user_stopped;
  };

  std::map<std::string, sim_app> apps;
  std::set<std::string> images;
  std::vector<std::string> log; // summaries of executed steps
  int kills = 0;
  int starts = 0;

  // Puts the device exactly at `t` (as if an earlier apply finished).
  void install(const target_state& t) {
    for (const auto& a : t.apps) {
      auto& s = apps[a.uuid];
      s.uuid = a.uuid;
      s.app_id = a.app_id;
      s.commit = a.commit;
      for (const auto& n : app_networks(a))
        s.networks.push_back({a.uuid + "_" + n.name + "-" + next_id(), n});
      for (const auto& v : a.volumes)
        s.volumes[v.name] = v;
      for (const auto& sv : a.services) {
        images.insert(sv.image);
        create(s, a, sv, sv.running);
      }
    }
  }

  current_state observe(const target_state& t) const {
    current_state cs;
    cs.images = images;
    for (const auto& [uuid, s] : apps) {
      const auto* ta = find_app(t, uuid);
      current_app ca;
      ca.uuid = s.uuid;
      ca.app_id = s.app_id;
      ca.commit = s.commit;
      ca.lock_held = s.lock_held;
      ca.user_locks = s.user_locks;
      ca.user_stopped = s.user_stopped;
      for (const auto& c : s.containers) {
        auto k = c.k;
        const auto* ts = ta ? find_service(*ta, k.service_name) : nullptr;
        if (ts == nullptr)
          k.match = target_match::no_target;
        else if (!(ts->config == c.from.config) || ts->image != c.from.image)
          k.match = target_match::differs;
        else if (k.commit != ta->commit)
          k.match = target_match::metadata_only;
        else
          k.match = target_match::equal;
        ca.containers.push_back(k);
      }
      std::vector<target_network> tnets;
      if (ta)
        tnets = app_networks(*ta);
      for (const auto& n : s.networks) {
        bool equal = true;
        for (const auto& tn : tnets)
          if (tn.name == n.from.name)
            equal = tn == n.from;
        ca.networks.push_back({n.from.name, n.id, equal});
      }
      for (const auto& [name, v] : s.volumes) {
        const auto* tv = ta ? find_volume(*ta, name) : nullptr;
        ca.volumes.push_back({name, tv == nullptr || *tv == v});
      }
      cs.apps.push_back(std::move(ca));
    }
    return cs;
  }

  // Moves time on: health checks pass.
  void tick() {
    for (auto& [uuid, s] : apps)
      for (auto& c : s.containers)
        if (c.k.health == container_health::starting)
          c.k.health = container_health::healthy;
  }

  // Executes one step; false when it fails (a take_lock against a user lock).
  bool apply(const step& st) {
    log.push_back(summary(st));
    return std::visit(
      overload{
        [&](const steps::fetch_image& x) {
          CHECK_MESSAGE(images.count(x.image) == 0, "fetch of a present image");
          images.insert(x.image);
          return true;
        },
        [&](const steps::create_network& x) {
          auto& s = apps[x.app_uuid];
          s.uuid = x.app_uuid;
          s.app_id = x.app_id;
          for (const auto& n : s.networks)
            CHECK_MESSAGE(n.from.name != x.network.name,
                          "network created twice: " << x.network.name);
          s.networks.push_back(
            {x.app_uuid + "_" + x.network.name + "-" + next_id(), x.network});
          return true;
        },
        [&](const steps::remove_network& x) {
          auto& s = apps.at(x.app_uuid);
          for (const auto& c : s.containers)
            CHECK_MESSAGE(!contains(c.k.networks, x.name),
                          "network " << x.name << " removed while "
                                     << c.k.service_name << " uses it");
          auto it = std::find_if(s.networks.begin(), s.networks.end(),
                                 [&](auto& n) { return n.id == x.id; });
          REQUIRE(it != s.networks.end());
          s.networks.erase(it);
          return true;
        },
        [&](const steps::create_volume& x) {
          auto& s = apps[x.app_uuid];
          s.uuid = x.app_uuid;
          s.app_id = x.app_id;
          CHECK(s.volumes.count(x.volume.name) == 0);
          s.volumes[x.volume.name] = x.volume;
          return true;
        },
        [&](const steps::remove_volume& x) {
          auto& s = apps.at(x.app_uuid);
          for (const auto& c : s.containers)
            CHECK_MESSAGE(!contains(c.k.volumes, x.name),
                          "volume " << x.name << " removed while in use");
          CHECK(s.volumes.erase(x.name) == 1);
          return true;
        },
        [&](const steps::stop_service& x) {
          auto& s = apps.at(x.app_uuid);
          CHECK_MESSAGE(s.lock_held, "stop without the lock");
          auto& c = container(s, x.container_id);
          c.k.status = container_status::exited;
          c.k.stopped_by_agent = true;
          return true;
        },
        [&](const steps::kill_service& x) {
          auto& s = apps.at(x.app_uuid);
          CHECK_MESSAGE(s.lock_held, "kill without the lock");
          erase(s, x.container_id);
          ++kills;
          return true;
        },
        [&](const steps::remove_service& x) {
          erase(apps.at(x.app_uuid), x.container_id);
          return true;
        },
        [&](const steps::start_service& x) {
          auto& s = apps[x.app.uuid];
          if (!x.container_id.empty()) {
            auto& c = container(s, x.container_id);
            c.k.status = container_status::running;
            c.k.stopped_by_agent = false;
            ++starts;
            return true;
          }
          CHECK_MESSAGE(s.lock_held, "new container without the lock");
          check_ready(s, x.app, x.service, x.create_only);
          create(s, x.app, x.service, !x.create_only);
          return true;
        },
        [&](const steps::replace_service& x) {
          auto& s = apps.at(x.app.uuid);
          CHECK_MESSAGE(s.lock_held, "replace without the lock");
          erase(s, x.old_container_id);
          ++kills;
          check_ready(s, x.app, x.service, x.create_only);
          create(s, x.app, x.service, !x.create_only);
          return true;
        },
        [&](const steps::update_metadata& x) {
          auto& s = apps.at(x.app.uuid);
          CHECK_MESSAGE(s.lock_held, "rename without the lock");
          auto& c = container(s, x.container_id);
          c.k.commit = x.app.commit;
          c.k.release_id = x.app.release_id;
          return true;
        },
        [&](const steps::handover& x) {
          auto& s = apps.at(x.app.uuid);
          CHECK_MESSAGE(s.lock_held, "handover without the lock");
          check_ready(s, x.app, x.service, false);
          create(s, x.app, x.service, true);
          erase(s, x.old_container_id);
          ++kills;
          return true;
        },
        [&](const steps::take_lock& x) {
          auto& s = apps[x.app_uuid];
          if (!s.user_locks.empty() && !x.force)
            return false;
          s.user_locks.clear();
          s.lock_held = true;
          return true;
        },
        [&](const steps::release_lock& x) {
          apps.at(x.app_uuid).lock_held = false;
          return true;
        },
        [&](const steps::noop&) { return true; },
        [&](const steps::update_commit& x) {
          apps.at(x.app_uuid).commit = x.commit;
          return true;
        },
      },
      st);
  }

private:
  int ids_ = 0;

  std::string next_id() {
    return std::to_string(++ids_);
  }

  static bool contains(const std::vector<std::string>& xs,
                       const std::string& x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
  }

  static sim_container& container(sim_app& s, const std::string& id) {
    for (auto& c : s.containers)
      if (c.k.id == id)
        return c;
    FAIL("no container " << id);
    throw 0; // unreachable: FAIL throws
  }

  static void erase(sim_app& s, const std::string& id) {
    auto it = std::find_if(s.containers.begin(), s.containers.end(),
                           [&](auto& c) { return c.k.id == id; });
    REQUIRE_MESSAGE(it != s.containers.end(), "no container " << id);
    s.containers.erase(it);
  }

  void check_ready(const sim_app& s, const target_app& a,
                   const target_service& sv, bool create_only) const {
    for (const auto& other : a.services)
      CHECK_MESSAGE(images.count(other.image) != 0,
                    sv.name << " started before every image was present");
    for (const auto& n : service_networks(sv)) {
      bool found = false;
      for (const auto& cn : s.networks)
        found = found || cn.from.name == n;
      CHECK_MESSAGE(found, sv.name << " started before network " << n);
    }
    for (const auto& v : service_volumes(sv))
      CHECK_MESSAGE(s.volumes.count(v) != 0,
                    sv.name << " started before volume " << v);
    if (create_only)
      return;
    for (const auto& d : service_dependencies(sv)) {
      bool ok = false;
      for (const auto& c : s.containers)
        if (c.k.service_name == d.service
            && c.k.status == container_status::running
            && (d.condition == dependency_condition::started
                || c.k.health == container_health::healthy))
          ok = true;
      CHECK_MESSAGE(ok,
                    sv.name << " started before its dependency " << d.service);
    }
  }

  void create(sim_app& s, const target_app& a, const target_service& sv,
              bool start) {
    sim_container c;
    c.from = sv;
    c.k.id = sv.name + "-" + next_id();
    c.k.name = sv.name + "_" + std::to_string(sv.image_id) + "_"
               + std::to_string(a.release_id) + "_" + a.commit;
    c.k.service_name = sv.name;
    c.k.service_id = sv.service_id;
    c.k.image_id = sv.image_id;
    c.k.release_id = a.release_id;
    c.k.commit = a.commit;
    c.k.status = start ? container_status::running : container_status::created;
    c.k.created = ids_;
    bool checks = sv.config.healthcheck && !sv.config.healthcheck->disable;
    c.k.health = !checks ? container_health::none
                 : start ? container_health::starting
                         : container_health::none;
    c.k.networks = service_networks(sv);
    c.k.volumes = service_volumes(sv);
    s.containers.push_back(c);
    if (start)
      ++starts;
  }
};

struct outcome {
  bool converged = false; // a plan came back empty
  int passes = 0;
  std::vector<step> last; // the last plan (empty when converged)
};

// plan → execute → plan … until a plan is empty. A plan of only noops is a
// wait: time moves on (tick) and the loop goes on. A failed step ends the
// pass (the rest of the batch is not run), like a failed apply.
inline outcome converge(world& w, const target_state& t,
                        const plan_options& opts = {}, int max_passes = 40) {
  outcome o;
  for (o.passes = 1; o.passes <= max_passes; ++o.passes) {
    o.last = plan(w.observe(t), t, opts);
    if (o.last.empty()) {
      o.converged = true;
      return o;
    }
    if (only_noops(o.last)) {
      w.tick();
      continue;
    }
    for (const auto& s : o.last)
      if (!w.apply(s))
        break;
  }
  return o;
}

// The device runs exactly `t`.
inline void check_at_target(const world& w, const target_state& t,
                            bool local_mode = false) {
  for (const auto& a : t.apps) {
    INFO("app " << a.uuid);
    REQUIRE(w.apps.count(a.uuid) == 1);
    const auto& s = w.apps.at(a.uuid);
    CHECK(s.commit == a.commit);
    CHECK_FALSE(s.lock_held);
    CHECK(s.containers.size() == a.services.size());
    for (const auto& sv : a.services) {
      INFO("service " << sv.name);
      int n = 0;
      for (const auto& c : s.containers)
        if (c.k.service_name == sv.name) {
          ++n;
          CHECK(c.from.config == sv.config);
          CHECK(c.from.image == sv.image);
          CHECK(c.k.commit == a.commit);
          bool should_run = sv.running && s.user_stopped.count(sv.name) == 0;
          CHECK((c.k.status == container_status::running) == should_run);
        }
      CHECK(n == 1);
    }
    auto nets = app_networks(a);
    CHECK(s.networks.size() == nets.size());
    for (const auto& n : nets) {
      int found = 0;
      for (const auto& cn : s.networks)
        if (cn.from == n)
          ++found;
      CHECK_MESSAGE(found == 1, "network " << n.name);
    }
    for (const auto& v : a.volumes)
      CHECK_MESSAGE(s.volumes.count(v.name) == 1, "volume " << v.name);
  }
  for (const auto& entry : w.apps) {
    const auto& uuid = entry.first;
    const auto& s = entry.second;
    if (find_app(t, uuid) != nullptr)
      continue;
    INFO("removed app " << uuid);
    CHECK(s.containers.empty());
    CHECK(s.networks.empty());
    if (!local_mode)
      CHECK(s.volumes.empty());
    CHECK_FALSE(s.lock_held);
  }
}

} // namespace bosun::test

namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& xs) {
    std::string out = "{";
    for (size_t i = 0; i < xs.size(); ++i)
      out += (i == 0 ? "\"" : ", \"") + xs[i] + "\"";
    return String((out + "}").c_str());
  }
};
} // namespace doctest
