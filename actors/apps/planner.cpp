// Over 600 lines: the pure planner, balena's reconciliation rules
// (reference/behaviour.md) in one place: per-app steps, update strategies'
// ordering, dependencies, app removal and the helpers they share. Tests
// pin it (tests/unit/apps_planner); update_strategy.cpp holds the
// strategies' hand-off decisions.
#include "actors/apps/planner.hpp"

#include "actors/apps/update_strategy.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace bosun {

namespace {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

// Dead and removing containers are on their way out: they are never the
// container of a service, but they still block removing what they use.
bool is_live(const current_container& k) {
  return k.status != container_status::dead
         && k.status != container_status::removing;
}

// The container's process is up (for stop; a stop of a paused container
// unpauses it first, the engine does that).
bool is_up(const current_container& k) {
  return k.status == container_status::running
         || k.status == container_status::restarting
         || k.status == container_status::paused;
}

std::string short_id(const std::string& id) {
  return id.substr(0, 12);
}

// State shared by the apps of one pass: download slots and images already
// asked for.
struct pass_state {
  std::optional<int> fetch_slots; // nullopt = no limit
  std::set<std::string> fetching;
};

steps::take_lock make_lock_step(const std::string& uuid, int64_t app_id,
                                const std::set<std::string>& names,
                                const std::vector<std::string>& locks,
                                const plan_options& opts) {
  bool force = opts.force || opts.lock_override;
  std::string why = "take the update lock before changing services";
  if (!locks.empty() && !force) {
    why = "updates are locked by ";
    for (size_t i = 0; i < locks.size(); ++i)
      why += (i == 0 ? "" : ", ") + locks[i];
    why += ": taking the lock fails until they release it (or force)";
  }
  return steps::take_lock{uuid, app_id,
                          std::vector<std::string>(names.begin(), names.end()),
                          force, std::move(why)};
}

// Plans one app that is in the target (with or without containers yet).
class app_update {
public:
  app_update(const current_state& current, const plan_options& opts,
             pass_state& pass, const target_app& target, const current_app& app)
      : current_(current), opts_(opts), pass_(pass), t_(target), c_(app),
        nets_(app_networks(target)) {}

  std::vector<step> run() {
    pick_newest();
    find_changing_objects();
    doom_containers();
    all_images_ = all_images_present();
    fetch_blocker_ = find_fetch_blocker();

    for (const auto& k : c_.containers) {
      if (k.status == container_status::dead)
        removes_.emplace_back(steps::remove_service{
          t_.uuid, t_.app_id, k.service_name, k.id, "the container is dead"});
      else if (k.status == container_status::removing)
        removes_.emplace_back(steps::noop{
          t_.uuid, k.service_name,
          "waiting for container " + short_id(k.id) + " to be removed"});
    }
    for (const auto& [id, why] : doomed_)
      kill(*by_id(id), why);
    for (const auto& svc : t_.services)
      service_step(svc);
    volume_steps();
    network_steps();

    std::vector<step> out;
    for (auto* bucket : {&removes_, &kills_, &services_, &volumes_, &networks_})
      for (auto& s : *bucket)
        out.emplace_back(std::move(s));

    // Without the lock, the lock comes first: the executor runs the app's
    // other steps once it is taken, and none of them when it is not.
    if (std::any_of(out.begin(), out.end(), needs_lock) && !c_.lock_held) {
      out.insert(out.begin(), lock_step());
      return out;
    }
    if (out.empty()) {
      if (!t_.commit.empty() && t_.commit != c_.commit)
        out.emplace_back(steps::update_commit{
          t_.uuid, t_.app_id, t_.commit, "the app runs release " + t_.commit});
      if (c_.lock_held)
        out.emplace_back(steps::release_lock{t_.uuid, t_.app_id,
                                             "the app reached its target"});
    }
    return out;
  }

private:
  // ------------------------------------------------------------ analysis --

  // The newest live container of each service name.
  void pick_newest() {
    for (const auto& k : c_.containers) {
      if (!is_live(k))
        continue;
      auto& slot = newest_[k.service_name];
      if (slot == nullptr || k.created > slot->created)
        slot = &k;
    }
  }

