// Provisioning (reference/state.md "Provisioning"): register with the
// provisioning key, exchange keys after a 409, record the outcome in
// config.json and drop the provisioning key. Retried every
// bootstrapRetryDelay until it works.
#include "actors/cloud/cloud_sync_state.hpp"
#include "actors/cloud/config_writer.hpp"
#include "api/cloud/device_http.hpp"

namespace bosun {

namespace {

void retry_later(cloud_sync_ptr self, const std::string& why) {
  auto& st = self->state;
  st.stats.last_error = "provisioning: " + why;
  log_of(self).warn("cloud", "provisioning failed ({}); retrying in {} ms", why,
                    st.opts.cfg.bootstrap_retry_delay.count());
  arm(self, cloud_timer_kind::provision, st.opts.cfg.bootstrap_retry_delay);
}

// Writes `edit` to config.json; logs and returns false when it fails.
bool write_config(cloud_sync_ptr self, const cloud::config_json_edit& edit) {
  auto& cfg = self->state.opts.cfg;
  if (auto why = rewrite_config_json(cfg.config_path, edit)) {
    log_of(self).error("cloud", "cannot update {}: {}", cfg.config_path, *why);
    return false;
  }
  return true;
}

void finish(cloud_sync_ptr self, int64_t device_id) {
  auto& st = self->state;
  auto& cfg = st.opts.cfg;
  if (!cfg.registered_at)
    cfg.registered_at = st.opts.wall_clock_ms();
  cfg.device_id = device_id;
  cloud::config_json_edit edit;
  edit.set["registered_at"] = *cfg.registered_at;
  edit.set["deviceId"] = device_id;
  edit.remove.emplace_back("apiKey");
  // Should the write fail, the next start registers again, gets a 409 and
  // exchanges keys: harmless, so carry on.
  if (write_config(self, edit))
    cfg.provisioning_api_key.clear();
  st.provisioned = true;
  st.last_poll_ok = self->clock().now(); // the health clock starts now
  log_of(self).info("cloud", "provisioned: device {} (id {})", st.uuid,
                    device_id);
  update_log_shipping(self);
  start_polling(self);
}

// The cloud knows this uuid, but not with our key, and the provisioning key
// cannot fix that: start over as a new device.
void regenerate(cloud_sync_ptr self, const std::string& why) {
  auto& st = self->state;
  st.uuid = random_hex(self, 32);
  st.device_api_key = random_hex(self, 32);
  st.opts.cfg.uuid = st.uuid;
  st.opts.cfg.device_api_key = st.device_api_key;
  st.opts.cfg.registered_at.reset();
  cloud::config_json_edit edit;
  edit.set["uuid"] = st.uuid;
  edit.set["deviceApiKey"] = st.device_api_key;
  edit.remove.emplace_back("registered_at");
  edit.remove.emplace_back("deviceId");
  write_config(self, edit);
  log_of(self).warn("cloud",
                    "key exchange failed ({}); registering again as "
                    "device {} (containers see the new uuid after a "
                    "restart)",
                    why, st.uuid);
  retry_later(self, "key exchange: " + why);
}

void exchange_with_provisioning_key(cloud_sync_ptr self) {
  auto& st = self->state;
  auto pkey = st.opts.cfg.provisioning_api_key;
  cloud_send(
    self, cloud::device_lookup(st.uuid),
    [self, pkey](const cloud_reply& r) {
      if (r.status == 0)
        return retry_later(self, "device lookup: " + describe(r));
      auto id = cloud::read_device_lookup(r);
      if (!id)
        return regenerate(self, "device lookup: " + describe(r));
      cloud_send(
        self, cloud::device_key(*id, self->state.device_api_key),
        [self, id](const cloud_reply& r) {
          if (r.status == 0)
            return retry_later(self, "device key: " + describe(r));
          if (!cloud::device_key_set(r))
            return regenerate(self, "device key: " + describe(r));
          finish(self, *id);
        },
        pkey);
    },
    pkey);
}

// Step 2: is our key already the device's? Else set it with the
// provisioning key.
void exchange_keys(cloud_sync_ptr self) {
  auto& st = self->state;
  cloud_send(self, cloud::device_lookup(st.uuid), [self](const cloud_reply& r) {
    auto id = cloud::read_device_lookup(r);
    if (id)
      return finish(self, *id);
    if (self->state.opts.cfg.provisioning_api_key.empty())
      return retry_later(self, "the device key is not accepted (" + describe(r)
                                 + ") and there is no provisioning key");
    exchange_with_provisioning_key(self);
  });
}

// Step 1.
void register_device(cloud_sync_ptr self) {
  auto& st = self->state;
  auto& cfg = st.opts.cfg;
  cloud::register_request body;
  body.application = cfg.application_id;
  body.uuid = st.uuid;
  body.device_type = st.opts.device_type;
  body.api_key = st.device_api_key;
  body.supervisor_version = cloud_report::supervisor_version;
  body.os_version = st.opts.os_version;
  body.os_variant = cfg.development_mode ? "dev" : "prod";
  body.mac_address = st.host.mac_address;
  log_of(self).info("cloud", "registering device {} with {}", st.uuid,
                    cfg.api_endpoint);
  cloud_send(
    self, cloud::device_register(body),
    [self](const cloud_reply& r) {
      auto reg = cloud::read_register(r);
      switch (reg.answer) {
        case cloud::register_answer::exists:
          return exchange_keys(self);
        case cloud::register_answer::failed:
          return retry_later(self, "register: " + describe(r));
        case cloud::register_answer::no_id:
          return retry_later(self, "register: no device id in the answer");
        case cloud::register_answer::registered:
          return finish(self, reg.device_id);
      }
    },
    cfg.provisioning_api_key);
}

} // namespace

void provision(cloud_sync_ptr self) {
  auto& st = self->state;
  auto& cfg = st.opts.cfg;
  bool registered = cfg.registered_at && cfg.device_id;
  if (registered && cfg.provisioning_api_key.empty()) {
    st.provisioned = true;
    return start_polling(self);
  }
  if (cfg.provisioning_api_key.empty()) {
    if (!registered && cfg.registered_at)
      return exchange_keys(self); // registered, the device id is unknown
    st.stats.last_error
      = "not provisioned and config.json has no provisioning key (apiKey)";
    log_of(self).error("cloud", "{}", st.stats.last_error);
    return;
  }
  // uuid and deviceApiKey go to config.json before the cloud hears of them
  // (config.json may not have had them: the agent settles the uuid).
  if (st.device_api_key.empty())
    st.device_api_key = random_hex(self, 32);
  cloud::config_json_edit edit;
  edit.set["uuid"] = st.uuid;
  edit.set["deviceApiKey"] = st.device_api_key;
  if (!write_config(self, edit))
    return retry_later(self, "cannot write config.json");
  cfg.uuid = st.uuid;
  cfg.device_api_key = st.device_api_key;
  if (cfg.registered_at)
    return exchange_keys(self);
  register_device(self);
}

} // namespace bosun
