#include "api/server/local_target.hpp"

#include "api/cloud/target_codec.hpp"

#include <algorithm>

namespace bosun::api {

std::map<std::string, std::string>
current_config(const std::vector<device_config_var>& known,
               const std::map<std::string, std::string>& target_config) {
  std::map<std::string, std::string> out = target_config;
  if (auto legacy = target_config.find("OVERRIDE_LOCK");
      legacy != target_config.end()
      && !target_config.count("SUPERVISOR_OVERRIDE_LOCK"))
    out["SUPERVISOR_OVERRIDE_LOCK"] = legacy->second;
  for (const auto& v : known)
    if (!v.set_by_target || !out.count(v.name))
      out[v.name] = v.value;
  return out;
}

std::string encode_local_target_state(
  const std::optional<target_state>& target, const std::string& device_name,
  const std::vector<device_config_var>& known, const auth::scope& scope) {
  target_state t;
  if (target)
    t = *target;
  else
    t.source = target_source::local;
  t.device_name = device_name;
  t.config = current_config(known, t.config);
  t.apps.erase(std::remove_if(t.apps.begin(), t.apps.end(),
                              [&scope](const target_app& a) {
                                return !scope.allows(a.app_id);
                              }),
               t.apps.end());
  return cloud::encode_local_target(t);
}

} // namespace bosun::api