  // Networks that go away or change config (their users are killed first),
  // and volumes whose config changes. Volumes the target dropped are kept.
  void find_changing_objects() {
    std::set<std::string> seen;
    for (const auto& n : c_.networks) {
      if (!seen.insert(n.name).second)
        continue; // a duplicate name: see network_steps()
      const auto* tn = find_target_network(n.name);
      if (tn == nullptr)
        changing_nets_[n.name] = "network " + n.name + " is not in the target";
      else if (!n.config_equal)
        changing_nets_[n.name] = "network " + n.name + " changes";
    }
    for (const auto& v : c_.volumes)
      if (!v.config_equal && find_volume(t_, v.name) != nullptr)
        changing_vols_[v.name] = "volume " + v.name + " changes";
  }

  void doom_containers() {
    for (const auto& k : c_.containers) {
      if (!is_live(k))
        continue;
      if (find_service(t_, k.service_name) == nullptr) {
        doomed_[k.id] = k.service_name + " is not in the target release";
        continue;
      }
      if (newest_[k.service_name] != &k) {
        doomed_[k.id] = "an older container of " + k.service_name;
        continue;
      }
      for (const auto& n : k.networks)
        if (auto i = changing_nets_.find(n); i != changing_nets_.end()) {
          doomed_[k.id] = i->second;
          break;
        }
      if (doomed_.count(k.id) != 0)
        continue;
      for (const auto& v : k.volumes)
        if (auto i = changing_vols_.find(v); i != changing_vols_.end()) {
          doomed_[k.id] = i->second;
          break;
        }
    }
  }

  bool image_present(const target_service& svc) const {
    return current_.images.count(svc.image) != 0;
  }

  // Every target image of the app is on the engine. A service whose
  // container already has the target config has its image, whatever name
  // the engine knows it by.
  bool all_images_present() const {
    for (const auto& svc : t_.services) {
      if (image_present(svc))
        continue;
      const auto* k = newest(svc.name);
      if (k != nullptr && doomed_.count(k->id) == 0
          && (k->match == target_match::equal
              || k->match == target_match::metadata_only))
        continue;
      return false;
    }
    return true;
  }

  // A kill-then-download (or delete-then-download) service whose old
  // container still runs: the app's downloads wait for it to go, so the
  // space it frees is there for them.
  std::string find_fetch_blocker() const {
    for (const auto& svc : t_.services) {
      auto s = strategy_of(svc);
      if (s != update_strategy::kill_then_download
          && s != update_strategy::delete_then_download)
        continue;
      const auto* k = newest(svc.name);
      if (k != nullptr
          && (k->match == target_match::differs || doomed_.count(k->id) != 0))
        return svc.name;
    }
    return {};
  }

  const current_container* newest(const std::string& service) const {
    auto i = newest_.find(service);
    return i == newest_.end() ? nullptr : i->second;
  }

  const current_container* by_id(const std::string& id) const {
    for (const auto& k : c_.containers)
      if (k.id == id)
        return &k;
    return nullptr;
  }

  const target_network* find_target_network(const std::string& name) const {
    for (const auto& n : nets_)
      if (n.name == name)
        return &n;
    return nullptr;
  }

  const current_network* find_current_network(const std::string& name) const {
    for (const auto& n : c_.networks)
      if (n.name == name)
        return &n;
    return nullptr;
  }

  const current_volume* find_current_volume(const std::string& name) const {
    for (const auto& v : c_.volumes)
      if (v.name == name)
        return &v;
    return nullptr;
  }

  bool network_used(const std::string& name) const {
    return std::any_of(
      c_.containers.begin(), c_.containers.end(),
      [&](const auto& k) { return contains(k.networks, name); });
  }

  bool volume_used(const std::string& name) const {
    return std::any_of(
      c_.containers.begin(), c_.containers.end(),
      [&](const auto& k) { return contains(k.volumes, name); });
  }

  bool user_stopped(const target_service& svc) const {
    return c_.user_stopped.count(svc.name) != 0;
  }

