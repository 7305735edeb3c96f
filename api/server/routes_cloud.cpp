// POST /v1/update (reference/api.md): ask cloud_sync to poll the target now.
#include "api/server/route_util.hpp"
#include "api/server/routes.hpp"
#include "messages/cloud.hpp"

namespace bosun {

using namespace std::chrono_literals;

void add_cloud_routes(route_table& t) {
  add_route(
    t, restinio::http_method_post(), "/v1/update", [](const route_call& c) {
      auto f = body_fields(c.req);
      if (!f)
        return; // answered 400
      update_request cmd;
      cmd.force = api::check_truthy(*f, "force");
      cmd.cancel = api::check_truthy(*f, "cancel");
      auto* self = c.self;
      auto req = c.req;
      with_core(self, c.ctx, req, [self, req, cmd](const core_actors& core) {
        // Unmanaged: there is nothing to fetch, as with balena's 204.
        if (!core.cloud_sync) {
          req->create_response(restinio::status_no_content()).done();
          return;
        }
        self->request(core.cloud_sync, 5s, cmd)
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
      });
    });
}

} // namespace bosun
