#include "actors/cloud/report_build.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace bosun::cloud_report {

namespace {

constexpr std::array<std::string_view, 5> supervisor_apps{
  "52e35121417640b1b28a680504e4039b", "900de4f3cbac4b9bbd232885a35e407b",
  "2e66a95795c149959c69472a8c2f92b8", "531b357e155c480cbec0fdd33041a1f5",
  "6822565f766e413e96d9bebe2227cdcc"};

bool is_supervisor_service(const std::string& app_uuid,
                           const std::string& name) {
  bool app = std::find(supervisor_apps.begin(), supervisor_apps.end(), app_uuid)
             != supervisor_apps.end();
  return app
         && (name == "main" || name == "balena-supervisor" || name == "core");
}

const app_view* view_of(const apps_view& view, const target_app& app) {
  for (const auto& av : view.apps)
    if (av.uuid == app.uuid || (av.uuid.empty() && av.app_id == app.app_id))
      return &av;
  return nullptr;
}

std::string image_of(const known_images& images, const std::string& commit,
                     const std::string& service, const std::string& fallback) {
  auto r = images.find(commit);
  if (r == images.end())
    return fallback;
  auto s = r->second.find(service);
  return s == r->second.end() ? fallback : s->second;
}

void put(report_app& app, const std::string& commit, const std::string& name,
         report_service svc) {
  if (commit.empty())
    return;
  // A target service's entry wins over a leftover container of that name.
  app.releases[commit].services.emplace(name, std::move(svc));
}

} // namespace

std::map<std::string, report_value> device_fields(const device_identity& id,
                                                  const host_facts& host,
                                                  bool local_mode,
                                                  bool hardware_metrics) {
  std::map<std::string, report_value> f;
  f["api_port"] = id.api_port;
  f["api_secret"] = id.api_secret;
  f["os_version"] = id.os_version;
  f["os_variant"] = id.os_variant;
  f["supervisor_version"] = std::string(supervisor_version);
  f["provisioning_progress"] = std::monostate{};
  f["provisioning_state"] = std::string();
  f["status"] = std::string("Idle");
  if (!local_mode)
    f["logs_channel"] = std::monostate{};
  f["ip_address"] = host.ip_address;
  f["mac_address"] = host.mac_address;
  f["is_undervolted"] = false;
  auto metric
    = [&f, hardware_metrics](const char* k, const std::optional<int64_t>& v) {
        if (!hardware_metrics)
          f[k] = std::monostate{};
        else if (v)
          f[k] = *v;
      };
  metric("cpu_usage", host.cpu_usage);
  metric("memory_usage", host.memory_usage);
  metric("memory_total", host.memory_total);
  metric("storage_usage", host.storage_usage);
  metric("storage_total", host.storage_total);
  metric("cpu_temp", host.cpu_temp);
  return f;
}

std::string release_status(const report_release& r) {
  auto any = [&r](auto pred) {
    return std::any_of(r.services.begin(), r.services.end(),
                       [&](const auto& kv) { return pred(kv.second); });
  };
  if (any([](const report_service& s) {
        return s.download_progress && *s.download_progress != 100;
      }))
    return "downloading";
  if (any([](const report_service& s) { return s.status == "Downloaded"; }))
    return "downloaded";
  if (any([](const report_service& s) {
        return s.status == "Installing" || s.status == "Installed"
               || s.status == "Awaiting handover";
      }))
    return "applying changes";
  return "done";
}

report_apps build_apps(const apps_view& view, const target_state& target,
                       const known_images& images) {
  report_apps out;
  for (const auto& ta : target.apps) {
    report_app app;
    const auto* av = view_of(view, ta);
    if (av != nullptr && !av->current_commit.empty())
      app.release_uuid = av->current_commit;
    // The release an older container belongs to.
    auto old_commit = [&](int64_t release_id) -> std::string {
      if (release_id == ta.release_id)
        return ta.commit;
      if (app.release_uuid && *app.release_uuid != ta.commit)
        return *app.release_uuid;
      return {};
    };
    if (av != nullptr) {
      // Target services first, so their entries win.
      for (const auto& v : av->services) {
        if (!v.in_target)
          continue;
        std::string commit;
        if (!v.container_id.empty())
          commit = v.release_id == ta.release_id ? ta.commit
                                                 : old_commit(v.release_id);
        if (!v.container_id.empty() && !commit.empty() && commit != ta.commit) {
          // The old release's container still runs; the target image is on
          // its way.
          put(app, commit, v.service_name,
              {image_of(images, commit, v.service_name, v.docker_image_id),
               v.status, std::nullopt});
          report_service next{v.image, v.image_status, std::nullopt};
          if (v.image_status == "Downloading")
            next.download_progress = v.download_progress.value_or(0);
          put(app, ta.commit, v.service_name, std::move(next));
          continue;
        }
        report_service s{v.image, v.status, std::nullopt};
        if (v.container_id.empty() && v.status == "Downloading")
          s.download_progress = v.download_progress.value_or(0);
        put(app, ta.commit, v.service_name, std::move(s));
      }
      for (const auto& v : av->services) {
        if (v.in_target)
          continue;
        auto commit = old_commit(v.release_id);
        put(app, commit, v.service_name,
            {image_of(images, commit, v.service_name, v.image), v.status,
             std::nullopt});
      }
    } else {
      for (const auto& svc : ta.services)
        put(app, ta.commit, svc.name, {svc.image, "Downloading", 0});
    }
    for (const auto& svc : ta.services)
      if (is_supervisor_service(ta.uuid, svc.name)) {
        // Never installed by bosun, always reported running.
        for (auto& [_, rel] : app.releases)
          rel.services.erase(svc.name);
        app.releases[ta.commit].services[svc.name]
          = {svc.image, "Running", std::nullopt};
        app.release_uuid = ta.commit;
      }
    for (auto it = app.releases.begin(); it != app.releases.end();) {
      if (it->second.services.empty())
        it = app.releases.erase(it);
      else
        ++it;
    }
    for (auto& [commit, rel] : app.releases) {
      rel.update_status = release_status(rel);
      if (commit == ta.commit && av != nullptr
          && av->update_status == "aborted")
        rel.update_status = "aborted";
    }
    out.emplace(ta.uuid, std::move(app));
  }
  return out;
}

bool is_metric_key(const std::string& key) {
  static constexpr std::array<std::string_view, 8> keys{
    "cpu_usage",     "memory_usage",         "memory_total", "storage_usage",
    "storage_total", "storage_block_device", "cpu_temp",     "cpu_id"};
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

device_report diff(const device_report& current, const device_report* last) {
  device_report patch;
  for (const auto& [k, v] : current.device) {
    if (last != nullptr) {
      auto it = last->device.find(k);
      if (it != last->device.end() && it->second == v)
        continue;
    }
    patch.device.emplace(k, v);
  }
  if (current.apps && !current.apps->empty()
      && (last == nullptr || !last->apps || *last->apps != *current.apps))
    patch.apps = current.apps;
  return patch;
}

bool empty(const device_report& patch) {
  return patch.device.empty() && !patch.apps;
}

bool metrics_only(const device_report& patch) {
  if (patch.apps || patch.device.empty())
    return false;
  return std::all_of(patch.device.begin(), patch.device.end(),
                     [](const auto& kv) { return is_metric_key(kv.first); });
}

void merge(device_report& accepted, const device_report& patch) {
  for (const auto& [k, v] : patch.device)
    accepted.device[k] = v;
  if (patch.apps)
    accepted.apps = patch.apps;
}

} // namespace bosun::cloud_report