  // A new container needs every image of the app, and its networks and
  // volumes with the target config.
  std::optional<std::string>
  missing_prerequisite(const target_service& svc) const {
    if (!all_images_)
      return "waiting for every image of the app before starting " + svc.name;
    for (const auto& n : service_networks(svc)) {
      if (find_target_network(n) == nullptr)
        continue; // not an app network: nothing the planner can wait for
      const auto* cn = find_current_network(n);
      if (cn == nullptr)
        return "waiting for network " + n + " to be created";
      if (!cn->config_equal)
        return "waiting for network " + n + " to be recreated";
    }
    for (const auto& v : service_volumes(svc)) {
      if (find_volume(t_, v) == nullptr)
        continue;
      const auto* cv = find_current_volume(v);
      if (cv == nullptr)
        return "waiting for volume " + v + " to be created";
      if (!cv->config_equal)
        return "waiting for volume " + v + " to be recreated";
    }
    return std::nullopt;
  }

  // Why `svc` cannot get a container started (or, with create_only,
  // created) yet; nullopt when it can. Starting an `existing` container
  // needs only its dependencies: it has its image, networks and volumes.
  std::optional<std::string> start_blocker(const target_service& svc,
                                           bool create_only,
                                           bool existing = false) const {
    if (!existing) {
      if (auto why = missing_prerequisite(svc))
        return why;
    }
    for (const auto& dep : service_dependencies(svc)) {
      if (dep.service == svc.name || find_service(t_, dep.service) == nullptr)
        continue;
      const auto* d = newest(dep.service);
      bool settled = d != nullptr && doomed_.count(d->id) == 0
                     && d->match == target_match::equal;
      if (create_only) {
        // Creating needs only what the create body names: the container
        // whose network namespace it joins.
        if (svc.config.network_mode == "service:" + dep.service && !settled)
          return "waiting for " + dep.service + " to be created";
        continue;
      }
      if (!settled || d->status != container_status::running)
        return "waiting for dependency " + dep.service + " to be running";
      if (dep.condition == dependency_condition::healthy
          && d->health != container_health::healthy)
        return "waiting for dependency " + dep.service + " to be healthy"
               + (d->health == container_health::none
                    ? std::string{" (it has no healthcheck)"}
                    : std::string{});
    }
    return std::nullopt;
  }

  // --------------------------------------------------------------- steps --

  void noop(std::vector<step>& into, const std::string& service,
            std::string why) {
    into.emplace_back(steps::noop{t_.uuid, service, std::move(why)});
  }

  void kill(const current_container& k, const std::string& why) {
    if (!killed_.insert(k.id).second)
      return;
    if (k.status == container_status::stopping)
      return noop(kills_, k.service_name,
                  "waiting for " + k.service_name + " to stop");
    kills_.emplace_back(
      steps::kill_service{t_.uuid, t_.app_id, k.service_name, k.id, why});
  }

  // Fetch the service's image, unless it is under way, asked for already in
  // this pass, held back by a kill-then-download service, or out of slots.
  void fetch(const target_service& svc) {
    if (auto i = current_.downloading.find(svc.image);
        i != current_.downloading.end()) {
      auto progress = i->second >= 0 ? " (" + std::to_string(i->second) + "%)"
                                     : std::string{};
      return noop(services_, svc.name,
                  "downloading " + svc.image + " for " + svc.name + progress);
    }
    if (pass_.fetching.count(svc.image) != 0)
      return; // another service's fetch of the same image covers this one
    if (!fetch_blocker_.empty() && fetch_blocker_ != svc.name)
      return noop(services_, svc.name,
                  "waiting for " + fetch_blocker_
                    + " to be removed before downloading (its update "
                      "strategy kills first)");
    if (pass_.fetch_slots && *pass_.fetch_slots <= 0)
      return noop(services_, svc.name,
                  "waiting for a download slot for " + svc.image);
    if (pass_.fetch_slots)
      --*pass_.fetch_slots;
    pass_.fetching.insert(svc.image);
    services_.emplace_back(steps::fetch_image{
      t_.uuid, t_.app_id, svc.name, svc.image, svc.service_id, svc.image_id,
      "the image of " + svc.name + " is missing"});
  }

