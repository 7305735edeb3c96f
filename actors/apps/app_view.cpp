#include "actors/apps/app_view.hpp"

#include <algorithm>

namespace bosun {

std::string engine_status_name(const std::string& s) {
  if (s == "created")
    return "Installed";
  if (s == "running")
    return "Running";
  if (s == "dead")
    return "Dead";
  if (s == "paused" || s == "restarting" || s == "removing" || s == "exited")
    return s;
  return "exited";
}

std::string status_name(service_phase phase, const std::string& engine_status,
                        bool has_container) {
  switch (phase) {
    case service_phase::idle:
    case service_phase::installing:
      return "Installing";
    case service_phase::starting:
      return "Starting";
    case service_phase::running:
      return "Running";
    case service_phase::stopping:
      return "Stopping";
    case service_phase::stopped:
      // Created but never started (the target says not running): balena
      // calls that Installed.
      return engine_status == "created" ? "Installed" : "exited";
    case service_phase::exited:
      return "exited";
    case service_phase::backing_off:
    case service_phase::restarting:
      // What the engine shows while its own restart policy waits.
      return "restarting";
    case service_phase::removing:
    case service_phase::removed:
      return "removing";
    case service_phase::failed:
      if (!has_container)
        return "Installing";
      return engine_status.empty() ? "exited"
                                   : engine_status_name(engine_status);
  }
  return "exited";
}

std::string update_status(const std::vector<service_view>& services,
                          bool aborted) {
  if (aborted)
    return "aborted";
  auto any = [&](auto pred) {
    return std::any_of(services.begin(), services.end(), pred);
  };
  if (any([](const service_view& s) {
        return s.in_target && s.download_progress
               && *s.download_progress != 100;
      }))
    return "downloading";
  if (any([](const service_view& s) {
        return s.in_target && s.status == "Downloaded";
      }))
    return "downloaded";
  if (any([](const service_view& s) {
        return s.status == "Installing" || s.status == "Installed"
               || s.status == "Awaiting handover";
      }))
    return "applying changes";
  return "done";
}

namespace {

struct seen_container {
  const container_inspect* c = nullptr;
  apps::service_identity who;
  bool used = false;
};

const supervised_service* supervisor_of(const view_inputs& in,
                                        const std::string& uuid,
                                        const std::string& service) {
  for (auto& s : in.supervisors)
    if (s.status.app_uuid == uuid && s.status.service_name == service)
      return &s;
  return nullptr;
}

const supervised_service* supervisor_by_container(const view_inputs& in,
                                                  const std::string& id) {
  for (auto& s : in.supervisors)
    if (!id.empty() && s.status.container_id == id)
      return &s;
  return nullptr;
}

void fill_from_container(service_view& v, const seen_container& s, bool env) {
  v.container_id = s.c->id;
  v.created_at = s.c->created;
  if (s.who.release_id != 0)
    v.release_id = s.who.release_id;
  if (!s.c->image.empty())
    v.docker_image_id = s.c->image;
  if (env)
    v.env = s.c->config.env;
}

} // namespace

apps_view build_apps_view(const view_inputs& in) {
  apps_view out;
  out.applying = in.applying;
  out.update_failed = in.failed;
  const auto& target = *in.target;
  const auto& snap = *in.snap;
  const auto& books = *in.books;
  if (target)
    out.device_name = target->device_name;

  std::vector<seen_container> containers;
  for (auto& c : snap.containers)
    if (auto who = apps::service_from_container(c))
      containers.push_back({&c, *who, false});
  auto by_id = [&](const std::string& id) -> seen_container* {
    for (auto& s : containers)
      if (!id.empty() && s.c->id == id)
        return &s;
    return nullptr;
  };
  // The newest container of a service that no supervisor claims.
  auto unclaimed = [&](const target_app& app,
                       const std::string& service) -> seen_container* {
    seen_container* best = nullptr;
    for (auto& s : containers) {
      bool same_app = s.who.app_uuid == app.uuid
                      || (s.who.app_uuid.empty() && s.who.app_id == app.app_id);
      if (s.used || s.who.old || !same_app || s.who.service_name != service)
        continue;
      if (supervisor_by_container(in, s.c->id) != nullptr)
        continue;
      if (best == nullptr || best->c->created < s.c->created)
        best = &s;
    }
    return best;
  };

  std::map<int64_t, app_view> apps;
  if (target) {
    for (auto& app : target->apps) {
      app_view av;
      av.app_id = app.app_id;
      av.uuid = app.uuid;
      av.name = app.name;
      av.commit = app.commit;
      av.release_id = app.release_id;
      if (auto it = books.commits.find(app.uuid); it != books.commits.end())
        av.current_commit = it->second;
      for (auto& svc : app.services) {
        service_view v;
        v.app_id = app.app_id;
        v.app_uuid = app.uuid;
        v.service_name = svc.name;
        v.service_id = svc.service_id;
        v.image_id = svc.image_id;
        v.release_id = app.release_id;
        v.image = svc.image;
        auto dl = books.downloading.find(svc.image);
        auto img = snap.images.find(svc.image);
        if (in.fetch_errors != nullptr && in.fetch_errors->count(svc.image)) {
          // Shown from the first failed attempt on, while retries go on.
          v.image_status = "Download failed";
        } else if (dl != books.downloading.end()) {
          v.image_status = "Downloading";
          v.download_progress = std::max(0, dl->second);
        } else if (img != snap.images.end()) {
          v.image_status = "Downloaded";
          v.docker_image_id = img->second.id;
        } else {
          v.image_status = "Downloading";
          v.download_progress = 0;
        }
        const auto* sup = supervisor_of(in, app.uuid, svc.name);
        if (sup != nullptr && !sup->status.container_id.empty()) {
          auto* s = by_id(sup->status.container_id);
          v.container_id = sup->status.container_id;
          if (s != nullptr) {
            s->used = true;
            fill_from_container(v, *s, in.env);
          } else if (in.env) {
            v.env = sup->spec_env;
          }
          v.status = status_name(sup->status.phase,
                                 s != nullptr ? s->c->state.status : "", true);
        } else if (auto* s = unclaimed(app, svc.name)) {
          s->used = true;
          fill_from_container(v, *s, in.env);
          v.status = engine_status_name(s->c->state.status);
        } else if (sup != nullptr
                   && sup->status.phase == service_phase::installing) {
          v.status = "Installing";
        } else {
          v.status = v.image_status;
        }
        av.services.push_back(std::move(v));
      }
      apps.emplace(app.app_id, std::move(av));
    }
  }

  // Containers no target service claims: old ones of a hand-over, services
  // or apps that left the target.
  for (auto& s : containers) {
    if (s.used)
      continue;
    auto& av = apps[s.who.app_id];
    if (av.app_id == 0) {
      av.app_id = s.who.app_id;
      av.uuid = s.who.app_uuid;
      if (auto it = books.commits.find(av.uuid); it != books.commits.end())
        av.current_commit = it->second;
    }
    service_view v;
    v.app_id = s.who.app_id;
    v.app_uuid = s.who.app_uuid;
    v.service_name = s.who.service_name;
    v.service_id = s.who.service_id;
    v.image_id = s.who.image_id;
    v.image = s.c->config.image;
    v.in_target = false;
    fill_from_container(v, s, in.env);
    const auto* sup = supervisor_by_container(in, s.c->id);
    v.status = sup != nullptr
                 ? status_name(sup->status.phase, s.c->state.status, true)
                 : engine_status_name(s.c->state.status);
    if (s.who.old && s.c->state.running) {
      for (auto& other : av.services)
        if (other.in_target && other.service_name == v.service_name
            && other.status == "Running") {
          v.status = "Handing over";
          other.status = "Awaiting handover";
        }
    }
    av.services.push_back(std::move(v));
  }

  for (auto& [id, av] : apps) {
    bool aborted = false;
    if (in.fetch_errors != nullptr)
      for (auto& v : av.services)
        aborted = aborted || (v.in_target && in.fetch_errors->count(v.image));
    av.update_status = update_status(av.services, aborted);
    out.apps.push_back(std::move(av));
  }
  return out;
}

} // namespace bosun
