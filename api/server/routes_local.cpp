#include "api/cloud/target_codec.hpp"
#include "api/server/routes.hpp"
#include "messages/app_manager.hpp"

namespace bosun {

using namespace std::chrono_literals;

void add_local_routes(router_t& router, const route_context& ctx) {
  router.http_get("/v2/local/target-state", [ctx](auto req, auto) {
    with_actor<app_manager_actor>(
      ctx, "app_manager", req, [req](auto* self, auto am) {
        self->request(am, 5s, caf::get_atom_v, target_atom_v)
          .then(
            [req](const std::optional<target_state>& t) {
              target_state empty;
              empty.source = target_source::local;
              reply_json(req, restinio::status_ok(),
                         cloud::encode_local_target(t ? *t : empty));
            },
            [req, self](const caf::error& e) {
              reply_failed(req, restinio::status_service_unavailable(),
                           self->system().render(e));
            });
      });
    return restinio::request_accepted();
  });
  router.http_post("/v2/local/target-state", [ctx](auto req, auto) {
    if (!ctx.opts.local_mode) {
      reply_failed(req, restinio::status_bad_request(),
                   "Target state can only set when device is in local mode");
      return restinio::request_accepted();
    }
    auto decoded = cloud::decode_local_target(req->body());
    if (!decoded) {
      reply_failed(req, restinio::status_bad_request(),
                   decoded.error.to_string());
      return restinio::request_accepted();
    }
    apply_target cmd;
    cmd.target = std::move(decoded->target);
    cmd.force = query_truthy(req, "force");
    with_actor<app_manager_actor>(
      ctx, "app_manager", req, [req, cmd](auto* self, auto am) {
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
    return restinio::request_accepted();
  });
}

} // namespace bosun
