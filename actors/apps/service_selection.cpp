#include "actors/apps/service_selection.hpp"

#include "actors/apps/container_spec.hpp"

#include <map>

namespace bosun::apps {

namespace {

// balena's wording (device-api/messages.ts).
const char* const app_not_found_message
  = "App not found: an app needs to be installed for this endpoint to "
    "work.\n\tIf you've recently moved this device from another app,\n\t"
    "please push an app and wait for it to be installed first.";
const char* const service_required_message
  = "serviceName or imageId parameters were not provided or the app is "
    "multi-container. Use the v2 service action endpoints.";
const char* const service_not_found_message
  = "Service not found, a container must exist for this endpoint to work";
const char* const target_service_not_found_message
  = "Service does not exist in target release";

} // namespace

std::vector<current_service>
current_services(const engine_snapshot& snap, const target_state* target,
                 const std::vector<service_status>& supervised,
                 int64_t app_id) {
  const target_app* tapp
    = target != nullptr ? find_app_by_id(*target, app_id) : nullptr;
  std::map<std::string, current_service> out;
  for (auto& c : snap.containers) {
    auto who = service_from_container(c);
    if (!who || who->app_id != app_id || who->old)
      continue;
    out[who->service_name] = {who->service_name, c.id, who->image_id};
  }
  for (auto& s : supervised) {
    bool same_app
      = s.app_id == app_id || (tapp != nullptr && s.app_uuid == tapp->uuid);
    if (!same_app || s.container_id.empty())
      continue;
    auto& cs = out[s.service_name];
    cs.name = s.service_name;
    cs.container_id = s.container_id;
  }
  std::vector<current_service> list;
  for (auto& [name, cs] : out) {
    if (cs.image_id == 0 && tapp != nullptr)
      if (auto* svc = find_service(*tapp, name))
        cs.image_id = svc->image_id;
    list.push_back(cs);
  }
  return list;
}

std::variant<service_choice, caf::error>
choose_service(const std::vector<current_service>& cur,
               const target_state* target, const service_action& a) {
  if (cur.empty())
    return caf::make_error(apps_errc::app_not_found, app_not_found_message);
  const current_service* pick = cur.size() == 1 ? &cur.front() : nullptr;
  if (pick == nullptr && a.service_name.empty() && !a.image_id)
    return caf::make_error(apps_errc::service_required,
                           service_required_message);
  for (auto& c : cur)
    if (pick == nullptr
        && ((a.image_id && c.image_id == *a.image_id)
            || (!a.service_name.empty() && c.name == a.service_name)))
      pick = &c;
  if (pick == nullptr)
    return caf::make_error(apps_errc::service_not_found,
                           service_not_found_message);
  service_choice out;
  out.service = *pick;
  out.app = target != nullptr ? find_app_by_id(*target, a.app_id) : nullptr;
  if (out.app != nullptr)
    for (auto& s : out.app->services)
      if (out.target == nullptr
          && (s.image_id == pick->image_id || s.name == pick->name))
        out.target = &s;
  if (out.target == nullptr)
    return caf::make_error(apps_errc::target_service_not_found,
                           target_service_not_found_message);
  return out;
}

} // namespace bosun::apps
