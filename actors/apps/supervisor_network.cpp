// supervisor0: the bridge on which containers with the supervisor-api
// feature reach the device API (balena's 10.114.104.1), made before a pass
// plans when a target service needs it and it is missing.
#include "actors/apps/app_state.hpp"

namespace bosun::appmgr {

// Whether a target service joins supervisor0 (the supervisor-api feature
// outside host, none and shared network modes).
namespace {

bool needs_supervisor_network(const target_state& t) {
  for (auto& app : t.apps)
    for (auto& svc : app.services) {
      auto labels = apps::normalize_labels(svc.config.labels);
      auto f = labels.find("io.balena.features.supervisor-api");
      const auto& mode = svc.config.network_mode;
      if (f != labels.end() && apps::is_truthy(f->second) && mode != "host"
          && mode != "none" && mode.rfind("service:", 0) != 0
          && mode.rfind("container:", 0) != 0)
        return true;
    }
  return false;
}

} // namespace

// balena's supervisor0: the bridge on which containers reach the device API
// at 10.114.104.1. Made (once) when a service needs it and it is missing.
void ensure_supervisor_network(
  self_ptr self, const std::function<void(std::vector<std::string>)>& k) {
  auto& st = self->state;
  std::string name(apps::supervisor_network);
  bool present
    = std::any_of(st.snap().networks.begin(), st.snap().networks.end(),
                  [&](const network_info& n) { return n.name == name; });
  if (present || !st.target || !needs_supervisor_network(*st.target))
    return k({});
  network_create spec;
  spec.name = name;
  spec.driver = "bridge";
  network_ipam ipam;
  ipam.config.push_back({"10.114.104.0/25", "10.114.104.1", "", {}});
  spec.ipam = ipam;
  spec.options["com.docker.network.bridge.name"] = name;
  log_of(self).info("apps", "creating network {}", name);
  self->request(st.deps.engine, engine_timeout, network_create_req{spec})
    .then(
      [self, k](const std::string&) {
        self->state.engine.networks_changed();
        k({});
      },
      [self, k, name](const caf::error& e) {
        k({"creating " + name + ": " + render(self, e)});
      });
}

} // namespace bosun::appmgr
