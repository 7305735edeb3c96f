#include "api/cloud/target_codec.hpp"
#include "api/server/local_target.hpp"
#include "api/server/routes.hpp"
#include "messages/app_manager.hpp"
#include "messages/device_config.hpp"

#include <caf/send.hpp>

namespace bosun {

using namespace std::chrono_literals;

namespace {

// The stored target, named as GET /v2/device/name names the device, with
// the device config's effective target (reference/host.md §7) and the apps
// the key may see.
void get_target(const route_call& c) {
  auto* self = c.self;
  auto reply
    = [self, req = c.req, scope = c.scope, known = c.ctx.opts.device_config](
        const std::optional<target_state>& t, const device_details& d,
        const std::optional<std::map<std::string, std::string>>& config) {
        auto target = t;
        if (config) {
          if (!target) {
            target.emplace();
            target->source = target_source::local;
          }
          target->config = *config;
        }
        reply_json(
          req, restinio::status_ok(),
          api::encode_local_target_state(target, d.device_name, known, scope));
      };
  with_core(
    self, c.ctx, c.req, [self, req = c.req, reply](const core_actors& core) {
      auto am = core.app_manager;
      auto dc = core.device_config;
      if (!am)
        return reply_failed(req, restinio::status_service_unavailable(),
                            "app_manager is restarting; try again");
      auto fail = [self, req](const caf::error& e) {
        reply_failed(req, restinio::status_service_unavailable(),
                     self->system().render(e));
      };
      self->request(am, 5s, caf::get_atom_v, target_atom_v)
        .then(
          [self, am, dc, reply, fail](const std::optional<target_state>& t) {
            self->request(am, 5s, caf::get_atom_v, device_atom_v)
              .then(
                [self, dc, reply, t](const device_details& d) {
                  // Without device_config (restarting): the stored
                  // target's own config.
                  if (!dc)
                    return reply(t, d, std::nullopt);
                  self->request(dc, 5s, caf::get_atom_v, device_config_atom_v)
                    .then(
                      [reply, t, d](const device_config_view& v) {
                        reply(t, d, v.target);
                      },
                      [reply, t, d](const caf::error&) {
                        reply(t, d, std::nullopt);
                      });
                },
                fail);
          },
          fail);
    });
}

void post_target(const route_call& c) {
  const auto& req = c.req;
  if (!c.ctx.opts.local_mode)
    return reply_failed(
      req, restinio::status_bad_request(),
      "Target state can only set when device is in local mode");
  auto decoded = cloud::decode_local_target(req->body());
  if (!decoded)
    return reply_failed(req, restinio::status_bad_request(),
                        decoded.error.to_string());
  apply_target cmd;
  cmd.target = std::move(decoded->target);
  cmd.force = query_truthy(req, "force");
  auto* self = c.self;
  ask_core(self, c.ctx, &core_actors::app_manager, req,
           [self, req, cmd, root = c.ctx.root](app_manager_actor am) {
             self->request(am, 30s, cmd)
               .then(
                 [self, req, cmd, root](uint64_t) {
                   // The config section goes to device_config, which applies it
                   // on its own time (the answer does not wait for it, as
                   // balena's), but is asked before the answer, so a GET after
                   // it sees it.
                   auto ok = [req] {
                     reply_json(req, restinio::status_ok(),
                                R"({"status":"success","message":"OK"})");
                   };
                   self->request(root, 5s, caf::get_atom_v, core_atom_v)
                     .then(
                       [cmd, ok](const core_actors& core) {
                         if (core.device_config)
                           caf::anon_send(
                             core.device_config,
                             apply_device_config{cmd.target.config, cmd.force});
                         ok();
                       },
                       [ok](const caf::error&) { ok(); });
                 },
                 [req, self](const caf::error& e) {
                   reply_failed(req, restinio::status_service_unavailable(),
                                self->system().render(e));
                 });
           });
}

} // namespace

void add_local_routes(route_table& t) {
  add_route(t, restinio::http_method_get(), "/v2/local/target-state",
            get_target);
  add_route(t, restinio::http_method_post(), "/v2/local/target-state",
            post_target);
}

} // namespace bosun
