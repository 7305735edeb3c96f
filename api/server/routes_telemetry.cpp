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
void serve_snapshot(router_t& router, const char* path,
                    const route_context& ctx, Encode encode) {
  router.http_get(path, [ctx, encode](auto req, auto) {
    with_auth(ctx, req, [ctx, req, encode](auto* self, auth::scope scope) {
      ask_core<telemetry_actor>(
        self, ctx, "telemetry", req,
        [self, ctx, req, encode, scope](telemetry_actor t) {
          self->request(t, collect_timeout, collect_telemetry{ctx.root})
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
    return restinio::request_accepted();
  });
}

} // namespace

void add_telemetry_routes(router_t& router, const route_context& ctx) {
  serve_snapshot(
    router, "/v2/telemetry", ctx,
    [](const restinio::request_handle_t& req, const telemetry_snapshot& s) {
      reply_json(req, restinio::status_ok(), encode_telemetry_json(s));
    });
  serve_snapshot(
    router, "/metrics", ctx,
    [](const restinio::request_handle_t& req, const telemetry_snapshot& s) {
      req->create_response()
        .append_header(restinio::http_field::content_type, metrics_content_type)
        .set_body(encode_metrics(s))
        .done();
    });
}

} // namespace bosun
