#include "api/server/routes.hpp"

namespace bosun {

using namespace std::chrono_literals;

void add_health_routes(router_t& router, const route_context& ctx) {
  // Never authenticated, answered in the handler: load balancers and the
  // balena CLI call it first and often.
  router.http_get("/ping", [](auto req, auto) {
    reply_text(req, restinio::status_ok(), "OK");
    return restinio::request_accepted();
  });
  router.http_get(
    "/v1/healthy", [&sys = ctx.sys, root = ctx.root](auto req, auto) {
      sys.spawn([req, root](caf::event_based_actor* self) {
        self->request(root, 5s, health_atom_v)
          .then(
            [=](const agent_health& h) {
              if (h.healthy)
                reply_text(req, restinio::status_ok(), "OK");
              else
                reply_text(req, restinio::status_internal_server_error(),
                           "Unhealthy");
            },
            [=](const caf::error&) {
              reply_text(req, restinio::status_internal_server_error(),
                         "Unhealthy");
            });
      });
      return restinio::request_accepted();
    });
}

} // namespace bosun
