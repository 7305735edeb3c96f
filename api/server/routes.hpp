#pragma once

// Shared by the route files: the router type, the context every handler
// gets, and the helpers that answer requests. Each routes_*.cpp registers
// its routes with add_*_routes(router, ctx); server.cpp owns the server.
#include "actors/logger.hpp"
#include "api/server/auth.hpp"
#include "api/server/json.hpp"
#include "api/server/server.hpp"
#include "messages/api_keys.hpp"
#include "messages/core.hpp"
#include "messages/root.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <restinio/request_handler.hpp>
#include <restinio/router/express.hpp>
#include <string>
#include <vector>

namespace bosun {

using router_t = restinio::router::express_router_t<>;
using route_params = restinio::router::route_params_t;

struct route_context {
  caf::actor_system& sys;
  root_actor root;
  server_options opts;
  std::shared_ptr<const logger> log;
  // Stops accepting API connections (after a reboot or shutdown was
  // accepted; the ones in flight finish). Empty in tests without a server.
  std::function<void()> quiet = {};
};

void reply_text(const restinio::request_handle_t& req,
                restinio::http_status_line_t status, std::string body);

void reply_json(const restinio::request_handle_t& req,
                restinio::http_status_line_t status, std::string body);

// balena's error shape: {"status":"failed","message":"..."}.
void reply_failed(const restinio::request_handle_t& req,
                  restinio::http_status_line_t status,
                  const std::string& message);

// The API key a request carries (query apikey=, else Authorization
// Bearer/ApiKey); see api/server/auth.hpp.
std::optional<std::string> request_key(const restinio::request_handle_t& req);

// Inside a route's short-lived actor: the current core actors from root,
// then f(core). Answers 503 itself when root does not answer.
template <class F>
void with_core(caf::event_based_actor* self, const route_context& ctx,
               const restinio::request_handle_t& req, F f) {
  using namespace std::chrono_literals;
  self->request(ctx.root, 5s, caf::get_atom_v, core_atom_v)
    .then([f](const core_actors& core) { f(core); },
          [req, self](const caf::error& e) {
            reply_failed(req, restinio::status_service_unavailable(),
                         self->system().render(e));
          });
}

// Inside a route's short-lived actor: the current handle of one core actor
// (e.g. &core_actors::app_manager), then f(handle). Answers 503 itself when
// there is none (it is being restarted).
template <class Handle, class F>
void ask_core(caf::event_based_actor* self, const route_context& ctx,
              Handle core_actors::*member,
              const restinio::request_handle_t& req, F f) {
  with_core(self, ctx, req, [req, member, f](const core_actors& core) {
    const Handle& h = core.*member;
    if (!h) {
      reply_failed(req, restinio::status_service_unavailable(),
                   std::string(core_actors::name_of(member))
                     + " is restarting; try again");
      return;
    }
    f(h);
  });
}

// Authenticates a request (api/server/auth.hpp): in local mode nothing is
// checked; otherwise its key must be known to the api_keys actor, else the
// answer is 401 "Unauthorized". Then f(self, scope) runs in a short-lived
// actor and must answer the request on every path (use ask_core to reach
// the actors).
template <class F>
void with_auth(const route_context& ctx, restinio::request_handle_t req, F f) {
  using namespace std::chrono_literals;
  auto key = request_key(req);
  switch (auth::decide(false, ctx.opts.local_mode, key)) {
    case auth::verdict::unauthorized:
      reply_text(req, restinio::status_unauthorized(), "Unauthorized");
      return;
    case auth::verdict::allow_all:
      ctx.sys.spawn([req, f](caf::event_based_actor* self) {
        f(self, auth::scope::everything());
      });
      return;
    case auth::verdict::lookup:
      break;
  }
  ctx.sys.spawn([ctx, req, f, key = *key](caf::event_based_actor* self) {
    ask_core(self, ctx, &core_actors::api_keys, req,
             [self, req, f, key](api_keys_actor keys) {
               self->request(keys, 5s, caf::get_atom_v, api_key_atom_v, key)
                 .then(
                   [self, req, f](const std::optional<api_key_record>& r) {
                     auto scope = auth::scope_of(r);
                     if (!scope) {
                       reply_text(req, restinio::status_unauthorized(),
                                  "Unauthorized");
                       return;
                     }
                     f(self, *scope);
                   },
                   [self, req](const caf::error& e) {
                     reply_text(req, restinio::status_service_unavailable(),
                                "Unexpected error: "
                                  + self->system().render(e));
                   });
             });
  });
}

// What a route's handler gets. `self` is a short-lived actor of the
// request's own (the handler must answer on every path; use ask_core to
// reach the actors); nullptr for open routes, which answer in the handler.
// `scope` is what the request's key may see (everything in local mode and
// on open routes).
struct route_call {
  caf::event_based_actor* self;
  const route_context& ctx;
  const restinio::request_handle_t& req;
  const route_params& params;
  const auth::scope& scope;
};

// Who may call a route: anyone (GET /ping, GET /v1/healthy), or a request
// with a known key (on a managed device; api/server/auth.hpp).
enum class route_access { open, key };

struct route_entry {
  restinio::http_method_id_t method;
  std::string path; // an express pattern, e.g. /v1/apps/:appId
  route_access access;
  std::function<void(const route_call&)> handler;
};

using route_table = std::vector<route_entry>;

// Every route of the device API, built once. The router registers exactly
// these, each behind the key check its access says (make_handler), so a
// route cannot be added without it; the e2e tests walk this table.
const route_table& device_api_routes();

// Adds a route needing a key / an open route to `t`.
void add_route(route_table& t, restinio::http_method_id_t method,
               std::string path, std::function<void(const route_call&)> h);
void add_open_route(route_table& t, restinio::http_method_id_t method,
                    std::string path, std::function<void(const route_call&)> h);

// /ping, /v1/healthy.
void add_health_routes(route_table& t);
// Every v1 route but /v1/healthy and /v1/update (api/server/routes_v1.cpp).
void add_v1_routes(route_table& t);
// The v2 routes but local target-state and logs (routes_v2.cpp).
void add_v2_routes(route_table& t);
// /v2/local/target-state (GET, POST).
void add_local_routes(route_table& t);
// /v2/local/logs (GET): the NDJSON log stream; /v2/logs/history.
void add_logs_routes(route_table& t);
// POST /v1/update: cloud_sync polls now (routes_cloud.cpp).
void add_cloud_routes(route_table& t);
// Reboot, shutdown, blink, host-config, VPN, journal logs (routes_host.cpp).
void add_host_routes(route_table& t);
// GET /v2/telemetry, GET /metrics (routes_telemetry.cpp).
void add_telemetry_routes(route_table& t);

// Every route above behind the per-route body-size check: the server's
// request handler (server.cpp), also driven by the request fuzzer.
restinio::default_request_handler_t make_handler(const route_context& ctx);

} // namespace bosun