  void service_step(const target_service& svc) {
    // A dead or removing container may still hold the name the new one would
    // get: the service waits until it is gone (removed this pass).
    for (const auto& x : c_.containers)
      if (x.service_name == svc.name && !is_live(x))
        return;
    const auto* k = newest(svc.name);
    if (k != nullptr && doomed_.count(k->id) != 0)
      return; // killed this pass; installed as new afterwards
    if (k != nullptr && k->status == container_status::stopping)
      return noop(services_, svc.name, "waiting for " + svc.name + " to stop");
    if (k == nullptr)
      return new_service(svc);
    switch (k->match) {
      case target_match::equal:
        return container_step(*k, svc);
      case target_match::metadata_only:
        return metadata_step(*k, svc);
      case target_match::differs:
      case target_match::no_target:
        return strategy_step(*k, svc);
    }
  }

  void new_service(const target_service& svc) {
    if (!image_present(svc))
      return fetch(svc);
    bool create_only = !svc.running || user_stopped(svc);
    if (auto why = start_blocker(svc, create_only))
      return noop(services_, svc.name, std::move(*why));
    std::string why = create_only
                        ? (svc.running ? svc.name
                                           + " was stopped through the "
                                             "API: create it only"
                                       : "the target has " + svc.name
                                           + " stopped: create it only")
                        : "install " + svc.name;
    services_.emplace_back(
      steps::start_service{t_, svc, {}, create_only, std::move(why)});
  }

  // Same config, same release: only the run state may differ.
  void container_step(const current_container& k, const target_service& svc) {
    if (!svc.running) {
      if (is_up(k))
        services_.emplace_back(
          steps::stop_service{t_.uuid, t_.app_id, svc.name, k.id,
                              "the target has " + svc.name + " stopped"});
      return;
    }
    if (user_stopped(svc))
      return; // respected until a start through the API
    // An exited container whose process exited is the service supervisor's
    // (restart policy, backoff): a crash loop never blocks an apply.
    bool ours_to_start
      = k.status == container_status::created
        || (k.status == container_status::exited && k.stopped_by_agent);
    if (!ours_to_start)
      return;
    if (auto why = start_blocker(svc, false, true))
      return noop(services_, svc.name, std::move(*why));
    services_.emplace_back(steps::start_service{
      t_, svc, k.id, false, "the target has " + svc.name + " running"});
  }

  void metadata_step(const current_container& k, const target_service& svc) {
    if (strategy_of(svc) == update_strategy::download_then_kill && !all_images_)
      return noop(services_, svc.name,
                  "waiting for every image of the app before moving " + svc.name
                    + " to the new release");
    services_.emplace_back(steps::update_metadata{
      t_, svc, k.id, svc.name + " is unchanged in release " + t_.commit});
  }

  // The old container goes and the new one comes in one step when nothing
  // stands between them (its image, networks, volumes and dependencies are
  // ready); else the kill now, and the install in a later pass.
  void replace_or_kill(const current_container& k, const target_service& svc,
                       const std::string& why) {
    bool create_only = !svc.running || user_stopped(svc);
    if (k.status == container_status::stopping || !image_present(svc)
        || start_blocker(svc, create_only))
      return kill(k, why);
    if (!killed_.insert(k.id).second)
      return;
    services_.emplace_back(
      steps::replace_service{t_, svc, k.id, create_only, why});
  }

  void strategy_step(const current_container& k, const target_service& svc) {
    auto strategy = strategy_of(svc);
    std::string changed = svc.name + " changed (" + to_string(strategy) + ")";
    switch (strategy) {
      case update_strategy::kill_then_download:
        return replace_or_kill(k, svc, changed);
      case update_strategy::delete_then_download:
        return kill(k, changed);
      case update_strategy::download_then_kill:
        if (!image_present(svc))
          return fetch(svc);
        if (!all_images_)
          return noop(services_, svc.name,
                      "waiting for every image of the app before replacing "
                        + svc.name);
        return replace_or_kill(k, svc, changed);
      case update_strategy::hand_over: {
        if (!image_present(svc))
          return fetch(svc);
        // Nothing to hand over from a container that does not run, or to a
        // container that must not.
        if (!svc.running || user_stopped(svc)
            || k.status != container_status::running) {
          if (!all_images_)
            return noop(services_, svc.name,
                        "waiting for every image of the app before replacing "
                          + svc.name);
          return kill(k, changed);
        }
        if (auto why = start_blocker(svc, false))
          return noop(services_, svc.name, std::move(*why));
        services_.emplace_back(steps::handover{
          t_, svc, k.id, handover_timeout_ms(svc, opts_.handover_timeout_ms),
          changed});
        return;
      }
    }
  }

