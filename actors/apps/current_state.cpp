#include "actors/apps/current_state.hpp"

#include "actors/apps/planner.hpp"
#include "actors/volumes/volume_logic.hpp"

namespace bosun {

namespace {

container_status status_of(const container_state& st) {
  const auto& s = st.status;
  if (s == "created")
    return container_status::created;
  if (s == "running")
    return container_status::running;
  if (s == "paused")
    return container_status::paused;
  if (s == "restarting")
    return container_status::restarting;
  if (s == "removing")
    return container_status::removing;
  if (s == "dead")
    return container_status::dead;
  return container_status::exited;
}

container_health health_of(const container_state& st) {
  if (!st.health)
    return container_health::none;
  const auto& h = st.health->status;
  if (h == "starting")
    return container_health::starting;
  if (h == "healthy")
    return container_health::healthy;
  if (h == "unhealthy")
    return container_health::unhealthy;
  return container_health::none;
}

// RFC 3339 timestamps of one engine sort as strings within one width; the
// planner only compares them, so a stable integer from the digits will do.
int64_t created_order(const std::string& created) {
  int64_t out = 0;
  int digits = 0;
  for (char c : created) {
    if (c >= '0' && c <= '9' && digits < 18) {
      out = out * 10 + (c - '0');
      ++digits;
    }
  }
  while (digits++ < 18)
    out *= 10;
  return out;
}

current_app& app_entry(current_state& cs, const std::string& uuid,
                       int64_t app_id) {
  for (auto& a : cs.apps)
    if (a.uuid == uuid) {
      if (a.app_id == 0)
        a.app_id = app_id;
      return a;
    }
  current_app a;
  a.uuid = uuid;
  a.app_id = app_id;
  cs.apps.push_back(std::move(a));
  return cs.apps.back();
}

std::string strip_slash(const std::string& name) {
  return !name.empty() && name[0] == '/' ? name.substr(1) : name;
}

} // namespace

apps::spec_context app_spec_context(const apps::spec_context& base,
                                    const engine_snapshot& snap,
                                    const std::string& app_uuid) {
  auto ctx = base;
  for (auto& c : snap.containers) {
    auto who = apps::service_from_container(c);
    if (who && who->app_uuid == app_uuid && !who->old)
      ctx.service_container_ids[who->service_name] = c.id;
  }
  return ctx;
}

target_ref find_target(const target_state& target,
                       const apps::service_identity& who) {
  target_ref out;
  for (auto& app : target.apps)
    if (app.uuid == who.app_uuid
        || (who.app_uuid.empty() && app.app_id == who.app_id)) {
      out.app = &app;
      for (auto& svc : app.services)
        if (svc.name == who.service_name)
          out.service = &svc;
    }
  return out;
}

apps::container_spec spec_for(const target_app& app, const target_service& svc,
                              const apps::spec_context& ctx,
                              const engine_snapshot& snap) {
  auto img = snap.images.find(svc.image);
  return apps::make_container_spec(
    app, svc, ctx, img == snap.images.end() ? nullptr : &img->second);
}

current_state build_current_state(const engine_snapshot& snap,
                                  const target_state& target,
                                  const apps_bookkeeping& books,
                                  const apps::spec_context& base) {
  current_state cs;
  std::map<int64_t, std::string> uuid_of_app_id;
  for (auto& app : target.apps)
    uuid_of_app_id[app.app_id] = app.uuid;

  for (auto& c : snap.containers) {
    auto who = apps::service_from_container(c);
    if (!who)
      continue;
    auto uuid = who->app_uuid;
    if (uuid.empty() && uuid_of_app_id.count(who->app_id) != 0)
      uuid = uuid_of_app_id[who->app_id];
    uuid_of_app_id.emplace(who->app_id, uuid);
    auto& app = app_entry(cs, uuid, who->app_id);
    current_container cc;
    cc.id = c.id;
    cc.name = strip_slash(c.name);
    cc.service_name = who->service_name;
    cc.service_id = who->service_id;
    cc.image_id = who->image_id;
    cc.release_id = who->release_id;
    cc.commit = who->commit;
    cc.status = status_of(c.state);
    cc.health = health_of(c.state);
    cc.created = created_order(c.created);
    for (auto& [net, _] : c.network.networks) {
      auto prefix = uuid + "_";
      if (net.rfind(prefix, 0) == 0)
        cc.networks.push_back(net.substr(prefix.size()));
    }
    for (auto& m : c.mounts)
      if (m.type == "volume") {
        auto prefix = std::to_string(who->app_id) + "_";
        if (m.name.rfind(prefix, 0) == 0)
          cc.volumes.push_back(m.name.substr(prefix.size()));
      }
    auto ref = find_target(target, *who);
    if (ref.service == nullptr || who->old) {
      cc.match = target_match::no_target;
    } else {
      auto ctx = app_spec_context(base, snap, uuid);
      auto cmp = apps::compare(c, spec_for(*ref.app, *ref.service, ctx, snap));
      switch (cmp.result) {
        case apps::spec_match::equal:
          cc.match = target_match::equal;
          break;
        case apps::spec_match::metadata_only:
          cc.match = target_match::metadata_only;
          break;
        case apps::spec_match::differs:
          cc.match = target_match::differs;
          break;
      }
    }
    auto stopped = books.user_stopped.find(uuid);
    cc.stopped_by_agent = stopped != books.user_stopped.end()
                          && stopped->second.count(cc.service_name) != 0;
    app.containers.push_back(std::move(cc));
  }

  for (auto& n : snap.networks) {
    auto sup = n.labels.find("io.balena.supervised");
    if (sup == n.labels.end())
      continue;
    auto cut = n.name.find('_');
    if (cut == std::string::npos)
      continue;
    auto uuid = n.name.substr(0, cut);
    int64_t app_id = 0;
    if (auto id = n.labels.find("io.balena.app-id"); id != n.labels.end())
      app_id = std::atoll(id->second.c_str());
    auto& app = app_entry(cs, uuid, app_id);
    current_network cn;
    cn.name = n.name.substr(cut + 1);
    cn.id = n.id;
    if (auto* t = find_app(target, uuid))
      for (auto& tn : app_networks(*t))
        if (tn.name == cn.name)
          cn.config_equal = volume_logic::network_matches(n, tn);
    app.networks.push_back(std::move(cn));
  }

  for (auto& v : snap.volumes) {
    auto app_id = volume_logic::app_of_volume(v.name);
    if (!app_id)
      continue;
    std::string uuid;
    if (auto it = uuid_of_app_id.find(*app_id); it != uuid_of_app_id.end())
      uuid = it->second;
    else if (auto l = v.labels.find("io.balena.app-uuid"); l != v.labels.end())
      uuid = l->second;
    else
      continue; // not ours to reason about: some other app id's volume
    auto& app = app_entry(cs, uuid, *app_id);
    current_volume cv;
    cv.name = v.name.substr(std::to_string(*app_id).size() + 1);
    if (auto* t = find_app(target, uuid))
      for (auto& tv : t->volumes)
        if (tv.name == cv.name)
          cv.config_equal = volume_logic::volume_matches(v, tv);
    app.volumes.push_back(std::move(cv));
  }

  for (auto& app : cs.apps) {
    if (auto it = books.commits.find(app.uuid); it != books.commits.end())
      app.commit = it->second;
    if (auto it = books.lock_held.find(app.uuid); it != books.lock_held.end())
      app.lock_held = it->second;
    if (auto it = books.user_locks.find(app.uuid); it != books.user_locks.end())
      app.user_locks = it->second;
    if (auto it = books.user_stopped.find(app.uuid);
        it != books.user_stopped.end())
      app.user_stopped = it->second;
  }
  // An app of the target with nothing on the engine (host networking, no
  // volumes, no container yet) still holds its lock once taken: without
  // this the planner would take it again forever.
  for (auto& t : target.apps) {
    if (find_app(cs, t.uuid) != nullptr)
      continue;
    auto held = books.lock_held.find(t.uuid);
    auto locks = books.user_locks.find(t.uuid);
    bool any_lock = held != books.lock_held.end() && held->second;
    bool any_user = locks != books.user_locks.end() && !locks->second.empty();
    if (!any_lock && !any_user)
      continue;
    auto& app = app_entry(cs, t.uuid, t.app_id);
    app.lock_held = any_lock;
    if (any_user)
      app.user_locks = locks->second;
  }
  // Apps of the target with nothing on the engine yet still carry their
  // bookkeeping (user stops survive a removed container).
  for (auto& [uuid, names] : books.user_stopped)
    if (find_app(cs, uuid) == nullptr && !names.empty())
      for (auto& t : target.apps)
        if (t.uuid == uuid)
          app_entry(cs, uuid, t.app_id).user_stopped = names;

  for (auto& [image, _] : snap.images)
    cs.images.insert(image);
  cs.downloading = books.downloading;
  return cs;
}

} // namespace bosun
