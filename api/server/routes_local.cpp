#include "api/cloud/target_codec.hpp"
#include "api/server/local_target.hpp"
#include "api/server/routes.hpp"
#include "messages/app_manager.hpp"

namespace bosun {

using namespace std::chrono_literals;

namespace {

// The stored target, named as GET /v2/device/name names the device, with
// the current config and the apps the key may see.
void get_target(const route_call& c) {
  auto* self = c.self;
  ask_core<app_manager_actor>(
    self, c.ctx, "app_manager", c.req,
    [self, req = c.req, scope = c.scope,
     known = c.ctx.opts.device_config](app_manager_actor am) {
      auto fail = [self, req](const caf::error& e) {
        reply_failed(req, restinio::status_service_unavailable(),
                     self->system().render(e));
      };
      self->request(am, 5s, caf::get_atom_v, target_atom_v)
        .then(
          [self, req, scope, known, am,
           fail](const std::optional<target_state>& t) {
            self->request(am, 5s, caf::get_atom_v, device_atom_v)
              .then(
                [req, scope, known, t](const device_details& d) {
                  reply_json(req, restinio::status_ok(),
                             api::encode_local_target_state(t, d.device_name,
                                                            known, scope));
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
  ask_core<app_manager_actor>(
    self, c.ctx, "app_manager", req, [self, req, cmd](app_manager_actor am) {
      self->request(am, 30s, cmd)
        .then(
          [req](uint64_t) {
            reply_json(req, restinio::status_ok(),
                       R"({"status":"success","message":"OK"})");
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