  void volume_steps() {
    for (const auto& tv : t_.volumes) {
      const auto* cv = find_current_volume(tv.name);
      if (cv == nullptr)
        volumes_.emplace_back(steps::create_volume{
          t_.uuid, t_.app_id, tv, "volume " + tv.name + " is missing"});
      else if (!cv->config_equal && !volume_used(tv.name))
        volumes_.emplace_back(steps::remove_volume{
          t_.uuid, t_.app_id, tv.name,
          "volume " + tv.name + " changed: recreate it (its data is lost)"});
    }
  }

  void network_steps() {
    std::set<std::string> seen;
    for (const auto& n : c_.networks) {
      bool duplicate = !seen.insert(n.name).second;
      auto changing = changing_nets_.find(n.name);
      if (!duplicate && changing == changing_nets_.end())
        continue; // kept
      // Removal waits until no container uses the name; its users were
      // killed above. A duplicate is told apart from the kept one by id only,
      // so it waits for the name to be unused as well.
      if (network_used(n.name))
        continue;
      std::string why = changing != changing_nets_.end()
                          ? changing->second
                          : "a duplicate of network " + n.name;
      networks_.emplace_back(
        steps::remove_network{t_.uuid, t_.app_id, n.name, n.id, why});
    }
    for (const auto& tn : nets_)
      if (find_current_network(tn.name) == nullptr)
        networks_.emplace_back(steps::create_network{
          t_.uuid, t_.app_id, tn, "network " + tn.name + " is missing"});
  }

  steps::take_lock lock_step() const {
    std::set<std::string> names;
    for (const auto& k : c_.containers)
      names.insert(k.service_name);
    for (const auto& svc : t_.services)
      names.insert(svc.name);
    return make_lock_step(t_.uuid, t_.app_id, names, c_.user_locks, opts_);
  }

private:
  const current_state& current_;
  const plan_options& opts_;
  pass_state& pass_;
  const target_app& t_;
  const current_app& c_;
  std::vector<target_network> nets_;

  std::map<std::string, const current_container*> newest_;
  std::map<std::string, std::string> changing_nets_; // name → why
  std::map<std::string, std::string> changing_vols_; // name → why
  std::map<std::string, std::string> doomed_;        // container id → why
  std::set<std::string> killed_;
  bool all_images_ = false;
  std::string fetch_blocker_;

  std::vector<step> removes_;
  std::vector<step> kills_;
  std::vector<step> services_;
  std::vector<step> volumes_;
  std::vector<step> networks_;
};

// An app that left the target: kill its containers, then remove its
// networks, then (not in local mode) its volumes, then release the lock.
std::vector<step> remove_app(const current_app& c, const plan_options& opts) {
  const std::string left = "app " + c.uuid + " is not in the target";
  std::vector<step> out;
  std::set<std::string> names;
  bool kills = false;
  for (const auto& k : c.containers) {
    names.insert(k.service_name);
    switch (k.status) {
      case container_status::dead:
        out.emplace_back(steps::remove_service{c.uuid, c.app_id, k.service_name,
                                               k.id, "the container is dead"});
        break;
      case container_status::removing:
      case container_status::stopping:
        out.emplace_back(steps::noop{
          c.uuid, k.service_name, "waiting for " + k.service_name + " to go"});
        break;
      default:
        out.emplace_back(
          steps::kill_service{c.uuid, c.app_id, k.service_name, k.id, left});
        kills = true;
    }
  }
  if (kills && !c.lock_held)
    out.insert(out.begin(),
               make_lock_step(c.uuid, c.app_id, names, c.user_locks, opts));
  if (!out.empty())
    return out;
  for (const auto& n : c.networks)
    out.emplace_back(
      steps::remove_network{c.uuid, c.app_id, n.name, n.id, left});
  if (!out.empty())
    return out;
  // A local-mode app keeps its data when it goes (balena does the same).
  if (!opts.local_mode)
    for (const auto& v : c.volumes)
      out.emplace_back(steps::remove_volume{c.uuid, c.app_id, v.name, left});
  if (!out.empty())
    return out;
  if (c.lock_held)
    out.emplace_back(steps::release_lock{c.uuid, c.app_id, left});
  return out;
}

// The current app a target app continues: same uuid, or (for objects the
// engine only knows by appId) no uuid and the same appId.
const current_app* match_current(const current_state& current,
                                 const target_app& t) {
  if (const auto* c = find_app(current, t.uuid))
    return c;
  for (const auto& c : current.apps)
    if (c.uuid.empty() && c.app_id == t.app_id)
      return &c;
  return nullptr;
}

bool in_target(const target_state& target, const current_app& c) {
  if (find_app(target, c.uuid) != nullptr)
    return true;
  return c.uuid.empty() && find_app_by_id(target, c.app_id) != nullptr;
}

} // namespace

