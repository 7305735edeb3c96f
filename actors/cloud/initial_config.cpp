// The initial config report (reference/host.md §7, state.md "Provisioning"
// step 3): once per apiEndpoint, before the first poll, the device's
// current config vars that the cloud's target lacks and that differ from
// their defaults become device config variables, so that the first target
// keeps them (boot-config keys a target lacks are removed from the files).
#include "actors/cloud/cloud_sync_state.hpp"
#include "actors/host/backends/config_plan.hpp"
#include "api/cloud/device_api.hpp"
#include "api/cloud/target_codec.hpp"

#include <caf/actor_system.hpp>

namespace bosun {

using namespace std::chrono_literals;

namespace {

constexpr const char* reported_key = "initialConfigReported";

void failed(cloud_sync_ptr self, const std::string& why) {
  auto& st = self->state;
  st.stats.last_error = "initial config report: " + why;
  log_of(self).warn("cloud",
                    "Error reporting initial configuration, will retry in {} "
                    "ms: {}",
                    st.opts.cfg.bootstrap_retry_delay.count(), why);
  arm(self, cloud_timer_kind::provision, st.opts.cfg.bootstrap_retry_delay);
}

// Posts vars[i..] one after the other, then marks the report done.
void post_vars(
  cloud_sync_ptr self,
  std::shared_ptr<std::vector<std::pair<std::string, std::string>>> vars,
  size_t i, std::function<void()> then) {
  auto& st = self->state;
  if (i == vars->size()) {
    self
      ->request(st.deps.db, 10s, caf::put_atom_v, config_kv_atom_v,
                std::string(reported_key), st.opts.cfg.api_endpoint)
      .then([then] { then(); },
            [self](const caf::error& e) {
              failed(self, self->system().render(e));
            });
    return;
  }
  const auto& [name, value] = (*vars)[i];
  cloud_request req;
  req.method = "POST";
  req.target = "/v7/device_config_variable";
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = cloud::encode_config_variable("RESIN_" + name, value,
                                           st.opts.cfg.device_id.value_or(0));
  log_of(self).info("cloud", "reporting {}={} to the cloud", name, value);
  cloud_send(self, std::move(req), [self, vars, i, then](const cloud_reply& r) {
    if (r.status / 100 != 2)
      return failed(self, "device_config_variable: " + describe(r));
    post_vars(self, vars, i + 1, then);
  });
}

// The cloud's target is known: report what it lacks.
void report(cloud_sync_ptr self, const target_state& t,
            std::function<void()> then) {
  auto& st = self->state;
  self
    ->request(st.deps.device_config, 30s, caf::get_atom_v, device_config_atom_v)
    .then(
      [self, t, then](const device_config_view& v) {
        auto defaults = boot_config::config_defaults();
        auto vars = std::make_shared<
          std::vector<std::pair<std::string, std::string>>>();
        for (auto [key, value] : v.current) {
          // Joining a cloud leaves local mode, and the VPN is never turned
          // off this way: both then equal their defaults.
          if (key == "SUPERVISOR_LOCAL_MODE")
            value = "false";
          if (key == "SUPERVISOR_VPN_CONTROL")
            value = "true";
          auto d = defaults.find(key);
          if (t.config.count(key) == 0
              && (d == defaults.end() || d->second != value))
            vars->emplace_back(key, value);
        }
        post_vars(self, vars, 0, then);
      },
      [self](const caf::error& e) { failed(self, self->system().render(e)); });
}

} // namespace

void report_initial_config(cloud_sync_ptr self, std::function<void()> then) {
  auto& st = self->state;
  if (!st.deps.device_config || !st.deps.db)
    return then();
  self
    ->request(st.deps.db, 10s, caf::get_atom_v, config_kv_atom_v,
              std::string(reported_key))
    .then(
      [self, then](const std::optional<std::string>& done) {
        auto& st = self->state;
        if (done && *done == st.opts.cfg.api_endpoint)
          return then();
        log_of(self).info("cloud", "Reporting initial configuration");
        cloud_request req;
        req.target = "/device/v3/" + st.uuid + "/state";
        cloud_send(self, std::move(req), [self, then](const cloud_reply& r) {
          if (r.status != 200)
            return failed(self, "target: " + describe(r));
          auto decoded = cloud::decode_target_v3(r.body, target_source::cloud,
                                                 self->state.uuid);
          if (!decoded)
            return failed(self, "target: " + decoded.error.to_string());
          report(self, decoded->target, then);
        });
      },
      [self](const caf::error& e) { failed(self, self->system().render(e)); });
}

void configure(cloud_sync_ptr self, const target_state& t, bool force) {
  auto& st = self->state;
  if (!st.deps.device_config)
    return;
  self
    ->request(st.deps.device_config, 60s, apply_device_config{t.config, force})
    .then(
      [self](const device_config_result& r) {
        for (const auto& e : r.errors)
          self->state.stats.last_error = "device config: " + e;
        if (r.reboot_required)
          log_of(self).info("cloud", "the device config asks for a reboot");
      },
      [self](const caf::error& e) {
        log_of(self).warn("cloud", "device config not applied: {}",
                          self->system().render(e));
      });
}

} // namespace bosun
