#include "api/server/routes.hpp"
#include "messages/core.hpp"

namespace bosun {

using namespace std::chrono_literals;

namespace {

void unhealthy(const restinio::request_handle_t& req) {
  reply_text(req, restinio::status_internal_server_error(), "Unhealthy");
}

// The cloud link's part (last poll within 2× the interval, …); a device
// without one (unmanaged) is healthy.
void cloud_health(caf::event_based_actor* self, const root_actor& root,
                  const restinio::request_handle_t& req) {
  self->request(root, 5s, caf::get_atom_v, core_atom_v)
    .then(
      [self, req](const core_actors& core) {
        if (!core.cloud_sync)
          return reply_text(req, restinio::status_ok(), "OK");
        self->request(core.cloud_sync, 5s, health_atom_v)
          .then(
            [req](const agent_health& h) {
              if (!h.healthy)
                return unhealthy(req);
              reply_text(req, restinio::status_ok(), "OK");
            },
            [req](const caf::error&) { unhealthy(req); });
      },
      [req](const caf::error&) { unhealthy(req); });
}

} // namespace

void add_health_routes(route_table& t) {
  // Never authenticated, answered in the handler: load balancers and the
  // balena CLI call it first and often.
  add_open_route(t, restinio::http_method_get(), "/ping",
                 [](const route_call& c) {
                   reply_text(c.req, restinio::status_ok(), "OK");
                 });
  add_open_route(
    t, restinio::http_method_get(), "/v1/healthy", [](const route_call& c) {
      c.ctx.sys.spawn(
        [req = c.req, root = c.ctx.root](caf::event_based_actor* self) {
          self->request(root, 5s, health_atom_v)
            .then(
              [=](const agent_health& h) {
                if (!h.healthy)
                  return unhealthy(req);
                cloud_health(self, root, req);
              },
              [=](const caf::error&) { unhealthy(req); });
        });
    });
}

} // namespace bosun