std::vector<step> plan(const current_state& current, const target_state& target,
                       const plan_options& opts) {
  pass_state pass;
  if (opts.max_concurrent_fetches > 0)
    pass.fetch_slots = opts.max_concurrent_fetches
                       - static_cast<int>(current.downloading.size());
  std::vector<step> out;
  for (const auto& t : target.apps) {
    current_app none;
    none.uuid = t.uuid;
    none.app_id = t.app_id;
    const auto* c = match_current(current, t);
    auto app_steps = app_update{current, opts, pass, t, c ? *c : none}.run();
    for (auto& s : app_steps)
      out.emplace_back(std::move(s));
  }
  for (const auto& c : current.apps)
    if (!in_target(target, c))
      for (auto& s : remove_app(c, opts))
        out.emplace_back(std::move(s));
  // Downloads nobody waits for any more still keep the loop alive, so their
  // images are recorded before the apply is reported done.
  if (out.empty() && !current.downloading.empty())
    out.emplace_back(
      steps::noop{{}, {}, "waiting for downloads under way to finish"});
  return out;
}

// ---------------------------------------------------------------- helpers --

namespace {

bool special_network_mode(const std::string& mode) {
  return mode == "host" || mode == "bridge" || mode == "none"
         || mode.rfind("service:", 0) == 0 || mode.rfind("container:", 0) == 0;
}

} // namespace

std::vector<target_network> app_networks(const target_app& app) {
  auto nets = app.networks;
  if (find_network(app, "default") == nullptr) {
    target_network def;
    def.name = "default";
    def.config_only = !app.services.empty()
                      && std::all_of(app.services.begin(), app.services.end(),
                                     [](const auto& s) {
                                       return s.config.network_mode == "host";
                                     });
    auto at = std::lower_bound(
      nets.begin(), nets.end(), def.name,
      [](const auto& n, const std::string& name) { return n.name < name; });
    nets.insert(at, std::move(def));
  }
  return nets;
}

std::vector<std::string> service_networks(const target_service& svc) {
  const auto& mode = svc.config.network_mode;
  std::vector<std::string> out;
  if (special_network_mode(mode))
    return out;
  if (!mode.empty())
    out.push_back(mode);
  for (const auto& [name, settings] : svc.config.networks)
    if (!contains(out, name))
      out.push_back(name);
  if (out.empty())
    out.emplace_back("default");
  return out;
}

std::vector<std::string> service_volumes(const target_service& svc) {
  std::vector<std::string> out;
  for (const auto& v : svc.config.volumes)
    if (v.kind == mount_kind::volume && !v.source.empty()
        && !contains(out, v.source))
      out.push_back(v.source);
  return out;
}

