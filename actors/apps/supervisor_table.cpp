// The table of service supervisors: one per target service, spawned on
// first use, adopting a container that already matches, forgotten when its
// container goes, respawned when it fails.
#include "actors/apps/app_state.hpp"
#include "actors/apps/service_supervisor.hpp"

namespace bosun::appmgr {

service_apply make_apply(const target_app& app, const target_service& svc,
                         const apps::container_spec& spec, bool running,
                         const std::string& container_id) {
  service_apply a;
  a.app_uuid = app.uuid;
  a.app_id = app.app_id;
  a.service_name = svc.name;
  a.container = spec.create;
  a.restart = spec.restart;
  a.running = running;
  a.extra_networks = spec.extra_networks;
  if (!container_id.empty())
    a.container_id = container_id;
  return a;
}

supervised& supervisor_for(self_ptr self, const std::string& uuid,
                           const std::string& service) {
  auto& st = self->state;
  auto key = key_of(uuid, service);
  auto it = st.supervisors.find(key);
  if (it != st.supervisors.end())
    return it->second;
  supervised s;
  auto listener = caf::actor_cast<service_status_listener>(self);
  supervisor_options so;
  so.logs = st.deps.logs;
  // Linked: they go down with the app_manager (whose successor adopts
  // their containers); their failures come back as exit messages.
  s.handle = self->spawn<caf::linked>(service_supervisor, st.deps.engine,
                                      listener, so);
  s.last.app_uuid = uuid;
  s.last.service_name = service;
  view_changed(self);
  return st.supervisors.emplace(key, std::move(s)).first->second;
}

// The supervisor that manages container `id`, if any.
supervised* managing(self_ptr self, const std::string& id) {
  for (auto& [_, s] : self->state.supervisors)
    if (!id.empty() && s.last.container_id == id)
      return &s;
  return nullptr;
}

void forget_supervisor(self_ptr self, supervised* s) {
  auto& st = self->state;
  for (auto it = st.supervisors.begin(); it != st.supervisors.end(); ++it)
    if (&it->second == s) {
      self->unlink_from(it->second.handle);
      st.supervisors.erase(it);
      view_changed(self);
      return;
    }
}

// Supervisors for containers that already match their target service, e.g.
// after bosun restarted: adopt the container instead of recreating it.
void adopt(self_ptr self, const current_state& cs) {
  auto& st = self->state;
  for (auto& app : cs.apps) {
    auto* tapp = find_app(*st.target, app.uuid);
    if (tapp == nullptr)
      continue;
    for (auto& c : app.containers) {
      if (c.match != target_match::equal)
        continue;
      if (st.supervisors.count(key_of(app.uuid, c.service_name)) != 0)
        continue;
      const target_service* svc = nullptr;
      for (auto& s : tapp->services)
        if (s.name == c.service_name)
          svc = &s;
      if (svc == nullptr)
        continue;
      auto ctx = app_spec_context(spec_base(self), st.snap(), app.uuid);
      auto spec = spec_for(*tapp, *svc, ctx, st.snap());
      bool running = svc->running && app.user_stopped.count(svc->name) == 0;
      auto& sup = supervisor_for(self, app.uuid, svc->name);
      sup.spec = make_apply(*tapp, *svc, spec, running, c.id);
      log_of(self).info("apps", "adopting container {} of service {}", c.name,
                        svc->name);
      self->request(sup.handle, apply_timeout, *sup.spec)
        .then([](const std::string&) {},
              [self, name = svc->name](const caf::error& e) {
                log_of(self).warn("apps", "adopting {} failed: {}", name,
                                  render(self, e));
              });
    }
  }
}

// A linked actor went down. A supervisor that failed is respawned with its
// last spec (at most 5 times in 60 s, then the failure escalates); one that
// ended normally is forgotten. Anything else linked stops this actor.
void on_exit(self_ptr self, caf::exit_msg& dm) {
  auto& st = self->state;
  for (auto it = st.supervisors.begin(); it != st.supervisors.end(); ++it) {
    if (it->second.handle.address() != dm.source)
      continue;
    auto entry = std::move(it->second);
    st.supervisors.erase(it);
    view_changed(self);
    if (!dm.reason || dm.reason == caf::exit_reason::normal)
      return;
    auto why = render(self, dm.reason);
    if (!st.respawns.allow(self->clock().now())) {
      log_of(self).error("apps",
                         "service supervisor of {} failed too often ({}); "
                         "giving up",
                         entry.last.service_name, why);
      return self->quit(dm.reason);
    }
    log_of(self).warn("apps",
                      "service supervisor of {} failed ({}); "
                      "respawning it",
                      entry.last.service_name, why);
    auto& fresh
      = supervisor_for(self, entry.last.app_uuid, entry.last.service_name);
    fresh.last = entry.last;
    if (entry.spec) {
      fresh.spec = entry.spec;
      fresh.spec->container_id
        = entry.last.container_id.empty()
            ? std::nullopt
            : std::optional<std::string>{entry.last.container_id};
      self->request(fresh.handle, apply_timeout, *fresh.spec)
        .then([](const std::string&) {}, [](const caf::error&) {});
    }
    return;
  }
  // Not one of ours: root (or a peer we are linked to) stops us.
  if (dm.reason && dm.reason != caf::exit_reason::normal)
    self->quit(dm.reason);
}

} // namespace bosun::appmgr
