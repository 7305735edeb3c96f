// POST /v1/update (reference/api.md): ask cloud_sync to poll the target now.
#include "api/server/route_util.hpp"
#include "api/server/routes.hpp"
#include "messages/cloud.hpp"

namespace bosun {

using namespace std::chrono_literals;

void add_cloud_routes(router_t& router, const route_context& ctx) {
  router.http_post("/v1/update", [ctx](auto req, auto) {
    auto f = body_fields(req);
    if (!f)
      return restinio::request_accepted(); // answered 400
    update_request cmd;
    cmd.force = api::check_truthy(*f, "force");
    cmd.cancel = api::check_truthy(*f, "cancel");
    with_auth(ctx, req, [ctx, req, cmd](auto* self, const auth::scope&) {
      self->request(ctx.root, 5s, caf::get_atom_v, std::string("cloud_sync"))
        .then(
          [self, req, cmd](const caf::actor& a) {
            // Unmanaged: there is nothing to fetch, as with balena's 204.
            if (!a) {
              req->create_response(restinio::status_no_content()).done();
              return;
            }
            self->request(caf::actor_cast<cloud_sync_actor>(a), 5s, cmd)
              .then(
                [req](bool triggered) {
                  if (triggered)
                    req->create_response(restinio::status_no_content()).done();
                  else
                    reply_text(req, restinio::status_accepted(), "Accepted");
                },
                [req, self](const caf::error& e) {
                  reply_failed(req, restinio::status_service_unavailable(),
                               self->system().render(e));
                });
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