std::vector<service_dependency>
service_dependencies(const target_service& svc) {
  std::vector<service_dependency> out;
  auto add = [&](const service_dependency& d) {
    for (auto& x : out)
      if (x.service == d.service) {
        if (d.condition == dependency_condition::healthy)
          x.condition = d.condition;
        return;
      }
    out.push_back(d);
  };
  for (const auto& d : svc.config.depends_on)
    add(d);
  const auto& mode = svc.config.network_mode;
  if (mode.rfind("service:", 0) == 0 && mode.size() > 8)
    add(service_dependency{mode.substr(8), dependency_condition::started});
  return out;
}

bool needs_lock(const step& s) {
  return std::visit(
    overloaded{
      [](const steps::kill_service&) { return true; },
      [](const steps::replace_service&) { return true; },
      [](const steps::stop_service&) { return true; },
      [](const steps::update_metadata&) { return true; },
      [](const steps::handover&) { return true; },
      [](const steps::start_service& x) { return x.container_id.empty(); },
      [](const auto&) { return false; },
    },
    s);
}

bool is_noop(const step& s) {
  return std::holds_alternative<steps::noop>(s);
}

bool only_noops(const std::vector<step>& steps) {
  return std::all_of(steps.begin(), steps.end(), is_noop);
}

std::string describe(const step& s) {
  auto app = [](const std::string& uuid) {
    return uuid.empty() ? std::string{} : " of app " + uuid;
  };
  auto ctr = [](const std::string& id) { return " (" + short_id(id) + ")"; };
  return std::visit(
    overloaded{
      [&](const steps::fetch_image& x) {
        return "fetch " + x.image + " for " + x.service + app(x.app_uuid) + ": "
               + x.reason;
      },
      [&](const steps::create_network& x) {
        return "create network " + x.network.name + app(x.app_uuid) + ": "
               + x.reason;
      },
      [&](const steps::remove_network& x) {
        return "remove network " + x.name + ctr(x.id) + app(x.app_uuid) + ": "
               + x.reason;
      },
      [&](const steps::create_volume& x) {
        return "create volume " + x.volume.name + app(x.app_uuid) + ": "
               + x.reason;
      },
      [&](const steps::remove_volume& x) {
        return "remove volume " + x.name + app(x.app_uuid) + ": " + x.reason;
      },
      [&](const steps::stop_service& x) {
        return "stop " + x.service + ctr(x.container_id) + app(x.app_uuid)
               + ": " + x.reason;
      },
      [&](const steps::kill_service& x) {
        return "kill " + x.service + ctr(x.container_id) + app(x.app_uuid)
               + ": " + x.reason;
      },
      [&](const steps::remove_service& x) {
        return "remove " + x.service + ctr(x.container_id) + app(x.app_uuid)
               + ": " + x.reason;
      },
      [&](const steps::start_service& x) {
        std::string verb = x.container_id.empty()
                             ? (x.create_only ? "create " : "create and start ")
                             : "start ";
        return verb + x.service.name
               + (x.container_id.empty() ? std::string{} : ctr(x.container_id))
               + app(x.app.uuid) + ": " + x.reason;
      },
      [&](const steps::replace_service& x) {
        return std::string{"replace "} + x.service.name
               + ctr(x.old_container_id)
               + (x.create_only ? " (create only)" : "") + app(x.app.uuid)
               + ": " + x.reason;
      },
      [&](const steps::update_metadata& x) {
        return "rename " + x.service.name + ctr(x.container_id)
               + app(x.app.uuid) + ": " + x.reason;
      },
      [&](const steps::handover& x) {
        return "hand over " + x.service.name + ctr(x.old_container_id)
               + app(x.app.uuid) + ": " + x.reason;
      },
      [&](const steps::take_lock& x) {
        return std::string{"take lock"} + (x.force ? " (force)" : "")
               + app(x.app_uuid) + ": " + x.reason;
      },
      [&](const steps::release_lock& x) {
        return "release lock" + app(x.app_uuid) + ": " + x.reason;
      },
      [&](const steps::noop& x) {
        return "wait" + (x.service.empty() ? std::string{} : " " + x.service)
               + app(x.app_uuid) + ": " + x.reason;
      },
      [&](const steps::update_commit& x) {
        return "commit " + x.commit + app(x.app_uuid) + ": " + x.reason;
      },
    },
    s);
}

} // namespace bosun
