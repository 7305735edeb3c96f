// GET /v2/telemetry (JSON) and GET /metrics (Prometheus text): the telemetry
// actor's snapshot, encoded by api/server/telemetry_codec. Both need a key
// like the other v2 routes (Prometheus: `authorization: {credentials: <key>}`
// or `params: {apikey: [<key>]}` in the scrape config).
#include "api/server/routes.hpp"
#include "api/server/telemetry_codec.hpp"
#include "messages/telemetry.hpp"

namespace bosun {

namespace {

using namespace std::chrono_literals;

// Above the telemetry actor's worst case (an unanswered ask per tree level).
constexpr auto collect_timeout = 8s;

template <class Encode>
void serve_snapshot(route_table& t, const char* path, Encode encode) {
  add_route(
    t, restinio::http_method_get(), path, [encode](const route_call& c) {
      auto* self = c.self;
      ask_core(self, c.ctx, &core_actors::telemetry, c.req,
               [self, root = c.ctx.root, req = c.req, encode,
                scope = c.scope](telemetry_actor t) {
                 self->request(t, collect_timeout, collect_telemetry{root})
                   .then(
                     [req, encode, scope](telemetry_snapshot& s) {
                       encode(req, in_scope(std::move(s), scope));
                     },
                     [req, self](const caf::error& e) {
                       reply_failed(req, restinio::status_service_unavailable(),
                                    self->system().render(e));
                     });
               });
    });
}

} // namespace

void add_telemetry_routes(route_table& t) {
  serve_snapshot(
    t, "/v2/telemetry",
    [](const restinio::request_handle_t& req, const telemetry_snapshot& s) {
      reply_json(req, restinio::status_ok(), encode_telemetry_json(s));
    });
  serve_snapshot(
    t, "/metrics",
    [](const restinio::request_handle_t& req, const telemetry_snapshot& s) {
      req->create_response()
        .append_header(restinio::http_field::content_type, metrics_content_type)
        .set_body(encode_metrics(s))
        .done();
    });
}

} // namespace bosun
